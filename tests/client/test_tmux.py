"""The real ``ircish`` binary in a real terminal (tmux), against a real server.

This is the user's check from issue 4 in miniature: typing in the client while
messages arrive never disturbs the line being typed. tmux must be installed;
without it this test fails rather than skips (CI installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import RunningServer

TIMEOUT = 10.0


def ircish_binary() -> str:
    beside = Path(sys.executable).with_name("ircish")
    found = str(beside) if beside.exists() else shutil.which("ircish")
    assert found, "the ircish console script is not installed (pip install -e .)"
    return found


class Tmux:
    """One tmux server of our own (its own socket), one pane running a command."""

    def __init__(self, command: list[str], width: int = 100, height: int = 24) -> None:
        tmux = shutil.which("tmux")
        assert tmux, "tmux is not installed (apt-get install tmux)"
        self.base = [tmux, "-L", f"ircish-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"]
        env_cmd = ["env", "TERM=xterm-256color", "LANG=C.UTF-8", *command]
        self.run("new-session", "-d", "-x", str(width), "-y", str(height), "-s", "t", *env_cmd)

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        return done.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "t", "-l", text)

    def screen(self) -> list[str]:
        return self.run("capture-pane", "-p", "-t", "t").splitlines()

    def alive(self) -> bool:
        done = subprocess.run(
            [*self.base, "has-session", "-t", "t"],
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
        return done.returncode == 0

    def wait(self, pattern: str) -> list[str]:
        """Poll the screen (bounded) until a row matches ``pattern``."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + TIMEOUT
        while True:
            rows = self.screen()
            if any(rx.search(row) for row in rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never appeared; screen:\n" + "\n".join(rows))
            time.sleep(0.05)  # the poll interval of this bounded wait; a screen has no events

    def kill(self) -> None:
        self.run("kill-server")


@pytest.fixture
def tmux_client(server: RunningServer) -> Iterator[Tmux]:
    pane = Tmux([ircish_binary(), f"127.0.0.1:{server.port}", "--nick", "alice"])
    try:
        yield pane
    finally:
        pane.kill()


def test_real_client_in_a_real_terminal(server: RunningServer, tmux_client: Tmux) -> None:
    pane = tmux_client
    rows = pane.wait(r"You joined #lobby")
    assert rows[0].startswith(" #lobby [1 users]")
    assert re.search(r"alice │ 2:#lobby │ connected", rows[-2]), rows[-2]
    bob = server.plain("bob")
    try:
        pane.wait(r"--> bob \(~plain@localhost\) joined #lobby")
        pane.type("hello from a real terminal")
        pane.keys("Enter")
        bob.expect(r"^\[#lobby\] <alice> hello from a real terminal$")
        # The member pane (F7) at the right of the scrollback, and formatting keys.
        pane.keys("F7")
        rows = pane.wait(r"│2 users\s*$")
        assert [r.split("│")[-1].strip() for r in rows[2:4]] == ["alice", "bob"], rows
        pane.keys("F7")
        pane.keys("C-b")
        pane.type("bold")
        pane.keys("C-b")
        pane.wait(r"^\[#lobby\] BboldB")
        pane.keys("Enter")
        bob.expect(r"^\[#lobby\] <alice> bold$")

        # Half a line typed, then messages arrive: the input line is untouched.
        pane.type("half a thou")
        pane.wait(r"^\[#lobby\] half a thou")
        for i in range(3):
            bob.send(f"interrupting {i}, alice")
        rows = pane.wait(r"<bob> interrupting 2, alice")
        assert rows[-1].rstrip() == "[#lobby] half a thou"
        pane.type("ght")
        pane.keys("Enter")
        bob.expect(r"^\[#lobby\] <alice> half a thought$")

        # Tab completion and a private buffer.
        pane.type("bo")
        pane.keys("Tab")
        pane.wait(r"^\[#lobby\] bob:\s*$")  # capture-pane trims the trailing space
        pane.type("see you")
        pane.keys("Enter")
        bob.expect(r"<alice> bob: see you$")
        bob.send("/msg alice psst")
        pane.wait(r"act: 3:bob\(1!\)")
        pane.keys("M-3")
        pane.wait(r"^ Private conversation with bob")
        pane.wait(r"<bob> psst")

        pane.keys("C-c")
        pane.wait(r"Press Ctrl\+C again to quit")
        pane.keys("C-c")
        bob.expect(r"^\*\*\* alice quit \(Quit: Leaving\)$")
        deadline = time.monotonic() + TIMEOUT
        while pane.alive():
            assert time.monotonic() < deadline, "the client did not exit after Ctrl+C"
            time.sleep(0.05)  # poll interval, bounded by the deadline
    finally:
        bob.close()


def test_mouse_in_a_real_terminal(server: RunningServer, tmux_client: Tmux) -> None:
    """The client asks the terminal for mouse reports, scrolls on the wheel, lets go on /set."""
    pane = tmux_client
    pane.wait(r"You joined #lobby")

    def mouse_flag() -> str:
        return pane.run("display-message", "-p", "-t", "t", "#{mouse_any_flag}").strip()

    def until(check: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while mouse_flag() != check:
            assert time.monotonic() < deadline, f"mouse flag never became {check}"
            time.sleep(0.05)  # the poll interval of this bounded wait

    until("1")
    bob = server.plain("bob")
    try:
        for i in range(40):
            bob.send(f"numbered line {i}")
        pane.wait(r"<bob> numbered line 39$")
        # What a terminal sends for two notches of the wheel up (SGR mouse reports).
        pane.type("\x1b[<64;10;5M\x1b[<64;10;5M")
        rows = pane.wait(r"-- more \(6\) --")
        assert rows[-3].endswith("<bob> numbered line 33"), rows
        pane.type("\x1b[<65;10;5M\x1b[<65;10;5M")
        rows = pane.wait(r"<bob> numbered line 39$")
        assert "-- more" not in rows[-2]
        pane.type("/set mouse off")
        pane.keys("Enter")
        pane.wait(r"mouse is off")
        until("0")  # the terminal selects text again
    finally:
        bob.close()


def test_two_networks_in_a_real_terminal(
    make_server: Callable[..., RunningServer], tmux_client: Tmux, server: RunningServer
) -> None:
    """/connect a second server: its buffers are named with it, commands go to it."""
    pane = tmux_client
    pane.wait(r"You joined #lobby")
    second = make_server()
    carol = second.plain("carol")
    try:
        carol.send("/join #rust")
        carol.expect(r"Now talking in #rust")
        pane.type(f"/connect 127.0.0.1:{second.port}")
        pane.keys("Enter")
        other = f"127.0.0.1:{second.port}"
        pane.wait(rf"3:{re.escape(other)} │ connected")
        pane.type("/join #rust")
        pane.keys("Enter")
        rows = pane.wait(rf"4:{re.escape(other)}/#rust │ connected")
        assert rows[-1].startswith(f"[{other}/#rust]"), rows[-1]
        carol.expect(r"alice joined #rust")
        pane.type("hello, second network")
        pane.keys("Enter")
        assert carol.expect(r"<alice>") == "[#rust] <alice> hello, second network"
        pane.keys("M-2")  # the first network's #lobby
        pane.wait(r"2:127\.0\.0\.1/#lobby │ connected")
        carol.send("over here")
        pane.wait(rf"act: 4:{re.escape(other)}/#rust\(1\)")
        pane.type(f"/disconnect {other}")
        pane.keys("Enter")
        carol.expect(r"alice quit")
        pane.wait(r"alice │ 2:#lobby │ connected")
    finally:
        carol.close()
