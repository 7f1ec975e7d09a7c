"""Connection registration and lifetime: CAP, PASS, NICK, USER, PING, PONG, QUIT."""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ircish.config import Config
from ircish.core.command import Command
from ircish.core.events import CapReply, NickChange, Pong
from ircish.core.names import normalize, valid_nick
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.users import User

log = logging.getLogger("ircish.core")

#: IRCv3 capabilities this server implements, in the order CAP LS lists them.
CAPABILITIES: tuple[str, ...] = (
    "away-notify",
    "echo-message",
    "extended-join",
    "multi-prefix",
    "server-time",
    "userhost-in-names",
)


def handle_cap(chat: Chat, user: User, cmd: Command) -> None:
    """CAP LS [302] | CAP LIST | CAP REQ :<caps> | CAP END"""
    sub = cmd.params[0].upper()
    if sub == "LS":
        if not user.registered:
            user.cap_negotiating = True
        chat.send(user, CapReply("LS", " ".join(CAPABILITIES)))
    elif sub == "LIST":
        chat.send(user, CapReply("LIST", " ".join(sorted(user.caps))))
    elif sub == "REQ":
        if not user.registered:
            user.cap_negotiating = True
        wanted = cmd.params[1] if len(cmd.params) > 1 else ""
        caps = set(user.caps)
        for item in wanted.split():
            name = item.removeprefix("-")
            if name not in CAPABILITIES:
                chat.send(user, CapReply("NAK", wanted))
                return
            if item.startswith("-"):
                caps.discard(name)
            else:
                caps.add(name)
        user.caps = frozenset(caps)
        user.refresh_render_key()
        chat.send(user, CapReply("ACK", wanted))
    elif sub == "END":
        if not user.registered and user.cap_negotiating:
            user.cap_negotiating = False
            try_register(chat, user)
    else:
        raise CommandError("410", sub, text="Invalid CAP command")


def handle_pass(chat: Chat, user: User, cmd: Command) -> None:
    """PASS <password>"""
    if user.registered:
        raise CommandError(n.ERR_ALREADYREGISTERED)
    user.password_ok = cmd.params[0] == chat.config.server.password


def handle_nick(chat: Chat, user: User, cmd: Command) -> None:
    """NICK <nickname>"""
    if not cmd.params or not cmd.params[0]:
        raise CommandError(n.ERR_NONICKNAMEGIVEN)
    nick = normalize(cmd.params[0])
    if not valid_nick(nick, chat.config.limits.max_nick_length):
        raise CommandError(n.ERR_ERRONEUSNICKNAME, nick)
    if chat.users.taken(nick, by=user):
        raise CommandError(n.ERR_NICKNAMEINUSE, nick)
    if not user.registered:
        user.set_nick(nick)
        try_register(chat, user)
        return
    if nick == user.nick:
        return
    event = NickChange(user.mask, user.nick, nick)
    old = user.nick
    chat.users.rename(user, nick)
    recipients = user.peers()
    recipients.add(user)
    chat.fanout(recipients, event)
    log.info("%s is now known as %s", old, nick)


def handle_user(chat: Chat, user: User, cmd: Command) -> None:
    """USER <username> <mode> <unused> :<realname>"""
    if user.registered:
        raise CommandError(n.ERR_ALREADYREGISTERED)
    raw = "".join(ch for ch in cmd.params[0] if (ch.isascii() and ch.isalnum()) or ch in "-_.")
    # No ident lookup is done, so the username carries the conventional "~".
    user.username = "~" + (raw[:10] or "user")
    user.realname = cmd.params[3][:100]
    user.update_mask()
    try_register(chat, user)


def handle_ping(chat: Chat, user: User, cmd: Command) -> None:
    """PING <token>"""
    chat.send(user, Pong(cmd.params[0]))


def handle_pong(chat: Chat, user: User, cmd: Command) -> None:
    """PONG [<server>] <token>: activity is all that matters, and dispatch noted it."""


def handle_quit(chat: Chat, user: User, cmd: Command) -> None:
    """QUIT [<reason>]"""
    reason = cmd.params[0] if cmd.params and cmd.params[0] else ""
    chat.disconnect(user, f"Quit: {reason}" if reason else "Quit")


def try_register(chat: Chat, user: User) -> None:
    """Finish registration once NICK (and USER, and CAP END) have arrived."""
    if user.registered or user.nick == "*" or not user.username or user.cap_negotiating:
        return
    if chat.config.server.password and not user.password_ok:
        if user.dialect.name == "plain":
            # A human gets another try; an IRC client cannot fix it without a reconnect.
            user.set_nick("*")
            raise CommandError(
                n.ERR_PASSWDMISMATCH,
                text="This server needs a password: type /pass PASSWORD, then your nickname",
            )
        chat.numeric(user, n.ERR_PASSWDMISMATCH, n.ERROR_TEXT[n.ERR_PASSWDMISMATCH])
        chat.disconnect(user, "Bad password")
        return
    if chat.users.taken(user.nick, by=user):
        nick = user.nick
        user.set_nick("*")
        raise CommandError(n.ERR_NICKNAMEINUSE, nick)
    user.registered = True
    if not user.realname:
        user.realname = user.nick
    chat.users.add(user)
    log.info("%s registered from %s (%s)", user.nick, user.host, user.dialect.name)
    send_welcome(chat, user)
    room = chat.config.server.default_room
    if room and (user.dialect.name == "plain" or chat.config.server.auto_join_irc):
        from ircish.core.handlers.rooms import join_room  # noqa: PLC0415 - sibling module

        join_room(chat, user, room, "")


def isupport_tokens(chat: Chat) -> tuple[str, ...]:
    """The ISUPPORT (005) tokens; each one describes something implemented."""
    return _isupport_tokens(chat.config)


@functools.lru_cache(maxsize=8)
def _isupport_tokens(config: Config) -> tuple[str, ...]:
    # Cached: every registration sends these, and the config never changes under a Chat.
    lim = config.limits
    return (
        f"AWAYLEN={lim.max_topic_length}",
        "CASEMAPPING=rfc8265",
        f"CHANLIMIT=#:{lim.max_rooms_per_user}",
        "CHANMODES=b,k,l,int",
        f"CHANNELLEN={lim.max_room_name_length}",
        "CHANTYPES=#",
        f"KICKLEN={lim.max_topic_length}",
        "MAXTARGETS=4",
        "MODES=4",
        f"NETWORK={config.server.network}",
        f"NICKLEN={lim.max_nick_length}",
        "PREFIX=(ov)@+",
        "TARGMAX=JOIN:,KICK:1,NAMES:1,NOTICE:4,PART:,PRIVMSG:4,WHOIS:1",
        f"TOPICLEN={lim.max_topic_length}",
        "UTF8ONLY",
    )


def send_welcome(chat: Chat, user: User) -> None:
    """001-005, LUSERS and MOTD, as every IRC client expects after registering."""
    server = chat.server_name
    created = _created_text(chat.created)
    chat.numeric(
        user,
        n.RPL_WELCOME,
        f"Welcome to the {chat.config.server.network} IRC Network {user.mask}",
    )
    chat.numeric(user, n.RPL_YOURHOST, f"Your host is {server}, running version {chat.version}")
    chat.numeric(user, n.RPL_CREATED, f"This server was created {created}")
    chat.numeric(user, n.RPL_MYINFO, server, chat.version, "i", "iklnot", "klov")
    send_isupport(chat, user)
    from ircish.core.handlers.info import send_lusers, send_motd  # noqa: PLC0415

    send_lusers(chat, user)
    send_motd(chat, user)


@functools.lru_cache(maxsize=8)
def _created_text(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def send_isupport(chat: Chat, user: User) -> None:
    tokens = isupport_tokens(chat)
    for i in range(0, len(tokens), 12):
        chat.numeric(user, n.RPL_ISUPPORT, *tokens[i : i + 12], "are supported by this server")
