"""Users and the nickname index."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from ircish.core.names import fold

if TYPE_CHECKING:
    from ircish.core.dialect import Dialect
    from ircish.core.rooms import Room


class Sink(Protocol):
    """Where a user's rendered bytes go: a connection's output buffer in the server."""

    def write(self, data: bytes) -> None:
        """Queue ``data`` for sending; must not block."""

    def close(self) -> None:
        """Close the connection once what is queued has been sent."""


_ids = itertools.count(1)


class User:
    """One connected user: identity, rooms, and how to reach them."""

    __slots__ = (
        "away",
        "cap_negotiating",
        "caps",
        "current_room",
        "dialect",
        "folded",
        "host",
        "id",
        "last_active",
        "mask",
        "modes",
        "nick",
        "password_ok",
        "quitting",
        "realname",
        "registered",
        "render_key",
        "rooms",
        "signon",
        "sink",
        "username",
    )

    def __init__(self, sink: Sink, host: str, dialect: Dialect, now: float | None = None) -> None:
        self.id = next(_ids)
        self.sink = sink
        self.host = host
        self.nick = "*"
        self.folded = ""
        self.username = ""
        self.realname = ""
        self.mask = "*"
        self.registered = False
        self.quitting = False
        self.cap_negotiating = False
        self.password_ok = False
        self.caps: frozenset[str] = frozenset()
        self.modes: set[str] = set()
        self.away: str | None = None
        self.rooms: dict[str, Room] = {}
        self.current_room: Room | None = None
        self.signon: float = time.time() if now is None else now
        self.last_active: float = self.signon
        self.dialect = dialect
        self.render_key: object = dialect.render_key(self)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.nick!r}>"

    def set_nick(self, nick: str) -> None:
        self.nick = nick
        self.folded = fold(nick)
        self.update_mask()

    def update_mask(self) -> None:
        self.mask = f"{self.nick}!{self.username or '~u'}@{self.host}"

    def set_dialect(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.refresh_render_key()

    def refresh_render_key(self) -> None:
        """Call after anything the dialect's rendering depends on changes (e.g. caps)."""
        self.render_key = self.dialect.render_key(self)

    def peers(self) -> set[User]:
        """Everyone who shares at least one room with this user, excluding them."""
        out: set[User] = set()
        for room in self.rooms.values():
            out.update(room.members)
        out.discard(self)
        return out


class UserRegistry:
    """Registered users by case-folded nickname."""

    __slots__ = ("_by_nick",)

    def __init__(self) -> None:
        self._by_nick: dict[str, User] = {}

    def __len__(self) -> int:
        return len(self._by_nick)

    def __iter__(self) -> Iterator[User]:
        return iter(list(self._by_nick.values()))

    def get(self, nick: str) -> User | None:
        return self._by_nick.get(fold(nick))

    def taken(self, nick: str, by: User | None = None) -> bool:
        """Whether ``nick`` belongs to someone other than ``by``."""
        other = self._by_nick.get(fold(nick))
        return other is not None and other is not by

    def add(self, user: User) -> None:
        self._by_nick[user.folded] = user

    def rename(self, user: User, new_nick: str) -> None:
        self._by_nick.pop(user.folded, None)
        user.set_nick(new_nick)
        self._by_nick[user.folded] = user

    def remove(self, user: User) -> None:
        if self._by_nick.get(user.folded) is user:
            del self._by_nick[user.folded]
