"""A Redis client inside the event loop: non-blocking sockets, hiredis for the wire.

Theory of operation: a ``RedisConnection`` is one socket to Redis,
registered with the loop through ``add_reader`` (and ``set_reader_interest``
while it waits to connect or has bytes the kernel would not take), so
nothing ever blocks the chat. Commands are encoded with
``hiredis.pack_command`` into one output buffer, and each gets an entry in a
FIFO of pending replies: Redis answers a connection's commands in order, so
the ``n``-th reply parsed by ``hiredis.Reader`` belongs to the ``n``-th
entry. Everything asked for during one loop pass goes out in one ``send``
(pipelining), from a ``call_soon`` callback scheduled by the first command.

A callback gets the reply (bytes, an int, a list, None) or a ``RedisError``:
``RedisReplyError`` when Redis answered with an error (the link stays up),
``RedisConnectionError`` when no answer will come because the link was lost,
was never up or was closed. Callbacks run on the loop thread, never inside
``call`` itself.

A connection goes IDLE -> CONNECTING -> CONNECTED; any failure (refused,
reset, a protocol error, no answer within ``connect_timeout`` or a reply
later than ``reply_timeout``) tears the socket down, fails every pending
callback, and moves to WAITING, from which it tries again after a capped
exponential backoff with jitter. Connecting ends with a handshake pipelined
ahead of any command queued meanwhile: ``AUTH`` (when the URL has a
password), ``SELECT`` (a database other than 0), ``CLIENT SETNAME``, and a
``PING``; the link counts as connected when the ``PING`` answers. A
connection that has been quiet for ``idle_ping`` sends a ``PING`` of its
own, so a peer that vanished without closing (a dead host, a partition) is
noticed within ``idle_ping + reply_timeout``. Listeners added with
``add_listener`` learn of every change between up and down.

A blocking read (``XREAD BLOCK``) holds its connection until Redis answers,
so it gets a connection of its own; its reply arrives like any other, and
its ``timeout`` must exceed the ``BLOCK`` time (``blocking_timeout``).

``check_redis`` is the one blocking function: the start-up check, run
before the loop, which connects, logs in and pings once.
"""

from __future__ import annotations

import enum
import errno
import functools
import ipaddress
import logging
import math
import os
import random
import socket
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

import hiredis

from ircish.config import RedisAddress

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

log = logging.getLogger("ircish.redis")

#: One argument of a command, as ``hiredis.pack_command`` takes it.
Arg = str | bytes | int | float | memoryview
#: Gets the reply, or a ``RedisError`` instance.
Callback = Callable[[Any], None]

RECV_SIZE = 65536
#: Reads per readiness: a big reply takes a few passes rather than holding one.
READS_PER_CALL = 16
#: Output past this is sent at once rather than at the end of the pass.
FLUSH_NOW_BYTES = 256 * 1024
#: Seconds ``check_redis`` waits by default.
START_TIMEOUT = 5.0

_pack_command = cast(Callable[[tuple[Arg, ...]], bytes], hiredis.pack_command)


class RedisError(Exception):
    """A command got no reply, or an error reply; the message names the Redis URL."""


class RedisReplyError(RedisError):
    """Redis answered with an error (``ERR ...``, ``WRONGTYPE ...``); the link is fine."""


class RedisConnectionError(RedisError):
    """No reply will come: the link is down, was lost before the reply, or was closed."""


class RedisProtocolError(RedisError):
    """Redis sent something that is not RESP; the link is dropped."""


#: ``Reader.gets()`` gives this while a reply is incomplete (RESP2 has no ``False``).
_NEED_DATA = object()


def _new_reader() -> hiredis.Reader:
    return hiredis.Reader(
        protocolError=RedisProtocolError, replyError=RedisReplyError, notEnoughData=_NEED_DATA
    )


class Loop(Protocol):
    """What a Redis connection needs of the event loop (``net.server.Server`` has it)."""

    def add_reader(self, fileobj: FileDescriptorLike, callback: Callable[[], None]) -> None: ...

    def remove_reader(self, fileobj: FileDescriptorLike) -> bool: ...

    def set_reader_interest(
        self, fileobj: FileDescriptorLike, *, read: bool = True, write: bool = False
    ) -> None: ...

    def call_soon(self, callback: Callable[[], None]) -> None: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> None: ...


#: ``WorkerPool.offload``: run a blocking job (a DNS lookup) off the loop thread.
Offload = Callable[[Callable[[], Any], Callable[[Any], None]], None]


class LinkState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    #: Between attempts (the backoff).
    WAITING = "waiting"
    CLOSED = "closed"


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before retry number ``attempt`` (0 first): doubling, capped, "equal jitter".

    Half the step is fixed and half random, so processes that lost Redis at
    the same moment do not come back at the same moment, and no delay is
    shorter than the previous one's lower bound.
    """
    step = min(cap, base * 2.0 ** min(attempt, 32))
    return step / 2 + rng.uniform(0, step / 2)


def handshake_commands(address: RedisAddress, client_name: str = "") -> list[tuple[Arg, ...]]:
    """What a new connection sends first: log in, pick the database, name itself, ping."""
    commands: list[tuple[Arg, ...]] = []
    if address.password:
        if address.username:
            commands.append(("AUTH", address.username, address.password))
        else:
            commands.append(("AUTH", address.password))
    if address.db:
        commands.append(("SELECT", address.db))
    if client_name:
        commands.append(("CLIENT", "SETNAME", client_name))
    commands.append(("PING",))
    return commands


def _refusal(url: str, command: tuple[Arg, ...], reply: Exception) -> str:
    text = str(reply)
    hint = ""
    if text.startswith("NOAUTH"):
        hint = " (Redis wants a password: redis://:PASSWORD@HOST:PORT/DB)"
    verb = command[0]
    name = verb.decode(errors="replace") if isinstance(verb, bytes | bytearray) else str(verb)
    return f"{url}: {name} refused: {text}{hint}"


def _describe(exc: OSError) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return exc.strerror or str(exc) or type(exc).__name__


def check_redis(address: RedisAddress, timeout: float = START_TIMEOUT) -> None:
    """Connect, log in, select the database and ping, blocking up to ``timeout`` seconds.

    For the start, before the loop runs. Raises ``RedisError`` with a message
    naming the URL (password hidden) and what went wrong.
    """
    url = address.url
    deadline = time.monotonic() + timeout
    try:
        if address.path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(address.path)
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection((address.host, address.port), timeout=timeout)
    except OSError as exc:
        raise RedisConnectionError(f"{url}: {_describe(exc)}") from None
    commands = handshake_commands(address)
    reader = _new_reader()
    replies: list[Any] = []
    with sock:
        try:
            sock.sendall(b"".join(_pack_command(c) for c in commands))
            while len(replies) < len(commands):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                sock.settimeout(remaining)
                data = sock.recv(RECV_SIZE)
                if not data:
                    raise RedisConnectionError(f"{url}: closed the connection without answering")
                reader.feed(data)
                while (reply := reader.gets()) is not _NEED_DATA:
                    replies.append(reply)
        except TimeoutError:
            raise RedisConnectionError(f"{url}: no answer within {timeout:g} s") from None
        except OSError as exc:
            raise RedisConnectionError(f"{url}: {_describe(exc)}") from None
        except RedisProtocolError as exc:
            raise RedisProtocolError(f"{url}: does not speak the Redis protocol ({exc})") from None
    for command, reply in zip(commands, replies, strict=True):
        if isinstance(reply, RedisReplyError):
            raise RedisReplyError(_refusal(url, command, reply))


def blocking_timeout(block_seconds: float, reply_timeout: float) -> float:
    """The reply timeout for a command that Redis may hold ``block_seconds`` (XREAD BLOCK)."""
    return block_seconds + reply_timeout


class _Pending:
    __slots__ = ("callback", "deadline", "internal", "timeout")

    def __init__(
        self, callback: Callback | None, timeout: float, *, internal: bool = False
    ) -> None:
        self.callback = callback
        self.timeout = timeout
        #: Set when the command is known to be on its way (the link is up).
        self.deadline = math.inf
        #: The handshake's and idle pings' own entries: no one to tell if they fail.
        self.internal = internal


def _numeric_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class RedisConnection:
    """One connection to Redis that reconnects by itself; see the module's docstring."""

    def __init__(
        self,
        loop: Loop,
        address: RedisAddress,
        *,
        name: str = "main",
        client_name: str = "",
        offload: Offload | None = None,
        connect_timeout: float = 5.0,
        reply_timeout: float = 10.0,
        idle_ping: float = 5.0,
        backoff_base: float = 0.2,
        backoff_cap: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        self.loop = loop
        self.address = address
        #: Which of this process's connections it is, in the log ("main", "streams").
        self.name = name
        #: Shown by Redis's CLIENT LIST; no spaces.
        self.client_name = client_name
        self.offload = offload
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout
        self.idle_ping = idle_ping
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._rng = rng or random.Random()
        self.state = LinkState.IDLE
        #: Why the link last went down or failed to come up ("" if it never did).
        self.last_error = ""
        #: Commands sent and send() calls made: how well commands are pipelined.
        self.commands = 0
        self.sends = 0
        #: Times the link came up (the handshake done).
        self.connects = 0
        #: Delays of the latest retries scheduled since the link was last up.
        self.retry_delays: deque[float] = deque(maxlen=50)
        #: Failed attempts since the link was last up (the backoff's exponent).
        self._attempt = 0
        self._listeners: list[Callable[[bool], None]] = []
        self._sock: socket.socket | None = None
        #: Bumped whenever a socket is opened or dropped; stale timers and lookups see it.
        self._gen = 0
        self._addrs: list[tuple[int, Any]] = []
        self._tcp_up = False
        self._writing = False
        self._reader = _new_reader()
        self._out = bytearray()
        self._pending: deque[_Pending] = deque()
        self._handshake_left = 0
        self._flush_scheduled = False
        self._connect_deadline = 0.0
        self._last_heard = 0.0
        self._down_since = time.monotonic()
        self._next_warning = 0.0
        self._tick_interval = max(0.01, min(1.0, reply_timeout / 4, idle_ping / 2))

    def __repr__(self) -> str:
        return f"<RedisConnection {self.name} {self.url} {self.state.value}>"

    @property
    def url(self) -> str:
        """The URL, password hidden."""
        return self.address.url

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED

    @property
    def pending(self) -> int:
        """Commands waiting for their reply (the handshake's included)."""
        return len(self._pending)

    def dedicated(self, name: str) -> RedisConnection:
        """A new connection like this one, started, for a blocking read (``XREAD BLOCK``)."""
        other = RedisConnection(
            self.loop,
            self.address,
            name=name,
            client_name=f"{self.client_name}:{name}" if self.client_name else "",
            offload=self.offload,
            connect_timeout=self.connect_timeout,
            reply_timeout=self.reply_timeout,
            idle_ping=self.idle_ping,
            backoff_base=self.backoff_base,
            backoff_cap=self.backoff_cap,
            rng=self._rng,
        )
        other.start()
        return other

    def add_listener(self, listener: Callable[[bool], None]) -> None:
        """Have ``listener(True)`` called when the link comes up, ``listener(False)`` when down."""
        self._listeners.append(listener)

    # -- commands ------------------------------------------------------------------

    def call(
        self, *args: Arg, callback: Callback | None = None, timeout: float | None = None
    ) -> None:
        """Send one command; ``callback`` gets its reply or a ``RedisError``, on the loop thread.

        Call it on the loop thread (from another, through ``call_soon``).

        ``timeout``: seconds the reply may take once sent (default
        ``reply_timeout``; ``math.inf`` for none); a later reply counts the
        link as dead. While the link is down the callback gets a
        ``RedisConnectionError`` on the next pass; nothing is queued for later.
        """
        if self.state not in (LinkState.CONNECTING, LinkState.CONNECTED):
            if callback is not None:
                error = RedisConnectionError(self._down_text())
                self.loop.call_soon(functools.partial(callback, error))
            return
        self._queue(args, _Pending(callback, self.reply_timeout if timeout is None else timeout))

    def _queue(self, args: tuple[Arg, ...], entry: _Pending) -> None:
        self._out += _pack_command(args)
        if self.state is LinkState.CONNECTED:
            entry.deadline = time.monotonic() + entry.timeout
        self._pending.append(entry)
        self.commands += 1
        if not self._tcp_up:
            return
        if len(self._out) >= FLUSH_NOW_BYTES:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._scheduled_flush)

    def _down_text(self) -> str:
        if self.state is LinkState.CLOSED:
            return f"the connection to Redis at {self.url} is closed"
        if self.state is LinkState.IDLE:
            return f"the connection to Redis at {self.url} was not started"
        why = f": {self.last_error}" if self.last_error else ""
        return f"not connected to Redis at {self.url}{why}"

    # -- connecting ----------------------------------------------------------------

    def start(self) -> None:
        """Begin connecting (once); from then on the connection keeps itself up until ``close``."""
        if self.state is LinkState.IDLE:
            self._connect()

    def _connect(self) -> None:
        self._gen += 1
        gen = self._gen
        self.state = LinkState.CONNECTING
        self._connect_deadline = time.monotonic() + self.connect_timeout
        self.loop.call_later(self._tick_interval, functools.partial(self._tick, gen))
        address = self.address
        if address.path:
            self._addrs = [(socket.AF_UNIX, address.path)]
        elif _numeric_host(address.host) or self.offload is None:
            # A literal address needs no lookup; without workers the lookup blocks, briefly.
            result = _resolve(address.host, address.port)
            if isinstance(result, OSError):
                self._fail(f"cannot resolve {address.host}: {_describe(result)}")
                return
            self._addrs = result
        else:
            self.offload(
                functools.partial(_resolve, address.host, address.port),
                functools.partial(self._resolved, gen),
            )
            return
        self._try_next()

    def _resolved(self, gen: int, result: list[tuple[int, Any]] | OSError) -> None:
        if gen != self._gen or self.state is not LinkState.CONNECTING:
            return
        if isinstance(result, OSError):
            self._fail(f"cannot resolve {self.address.host}: {_describe(result)}")
            return
        self._addrs = result
        self._try_next()

    def _try_next(self, why: str = "") -> None:
        """Connect to the next address of the host; fail the attempt when none is left."""
        while self._addrs:
            family, sockaddr = self._addrs.pop(0)
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            err = sock.connect_ex(sockaddr)
            if err in (0, errno.EINPROGRESS):
                self._sock = sock
                self._tcp_up = False
                self.loop.add_reader(sock, functools.partial(self._on_ready, sock))
                if err == 0:
                    self._connected_socket(sock)
                else:
                    self.loop.set_reader_interest(sock, read=False, write=True)
                    self._writing = True
                return
            sock.close()
            why = os.strerror(err)
        self._fail(why or "no address to connect to")

    def _connected_socket(self, sock: socket.socket) -> None:
        """The socket is connected: put the handshake ahead of what was queued, and send."""
        self._tcp_up = True
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        commands = handshake_commands(self.address, self.client_name)
        self._handshake_left = len(commands)
        gen = self._gen
        self._out[:0] = b"".join(_pack_command(c) for c in commands)
        for command in reversed(commands):
            callback = functools.partial(self._handshake_reply, gen, command)
            self._pending.appendleft(_Pending(callback, self.reply_timeout, internal=True))
        self._flush()

    def _handshake_reply(self, gen: int, command: tuple[Arg, ...], reply: Any) -> None:
        if gen != self._gen:
            return
        if isinstance(reply, Exception):
            self._fail(_refusal(self.url, command, reply).removeprefix(f"{self.url}: "))
            return
        self._handshake_left -= 1
        if self._handshake_left == 0:
            self._up()

    def _up(self) -> None:
        now = time.monotonic()
        self.state = LinkState.CONNECTED
        self.connects += 1
        self._last_heard = now
        for entry in self._pending:
            entry.deadline = now + entry.timeout
        after = ""
        if self.connects > 1:
            after = f" (after {now - self._down_since:.1f} s without it)"
        log.info("redis %s: connected to %s%s", self.name, self.url, after)
        self.retry_delays.clear()
        self._attempt = 0
        self.last_error = ""
        self._notify(True)

    # -- input and output ----------------------------------------------------------

    def _on_ready(self, sock: socket.socket) -> None:
        if sock is not self._sock:
            return
        if not self._tcp_up:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._close_socket()
                self._try_next(os.strerror(err))
                return
            self._connected_socket(sock)
            return
        self._read(sock)
        if sock is self._sock and self._out:
            self._flush()

    def _read(self, sock: socket.socket) -> None:
        for _ in range(READS_PER_CALL):
            try:
                data = sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._fail(f"read failed: {_describe(exc)}")
                return
            if not data:
                self._fail("Redis closed the connection")
                return
            self._last_heard = time.monotonic()
            self._reader.feed(data)
            self._dispatch(sock)
            if sock is not self._sock or len(data) < RECV_SIZE:
                return

    def _dispatch(self, sock: socket.socket) -> None:
        reader = self._reader
        pending = self._pending
        while True:
            try:
                reply = reader.gets()
            except RedisProtocolError as exc:
                self._fail(f"not the Redis protocol: {exc}")
                return
            if reply is _NEED_DATA:
                return
            if not pending:
                self._fail("a reply to no command (is this Redis?)")
                return
            entry = pending.popleft()
            if entry.callback is not None:
                try:
                    entry.callback(reply)
                except Exception:
                    log.exception("redis %s: a reply's callback failed", self.name)
                if sock is not self._sock:
                    return  # the callback closed the connection

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self._flush()

    def _flush(self) -> None:
        sock = self._sock
        if sock is None or not self._tcp_up:
            return
        if self._out:
            try:
                sent = sock.send(self._out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._fail(f"write failed: {_describe(exc)}")
                return
            self.sends += 1
            del self._out[:sent]
        writing = bool(self._out)
        if writing != self._writing:
            self._writing = writing
            self.loop.set_reader_interest(sock, read=True, write=writing)

    # -- keeping it up -------------------------------------------------------------

    def _tick(self, gen: int) -> None:
        if gen != self._gen:
            return
        now = time.monotonic()
        if self.state is LinkState.CONNECTING:
            if now >= self._connect_deadline:
                self._fail(f"no answer within {self.connect_timeout:g} s")
                return
        elif self.state is LinkState.CONNECTED:
            if self._pending:
                head = self._pending[0]
                if now >= head.deadline:
                    self._fail(f"no reply within {head.timeout:g} s")
                    return
            elif now - self._last_heard >= self.idle_ping:
                self._queue(("PING",), _Pending(None, self.reply_timeout, internal=True))
        else:
            return
        self.loop.call_later(self._tick_interval, functools.partial(self._tick, gen))

    def _close_socket(self) -> None:
        sock = self._sock
        self._sock = None
        self._tcp_up = False
        self._writing = False
        self._flush_scheduled = False
        self._reader = _new_reader()
        if sock is not None:
            self.loop.remove_reader(sock)
            sock.close()

    def _take_pending(self) -> deque[_Pending]:
        pending = self._pending
        self._pending = deque()
        self._out = bytearray()
        return pending

    def _fail(self, reason: str) -> None:
        """The link is down or did not come up: fail what waits, retry after the backoff."""
        was_up = self.state is LinkState.CONNECTED
        self._close_socket()
        self._gen += 1
        self._addrs = []
        pending = self._take_pending()
        self.last_error = reason
        self.state = LinkState.WAITING
        delay = backoff_delay(self._attempt, self.backoff_base, self.backoff_cap, self._rng)
        self._attempt += 1
        self.retry_delays.append(delay)
        gen = self._gen
        self.loop.call_later(delay, functools.partial(self._retry, gen))
        now = time.monotonic()
        if was_up:
            self._down_since = now
            self._next_warning = now + 60.0
            log.warning(
                "redis %s: lost the connection to %s: %s; reconnecting", self.name, self.url, reason
            )
            text = f"lost the connection to Redis at {self.url} before the reply: {reason}"
        else:
            # A long outage must not fill the log: one line when it starts, then one a minute.
            level = logging.DEBUG
            if now >= self._next_warning:
                level = logging.WARNING
                self._next_warning = now + 60.0
            log.log(
                level,
                "redis %s: cannot connect to %s: %s; retrying in %.1f s",
                self.name,
                self.url,
                reason,
                delay,
            )
            text = f"could not connect to Redis at {self.url}: {reason}"
        if was_up:
            self._notify(False)
        self._fail_entries(pending, RedisConnectionError(text))

    def _retry(self, gen: int) -> None:
        if gen == self._gen and self.state is LinkState.WAITING:
            self._connect()

    def _fail_entries(self, entries: deque[_Pending], error: RedisConnectionError) -> None:
        for entry in entries:
            if entry.callback is None or entry.internal:
                continue
            try:
                entry.callback(error)
            except Exception:
                log.exception("redis %s: a failed command's callback failed", self.name)

    def _notify(self, up: bool) -> None:
        for listener in list(self._listeners):
            try:
                listener(up)
            except Exception:
                log.exception("redis %s: a link listener failed", self.name)

    def close(self) -> None:
        """Close for good: pending callbacks get a ``RedisConnectionError`` now."""
        if self.state is LinkState.CLOSED:
            return
        was_up = self.state is LinkState.CONNECTED
        self._close_socket()
        self._gen += 1
        pending = self._take_pending()
        self.state = LinkState.CLOSED
        if was_up:
            log.info("redis %s: closed the connection to %s", self.name, self.url)
            self._notify(False)
        self._fail_entries(pending, RedisConnectionError(self._down_text()))


def _resolve(host: str, port: int) -> list[tuple[int, Any]] | OSError:
    """The addresses to try for ``host``; an ``OSError`` is returned, not raised (for workers)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return exc
    return [(family, sockaddr) for family, _, _, _, sockaddr in infos]


def entry_field(fields: list[bytes], name: bytes) -> bytes | None:
    """A field of a stream entry, from the flat list ``XREAD``/``XRANGE`` give."""
    for i in range(0, len(fields) - 1, 2):
        if fields[i] == name:
            return fields[i + 1]
    return None
