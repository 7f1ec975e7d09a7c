"""Rooms (IRC channels) and the room index."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING

from ircish.core.events import ToRoom
from ircish.core.names import fold, mask_matches

if TYPE_CHECKING:
    from ircish.core.clients import Client
    from ircish.core.users import User

#: Member status prefixes, highest first (ISUPPORT ``PREFIX=(ov)@+``).
PREFIXES = (("o", "@"), ("v", "+"))
#: Status letters in rank order, lowest first.
STATUS_RANK = "vo"


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
        "invited",
        "key",
        "limit",
        "lists",
        "members",
        "modes",
        "name",
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
        #: Flag modes without arguments: "t", "n", "i", "m", "s".
        self.modes: set[str] = {"t", "n"}
        self.key = ""
        self.limit = 0
        #: Mask lists by mode letter: "b" bans, "e" ban exceptions, "I" invite exceptions.
        self.lists: dict[str, dict[str, ListEntry]] = {"b": {}, "e": {}, "I": {}}
        #: Uids of users invited past +i, oldest first (dropped when they join or leave).
        #: Uids, not nicknames: an invitation must not pass to the next user of a nick.
        self.invited: dict[str, None] = {}
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
        return any(mask_matches(e.mask, user.mask) for e in self.lists[letter].values())

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


class RoomRegistry:
    """Rooms by case-folded name; a room exists while it has members."""

    __slots__ = ("_by_name",)

    def __init__(self) -> None:
        self._by_name: dict[str, Room] = {}

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
        return room, True

    def discard_if_empty(self, room: Room) -> None:
        if not room.members and self._by_name.get(room.folded) is room:
            del self._by_name[room.folded]
