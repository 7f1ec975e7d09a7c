"""The built-in services NickServ and ChanServ, and the NS/CS commands.

Theory of operation: NickServ and ChanServ are not users. A PRIVMSG to
either is routed here by ``ircish.core.handlers.messaging`` (it is never
delivered, stored or logged, since it may carry a password); ``NS`` and
``CS`` (``NICKSERV``, ``CHANSERV``) are the same as messages to them. Their
answers are ``ServiceReply`` events for the sender only. NickServ's commands
are the ones IRC users know from established networks (Anope, Atheme,
ergo's NickServ), on top of ``ircish.core.accounts``; ChanServ is
``ircish.core.handlers.chanserv``. A NOTICE to a service is dropped: notices
are never answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ircish.core import accounts
from ircish.core.accounts import CHANSERV, NICKSERV, SERVICES, UNAVAILABLE_TEXT
from ircish.core.command import Command
from ircish.core.events import ServiceReply
from ircish.core.handlers.chanserv import handle_chanserv
from ircish.core.names import fold

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client

#: NickServ HELP: (command, syntax, what it does).
NICKSERV_HELP: tuple[tuple[str, str, str], ...] = (
    ("REGISTER", "REGISTER <password> [email]", "register your current nickname"),
    ("IDENTIFY", "IDENTIFY [account] <password>", "log in (to your nickname's account)"),
    ("LOGOUT", "LOGOUT", "log out"),
    ("GHOST", "GHOST <nick>", "disconnect a stale connection using your nickname"),
    ("INFO", "INFO [nick]", "show whether a nickname is registered"),
    ("SET", "SET PASSWORD <old> <new>", "change your password"),
    ("UNREGISTER", "UNREGISTER <password>", "delete your account"),
    ("HELP", "HELP [command]", "this help"),
)
_ALIASES = {"ID": "IDENTIFY", "LOGIN": "IDENTIFY", "DROP": "UNREGISTER", "PASSWD": "SET"}


class ServiceAnswer:
    """An account operation's outcome, told by a service."""

    def __init__(self, chat: Chat, client: Client, service: str) -> None:
        self.chat = chat
        self.client = client
        self.service = service

    def ok(self, text: str) -> None:
        self.chat.reply(self.client, ServiceReply(self.service, text))

    def fail(self, code: str, text: str) -> None:
        self.chat.reply(self.client, ServiceReply(self.service, text))


def is_service(target: str) -> str | None:
    """The service a message target names (any case), or None."""
    # Both names have 8 letters: most targets are ruled out without folding.
    return SERVICES.get(fold(target)) if len(target) == len(NICKSERV) else None


def message(chat: Chat, client: Client, service: str, text: str, *, notice: bool) -> None:
    """A PRIVMSG (or NOTICE) to a service."""
    if notice:
        return
    words = text.split()
    if service == CHANSERV:
        handle_chanserv(chat, client, words)  # which says itself when storage is off
    elif chat.storage is None:
        chat.reply(client, ServiceReply(service, UNAVAILABLE_TEXT))
    else:
        nickserv(chat, client, words)


def handle_ns(chat: Chat, client: Client, cmd: Command) -> None:
    """NS <command> [<args>...]

    Talk to NickServ, as PRIVMSG NickServ does (NS HELP lists its commands).
    """
    message(chat, client, NICKSERV, " ".join(cmd.params), notice=False)


def handle_cs(chat: Chat, client: Client, cmd: Command) -> None:
    """CS <command> [<args>...]

    Talk to ChanServ, as PRIVMSG ChanServ does (CS HELP lists its commands).
    """
    message(chat, client, CHANSERV, " ".join(cmd.params), notice=False)


def nickserv(chat: Chat, client: Client, words: list[str]) -> None:
    """NickServ <command> [<args>...]"""
    say = ServiceAnswer(chat, client, NICKSERV)
    verb = words[0].upper() if words else "HELP"
    verb = _ALIASES.get(verb, verb)
    args = words[1:]
    user = client.user
    if verb == "HELP":
        _help(say, args)
    elif verb == "REGISTER" and len(args) in (1, 2):
        email = args[1] if len(args) == 2 else ""
        accounts.register(chat, client, user.nick, email, args[0], say)
    elif verb == "IDENTIFY" and len(args) in (1, 2):
        name = args[0] if len(args) == 2 else user.nick
        accounts.login(chat, client, name, args[-1], say)
    elif verb == "LOGOUT" and not args:
        accounts.logout(chat, client, say)
    elif verb == "GHOST" and len(args) == 1:
        accounts.ghost(chat, client, args[0], say)
    elif verb == "INFO" and len(args) <= 1:
        nick = args[0] if args else user.nick
        lines = accounts.describe(chat, client, nick)
        for line in lines or [f"{nick} is not registered."]:
            say.ok(line)
    elif verb == "SET" and len(args) == 3 and args[0].upper() == "PASSWORD":
        accounts.change_password(chat, client, args[1], args[2], say)
    elif verb == "UNREGISTER" and len(args) == 1:
        accounts.unregister(chat, client, args[0], say)
    else:
        known = {name: syntax for name, syntax, _ in NICKSERV_HELP}
        if verb in known:
            say.ok(f"Syntax: {known[verb]}")
        else:
            say.ok(f"Unknown command {verb[:20]}. /msg {NICKSERV} HELP lists the commands.")


def _help(say: ServiceAnswer, args: list[str]) -> None:
    if args:
        verb = _ALIASES.get(args[0].upper(), args[0].upper())
        for name, syntax, summary in NICKSERV_HELP:
            if name == verb:
                say.ok(f"{syntax}: {summary}")
                return
    say.ok(f"{NICKSERV} keeps registered nicknames. Commands (/msg {NICKSERV} <command>):")
    for _, syntax, summary in NICKSERV_HELP:
        say.ok(f"  {syntax}: {summary}")
