"""A socket glued to a ``Session``, with a bounded, non-blocking output queue.

Theory of operation (after asyncio's selector transport): ``write`` only
appends to the connection's ``OutputQueue`` and marks the connection dirty;
the event loop calls ``flush`` once per pass for every dirty connection, which
sends all pending chunks in one system call. What the kernel does not take
stays queued and the socket is registered for EVENT_WRITE until it drains, so
a slow reader never blocks anyone else. If the queue passes ``sendq_limit``
bytes the connection is marked overflowed, its queue is dropped, and the loop
ends it.

Reading can be paused per connection (``pause_reading``): the loop then stops
asking the selector about its readability, while output is still flushed.

A connection may have a ``gateway`` between its bytes and the session
(``ircish.net.web``): while an "auto" listener's connection might be a
browser, and for HTTP and WebSocket. It gets what the peer sent instead of
the session (``feed``) and turns the session's queued lines into its own
wire format on flush (``encode``); its own bytes (HTTP responses, control
frames) are queued with ``send_raw`` in order with the session's lines.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, ClassVar, Protocol

from ircish.net.outqueue import OutputQueue

if TYPE_CHECKING:
    from ircish.net.server import Server
    from ircish.session import Session

log = logging.getLogger("ircish.net")

RECV_SIZE = 65536
#: Seconds a closing connection gets to take its last lines before it is cut off.
CLOSE_GRACE = 5.0


class Gateway(Protocol):
    """What stands between a connection's bytes and its session (``ircish.net.web``)."""

    def receive(self, data: bytes) -> None:
        """Bytes from the peer (after TLS)."""
        ...

    def encode(self, out: OutputQueue) -> None:
        """Turn the session's lines in ``out`` (``bytes`` chunks) into wire bytes.

        Chunks that are ``memoryview``s are wire bytes already (``send_raw``,
        or the rest of a partial send) and stay as they are.
        """
        ...


class ClosedSink:
    """Where a closed connection's client writes: nowhere."""

    __slots__ = ()

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


CLOSED_SINK = ClosedSink()


class Connection:
    """One client socket: reads feed the session, writes are queued."""

    #: Whether the peer's bytes arrive over TLS (``TlsConnection``).
    secure: ClassVar[bool] = False

    __slots__ = (
        "_chunks",
        "addr",
        "closed",
        "closing",
        "events",
        "fd",
        "gateway",
        "ip",
        "lingering",
        "out",
        "overflowed",
        "reading",
        "server",
        "session",
        "sock",
        "timer_at",
        "writing",
    )

    def __init__(
        self, server: Server, sock: socket.socket, addr: tuple[str, int], sendq_limit: int
    ) -> None:
        self.server = server
        self.sock = sock
        self.fd = sock.fileno()
        self.addr = addr
        self.ip = addr[0]
        self.out = OutputQueue(sendq_limit)
        # The queue never replaces its list, so ``write`` can test it without
        # going through the queue (see ``write``).
        self._chunks = self.out.chunks
        self.closing = False
        self.closed = False
        #: Whether the close grace (``CLOSE_GRACE``) is counting down.
        self.lingering = False
        self.overflowed = False
        #: Whether the loop should watch for readability (``pause_reading``).
        self.reading = True
        #: Whether the loop should watch for writability (a backlog is pending).
        self.writing = False
        #: The selector events currently registered; 0 when not registered.
        self.events = 0
        self.session: Session | None = None
        #: When (monotonic) the loop next runs the session's ``check_timeouts``; 0: never.
        self.timer_at = 0.0
        #: HTTP, WebSocket, or not decided yet; None: the session gets the bytes as they are.
        self.gateway: Gateway | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.ip}:{self.addr[1]} fd={self.fd}>"

    @property
    def sendq_limit(self) -> int:
        return self.out.limit

    @property
    def has_output(self) -> bool:
        """Whether anything is still waiting to be sent."""
        return bool(self.out.chunks)

    @property
    def queued_bytes(self) -> int:
        """Output waiting to be sent (the memory report, ``STATS z``, reads it)."""
        return self.out.size

    # -- Sink ---------------------------------------------------------------

    def write(self, data: bytes) -> None:
        # Hot path of every broadcast (once per recipient), so this is
        # ``self.out.append`` inlined: a method call would cost a quarter more.
        # The flags only need checking when the queue is empty, because
        # overflowing empties it and closing comes last.
        chunks = self._chunks
        if not chunks:
            if self.closing or self.overflowed:
                return
            self.server.dirty.add(self)
        chunks.append(data)
        out = self.out
        out.size = size = out.size + len(data)
        if size > out.limit:
            # Drop the backlog now: holding it is exactly what the limit prevents.
            out.clear()
            self.overflowed = True
            self.server.doomed.append(self)

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.server.dirty.add(self)
            if self.writing:
                self.linger()

    def linger(self) -> None:
        """A closing connection has output the peer has not taken: close it anyway soon.

        A peer that stops reading must not keep a closing socket open forever. Only
        such a connection gets the timer: the usual one takes its last lines at once.
        """
        if not self.lingering:
            self.lingering = True
            self.server.call_later(CLOSE_GRACE, lambda: self.server.close_connection(self))

    # -- flow control -------------------------------------------------------

    def pause_reading(self) -> None:
        """Stop reading from the peer (it stays connected and still gets output)."""
        self.server.set_interest(self, read=False)

    def resume_reading(self) -> None:
        """Read again; whatever the peer sent meanwhile waits in the kernel."""
        self.server.set_interest(self, read=True)

    def wake_at(self, deadline: float) -> None:
        """Have the session's ``check_timeouts`` run at ``deadline`` (flood control)."""
        self.server.schedule_session(self, deadline)

    # -- driven by the loop -------------------------------------------------

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.lost(f"Read error: {exc.strerror or exc}")
            return
        if not data:
            self.lost("Connection closed")
            return
        self.server.metrics.bytes_received += len(data)
        self.received(data)

    def received(self, data: bytes) -> None:
        """Bytes from the socket (a TLS connection decrypts them first, then ``feed``)."""
        self.feed(data)

    def feed(self, data: bytes) -> None:
        """Plaintext from the peer: the gateway's if there is one, else the session's."""
        gateway = self.gateway
        if gateway is not None:
            gateway.receive(data)
            return
        assert self.session is not None
        self.session.receive_data(data)

    def stream_ready(self) -> bool:
        """Whether the peer's bytes can reach the session yet (TLS: after the handshake)."""
        return True

    def send_raw(self, data: bytes) -> None:
        """Queue wire bytes of the gateway's own, after the lines queued so far."""
        if self.closed or self.overflowed:
            return
        if not self._chunks:
            self.server.dirty.add(self)
        if not self.out.append(memoryview(data)):
            self.overflowed = True
            self.server.doomed.append(self)

    def flush(self) -> None:
        """Send what is queued; keep the rest and watch for writability."""
        if self.closed:
            return
        out = self.out
        if self.gateway is not None and out.chunks:
            self.gateway.encode(out)
        chunks = out.chunks
        if chunks:
            try:
                if len(chunks) == 1 and out.size == len(chunks[0]):
                    # OutputQueue.send inlined for one whole line (most recipients of
                    # most broadcasts): a method call here costs per recipient.
                    sent = self.sock.send(chunks[0])
                    if sent == out.size:
                        chunks.clear()
                        out.size = 0
                    elif sent:
                        out.consume(sent)
                else:
                    sent = out.send(self.sock)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self.lost(f"Write error: {exc.strerror or exc}")
                return
            self.server.metrics.bytes_sent += sent
        if chunks:
            if not self.writing:
                self.server.set_interest(self, write=True)
            if self.closing:
                self.linger()
        else:
            if self.writing:
                self.server.set_interest(self, write=False)
            if self.closing:
                self.server.close_connection(self)

    def lost(self, reason: str) -> None:
        """The peer is gone: tell the core (room-mates see a quit) and close now."""
        if self.closed:
            return
        self.closing = True
        self.out.clear()
        if self.session is not None:
            self.session.connection_lost(reason)
        self.server.close_connection(self, reason)
