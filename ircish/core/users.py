"""Users as others know them, and the nickname index.

A ``User`` is the identity other users see: nickname, username, host,
realname, modes, away state and rooms. The host is what others are shown
(a cloak of the address, ``ircish.core.cloaks``); the address itself is
``ip``, for operators, server bans and logs. How a user is reached is not here:
each local connection is a ``Client`` (``ircish.core.clients``), and a user
has zero local clients (a user of another server process, ``node`` naming it), one, or
several (one account on two devices).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ircish.core.confusables import skeleton
from ircish.core.names import fold
from ircish.values import NO_NAMES

if TYPE_CHECKING:
    from ircish.core.clients import Client
    from ircish.core.rooms import Room

_ids = itertools.count(1)
#: Distinguishes this process's uids from another process's (and a restart's).
_NODE = os.urandom(4).hex()


class User:
    """One user: identity, rooms, and the local clients that reach them."""

    __slots__ = (
        "account",
        "away",
        "clients",
        "folded",
        "host",
        "ip",
        "mask",
        "modes",
        "nick",
        "node",
        "oper",
        "real_mask",
        "realname",
        "registered",
        "rooms",
        "signon",
        "skeleton",
        "uid",
        "username",
    )

    def __init__(self, host: str, now: float, uid: str | None = None, ip: str = "") -> None:
        self.uid = uid or f"{_NODE}-{next(_ids)}"
        #: What others see (a cloak); ``ip`` is the real address (the host when not given).
        self.host = host
        self.ip = ip or host
        self.nick = "*"
        #: The ``[[operators]]`` name this user OPERed as ("" for none); meaningful with mode +o.
        self.oper = ""
        self.folded = ""
        #: The look-alike key of the nick (``ircish.core.confusables``), set with it.
        self.skeleton = ""
        self.username = ""
        self.realname = ""
        self.mask = "*"
        #: The mask with the real address: what server bans, room bans and operator
        #: host masks are matched against besides ``mask``.
        self.real_mask = "*"
        self.account = ""
        self.registered = False
        #: User mode letters: "i" invisible, "o" operator, "w" wallops, "B" bot. Frozen and
        #: replaced on change (``state.change_user_modes``): most users never have one, and
        #: an empty set would cost 216 bytes each.
        self.modes: frozenset[str] = NO_NAMES
        self.away: str | None = None
        #: Folded room name -> room, in joining order.
        self.rooms: dict[str, Room] = {}
        self.signon = now
        self.clients: list[Client] = []
        #: The cluster node (``[cluster]``) this user is connected to; "" for this process.
        self.node = ""

    def __repr__(self) -> str:
        return f"<User {self.uid} {self.nick!r}>"

    def set_nick(self, nick: str) -> None:
        self.nick = nick
        self.folded = fold(nick)
        key = skeleton(nick)
        # Most nicknames' skeleton is their folded form: one string for both.
        self.skeleton = self.folded if key == self.folded else key
        self.update_mask()

    def update_mask(self) -> None:
        prefix = f"{self.nick}!{self.username or '~u'}@"
        self.mask = prefix + self.host
        self.real_mask = self.mask if self.ip == self.host else prefix + self.ip

    def peers(self) -> set[User]:
        """Everyone who shares at least one room with this user, excluding them."""
        out: set[User] = set()
        for room in self.rooms.values():
            out.update(room.members)
        out.discard(self)
        return out

    def room_keys(self) -> tuple[str, ...]:
        """The folded names of this user's rooms (for a ``ToPeers`` audience)."""
        return tuple(self.rooms)

    def last_active(self) -> float:
        """When a local client of this user last sent a command."""
        return max((c.last_active for c in self.clients), default=self.signon)


class UserRegistry:
    """Registered users by case-folded nickname, by nickname skeleton and by uid.

    The skeleton index is how look-alike nicknames are refused: it changes only
    with the nick index (``add``, ``rename``, ``remove``), so no lookup per
    message computes a skeleton. A skeleton has one holder, unless users arrive
    that NICK did not vet (from another server process): then several.
    """

    __slots__ = ("_by_nick", "_by_skeleton", "_by_uid")

    def __init__(self) -> None:
        self._by_nick: dict[str, User] = {}
        #: Skeleton -> its holder, or a list of them when there are several (rare: a
        #: list per user would cost 90 bytes each).
        self._by_skeleton: dict[str, User | list[User]] = {}
        self._by_uid: dict[str, User] = {}

    def __len__(self) -> int:
        return len(self._by_nick)

    def __iter__(self) -> Iterator[User]:
        return iter(list(self._by_nick.values()))

    def get(self, nick: str) -> User | None:
        return self._by_nick.get(fold(nick))

    def by_uid(self, uid: str) -> User | None:
        return self._by_uid.get(uid)

    def taken(self, nick: str, by: User | None = None) -> bool:
        """Whether ``nick`` belongs to someone other than ``by``."""
        other = self._by_nick.get(fold(nick))
        return other is not None and other is not by

    def lookalike(self, nick: str, by: User | None = None) -> User | None:
        """Someone other than ``by`` whose nickname looks like ``nick`` (same skeleton)."""
        holders = self._by_skeleton.get(skeleton(nick))
        if holders is None or isinstance(holders, User):
            return holders if holders is not by else None
        return next((other for other in holders if other is not by), None)

    def add(self, user: User) -> None:
        self._by_nick[user.folded] = user
        self._claim_skeleton(user)
        self._by_uid[user.uid] = user

    def rename(self, user: User, new_nick: str) -> None:
        self._forget_names(user)
        user.set_nick(new_nick)
        self._by_nick[user.folded] = user
        self._claim_skeleton(user)

    def remove(self, user: User) -> None:
        self._forget_names(user)
        self._by_uid.pop(user.uid, None)

    def _claim_skeleton(self, user: User) -> None:
        holders = self._by_skeleton.setdefault(user.skeleton, user)
        if holders is user:
            return
        if isinstance(holders, User):
            self._by_skeleton[user.skeleton] = [holders, user]
        elif user not in holders:
            holders.append(user)

    def _forget_names(self, user: User) -> None:
        if self._by_nick.get(user.folded) is user:
            del self._by_nick[user.folded]
        holders = self._by_skeleton.get(user.skeleton)
        if holders is user:
            del self._by_skeleton[user.skeleton]
        elif isinstance(holders, list) and user in holders:
            holders.remove(user)
            if len(holders) == 1:
                self._by_skeleton[user.skeleton] = holders[0]
