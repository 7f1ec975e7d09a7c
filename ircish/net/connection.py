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
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING

from ircish.net.outqueue import OutputQueue

if TYPE_CHECKING:
    from ircish.net.server import Server
    from ircish.session import Session

log = logging.getLogger("ircish.net")

RECV_SIZE = 65536
#: Seconds a closing connection gets to take its last lines before it is cut off.
CLOSE_GRACE = 5.0


class Connection:
    """One client socket: reads feed the session, writes are queued."""

    __slots__ = (
        "_chunks",
        "addr",
        "closed",
        "closing",
        "events",
        "fd",
        "ip",
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
            # A peer that stops reading must not keep a closing socket open forever.
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
        """Bytes from the peer: the session's (a TLS connection decrypts them first)."""
        assert self.session is not None
        self.session.receive_data(data)

    def flush(self) -> None:
        """Send what is queued; keep the rest and watch for writability."""
        if self.closed:
            return
        out = self.out
        if out.chunks:
            try:
                self.server.metrics.bytes_sent += out.send(self.sock)
            except OSError as exc:
                self.lost(f"Write error: {exc.strerror or exc}")
                return
        if out.chunks:
            if not self.writing:
                self.server.set_interest(self, write=True)
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
