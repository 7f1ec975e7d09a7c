"""Bounded line framing: bytes in, complete lines out.

Theory of operation: a peer's bytes arrive in arbitrary chunks. ``LineBuffer``
keeps the unfinished tail in a ``bytearray`` and remembers how far it has
already searched for a newline, so a line trickling in one byte at a time costs
O(n) rather than O(n^2). Lines end with LF; a CR right before it is dropped.

Memory is bounded: once the unfinished tail passes ``max_line`` bytes the buffer
yields ``LINE_TOO_LONG`` once, throws the tail away and discards everything up
to the next LF. The connection lives on; only that line is lost.
"""

from __future__ import annotations

from typing import Final


class TooLong:
    """Sentinel type yielded in place of a line that exceeded the limit."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "LINE_TOO_LONG"


LINE_TOO_LONG: Final = TooLong()

Frame = bytes | TooLong


class LineBuffer:
    """Split a byte stream into lines of at most ``max_line`` bytes."""

    __slots__ = ("_buf", "_discarding", "_scanned", "max_line")

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._scanned = 0
        self._discarding = False

    def __len__(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data`` and return every line it completed, in order."""
        out: list[Frame] = []
        buf = self._buf
        if self._discarding:
            nl = data.find(b"\n")
            if nl < 0:
                return out
            self._discarding = False
            data = data[nl + 1 :]
        buf += data
        start = 0
        find = buf.find
        scan = self._scanned
        while True:
            nl = find(b"\n", scan)
            if nl < 0:
                break
            end = nl - 1 if nl > start and buf[nl - 1] == 0x0D else nl
            if end - start > self.max_line:
                out.append(LINE_TOO_LONG)
            else:
                out.append(bytes(buf[start:end]))
            start = scan = nl + 1
        if start:
            del buf[:start]
        # One trailing CR beyond the limit is allowed: it may be half of a CRLF.
        if len(buf) > self.max_line and not (len(buf) == self.max_line + 1 and buf[-1] == 0x0D):
            out.append(LINE_TOO_LONG)
            buf.clear()
            self._discarding = True
        self._scanned = len(buf)
        return out
