"""A socket glued to a ``Session``, with a bounded, non-blocking output buffer.

Theory of operation (after asyncio's selector transport): ``write`` only
appends to a list of pending chunks and marks the connection dirty; the event
loop calls ``flush`` once per pass for every dirty connection, which sends all
pending chunks with a single ``sendmsg``. What the kernel does not take stays
queued and the socket is registered for EVENT_WRITE until it drains, so a slow
reader never blocks anyone else. If the queue passes ``sendq_limit`` bytes the
connection is marked overflowed, its queue is dropped, and the loop ends it.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING

from ircish.core.session import Session

if TYPE_CHECKING:
    from ircish.net.server import Server

log = logging.getLogger("ircish.net")

RECV_SIZE = 65536
#: Seconds a closing connection gets to take its last lines before it is cut off.
CLOSE_GRACE = 5.0
#: Linux IOV_MAX: the most buffers one sendmsg takes.
IOV_MAX = 1024


class Connection:
    """One client socket: reads feed the session, writes are queued."""

    __slots__ = (
        "addr",
        "closed",
        "closing",
        "fd",
        "ip",
        "out",
        "out_size",
        "overflowed",
        "sendq_limit",
        "server",
        "session",
        "sock",
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
        self.out: list[bytes | memoryview] = []
        self.out_size = 0
        self.sendq_limit = sendq_limit
        self.closing = False
        self.closed = False
        self.overflowed = False
        self.writing = False
        self.session: Session | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.ip}:{self.addr[1]} fd={self.fd}>"

    # -- Sink ---------------------------------------------------------------

    def write(self, data: bytes) -> None:
        # Hot path of every broadcast: the flags only need checking when the
        # queue is empty, because overflowing empties it and closing comes last.
        out = self.out
        if not out:
            if self.closing or self.overflowed:
                return
            self.server.dirty.add(self)
        out.append(data)
        self.out_size += len(data)
        if self.out_size > self.sendq_limit:
            # Drop the backlog now: holding it is exactly what the limit prevents.
            self.overflowed = True
            out.clear()
            self.out_size = 0
            self.server.doomed.append(self)

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.server.dirty.add(self)
            # A peer that stops reading must not keep a closing socket open forever.
            self.server.call_later(CLOSE_GRACE, lambda: self.server.close_connection(self))

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
        assert self.session is not None
        self.session.receive_data(data)

    def flush(self) -> None:
        """Send what is queued; keep the rest and watch for writability."""
        if self.closed:
            return
        out = self.out
        if out:
            try:
                if len(out) == 1:
                    sent = self.sock.send(out[0])
                else:
                    sent = self.sock.sendmsg(out if len(out) <= IOV_MAX else out[:IOV_MAX])
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                out.clear()
                self.out_size = 0
                self.lost(f"Write error: {exc.strerror or exc}")
                return
            if sent == self.out_size:
                out.clear()
                self.out_size = 0
            else:
                self._consume(sent)
        if out:
            if not self.writing:
                self.writing = True
                self.server.want_write(self, True)
        else:
            if self.writing:
                self.writing = False
                self.server.want_write(self, False)
            if self.closing:
                self.server.close_connection(self)

    def _consume(self, sent: int) -> None:
        self.out_size -= sent
        out = self.out
        i = 0
        while sent and i < len(out):
            size = len(out[i])
            if sent >= size:
                sent -= size
                i += 1
            else:
                out[i] = memoryview(out[i])[sent:]
                sent = 0
        if i:
            del out[:i]

    def lost(self, reason: str) -> None:
        """The peer is gone: tell the core (room-mates see a quit) and close now."""
        if self.closed:
            return
        self.closing = True
        self.out.clear()
        self.out_size = 0
        if self.session is not None:
            self.session.connection_lost(reason)
        self.server.close_connection(self, reason)
