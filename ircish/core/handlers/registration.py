"""Connection registration and lifetime: CAP, PASS, NICK, USER, PING, PONG, QUIT."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from ircish.core import accounts, replay, replies, state
from ircish.core.bans import refusal_text
from ircish.core.caps import offered
from ircish.core.command import Command
from ircish.core.confusables import skeleton
from ircish.core.events import CapReply, Pong
from ircish.core.handlers.rooms import join_room
from ircish.core.names import fold, normalize, precis_problem, valid_nick
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.users import User

log = logging.getLogger("ircish.core")

#: CAP LS replies are split so that each line stays well inside 512 bytes.
_CAP_CHUNK = 380


def offered_caps(chat: Chat) -> dict[str, str]:
    """The capabilities this server offers now (history ones only with history on)."""
    return offered(chat.storage is not None, replay.history_storage(chat) is not None)


def sts_policy(chat: Chat, client: Client) -> str:
    """The IRCv3 ``sts`` value for this connection; "" when there is no policy."""
    tls = chat.config.tls
    if not tls.sts_port:
        return ""
    if not client.secure:
        return f"port={tls.sts_port}"
    return f"duration={tls.sts_duration}" + (",preload" if tls.sts_preload else "")


def _cap_ls(chat: Chat, client: Client) -> None:
    values = client.cap_version >= 302
    caps = offered_caps(chat)
    items = [f"{k}={v}" if values and v else k for k, v in caps.items()]
    sts = sts_policy(chat, client)
    if sts and values:
        # Listed, never requested (CAP REQ refuses it): a policy, not a feature.
        items.append(f"sts={sts}")
    chunks: list[list[str]] = [[]]
    size = 0
    for item in items:
        if chunks[-1] and size + len(item) + 1 > _CAP_CHUNK:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += len(item) + 1
    for i, chunk in enumerate(chunks):
        more = values and i < len(chunks) - 1
        chat.reply(client, CapReply("LS", " ".join(chunk), more))


def handle_cap(chat: Chat, client: Client, cmd: Command) -> None:
    """CAP LS [302] | CAP LIST | CAP REQ :<caps> | CAP END"""
    sub = cmd.params[0].upper()
    registered = client.user.registered
    if sub == "LS":
        if not registered:
            client.cap_negotiating = True
        if len(cmd.params) > 1 and cmd.params[1].isdigit():
            client.cap_version = max(client.cap_version, int(cmd.params[1]))
        _cap_ls(chat, client)
    elif sub == "LIST":
        chat.reply(client, CapReply("LIST", " ".join(sorted(client.caps))))
    elif sub == "REQ":
        if not registered:
            client.cap_negotiating = True
        wanted = cmd.params[1] if len(cmd.params) > 1 else ""
        caps = set(client.caps)
        available = offered_caps(chat)
        for item in wanted.split():
            name = item.removeprefix("-")
            if name not in available:
                chat.reply(client, CapReply("NAK", wanted))
                return
            if item.startswith("-"):
                caps.discard(name)
            else:
                caps.add(name)
        client.set_caps(frozenset(caps))
        chat.reply(client, CapReply("ACK", wanted))
    elif sub == "END":
        if not registered and client.cap_negotiating:
            client.cap_negotiating = False
            try_register(chat, client)
    else:
        raise CommandError(n.ERR_INVALIDCAPCMD, sub, text="Invalid CAP command")


def handle_pass(chat: Chat, client: Client, cmd: Command) -> None:
    """PASS <password>"""
    if client.user.registered:
        raise CommandError(n.ERR_ALREADYREGISTERED)
    client.password_ok = cmd.params[0] == chat.config.server.password


def handle_nick(chat: Chat, client: Client, cmd: Command) -> None:
    """NICK <nickname>"""
    if not cmd.params or not cmd.params[0]:
        raise CommandError(n.ERR_NONICKNAMEGIVEN)
    user = client.user
    nick = normalize(cmd.params[0])
    max_len = chat.config.limits.max_nick_length
    if not valid_nick(nick, max_len):
        # IRC's own rules have their usual wording; what only PRECIS refuses is explained.
        why = precis_problem(nick) if valid_nick(nick, max_len, precis=False) else None
        if why is None:
            raise CommandError(n.ERR_ERRONEUSNICKNAME, nick)
        raise CommandError(
            n.ERR_ERRONEUSNICKNAME, nick, text=f"{nick} is not a valid nickname: it has {why}"
        )
    check_free(chat, user, nick)
    if not user.registered:
        user.set_nick(nick)
        try_register(chat, client)
        return
    if nick == user.nick:
        return
    ban = chat.bans.nick_ban(user, nick)
    if ban is not None:
        # Registration checks K-lines; a new nickname must not slip past one afterwards.
        raise CommandError(
            n.ERR_ERRONEUSNICKNAME, nick, text=f"{nick} is banned from this server: {ban.reason}"
        )
    network = chat.network
    if network is not None and fold(nick) != user.folded:
        # Unique across the network: the change waits for the claim in Redis.
        client.claiming = fold(nick)
        network.claim_nick(user, nick, functools.partial(_nick_claimed, chat, client, nick))
        return
    change_nick(chat, user, nick)


def change_nick(chat: Chat, user: User, nick: str) -> None:
    """A registered user's nickname changes (checked, and claimed in a cluster)."""
    old = user.nick
    state.nick(chat, user, nick)
    log.info("%s is now known as %s", old, nick)
    accounts.check_nick(chat, user)


def _nick_claimed(chat: Chat, client: Client, nick: str, ok: bool) -> None:
    """The network answered a registered user's NICK claim."""
    if client.claiming == fold(nick):
        client.claiming = ""
    if client.quitting:
        return
    with chat.outbox(client):
        try:
            if not ok:
                raise CommandError(n.ERR_NICKNAMEINUSE, nick)
            # Someone here may have taken it (or a look-alike) while the claim was away.
            check_free(chat, client.user, nick)
        except CommandError as exc:
            chat.error(client, exc)
            return
        if nick != client.user.nick:
            change_nick(chat, client.user, nick)


def _registration_claimed(chat: Chat, client: Client, folded: str, ok: bool) -> None:
    """The network answered the claim of a registering user's nickname."""
    client.claiming = ""
    if client.quitting or client.user.registered:
        return
    with chat.outbox(client):
        if ok:
            client.claimed = folded
        elif client.user.folded == folded:
            nick = client.user.nick
            client.user.set_nick("*")
            chat.error(client, CommandError(n.ERR_NICKNAMEINUSE, nick))
            return
        try:
            try_register(chat, client)
        except CommandError as exc:
            chat.error(client, exc)


def handle_user(chat: Chat, client: Client, cmd: Command) -> None:
    """USER <username> <mode> <unused> :<realname>"""
    user = client.user
    if user.registered:
        raise CommandError(n.ERR_ALREADYREGISTERED)
    if not cmd.params[3].strip():
        raise CommandError(n.ERR_NEEDMOREPARAMS, "USER")
    raw = "".join(ch for ch in cmd.params[0] if (ch.isascii() and ch.isalnum()) or ch in "-_.")
    # No ident lookup is done, so the username carries the conventional "~".
    user.username = "~" + (raw[:10] or "user")
    user.realname = cmd.params[3][: replies.MAX_REALNAME]
    user.update_mask()
    try_register(chat, client)


def handle_ping(chat: Chat, client: Client, cmd: Command) -> None:
    """PING <token>"""
    chat.reply(client, Pong(cmd.params[0]))


def handle_pong(chat: Chat, client: Client, cmd: Command) -> None:
    """PONG [<server>] <token>: activity is all that matters, and dispatch noted it."""


def handle_quit(chat: Chat, client: Client, cmd: Command) -> None:
    """QUIT [<reason>]"""
    reason = cmd.params[0] if cmd.params and cmd.params[0] else ""
    # What the user said is not logged (message contents stay out of logs).
    chat.disconnect(client, f"Quit: {reason}" if reason else "Quit", logged="Quit")


def check_free(chat: Chat, user: User, nick: str) -> None:
    """Refuse (433) a nickname someone else holds, a service's, or a look-alike of either
    or of a registered account's name (``ircish.core.confusables``).

    Only NICK and registration pay for the skeleton; a user's own look-alikes (a change
    of case, ``bob`` to ``B0b``, their own account's name) stay allowed.
    """
    if chat.users.taken(nick, by=user) or fold(nick) in accounts.SERVICES:
        raise CommandError(n.ERR_NICKNAMEINUSE, nick)
    like = accounts.SERVICE_SKELETONS.get(skeleton(nick))
    if like is not None:
        raise _lookalike(nick, f"{like}, a service")
    other = chat.users.lookalike(nick, by=user)
    if other is not None:
        raise _lookalike(nick, f"{other.nick}, who is online")
    name = accounts.lookalike_account(chat, nick, user)
    if name is not None:
        raise _lookalike(nick, f"the registered nickname {name}")


def _lookalike(nick: str, what: str) -> CommandError:
    return CommandError(
        n.ERR_NICKNAMEINUSE, nick, text=f"{nick} looks too much like {what}: pick another nickname"
    )


def try_register(chat: Chat, client: Client) -> None:
    """Finish registration once NICK (and USER, and CAP END) have arrived."""
    user = client.user
    if user.registered or user.nick == "*" or not user.username or client.cap_negotiating:
        return
    ban = chat.bans.user_ban(user)
    if ban is not None:
        log.info("refused %s from %s: %s-line %s", user.nick, user.ip, ban.kind, ban.mask)
        why = refusal_text(ban)
        chat.numeric(client, n.ERR_YOUREBANNEDCREEP, why)
        chat.disconnect(client, why)
        return
    if chat.config.server.password and not client.password_ok:
        if client.dialect.password_retry:
            user.set_nick("*")
            raise CommandError(
                n.ERR_PASSWDMISMATCH,
                text="This server needs a password: type /pass PASSWORD, then your nickname",
            )
        chat.numeric(client, n.ERR_PASSWDMISMATCH, n.ERROR_TEXT[n.ERR_PASSWDMISMATCH])
        chat.disconnect(client, "Bad password")
        return
    try:
        # Someone may have taken the nick (or a look-alike) since this user's NICK.
        check_free(chat, user, user.nick)
    except CommandError:
        user.set_nick("*")
        raise
    network = chat.network
    if network is not None and client.claimed != user.folded:
        # Unique across the network: registration waits for the claim in Redis.
        if client.claiming != user.folded:
            client.claiming = user.folded
            done = functools.partial(_registration_claimed, chat, client, user.folded)
            network.claim_nick(user, user.nick, done)
        return
    if not user.realname:
        user.realname = user.nick
    state.register(chat, user)
    if network is not None:
        network.user_registered(user)
    log.info("%s registered from %s (%s)", user.nick, user.ip, client.dialect.name)
    replies.send_welcome(chat, client)
    room = chat.config.server.default_room
    if room and client.dialect.joins_default_room(chat):
        join_room(chat, client, room, "")
    accounts.after_welcome(chat, client)
