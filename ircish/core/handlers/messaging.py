"""Messages between users and rooms: PRIVMSG, NOTICE, AWAY."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ircish.core.command import Command
from ircish.core.events import AwayChange, Privmsg
from ircish.core.names import is_room_name
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.users import User

log = logging.getLogger("ircish.messages")

MAX_TARGETS = 4


def handle_privmsg(chat: Chat, user: User, cmd: Command) -> None:
    """PRIVMSG <target>{,<target>} <text>"""
    _message(chat, user, cmd, notice=False)


def handle_notice(chat: Chat, user: User, cmd: Command) -> None:
    """NOTICE <target>{,<target>} <text>: like PRIVMSG, but never answered with an error."""
    _message(chat, user, cmd, notice=True)


def _message(chat: Chat, user: User, cmd: Command, *, notice: bool) -> None:
    if not cmd.params or not cmd.params[0]:
        if notice:
            return
        raise CommandError(n.ERR_NORECIPIENT, text=f"No recipient given ({cmd.verb})")
    if len(cmd.params) < 2 or not cmd.params[1]:
        if notice:
            return
        raise CommandError(n.ERR_NOTEXTTOSEND)
    text = cmd.params[1]
    targets = [t for t in cmd.params[0].split(",") if t]
    for target in targets[:MAX_TARGETS]:
        try:
            deliver_message(chat, user, target, text, notice)
        except CommandError as exc:
            if not notice:
                chat.error(user, exc)


def deliver_message(chat: Chat, user: User, target: str, text: str, notice: bool) -> None:
    """Send one message to a room or a user."""
    echo = "echo-message" in user.caps
    if is_room_name(target):
        room = chat.rooms.get(target)
        if room is None:
            raise CommandError(n.ERR_NOSUCHCHANNEL, target)
        if user not in room.members and "n" in room.modes:
            raise CommandError(n.ERR_CANNOTSENDTOCHAN, room.name)
        event = Privmsg(user.mask, user.nick, room.name, text, notice)
        chat.fanout(room.members, event, exclude=None if echo else user)
    else:
        other = chat.users.get(target)
        if other is None:
            raise CommandError(n.ERR_NOSUCHNICK, target)
        event = Privmsg(user.mask, user.nick, other.nick, text, notice)
        chat.send(other, event)
        if echo:
            chat.send(user, event)
        if other.away is not None and not notice:
            chat.numeric(user, n.RPL_AWAY, other.nick, other.away)
    if chat.config.logging.log_messages:
        log.info("%s -> %s: %s", user.nick, target, text)


def handle_away(chat: Chat, user: User, cmd: Command) -> None:
    """AWAY [<text>]"""
    text = cmd.params[0] if cmd.params else ""
    if text:
        user.away = text[: chat.config.limits.max_topic_length]
        chat.numeric(user, n.RPL_NOWAWAY, "You have been marked as being away")
    else:
        user.away = None
        chat.numeric(user, n.RPL_UNAWAY, "You are no longer marked as being away")
    chat.fanout(user.peers(), AwayChange(user.mask, user.nick, user.away))
