"""SASL PLAIN login in the client (IRCv3 SASL 3.1), sans I/O, and its command line."""

from __future__ import annotations

import base64
import io

import pytest

from ircish.client.app import build, build_parser, main
from ircish.client.irc import IrcClient
from tests.client.conftest import feed, make_client


def sasl_client(account: str = "alice", password: str = "hunter22", **kw: object) -> IrcClient:
    client = make_client(account=account, account_password=password, **kw)
    client.connection_made()
    client.pop_outgoing()
    return client


def plain(account: str, password: str) -> str:
    return base64.b64encode(f"\0{account}\0{password}".encode()).decode()


def server_lines(client: IrcClient) -> list[str]:
    return [line.text for line in client.model.server.lines]


def test_login_with_plain_before_cap_end() -> None:
    client = sasl_client()
    assert client.pop_outgoing() == []
    assert feed(client, ":srv CAP * LS :server-time sasl=PLAIN,SCRAM-SHA-256") == [
        "CAP REQ :server-time sasl"
    ]
    assert feed(client, ":srv CAP * ACK :server-time sasl") == ["AUTHENTICATE PLAIN"]
    assert feed(client, "AUTHENTICATE +") == [f"AUTHENTICATE {plain('alice', 'hunter22')}"]
    assert feed(client, ":srv 900 alice alice!~a@h alice :You are now logged in as alice") == []
    assert feed(client, ":srv 903 alice :SASL authentication successful") == ["CAP END"]
    assert client.model.account == "alice"
    assert "You are now logged in as alice" in server_lines(client)
    # The password is sent, never shown.
    assert not any("hunter22" in text for text in server_lines(client))


def test_a_long_payload_goes_in_400_byte_pieces_ending_with_plus_on_an_exact_multiple() -> None:
    # \0 + 4 + \0 + 294 = 300 bytes -> 400 base64 characters exactly.
    password = "p" * 294
    client = sasl_client("anna", password)
    feed(client, ":srv CAP * LS :sasl")
    feed(client, ":srv CAP * ACK :sasl")
    payload = plain("anna", password)
    assert len(payload) == 400
    assert feed(client, "AUTHENTICATE +") == [f"AUTHENTICATE {payload}", "AUTHENTICATE +"]

    longer = "q" * 400
    client = sasl_client("anna", longer)
    feed(client, ":srv CAP * LS :sasl")
    feed(client, ":srv CAP * ACK :sasl")
    payload = plain("anna", longer)
    out = feed(client, "AUTHENTICATE +")
    assert [line.split(" ", 1)[1] for line in out] == [payload[:400], payload[400:]]


def test_wrong_password_says_so_and_carries_on_without_an_account() -> None:
    client = sasl_client()
    feed(client, ":srv CAP * LS :sasl")
    feed(client, ":srv CAP * ACK :sasl")
    feed(client, "AUTHENTICATE +")
    assert feed(client, ":srv 904 alice :SASL authentication failed") == ["CAP END"]
    assert client.model.account is None
    assert client.fatal is None  # not a reason to stop reconnecting
    assert server_lines(client)[-1] == (
        "Not logged in as alice: SASL authentication failed; connected without an account"
    )
    feed(client, ":srv 001 alice :Welcome")
    assert client.registered


def test_aborted_and_too_long_also_end_negotiation() -> None:
    for code in ("905", "906"):
        client = sasl_client()
        feed(client, ":srv CAP * LS :sasl")
        feed(client, ":srv CAP * ACK :sasl")
        assert feed(client, f":srv {code} alice :nope") == ["CAP END"]


def test_a_server_without_sasl_or_without_plain() -> None:
    client = sasl_client()
    assert feed(client, ":srv CAP * LS :server-time") == ["CAP REQ server-time"]
    assert "Not logged in as alice: the server does not offer SASL" in server_lines(client)[-1]

    client = sasl_client()
    assert feed(client, ":srv CAP * LS :sasl=EXTERNAL") == ["CAP END"]
    assert "the server offers only EXTERNAL, not PLAIN" in server_lines(client)[-1]


def test_without_an_account_sasl_is_not_requested() -> None:
    client = make_client()
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, ":srv CAP * LS :sasl server-time") == ["CAP REQ server-time"]


def test_every_reconnect_logs_in_again() -> None:
    client = sasl_client()
    feed(client, ":srv CAP * LS :sasl")
    feed(client, ":srv CAP * ACK :sasl")
    feed(client, "AUTHENTICATE +")
    feed(client, ":srv 900 alice alice!~a@h alice :You are now logged in as alice")
    feed(client, ":srv 903 alice :ok", ":srv 001 alice :Welcome")
    client.connection_lost("timed out")
    assert client.model.account is None
    client.connection_made()
    client.pop_outgoing()
    feed(client, ":srv CAP * LS :sasl")
    assert feed(client, ":srv CAP * ACK :sasl") == ["AUTHENTICATE PLAIN"]


def test_command_line_account_makes_password_the_accounts() -> None:
    args = build_parser().parse_args(["--account", "alice", "--password", "pw"])
    assert (args.account, args.password) == ("alice", "pw")
    app = build("127.0.0.1", 6667, "alice", (), args.password, args.account)
    client = app.client
    assert (client.account, client.account_password, client.password) == ("alice", "pw", None)
    # Without an account, --password stays the server password (PASS).
    app = build("127.0.0.1", 6667, "alice", (), "pw")
    assert (app.client.account, app.client.password) == (None, "pw")


def test_an_account_without_a_password_and_no_terminal_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("IRCISH_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["--account", "alice", "--nick", "alice"]) == 2
    assert capsys.readouterr().err == "ircish: --account needs a password: set IRCISH_PASSWORD\n"


def test_the_account_and_password_can_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IRCISH_ACCOUNT", "alice")
    monkeypatch.setenv("IRCISH_PASSWORD", "from-env")
    args = build_parser().parse_args([])
    assert (args.account, args.password) == ("alice", "from-env")
