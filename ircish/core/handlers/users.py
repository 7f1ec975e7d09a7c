"""Changing how a user is shown: SETNAME (IRCv3 setname) and CHGHOST (operators, IRCv3 chghost)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ircish.core import replies, state
from ircish.core.command import Command
from ircish.core.events import ServerNotice
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client

#: A username: an optional "~" (no ident check), then what USER keeps (letters, digits, -_.).
_USERNAME = re.compile(r"~?[A-Za-z0-9_.-]{1,16}")
#: A host: a hostname, an IP address or a cloak (``staff/alice``); nothing IRC treats
#: specially (``!@*?,:`` or spaces), and no leading ``:``, ``-`` or ``.``.
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:/_-]{0,62}")


def handle_setname(chat: Chat, client: Client, cmd: Command) -> None:
    """SETNAME :<realname>"""
    realname = cmd.params[0]
    # The same rules as USER: not blank, and at most NAMELEN characters (refused, not cut).
    if not realname.strip() or len(realname) > replies.MAX_REALNAME:
        chat.fail(
            client,
            "SETNAME",
            "INVALID_REALNAME",
            text=f"Realname is not valid (1 to {replies.MAX_REALNAME} characters)",
        )
        return
    state.setname(chat, client.user, realname)


def handle_chghost(chat: Chat, client: Client, cmd: Command) -> None:
    """CHGHOST <nick> [<username>] <host>: operators change how a user is shown"""
    if "o" not in client.user.modes:
        raise CommandError(n.ERR_NOPRIVILEGES)
    nick = cmd.params[0]
    if len(cmd.params) >= 3:
        username, host = cmd.params[1], cmd.params[2]
    else:
        username, host = "", cmd.params[1]
    target = chat.users.get(nick)
    if target is None:
        raise CommandError(n.ERR_NOSUCHNICK, nick)
    username = username or target.username
    if not _USERNAME.fullmatch(username):
        chat.fail(
            client,
            "CHGHOST",
            "INVALID_USERNAME",
            _echo(username),
            text="Invalid username: an optional '~', then up to 16 letters, digits, '-', '_', '.'",
        )
        return
    if not _HOST.fullmatch(host):
        chat.fail(
            client,
            "CHGHOST",
            "INVALID_HOST",
            _echo(host),
            text="Invalid host: up to 63 letters, digits, '.', ':', '/', '_' or '-'",
        )
        return
    if (username, host) == (target.username, target.host):
        chat.reply(client, ServerNotice(f"{target.nick} is already {target.mask}"))
        return
    state.chghost(chat, target, username, host)
    # The operator hears of it even without the chghost capability or a shared room.
    chat.reply(client, ServerNotice(f"Changed the host of {target.nick} to {target.mask}"))


def _echo(value: str) -> str:
    """A refused value as a reply's middle parameter, or "*" where it cannot be one."""
    if not value or value[0] == ":" or " " in value or len(value) > 64:
        return "*"
    return value
