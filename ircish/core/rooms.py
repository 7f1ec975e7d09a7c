"""Rooms (IRC channels) and the room index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ircish.core.names import fold

if TYPE_CHECKING:
    from ircish.core.users import User

#: Member status prefixes, highest first (ISUPPORT ``PREFIX=(ov)@+``).
PREFIXES = (("o", "@"), ("v", "+"))


class Room:
    """A room: members with their status, topic and modes."""

    __slots__ = (
        "created",
        "folded",
        "invited",
        "key",
        "limit",
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
        #: Flag modes without arguments: "t", "n", "i".
        self.modes: set[str] = {"t", "n"}
        self.key = ""
        self.limit = 0
        #: Case-folded nicknames invited past +i.
        self.invited: set[str] = set()

    def __repr__(self) -> str:
        return f"<Room {self.name!r} {len(self.members)} members>"

    def is_op(self, user: User) -> bool:
        return "o" in self.members.get(user, "")

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
