"""State changes: small functions that change users and rooms and emit the event.

Handlers validate a command, then call one of these. Each function assumes
its preconditions hold, changes the state, and emits the event that tells
the audience what happened. A copy of the state in another server process
calls the same functions for events that arrive from elsewhere, so nothing
here reads the command or answers the user.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ircish.core import registered
from ircish.core.events import (
    AwayChange,
    HostChange,
    Invite,
    Join,
    Kick,
    Kill,
    ModeChange,
    NickChange,
    Numeric,
    Part,
    Quit,
    RealnameChange,
    Switched,
    ToPeers,
    Topic,
    ToRoom,
    ToUsers,
)
from ircish.core.names import fold
from ircish.core.rooms import ListEntry
from ircish.protocol import numerics as n
from ircish.values import NO_NAMES

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.rooms import Room
    from ircish.core.users import User

#: The IRCv3 bot tag, on everything a user with mode +B does (bot mode: SHOULD).
BOT_TAG: tuple[tuple[str, str], ...] = (("bot", ""),)


def bot_tags(user: User) -> tuple[tuple[str, str], ...]:
    """The server tags of an event caused by ``user``."""
    return BOT_TAG if "B" in user.modes else ()


@dataclass(frozen=True, slots=True)
class WhowasEntry:
    nick: str
    folded: str
    username: str
    host: str
    realname: str
    when: float
    #: The real address (operators see it); ``host`` is what everyone saw.
    ip: str = ""


def new_whowas(size: int) -> deque[WhowasEntry]:
    """The WHOWAS memory: ``size`` entries (``[limits] max_whowas``), the oldest forgotten."""
    return deque(maxlen=size)


# -- connections and registration -----------------------------------------------


def detach(chat: Chat, client: Client) -> None:
    """A local client goes away; its user may still have others."""
    user = client.user
    if client in user.clients:
        user.clients.remove(client)
    for room in user.rooms.values():
        room.forget_targets()
    for folded in client.monitoring:
        watchers = chat.monitors.get(folded)
        if watchers is not None:
            watchers.discard(client)
            if not watchers:
                del chat.monitors[folded]
    client.monitoring = NO_NAMES


def register(chat: Chat, user: User) -> None:
    """A user finished registration: their nickname is now theirs."""
    user.registered = True
    chat.metrics.registrations += 1
    chat.users.add(user)
    chat.max_users = max(chat.max_users, len(chat.users))
    if user.node:
        chat.remote_users += 1
    else:
        chat.max_local = max(chat.max_local, len(chat.users) - chat.remote_users)
    if "i" in user.modes:
        chat.invisible += 1
    notify_monitors(chat, user, online=True)


def notify_monitors(chat: Chat, user: User, *, online: bool, nick: str = "") -> None:
    """Tell MONITOR watchers of ``nick`` (default: the user's) that it came or went."""
    watchers = chat.monitors.get(fold(nick) if nick else user.folded)
    if not watchers:
        return
    if online:
        event = Numeric(n.RPL_MONONLINE, (user.mask,))
    else:
        event = Numeric(n.RPL_MONOFFLINE, (nick or user.nick,))
    for client in watchers:
        chat.reply(client, event)


def _remember(chat: Chat, user: User) -> None:
    chat.whowas.append(
        WhowasEntry(
            user.nick, user.folded, user.username, user.host, user.realname, chat.clock(), user.ip
        )
    )


# -- rooms ----------------------------------------------------------------------


def join(chat: Chat, user: User, name: str) -> Room:
    """Put ``user`` in room ``name``, creating it (its creator is an operator).

    A registered room created again gets back what it kept, and its creator
    no operator status: that comes from its access list (``registered``).
    Nor does the creator of the server's room (``server.default_room``).
    """
    room, created = chat.rooms.get_or_create(name, chat.clock())
    status = "o" if created and not room.server_owned else ""
    if created and room.folded in chat.registered_rooms:
        registered.restore(chat, room)
        status = ""
    chat.rooms.invitations.discard(room.folded, user.uid)
    room.add_member(user, status)
    chat.emit(
        Join(user.mask, user.nick, room.name, user.account or "*", user.realname),
        ToRoom(room.folded),
        tags=bot_tags(user),
    )
    if user.away is not None:
        # IRCv3 away-notify: room-mates learn a joiner's away state with the join.
        chat.emit(AwayChange(user.mask, user.nick, user.away), room.audience, tags=bot_tags(user))
    return room


def _leave(chat: Chat, user: User, room: Room) -> None:
    room.remove_member(user)
    chat.rooms.invitations.discard(room.folded, user.uid)
    chat.rooms.discard_if_empty(room)
    for client in user.clients:
        if client.current_room is room:
            # Fall back to the most recently joined room still held, and say so.
            client.current_room = next(reversed(user.rooms.values()), None)
            if client.current_room is not None:
                chat.reply(client, Switched(client.current_room.name))


def part(chat: Chat, user: User, room: Room, reason: str) -> None:
    """``user`` leaves ``room``; everyone there, the user included, sees it."""
    chat.emit(
        Part(user.mask, user.nick, room.name, reason),
        ToRoom(room.folded, (user.uid,)),
        tags=bot_tags(user),
    )
    _leave(chat, user, room)


def kick(
    chat: Chat, by: User, room: Room, target: User, reason: str, *, later: tuple[str, ...] = ()
) -> None:
    """``by`` removes ``target`` from ``room``.

    ``later``: uids of members the same command kicks next. Audiences are
    resolved when the command ends, when those are gone too, yet they saw this.
    """
    chat.emit(
        Kick(by.mask, by.nick, room.name, target.nick, reason),
        ToRoom(room.folded, (target.uid, *later)),
        tags=bot_tags(by),
    )
    _leave(chat, target, room)


def set_topic(chat: Chat, user: User, room: Room, text: str) -> None:
    room.topic = text
    # The full mask, as ergo sends it: clients show "set by nick [user@host]".
    room.topic_by = user.mask
    room.topic_time = chat.clock()
    if room.folded in chat.registered_rooms:
        registered.save(chat, room)
    chat.emit(Topic(user.mask, user.nick, room.name, text), room.audience, tags=bot_tags(user))


#: One room mode change: sign, letter, argument (None for flags), member it concerns.
RoomChange = tuple[str, str, "str | None"]


def change_room_modes(chat: Chat, user: User, room: Room, changes: list[RoomChange]) -> None:
    """Apply validated room mode changes and announce those that changed something."""
    applied: list[RoomChange] = []
    for sign, letter, arg in changes:
        adding = sign == "+"
        if letter in "ov" and arg is not None:
            member = chat.users.get(arg)
            if member is None or member not in room.members:
                continue
            status = room.members[member]
            if adding == (letter in status):
                continue
            status = status + letter if adding else status.replace(letter, "")
            room.members[member] = "".join(sorted(status, key="ov".index))
            applied.append((sign, letter, member.nick))
        elif letter == "k":
            if adding:
                if arg is None or arg == room.key:
                    continue
                room.key = arg
                applied.append((sign, letter, arg))
            elif room.key:
                room.key = ""
                applied.append((sign, letter, "*"))
        elif letter == "l":
            if adding:
                if arg is None or int(arg) == room.limit:
                    continue
                room.limit = int(arg)
                applied.append((sign, letter, arg))
            elif room.limit:
                room.limit = 0
                applied.append((sign, letter, None))
        elif letter in room.lists:
            if arg is None:
                continue
            entries = room.lists[letter]
            key = fold(arg)
            if adding:
                if key in entries:
                    continue
                entries[key] = ListEntry(arg, user.mask, chat.clock())
            else:
                entry = entries.pop(key, None)
                if entry is None:
                    continue
                applied.append((sign, letter, entry.mask))
                continue
            applied.append((sign, letter, arg))
        elif adding != (letter in room.modes):
            if adding:
                room.modes.add(letter)
            else:
                room.modes.discard(letter)
            applied.append((sign, letter, None))
    if not applied:
        return
    if room.folded in chat.registered_rooms and any(c[1] not in "ov" for c in applied):
        registered.save(chat, room)
    letters = ""
    last = ""
    args: list[str] = []
    for sign, letter, arg in applied:
        letters += ("" if sign == last else sign) + letter
        last = sign
        if arg is not None:
            args.append(arg)
    chat.emit(
        ModeChange(user.mask, user.nick, room.name, letters, tuple(args)),
        room.audience,
        tags=bot_tags(user),
    )


def invite(chat: Chat, user: User, target: User, name: str, room: Room | None) -> None:
    """``user`` invites ``target`` to ``name`` (``room`` if it exists)."""
    if room is not None:
        limits = chat.config.limits
        now = chat.clock()
        invitations = chat.rooms.invitations
        invitations.sweep(now)
        invitations.add(
            room.folded,
            target.uid,
            user.uid,
            now + limits.invite_expiry,
            per_room=limits.max_invites_per_room,
            per_inviter=limits.max_invites_per_user,
        )
    event = Invite(user.mask, user.nick, target.nick, name)
    chat.emit(event, ToUsers((target.uid,)), tags=bot_tags(user))
    if room is not None:
        # IRCv3 invite-notify: the room's operators learn of it too.
        chat.emit(
            Invite(user.mask, user.nick, target.nick, name, notify=True),
            ToRoom(room.folded, status="o", exclude=(user.uid,)),
            tags=bot_tags(user),
        )


# -- users ----------------------------------------------------------------------


def quit(chat: Chat, user: User, reason: str) -> None:
    """``user`` leaves the network; everyone sharing a room sees the quit."""
    chat.emit(
        Quit(user.mask, user.nick, reason),
        ToPeers(user.uid, user.room_keys()),
        tags=bot_tags(user),
    )
    for room in list(user.rooms.values()):
        room.remove_member(user)
        chat.rooms.discard_if_empty(room)
    # Invitations to rooms the user was not in go too: nobody else can use them.
    chat.rooms.invitations.forget_user(user.uid)
    chat.users.remove(user)
    user.registered = False
    if user.node:
        chat.remote_users -= 1
    if "i" in user.modes:
        chat.invisible -= 1
    if "o" in user.modes:
        chat.operators -= 1
    _remember(chat, user)
    notify_monitors(chat, user, online=False)


def nick(chat: Chat, user: User, new: str) -> None:
    """``user`` is now known as ``new``; they and their room-mates see it."""
    old = user.nick
    chat.emit(
        NickChange(user.mask, old, new),
        ToPeers(user.uid, user.room_keys(), include_self=True),
        tags=bot_tags(user),
    )
    _remember(chat, user)
    chat.users.rename(user, new)
    if fold(old) != user.folded:
        notify_monitors(chat, user, online=False, nick=old)
        notify_monitors(chat, user, online=True)


def away(chat: Chat, user: User, text: str | None) -> None:
    user.away = text
    chat.emit(
        AwayChange(user.mask, user.nick, text),
        ToPeers(user.uid, user.room_keys(), watchers=True),
        tags=bot_tags(user),
    )


def setname(chat: Chat, user: User, realname: str) -> None:
    """IRCv3 setname: a new realname, seen by the user and their peers."""
    user.realname = realname
    chat.emit(
        RealnameChange(user.mask, user.nick, realname),
        ToPeers(user.uid, user.room_keys(), include_self=True, watchers=True),
        tags=bot_tags(user),
    )


def chghost(chat: Chat, user: User, username: str, host: str) -> None:
    """A user's displayed username or host changes (IRCv3 chghost)."""
    event = HostChange(user.mask, user.nick, username, host)
    user.username = username
    user.host = host
    user.update_mask()
    chat.emit(
        event,
        ToPeers(user.uid, user.room_keys(), include_self=True, watchers=True),
        tags=bot_tags(user),
    )


def change_user_modes(chat: Chat, user: User, changes: list[tuple[str, str]]) -> None:
    """Apply user mode changes (validated) and tell the user's clients."""
    applied = ""
    last = ""
    for sign, letter in changes:
        adding = sign == "+"
        if adding == (letter in user.modes):
            continue
        user.modes = user.modes | {letter} if adding else user.modes - {letter}
        delta = 1 if adding else -1
        if letter == "i" and user.registered:
            chat.invisible += delta
        elif letter == "o":
            chat.operators += delta
        applied += ("" if sign == last else sign) + letter
        last = sign
    if applied:
        chat.emit(ModeChange(user.mask, user.nick, user.nick, applied), ToUsers((user.uid,)))


def kill(chat: Chat, by: User, victim: User, reason: str) -> None:
    """Operator ``by`` disconnects every local client of ``victim``.

    Each client is told (``KILL``, then the closing line); when the last one
    goes, room-mates see the quit as ``Killed (<killer> (<reason>))``, as
    established servers word it.
    """
    event = Kill(by.mask, by.nick, victim.nick, reason)
    if victim.node:
        # A user of another process (``[cluster]``): that process disconnects them.
        chat.emit(event, ToUsers((victim.uid,)))
        return
    quit_reason = f"Killed ({by.nick} ({reason}))"
    for client in list(victim.clients):
        if not client.quitting:
            chat.reply(client, event)
            chat.disconnect(client, quit_reason)
