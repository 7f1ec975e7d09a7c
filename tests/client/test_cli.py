"""The ``ircish`` command line: arguments, defaults and one-line errors."""

from __future__ import annotations

import socket

import pytest

from ircish.client.app import default_nick, main, parse_rooms, parse_server


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 6667)),
        ("irc.example.org:6697", ("irc.example.org", 6697)),
        ("[::1]:7000", ("::1", 7000)),
        ("[::1]", ("::1", 6667)),
        ("::1", ("::1", 6667)),
    ],
)
def test_parse_server(text: str, expected: tuple[str, int]) -> None:
    assert parse_server(text) == expected


@pytest.mark.parametrize("text", ["host:", "host:x", "host:70000", ":6667", "[::1", "[::1]x"])
def test_parse_server_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_server(text)


def test_parse_rooms() -> None:
    assert parse_rooms("#a,b, #c") == ("#a", "#b", "#c")
    assert parse_rooms("") == ()


@pytest.mark.parametrize(
    ("user", "nick"), [("alice", "alice"), ("john.doe", "johndoe"), ("42x", "x"), ("", "guest")]
)
def test_default_nick_comes_from_the_user_name(
    monkeypatch: pytest.MonkeyPatch, user: str, nick: str
) -> None:
    monkeypatch.setenv("USER", user)
    monkeypatch.delenv("USERNAME", raising=False)
    if not user:
        monkeypatch.setattr("getpass.getuser", lambda: "")
    assert default_nick() == nick


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


def test_refused_connection_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nobody listens there now.
    assert main([f"127.0.0.1:{port}", "--nick", "alice"]) == 1
    err = one_line_error(capsys)
    assert err == f"ircish: cannot connect to 127.0.0.1:{port}: Connection refused"


def test_bad_port_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["localhost:http"]) == 2
    assert one_line_error(capsys) == "ircish: bad port 'http': use a number from 1 to 65535"


def test_bad_nick_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--nick", "no spaces"]) == 2
    assert "is not a valid nickname" in one_line_error(capsys)


def test_unknown_option_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--frobnicate"])
    assert exc.value.code == 2
    assert one_line_error(capsys) == (
        "ircish: unrecognized arguments: --frobnicate (see ircish --help)"
    )


def test_without_a_terminal_it_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert main([f"127.0.0.1:{port}"]) == 2
    assert one_line_error(capsys) == "ircish: needs a terminal (stdin and stdout must be a tty)"
