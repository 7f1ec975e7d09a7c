"""Flood control for one connection: a burst, then one command per interval.

Theory of operation (after Ergo's fakelag): each connection has a bucket of
``burst`` tokens that refills at one token per ``interval`` seconds. A command
may run while the bucket holds at least one token and then takes its cost
(an expensive command, such as LIST, costs more). When the bucket is empty
the session stops handling this connection's lines and the loop stops
reading its socket until the bucket refills: excess commands are *delayed*,
never dropped, and a flooder slows down without costing anyone else. Pure
arithmetic on times given by the caller: no clock, no I/O.
"""

from __future__ import annotations


class FloodGate:
    """A token bucket: ``ready(now)``, ``charge(cost)``, ``ready_at()``."""

    __slots__ = ("burst", "interval", "tokens", "updated")

    def __init__(self, burst: int, interval: float, now: float) -> None:
        self.burst = float(burst)
        self.interval = interval
        self.tokens = float(burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) / self.interval)
            self.updated = now

    def ready(self, now: float) -> bool:
        """Whether a command may run now."""
        self._refill(now)
        return self.tokens >= 1.0

    def charge(self, cost: int) -> None:
        """A command ran: take its cost (the bucket may go into debt)."""
        self.tokens -= cost

    def ready_at(self) -> float:
        """When the next command may run (now or later)."""
        return self.updated + max(0.0, 1.0 - self.tokens) * self.interval
