"""Helpers for the end-to-end tests: named netcat users and ordering barriers.

Proving that a user did *not* see something needs a barrier, never a sleep.
The server handles one connection's lines in order and writes each user's
output in order, so if ``actor`` sends a private marker after its earlier
lines, everything those lines made ``user`` receive arrives before the marker.
``heard`` collects exactly that.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ircish.config import DEFAULT_LISTENERS, ConfigError, load_config
from ircish.protocol.message import Message, MessageParseError
from tests.helpers import DEFAULT_TIMEOUT, LineClient, RunningServer

REPO = Path(__file__).resolve().parents[2]
_tokens = itertools.count(1)


@dataclass
class Person:
    """A registered netcat-style user: a nickname and its socket client."""

    nick: str
    conn: LineClient

    def send(self, line: str) -> None:
        self.conn.send(line)

    def expect(self, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        return self.conn.expect(pattern, timeout)

    def close(self) -> None:
        self.conn.close()


def person(server: RunningServer, nick: str, opened: list[LineClient]) -> Person:
    """Register ``nick`` as a netcat user; the client is closed at teardown via ``opened``.

    Like a user who types at once, the nickname is sent before the greeting:
    the first line settles the dialect, so no detection delay is spent.
    """
    conn = server.client()
    opened.append(conn)
    conn.send(nick)
    conn.expect(rf"^\*\*\* Welcome to .*, {re.escape(nick)}! ")
    if server.config.server.default_room:
        # The last line of joining (after the names and any history).
        conn.expect(r"^\*\*\* Now talking in ")
    return Person(nick, conn)


def collect_until(conn: LineClient, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """Every unread line up to and including the first one matching ``pattern``."""
    rx = re.compile(pattern)
    seen: list[str] = []

    def match(line: str) -> bool:
        seen.append(line)
        return rx.search(line) is not None

    conn.expect(match, timeout)
    return seen


def heard(actor: Person, people: Iterable[Person]) -> dict[str, list[str]]:
    """What each of ``people`` received (unread) before a marker sent by ``actor`` now."""
    token = f"~sync{next(_tokens)}~"
    # The actor's own marker last: the echoes of the others' come before it.
    people = sorted(people, key=lambda p: p is actor)
    for p in people:
        actor.send(f"/msg {p.nick} {token}")
    marker = rf"^\[private\] <{re.escape(actor.nick)}> {re.escape(token)}$"
    return {
        p.nick: [x for x in collect_until(p.conn, marker)[:-1] if not _ECHOED_MARKER.match(x)]
        for p in people
    }


#: A barrier marker the actor sent, as netcat's echo shows it back: never what was heard.
_ECHOED_MARKER = re.compile(r"^\[to [^\]]+\] <[^>]+> ~sync\d+~$")


def settle(actor: Person, people: Iterable[Person]) -> None:
    """Discard whatever ``people`` have not read yet (joins of later users, welcomes)."""
    heard(actor, people)


# -- the command line ------------------------------------------------------------


def free_port() -> int:
    """A port that was free a moment ago (callers retry if someone takes it meanwhile)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(*args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ircish`` to completion (for the failing cases)."""
    return subprocess.run(
        [sys.executable, "-m", "ircish", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(),
        check=False,
    )


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    # rich wraps log lines at the terminal width; a wide fake terminal keeps them whole.
    env["COLUMNS"] = "200"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if "PYTHONPATH" in env else "")
    return env


def _web_listener_on_8080(args: tuple[str, ...], cwd: Path) -> bool:
    """Whether the configuration ``args`` name (or the defaults) listens on 8080 second."""
    path = None
    if "--config" in args:
        path = Path(args[args.index("--config") + 1])
        path = path if path.is_absolute() else cwd / path
    try:
        listeners = load_config(path).listeners
    except ConfigError:
        return False  # the test is about the error: no override to get in its way
    return len(listeners) > 1 and listeners[1].port == DEFAULT_LISTENERS[1].port


class ServerProcess:
    """``python -m ircish`` running in a subprocess; stderr (the log) is collected."""

    def __init__(self, *args: str, start_timeout: float = 15.0, cwd: Path | None = None) -> None:
        #: The working directory, where the default ``ircish.db`` goes: a fresh one
        #: unless given (a restart test passes the same one twice).
        self.cwd = cwd or Path(tempfile.mkdtemp(prefix="ircish-server-"))
        # A port found free can be taken before the server binds it: try a few.
        # The built-in web listener (8080) moves to a free port as well, when there is one.
        web = ("--web-port", "0") if _web_listener_on_8080(args, self.cwd) else ()
        for _attempt in range(5):
            self.port = free_port()
            self._start(*args, "--port", str(self.port), *web)
            if self._wait_listening(start_timeout):
                return
            self.stop_now()
            if "cannot listen" not in self.log():
                break
        raise AssertionError(f"server did not start; log:\n{self.log()}")

    def _start(self, *args: str) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._eof = False
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ircish", *args],
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def wait_log(self, text: str, timeout: float = DEFAULT_TIMEOUT) -> bool:
        """Wait until a log line contains ``text``; False if the log ended or time ran out."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._eof or any(text in line for line in self.lines), timeout
            ) and any(text in line for line in self.lines)

    def _wait_listening(self, timeout: float) -> bool:
        return self.wait_log("listening on", timeout)

    def log(self) -> str:
        return "\n".join(self.lines)

    #: Where its listener is (pydle's ``PydleLoop`` connects to ``host`` and ``port``).
    host = "127.0.0.1"

    def client(self) -> LineClient:
        return LineClient(self.host, self.port)

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for the exit status; the stderr reader is finished afterwards."""
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def stop_now(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait()


# -- raw IRC clients -------------------------------------------------------------


def parse(line: str) -> Message | None:
    try:
        return Message.parse(line)
    except MessageParseError:
        return None


def wait(client: LineClient, verb: str, timeout: float = DEFAULT_TIMEOUT) -> Message:
    """The next message with this verb or numeric (earlier lines are skipped)."""

    def match(line: str) -> bool:
        msg = parse(line)
        return msg is not None and msg.verb == verb

    msg = parse(client.expect(match, timeout))
    assert msg is not None
    return msg


def sync(client: LineClient) -> list[str]:
    """Every line an IRC client receives before the server answers its PING (a barrier)."""
    seen: list[str] = []

    def match(line: str) -> bool:
        msg = parse(line)
        if msg is not None and msg.verb == "PONG" and msg.params[-1:] == ("sync",):
            return True
        seen.append(line)
        return False

    client.send("PING :sync")
    client.expect(match)
    return seen


def plain_sync(client: LineClient) -> list[str]:
    """Like ``sync`` for a netcat user: ``/help nick`` has a one-line answer."""
    seen: list[str] = []

    def match(line: str) -> bool:
        if line == "*** /nick NAME: change your nickname":
            return True
        seen.append(line)
        return False

    client.send("/help nick")
    client.expect(match)
    return seen


def register(
    server: RunningServer,
    nick: str,
    caps: str = "",
    realname: str | None = None,
    clients: list[LineClient] | None = None,
) -> LineClient:
    """An IRC client registered the way clients do it: CAP LS 302, NICK, USER, CAP REQ, END."""
    c = server.client()
    if clients is not None:
        clients.append(c)
    c.send("CAP LS 302")
    c.send(f"NICK {nick}")
    c.send(f"USER {nick} 0 * :{realname or nick}")
    # CAP LS 302 may take several lines; the last has no "*" before the list.
    while True:
        ls = wait(c, "CAP")
        assert ls.params[1] == "LS"
        if ls.params[2] != "*":
            break
    if caps:
        c.send(f"CAP REQ :{caps}")
        assert wait(c, "CAP").params[1:] == ("ACK", caps)
    c.send("CAP END")
    wait(c, "001")
    c.expect(r" (376|422) ")
    return c
