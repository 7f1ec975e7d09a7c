"""ChanServ: registering rooms and managing who gets status in them.

The commands and their wording follow ergo's ChanServ (``irc/chanserv.go``):
REGISTER, UNREGISTER, INFO, OP, DEOP, VOICE, DEVOICE, AMODE, HELP. Every
answer is a notice from ChanServ to the user (``ServiceReply``); status
changes are MODE lines from ChanServ that the whole room sees. What a
registered room keeps, and how, is ``ircish.core.registered``.

Who may do what:
- REGISTER: a room operator logged in to an account, who becomes its founder.
- UNREGISTER and AMODE changes: the founder only.
- OP/VOICE (yourself): founder or an ``o`` access entry for OP, any entry for VOICE;
  DEOP/DEVOICE (yourself): any access entry. On another member: founder or ``o``.
- INFO and the AMODE list: anyone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ircish.core import registered
from ircish.core.events import ServiceReply
from ircish.core.names import fold, is_room_name
from ircish.core.storage import RoomRecord

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.rooms import Room
    from ircish.core.users import User

SERVICE = registered.SERVICE
UNAVAILABLE = "ChanServ is not available on this server"
#: Longest part of a user's argument repeated in an answer.
MAX_ECHO = 64
NOT_LOGGED_IN = "You are not logged in to an account (log in with /login or /msg NickServ IDENTIFY)"

#: Command -> (syntax, what it does), in the order HELP lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "REGISTER": ("REGISTER #channel", "register a channel you are an operator of; you found it"),
    "UNREGISTER": ("UNREGISTER #channel", "forget a channel's registration (founder only)"),
    "INFO": ("INFO #channel", "show who founded a registered channel, and when"),
    "OP": ("OP #channel [nick]", "give +o to yourself, or to nick"),
    "DEOP": ("DEOP #channel [nick]", "take +o from yourself, or from nick"),
    "VOICE": ("VOICE #channel [nick]", "give +v to yourself, or to nick"),
    "DEVOICE": ("DEVOICE #channel [nick]", "take +v from yourself, or from nick"),
    "AMODE": (
        "AMODE #channel [+o|-o|+v|-v account]",
        "list the access list, or give an account +o/+v on every join (founder only)",
    ),
    "HELP": ("HELP [command]", "this list, or one command's syntax"),
}


class ServiceError(Exception):
    """A ChanServ command failed; the text is what the user is told."""


def _say(chat: Chat, client: Client, text: str) -> None:
    chat.reply(client, ServiceReply(SERVICE, text))


def handle_chanserv(chat: Chat, client: Client, words: list[str]) -> None:
    """ChanServ <command> [<args>...] (the words of a message to ChanServ)"""
    if not words:
        words = ["HELP"]
    verb = words[0].upper()
    args = words[1:]
    if verb == "HELP":
        _help(chat, client, args)
        return
    if verb not in COMMANDS:
        _say(chat, client, f"Unknown command {words[0][:MAX_ECHO]}; HELP lists the commands")
        return
    if chat.storage is None:
        _say(chat, client, UNAVAILABLE)
        return
    if not args or not is_room_name(args[0]):
        _say(chat, client, f"Syntax: {COMMANDS[verb][0]}")
        return
    # Echoed back in answers: keep a junk argument from making an overlong line.
    args[0] = args[0][:MAX_ECHO]
    try:
        HANDLERS[verb](chat, client, args)
    except ServiceError as exc:
        _say(chat, client, str(exc))


def _help(chat: Chat, client: Client, args: list[str]) -> None:
    if args and args[0].upper() in COMMANDS:
        syntax, text = COMMANDS[args[0].upper()]
        _say(chat, client, f"Syntax: {syntax}")
        _say(chat, client, text[0].upper() + text[1:])
        return
    _say(chat, client, "ChanServ lets you register and manage channels. Commands:")
    for syntax, text in COMMANDS.values():
        _say(chat, client, f"{syntax}: {text}")


# -- checks ---------------------------------------------------------------------


def _account(user: User) -> str:
    if not user.account:
        raise ServiceError(NOT_LOGGED_IN)
    return user.account


def _record(chat: Chat, name: str) -> RoomRecord:
    rec = registered.record(chat, fold(name))
    if rec is None:
        raise ServiceError(f"Channel {name} is not registered")
    return rec


def _live(chat: Chat, name: str) -> Room:
    room = chat.rooms.get(name)
    if room is None:
        raise ServiceError(f"No such channel: {name} (nobody is in it)")
    return room


def _founder(rec: RoomRecord, account: str) -> None:
    if fold(account) != fold(rec.founder):
        raise ServiceError(f"Only the founder of {rec.name} ({rec.founder}) can do this")


# -- commands -------------------------------------------------------------------


def _register(chat: Chat, client: Client, args: list[str]) -> None:
    """REGISTER #channel"""
    user = client.user
    account = _account(user)
    room = _live(chat, args[0])
    if room.folded in chat.registered_rooms:
        raise ServiceError(f"Channel {room.name} is already registered")
    if not room.is_op(user):
        raise ServiceError(f"You must be an operator of {room.name} to register it")
    limit = chat.config.limits.max_registered_rooms
    if registered.founded_by(chat, account) >= limit:
        raise ServiceError(
            f"{account} already founded {limit} registered channels, the most one account "
            "may have; unregister one first"
        )
    registered.register(chat, room, account)
    _say(chat, client, f"Channel {room.name} successfully registered; {account} is its founder")


def _unregister(chat: Chat, client: Client, args: list[str]) -> None:
    """UNREGISTER #channel"""
    account = _account(client.user)
    rec = _record(chat, args[0])
    _founder(rec, account)
    registered.unregister(chat, fold(rec.name))
    _say(chat, client, f"Channel {rec.name} is now unregistered")


def _info(chat: Chat, client: Client, args: list[str]) -> None:
    """INFO #channel"""
    rec = _record(chat, args[0])
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(rec.created))
    _say(chat, client, f"Channel {rec.name} is registered")
    _say(chat, client, f"Founder: {rec.founder}")
    _say(chat, client, f"Registered: {when}")
    _say(chat, client, f"Access list: {len(rec.access)} accounts (AMODE {rec.name} lists them)")


def _status(chat: Chat, client: Client, args: list[str], sign: str, letter: str) -> None:
    """OP/DEOP/VOICE/DEVOICE #channel [nick]"""
    user = client.user
    account = _account(user)
    rec = _record(chat, args[0])
    room = _live(chat, args[0])
    mine = registered.access_in(rec, account)
    target = user
    if len(args) > 1:
        found = chat.users.get(args[1])
        if found is None:
            raise ServiceError(f"No such nick: {args[1][:MAX_ECHO]}")
        target = found
    if target is not user:
        if mine != "o":
            raise ServiceError(f"You need operator access to {room.name} to do this to others")
    elif not mine or (sign == "+" and letter == "o" and mine != "o"):
        raise ServiceError(
            f"You have no {'operator ' if letter == 'o' else ''}access to {room.name}"
        )
    if target not in room.members:
        raise ServiceError(f"{target.nick} is not in {room.name}")
    has = letter in room.members[target]
    if has == (sign == "+"):
        raise ServiceError(f"{target.nick} {'already has' if has else 'does not have'} +{letter}")
    registered.set_status(chat, room, [(sign, letter, target)])
    _say(chat, client, f"{'Gave' if sign == '+' else 'Took'} {sign}{letter} {target.nick}")


def _amode(chat: Chat, client: Client, args: list[str]) -> None:
    """AMODE #channel [+o|-o|+v|-v account]"""
    rec = _record(chat, args[0])
    if len(args) == 1:
        _say(chat, client, f"Channel {rec.name} has {len(rec.access) + 1} persistent modes set")
        _say(chat, client, f"Account {rec.founder} receives mode +o (founder)")
        for name, letter in sorted(rec.access.items()):
            _say(chat, client, f"Account {name} receives mode +{letter}")
        return
    change = args[1]
    if len(args) != 3 or change not in ("+o", "-o", "+v", "-v"):
        raise ServiceError(f"Syntax: {COMMANDS['AMODE'][0]}")
    _founder(rec, _account(client.user))
    sign, letter = change[0], change[1]
    target = fold(args[2])
    if target == fold(rec.founder):
        raise ServiceError(f"{rec.founder} is the founder of {rec.name} and always gets +o")
    if sign == "+":
        assert chat.storage is not None
        if chat.storage.account(target) is None:
            raise ServiceError(f"Account {args[2][:MAX_ECHO]} does not exist")
        if rec.access.get(target) == letter:
            raise ServiceError("No changes were made")
        rec.access[target] = letter
    else:
        if rec.access.get(target) != letter:
            raise ServiceError("No changes were made")
        del rec.access[target]
    registered.update(chat, rec)
    _say(chat, client, f"Successfully set persistent mode {change} on {args[2]}")
    # As ergo: the change applies to the account's members in the room now.
    room = chat.rooms.get(rec.name)
    if room is not None:
        members = [m for m in room.members if m.account and fold(m.account) == target]
        registered.set_status(chat, room, [(sign, letter, m) for m in members])


HANDLERS: dict[str, Callable[[Chat, Client, list[str]], None]] = {
    "REGISTER": _register,
    "UNREGISTER": _unregister,
    "INFO": _info,
    "OP": lambda chat, client, args: _status(chat, client, args, "+", "o"),
    "DEOP": lambda chat, client, args: _status(chat, client, args, "-", "o"),
    "VOICE": lambda chat, client, args: _status(chat, client, args, "+", "v"),
    "DEVOICE": lambda chat, client, args: _status(chat, client, args, "-", "v"),
    "AMODE": _amode,
}
