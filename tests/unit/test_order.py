"""``ircish.core.order``: local output held until the stream reaches its entry."""

from __future__ import annotations

from collections.abc import Callable

from ircish.core.order import HOLD_MAX, HeldSink, Order


class Sink:
    def __init__(self) -> None:
        self.got: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.got.append(data)

    def close(self) -> None:
        self.closed = True


class Timers:
    def __init__(self) -> None:
        self.now = 100.0
        self.due: list[tuple[float, Callable[[], None]]] = []

    def later(self, delay: float, callback: Callable[[], None]) -> None:
        self.due.append((self.now + delay, callback))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        ready = [d for d in self.due if d[0] <= self.now]
        self.due = [d for d in self.due if d[0] > self.now]
        for _, callback in ready:
            callback()


def _setup() -> tuple[Order, Timers, dict[str, tuple[HeldSink, Sink]]]:
    timers = Timers()
    order = Order(timers.later, clock=lambda: timers.now)
    sinks = {}
    for name in ("alice", "bob"):
        real = Sink()
        sinks[name] = (order.wrap(real), real)
    return order, timers, sinks


def test_nothing_is_held_without_a_group() -> None:
    _, _, sinks = _setup()
    held, real = sinks["alice"]
    held.write(b"a")
    assert real.got == [b"a"]


def test_a_commands_output_waits_for_its_entry_and_later_output_queues_behind() -> None:
    order, _, sinks = _setup()
    (alice, alice_real), (bob, bob_real) = sinks["alice"], sinks["bob"]
    order.begin(1)
    alice.write(b"JOIN")
    bob.write(b"JOIN")
    alice.write(b"353")
    order.done()
    # alice's next reply (a command that published nothing) comes after what waits.
    alice.write(b"WHO")
    # Another node's entry, earlier in the stream, goes ahead of what waits.
    order.bypass = True
    bob.write(b"remote")
    order.done()
    assert alice_real.got == [] and bob_real.got == [b"remote"]
    order.release(1)
    assert alice_real.got == [b"JOIN", b"353", b"WHO"]
    assert bob_real.got == [b"remote", b"JOIN"]
    # Nothing held any more: straight through.
    bob.write(b"after")
    assert bob_real.got[-1] == b"after"


def test_release_takes_older_groups_too_and_a_close_waits_in_line() -> None:
    order, _, sinks = _setup()
    alice, real = sinks["alice"]
    order.begin(1)
    alice.write(b"one")
    order.done()
    order.begin(2)
    alice.write(b"ERROR")
    alice.close()
    order.done()
    order.release(2)  # entry 1 was dropped on the way: 2 covers it
    assert real.got == [b"one", b"ERROR"] and real.closed
    order.release(2)  # a repeated entry changes nothing
    assert real.got == [b"one", b"ERROR"]


def test_a_group_never_waits_longer_than_hold_max() -> None:
    order, timers, sinks = _setup()
    alice, real = sinks["alice"]
    order.begin(1)
    alice.write(b"x")
    order.done()
    timers.advance(HOLD_MAX / 2)
    order.begin(2)
    alice.write(b"y")
    order.done()
    timers.advance(HOLD_MAX / 2)
    assert real.got == [b"x"] and order.expired == 1
    timers.advance(HOLD_MAX / 2)
    assert real.got == [b"x", b"y"] and order.expired == 2


def test_release_all_and_a_gone_connection() -> None:
    order, _, sinks = _setup()
    (alice, alice_real), (bob, bob_real) = sinks["alice"], sinks["bob"]

    class Gone:
        sink: object = None

    bob.client = Gone()  # type: ignore[assignment]  # its sink is no longer ``bob``
    order.begin(1)
    alice.write(b"a")
    bob.write(b"b")
    order.done()
    order.release_all()
    assert alice_real.got == [b"a"] and bob_real.got == []
    assert not order.groups and alice.held == 0 and bob.held == 0
