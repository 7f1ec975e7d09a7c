"""Rooms (IRC channels) and the room index."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any

from ircish.core.events import ToRoom
from ircish.core.names import fold, mask_matches

if TYPE_CHECKING:
    from ircish.core.clients import Client
    from ircish.core.users import User

#: Member status prefixes, highest first (ISUPPORT ``PREFIX=(ov)@+``).
PREFIXES = (("o", "@"), ("v", "+"))
#: Status letters in rank order, lowest first.
STATUS_RANK = "vo"
#: Modes with a parameter per MODE line (ISUPPORT ``MODES``): honoured from a client,
#: and the most the server puts in one line of its own.
MAX_PARAM_MODES = 4


class ListEntry:
    """One entry of a ban, exception or invite-exception list."""

    __slots__ = ("mask", "set_at", "set_by")

    def __init__(self, mask: str, set_by: str, set_at: float) -> None:
        self.mask = mask
        self.set_by = set_by
        self.set_at = set_at


class Room:
    """A room: members with their status, topic, modes and mask lists.

    Members change only through ``add_member``/``remove_member``, which keep
    the delivery cache (``targets``) honest.
    """

    __slots__ = (
        "_targets",
        "audience",
        "created",
        "folded",
        "key",
        "limit",
        "lists",
        "members",
        "modes",
        "name",
        "server_owned",
        "topic",
        "topic_by",
        "topic_time",
    )

    def __init__(self, name: str, now: float) -> None:
        self.name = name
        self.folded = fold(name)
        #: Member -> status letters ("o", "v", "ov" or "").
        self.members: dict[User, str] = {}
        self.topic = ""
        #: ``nick!user@host`` of whoever set the topic.
        self.topic_by = ""
        self.topic_time = 0.0
        self.created = now
        #: The default room (``server.default_room``): nobody is its operator by joining
        #: first, server operators act as its operators, and it stays when empty.
        self.server_owned = False
        #: Flag modes without arguments: "t", "n", "i", "m", "s".
        self.modes: set[str] = {"t", "n"}
        self.key = ""
        self.limit = 0
        #: Mask lists by mode letter: "b" bans, "e" ban exceptions, "I" invite exceptions.
        self.lists: dict[str, dict[str, ListEntry]] = {"b": {}, "e": {}, "I": {}}
        self._targets: dict[Hashable, list[Client]] | None = None
        #: The audience of the whole room, made once: every room message uses it.
        self.audience = ToRoom(self.folded)

    def __repr__(self) -> str:
        return f"<Room {self.name!r} {len(self.members)} members>"

    # -- membership ---------------------------------------------------------

    def add_member(self, user: User, status: str = "") -> None:
        self.members[user] = status
        user.rooms[self.folded] = self
        self._targets = None

    def remove_member(self, user: User) -> None:
        self.members.pop(user, None)
        user.rooms.pop(self.folded, None)
        self._targets = None

    def forget_targets(self) -> None:
        """A member's clients or render keys changed."""
        self._targets = None

    def targets(self) -> dict[Hashable, list[Client]]:
        """The members' local clients grouped by render key (cached until membership changes).

        A broadcast renders once per key and appends the same bytes to each
        client of the group: the inner loop does nothing else.
        """
        targets = self._targets
        if targets is None:
            targets = {}
            for member in self.members:
                for client in member.clients:
                    group = targets.get(client.render_key)
                    if group is None:
                        targets[client.render_key] = [client]
                    else:
                        group.append(client)
            self._targets = targets
        return targets

    # -- mask lists -----------------------------------------------------------

    def _listed(self, letter: str, user: User) -> bool:
        # The shown (cloaked) mask, and the real one: operators may ban by either.
        entries = self.lists[letter].values()
        if any(mask_matches(e.mask, user.mask) for e in entries):
            return True
        return user.real_mask is not user.mask and any(
            mask_matches(e.mask, user.real_mask) for e in entries
        )

    def is_banned(self, user: User) -> bool:
        """Matched by a ban (+b) and by no exception (+e)."""
        if not self.lists["b"]:
            return False
        return self._listed("b", user) and not self._listed("e", user)

    def invite_excepted(self, user: User) -> bool:
        """Matched by an invite exception (+I): may join past +i."""
        return self._listed("I", user)

    # -- status -------------------------------------------------------------

    def is_op(self, user: User) -> bool:
        return "o" in self.members.get(user, "")

    def may_operate(self, user: User) -> bool:
        """Whether ``user`` may do what a room operator does (topic under +t, modes, kicks).

        Room operators may; in the server's own room, so may server operators.
        """
        return "o" in self.members.get(user, "") or (self.server_owned and "o" in user.modes)

    def has_status(self, user: User, least: str) -> bool:
        """Whether ``user`` holds status ``least`` (``"v"`` or ``"o"``) or higher."""
        floor = STATUS_RANK.index(least)
        return any(STATUS_RANK.index(s) >= floor for s in self.members.get(user, ""))

    def prefix_of(self, user: User, multi: bool = False) -> str:
        """The status prefix shown before a member's nick (all of them with ``multi``)."""
        status = self.members.get(user, "")
        out = ""
        for letter, symbol in PREFIXES:
            if letter in status:
                if not multi:
                    return symbol
                out += symbol
        return out

    def mode_string(self, show_key: bool) -> tuple[str, ...]:
        """``+ntk key`` style, as for RPL_CHANNELMODEIS."""
        letters = "".join(sorted(self.modes))
        args: list[str] = []
        if self.key:
            letters += "k"
            args.append(self.key if show_key else "*")
        if self.limit:
            letters += "l"
            args.append(str(self.limit))
        return ("+" + letters, *args)


class Invitation:
    """One pending invitation past +i: who may join which room, until when, thanks to whom."""

    __slots__ = ("expires", "invitee", "inviter", "room")

    def __init__(self, room: str, invitee: str, inviter: str, expires: float) -> None:
        self.room = room
        self.invitee = invitee
        self.inviter = inviter
        self.expires = expires


class Invitations:
    """Pending invitations, bounded: they expire, and rooms and inviters hold a few each.

    Keys are folded room names and uids, not nicknames: an invitation must not
    pass to the next user of a nick. One invitation is indexed four ways, so
    that every bound costs O(1) per change: all of them oldest first (which is
    also soonest to expire, so ``sweep`` pops only what expired), per room and
    per inviter oldest first (their caps drop the oldest), and per invitee
    (whose invitations go when they quit). An invitation ends when it is used
    (the invitee joins), when the invitee leaves the room or the network,
    when it expires, when a cap pushes it out, or with its room.
    """

    __slots__ = ("_all", "_by_invitee", "_by_inviter", "_by_room")

    def __init__(self) -> None:
        self._all: OrderedDict[tuple[str, str], Invitation] = OrderedDict()
        self._by_room: dict[str, dict[str, Invitation]] = {}
        self._by_inviter: dict[str, dict[tuple[str, str], Invitation]] = {}
        self._by_invitee: dict[str, dict[str, Invitation]] = {}

    def __len__(self) -> int:
        return len(self._all)

    def add(
        self,
        room: str,
        invitee: str,
        inviter: str,
        expires: float,
        *,
        per_room: int,
        per_inviter: int,
    ) -> None:
        """Invite ``invitee`` to ``room`` until ``expires``; past a cap, the oldest goes."""
        self.discard(room, invitee)
        inv = Invitation(room, invitee, inviter, expires)
        key = (room, invitee)
        self._all[key] = inv
        in_room = self._by_room.setdefault(room, {})
        in_room[invitee] = inv
        by_inviter = self._by_inviter.setdefault(inviter, {})
        by_inviter[key] = inv
        self._by_invitee.setdefault(invitee, {})[room] = inv
        while len(in_room) > per_room:
            self._remove(next(iter(in_room.values())))
        while len(by_inviter) > per_inviter:
            self._remove(next(iter(by_inviter.values())))

    def valid(self, room: str, invitee: str, now: float) -> bool:
        """Whether ``invitee`` holds an invitation to ``room`` that has not expired."""
        inv = self._all.get((room, invitee))
        return inv is not None and inv.expires > now

    def discard(self, room: str, invitee: str) -> None:
        """The invitation is used or void (the invitee joined or left the room)."""
        inv = self._all.get((room, invitee))
        if inv is not None:
            self._remove(inv)

    def forget_user(self, uid: str) -> None:
        """The user left the network: their invitations are void (those they made stand)."""
        for inv in list(self._by_invitee.get(uid, {}).values()):
            self._remove(inv)

    def forget_room(self, room: str) -> None:
        """The room is gone, and with it every invitation to it."""
        for inv in list(self._by_room.get(room, {}).values()):
            self._remove(inv)

    def in_room(self, room: str) -> int:
        """Pending invitations to one room (expired ones included until swept)."""
        return len(self._by_room.get(room, ()))

    def sweep(self, now: float) -> int:
        """Forget expired invitations; return how many went.

        The oldest come first, and they expire first (while the expiry time
        stays the same), so this stops at the first one still valid.
        """
        swept = 0
        everything = self._all
        while everything:
            # An OrderedDict: its first item is found in O(1) however many went before.
            inv = next(iter(everything.values()))
            if inv.expires > now:
                break
            self._remove(inv)
            swept += 1
        return swept

    def _remove(self, inv: Invitation) -> None:
        key = (inv.room, inv.invitee)
        del self._all[key]
        _pop(self._by_room, inv.room, inv.invitee)
        _pop(self._by_inviter, inv.inviter, key)
        _pop(self._by_invitee, inv.invitee, inv.room)


def _pop(index: dict[str, dict[Any, Invitation]], outer: str, inner: Any) -> None:
    """Remove one entry of a two-level index, and the inner dict once it is empty."""
    entries = index[outer]
    del entries[inner]
    if not entries:
        del index[outer]


class RoomRegistry:
    """Rooms by case-folded name; a room exists while it has members.

    The exception is the server's room (``server.default_room``): once created
    it stays, with its topic and modes, when the last member leaves.

    The registry also holds the pending invitations, which name rooms and
    users by key: they end with their room.
    """

    __slots__ = ("_by_name", "invitations", "server_room")

    def __init__(self) -> None:
        self._by_name: dict[str, Room] = {}
        self.invitations = Invitations()
        #: The folded name of the server's room ("": none).
        self.server_room = ""

    def set_server_room(self, name: str) -> None:
        """Make ``name`` the server's room (at start and when the configuration is reloaded)."""
        key = fold(name) if name else ""
        if key == self.server_room:
            return
        old = self._by_name.get(self.server_room)
        self.server_room = key
        if old is not None:
            old.server_owned = False
            self.discard_if_empty(old)
        room = self._by_name.get(key)
        if room is not None:
            room.server_owned = True

    def __len__(self) -> int:
        return len(self._by_name)

    def __iter__(self) -> Iterator[Room]:
        return iter(list(self._by_name.values()))

    def get(self, name: str) -> Room | None:
        return self._by_name.get(fold(name))

    def by_key(self, folded: str) -> Room | None:
        """The room under an already folded name (audiences carry those)."""
        return self._by_name.get(folded)

    def get_or_create(self, name: str, now: float) -> tuple[Room, bool]:
        key = fold(name)
        room = self._by_name.get(key)
        if room is not None:
            return room, False
        room = self._by_name[key] = Room(name, now)
        room.server_owned = key == self.server_room
        return room, True

    def discard_if_empty(self, room: Room) -> None:
        if room.server_owned:
            return
        if not room.members and self._by_name.get(room.folded) is room:
            del self._by_name[room.folded]
            self.invitations.forget_room(room.folded)
