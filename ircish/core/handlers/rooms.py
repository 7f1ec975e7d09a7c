"""Room membership and room information: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE."""

from __future__ import annotations

import fnmatch
import logging
from typing import TYPE_CHECKING

from ircish.core.command import Command
from ircish.core.events import AwayChange, Invite, Join, Kick, Part, Switched, Topic
from ircish.core.names import fold, valid_room_name
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.rooms import Room
    from ircish.core.users import User

log = logging.getLogger("ircish.core")

#: RPL_NAMREPLY lines are split so that each stays well inside 512 bytes.
_NAMES_CHUNK = 400


def _member_room(chat: Chat, user: User, name: str) -> Room:
    """The room ``name``, which ``user`` must be in."""
    room = chat.rooms.get(name)
    if room is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, name)
    if user not in room.members:
        raise CommandError(n.ERR_NOTONCHANNEL, room.name)
    return room


def find_member(chat: Chat, room: Room, nick: str) -> User:
    """The user ``nick``, who must be in ``room`` (for KICK and MODE +o/+v)."""
    target = chat.users.get(nick)
    if target is None:
        raise CommandError(n.ERR_NOSUCHNICK, nick)
    if target not in room.members:
        raise CommandError(n.ERR_USERNOTINCHANNEL, target.nick, room.name)
    return target


def handle_join(chat: Chat, user: User, cmd: Command) -> None:
    """JOIN <room>{,<room>} [<key>{,<key>}] | JOIN 0"""
    if cmd.params[0] == "0":
        for room in list(user.rooms.values()):
            leave_room(chat, user, room, "Left all channels")
        return
    names = cmd.params[0].split(",")
    keys = cmd.params[1].split(",") if len(cmd.params) > 1 else []
    for i, name in enumerate(names):
        if not name:
            continue
        try:
            join_room(chat, user, name, keys[i] if i < len(keys) else "")
        except CommandError as exc:
            # One bad room must not stop the others in the list.
            chat.error(user, exc)


def join_room(chat: Chat, user: User, name: str, key: str) -> None:
    """Put ``user`` in room ``name`` (creating it) and tell everyone there."""
    limits = chat.config.limits
    if not valid_room_name(name, limits.max_room_name_length):
        raise CommandError(n.ERR_NOSUCHCHANNEL, name, text="Invalid channel name")
    existing = chat.rooms.get(name)
    if existing is not None and user in existing.members:
        user.current_room = existing
        chat.send(user, Switched(existing.name))
        return
    if len(user.rooms) >= limits.max_rooms_per_user:
        raise CommandError(n.ERR_TOOMANYCHANNELS, name)
    if existing is not None:
        invited = user.folded in existing.invited
        if "i" in existing.modes and not invited:
            raise CommandError(n.ERR_INVITEONLYCHAN, existing.name)
        if existing.key and key != existing.key and not invited:
            raise CommandError(n.ERR_BADCHANNELKEY, existing.name)
        if existing.limit and len(existing.members) >= existing.limit:
            raise CommandError(n.ERR_CHANNELISFULL, existing.name)
        existing.invited.discard(user.folded)
    room, created = chat.rooms.get_or_create(name, chat.clock())
    room.members[user] = "o" if created else ""
    user.rooms[room.folded] = room
    user.current_room = room
    chat.fanout(room.members, Join(user.mask, user.nick, room.name, "*", user.realname))
    if user.away is not None:
        # IRCv3 away-notify: room-mates learn a joiner's away state with the join.
        chat.fanout(
            (m for m in room.members if m is not user),
            AwayChange(user.mask, user.nick, user.away),
        )
    if room.topic:
        send_topic(chat, user, room)
    send_names(chat, user, room)


def leave_room(chat: Chat, user: User, room: Room, reason: str) -> None:
    """Take ``user`` out of ``room``; everyone there, the user included, sees the part."""
    chat.fanout(room.members, Part(user.mask, user.nick, room.name, reason))
    remove_member(chat, user, room)


def remove_member(chat: Chat, user: User, room: Room) -> None:
    room.members.pop(user, None)
    user.rooms.pop(room.folded, None)
    if user.current_room is room:
        # Fall back to the most recently joined room still held, and say so.
        user.current_room = next(reversed(user.rooms.values()), None)
        if user.current_room is not None:
            chat.send(user, Switched(user.current_room.name))
    chat.rooms.discard_if_empty(room)


def handle_part(chat: Chat, user: User, cmd: Command) -> None:
    """PART <room>{,<room>} [<reason>]"""
    reason = cmd.params[1] if len(cmd.params) > 1 else ""
    for name in cmd.params[0].split(","):
        if not name:
            continue
        try:
            leave_room(chat, user, _member_room(chat, user, name), reason)
        except CommandError as exc:
            chat.error(user, exc)


def send_topic(chat: Chat, user: User, room: Room) -> None:
    if not room.topic:
        chat.numeric(user, n.RPL_NOTOPIC, room.name, "No topic is set")
        return
    chat.numeric(user, n.RPL_TOPIC, room.name, room.topic)
    chat.numeric(user, n.RPL_TOPICWHOTIME, room.name, room.topic_by, str(int(room.topic_time)))


def handle_topic(chat: Chat, user: User, cmd: Command) -> None:
    """TOPIC <room> [<topic>]"""
    name = cmd.params[0]
    if len(cmd.params) < 2:
        room = chat.rooms.get(name)
        if room is None:
            raise CommandError(n.ERR_NOSUCHCHANNEL, name)
        send_topic(chat, user, room)
        return
    room = _member_room(chat, user, name)
    if "t" in room.modes and not room.is_op(user):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, room.name)
    text = cmd.params[1][: chat.config.limits.max_topic_length]
    room.topic = text
    # The full mask, as ergo sends it: clients show "set by nick [user@host]".
    room.topic_by = user.mask
    room.topic_time = chat.clock()
    chat.fanout(room.members, Topic(user.mask, user.nick, room.name, text))


def send_names(chat: Chat, user: User, room: Room) -> None:
    """RPL_NAMREPLY lines then RPL_ENDOFNAMES."""
    multi = "multi-prefix" in user.caps
    full = "userhost-in-names" in user.caps
    entries = [room.prefix_of(m, multi) + (m.mask if full else m.nick) for m in room.members]
    line: list[str] = []
    size = 0
    for entry in entries:
        if line and size + len(entry) + 1 > _NAMES_CHUNK:
            chat.numeric(user, n.RPL_NAMREPLY, "=", room.name, " ".join(line))
            line, size = [], 0
        line.append(entry)
        size += len(entry) + 1
    if line:
        chat.numeric(user, n.RPL_NAMREPLY, "=", room.name, " ".join(line))
    chat.numeric(user, n.RPL_ENDOFNAMES, room.name, "End of /NAMES list")


def handle_names(chat: Chat, user: User, cmd: Command) -> None:
    """NAMES [<room>{,<room>}]"""
    if not cmd.params or not cmd.params[0]:
        chat.numeric(user, n.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    for name in cmd.params[0].split(","):
        room = chat.rooms.get(name)
        if room is None:
            chat.numeric(user, n.RPL_ENDOFNAMES, name, "End of /NAMES list")
        else:
            send_names(chat, user, room)


def handle_list(chat: Chat, user: User, cmd: Command) -> None:
    """LIST [<room>{,<room>}|<mask>]"""
    wanted = [fold(p) for p in cmd.params[0].split(",")] if cmd.params and cmd.params[0] else []
    chat.numeric(user, n.RPL_LISTSTART, "Channel", "Users  Name")
    for room in sorted(chat.rooms, key=lambda r: r.folded):
        if wanted and not any(fnmatch.fnmatchcase(room.folded, w) for w in wanted):
            continue
        chat.numeric(user, n.RPL_LIST, room.name, str(len(room.members)), room.topic)
    chat.numeric(user, n.RPL_LISTEND, "End of /LIST")


def handle_kick(chat: Chat, user: User, cmd: Command) -> None:
    """KICK <room> <nick>{,<nick>} [<reason>]"""
    room = _member_room(chat, user, cmd.params[0])
    if not room.is_op(user):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, room.name)
    reason = cmd.params[2] if len(cmd.params) > 2 and cmd.params[2] else user.nick
    reason = reason[: chat.config.limits.max_topic_length]
    for nick in cmd.params[1].split(","):
        try:
            target = find_member(chat, room, nick)
        except CommandError as exc:
            chat.error(user, exc)
            continue
        chat.fanout(room.members, Kick(user.mask, user.nick, room.name, target.nick, reason))
        remove_member(chat, target, room)
        if not room.members:
            return


def handle_invite(chat: Chat, user: User, cmd: Command) -> None:
    """INVITE <nick> <room>"""
    nick, name = cmd.params[0], cmd.params[1]
    target = chat.users.get(nick)
    if target is None:
        raise CommandError(n.ERR_NOSUCHNICK, nick)
    room = chat.rooms.get(name)
    if room is not None:
        if user not in room.members:
            raise CommandError(n.ERR_NOTONCHANNEL, room.name)
        if "i" in room.modes and not room.is_op(user):
            raise CommandError(n.ERR_CHANOPRIVSNEEDED, room.name)
        if target in room.members:
            raise CommandError(n.ERR_USERONCHANNEL, target.nick, room.name)
        room.invited.add(target.folded)
        name = room.name
    chat.numeric(user, n.RPL_INVITING, target.nick, name)
    chat.send(target, Invite(user.mask, user.nick, target.nick, name))
    if target.away is not None:
        chat.numeric(user, n.RPL_AWAY, target.nick, target.away)
