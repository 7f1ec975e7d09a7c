"""The IRC dialect: the client protocol stock IRC clients speak.

Parsing is ``protocol.message.Message.parse`` plus the protocol's length rules:
512 bytes for the part after the tags (CR LF included), and 4094 bytes of tag
data from a client (IRCv3 message-tags; 8191 is the limit for a whole tag
section, server-added tags included). Longer lines get ``417``.

Rendering writes lines with proper sources (``nick!user@host`` for users, the
server name for numerics) and adds the IRCv3 ``time`` tag to every line for
clients that asked for ``server-time``. The last parameter of a numeric is sent
as a trailing (``:``) parameter, except for the few numerics whose last
parameter is a token (``324 nick #room +nt``), which are sent bare as ergo and
ngircd do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ircish.config import Config
from ircish.core import events as ev
from ircish.core.command import IGNORE, Command, Ignore
from ircish.errors import CommandError
from ircish.protocol import numerics as n
from ircish.protocol.message import Message, MessageParseError

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.users import User

#: Bytes allowed after the tags, CR LF included (RFC 1459 and Modern IRC).
MAX_BODY = 512
#: The whole tag section of a line, ``@`` and the space included (IRCv3 message-tags).
MAX_TAGS = 8191
#: Tag data (between ``@`` and the space) a client may send (IRCv3 message-tags).
MAX_CLIENT_TAG_DATA = 4094
#: Capabilities that change how a broadcast is rendered (see ``render_key``).
_RENDER_CAPS = frozenset({"server-time", "extended-join", "away-notify"})

#: Numerics whose last parameter is a token rather than text.
_TOKEN_LAST = frozenset(
    {
        n.RPL_MYINFO,
        n.RPL_UMODEIS,
        n.RPL_CHANNELMODEIS,
        n.RPL_CREATIONTIME,
        n.RPL_TOPICWHOTIME,
        n.RPL_INVITING,
    }
)

HELP_INTRO = (
    "ircish speaks IRC: JOIN PART PRIVMSG NOTICE TOPIC NAMES LIST WHO WHOIS AWAY "
    "KICK MODE INVITE USERHOST ISON MOTD LUSERS VERSION TIME PING QUIT. "
    "HELP <command> shows its syntax. Netcat users on the same port use /slash commands."
)


def help_text(topic: str) -> str | None:
    """The help for ``topic`` (a command name, or "" for the overview), or None."""
    if not topic:
        return HELP_INTRO
    from ircish.core.dispatch import COMMANDS  # noqa: PLC0415 - the core imports dialects

    spec = COMMANDS.get(topic.upper())
    doc = spec.handler.__doc__ if spec is not None else None
    if not doc:
        return None
    # Each handler's docstring starts with its syntax line.
    return doc.strip().splitlines()[0]


def _needs_trailing(param: str) -> bool:
    return not param or " " in param or param[0] == ":"


def server_time(now: float) -> str:
    """An IRCv3 ``time`` tag value, millisecond precision, UTC."""
    # Whole milliseconds first: ``int((now - secs) * 1000)`` loses one to float error.
    secs, ms = divmod(round(now * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ms:03d}Z"


class IrcDialect:
    """IRC clients: irssi, WeeChat, HexChat, bots."""

    name = "irc"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.server = config.server.name
        self._prefix = ":" + self.server
        #: Where ``server-time`` tags get the time from (tests replace it).
        self.clock: Callable[[], float] = time.time

    def max_line_bytes(self, chat: Chat) -> int:
        return MAX_TAGS + MAX_BODY

    def render_key(self, user: User) -> object:
        return ("irc", user.caps & _RENDER_CAPS)

    def start(self, chat: Chat, user: User) -> None:
        pass

    def parse(self, line: str, user: User) -> Command | Ignore:
        body = line
        if line.startswith("@"):
            space = line.find(" ")
            body = line[space + 1 :] if space >= 0 else ""
            tag_data = line[1:space] if space >= 0 else line[1:]
            if len(tag_data) > MAX_CLIENT_TAG_DATA or (
                not tag_data.isascii()
                and len(tag_data.encode("utf-8", "replace")) > MAX_CLIENT_TAG_DATA
            ):
                raise CommandError(n.ERR_INPUTTOOLONG)
        # Characters never outnumber bytes, so encode only when the count is in doubt.
        if len(body) > MAX_BODY - 2 or (
            not body.isascii() and len(body.encode("utf-8", "replace")) > MAX_BODY - 2
        ):
            raise CommandError(n.ERR_INPUTTOOLONG)
        if not line.strip():
            return IGNORE
        try:
            msg = Message.parse(line)
        except MessageParseError:
            return IGNORE
        return Command(msg.verb, msg.params, msg.tags)

    # -- rendering ------------------------------------------------------------

    def render(self, event: ev.Event, user: User) -> bytes:
        line = self.render_line(event, user)
        if line is None:
            return b""
        if "server-time" in user.caps:
            tag = f"@time={server_time(self.clock())} "
            # Multi-line renderings (HELP) carry the tag on every line.
            line = tag + line.replace("\r\n", "\r\n" + tag)
        return (line + "\r\n").encode("utf-8", "replace")

    def render_line(self, event: ev.Event, user: User) -> str | None:
        """One line (several joined by CR LF for help), without the final CR LF."""
        match event:
            case ev.Privmsg(source=src, target=target, text=text, notice=notice):
                verb = "NOTICE" if notice else "PRIVMSG"
                return f":{src} {verb} {target} :{text}"
            case ev.Numeric(code=code, params=params):
                return self._numeric(user.nick, code, params)
            case ev.Join(source=src, room=room, account=account, realname=realname):
                if "extended-join" in user.caps:
                    return f":{src} JOIN {room} {account} :{realname}"
                return f":{src} JOIN {room}"
            case ev.Part(source=src, room=room, reason=reason):
                return f":{src} PART {room}" + (f" :{reason}" if reason else "")
            case ev.Quit(source=src, reason=reason):
                return f":{src} QUIT :{reason}"
            case ev.NickChange(source=src, new=new):
                return f":{src} NICK {new}"
            case ev.Topic(source=src, room=room, text=text):
                return f":{src} TOPIC {room} :{text}"
            case ev.Kick(source=src, room=room, target=target, reason=reason):
                return f":{src} KICK {room} {target} :{reason}"
            case ev.ModeChange(source=src, target=target, modes=modes, args=args):
                return Message("MODE", (target, modes, *args), src).format()
            case ev.Invite(source=src, target=target, room=room):
                return f":{src} INVITE {target} {room}"
            case ev.AwayChange(source=src, text=text):
                if "away-notify" not in user.caps:
                    return None
                return f":{src} AWAY" + (f" :{text}" if text is not None else "")
            case ev.ServerNotice(text=text):
                return f"{self._prefix} NOTICE {user.nick} :{text}"
            case ev.Closing(reason=reason):
                return f"ERROR :Closing Link: {user.host} ({reason})"
            case ev.Ping(token=token):
                return f"PING :{token}"
            case ev.Pong(token=token):
                return f"{self._prefix} PONG {self.server} :{token}"
            case ev.CapReply(subcommand=sub, caps=caps, more=more):
                star = " *" if more else ""
                return f"{self._prefix} CAP {user.nick} {sub}{star} :{caps}"
            case ev.Help(topic=topic):
                return self._help(user.nick, topic)
            case _:
                # Switched, Greeting: things only humans on netcat are told.
                return None

    def _numeric(self, nick: str, code: str, params: tuple[str, ...]) -> str:
        parts = [self._prefix, code, nick]
        if params:
            # An empty middle parameter cannot be sent; "*" keeps the others in place.
            parts.extend(p or "*" for p in params[:-1])
            last = params[-1]
            if code not in _TOKEN_LAST or _needs_trailing(last):
                last = ":" + last
            parts.append(last)
        return " ".join(parts)

    def _help(self, nick: str, topic: str) -> str:
        subject = topic or "*"
        text = help_text(topic)
        if text is None:
            return self._numeric(
                nick, n.ERR_HELPNOTFOUND, (subject, n.ERROR_TEXT[n.ERR_HELPNOTFOUND])
            )
        return "\r\n".join(
            (
                self._numeric(nick, n.RPL_HELPSTART, (subject, "ircish help")),
                self._numeric(nick, n.RPL_HELPTXT, (subject, text)),
                self._numeric(nick, n.RPL_ENDOFHELP, (subject, "End of /HELP")),
            )
        )
