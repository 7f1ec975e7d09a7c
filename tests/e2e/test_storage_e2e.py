"""Storage as a real ``python -m ircish`` process: start errors, and the kill -9 test.

A database the server cannot use stops it at start with exit status 2 and
one line naming the path and the reason. The kill -9 test holds the server to
its promise (``ircish.core.storage``): whatever any client has received is on
disk, because each loop pass commits before it writes a byte. Clients stream
messages into rooms and privately, every client records every line it gets,
the server is killed with SIGKILL while the senders are still sending, and
after a restart on the same directory every message any client received is
in the database file.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ircish.storage.sqlite import SCHEMA_VERSION
from tests.e2e.e2e_support import ServerProcess, run_cli
from tests.helpers import DEFAULT_TIMEOUT

pytestmark = pytest.mark.timeout(60)


# -- start errors ---------------------------------------------------------------------


def fails_at_start(tmp_path: Path, db: Path) -> str:
    """Start with ``[storage] path = db``; expect exit 2 and one line; return it."""
    config = tmp_path / "ircish.toml"
    config.write_text(f"[storage]\npath = {str(db)!r}\n", encoding="utf-8")
    result = run_cli("--config", str(config), "--port", "0")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


def test_a_corrupt_database_stops_the_start(tmp_path: Path) -> None:
    db = tmp_path / "ircish.db"
    db.write_bytes(os.urandom(16384))
    before = db.read_bytes()
    assert fails_at_start(tmp_path, db) == (
        f"ircish-server: storage error: {db}: file is not a database"
    )
    assert db.read_bytes() == before


def test_a_missing_directory_stops_the_start(tmp_path: Path) -> None:
    db = tmp_path / "no-such-dir" / "ircish.db"
    assert fails_at_start(tmp_path, db) == (
        f"ircish-server: storage error: {db}: directory {db.parent} does not exist"
    )


def test_an_unwritable_location_stops_the_start(tmp_path: Path) -> None:
    # A regular file where the directory should be: no one can create the database
    # there, root included (CI runs as root, and chmod does not stop root).
    (tmp_path / "somefile").write_text("not a directory\n")
    db = tmp_path / "somefile" / "ircish.db"
    assert fails_at_start(tmp_path, db) == (
        f"ircish-server: storage error: {db}: {tmp_path / 'somefile'} is not a directory"
    )


def test_a_newer_schema_stops_the_start(tmp_path: Path) -> None:
    db = tmp_path / "ircish.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION + 1),))
    conn.close()
    assert fails_at_start(tmp_path, db) == (
        f"ircish-server: storage error: {db}: schema version {SCHEMA_VERSION + 1} is newer "
        f"than this ircish ({SCHEMA_VERSION}); upgrade ircish"
    )


def test_another_programs_database_stops_the_start(tmp_path: Path) -> None:
    db = tmp_path / "photos.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    conn.close()
    assert fails_at_start(tmp_path, db) == (
        f"ircish-server: storage error: {db}: not an ircish database (tables: ['photos'])"
    )


def test_a_second_server_on_the_same_database_stops_the_start(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    db = tmp_path / "ircish.db"
    config = tmp_path / "first.toml"
    config.write_text(f"[storage]\npath = {str(db)!r}\n", encoding="utf-8")
    first = ServerProcess("--config", str(config))
    procs.append(first)
    assert fails_at_start(tmp_path, db) == (
        f"ircish-server: storage error: {db}: in use by another ircish-server "
        "(or another program): database is locked"
    )
    user = first.client()  # the first one is unaffected
    user.expect(r"Type a nickname")
    user.close()


# -- kill -9 --------------------------------------------------------------------------


class Recorder:
    """A blocking socket whose every received line is recorded by a thread until EOF.

    Its own thread (not ``LineClient``'s short poll) so that a sender thread can
    block in ``sendall`` on the same socket while this one reads.
    """

    def __init__(self, port: int, nick: str) -> None:
        self.nick = nick
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT)
        self.sock.settimeout(None)
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.closed = False
        #: Answers to ``barrier`` received so far.
        self.barriers = 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            *complete, buf = (buf + data).split(b"\n")
            lines = [raw.rstrip(b"\r").decode("utf-8", "replace") for raw in complete]
            with self.changed:
                self.lines.extend(lines)
                self.barriers += sum(1 for line in lines if BARRIER.search(line))
                self.changed.notify_all()
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def send(self, line: str) -> None:
        self.sock.sendall((line + "\r\n").encode())

    def barrier(self, n: int) -> bool:
        """Send barrier ``n`` and wait for its answer (all earlier lines were handled).

        False when the connection closed first (the server was killed).
        """
        self.send("/help nick" if self.nick.startswith("sp") else f"PING :barrier{n}")
        with self.changed:
            self.changed.wait_for(lambda: self.barriers >= n or self.closed, DEFAULT_TIMEOUT)
            return self.barriers >= n

    def wait(self, until: Callable[[list[str]], bool], what: str) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: until(self.lines) or self.closed, DEFAULT_TIMEOUT):
                raise AssertionError(f"{self.nick}: timed out for {what}: {self.lines[-5:]}")
            if not until(self.lines):
                raise AssertionError(f"{self.nick}: closed before {what}: {self.lines[-5:]}")

    def wait_line(self, pattern: str) -> None:
        rx = re.compile(pattern)
        self.wait(lambda lines: any(rx.search(line) for line in lines), pattern)

    def close(self) -> None:
        self.sock.close()


def plain_user(port: int, nick: str) -> Recorder:
    user = Recorder(port, nick)
    user.send(nick)
    user.send("/join #rust")
    user.wait_line(r"^\*\*\* Users in #rust: ")
    return user


def irc_user(port: int, nick: str) -> Recorder:
    user = Recorder(port, nick)
    user.send(f"NICK {nick}")
    user.send(f"USER {nick} 0 * :{nick}")
    user.send("JOIN #lobby,#rust")
    user.wait_line(rf"^:\S+ 366 {nick} #rust ")
    return user


TOKEN = re.compile(r"\b(s[pi]\d)-(\d+)\b")
#: The answer to a barrier: a PONG (IRC) or the one-line help of /nick (netcat).
BARRIER = re.compile(r" PONG \S+ :?barrier\d+$|^\*\*\* /nick NAME: change your nickname$")
#: Messages each sender has ready; far more than are sent before the kill.
PER_SENDER = 100_000
#: Lines a sender has in flight at most: then it waits for a barrier. Without it the
#: kernel's socket buffers swallow everything at once, and "mid-stream" would only
#: mean "with input still queued".
WINDOW = 50
#: Message lines the clients must have received, together, before the kill.
KILL_AFTER = 600


def received_tokens(users: list[Recorder]) -> set[str]:
    return {m.group(0) for u in users for line in u.lines for m in TOKEN.finditer(line)}


def test_kill_9_loses_no_message_any_client_received(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    # Private messages are kept for users without accounts too ("always"), so
    # both rooms and conversations are covered without accounts.
    config = tmp_path / "ircish.toml"
    # The senders stream as fast as the server takes them: no flood control here.
    config.write_text(
        '[history]\nprivate = "always"\n\n[limits]\nflood_burst = 0\n', encoding="utf-8"
    )
    workdir = tmp_path / "server"
    workdir.mkdir()
    server = ServerProcess("--config", str(config), cwd=workdir)
    procs.append(server)

    readers = [plain_user(server.port, "rp"), irc_user(server.port, "ri")]
    senders = [
        plain_user(server.port, "sp1"),
        plain_user(server.port, "sp2"),
        irc_user(server.port, "si1"),
        irc_user(server.port, "si2"),
    ]
    users = readers + senders
    # Where each message goes: a room, or a reader privately (and so, in its history).
    targets = ["#lobby", "#rust", "rp", "ri"]
    sent: dict[str, str] = {}
    stopped = threading.Event()

    def stream(sender: Recorder) -> None:
        plain = sender.nick.startswith("sp")
        for n in range(PER_SENDER):
            token = f"{sender.nick}-{n}"
            target = targets[n % len(targets)]
            sent[token] = target
            line = f"/msg {target} {token}" if plain else f"PRIVMSG {target} :{token}"
            try:
                sender.send(line)
                if n % WINDOW == WINDOW - 1 and not sender.barrier(n // WINDOW + 1):
                    break
            except OSError:
                break
        else:
            stopped.set()

    threads = [threading.Thread(target=stream, args=(s,), daemon=True) for s in senders]
    for t in threads:
        t.start()

    def enough_received() -> bool:
        return sum(len(u.lines) for u in users) >= KILL_AFTER

    # Poll the recorders (each has its own condition) until enough has arrived.
    for _ in range(int(DEFAULT_TIMEOUT / 0.01)):
        if enough_received():
            break
        stopped.wait(0.01)
    assert enough_received(), [u.lines[-3:] for u in users]
    assert not stopped.is_set(), "a sender finished before the kill: not mid-stream"
    server.signal(signal.SIGKILL)
    assert server.wait() == -signal.SIGKILL
    for u in users:
        u.thread.join(DEFAULT_TIMEOUT)
        assert u.closed
    for t in threads:
        t.join(DEFAULT_TIMEOUT)
    for u in users:
        u.close()

    got = received_tokens(users)
    assert len(got) >= KILL_AFTER // 4, len(got)
    # Mid-stream: the senders had written more than anyone received.
    assert len(sent) > len(got)

    # A restart on the crashed database works (WAL recovery) ...
    again = ServerProcess("--config", str(config), cwd=workdir)
    procs.append(again)
    greeted = again.client()  # the loop runs (its signal handlers are installed) ...
    greeted.expect(r"Type a nickname")
    greeted.close()
    again.signal(signal.SIGTERM)  # ... and stops: the running server holds the file exclusively
    assert again.wait() == 0
    # ... and every message any client received is in the stored history.
    with sqlite3.connect(workdir / "ircish.db") as db:
        stored = set(
            db.execute("SELECT owner != '', target, text FROM events WHERE kind = 'Privmsg'")
        )
    db.close()
    missing = []
    for token in sorted(got):
        sender = token.split("-")[0]
        target = sent[token]
        if target.startswith("#"):
            wanted = [(0, target, token)]
        else:
            # Both parties' copies (each owned by that party, keyed by the other's nick).
            wanted = [(1, sender, token), (1, target, token)]
        if any(w not in stored for w in wanted):
            missing.append(token)
    assert not missing, f"{len(missing)} of {len(got)} received messages lost: {missing[:5]}"


def test_a_new_database_is_readable_by_the_server_user_only(tmp_path: Path) -> None:
    """It holds password hashes and private messages, whatever the umask says."""
    old = os.umask(0o022)
    try:
        proc = ServerProcess(cwd=tmp_path)
        try:
            c = proc.client()
            c.expect(r"Type a nickname")
            c.send("pat")
            c.expect(r"^\*\*\* Users in #lobby: ")
            c.send("something private enough")
            c.close()
        finally:
            proc.signal(signal.SIGTERM)
            assert proc.wait() == 0
    finally:
        os.umask(old)
    db = tmp_path / "ircish.db"
    assert db.stat().st_mode & 0o777 == 0o600
    for extra in (tmp_path / "ircish.db-wal", tmp_path / "ircish.db-shm"):
        if extra.exists():
            assert extra.stat().st_mode & 0o077 == 0
