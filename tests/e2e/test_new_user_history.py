"""Issue 9's "done when", as a new user would try it, on the default server with no config.

Register from netcat, talk in two rooms and privately, restart the server,
then log in from the real irssi with SASL and see the history on join there
and in netcat. (The ``ircish`` client's side is tests/client/test_history_e2e.py.)
The server is a real ``python -m ircish`` process whose working directory
holds its default ``ircish.db`` across the restart.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.client.conftest import run, running_app, wait_until
from tests.e2e.e2e_support import ServerProcess
from tests.e2e.test_irssi import IRSSI_CONFIG, Irssi
from tests.helpers import LineClient

PASSWORD = "correct-horse-9"


def sasl_config(port: int, account: str, password: str) -> str:
    """irssi settings plus a chatnet that logs in with SASL PLAIN."""
    return (
        IRSSI_CONFIG
        + f"""
servers = (
  {{ address = "127.0.0.1"; port = "{port}"; chatnet = "ircish"; use_tls = "no"; }}
);
chatnets = {{
  ircish = {{
    type = "IRC";
    sasl_mechanism = "PLAIN";
    sasl_username = "{account}";
    sasl_password = "{password}";
  }};
}};
"""
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "server"
    path.mkdir()
    return path


def netcat(proc: ServerProcess, nick: str, opened: list[LineClient]) -> LineClient:
    c = proc.client()
    opened.append(c)
    c.expect(r"Type a nickname")
    c.send(nick)
    c.expect(rf"^\*\*\* Welcome to ircish, {nick}! ")
    c.expect(r"^\*\*\* Users in #lobby: ")
    return c


def test_register_talk_restart_then_history_in_irssi_and_netcat(
    workdir: Path, tmp_path: Path, procs: list[ServerProcess], clients: list[LineClient]
) -> None:
    first = ServerProcess(cwd=workdir)
    procs.append(first)
    alice = netcat(first, "alice", clients)
    alice.send(f"/register {PASSWORD}")
    alice.expect(r"^\*\*\* Account alice registered; you are now logged in\.$")
    bob = netcat(first, "bob", clients)
    alice.send("/join #rust")
    alice.expect(r"^\*\*\* Users in #rust: @alice$")
    bob.send("/join #rust")
    alice.expect(r"^\*\*\* bob joined #rust$")
    alice.send("anyone tried the new borrow checker?")
    bob.expect(r"^\[#rust\] <alice> anyone tried the new borrow checker\?$")
    bob.send("/join #lobby")
    bob.send("good morning lobby")
    alice.expect(r"^\[#lobby\] <bob> good morning lobby$")
    bob.send("/msg alice lunch at noon?")
    alice.expect(r"^\[private\] <bob> lunch at noon\?$")
    alice.send("/msg bob sure")
    bob.expect(r"^\[private\] <alice> sure$")

    # A clean restart: everything anyone received is in workdir/ircish.db.
    first.signal(signal.SIGTERM)
    assert first.wait() == 0
    second = ServerProcess(cwd=workdir)
    procs.append(second)

    irssi = Irssi(
        tmp_path / "irssi", second.port, "alice", sasl_config(second.port, "alice", PASSWORD)
    )
    try:
        irssi.expect(r"You are now logged in as alice")
        irssi.expect(r"Welcome to the ircish IRC Network alice!")
        irssi.type("/join #rust")
        irssi.expect(r"alice \[~tester@localhost\] has joined #rust")
        # irssi has no chathistory: the server replays the last lines (" " marks a nick not
        # in the room now).
        irssi.expect(r"<[@+ ]?alice> anyone tried the new borrow checker\?")
        irssi.type("/join #lobby")
        irssi.expect(r"<[@+ ]?bob> good morning lobby")

        carol = netcat(second, "carol", clients)
        carol.expect(r"^\[#lobby \d\d:\d\d\] <bob> good morning lobby$")
        carol.send("/join #rust")
        carol.expect(r"^\[#rust \d\d:\d\d\] <alice> anyone tried the new borrow checker\?$")

        # alice's private conversation is kept for her account: /history from netcat.
        again = netcat(second, "alice2", clients)
        again.send(f"/login alice {PASSWORD}")
        again.expect(r"^\*\*\* You are now logged in as alice\.$")
        again.send("/history bob")
        again.expect(r"<bob> lunch at noon\?$")
        again.expect(r"<alice> sure$")

        # The ircish client, logged in with SASL, fetches #rust's history on join.
        run(ircish_client_sees_history(second.port), timeout=30)
    finally:
        irssi.close()


async def ircish_client_sees_history(port: int) -> None:
    async with running_app(
        port, "alicetui", rooms=("#rust",), account="alice", password=PASSWORD
    ) as app:
        await app.wait_text("You are now logged in as alice", "server")
        await wait_until(lambda: (buf := app.model.find("#rust")) is not None and buf.joined)
        rust = app.model.find("#rust")
        assert rust is not None
        await app.wait_text("anyone tried the new borrow checker?", "#rust")
        line = next(x for x in rust.lines if x.text == "anyone tried the new borrow checker?")
        assert line.history and line.nick == "alice" and line.msgid
