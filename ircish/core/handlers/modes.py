"""MODE for rooms (o v t n i m s k l and the b/e/I mask lists) and for one's own user (i w B o)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ircish.core import state
from ircish.core.command import Command
from ircish.core.handlers.rooms import find_member
from ircish.core.names import is_room_name
from ircish.core.rooms import MAX_PARAM_MODES
from ircish.errors import CommandError
from ircish.protocol import numerics as n
from ircish.protocol.words import canonical_mask

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.rooms import Room

#: How each mask list is shown: entry numeric, end numeric, end text.
LIST_REPLIES = {
    "b": (n.RPL_BANLIST, n.RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (n.RPL_EXCEPTLIST, n.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (n.RPL_INVITELIST, n.RPL_ENDOFINVITELIST, "End of channel invite list"),
}
_FLAG_MODES = frozenset("imnst")
_MEMBER_MODES = frozenset("ov")
#: User modes a user may set on themselves; +o only comes from OPER.
_SELF_MODES = frozenset("iwB")


def handle_mode(chat: Chat, client: Client, cmd: Command) -> None:
    """MODE <target> [<modestring> [<mode arguments>...]]"""
    target = cmd.params[0]
    if is_room_name(target):
        _room_mode(chat, client, cmd)
        return
    user = client.user
    other = chat.users.get(target)
    if other is None:
        raise CommandError(n.ERR_NOSUCHNICK, target)
    if other is not user:
        raise CommandError(n.ERR_USERSDONTMATCH)
    if len(cmd.params) < 2:
        chat.numeric(client, n.RPL_UMODEIS, "+" + "".join(sorted(user.modes)))
        return
    changes: list[tuple[str, str]] = []
    sign = "+"
    unknown = False
    for ch in cmd.params[1]:
        if ch in "+-":
            sign = ch
        elif ch in _SELF_MODES or (ch == "o" and sign == "-"):
            changes.append((sign, ch))
        elif ch == "o":
            continue  # "+o" is for OPER; RFC 2812 says to ignore it here.
        else:
            unknown = True
    if unknown:
        chat.numeric(client, n.ERR_UMODEUNKNOWNFLAG, n.ERROR_TEXT[n.ERR_UMODEUNKNOWNFLAG])
    state.change_user_modes(chat, user, changes)


def _send_list(chat: Chat, client: Client, room: Room, letter: str) -> None:
    entry_code, end_code, end_text = LIST_REPLIES[letter]
    for entry in room.lists[letter].values():
        chat.numeric(
            client, entry_code, room.name, entry.mask, entry.set_by, str(int(entry.set_at))
        )
    chat.numeric(client, end_code, room.name, end_text)


def _room_mode(chat: Chat, client: Client, cmd: Command) -> None:
    user = client.user
    room = chat.rooms.get(cmd.params[0])
    if room is None:
        raise CommandError(n.ERR_NOSUCHCHANNEL, cmd.params[0])
    if len(cmd.params) < 2:
        member = user in room.members
        chat.numeric(client, n.RPL_CHANNELMODEIS, room.name, *room.mode_string(member))
        chat.numeric(client, n.RPL_CREATIONTIME, room.name, str(int(room.created)))
        return
    modestring, args = cmd.params[1], list(cmd.params[2:])
    if modestring.lstrip("+") in LIST_REPLIES and not args:
        letter = modestring.lstrip("+")
        # Anyone may see the bans; the exceptions tell how to get past them (as ergo).
        if letter != "b" and not room.may_operate(user):
            raise CommandError(n.ERR_CHANOPRIVSNEEDED, room.name)
        _send_list(chat, client, room, letter)
        return
    if user not in room.members:
        raise CommandError(n.ERR_NOTONCHANNEL, room.name)
    if not room.may_operate(user):
        raise CommandError(n.ERR_CHANOPRIVSNEEDED, room.name)
    state.change_room_modes(chat, user, room, _changes(chat, client, room, modestring, args))


def _changes(
    chat: Chat, client: Client, room: Room, modestring: str, args: list[str]
) -> list[state.RoomChange]:
    """Validate a mode string into changes; errors go to the client, valid parts go on."""
    sign = "+"
    changes: list[state.RoomChange] = []
    with_param = 0
    listed: set[str] = set()
    entries = sum(len(v) for v in room.lists.values())
    for letter in modestring:
        if letter in "+-":
            sign = letter
            continue
        adding = sign == "+"
        takes_arg = letter in _MEMBER_MODES or letter in LIST_REPLIES or (adding and letter in "kl")
        if takes_arg:
            with_param += 1
            if with_param > MAX_PARAM_MODES:
                continue
        if letter in _FLAG_MODES:
            changes.append((sign, letter, None))
        elif letter in _MEMBER_MODES:
            if not args:
                _missing(
                    chat, client, room.name, letter, f"needs a nickname, e.g. {sign}{letter} alice"
                )
                continue
            try:
                member = find_member(chat, room, args.pop(0))
            except CommandError as exc:
                chat.error(client, exc)
                continue
            changes.append((sign, letter, member.nick))
        elif letter == "k":
            if not adding:
                if args:
                    args.pop(0)
                changes.append((sign, letter, None))
                continue
            if not args:
                _missing(chat, client, room.name, letter, "needs a key, e.g. +k secret")
                continue
            key = args.pop(0)
            # A key must be one middle parameter on the wire (MODE, RPL_CHANNELMODEIS).
            if not key or " " in key or "," in key or key.startswith(":") or len(key) > 23:
                chat.numeric(client, n.ERR_INVALIDKEY, room.name, n.ERROR_TEXT[n.ERR_INVALIDKEY])
                continue
            changes.append((sign, letter, key))
        elif letter == "l":
            if not adding:
                changes.append((sign, letter, None))
                continue
            if not args:
                _missing(chat, client, room.name, letter, "needs a number of users, e.g. +l 50")
                continue
            raw = args.pop(0)
            if not raw.isdigit() or not 0 < int(raw) < 1_000_000:
                chat.numeric(client, n.ERR_INVALIDMODEPARAM, room.name, "l", raw, "Invalid limit")
                continue
            changes.append((sign, letter, str(int(raw))))
        elif letter in LIST_REPLIES:
            if not args:
                if letter not in listed:
                    listed.add(letter)
                    _send_list(chat, client, room, letter)
                continue
            raw = args.pop(0)
            if not raw or " " in raw or raw.startswith(":"):
                continue
            mask = canonical_mask(raw)
            if adding:
                if entries >= chat.config.limits.max_list_entries:
                    chat.numeric(
                        client,
                        n.ERR_BANLISTFULL,
                        room.name,
                        letter,
                        n.ERROR_TEXT[n.ERR_BANLISTFULL],
                    )
                    continue
                entries += 1
            changes.append((sign, letter, mask))
        else:
            chat.numeric(client, n.ERR_UNKNOWNMODE, letter, n.ERROR_TEXT[n.ERR_UNKNOWNMODE])
    return changes


def _missing(chat: Chat, client: Client, room: str, letter: str, text: str) -> None:
    """A mode that takes a parameter came without one: say so (IRC servers often stay silent)."""
    chat.numeric(client, n.ERR_INVALIDMODEPARAM, room, letter, "*", text)
