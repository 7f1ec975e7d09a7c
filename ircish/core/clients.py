"""Local connections: how a user is reached, and what that connection negotiated.

A ``Client`` is one local connection of a ``User``: its dialect and
capabilities (which decide how events are rendered for it, its
``render_key``), the sink its bytes go to, and per-connection state such as
the current room of a netcat user, CAP negotiation and MONITOR targets.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Protocol

from ircish.values import NO_NAMES

if TYPE_CHECKING:
    from ircish.core.dialect import Dialect
    from ircish.core.rooms import Room
    from ircish.core.users import User


class Sink(Protocol):
    """Where a client's rendered bytes go: a connection's output queue in the server."""

    def write(self, data: bytes) -> None:
        """Queue ``data`` for sending; must not block."""

    def close(self) -> None:
        """Close the connection once what is queued has been sent."""


_ids = itertools.count(1)


class Client:
    """One local connection of a user."""

    __slots__ = (
        "batch",
        "cap_negotiating",
        "cap_version",
        "caps",
        "claimed",
        "claiming",
        "current_room",
        "dialect",
        "echo_own",
        "id",
        "last_active",
        "monitoring",
        "password_ok",
        "quitting",
        "render_key",
        "secure",
        "sink",
        "user",
    )

    def __init__(
        self, user: User, sink: Sink, dialect: Dialect, now: float, secure: bool = False
    ) -> None:
        self.id = next(_ids)
        #: Whether the connection is encrypted (TLS, or a TLS-terminating proxy later).
        self.secure = secure
        self.user = user
        self.sink = sink
        self.quitting = False
        self.cap_negotiating = False
        self.cap_version = 0
        self.password_ok = False
        #: Cluster nickname claims (``Chat.network``): the folded nick being claimed in
        #: Redis ("" for none), and the one granted to this connection before registration.
        self.claiming = ""
        self.claimed = ""
        self.caps: frozenset[str] = NO_NAMES
        #: A netcat user's room for lines without a slash command.
        self.current_room: Room | None = None
        #: A netcat user sees their own messages (``/set echo``); IRC has echo-message.
        self.echo_own = False
        self.last_active = now
        #: Folded nicknames this connection MONITORs: a set of its own from the first one
        #: (``handlers.monitor.watch``), as few connections monitor anyone.
        self.monitoring: AbstractSet[str] = NO_NAMES
        #: An open ``draft/multiline`` batch from this client (see handlers/messaging).
        self.batch: object | None = None
        self.dialect = dialect
        self.render_key: Hashable = dialect.render_key(self)

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.user.nick!r} {self.dialect.name}>"

    def set_dialect(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.refresh_render_key()

    def set_caps(self, caps: frozenset[str]) -> None:
        self.caps = caps
        self.refresh_render_key()

    def refresh_render_key(self) -> None:
        """Call after anything the dialect's rendering depends on changes (e.g. caps)."""
        key = self.dialect.render_key(self)
        if key != self.render_key:
            self.render_key = key
            # Rooms cache their members grouped by render key.
            for room in self.user.rooms.values():
                room.forget_targets()
