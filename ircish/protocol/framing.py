"""Bounded line framing: bytes in, complete lines out.

Theory of operation: a peer's bytes arrive in arbitrary chunks. ``LineBuffer``
keeps the unfinished tail in a ``bytearray`` and remembers how far it has
already searched for a newline, so a line trickling in one byte at a time costs
O(n) rather than O(n^2). A read that ends with a whole line, the usual case, is
split where it is, with no tail kept. Lines end with LF; a CR right before it
is dropped.

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
        #: The unfinished tail; None while there is none, which is most of the time: a
        #: read usually ends with a whole line, and an idle connection then holds no buffer.
        self._buf: bytearray | None = None
        self._scanned = 0
        self._discarding = False

    def __len__(self) -> int:
        return len(self._buf) if self._buf is not None else 0

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data`` and return every line it completed, in order."""
        out: list[Frame] = []
        if self._discarding:
            nl = data.find(b"\n")
            if nl < 0:
                return out
            self._discarding = False
            data = data[nl + 1 :]
        buf = self._buf
        if buf is None:
            if data.endswith(b"\n"):
                # Whole lines, the common case: split them where they are, no copy.
                self._split(data, 0, out)
                return out
            if not data:
                return out
            buf = self._buf = bytearray()
        buf += data
        start = self._split(buf, self._scanned, out)
        if start:
            del buf[:start]
        # One trailing CR beyond the limit is allowed: it may be half of a CRLF.
        if len(buf) > self.max_line and not (len(buf) == self.max_line + 1 and buf[-1] == 0x0D):
            out.append(LINE_TOO_LONG)
            buf.clear()
            self._discarding = True
        self._scanned = len(buf)
        if not buf:
            self._buf = None
        return out

    def _split(self, buf: bytes | bytearray, scan: int, out: list[Frame]) -> int:
        """Append the lines in ``buf`` (searched from ``scan``) to ``out``.

        Returns where the unfinished tail starts.
        """
        start = 0
        find = buf.find
        limit = self.max_line
        while True:
            nl = find(b"\n", scan)
            if nl < 0:
                return start
            end = nl - 1 if nl > start and buf[nl - 1] == 0x0D else nl
            if end - start > limit:
                out.append(LINE_TOO_LONG)
            else:
                out.append(bytes(buf[start:end]))
            start = scan = nl + 1
