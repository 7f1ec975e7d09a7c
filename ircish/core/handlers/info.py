"""Questions about users and the server: WHO, WHOIS, USERHOST, ISON, MOTD, LUSERS, ..."""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ircish.core import replies
from ircish.core.command import Command
from ircish.core.events import Help
from ircish.core.names import fold, is_room_name
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.rooms import Room
    from ircish.core.users import User

#: WHO without a room lists at most this many users.
MAX_WHO_RESULTS = 200


def handle_help(chat: Chat, client: Client, cmd: Command) -> None:
    """HELP [<topic>]"""
    chat.reply(client, Help(cmd.params[0] if cmd.params else ""))


def who_flags(client: Client, member: User, room: Room | None) -> str:
    """WHO flags: H/G (here/gone), * (operator), B (bot), then status prefixes."""
    flags = "G" if member.away is not None else "H"
    if "o" in member.modes:
        flags += "*"
    if "B" in member.modes:
        flags += "B"
    if room is not None:
        flags += room.prefix_of(member, "multi-prefix" in client.caps)
    return flags


def _who_line(chat: Chat, client: Client, member: User, room: Room | None) -> None:
    chat.numeric(
        client,
        n.RPL_WHOREPLY,
        room.name if room is not None else "*",
        member.username,
        member.host,
        chat.server_name,
        member.nick,
        who_flags(client, member, room),
        f"0 {member.realname}",
    )


def _visible_room(user: User, member: User) -> Room | None:
    """A room of ``member`` that ``user`` may see (shared, or not secret), for WHO."""
    for room in member.rooms.values():
        if "s" not in room.modes or user in room.members:
            return room
    return None


def handle_who(chat: Chat, client: Client, cmd: Command) -> None:
    """WHO [<room>|<mask>]"""
    user = client.user
    mask = cmd.params[0] if cmd.params and cmd.params[0] else "*"
    if is_room_name(mask):
        room = chat.rooms.get(mask)
        if room is not None and ("s" not in room.modes or user in room.members):
            for member in room.members:
                _who_line(chat, client, member, room)
    else:
        exact = chat.users.get(mask)
        if exact is not None:
            _who_line(chat, client, exact, _visible_room(user, exact))
        else:
            pattern = fold(mask)
            shown = 0
            for other in chat.users:
                if shown >= MAX_WHO_RESULTS:
                    break
                if "i" in other.modes and other is not user and user not in other.peers():
                    continue
                if fnmatch.fnmatchcase(other.folded, pattern):
                    _who_line(chat, client, other, _visible_room(user, other))
                    shown += 1
    chat.numeric(client, n.RPL_ENDOFWHO, mask, "End of /WHO list")


def handle_whois(chat: Chat, client: Client, cmd: Command) -> None:
    """WHOIS [<server>] <nick>"""
    user = client.user
    nick = cmd.params[-1]
    other = chat.users.get(nick)
    if other is None:
        chat.numeric(client, n.ERR_NOSUCHNICK, nick, n.ERROR_TEXT[n.ERR_NOSUCHNICK])
        chat.numeric(client, n.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
        return
    chat.numeric(
        client, n.RPL_WHOISUSER, other.nick, other.username, other.host, "*", other.realname
    )
    shown = [
        r.prefix_of(other) + r.name
        for r in other.rooms.values()
        if "s" not in r.modes or user in r.members
    ]
    if shown:
        chat.numeric(client, n.RPL_WHOISCHANNELS, other.nick, " ".join(shown))
    chat.numeric(
        client, n.RPL_WHOISSERVER, other.nick, chat.server_name, chat.config.server.network
    )
    if "o" in other.modes:
        chat.numeric(client, n.RPL_WHOISOPERATOR, other.nick, "is an IRC operator")
    if "B" in other.modes:
        chat.numeric(
            client, n.RPL_WHOISBOT, other.nick, f"is a Bot on {chat.config.server.network}"
        )
    if other.away is not None:
        chat.numeric(client, n.RPL_AWAY, other.nick, other.away)
    idle = max(0, int(chat.clock() - other.last_active()))
    chat.numeric(
        client,
        n.RPL_WHOISIDLE,
        other.nick,
        str(idle),
        str(int(other.signon)),
        "seconds idle, signon time",
    )
    chat.numeric(client, n.RPL_ENDOFWHOIS, other.nick, "End of /WHOIS list")


def handle_userhost(chat: Chat, client: Client, cmd: Command) -> None:
    """USERHOST <nick>{ <nick>}"""
    out = []
    for nick in cmd.params[:5]:
        other = chat.users.get(nick)
        if other is not None:
            oper = "*" if "o" in other.modes else ""
            away = "-" if other.away is not None else "+"
            out.append(f"{other.nick}{oper}={away}{other.username}@{other.host}")
    chat.numeric(client, n.RPL_USERHOST, " ".join(out))


def handle_ison(chat: Chat, client: Client, cmd: Command) -> None:
    """ISON <nick>{ <nick>}"""
    nicks = " ".join(cmd.params).split()
    online = [u.nick for u in (chat.users.get(x) for x in nicks) if u is not None]
    chat.numeric(client, n.RPL_ISON, " ".join(online))


def handle_motd(chat: Chat, client: Client, cmd: Command) -> None:
    """MOTD"""
    replies.send_motd(chat, client)


def handle_lusers(chat: Chat, client: Client, cmd: Command) -> None:
    """LUSERS"""
    replies.send_lusers(chat, client)


def handle_version(chat: Chat, client: Client, cmd: Command) -> None:
    """VERSION"""
    chat.numeric(client, n.RPL_VERSION, chat.version, chat.server_name, "single-process ircish")
    replies.send_isupport(chat, client)


def handle_time(chat: Chat, client: Client, cmd: Command) -> None:
    """TIME"""
    now = datetime.fromtimestamp(chat.clock(), UTC)
    chat.numeric(client, n.RPL_TIME, chat.server_name, now.strftime("%A %B %d %Y -- %H:%M:%S UTC"))
