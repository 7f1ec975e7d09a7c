"""Registered rooms: what a room keeps across restarts, and the status its access list gives.

Theory of operation: ``ChanServ REGISTER`` turns a live ``Room`` into a
``RoomRecord`` in storage. The folded names of the registered rooms stay in
memory (``Chat.registered_rooms``, loaded when storage is attached), so every
hook costs an unregistered room one set lookup and nothing else. The record
itself is read from storage only when a registered room changes (``save``),
is created again after a restart or after it emptied (``restore``), or is
joined by someone logged in (``apply_access``). Storage reads see queued
writes, so a save and a read in the same loop pass agree.

Kept: topic (text, setter, time), flag modes, key, limit, and the b/e/I lists.
Member status is not kept: it comes from the access list at every join (the
founder and ``o`` accounts get +o, ``v`` accounts +v), announced as a MODE
change by ChanServ, as established networks do. Like ergo, an unregistered
room's creator becomes its operator; a registered room's creator does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ircish.core.events import ModeChange
from ircish.core.names import fold
from ircish.core.rooms import MAX_PARAM_MODES, ListEntry, Room
from ircish.core.storage import ListEntry as StoredEntry
from ircish.core.storage import RoomRecord

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.users import User

#: The nickname of the room service.
SERVICE = "ChanServ"

#: One member status change by ChanServ: sign, letter ("o" or "v"), member.
StatusChange = tuple[str, str, "User"]


def service_mask(chat: Chat) -> str:
    """ChanServ's source, as the irc dialect shows its notices."""
    return f"{SERVICE}!{SERVICE}@services.{chat.server_name}"


def load(chat: Chat) -> None:
    """Remember which rooms are registered (when storage is attached)."""
    storage = chat.storage
    chat.registered_rooms = {fold(r.name) for r in storage.rooms()} if storage else set()


def record(chat: Chat, folded: str) -> RoomRecord | None:
    """The stored record of a registered room, or None."""
    if chat.storage is None or folded not in chat.registered_rooms:
        return None
    return chat.storage.room(folded)


def _snapshot(room: Room, rec: RoomRecord) -> None:
    """Copy what a registered room keeps from the live room into its record."""
    rec.name = room.name
    rec.topic = room.topic
    rec.topic_by = room.topic_by
    rec.topic_time = room.topic_time
    rec.modes = "".join(sorted(room.modes))
    rec.key = room.key
    rec.limit = room.limit
    rec.lists = {
        letter: [StoredEntry(e.mask, e.set_by, e.set_at) for e in entries.values()]
        for letter, entries in room.lists.items()
        if entries
    }


def new_record(chat: Chat, room: Room, founder: str) -> RoomRecord:
    """The record registering a live room for the account ``founder`` would store."""
    rec = RoomRecord(room.name, founder, created=chat.clock())
    _snapshot(room, rec)
    return rec


def register(chat: Chat, room: Room, founder: str) -> RoomRecord:
    """Register a live room for the account ``founder``; storage must be on."""
    assert chat.storage is not None
    rec = new_record(chat, room, founder)
    chat.storage.save_room(room.folded, rec)
    chat.registered_rooms.add(room.folded)
    return rec


def unregister(chat: Chat, folded: str) -> None:
    """Forget a registration; the live room, if any, keeps its current state."""
    if chat.storage is not None:
        chat.storage.delete_room(folded)
    chat.registered_rooms.discard(folded)


def forget_account(chat: Chat, account: str) -> None:
    """An account is gone: unregister the rooms it founded, drop it from access lists.

    Otherwise whoever registers the name next would inherit its rooms.
    """
    if chat.storage is None or not chat.registered_rooms:
        return
    key = fold(account)
    for rec in chat.storage.rooms():
        if fold(rec.founder) == key:
            unregister(chat, fold(rec.name))
            continue
        offered = fold(rec.transfer_to) == key
        if offered:
            rec.transfer_to = ""
        if rec.access.pop(key, None) is not None or offered:
            update(chat, rec)


def founded_by(chat: Chat, account: str) -> int:
    """How many registered rooms ``account`` founded (reads every record: for CS REGISTER)."""
    if chat.storage is None or not chat.registered_rooms:
        return 0
    key = fold(account)
    return sum(1 for rec in chat.storage.rooms() if fold(rec.founder) == key)


def update(chat: Chat, rec: RoomRecord) -> None:
    """Store a changed record (founder or access list)."""
    if chat.storage is not None:
        chat.storage.save_room(fold(rec.name), rec)


def save(chat: Chat, room: Room) -> None:
    """A registered room's topic, modes, key, limit or lists changed: store them."""
    rec = record(chat, room.folded)
    if rec is None:
        return
    _snapshot(room, rec)
    update(chat, rec)


def restore(chat: Chat, room: Room) -> None:
    """Give a registered room, created again, what it kept."""
    rec = record(chat, room.folded)
    if rec is None:
        return
    room.topic = rec.topic
    room.topic_by = rec.topic_by
    room.topic_time = rec.topic_time
    room.modes = set(rec.modes)
    room.key = rec.key
    room.limit = rec.limit
    for letter, entries in room.lists.items():
        entries.clear()
        for e in rec.lists.get(letter, ()):
            entries[fold(e.mask)] = ListEntry(e.mask, e.set_by, e.set_at)


def restored(chat: Chat, name: str) -> Room | None:
    """A registered room that has no members now, as it would be (for checks before a join)."""
    folded = fold(name)
    if folded not in chat.registered_rooms:
        return None
    room = Room(name, chat.clock())
    restore(chat, room)
    return room


def access_in(rec: RoomRecord, account: str) -> str:
    """The status letter ``account`` gets in the room ("o", "v" or ""); the founder gets "o"."""
    if not account:
        return ""
    key = fold(account)
    if key == fold(rec.founder):
        return "o"
    return rec.access.get(key, "")


def access_of(chat: Chat, folded: str, user: User) -> str:
    """The status letter ``user``'s account gets in room ``folded`` ("" when none)."""
    if not user.account or folded not in chat.registered_rooms:
        return ""
    rec = record(chat, folded)
    return access_in(rec, user.account) if rec is not None else ""


def apply_access(chat: Chat, room: Room, user: User) -> None:
    """Give a member who just joined the status their account has in the access list."""
    letter = access_of(chat, room.folded, user)
    if letter:
        set_status(chat, room, [("+", letter, user)])


def lift_bans(chat: Chat, room: Room) -> int:
    """ChanServ removes every ban of a live room (the room sees MODE -b lines); how many."""
    masks = list(room.lists["b"])
    room.lists["b"].clear()
    # At most MODES bans a line, as any MODE line.
    for start in range(0, len(masks), MAX_PARAM_MODES):
        chunk = tuple(masks[start : start + MAX_PARAM_MODES])
        chat.emit(
            ModeChange(service_mask(chat), SERVICE, room.name, "-" + "b" * len(chunk), chunk),
            room.audience,
        )
    save(chat, room)
    return len(masks)


def set_status(chat: Chat, room: Room, changes: list[StatusChange]) -> None:
    """ChanServ changes members' +o/+v, and the room sees one MODE line from ChanServ."""
    letters = ""
    last = ""
    nicks: list[str] = []
    for sign, letter, member in changes:
        status = room.members.get(member)
        if status is None or (sign == "+") == (letter in status):
            continue
        status = status + letter if sign == "+" else status.replace(letter, "")
        room.members[member] = "".join(sorted(status, key="ov".index))
        letters += ("" if sign == last else sign) + letter
        last = sign
        nicks.append(member.nick)
    if letters:
        chat.emit(
            ModeChange(service_mask(chat), SERVICE, room.name, letters, tuple(nicks)),
            room.audience,
        )
