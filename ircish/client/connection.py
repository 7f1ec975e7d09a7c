"""The client's link to the server: asyncio streams, keepalive and reconnection.

Theory of operation: ``Connection.run()`` is one loop, and ``Backoff`` is the
state that decides its timing (kept apart so it is tested without sockets)::

    CONNECTING --ok--> REGISTERING --001--> CONNECTED
        ^  |fail                |lost          |lost (EOF, error, ping timeout)
        |  v                    v              v
        +-- WAITING (1 s, 2 s, 4 s, ... 60 s) <+
                                     /quit --> CLOSED (no reconnect)

Each received chunk goes through ``protocol.framing.LineBuffer`` and every line
to ``IrcClient.line_received``; whatever the client queued is written at once.
The link counts as stable once it has been up for ``stable_after`` seconds;
only then does the next loss start again from the shortest delay, so a server
that accepts and drops us at once is not hammered. When nothing arrives for
``ping_interval`` seconds the client sends a PING; without an answer within
``ping_timeout`` it gives up on the link and reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import time
from collections.abc import Awaitable, Callable

from ircish.client.irc import IrcClient
from ircish.client.model import Model
from ircish.protocol.framing import LINE_TOO_LONG, LineBuffer

#: Room for IRCv3 tags (8191) plus a 512-byte message.
MAX_LINE = 8191 + 512
DEFAULT_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Connector = Callable[[], Awaitable[Streams]]


class Backoff:
    """Growing delays between reconnection attempts."""

    def __init__(
        self,
        delays: tuple[float, ...] = DEFAULT_DELAYS,
        stable_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.delays = delays
        self.stable_after = stable_after
        self.clock = clock
        self.attempt = 0
        self._up_since: float | None = None

    def connected(self) -> None:
        """The link is up (registered)."""
        self._up_since = self.clock()

    def next_delay(self) -> float:
        """The link failed or was lost: how long to wait before trying again."""
        if self._up_since is not None and self.clock() - self._up_since >= self.stable_after:
            self.attempt = 0
        self._up_since = None
        delay = self.delays[min(self.attempt, len(self.delays) - 1)]
        self.attempt += 1
        return delay


def decode(raw: bytes) -> str:
    """UTF-8, falling back to Latin-1 for the old clients still out there."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class Connection:
    """Runs one ``IrcClient`` over TCP until it quits, reconnecting as needed."""

    def __init__(
        self,
        client: IrcClient,
        connector: Connector,
        *,
        backoff: Backoff | None = None,
        on_change: Callable[[], None] = lambda: None,
        connect_timeout: float = 15.0,
        ping_interval: float = 120.0,
        ping_timeout: float = 60.0,
        quit_timeout: float = 2.0,
    ) -> None:
        self.client = client
        self.connector = connector
        self.backoff = backoff or Backoff()
        self.on_change = on_change
        self.connect_timeout = connect_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.quit_timeout = quit_timeout
        self._writer: asyncio.StreamWriter | None = None
        self._wake = asyncio.Event()
        self._closing = False
        #: How many times a link was established (tests watch this).
        self.connections = 0

    @property
    def model(self) -> Model:
        return self.client.model

    def flush(self) -> None:
        """Write whatever the client queued; act on /quit and /reconnect."""
        lines = self.client.pop_outgoing()
        writer = self._writer
        if writer is not None and lines and not writer.is_closing():
            writer.write("".join(line + "\r\n" for line in lines).encode("utf-8"))
        if self.client.quitting or self.client.reconnect_requested:
            self._wake.set()

    async def run(self, first: Streams | None = None) -> None:
        """Connect, serve, reconnect; return once the user has quit."""
        streams = first
        while not self.client.quitting:
            if streams is None:
                streams = await self._connect()
                if streams is None:
                    if not await self._wait_before_retry():
                        break
                    continue
            if self.client.quitting:
                streams[1].close()
                break
            reason = await self._serve(*streams)
            streams = None
            self.client.connection_lost(reason)
            self.on_change()
            if self.client.quitting:
                break
            if self.client.fatal:
                if not await self._wait_for_user():
                    break
                continue
            if not await self._wait_before_retry():
                break
        self.model.state = "disconnected"
        self.on_change()

    async def _connect(self) -> Streams | None:
        self.model.state = "connecting"
        self.on_change()
        try:
            return await asyncio.wait_for(self.connector(), self.connect_timeout)
        except (OSError, TimeoutError) as exc:
            self.model.error(f"Cannot connect: {describe(exc)}", self.model.server)
            return None

    async def _wait_for_user(self) -> bool:
        """Retrying cannot help (a wrong password): wait for /reconnect or /quit."""
        self.model.info(
            f"Not reconnecting ({self.client.fatal}); /reconnect to try again, /quit to leave",
            self.model.server,
        )
        self.on_change()
        while not (self.client.quitting or self.client.reconnect_requested):
            self._wake.clear()
            await self._wake.wait()
        self.client.reconnect_requested = False
        self.client.fatal = None
        return not self.client.quitting

    async def _wait_before_retry(self) -> bool:
        """Sleep the backoff delay (cut short by /reconnect); False if the user quit."""
        delay = self.backoff.next_delay()
        if self.client.reconnect_requested:
            delay = 0.0
        self.client.reconnect_requested = False
        self.model.state = "reconnecting"
        self.model.retry_at = time.monotonic() + delay
        self.model.info(f"Reconnecting in {delay:g} s (/reconnect to try now)", self.model.server)
        self.on_change()
        self._wake.clear()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
        finally:
            self.model.retry_at = None
        self.client.reconnect_requested = False
        return not self.client.quitting

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        """Talk over one established link; return why it ended."""
        self.connections += 1
        self._writer = writer
        self._wake.clear()
        frames = LineBuffer(MAX_LINE)
        client = self.client
        client.connection_made()
        self.flush()
        self.on_change()
        registered_seen = False
        pinged = False
        read: asyncio.Task[bytes] | None = None
        wake: asyncio.Task[bool] | None = None
        try:
            while True:
                if read is None:
                    read = asyncio.ensure_future(reader.read(65536))
                if wake is None:
                    wake = asyncio.ensure_future(self._wake.wait())
                timeout = self.ping_timeout if pinged else self.ping_interval
                if client.quitting:
                    timeout = self.quit_timeout
                done, _ = await asyncio.wait(
                    {read, wake}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if wake in done:
                    wake = None
                    self._wake.clear()
                    if client.reconnect_requested:
                        return "reconnecting at your request"
                    continue  # quitting: wait (bounded) for the server to close
                if read not in done:
                    if client.quitting:
                        return "quit"
                    if pinged:
                        return f"no answer from the server for {self.ping_timeout:g} s"
                    pinged = True
                    client.ping("ircish")
                    self.flush()
                    continue
                data = read.result()
                read = None
                if not data:
                    return "the server closed the connection"
                pinged = False
                for frame in frames.feed(data):
                    if frame is LINE_TOO_LONG:
                        continue
                    assert isinstance(frame, bytes)
                    client.line_received(decode(frame))
                if client.registered and not registered_seen:
                    registered_seen = True
                    self.backoff.connected()
                self.flush()
                self.on_change()
        except OSError as exc:
            return describe(exc)
        finally:
            for task in (read, wake):
                if task is not None:
                    task.cancel()
            self._writer = None
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)


def describe(exc: BaseException) -> str:
    """A short human reason for a network error."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server's certificate is not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def tcp_connector(host: str, port: int, tls: ssl.SSLContext | None = None) -> Connector:
    """Connects to ``host:port``, through TLS when given a context (checked against ``host``)."""

    async def connect() -> Streams:
        if tls is None:
            return await asyncio.open_connection(host, port)
        return await asyncio.open_connection(host, port, ssl=tls, server_hostname=host)

    return connect
