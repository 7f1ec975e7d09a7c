"""ChanServ: registering rooms and managing who gets status in them.

The commands and their wording follow ergo's ChanServ (``irc/chanserv.go``):
REGISTER, UNREGISTER, INFO, OP, DEOP, VOICE, DEVOICE, AMODE, TRANSFER, CLEAR,
HELP. Every
answer is a notice from ChanServ to the user (``ServiceReply``), written once
as a template whose ``{room}``/``{Room}`` is IRC's "channel" for IRC clients and
"room" for people on netcat (the values filled in are never read as templates); status
changes are MODE lines from ChanServ that the whole room sees. What a
registered room keeps, and how, is ``ircish.core.registered``.

Who may do what:
- REGISTER: a room operator logged in to an account, who becomes its founder.
- UNREGISTER, AMODE changes, TRANSFER and CLEAR: the founder only; a TRANSFER
  takes effect when the account it offers the room to accepts it (as ergo asks,
  so that no one is made founder by mistake or against their will).
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
    "REGISTER": ("REGISTER #{room}", "register a {room} you are an operator of; you found it"),
    "UNREGISTER": ("UNREGISTER #{room}", "forget a {room}'s registration (founder only)"),
    "INFO": ("INFO #{room}", "show who founded a registered {room}, and when"),
    "OP": ("OP #{room} [nick]", "give +o to yourself, or to nick"),
    "DEOP": ("DEOP #{room} [nick]", "take +o from yourself, or from nick"),
    "VOICE": ("VOICE #{room} [nick]", "give +v to yourself, or to nick"),
    "DEVOICE": ("DEVOICE #{room} [nick]", "take +v from yourself, or from nick"),
    "AMODE": (
        "AMODE #{room} [+o|-o|+v|-v account]",
        "list the access list, or give an account +o/+v on every join (founder only)",
    ),
    "TRANSFER": (
        "TRANSFER #{room} account | TRANSFER ACCEPT #{room}",
        "offer a {room} you founded to another account, which becomes founder on accepting",
    ),
    "CLEAR": (
        "CLEAR #{room} ACCESS|BANS",
        "empty the access list, or lift every ban (founder only)",
    ),
    "HELP": ("HELP [command]", "this list, or one command's syntax"),
}


#: What a room is called in an answer: IRC's word, and the one people on netcat read.
IRC_NOUN, HUMAN_NOUN = "channel", "room"


class ServiceError(Exception):
    """A ChanServ command failed: a ``_say`` template and its values, what the user is told."""

    def __init__(self, template: str, **values: object) -> None:
        super().__init__(template)
        self.template = template
        self.values = values


def _say(chat: Chat, client: Client, template: str, **values: object) -> None:
    """Tell ``client`` ``template`` (``{room}``, ``{Room}`` and ``values`` filled in)."""

    def word(noun: str) -> str:
        return template.format(room=noun, Room=noun.capitalize(), **values)

    text, human = word(IRC_NOUN), word(HUMAN_NOUN)
    chat.reply(client, ServiceReply(SERVICE, text, human if human != text else ""))


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
        _say(
            chat,
            client,
            "Unknown command {verb}; HELP lists the commands",
            verb=words[0][:MAX_ECHO],
        )
        return
    if chat.storage is None:
        _say(chat, client, UNAVAILABLE)
        return
    if verb == "TRANSFER" and len(args) == 2 and args[0].upper() == "ACCEPT":
        args = [args[1], "ACCEPT"]  # ergo's order: TRANSFER ACCEPT #room
    if not args or not is_room_name(args[0]):
        _say(chat, client, "Syntax: " + COMMANDS[verb][0])
        return
    # Echoed back in answers: keep a junk argument from making an overlong line.
    args[0] = args[0][:MAX_ECHO]
    try:
        HANDLERS[verb](chat, client, args)
    except ServiceError as exc:
        _say(chat, client, exc.template, **exc.values)


def _help(chat: Chat, client: Client, args: list[str]) -> None:
    if args and args[0].upper() in COMMANDS:
        syntax, text = COMMANDS[args[0].upper()]
        _say(chat, client, "Syntax: " + syntax)
        _say(chat, client, text[0].upper() + text[1:])
        return
    _say(chat, client, "ChanServ lets you register and manage {room}s. Commands:")
    for syntax, text in COMMANDS.values():
        _say(chat, client, syntax + ": " + text)


# -- checks ---------------------------------------------------------------------


def _account(user: User) -> str:
    if not user.account:
        raise ServiceError(NOT_LOGGED_IN)
    return user.account


def _record(chat: Chat, name: str) -> RoomRecord:
    rec = registered.record(chat, fold(name))
    if rec is None:
        raise ServiceError("{Room} {name} is not registered", name=name)
    return rec


def _live(chat: Chat, name: str) -> Room:
    room = chat.rooms.get(name)
    if room is None:
        raise ServiceError("No such {room}: {name} (nobody is in it)", name=name)
    return room


def _founder(rec: RoomRecord, account: str) -> None:
    if fold(account) != fold(rec.founder):
        raise ServiceError(
            "Only the founder of {name} ({founder}) can do this", name=rec.name, founder=rec.founder
        )


# -- commands -------------------------------------------------------------------


def _register(chat: Chat, client: Client, args: list[str]) -> None:
    """REGISTER #channel"""
    user = client.user
    account = _account(user)
    room = _live(chat, args[0])
    if room.folded in chat.registered_rooms:
        raise ServiceError("{Room} {name} is already registered", name=room.name)
    if not room.is_op(user):
        raise ServiceError("You must be an operator of {name} to register it", name=room.name)
    limit = chat.config.limits.max_registered_rooms
    if registered.founded_by(chat, account) >= limit:
        raise ServiceError(
            "{account} already founded {limit} registered {room}s, the most one account "
            "may have; unregister one first",
            account=account,
            limit=limit,
        )

    def claimed(ok: bool) -> None:
        # Another process may have registered it meanwhile (``Chat.claim_record``).
        if not ok or room.folded in chat.registered_rooms:
            _say(chat, client, "{Room} {name} is already registered", name=room.name)
            return
        registered.register(chat, room, account)
        _say(
            chat,
            client,
            "{Room} {name} successfully registered; {account} is its founder",
            name=room.name,
            account=account,
        )

    chat.claim_record("room", room.folded, registered.new_record(chat, room, account), claimed)


def _unregister(chat: Chat, client: Client, args: list[str]) -> None:
    """UNREGISTER #channel"""
    account = _account(client.user)
    rec = _record(chat, args[0])
    _founder(rec, account)
    registered.unregister(chat, fold(rec.name))
    _say(chat, client, "{Room} {name} is now unregistered", name=rec.name)


def _info(chat: Chat, client: Client, args: list[str]) -> None:
    """INFO #channel"""
    rec = _record(chat, args[0])
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(rec.created))
    _say(chat, client, "{Room} {name} is registered", name=rec.name)
    _say(chat, client, "Founder: {founder}", founder=rec.founder)
    _say(chat, client, "Registered: {when}", when=when)
    _say(
        chat,
        client,
        "Access list: {count} accounts (AMODE {name} lists them)",
        count=len(rec.access),
        name=rec.name,
    )


def _status(chat: Chat, client: Client, args: list[str], sign: str, letter: str) -> None:
    """OP/DEOP/VOICE/DEVOICE #{room} [nick]"""
    user = client.user
    account = _account(user)
    rec = _record(chat, args[0])
    room = _live(chat, args[0])
    mine = registered.access_in(rec, account)
    target = user
    if len(args) > 1:
        found = chat.users.get(args[1])
        if found is None:
            raise ServiceError("No such nick: {nick}", nick=args[1][:MAX_ECHO])
        target = found
    if target is not user:
        if mine != "o":
            raise ServiceError(
                "You need operator access to {name} to do this to others", name=room.name
            )
    elif not mine or (sign == "+" and letter == "o" and mine != "o"):
        raise ServiceError(
            "You have no {kind}access to {name}",
            kind="operator " if letter == "o" else "",
            name=room.name,
        )
    if target not in room.members:
        raise ServiceError("{nick} is not in {name}", nick=target.nick, name=room.name)
    has = letter in room.members[target]
    if has == (sign == "+"):
        raise ServiceError(
            "{nick} {has} +{letter}",
            nick=target.nick,
            has="already has" if has else "does not have",
            letter=letter,
        )
    registered.set_status(chat, room, [(sign, letter, target)])
    _say(
        chat,
        client,
        "{did} {sign}{letter} {nick}",
        did="Gave" if sign == "+" else "Took",
        sign=sign,
        letter=letter,
        nick=target.nick,
    )


def _amode(chat: Chat, client: Client, args: list[str]) -> None:
    """AMODE #{room} [+o|-o|+v|-v account]"""
    rec = _record(chat, args[0])
    if len(args) == 1:
        _say(
            chat,
            client,
            "{Room} {name} has {count} persistent modes set",
            name=rec.name,
            count=len(rec.access) + 1,
        )
        _say(chat, client, "Account {name} receives mode +o (founder)", name=rec.founder)
        for name, letter in sorted(rec.access.items()):
            _say(chat, client, "Account {name} receives mode +{letter}", name=name, letter=letter)
        return
    change = args[1]
    if len(args) != 3 or change not in ("+o", "-o", "+v", "-v"):
        raise ServiceError("Syntax: " + COMMANDS["AMODE"][0])
    _founder(rec, _account(client.user))
    sign, letter = change[0], change[1]
    target = fold(args[2])
    if target == fold(rec.founder):
        raise ServiceError(
            "{founder} is the founder of {name} and always gets +o",
            founder=rec.founder,
            name=rec.name,
        )
    if sign == "+":
        assert chat.storage is not None
        if chat.storage.account(target) is None:
            raise ServiceError("Account {name} does not exist", name=args[2][:MAX_ECHO])
        if rec.access.get(target) == letter:
            raise ServiceError("No changes were made")
        rec.access[target] = letter
    else:
        if rec.access.get(target) != letter:
            raise ServiceError("No changes were made")
        del rec.access[target]
    registered.update(chat, rec)
    _say(
        chat,
        client,
        "Successfully set persistent mode {change} on {name}",
        change=change,
        name=args[2],
    )
    # As ergo: the change applies to the account's members in the room now.
    room = chat.rooms.get(rec.name)
    if room is not None:
        members = [m for m in room.members if m.account and fold(m.account) == target]
        registered.set_status(chat, room, [(sign, letter, m) for m in members])


def _transfer(chat: Chat, client: Client, args: list[str]) -> None:
    """TRANSFER #{room} account | TRANSFER ACCEPT #{room}"""
    account = _account(client.user)
    rec = _record(chat, args[0])
    if len(args) != 2:
        raise ServiceError("Syntax: " + COMMANDS["TRANSFER"][0])
    if args[1] == "ACCEPT":
        if not rec.transfer_to or fold(rec.transfer_to) != fold(account):
            raise ServiceError(
                "{name} was not offered to {account}", name=rec.name, account=account
            )
        limit = chat.config.limits.max_registered_rooms
        if registered.founded_by(chat, account) >= limit:
            raise ServiceError(
                "{account} already founded {limit} registered {room}s; unregister one first",
                account=account,
                limit=limit,
            )
        previous = rec.founder
        rec.founder, rec.transfer_to = account, ""
        # The founder always gets +o; the former founder keeps operator access.
        rec.access.pop(fold(account), None)
        rec.access[fold(previous)] = "o"
        registered.update(chat, rec)
        _say(chat, client, "You are now the founder of {name}", name=rec.name)
        return
    _founder(rec, account)
    assert chat.storage is not None
    offered = chat.storage.account(fold(args[1]))
    if offered is None:
        raise ServiceError("Account {name} does not exist", name=args[1][:MAX_ECHO])
    if fold(offered.name) == fold(account):
        raise ServiceError("You are the founder of {name} already", name=rec.name)
    rec.transfer_to = offered.name
    registered.update(chat, rec)
    _say(
        chat,
        client,
        "{name} is offered to {account}; it becomes founder when it sends: "
        "/msg ChanServ TRANSFER ACCEPT {name}",
        name=rec.name,
        account=offered.name,
    )


def _clear(chat: Chat, client: Client, args: list[str]) -> None:
    """CLEAR #{room} ACCESS|BANS"""
    rec = _record(chat, args[0])
    what = args[1].upper() if len(args) == 2 else ""
    if what not in ("ACCESS", "BANS"):
        raise ServiceError("Syntax: " + COMMANDS["CLEAR"][0])
    _founder(rec, _account(client.user))
    if what == "ACCESS":
        count = len(rec.access)
        rec.access.clear()
        registered.update(chat, rec)
        _say(chat, client, "Cleared {count} access entries of {name}", count=count, name=rec.name)
        return
    room = chat.rooms.get(rec.name)
    if room is not None:
        count = registered.lift_bans(chat, room)
    else:
        count = len(rec.lists.pop("b", []))
        registered.update(chat, rec)
    _say(chat, client, "Lifted {count} bans in {name}", count=count, name=rec.name)


HANDLERS: dict[str, Callable[[Chat, Client, list[str]], None]] = {
    "REGISTER": _register,
    "UNREGISTER": _unregister,
    "INFO": _info,
    "OP": lambda chat, client, args: _status(chat, client, args, "+", "o"),
    "DEOP": lambda chat, client, args: _status(chat, client, args, "-", "o"),
    "VOICE": lambda chat, client, args: _status(chat, client, args, "+", "v"),
    "DEVOICE": lambda chat, client, args: _status(chat, client, args, "-", "v"),
    "AMODE": _amode,
    "TRANSFER": _transfer,
    "CLEAR": _clear,
}
