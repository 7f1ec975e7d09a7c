"""MODE for rooms (o v t n i k l, ban-list queries) and for one's own user (i)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ircish.core.command import Command
from ircish.core.events import ModeChange
from ircish.core.handlers.rooms import find_member
from ircish.core.names import is_room_name
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.rooms import Room
    from ircish.core.users import User

RPL_ENDOFBANLIST = "368"
RPL_ENDOFEXCEPTLIST = "349"
RPL_ENDOFINVITELIST = "347"
_LIST_ENDS = {
    "b": (RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (RPL_ENDOFINVITELIST, "End of channel invite list"),
}
_FLAG_MODES = frozenset("tni")
_MEMBER_MODES = frozenset("ov")
#: Modes with a parameter honoured per MODE command (ISUPPORT ``MODES=4``); later ones are ignored.
MAX_PARAM_MODES = 4


def handle_mode(chat: Chat, user: User, cmd: Command) -> None:
    """MODE <target> [<modestring> [<mode arguments>...]]"""
    target = cmd.params[0]
    if is_room_name(target):
        _room_mode(chat, user, cmd)
        return
    other = chat.users.get(target)
    if other is None:
        raise CommandError(n.ERR_NOSUCHNICK, target)
    if other is not user:
        raise CommandError(n.ERR_USERSDONTMATCH)
    if len(cmd.params) < 2:
        chat.numeric(user, n.RPL_UMODEIS, "+" + "".join(sorted(user.modes)))
        return
    applied = ""
    sign = "+"
    last_sign = ""
    for ch in cmd.params[1]:
        if ch in "+-":
            sign = ch
        elif ch == "i":
            if (sign == "+") != ("i" in user.modes):
                user.modes.symmetric_difference_update("i")
                chat.invisible += 1 if sign == "+" else -1
                applied += ("" if sign == last_sign else sign) + ch
                last_sign = sign
        else:
            chat.numeric(user, n.ERR_UMODEUNKNOWNFLAG, n.ERROR_TEXT[n.ERR_UMODEUNKNOWNFLAG])
    if applied:
        chat.send(user, ModeChange(user.mask, user.nick, user.nick, applied))


def _room_mode(chat: Chat, user: User, cmd: Command) -> None:
    room = chat.rooms.get(cmd.params[0])
    if room is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, cmd.params[0])
    if len(cmd.params) < 2:
        chat.numeric(user, n.RPL_CHANNELMODEIS, room.name, *room.mode_string(user in room.members))
        chat.numeric(user, n.RPL_CREATIONTIME, room.name, str(int(room.created)))
        return
    modestring, args = cmd.params[1], list(cmd.params[2:])
    if modestring.lstrip("+") in _LIST_ENDS:
        code, text = _LIST_ENDS[modestring.lstrip("+")]
        chat.numeric(user, code, room.name, text)
        return
    if user not in room.members:
        raise CommandError(n.ERR_NOTONCHANNEL, room.name)
    if not room.is_op(user):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, room.name)
    changes = _apply(chat, user, room, modestring, args)
    if changes:
        letters = ""
        last = ""
        out_args: list[str] = []
        for sign, letter, arg in changes:
            letters += ("" if sign == last else sign) + letter
            last = sign
            if arg is not None:
                out_args.append(arg)
        chat.fanout(
            room.members, ModeChange(user.mask, user.nick, room.name, letters, tuple(out_args))
        )


def _apply(
    chat: Chat, user: User, room: Room, modestring: str, args: list[str]
) -> list[tuple[str, str, str | None]]:
    """Apply a mode string; return the changes that took effect."""
    sign = "+"
    changes: list[tuple[str, str, str | None]] = []
    with_param = 0
    for letter in modestring:
        if letter in "+-":
            sign = letter
            continue
        adding = sign == "+"
        if letter in _MEMBER_MODES or letter in _LIST_ENDS or (adding and letter in "kl"):
            with_param += 1
            if with_param > MAX_PARAM_MODES:
                continue
        if letter in _FLAG_MODES:
            if adding != (letter in room.modes):
                if adding:
                    room.modes.add(letter)
                else:
                    room.modes.discard(letter)
                changes.append((sign, letter, None))
        elif letter in _MEMBER_MODES:
            if not args:
                continue
            try:
                member = find_member(chat, room, args.pop(0))
            except CommandError as exc:
                chat.error(user, exc)
                continue
            status = room.members[member]
            if adding and letter not in status:
                room.members[member] = "".join(sorted(status + letter, key="ov".index))
                changes.append((sign, letter, member.nick))
            elif not adding and letter in status:
                room.members[member] = status.replace(letter, "")
                changes.append((sign, letter, member.nick))
        elif letter == "k":
            if adding:
                if not args:
                    continue
                key = args.pop(0)
                # A key must be one middle parameter on the wire (MODE, RPL_CHANNELMODEIS).
                if not key or " " in key or "," in key or key.startswith(":"):
                    continue
                room.key = key
                changes.append((sign, letter, key))
            elif room.key:
                if args:
                    args.pop(0)
                room.key = ""
                changes.append((sign, letter, "*"))
        elif letter == "l":
            if adding:
                if not args:
                    continue
                raw = args.pop(0)
                if not raw.isdigit() or int(raw) <= 0:
                    continue
                room.limit = int(raw)
                changes.append((sign, letter, raw))
            elif room.limit:
                room.limit = 0
                changes.append((sign, letter, None))
        elif letter in _LIST_ENDS:
            if args:
                args.pop(0)
            chat.numeric(user, n.ERR_UNKNOWNMODE, letter, "Ban lists are not supported")
        else:
            chat.numeric(user, n.ERR_UNKNOWNMODE, letter, n.ERROR_TEXT[n.ERR_UNKNOWNMODE])
    return changes
