"""The real irssi, driven in tmux, against ``ircish-server`` with default settings.

This is the issue's "done when": an IRC client no one on the project wrote,
used as a new user would (connect, join, talk, private messages, nick change,
topic, names, who, whois, list, kick, part, quit), sharing a room with
netcat-style plain users. The test types into irssi with ``tmux send-keys``
and reads what irssi shows with ``tmux capture-pane``, polling with a bounded
timeout.

irssi and tmux must be installed (CI installs them in .ci/run); without them
these tests fail rather than skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ircish.config import Config, OperatorConfig
from tests.helpers import LineClient, RunningServer
from tests.unit.test_operators_config import cheap_hash

SCREEN_TIMEOUT = 10.0

#: Settings for a quick, predictable irssi: no command throttling (irssi
#: otherwise sends one command per 2.2 s), no timestamps, one window for
#: everything so that one screen shows all of it.
IRSSI_CONFIG = """\
settings = {
  core = { real_name = "Irssi Tester"; user_name = "tester"; };
  "irc/core" = { cmd_queue_speed = "0msec"; cmds_max_at_once = "100"; };
  "fe-common/core" = {
    timestamps = "no";
    autocreate_windows = "no";
    autocreate_query_level = "NONE";
    beep_msg_level = "NONE";
  };
};
"""


def _require(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        where = "CI installs them in .ci/run" if os.environ.get("CI") else "apt-get install"
        pytest.fail(f"{' and '.join(missing)} not installed ({where}: irssi tmux)")


class Irssi:
    """One irssi in its own tmux server (a private socket, so nothing else is touched)."""

    def __init__(
        self,
        home: Path,
        port: int,
        nick: str,
        config: str = IRSSI_CONFIG,
        address: str = "127.0.0.1",
    ) -> None:
        """Start irssi connecting to ``address``:``port``; a ``config`` whose ``servers``
        entry matches that address and port connects through its chatnet (e.g. SASL)."""
        _require("irssi", "tmux")
        home.mkdir(parents=True, exist_ok=True)
        (home / "config").write_text(config)
        self.socket = f"ircish-irssi-{uuid.uuid4().hex[:12]}"
        command = f"irssi --home={home} -c {address} -p {port} -n {nick}"
        env = {**os.environ, "TERM": "xterm-256color"}
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "irc",
            "-x",
            "220",
            "-y",
            "120",
            command,
            env=env,
        )

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=SCREEN_TIMEOUT,
            check=False,
        )
        return done.stdout

    def type(self, text: str) -> None:
        """Type a line into irssi and press Enter."""
        self._tmux("send-keys", "-t", "irc", "-l", text)
        self._tmux("send-keys", "-t", "irc", "Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-J", "-t", "irc")

    def expect(self, pattern: str, timeout: float = SCREEN_TIMEOUT) -> str:
        """Wait until a line of the screen matches ``pattern``; return that line."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            for line in screen.splitlines():
                if rx.search(line):
                    return line
            if time.monotonic() > deadline:
                shown = "\n".join(x for x in screen.splitlines() if x.strip())
                raise AssertionError(f"irssi never showed {pattern!r}; screen:\n{shown}")
            time.sleep(0.05)  # poll interval of a bounded wait: a tmux screen sends no events

    def running(self) -> bool:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "has-session", "-t", "irc"],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def wait_exit(self, timeout: float = SCREEN_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() > deadline:
                raise AssertionError("irssi did not exit")
            time.sleep(0.05)  # poll interval, bounded by the deadline

    def close(self) -> None:
        # Only this test's own tmux server, by its private socket.
        self._tmux("kill-server")


StartIrssi = Callable[[RunningServer, str], Irssi]


@pytest.fixture
def start_irssi(tmp_path: Path) -> Iterator[StartIrssi]:
    started: list[Irssi] = []

    def start(server: RunningServer, nick: str) -> Irssi:
        client = Irssi(tmp_path / f"irssi-{nick}", server.port, nick)
        started.append(client)
        return client

    yield start
    for client in started:
        client.close()


def plain(server: RunningServer, nick: str, clients: list[LineClient]) -> LineClient:
    c = server.plain(nick)
    clients.append(c)
    return c


def test_irssi_as_a_new_user_with_netcat_users(
    make_server: Callable[..., RunningServer], start_irssi: StartIrssi, clients: list[LineClient]
) -> None:
    server = make_server(Config(operators=(OperatorConfig("admin", cheap_hash("pw")),)))
    # In #lobby first, yet not its operator: the default room is the server's.
    pat = plain(server, "pat", clients)
    irssi = start_irssi(server, "irssiuser")
    irssi.expect(r"Capabilities acknowledged: .*server-time")
    irssi.expect(r"Welcome to the ircish IRC Network irssiuser!~tester@localhost")
    irssi.expect(r"-!- - Be kind; have fun\.")

    # join, and the names list irssi prints on joining
    irssi.type("/join #lobby")
    irssi.expect(r"irssiuser \[~tester@localhost\] has joined #lobby")
    irssi.expect(r"#lobby: Total of 2 nicks \[0 ops, 0 halfops, 0 voices, 2 normal\]")
    pat.expect(r"^\*\*\* irssiuser joined #lobby$")

    # talk both ways
    pat.send("hello irssi")
    irssi.expect(r"< ?pat> hello irssi")
    irssi.type("hi pat, this is irssi")
    pat.expect(r"^\[#lobby\] <irssiuser> hi pat, this is irssi$")

    # private messages both ways
    pat.send("/msg irssiuser psst, a secret")
    irssi.expect(r"\[pat\(~plain@localhost\)\] psst, a secret")
    irssi.type("/msg pat my lips are sealed")
    pat.expect(r"^\[private\] <irssiuser> my lips are sealed$")

    # a server operator manages the server's room: gives irssi +o; irssi sets the topic
    pat.send("/oper admin pw")
    pat.expect(r"^\*\*\* You are now an IRC operator$")
    pat.send("/mode +o irssiuser")
    irssi.expect(r"mode/#lobby \[\+o irssiuser\] by pat")
    irssi.type("/topic Irssi was here")
    irssi.expect(r"irssiuser changed the topic of #lobby to: Irssi was here")
    pat.expect(r"^\*\*\* irssiuser changed the topic of #lobby to: Irssi was here$")

    # names, whois, who, list
    irssi.type("/names")
    irssi.expect(r"#lobby: Total of 2 nicks \[1 ops, 0 halfops, 0 voices, 1 normal\]")
    irssi.type("/whois pat")
    irssi.expect(r"pat \[~plain@localhost\]")
    irssi.expect(r"channels : #lobby")
    irssi.expect(r"server   : ircish\.local \[ircish\]")
    irssi.expect(r"End of WHOIS")
    irssi.type("/who #lobby")
    irssi.expect(r"#lobby pat +H\* +0 +~plain@localhost \[pat\]")
    irssi.expect(r"#lobby irssiuser +H@ +0 +~tester@localhost \[Irssi Tester\]")
    irssi.expect(r"End of /WHO list")
    irssi.type("/list -YES")
    irssi.expect(r"#lobby +2 Irssi was here")

    # nick change, seen by the plain user
    irssi.type("/nick irssi2")
    irssi.expect(r"You're now known as irssi2")
    pat.expect(r"^\*\*\* irssiuser is now known as irssi2$")
    pat.send("/nick patrick")
    irssi.expect(r"pat is now known as patrick")

    # kick a netcat user
    vic = plain(server, "vic", clients)
    irssi.expect(r"vic \[~plain@localhost\] has joined #lobby")
    irssi.type("/kick vic bye now")
    irssi.expect(r"vic was kicked from #lobby by irssi2 \[bye now\]")
    vic.expect(r"^\*\*\* irssi2 kicked vic from #lobby \(bye now\)$")

    # part, come back (topic and its setter are shown on joining), quit
    irssi.type("/part #lobby off for a bit")
    pat.expect(r"^\*\*\* irssi2 left #lobby \(off for a bit\)$")
    irssi.expect(r"irssi2 \[~tester@localhost\] has left #lobby \[off for a bit\]")
    irssi.type("/join #lobby")
    pat.expect(r"^\*\*\* irssi2 joined #lobby$")
    irssi.expect(r"Topic for #lobby: Irssi was here")
    irssi.expect(r"Topic set by irssiuser")
    irssi.type("/quit goodbye all")
    pat.expect(r"^\*\*\* irssi2 quit \(Quit: goodbye all\)$")
    irssi.wait_exit()


def test_irssi_shows_modes_errors_and_away(
    server: RunningServer, start_irssi: StartIrssi, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    pat.send("/join #locked")
    pat.expect(r"^\*\*\* Users in #locked: @pat$")
    pat.send("/mode #locked +k sekrit")
    pat.expect(r"sets mode \+k sekrit on #locked")
    irssi = start_irssi(server, "ircfan")
    irssi.expect(r"End of /MOTD command\.")

    # irssi turns the error numerics into its own messages
    irssi.type("/join #locked")
    irssi.expect(r"Cannot join to channel #locked \(Bad channel key\)")
    pat.send("/mode #locked -k+i sekrit")
    pat.expect(r"sets mode -k\+i \* on #locked")
    irssi.type("/join #locked")
    irssi.expect(r"Cannot join to channel #locked \(You must be invited\)")
    pat.send("/invite ircfan #locked")
    irssi.expect(r"pat invites you to #locked")
    irssi.type("/join #locked")
    irssi.expect(r"ircfan \[~tester@localhost\] has joined #locked")
    irssi.type("/msg nobody hello?")
    irssi.expect(r"nobody: No such nick/channel")
    irssi.type("/nick pat")
    irssi.expect(r"Nick pat is already in use")
    irssi.type("/topic can I?")
    irssi.expect(r"#locked You're not channel operator")
    irssi.type("/mode #locked")
    irssi.expect(r"mode/#locked \[\+int\]")

    # away: irssi's own state, and the plain user is told on messaging
    irssi.type("/away gone fishing")
    irssi.expect(r"You have been marked as being away")
    pat.send("/msg ircfan are you there?")
    pat.expect(r"^\*\*\* ircfan is away: gone fishing$")
    irssi.type("/away")
    irssi.expect(r"You are no longer marked as being away")

    # a plain operator kicks irssi
    pat.send("/kick #locked ircfan that's enough")
    irssi.expect(r"ircfan was kicked from #locked by pat \[that's enough\]")
    irssi.type("/quit")
    irssi.wait_exit()
