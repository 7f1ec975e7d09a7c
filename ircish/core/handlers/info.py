"""Questions about users and the server: WHO, WHOIS, USERHOST, ISON, MOTD, LUSERS, ..."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ircish.core import replies
from ircish.core.cloaks import normalize_ip, shown_address
from ircish.core.command import Command
from ircish.core.events import Help
from ircish.core.handlers.server import help_topic_param
from ircish.core.names import is_room_name, mask_matches
from ircish.protocol import numerics as n
from ircish.protocol.words import canonical_mask

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.rooms import Room
    from ircish.core.users import User

#: WHO without a room lists at most this many users.
MAX_WHO_RESULTS = 200


def handle_help(chat: Chat, client: Client, cmd: Command) -> None:
    """HELP [<topic>]"""
    # The texts are handlers.server.help_lines; each dialect renders them.
    chat.reply(client, Help(help_topic_param(cmd)))


def who_flags(client: Client, member: User, room: Room | None) -> str:
    """WHO flags in Modern IRC's order: H/G (here/gone), * (operator), status prefixes, B (bot)."""
    flags = "G" if member.away is not None else "H"
    if "o" in member.modes:
        flags += "*"
    if room is not None:
        flags += room.prefix_of(member, "multi-prefix" in client.caps)
    if "B" in member.modes:
        flags += "B"
    return flags


#: WHOX fields in the order RPL_WHOSPCRPL gives them (IRCv3 WHOX).
WHOX_FIELDS = "tcuihsnfdlaor"
#: What the ``i`` field shows to anyone but an operator or the user themselves.
WHOX_HIDDEN_IP = "255.255.255.255"


class Whox:
    """A WHOX request: the fields wanted (in reply order) and the client's token."""

    __slots__ = ("fields", "token")

    def __init__(self, fields: str, token: str) -> None:
        self.fields = fields
        self.token = token

    @classmethod
    def parse(cls, param: str) -> Whox | None:
        """``[flags]%<fields>[,<token>]``, or None for a plain WHO."""
        if "%" not in param:
            return None
        letters, _, token = param.partition("%")[2].partition(",")
        # Unknown fields are ignored, repeats count once: the spec fixes the order.
        fields = "".join(f for f in WHOX_FIELDS if f in letters)
        # A token is at most 3 digits (the spec); anything else is never echoed.
        if not (token.isascii() and token.isdigit() and len(token) <= 3):
            token = "0"
        return cls(fields, token)


def _whox_values(
    chat: Chat, client: Client, member: User, room: Room | None, whox: Whox
) -> list[str]:
    values: list[str] = []
    for field in whox.fields:
        match field:
            case "t":
                values.append(whox.token)
            case "c":
                values.append(room.name if room is not None else "*")
            case "u":
                values.append(member.username)
            case "i":
                # Only operators (and the user themselves) learn an address.
                shown = "o" in client.user.modes or member is client.user
                values.append(
                    shown_address(member.ip)
                    if shown and normalize_ip(member.ip)
                    else WHOX_HIDDEN_IP
                )
            case "h":
                values.append(member.host)
            case "s":
                values.append(chat.server_name)
            case "n":
                values.append(member.nick)
            case "f":
                values.append(who_flags(client, member, room))
            case "d":
                values.append("0")
            case "l":
                values.append(str(max(0, int(chat.clock() - member.last_active()))))
            case "a":
                # WHOX's placeholder for "not logged in".
                values.append(member.account or "0")
            case "o":
                # No op levels here; the spec suggests this placeholder.
                values.append("n/a")
            case _:
                values.append(member.realname)
    return values


def _who_line(
    chat: Chat, client: Client, member: User, room: Room | None, whox: Whox | None = None
) -> None:
    if whox is not None:
        chat.numeric(client, n.RPL_WHOSPCRPL, *_whox_values(chat, client, member, room, whox))
        return
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
    """A room of ``member`` to show ``user`` in WHO: a shared one, else one not secret."""
    for key, room in member.rooms.items():
        if key in user.rooms:
            return room
    for room in member.rooms.values():
        if "s" not in room.modes:
            return room
    return None


def handle_who(chat: Chat, client: Client, cmd: Command) -> None:
    """WHO [<room>|<nick>|<mask> [%<fields>[,<token>]]]"""
    user = client.user
    mask = cmd.params[0] if cmd.params and cmd.params[0] else "*"
    whox = Whox.parse(cmd.params[1]) if len(cmd.params) > 1 else None
    shown = 0
    if is_room_name(mask):
        room = chat.rooms.get(mask)
        if room is not None and ("s" not in room.modes or user in room.members):
            joined = user in room.members
            for member in room.members:
                # Outsiders see only visible members (Modern IRC: not +i, or a shared room).
                if joined or "i" not in member.modes:
                    _who_line(chat, client, member, room, whox)
                    shown += 1
    else:
        exact = chat.users.get(mask)
        if exact is not None:
            _who_line(chat, client, exact, _visible_room(user, exact), whox)
            shown = 1
        else:
            # "0" is RFC 1459's "everyone"; a mask with ! or @ matches whole masks.
            pattern = "*" if mask == "0" else mask
            full = "!" in pattern or "@" in pattern
            if full:
                pattern = canonical_mask(pattern)
            for other in chat.users:
                if shown >= MAX_WHO_RESULTS:
                    break
                if (
                    other is not user
                    and "i" in other.modes
                    and user.rooms.keys().isdisjoint(other.rooms)
                ):
                    continue
                if mask_matches(pattern, other.mask if full else other.nick):
                    _who_line(chat, client, other, _visible_room(user, other), whox)
                    shown += 1
    chat.numeric(client, n.RPL_ENDOFWHO, mask, "End of /WHO list" if shown else n.ENDOFWHO_NOBODY)


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
    if ("o" in user.modes or other is user) and other.ip != other.host:
        # The real address behind the cloak: for operators, and for the user themselves.
        chat.numeric(
            client,
            n.RPL_WHOISACTUALLY,
            other.nick,
            f"{other.username}@{other.ip}",
            shown_address(other.ip),
            "Actual user@host, Actual IP",
        )
    if "B" in other.modes:
        chat.numeric(
            client, n.RPL_WHOISBOT, other.nick, f"is a Bot on {chat.config.server.network}"
        )
    if other.account:
        chat.numeric(client, n.RPL_WHOISACCOUNT, other.nick, other.account, "is logged in as")
    if other.clients and all(c.secure for c in other.clients):
        chat.numeric(client, n.RPL_WHOISSECURE, other.nick, "is using a secure connection")
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
