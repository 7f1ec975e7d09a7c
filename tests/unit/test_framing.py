"""LineBuffer: bounded line framing, table-driven over chunkings."""

from __future__ import annotations

import pytest

from ircish.protocol.framing import LINE_TOO_LONG, Frame, LineBuffer

MAX = 16
TOO_LONG = LINE_TOO_LONG


def feed_all(chunks: list[bytes], max_line: int = MAX) -> list[Frame]:
    """Feed ``chunks`` one after another; return every frame produced."""
    buf = LineBuffer(max_line)
    out: list[Frame] = []
    for chunk in chunks:
        out.extend(buf.feed(chunk))
    return out


def byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# (id, chunks, expected frames)
CASES: list[tuple[str, list[bytes], list[Frame]]] = [
    ("lf", [b"hello\n"], [b"hello"]),
    ("crlf", [b"hello\r\n"], [b"hello"]),
    ("crlf-split-after-cr", [b"ab\r", b"\n"], [b"ab"]),
    ("crlf-split-before-cr", [b"ab", b"\r\n"], [b"ab"]),
    ("many-lines-one-chunk", [b"a\nbb\r\nccc\n"], [b"a", b"bb", b"ccc"]),
    ("mixed-endings", [b"one\r\ntwo\nthree\r\n"], [b"one", b"two", b"three"]),
    ("empty-lf", [b"\n"], [b""]),
    ("empty-crlf", [b"\r\n"], [b""]),
    ("empty-lines-between", [b"a\n\n\r\nb\n"], [b"a", b"", b"", b"b"]),
    ("no-newline-yet", [b"partial"], []),
    ("completed-later", [b"par", b"tial", b"\n"], [b"partial"]),
    ("bare-cr-inside", [b"a\rb\n"], [b"a\rb"]),
    ("bare-cr-at-start", [b"\rab\n"], [b"\rab"]),
    # Only the one CR right before LF belongs to the line ending.
    ("double-cr", [b"a\r\r\n"], [b"a\r"]),
    ("lone-cr-is-no-terminator", [b"a\rb\r", b"c\n"], [b"a\rb\rc"]),
    ("utf8-passthrough", ["Вася: да\r\n".encode()], ["Вася: да".encode()]),
    ("exactly-max", [b"x" * MAX + b"\n"], [b"x" * MAX]),
    ("exactly-max-crlf", [b"x" * MAX + b"\r\n"], [b"x" * MAX]),
    ("exactly-max-cr-then-lf", [b"x" * MAX + b"\r", b"\n"], [b"x" * MAX]),
    ("max-plus-one", [b"x" * (MAX + 1) + b"\nnext\n"], [TOO_LONG, b"next"]),
    ("max-plus-one-crlf", [b"x" * (MAX + 1) + b"\r\nnext\r\n"], [TOO_LONG, b"next"]),
    (
        "max-plus-one-tail-then-newline",
        [b"x" * (MAX + 1), b"\nnext\n"],
        [TOO_LONG, b"next"],
    ),
    # The allowed extra CR is only a CR if an LF follows: a second CR makes it too long.
    ("max-cr-cr", [b"x" * MAX + b"\r", b"\r\n", b"ok\n"], [TOO_LONG, b"ok"]),
    ("max-cr-then-text", [b"x" * MAX + b"\r", b"y\n", b"ok\n"], [TOO_LONG, b"ok"]),
    (
        "good-too-long-good",
        [b"before\n" + b"y" * (MAX * 3) + b"\nafter\n"],
        [b"before", TOO_LONG, b"after"],
    ),
    (
        "discard-across-feeds",
        [b"a" * (MAX + 5), b"b" * 7, b"c" * 100, b"d\r", b"\nok\n"],
        [TOO_LONG, b"ok"],
    ),
    (
        "discard-ends-mid-chunk",
        [b"z" * (MAX * 2), b"zz\nfirst\nsecond\n"],
        [TOO_LONG, b"first", b"second"],
    ),
    ("two-too-long-lines", [b"a" * 40 + b"\n" + b"b" * 40 + b"\n"], [TOO_LONG, TOO_LONG]),
    (
        "two-too-long-lines-split",
        [b"a" * 40, b"\n", b"b" * 40, b"\nend\n"],
        [TOO_LONG, TOO_LONG, b"end"],
    ),
]


@pytest.mark.parametrize(("chunks", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_frames(chunks: list[bytes], expected: list[Frame]) -> None:
    assert feed_all(chunks) == expected


@pytest.mark.parametrize(("chunks", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_byte_at_a_time_equals_one_chunk(chunks: list[bytes], expected: list[Frame]) -> None:
    data = b"".join(chunks)
    assert feed_all([data]) == expected
    assert feed_all(byte_at_a_time(data)) == expected


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 17, 64])
def test_any_chunk_size_gives_the_same_frames(size: int) -> None:
    data = b"".join(b"".join(c[1]) for c in CASES)
    expected = feed_all([data])
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    assert feed_all(chunks) == expected


def test_too_long_is_reported_once_per_line() -> None:
    buf = LineBuffer(MAX)
    frames: list[Frame] = []
    for _ in range(50):
        frames += buf.feed(b"q" * 10)
    frames += buf.feed(b"\r\nfine\r\n")
    assert frames == [TOO_LONG, b"fine"]


@pytest.mark.parametrize("chunk", [1, 100, 1000, 4096, 100_000])
def test_100kb_line_never_buffers_more_than_the_limit(chunk: int) -> None:
    max_line = 512
    buf = LineBuffer(max_line)
    line = b"A" * 100_000
    frames: list[Frame] = []
    for i in range(0, len(line), chunk):
        frames += buf.feed(line[i : i + chunk])
        # One byte more than the limit is allowed only while it may be half a CRLF.
        assert len(buf) <= max_line + 1
    frames += buf.feed(b"\r\nafter\r\n")
    assert frames == [TOO_LONG, b"after"]
    assert len(buf) == 0


def test_buffer_holds_only_the_unfinished_tail() -> None:
    buf = LineBuffer(MAX)
    assert buf.feed(b"one\ntw") == [b"one"]
    assert len(buf) == 2
    assert buf.feed(b"o\n") == [b"two"]
    assert len(buf) == 0


def test_discard_mode_swallows_everything_until_newline() -> None:
    buf = LineBuffer(MAX)
    assert buf.feed(b"x" * (MAX + 1)) == [TOO_LONG]
    # Still inside the overlong line: nothing comes out, nothing is kept.
    for piece in (b"more", b"\r", b"even more" * 10, b"\r\r"):
        assert buf.feed(piece) == []
        assert len(buf) == 0
    assert buf.feed(b"\n") == []
    assert buf.feed(b"next\n") == [b"next"]


def test_max_line_can_be_changed_between_feeds() -> None:
    # The session raises or lowers the limit once it knows the dialect.
    buf = LineBuffer(MAX)
    assert buf.feed(b"short\n") == [b"short"]
    buf.max_line = 4
    assert buf.feed(b"12345\n1234\n") == [TOO_LONG, b"1234"]


def test_sentinel_repr() -> None:
    assert repr(LINE_TOO_LONG) == "LINE_TOO_LONG"
