"""Test harnesses: an in-memory network over the core, and real-socket clients.

``MemoryNetwork`` runs real ``Session`` objects against one ``Chat`` with list
sinks instead of sockets (h11's ConnectionPair idea). ``LineClient`` is a
blocking socket client that waits for expected lines with a bounded timeout;
``RunningServer`` runs the real ``Server`` loop in a background thread on an
ephemeral port.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from ircish.config import Config, ListenerConfig, StorageConfig
from ircish.core.chat import Chat
from ircish.dialects import Dialects
from ircish.net.server import Server
from ircish.protocol.message import Message
from ircish.session import Session
from ircish.storage.sqlite import SqliteStorage

DEFAULT_TIMEOUT = 5.0

# -- in memory ---------------------------------------------------------------


class ListSink:
    """A Sink that keeps what the core wrote."""

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.data.append(data)

    def close(self) -> None:
        self.closed = True


class MemoryClient:
    """One session of a ``MemoryNetwork``."""

    def __init__(self, net: MemoryNetwork, dialect: str, host: str) -> None:
        self.net = net
        self.sink = ListSink()
        self.session = Session(net.chat, net.dialects, self.sink, host, dialect, now=net.now)
        self._read = 0

    @property
    def user(self) -> Any:
        """The user as others know them."""
        return self.session.user

    @property
    def client(self) -> Any:
        """The local connection (dialect, caps, current room)."""
        return self.session.client

    def send(self, line: str, *, byte_at_a_time: bool = False) -> None:
        data = (line + "\r\n").encode()
        if byte_at_a_time:
            for i in range(len(data)):
                self.session.receive_data(data[i : i + 1])
        else:
            self.session.receive_data(data)

    def feed(self, data: bytes) -> None:
        self.session.receive_data(data)

    def lines(self) -> list[str]:
        """Lines received since the last call."""
        new = b"".join(self.sink.data[self._read :])
        self._read = len(self.sink.data)
        return [x for x in new.decode("utf-8", "replace").split("\r\n") if x]

    def messages(self) -> list[Message]:
        return [Message.parse(x) for x in self.lines()]


def drain(*clients: MemoryClient) -> None:
    """Forget what these clients received so far."""
    for client in clients:
        client.lines()


def without_flood_control(config: Config, keep: bool = False) -> Config:
    """Tests send lines far faster than people: flood control only where a test asks."""
    if keep:
        return config
    return replace(config, limits=replace(config.limits, flood_burst=0))


class MemoryNetwork:
    """A chat core with sessions wired to lists, and a hand-moved clock."""

    def __init__(
        self, config: Config | None = None, *, storage: bool = False, flood: bool = False
    ) -> None:
        self.now = 1_000_000.0
        self.config = without_flood_control(config or Config(), flood)
        self.chat = Chat(self.config, clock=lambda: self.now)
        self.dialects = Dialects.from_config(self.config)
        #: (due time, order, callback) of ``chat.later``; run by ``advance``.
        self.timers: list[tuple[float, int, Callable[[], None]]] = []
        self.chat.scheduler = self._schedule
        #: With ``storage=True``: a real SQLite store in memory (accounts, history).
        self.storage: SqliteStorage | None = None
        if storage:
            self.storage = SqliteStorage(":memory:")
            self.chat.attach_storage(self.storage)

    def _schedule(self, delay: float, callback: Callable[[], None]) -> None:
        self.timers.append((self.now + delay, len(self.timers), callback))

    def advance(self, seconds: float) -> None:
        """Move the clock on, running every ``chat.later`` callback that falls due, in order."""
        end = self.now + seconds
        while True:
            due = sorted(t for t in self.timers if t[0] <= end)
            if not due:
                break
            first = due[0]
            self.timers.remove(first)
            self.now = max(self.now, first[0])
            first[2]()
        self.now = end

    def connect(self, dialect: str = "plain", host: str = "127.0.0.1") -> MemoryClient:
        return MemoryClient(self, dialect, host)

    def plain(self, nick: str) -> MemoryClient:
        """A registered plain user (joined to the default room), output drained."""
        client = self.connect("plain")
        client.send(nick)
        client.lines()
        return client

    def irc(self, nick: str, caps: str = "") -> MemoryClient:
        """A registered IRC user, output drained."""
        return self.irc_welcomed(nick, caps)[0]

    def irc_welcomed(self, nick: str, caps: str = "") -> tuple[MemoryClient, list[str]]:
        """A registered IRC user and the lines registration gave them."""
        client = self.connect("irc")
        if caps:
            client.send(f"CAP REQ :{caps}")
        client.send(f"NICK {nick}")
        client.send(f"USER {nick} 0 * :{nick} real")
        if caps:
            client.send("CAP END")
        return client, client.lines()


# -- real sockets --------------------------------------------------------------


class LineClient:
    """A socket client that collects lines and waits for the ones it expects."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        connect_timeout: float = DEFAULT_TIMEOUT,
        tls: ssl.SSLContext | None = None,
        source: str | None = None,
    ) -> None:
        # ``source``: connect from another local address (127.0.0.2), e.g. to be D-lined.
        sock = socket.create_connection(
            (host, port), timeout=connect_timeout, source_address=(source, 0) if source else None
        )
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.sock.settimeout(0.05)
        self.buf = b""
        self.received: list[str] = []
        self._pos = 0
        self.eof = False

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, line: str) -> None:
        self.sock.sendall((line + "\r\n").encode())

    def _pump(self) -> None:
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        except OSError:
            self.eof = True
            return
        if not data:
            self.eof = True
            return
        self.buf += data
        *complete, self.buf = self.buf.split(b"\n")
        for raw in complete:
            self.received.append(raw.rstrip(b"\r").decode("utf-8", "replace"))

    def expect(self, pattern: str | Callable[[str], bool], timeout: float = DEFAULT_TIMEOUT) -> str:
        """Wait for the next line (after those already consumed) that matches."""
        match: Callable[[str], bool]
        if isinstance(pattern, str):
            rx = re.compile(pattern)

            def match(line: str) -> bool:
                return rx.search(line) is not None
        else:
            match = pattern
        deadline = time.monotonic() + timeout
        while True:
            while self._pos < len(self.received):
                line = self.received[self._pos]
                self._pos += 1
                if match(line):
                    return line
            if self.eof:
                raise AssertionError(f"connection closed before {pattern!r}; got {self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {pattern!r}; got {self.tail()}")
            self._pump()

    def expect_closed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self.eof:
            if time.monotonic() > deadline:
                raise AssertionError("connection still open")
            self._pump()

    def drain(self, quiet: float = 0.2) -> list[str]:
        """Read until nothing new arrives for ``quiet`` seconds; return the new lines."""
        start = len(self.received)
        last = time.monotonic()
        while time.monotonic() - last < quiet and not self.eof:
            n = len(self.received)
            self._pump()
            if len(self.received) != n:
                last = time.monotonic()
        self._pos = len(self.received)
        return self.received[start:]

    def tail(self, n: int = 8) -> list[str]:
        return self.received[-n:]


class RunningServer:
    """The real server loop in a background thread, on an ephemeral port."""

    def __init__(self, config: Config | None = None, *, flood: bool = False) -> None:
        config = without_flood_control(config or Config(), flood)
        if config.storage == StorageConfig():
            # Tests keep nothing on disk unless they ask for a file.
            config = replace(config, storage=StorageConfig(path=":memory:"))
        # Every listener on a free port: no test may depend on 6667 or 8080 being free.
        listeners = tuple(
            replace(lc, host="127.0.0.1", port=0) if i == 0 else replace(lc, port=0)
            for i, lc in enumerate(config.listeners)
        )
        self.config = replace(config, listeners=listeners)
        self.server = Server(self.config)
        (self.host, self.port), *others = self.server.bind()
        #: Where each listener after the first is (the built-in web listener first).
        self.addresses: list[tuple[str, int]] = others
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def chat(self) -> Chat:
        return self.server.chat

    def stop(self) -> None:
        self.server.request_stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "server thread did not stop"

    def client(self, source: str | None = None) -> LineClient:
        return LineClient(self.host, self.port, source=source)

    def plain(self, nick: str) -> LineClient:
        """A registered netcat-style user (in the default room)."""
        c = self.client()
        c.expect(r"Type a nickname")
        c.send(nick)
        c.expect(rf"Welcome to .*, {re.escape(nick)}!")
        if self.config.server.default_room:
            # The last line of joining (after the names and any history).
            c.expect(r"^\*\*\* Now talking in ")
        return c

    def irc(self, nick: str, source: str | None = None) -> LineClient:
        """A registered raw IRC client (from the local address ``source``, if given)."""
        c = self.client(source)
        c.send(f"NICK {nick}")
        c.send(f"USER {nick} 0 * :{nick}")
        c.expect(rf"^:\S+ 001 {re.escape(nick)} ")
        c.expect(r"^:\S+ (376|422) ")
        return c


T = TypeVar("T")


def in_loop(srv: RunningServer, fn: Callable[[], T]) -> T:
    """Run ``fn`` in the loop thread and return its result (or raise its error)."""
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    srv.server.call_soon(run)
    assert done.wait(DEFAULT_TIMEOUT), "the loop did not run the callback"
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def listener_config(**kw: Any) -> tuple[ListenerConfig, ...]:
    return (ListenerConfig(**kw),)
