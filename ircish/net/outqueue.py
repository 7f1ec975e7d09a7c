"""A bounded queue of outgoing chunks, sent without copying.

Theory of operation (after asyncio's selector transport write path): writers
only ``append`` chunks (usually the very ``bytes`` object a broadcast rendered
once for every recipient) and count their size; nothing is joined. ``send``
hands every pending chunk to the kernel in one call: ``sock.send`` for a
single chunk, ``sock.sendmsg`` (scatter/gather, at most ``IOV_MAX`` buffers)
for several. Whatever the kernel did not take stays queued: whole chunks are
dropped from the front and a chunk sent in part is replaced by a
``memoryview`` slice of its rest, so a partial send never copies the backlog.
The owner keeps the socket registered for writability while the queue is not
empty and calls ``send`` again when it is writable.

The queue is bounded in bytes: an ``append`` that takes it past ``limit``
drops the whole backlog and returns False. Holding more than the limit for a
peer that does not read is exactly what the bound prevents, and the owner is
expected to disconnect that peer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

#: The most buffers one ``sendmsg`` takes (Linux IOV_MAX).
IOV_MAX = 1024

#: A pending piece of output: ``bytes``, or a byte ``memoryview`` of the rest of one.
Chunk = bytes | memoryview


class Sendable(Protocol):
    """What ``send`` needs of a socket (``socket.socket`` has it)."""

    def send(self, data: ReadableBuffer, /) -> int: ...

    def sendmsg(self, buffers: Iterable[ReadableBuffer], /) -> int: ...


class OutputQueue:
    """Pending output for one socket: chunks in order and their total size in bytes.

    ``chunks`` is public for cheap emptiness checks on hot paths (``if not
    queue.chunks``); change it only through the methods. ``len(queue)`` is the
    number of pending chunks, ``queue.size`` the number of pending bytes.
    """

    __slots__ = ("chunks", "limit", "size")

    def __init__(self, limit: int) -> None:
        #: Pending chunks, oldest first.
        self.chunks: list[Chunk] = []
        #: Bytes pending in ``chunks``.
        self.size = 0
        #: The most bytes the queue may hold.
        self.limit = limit

    def __repr__(self) -> str:
        return f"<OutputQueue {len(self.chunks)} chunks, {self.size}/{self.limit} bytes>"

    def __len__(self) -> int:
        return len(self.chunks)

    def __bool__(self) -> bool:
        return bool(self.chunks)

    def append(self, data: Chunk) -> bool:
        """Queue ``data``; if that passes the limit, drop everything and return False."""
        self.chunks.append(data)
        self.size += len(data)
        if self.size > self.limit:
            self.clear()
            return False
        return True

    def clear(self) -> None:
        """Drop everything pending."""
        self.chunks.clear()
        self.size = 0

    def send(self, sock: Sendable) -> int:
        """Send what the kernel takes now, in one system call; return the bytes sent.

        A socket that would block counts as 0 sent. Any other ``OSError``
        propagates and leaves the queue as it was; the caller decides whether
        the connection is lost.
        """
        chunks = self.chunks
        if not chunks:
            return 0
        try:
            if len(chunks) == 1:
                sent = sock.send(chunks[0])
            else:
                sent = sock.sendmsg(chunks if len(chunks) <= IOV_MAX else chunks[:IOV_MAX])
        except (BlockingIOError, InterruptedError):
            return 0
        if sent >= self.size:
            chunks.clear()  # clear() inlined: this runs once per recipient of a broadcast
            self.size = 0
        elif sent:
            self.consume(sent)
        return sent

    def consume(self, sent: int) -> None:
        """Forget the first ``sent`` bytes (fewer than ``size``)."""
        self.size -= sent
        chunks = self.chunks
        i = 0
        while sent:
            size = len(chunks[i])
            if sent >= size:
                sent -= size
                i += 1
            else:
                chunks[i] = memoryview(chunks[i])[sent:]
                sent = 0
        if i:
            del chunks[:i]
