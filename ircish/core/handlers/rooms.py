"""Room membership and room information: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ircish.core import registered, replay, replies, state
from ircish.core.command import Command
from ircish.core.events import Switched
from ircish.core.handlers import history
from ircish.core.handlers.server import ListQuery, safe_param
from ircish.core.names import room_name_problem, valid_room_name
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.rooms import Room
    from ircish.core.users import User

log = logging.getLogger("ircish.core")

#: KICK takes at most this many nicknames (ISUPPORT ``TARGMAX=KICK:4``).
MAX_KICK_TARGETS = 4


def member_room(chat: Chat, user: User, name: str) -> Room:
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


def invalid_room_name(chat: Chat, name: str) -> CommandError:
    """The refusal of a name that cannot be a room's: 403, with the reason in its text."""
    why = room_name_problem(name, chat.config.limits.max_room_name_length)
    return CommandError(n.ERR_NOSUCHCHANNEL, name, text=f"Invalid channel name: {why}")


def handle_join(chat: Chat, client: Client, cmd: Command) -> None:
    """JOIN <room>{,<room>} [<key>{,<key>}] | JOIN 0"""
    user = client.user
    if cmd.params[0] == "0":
        for room in list(user.rooms.values()):
            state.part(chat, user, room, "Left all channels")
        return
    names = cmd.params[0].split(",")
    keys = cmd.params[1].split(",") if len(cmd.params) > 1 else []
    for i, name in enumerate(names):
        if not name:
            continue
        try:
            join_room(chat, client, name, keys[i] if i < len(keys) else "")
        except CommandError as exc:
            # One bad room must not stop the others in the list.
            chat.error(client, exc)


def check_can_join(chat: Chat, user: User, room: Room, key: str, access: str = "") -> None:
    """Raise the numeric that keeps ``user`` out of an existing ``room``, if any.

    ``access``: the status a registered room's access list gives the user's
    account; as in ergo, "o" passes every restriction and "v" passes +i.
    """
    if access == "o" or chat.rooms.invitations.valid(room.folded, user.uid, chat.clock()):
        return  # An invitation overrides every restriction, as in ergo.
    if "i" in room.modes and not access and not room.invite_excepted(user):
        raise CommandError(n.ERR_INVITEONLYCHAN, room.name)
    if room.key and key != room.key:
        raise CommandError(n.ERR_BADCHANNELKEY, room.name)
    if room.limit and len(room.members) >= room.limit:
        raise CommandError(n.ERR_CHANNELISFULL, room.name)
    if room.is_banned(user):
        raise CommandError(n.ERR_BANNEDFROMCHAN, room.name)


def join_room(chat: Chat, client: Client, name: str, key: str) -> None:
    """Validate, put the client's user in room ``name``, and answer with topic and names."""
    user = client.user
    limits = chat.config.limits
    if not valid_room_name(name, limits.max_room_name_length):
        raise invalid_room_name(chat, name)
    existing = chat.rooms.get(name)
    if existing is not None and user in existing.members:
        client.current_room = existing
        chat.reply(client, Switched(existing.name))
        return
    if len(user.rooms) >= limits.max_rooms_per_user:
        raise CommandError(n.ERR_TOOMANYCHANNELS, name)
    if existing is None and chat.registered_rooms:
        # A registered room with nobody in it keeps its key, limit and bans.
        existing = registered.restored(chat, name)
    access = ""
    if user.account and chat.registered_rooms:
        access = registered.access_of(chat, existing.folded if existing else "", user)
    if existing is not None:
        check_can_join(chat, user, existing, key, access)
    room = state.join(chat, user, name)
    client.current_room = room
    if access:
        registered.set_status(chat, room, [("+", access, user)])
    if room.topic:
        replies.send_topic(chat, client, room)
    # IRCv3 read-marker: the room's marker comes before RPL_ENDOFNAMES.
    history.markers_on_join(chat, client, room.name)
    if "no-implicit-names" not in client.caps:
        replies.send_names(chat, client, room)
    # After the topic and names, as a client shows them: the room's recent messages.
    replay.after_join(chat, client, room)
    # Last, so that it is what a netcat user reads before typing: where lines go now.
    chat.reply(client, Switched(room.name))


def handle_part(chat: Chat, client: Client, cmd: Command) -> None:
    """PART <room>{,<room>} [<reason>]"""
    reason = cmd.params[1] if len(cmd.params) > 1 else ""
    reason = reason[: chat.config.limits.max_topic_length]
    for name in cmd.params[0].split(","):
        if not name:
            continue
        try:
            state.part(chat, client.user, member_room(chat, client.user, name), reason)
        except CommandError as exc:
            chat.error(client, exc)


def handle_topic(chat: Chat, client: Client, cmd: Command) -> None:
    """TOPIC <room> [<topic>]"""
    user = client.user
    name = cmd.params[0]
    if len(cmd.params) < 2:
        room = chat.rooms.get(name)
        if room is None or ("s" in room.modes and user not in room.members):
            raise CommandError(n.ERR_NOSUCHCHANNEL, name)
        replies.send_topic(chat, client, room)
        return
    room = member_room(chat, user, name)
    if "t" in room.modes and not room.may_operate(user):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, room.name)
    state.set_topic(chat, user, room, cmd.params[1][: chat.config.limits.max_topic_length])


def handle_names(chat: Chat, client: Client, cmd: Command) -> None:
    """NAMES [<room>{,<room>}]"""
    if not cmd.params or not cmd.params[0]:
        chat.numeric(client, n.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    for name in cmd.params[0].split(","):
        room = chat.rooms.get(name)
        if room is None or ("s" in room.modes and client.user not in room.members):
            chat.numeric(client, n.RPL_ENDOFNAMES, name, "End of /NAMES list")
        else:
            replies.send_names(chat, client, room)


def handle_list(chat: Chat, client: Client, cmd: Command) -> None:
    """LIST [<room>{,<room>}] [<filter>{,<filter>}]

    Filters (ELIST=CMNTU) are ``>n``/``<n`` users, ``C>m``/``C<m`` created and
    ``T>m``/``T<m`` topic set more/less than m minutes ago, ``*mask*`` and
    ``!*mask*``. A room must pass all of them; rooms and masks are alternatives.
    """
    user = client.user
    try:
        query = ListQuery.parse(cmd.params, chat.server_name)
    except ValueError as exc:
        chat.fail(
            client,
            "LIST",
            "INVALID_PARAMS",
            safe_param(str(exc)),
            text=f"Invalid LIST filter {str(exc)[:32]!r}: use >N <N C>N C<N T>N T<N or masks",
        )
        chat.numeric(client, n.RPL_LISTEND, "End of /LIST")
        return
    now = chat.clock()
    if query.exact:
        # Named rooms are looked up, not searched for among all of them.
        found = (chat.rooms.by_key(key) for key in dict.fromkeys(query.names))
        shown = [r for r in found if r is not None]
    else:
        shown = list(chat.rooms)
    # Filter first and sort only what is left: a narrow LIST stays cheap.
    shown = [
        room
        for room in shown
        if ("s" not in room.modes or user in room.members) and query.matches(room, now)
    ]
    if not query.exact:
        shown.sort(key=lambda r: r.folded)
    chat.numeric(client, n.RPL_LISTSTART, "Channel", "Users  Name")
    for room in shown:
        chat.numeric(client, n.RPL_LIST, room.name, str(len(room.members)), room.topic)
    chat.numeric(client, n.RPL_LISTEND, "End of /LIST")


def handle_kick(chat: Chat, client: Client, cmd: Command) -> None:
    """KICK <room> <nick>{,<nick>} [<reason>]"""
    user = client.user
    room = member_room(chat, user, cmd.params[0])
    if not room.may_operate(user):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, room.name)
    reason = cmd.params[2] if len(cmd.params) > 2 and cmd.params[2] else user.nick
    reason = reason[: chat.config.limits.max_topic_length]
    nicks = [x for x in cmd.params[1].split(",") if x]
    # Find every target first: each kick must also reach the members kicked after it.
    plan: list[User | CommandError] = []
    for nick in nicks[:MAX_KICK_TARGETS]:
        try:
            target = find_member(chat, room, nick)
            if target in plan:
                raise CommandError(n.ERR_USERNOTINCHANNEL, target.nick, room.name)
            plan.append(target)
        except CommandError as exc:
            plan.append(exc)
    targets = [t.uid for t in plan if not isinstance(t, CommandError)]
    kicked = 0
    for item in plan:
        if isinstance(item, CommandError):
            chat.error(client, item)
            continue
        kicked += 1
        state.kick(chat, user, room, item, reason, later=tuple(targets[kicked:]))
        if not room.members:
            return
    if len(nicks) > MAX_KICK_TARGETS:
        chat.numeric(client, n.ERR_TOOMANYTARGETS, nicks[MAX_KICK_TARGETS], "Too many targets")


def handle_invite(chat: Chat, client: Client, cmd: Command) -> None:
    """INVITE <nick> <room>"""
    user = client.user
    nick, name = cmd.params[0], cmd.params[1]
    target = chat.users.get(nick)
    if target is None:
        raise CommandError(n.ERR_NOSUCHNICK, nick)
    room = chat.rooms.get(name)
    if room is not None:
        if user not in room.members:
            raise CommandError(n.ERR_NOTONCHANNEL, room.name)
        if "i" in room.modes and not room.may_operate(user):
            raise CommandError(n.ERR_CHANOPRIVSNEEDED, room.name)
        if target in room.members:
            raise CommandError(n.ERR_USERONCHANNEL, target.nick, room.name)
        name = room.name
    elif not valid_room_name(name, chat.config.limits.max_room_name_length):
        raise invalid_room_name(chat, name)
    chat.numeric(client, n.RPL_INVITING, target.nick, name)
    state.invite(chat, user, target, name, room)
    if target.away is not None:
        chat.numeric(client, n.RPL_AWAY, target.nick, target.away)
