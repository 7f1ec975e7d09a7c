"""Questions about users and the server: WHO, WHOIS, USERHOST, ISON, MOTD, LUSERS, ..."""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ircish.core.command import Command
from ircish.core.events import Help
from ircish.core.names import fold, is_room_name
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.rooms import Room
    from ircish.core.users import User

#: WHO without a room lists at most this many users.
MAX_WHO_RESULTS = 200


def handle_help(chat: Chat, user: User, cmd: Command) -> None:
    """HELP [<topic>]"""
    chat.send(user, Help(cmd.params[0] if cmd.params else ""))


def _who_line(chat: Chat, user: User, member: User, room: Room | None) -> None:
    flags = "G" if member.away is not None else "H"
    if room is not None:
        flags += room.prefix_of(member, "multi-prefix" in user.caps)
    chat.numeric(
        user,
        n.RPL_WHOREPLY,
        room.name if room is not None else "*",
        member.username,
        member.host,
        chat.server_name,
        member.nick,
        flags,
        f"0 {member.realname}",
    )


def handle_who(chat: Chat, user: User, cmd: Command) -> None:
    """WHO [<room>|<mask>]"""
    mask = cmd.params[0] if cmd.params and cmd.params[0] else "*"
    if is_room_name(mask):
        room = chat.rooms.get(mask)
        if room is not None:
            for member in room.members:
                _who_line(chat, user, member, room)
    else:
        exact = chat.users.get(mask)
        if exact is not None:
            _who_line(chat, user, exact, exact.current_room)
        else:
            pattern = fold(mask)
            shown = 0
            for other in chat.users:
                if shown >= MAX_WHO_RESULTS:
                    break
                if "i" in other.modes and other is not user and user not in other.peers():
                    continue
                if fnmatch.fnmatchcase(other.folded, pattern):
                    _who_line(chat, user, other, other.current_room)
                    shown += 1
    chat.numeric(user, n.RPL_ENDOFWHO, mask, "End of /WHO list")


def handle_whois(chat: Chat, user: User, cmd: Command) -> None:
    """WHOIS [<server>] <nick>"""
    nick = cmd.params[-1]
    other = chat.users.get(nick)
    if other is None:
        chat.numeric(user, n.ERR_NOSUCHNICK, nick, n.ERROR_TEXT[n.ERR_NOSUCHNICK])
        chat.numeric(user, n.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
        return
    chat.numeric(user, n.RPL_WHOISUSER, other.nick, other.username, other.host, "*", other.realname)
    if other.rooms:
        names = " ".join(r.prefix_of(other) + r.name for r in other.rooms.values())
        chat.numeric(user, n.RPL_WHOISCHANNELS, other.nick, names)
    chat.numeric(user, n.RPL_WHOISSERVER, other.nick, chat.server_name, chat.config.server.network)
    if other.away is not None:
        chat.numeric(user, n.RPL_AWAY, other.nick, other.away)
    idle = max(0, int(chat.clock() - other.last_active))
    chat.numeric(
        user,
        n.RPL_WHOISIDLE,
        other.nick,
        str(idle),
        str(int(other.signon)),
        "seconds idle, signon time",
    )
    chat.numeric(user, n.RPL_ENDOFWHOIS, other.nick, "End of /WHOIS list")


def handle_userhost(chat: Chat, user: User, cmd: Command) -> None:
    """USERHOST <nick>{ <nick>}"""
    replies = []
    for nick in cmd.params[:5]:
        other = chat.users.get(nick)
        if other is not None:
            away = "-" if other.away is not None else "+"
            replies.append(f"{other.nick}={away}{other.username}@{other.host}")
    chat.numeric(user, n.RPL_USERHOST, " ".join(replies))


def handle_ison(chat: Chat, user: User, cmd: Command) -> None:
    """ISON <nick>{ <nick>}"""
    nicks = " ".join(cmd.params).split()
    online = [u.nick for u in (chat.users.get(x) for x in nicks) if u is not None]
    chat.numeric(user, n.RPL_ISON, " ".join(online))


def handle_motd(chat: Chat, user: User, cmd: Command) -> None:
    """MOTD"""
    send_motd(chat, user)


def handle_lusers(chat: Chat, user: User, cmd: Command) -> None:
    """LUSERS"""
    send_lusers(chat, user)


def handle_version(chat: Chat, user: User, cmd: Command) -> None:
    """VERSION"""
    chat.numeric(user, n.RPL_VERSION, chat.version, chat.server_name, "single-process ircish")
    from ircish.core.handlers.registration import send_isupport  # noqa: PLC0415

    send_isupport(chat, user)


def handle_time(chat: Chat, user: User, cmd: Command) -> None:
    """TIME"""
    now = datetime.fromtimestamp(chat.clock(), UTC)
    chat.numeric(user, n.RPL_TIME, chat.server_name, now.strftime("%A %B %d %Y -- %H:%M:%S UTC"))


def send_motd(chat: Chat, user: User) -> None:
    motd = chat.config.server.motd
    if not motd:
        raise CommandError(n.ERR_NOMOTD)
    chat.numeric(user, n.RPL_MOTDSTART, f"- {chat.server_name} Message of the day - ")
    for line in motd.splitlines():
        chat.numeric(user, n.RPL_MOTD, f"- {line}")
    chat.numeric(user, n.RPL_ENDOFMOTD, "End of /MOTD command.")


def send_lusers(chat: Chat, user: User) -> None:
    users = len(chat.users)
    invisible = chat.invisible
    unknown = len(chat.local) - users
    chat.numeric(
        user,
        n.RPL_LUSERCLIENT,
        f"There are {users - invisible} users and {invisible} invisible on 1 servers",
    )
    chat.numeric(user, n.RPL_LUSEROP, "0", "operator(s) online")
    if unknown > 0:
        chat.numeric(user, n.RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)")
    chat.numeric(user, n.RPL_LUSERCHANNELS, str(len(chat.rooms)), "channels formed")
    chat.numeric(user, n.RPL_LUSERME, f"I have {users} clients and 0 servers")
    chat.numeric(
        user, n.RPL_LOCALUSERS, str(users), str(users), f"Current local users {users}, max {users}"
    )
    chat.numeric(
        user,
        n.RPL_GLOBALUSERS,
        str(users),
        str(users),
        f"Current global users {users}, max {users}",
    )
