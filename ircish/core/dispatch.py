"""The command table and the one place its preconditions are checked.

To add a command: write ``handle_<verb>(chat, client, cmd)`` in the module of
``ircish/core/handlers`` it belongs to (starting with its syntax line), add it
to ``COMMANDS`` below, teach the plain dialect its slash form if humans should
have it, and list it in docs/protocol.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ircish.core.command import Command
from ircish.core.handlers import (
    accounts,
    batch,
    history,
    info,
    messaging,
    modes,
    monitor,
    oper,
    registration,
    rehash,
    rooms,
    server,
    services,
    stats,
    users,
)
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client

log = logging.getLogger("ircish.core")

Handler = Callable[["Chat", "Client", Command], None]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """How to run one verb and what must hold before it runs."""

    handler: Handler
    min_params: int = 0
    usable_pre_registration: bool = False
    #: Flood-control tokens it takes (``ircish.flood``): more for what costs the server more.
    cost: int = 1


COMMANDS: dict[str, CommandSpec] = {
    "CAP": CommandSpec(registration.handle_cap, 1, usable_pre_registration=True),
    "PASS": CommandSpec(registration.handle_pass, 1, usable_pre_registration=True),
    "NICK": CommandSpec(registration.handle_nick, 0, usable_pre_registration=True),
    "USER": CommandSpec(registration.handle_user, 4, usable_pre_registration=True),
    "PING": CommandSpec(registration.handle_ping, 1, usable_pre_registration=True),
    "PONG": CommandSpec(registration.handle_pong, 0, usable_pre_registration=True),
    "QUIT": CommandSpec(registration.handle_quit, 0, usable_pre_registration=True),
    "HELP": CommandSpec(info.handle_help, 0, usable_pre_registration=True),
    "HELPOP": CommandSpec(server.handle_helpop, 0, usable_pre_registration=True),
    "JOIN": CommandSpec(rooms.handle_join, 1),
    "PART": CommandSpec(rooms.handle_part, 1),
    "TOPIC": CommandSpec(rooms.handle_topic, 1),
    "NAMES": CommandSpec(rooms.handle_names, 0, cost=2),
    "LIST": CommandSpec(rooms.handle_list, 0, cost=4),
    "KICK": CommandSpec(rooms.handle_kick, 2),
    "INVITE": CommandSpec(rooms.handle_invite, 2),
    "PRIVMSG": CommandSpec(messaging.handle_privmsg, 0),
    "NOTICE": CommandSpec(messaging.handle_notice, 0),
    "TAGMSG": CommandSpec(messaging.handle_tagmsg, 1),
    "BATCH": CommandSpec(batch.handle_batch, 1),
    "AWAY": CommandSpec(messaging.handle_away, 0),
    "MODE": CommandSpec(modes.handle_mode, 1),
    "WHO": CommandSpec(info.handle_who, 0, cost=2),
    "WHOIS": CommandSpec(info.handle_whois, 1, cost=2),
    "USERHOST": CommandSpec(info.handle_userhost, 1),
    "ISON": CommandSpec(info.handle_ison, 1),
    "MOTD": CommandSpec(info.handle_motd, 0),
    "LUSERS": CommandSpec(info.handle_lusers, 0),
    "VERSION": CommandSpec(info.handle_version, 0),
    "TIME": CommandSpec(info.handle_time, 0),
    "WHOWAS": CommandSpec(server.handle_whowas, 1, cost=2),
    "LINKS": CommandSpec(server.handle_links, 0),
    "INFO": CommandSpec(server.handle_info, 0),
    "OPER": CommandSpec(oper.handle_oper, 2),
    "KILL": CommandSpec(oper.handle_kill, 2),
    "WALLOPS": CommandSpec(oper.handle_wallops, 1),
    "REHASH": CommandSpec(rehash.handle_rehash, 0),
    "STATS": CommandSpec(stats.handle_stats, 0, cost=2),
    "KLINE": CommandSpec(oper.handle_kline, 1),
    "DLINE": CommandSpec(oper.handle_dline, 1),
    "UNKLINE": CommandSpec(oper.handle_unkline, 1),
    "UNDLINE": CommandSpec(oper.handle_undline, 1),
    "MONITOR": CommandSpec(monitor.handle_monitor, 1, cost=2),
    "SETNAME": CommandSpec(users.handle_setname, 1),
    "CHGHOST": CommandSpec(users.handle_chghost, 2),
    "AUTHENTICATE": CommandSpec(accounts.handle_authenticate, 1, usable_pre_registration=True),
    "REGISTER": CommandSpec(accounts.handle_register, 3, usable_pre_registration=True),
    "VERIFY": CommandSpec(accounts.handle_verify, 2, usable_pre_registration=True),
    "LOGIN": CommandSpec(accounts.handle_login, 1),
    "LOGOUT": CommandSpec(accounts.handle_logout, 0),
    "PASSWD": CommandSpec(accounts.handle_passwd, 2),
    "UNREGISTER": CommandSpec(accounts.handle_unregister, 1),
    "GHOST": CommandSpec(accounts.handle_ghost, 1),
    "NS": CommandSpec(services.handle_ns, 0),
    "NICKSERV": CommandSpec(services.handle_ns, 0),
    "CS": CommandSpec(services.handle_cs, 0),
    "CHANSERV": CommandSpec(services.handle_cs, 0),
    "CHATHISTORY": CommandSpec(history.handle_chathistory, 0, cost=3),
    "HISTORY": CommandSpec(history.handle_history, 1, cost=3),
    "SEARCH": CommandSpec(history.handle_search, 1, cost=5),
    "MARKREAD": CommandSpec(history.handle_markread, 0),
}


def dispatch(chat: Chat, client: Client, cmd: Command) -> None:
    """Check preconditions, run the handler, turn failures into replies."""
    spec = COMMANDS.get(cmd.verb)
    registered = client.user.registered
    try:
        if spec is None:
            if registered:
                raise CommandError(n.ERR_UNKNOWNCOMMAND, cmd.verb)
            raise CommandError(n.ERR_NOTREGISTERED)
        if not registered and not spec.usable_pre_registration:
            raise CommandError(n.ERR_NOTREGISTERED)
        if len(cmd.params) < spec.min_params:
            raise CommandError(n.ERR_NEEDMOREPARAMS, cmd.verb)
        spec.handler(chat, client, cmd)
    except CommandError as exc:
        chat.error(client, exc)
    except Exception:
        # A bug in one handler must cost one command, not the server.
        log.exception("error while handling %s from %s", cmd.verb, client.user.nick)
        chat.metrics.internal_errors["command"] += 1
        if not client.quitting:
            chat.numeric(client, n.ERR_UNKNOWNERROR, cmd.verb, n.ERROR_TEXT[n.ERR_UNKNOWNERROR])
