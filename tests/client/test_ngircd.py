"""The client against another IRC server: ngircd, on an ephemeral port, config in a tmp dir.

ngircd offers only ``multi-prefix`` (no ``echo-message``), so this also checks
the client's local echo and its handling of a server that is not ircish.
ngircd must be installed (CI installs it); without it this test fails.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ircish.client.model import Buffer, LineKind
from tests.client.conftest import AppHarness, run, running_app, wait_until
from tests.helpers import LineClient

CONFIG = """\
[Global]
Name = irc.test.local
Info = ircish client test
AdminInfo1 = test
AdminInfo2 = test
AdminEMail = test@localhost
Listen = 127.0.0.1
Ports = {port}
MotdPhrase = hello from ngircd
[Limits]
MaxNickLength = 20
[Options]
PAM = no
Ident = no
DNS = no
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def ngircd(tmp_path: Path) -> Iterator[int]:
    """ngircd in the foreground; ready once its log says it listens."""
    binary = shutil.which("ngircd") or shutil.which("ngircd", path="/usr/sbin:/sbin")
    assert binary, "ngircd is not installed (apt-get install ngircd)"
    port = free_port()
    conf = tmp_path / "ngircd.conf"
    conf.write_text(CONFIG.format(port=port))
    proc = subprocess.Popen(
        [binary, "-n", "-f", str(conf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    log: list[str] = []
    listening = threading.Event()

    def read_log() -> None:
        # Drains the pipe for the whole run, so ngircd never blocks on a full one.
        assert proc.stdout is not None
        for line in proc.stdout:
            log.append(line)
            if "Now listening on" in line:
                listening.set()

    threading.Thread(target=read_log, daemon=True).start()
    try:
        assert listening.wait(10), "ngircd did not start listening:\n" + "".join(log)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def irc_user(port: int, nick: str) -> LineClient:
    user = LineClient("127.0.0.1", port)
    user.send(f"NICK {nick}")
    user.send(f"USER {nick} 0 * :{nick}")
    user.expect(rf"^:\S+ 001 {nick} ")
    return user


def test_chat_through_ngircd(ngircd: int) -> None:
    async def body() -> None:
        bob = await asyncio.to_thread(irc_user, ngircd, "bob")
        try:
            bob.send("JOIN #lobby")
            await asyncio.to_thread(bob.expect, r"^:\S+ 366 bob #lobby ")
            async with running_app(ngircd, "alice") as alice:
                lobby = await _joined(alice)
                assert alice.app.client.caps == {"multi-prefix"}
                assert alice.model.prefix_modes["o"] == "@"
                assert {n for n, _ in lobby.members.values()} == {"alice", "bob"}
                assert alice.model.sorted_members(lobby) == ["@bob", "alice"]

                alice.type("hello via ngircd\r")
                await asyncio.to_thread(
                    bob.expect, r"^:alice!\S+ PRIVMSG #lobby :hello via ngircd$"
                )
                own = lobby.lines[-1]  # no echo-message here: shown locally, once
                assert (own.text, own.own) == ("hello via ngircd", True)

                bob.send("PRIVMSG #lobby :hi alice")
                await alice.wait_text("<bob> hi alice")
                bob.send("PRIVMSG alice :a secret")
                await alice.wait_text("<bob> a secret", "bob")
                alice.type("/msg bob reply\r")
                await asyncio.to_thread(bob.expect, r"^:alice!\S+ PRIVMSG bob :reply$")

                bob.send("MODE #lobby +v alice")
                await wait_until(lambda: lobby.members["alice"][1] == "+", "voice")
                alice.type("/who\r")
                await wait_until(lambda: lobby.lines[-1].kind is LineKind.TABLE, "who table")
                bob.send("QUIT :off")
                await alice.wait_text('bob quit ("off")')  # ngircd quotes quit reasons
        finally:
            bob.close()

    run(body(), timeout=40)


async def _joined(alice: AppHarness) -> Buffer:
    def ready() -> bool:
        buf = alice.model.find("#lobby")
        return buf is not None and buf.joined and len(buf.members) == 2

    await wait_until(ready, "#lobby with bob")
    buf = alice.model.find("#lobby")
    assert buf is not None
    return buf
