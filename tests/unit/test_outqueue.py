"""OutputQueue: bounded, copy-free output with one send or sendmsg per flush."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Iterator

import pytest

from ircish.net.outqueue import IOV_MAX, Chunk, OutputQueue

# A script step for FakeSocket: take at most this many bytes, or raise this.
Step = int | BaseException


class FakeSocket:
    """Records every send/sendmsg; each call follows the next script step.

    With no step left, a call takes everything offered.
    """

    def __init__(self, *script: Step) -> None:
        self.script = list(script)
        #: (method, the buffers exactly as passed) per call.
        self.calls: list[tuple[str, list[Chunk]]] = []
        #: Every byte the "kernel" accepted, in order.
        self.received = bytearray()

    def _take(self, method: str, buffers: list[Chunk]) -> int:
        self.calls.append((method, buffers))
        step = self.script.pop(0) if self.script else None
        if isinstance(step, BaseException):
            raise step
        offered = b"".join(bytes(b) for b in buffers)
        taken = offered if step is None else offered[:step]
        self.received += taken
        return len(taken)

    def send(self, data: Chunk) -> int:
        return self._take("send", [data])

    def sendmsg(self, buffers: Iterable[Chunk]) -> int:
        return self._take("sendmsg", list(buffers))

    @property
    def methods(self) -> list[str]:
        return [m for m, _ in self.calls]


def queue_of(*chunks: bytes, limit: int = 1 << 20) -> OutputQueue:
    q = OutputQueue(limit)
    for c in chunks:
        assert q.append(c)
    return q


def pending(q: OutputQueue) -> bytes:
    return b"".join(bytes(c) for c in q.chunks)


CHUNKS = (b"aaa", b"bbbb", b"cc")
ALL = b"".join(CHUNKS)


# -- bookkeeping ------------------------------------------------------------------


def test_new_queue_is_empty() -> None:
    q = OutputQueue(100)
    assert not q
    assert len(q) == 0
    assert q.size == 0
    assert q.limit == 100


def test_append_counts_chunks_and_bytes_and_keeps_the_objects() -> None:
    q = queue_of(*CHUNKS)
    assert q
    assert len(q) == 3
    assert q.size == len(ALL)
    assert all(a is b for a, b in zip(q.chunks, CHUNKS, strict=True))


def test_clear_drops_everything() -> None:
    q = queue_of(*CHUNKS)
    q.clear()
    assert not q
    assert q.size == 0
    assert q.append(b"again")
    assert pending(q) == b"again"


# -- the bound --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "accepted"),
    [
        ((10,), [True]),
        ((11,), [False]),
        ((4, 6), [True, True]),
        ((4, 6, 1), [True, True, False]),
        ((9, 9), [True, False]),
    ],
)
def test_bound_is_bytes_and_only_passing_it_overflows(
    sizes: tuple[int, ...], accepted: list[bool]
) -> None:
    q = OutputQueue(10)
    assert [q.append(b"x" * n) for n in sizes] == accepted


def test_overflow_drops_the_whole_backlog_and_reports_it() -> None:
    q = queue_of(b"x" * 6, b"y" * 3, limit=10)
    assert q.append(b"z" * 2) is False
    assert not q
    assert len(q) == 0
    assert q.size == 0
    # The owner decides what happens next; the queue itself keeps working.
    assert q.append(b"ok") is True
    assert pending(q) == b"ok"


def test_overflow_counts_what_a_partial_send_left() -> None:
    q = queue_of(b"x" * 8, limit=10)
    sock = FakeSocket(5)
    assert q.send(sock) == 5
    assert q.size == 3
    assert q.append(b"y" * 7) is True
    assert q.append(b"y") is False


# -- sending ----------------------------------------------------------------------


def test_empty_queue_sends_nothing() -> None:
    sock = FakeSocket()
    assert OutputQueue(10).send(sock) == 0
    assert sock.calls == []


@pytest.mark.parametrize("data", [b"x", b"hello\r\n", b"z" * 70000])
def test_one_chunk_uses_send_not_sendmsg(data: bytes) -> None:
    q = queue_of(data)
    sock = FakeSocket()
    assert q.send(sock) == len(data)
    assert sock.methods == ["send"]
    assert sock.calls[0][1][0] is data
    assert not q
    assert q.size == 0


@pytest.mark.parametrize("count", [2, 3, 50, IOV_MAX])
def test_several_chunks_go_in_one_sendmsg(count: int) -> None:
    chunks = [b"%d," % i for i in range(count)]
    q = queue_of(*chunks)
    sock = FakeSocket()
    assert q.send(sock) == sum(map(len, chunks))
    assert sock.methods == ["sendmsg"]
    assert all(a is b for a, b in zip(sock.calls[0][1], chunks, strict=True))
    assert bytes(sock.received) == b"".join(chunks)
    assert not q


@pytest.mark.parametrize("sent", range(len(ALL) + 1))
def test_partial_send_keeps_exactly_the_rest(sent: int) -> None:
    q = queue_of(*CHUNKS)
    assert q.send(FakeSocket(sent)) == sent
    assert pending(q) == ALL[sent:]
    assert q.size == len(ALL) - sent
    assert bool(q) == (sent < len(ALL))


@pytest.mark.parametrize(("sent", "left"), [(3, 2), (7, 1), (9, 0)])
def test_partial_send_on_a_chunk_boundary_keeps_the_later_chunks_as_they_are(
    sent: int, left: int
) -> None:
    q = queue_of(*CHUNKS)
    q.send(FakeSocket(sent))
    assert len(q) == left
    assert all(a is b for a, b in zip(q.chunks, CHUNKS[len(CHUNKS) - left :], strict=True))


def test_partial_send_inside_a_chunk_keeps_a_view_of_its_rest() -> None:
    big = b"0123456789"
    after = b"tail"
    q = queue_of(b"ab", big, after)
    q.send(FakeSocket(2 + 4))
    assert len(q) == 2
    head = q.chunks[0]
    assert isinstance(head, memoryview)
    assert head.obj is big  # a view of the original object, not a copy
    assert bytes(head) == b"456789"
    assert q.chunks[1] is after
    # A second partial send inside the view slices the view again.
    q.send(FakeSocket(3))
    head = q.chunks[0]
    assert isinstance(head, memoryview)
    assert head.obj is big
    assert bytes(head) == b"789"
    assert q.size == 3 + len(after)


def test_repeated_partial_sends_lose_nothing_and_keep_order() -> None:
    chunks = [bytes([65 + i % 26]) * (1 + i % 7) for i in range(200)]
    q = queue_of(*chunks)
    sock = FakeSocket(*([5, 0, 1, 13, 2, 40] * 100))
    rounds = 0
    while q:
        q.send(sock)
        if rounds % 3 == 0:  # more output arrives between flushes
            q.append(b"+%d+" % rounds)
            chunks.append(b"+%d+" % rounds)
        rounds += 1
        assert rounds < 10_000
    assert bytes(sock.received) == b"".join(chunks)
    assert q.size == 0


@pytest.mark.parametrize("count", [IOV_MAX + 1, IOV_MAX + 476, 2 * IOV_MAX + 3])
def test_more_chunks_than_iov_max_take_several_calls_of_at_most_iov_max(count: int) -> None:
    chunks = [b"%05d" % i for i in range(count)]
    q = queue_of(*chunks)
    sock = FakeSocket()
    first = q.send(sock)
    assert sock.calls[0][0] == "sendmsg"
    assert len(sock.calls[0][1]) == IOV_MAX
    assert first == 5 * IOV_MAX
    assert len(q) == count - IOV_MAX
    while q:
        q.send(sock)
        assert len(sock.calls) <= 3
    assert all(len(buffers) <= IOV_MAX for _, buffers in sock.calls)
    # The last call of a single leftover chunk is a plain send.
    assert sock.methods[-1] == ("send" if count % IOV_MAX == 1 else "sendmsg")
    assert bytes(sock.received) == b"".join(chunks)


@pytest.mark.parametrize("exc", [BlockingIOError(), InterruptedError()])
@pytest.mark.parametrize("chunks", [(b"one",), CHUNKS])
def test_would_block_counts_as_nothing_sent(exc: OSError, chunks: tuple[bytes, ...]) -> None:
    q = queue_of(*chunks)
    assert q.send(FakeSocket(exc)) == 0
    assert pending(q) == b"".join(chunks)
    assert q.size == len(pending(q))


@pytest.mark.parametrize(
    "exc", [BrokenPipeError(), ConnectionResetError(), OSError(9, "Bad file descriptor")]
)
@pytest.mark.parametrize("chunks", [(b"one",), CHUNKS])
def test_other_socket_errors_propagate_and_leave_the_queue(
    exc: OSError, chunks: tuple[bytes, ...]
) -> None:
    q = queue_of(*chunks)
    with pytest.raises(type(exc)):
        q.send(FakeSocket(exc))
    assert pending(q) == b"".join(chunks)


# -- a real socket ----------------------------------------------------------------


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


def test_a_full_kernel_buffer_leaves_a_backlog_that_drains_in_order(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    chunks = [(b"%06d:" % i) * 50 for i in range(3000)]  # ~1 MB, far more than the buffers
    q = queue_of(*chunks, limit=1 << 30)
    got = bytearray()
    first = q.send(a)
    assert 0 < first < sum(map(len, chunks))
    assert q
    for _ in range(100_000):
        if not q:
            break
        try:
            while data := b.recv(1 << 16):
                got += data
        except BlockingIOError:
            pass
        q.send(a)
    assert not q
    b.settimeout(5.0)
    while len(got) < sum(map(len, chunks)):
        got += b.recv(1 << 16)
    assert bytes(got) == b"".join(chunks)
