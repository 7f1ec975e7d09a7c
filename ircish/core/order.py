"""Local output held until the network has put the command that made it in order.

Theory of operation (``[cluster]`` only; one process alone never holds):
every node appends its commands to one Redis stream, and delivers the other
nodes' commands in the stream's order. If a node also delivered its own
commands at once, two messages said on two nodes in the same instant would
reach the two nodes' users in opposite orders. So a command that is
published opens a ``Group``: everything the pipeline writes to local clients
while it runs (the acting user's replies and echoes included, so a JOIN still
comes before its NAMES) is held there, and so is anything written later to a
client that still has held output, until the node's stream reader reaches
the command's own entry (``release``). Output for another node's command is
written at once, ahead of what is held: the reader delivers it before it
reaches any entry still held, so it is earlier in the stream.

While the link is down nothing is held (local chat goes on; the order of a
degraded network is not guaranteed), and a group is never held longer than
``HOLD_MAX`` seconds, whatever Redis does.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ircish.core.clients import Client, Sink

#: Seconds a group is held at most (a stream reader that stalls must not stall the chat).
HOLD_MAX = 2.0
#: A held ``close()`` (the client is closed when its group is released).
_CLOSE = None


class Group:
    """What one published command wrote to local clients, in order."""

    __slots__ = ("at", "items", "seq")

    def __init__(self, seq: int, at: float) -> None:
        self.seq = seq
        self.at = at
        self.items: list[tuple[HeldSink, bytes | None]] = []


class HeldSink:
    """A client's sink in front of its connection: writes go through or wait in a group."""

    __slots__ = ("client", "held", "order", "real")

    def __init__(self, order: Order, real: Sink) -> None:
        self.order = order
        self.real = real
        #: Set by ``Order.wrap``'s caller once the client exists.
        self.client: Client | None = None
        #: Items of this client waiting in groups.
        self.held = 0

    def write(self, data: bytes) -> None:
        order = self.order
        if order.group is not None or (self.held and not order.bypass):
            order.hold(self, data)
        else:
            self.real.write(data)

    @property
    def queued_bytes(self) -> int:
        """What waits in the connection (``STATS z``); held items are not counted."""
        return int(getattr(self.real, "queued_bytes", 0))

    def close(self) -> None:
        order = self.order
        if order.group is not None or (self.held and not order.bypass):
            order.hold(self, _CLOSE)
        else:
            self.real.close()


class Order:
    """The node's held groups, oldest first (see the module docstring)."""

    def __init__(
        self,
        later: Callable[[float, Callable[[], None]], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._later = later
        self._clock = clock
        self.groups: deque[Group] = deque()
        #: The group of the command being delivered now, if it is held.
        self.group: Group | None = None
        #: Another node's command is being delivered: its output goes ahead of what is held.
        self.bypass = False
        self._expiring = False
        #: Groups released by ``HOLD_MAX`` rather than by the stream (metrics, tests).
        self.expired = 0

    def wrap(self, real: Sink) -> HeldSink:
        return HeldSink(self, real)

    # -- the pipeline's side ---------------------------------------------------------

    def begin(self, seq: int) -> None:
        """The command being delivered is published as entry ``seq``: hold its output."""
        group = Group(seq, self._clock())
        self.groups.append(group)
        self.group = group
        if not self._expiring:
            self._expiring = True
            self._later(HOLD_MAX, self._expire)

    def done(self) -> None:
        """The pipeline finished a command (whichever kind)."""
        self.group = None
        self.bypass = False

    def hold(self, sink: HeldSink, data: bytes | None) -> None:
        # A client with held output but no group open: behind its newest held item.
        group = self.group if self.group is not None else self.groups[-1]
        group.items.append((sink, data))
        sink.held += 1

    # -- the stream's side ------------------------------------------------------------

    def release(self, seq: int) -> None:
        """The reader reached this node's entry ``seq``: send what it and older ones held."""
        groups = self.groups
        while groups and groups[0].seq <= seq:
            _send(groups.popleft())

    def release_all(self) -> None:
        """The link dropped (or the node stops): nothing waits any more."""
        groups = self.groups
        while groups:
            _send(groups.popleft())

    def _expire(self) -> None:
        self._expiring = False
        groups = self.groups
        deadline = self._clock() - HOLD_MAX
        while groups and groups[0].at <= deadline:
            self.expired += 1
            _send(groups.popleft())
        if groups:
            self._expiring = True
            self._later(max(groups[0].at + HOLD_MAX - self._clock(), 0.01), self._expire)


def _send(group: Group) -> None:
    for sink, data in group.items:
        sink.held -= 1
        client = sink.client
        if client is not None and client.sink is not sink:
            continue  # the connection is gone (its client got a closed sink)
        if data is _CLOSE:
            sink.real.close()
        else:
            sink.real.write(data)
