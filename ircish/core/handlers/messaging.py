"""Messages between users and rooms: PRIVMSG, NOTICE, TAGMSG, AWAY."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ircish.core import state
from ircish.core.command import Command
from ircish.core.events import Event, Multiline, Privmsg, TagMsg, ToRoom, ToSelf, ToUsers
from ircish.core.handlers import batch, services
from ircish.core.names import is_room_name
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.rooms import Room
    from ircish.core.users import User

log = logging.getLogger("ircish.messages")

MAX_TARGETS = 4
#: STATUSMSG prefixes (ISUPPORT ``STATUSMSG=@+``) and the status each one reaches.
STATUS_PREFIXES = {"@": "o", "+": "v"}


def handle_privmsg(chat: Chat, client: Client, cmd: Command) -> None:
    """PRIVMSG <target>{,<target>} <text>"""
    _message(chat, client, cmd, notice=False)


def handle_notice(chat: Chat, client: Client, cmd: Command) -> None:
    """NOTICE <target>{,<target>} <text>: like PRIVMSG, but never answered with an error."""
    _message(chat, client, cmd, notice=True)


def handle_tagmsg(chat: Chat, client: Client, cmd: Command) -> None:
    """TAGMSG <target>{,<target>}: only client tags (typing, reactions)"""
    if "batch" in cmd.tags:
        batch.absorb(chat, client, cmd)  # which refuses it: multiline is PRIVMSG or NOTICE
        return
    tags = client_tags(cmd)
    if not tags:
        # Nothing to relay (ergo drops it too; with labeled-response the answer is ACK).
        return
    user = client.user
    for target in [t for t in cmd.params[0].split(",") if t][:MAX_TARGETS]:
        try:
            deliver(chat, client, target, lambda name: TagMsg(user.mask, user.nick, name), tags)
        except CommandError as exc:
            chat.error(client, exc)


def client_tags(cmd: Command) -> tuple[tuple[str, str], ...]:
    """The client-only tags (``+name``) of a command: the only ones relayed."""
    if not cmd.tags:
        return ()
    return tuple((k, v) for k, v in cmd.tags.items() if k.startswith("+"))


def _message(chat: Chat, client: Client, cmd: Command, *, notice: bool) -> None:
    if "batch" in cmd.tags:
        # A line of a draft/multiline batch: delivered with the rest at BATCH -ref.
        batch.absorb(chat, client, cmd)
        return
    if not cmd.params or not cmd.params[0]:
        if notice:
            return
        raise CommandError(n.ERR_NORECIPIENT, text=f"No recipient given ({cmd.verb})")
    if len(cmd.params) < 2 or not cmd.params[1]:
        if notice:
            return
        raise CommandError(n.ERR_NOTEXTTOSEND)
    text = cmd.params[1]
    user = client.user
    tags = client_tags(cmd)
    targets = [t for t in cmd.params[0].split(",") if t]
    for target in targets[:MAX_TARGETS]:
        service = services.is_service(target)
        if service is not None:
            # Never delivered, stored or logged: it may carry a password.
            services.message(chat, client, service, text, notice=notice)
            continue
        try:
            deliver(
                chat,
                client,
                target,
                lambda name: Privmsg(user.mask, user.nick, name, text, notice),
                tags,
                notice=notice,
            )
        except CommandError as exc:
            if not notice:
                chat.error(client, exc)
        else:
            if chat.config.logging.log_messages:
                log.info("%s -> %s: %s", user.nick, target, text)


def check_can_speak(chat: Chat, user: User, room: Room) -> None:
    """Raise ERR_CANNOTSENDTOCHAN unless ``user`` may speak in ``room``."""
    member = user in room.members
    if not member and "n" in room.modes:
        raise CommandError(n.ERR_CANNOTSENDTOCHAN, room.name)
    if "m" not in room.modes and not room.lists["b"]:
        return  # the common case, checked first: every room message passes here
    voiced = member and room.has_status(user, "v")
    if "m" in room.modes and not voiced:
        raise CommandError(n.ERR_CANNOTSENDTOCHAN, room.name, text="Cannot send to channel (+m)")
    if not voiced and room.is_banned(user):
        raise CommandError(n.ERR_CANNOTSENDTOCHAN, room.name, text="Cannot send to channel (+b)")


def deliver(
    chat: Chat,
    client: Client,
    target: str,
    make: Callable[[str], Event],
    tags: tuple[tuple[str, str], ...],
    *,
    notice: bool = False,
) -> None:
    """Emit one message (built by ``make(shown_target)``) to a room, a room's status, or a user."""
    user = client.user
    if "B" in user.modes:
        # Server tags go before client-only tags (IRCv3 message-tags).
        tags = (*state.BOT_TAG, *tags)
    status = ""
    name = target
    if target[:1] in STATUS_PREFIXES and is_room_name(target[1:]):
        status, name = STATUS_PREFIXES[target[0]], target[1:]
    if is_room_name(name):
        room = chat.rooms.get(name)
        if room is None:
            raise CommandError(n.ERR_NOSUCHCHANNEL, name)
        check_can_speak(chat, user, room)
        shown = (target[0] + room.name) if status else room.name
        audience = ToRoom(room.folded, status=status) if status else room.audience
        chat.emit(make(shown), audience, tags=tags, echo=True, account=user.account)
        return
    other = chat.users.get(target)
    if other is None:
        raise CommandError(n.ERR_NOSUCHNICK, target)
    event = make(other.nick)
    if other is user:
        # Delivered to all of one's clients, and echoed as well (IRCv3 labeled-response).
        chat.emit(event, ToSelf(user.uid), tags=tags, echo=True, account=user.account)
    else:
        chat.emit(event, ToUsers((other.uid, user.uid)), tags=tags, echo=True, account=user.account)
    if other.away is not None and not notice and isinstance(event, (Privmsg, Multiline)):
        chat.numeric(client, n.RPL_AWAY, other.nick, other.away)


def handle_away(chat: Chat, client: Client, cmd: Command) -> None:
    """AWAY [<text>]"""
    text = cmd.params[0] if cmd.params else ""
    user = client.user
    if text:
        chat.numeric(client, n.RPL_NOWAWAY, "You have been marked as being away")
        state.away(chat, user, text[: chat.config.limits.max_topic_length])
    else:
        chat.numeric(client, n.RPL_UNAWAY, "You are no longer marked as being away")
        state.away(chat, user, None)
