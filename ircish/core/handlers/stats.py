"""STATS: server bans (k, d), operators (o), uptime (u), the memory report (z).

Theory of operation: everything users can make the server hold is bounded
(``[limits]``: lines, send queues, rooms per user, invitations, mask lists,
MONITOR, WHOWAS, registered rooms per account). ``memory_report`` counts
what is held now, so that an operator can see during an attack that the
bounds hold, and which one is being pushed. It walks every client and room
once: fine for a command only operators may run, never for a hot path.

A letter STATS does not know gets only ``219`` (End of STATS report), as on
other servers; new reports are one entry in ``REPORTS``. Letters are
case-insensitive (``STATS K`` is ``STATS k``); only those in ``PUBLIC``
(uptime) are for everyone, the rest for operators.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ircish.core import bans
from ircish.core.cloaks import shown_address
from ircish.core.command import Command
from ircish.core.handlers.server import safe_param
from ircish.core.names import mask_matches
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.storage import ServerBan


@runtime_checkable
class Measured(Protocol):
    """A sink that can tell how much output waits in it (``net.connection.Connection``)."""

    @property
    def queued_bytes(self) -> int: ...


def memory_report(chat: Chat) -> list[str]:
    """One line per kind of state: how much of it the server holds now, and its bound."""
    limits = chat.config.limits
    invitations = chat.rooms.invitations
    invitations.sweep(chat.clock())
    clients = chat.clients
    unregistered = sum(1 for c in clients if not c.user.registered)
    members = sum(len(room.members) for room in chat.rooms)
    mask_entries = sum(len(entries) for room in chat.rooms for entries in room.lists.values())
    watching = sum(len(c.monitoring) for c in clients)
    batches = sum(1 for c in clients if c.batch is not None)
    queued = [c.sink.queued_bytes for c in clients if isinstance(c.sink, Measured)]
    accounts = chat.accounts
    lines = [
        f"users {len(chat.users)} (most {chat.max_users}), connections {len(clients)} "
        f"({unregistered} not registered)",
        f"rooms {len(chat.rooms)}, memberships {members} (at most {limits.max_rooms_per_user} "
        "per user)",
        f"invitations {len(invitations)} (at most {limits.max_invites_per_room} per room, "
        f"{limits.max_invites_per_user} per inviter, for {limits.invite_expiry:g} s)",
        f"mask list entries {mask_entries} (at most {limits.max_list_entries} per room)",
        f"monitor entries {watching} for {len(chat.monitors)} nicknames (at most "
        f"{limits.max_monitor} per connection)",
        f"whowas entries {len(chat.whowas)} of {limits.max_whowas}",
        f"registered rooms {len(chat.registered_rooms)} (at most {limits.max_registered_rooms} "
        "per account)",
        f"open multiline batches {batches}, SASL exchanges {len(accounts.sasl)}, "
        f"failed-login records {len(accounts.failures)}",
    ]
    if queued:
        lines.append(
            f"queued output {sum(queued)} bytes, largest {max(queued)} (at most "
            f"{limits.sendq_bytes} per connection)"
        )
    return lines


def _memory(chat: Chat, client: Client) -> None:
    for line in memory_report(chat):
        chat.numeric(client, n.RPL_STATSDEBUG, "z", line)


def list_bans(chat: Chat, client: Client, kind: str) -> None:
    """216 (K-lines) or 225 (D-lines), one per ban in force (also KLINE LIST, DLINE LIST)."""
    bans.expire(chat)
    now = chat.clock()
    for ban in chat.bans.listing(kind):
        about = _ban_details(ban, now)
        if kind == "K":
            nick, _, userhost = ban.mask.partition("!")
            user, _, host = userhost.partition("@")
            who = user if nick == "*" else f"{nick}!{user}"
            chat.numeric(client, n.RPL_STATSKLINE, "K", shown_address(host), "*", who, about)
        else:
            chat.numeric(client, n.RPL_STATSDLINE, "D", shown_address(ban.mask), about)


def _ban_details(ban: ServerBan, now: float) -> str:
    """``<reason> (set by <nick> at <time>; expires in 9 minutes | permanent)``."""
    when = datetime.fromtimestamp(ban.set_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    left = f"expires in {bans.describe_duration(ban.expires - now)}" if ban.expires else "permanent"
    return f"{ban.reason} (set by {ban.set_by} at {when}; {left})"


def _uptime(chat: Chat, client: Client) -> None:
    up = max(0, int(chat.clock() - chat.created))
    days, rest = divmod(up, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"Server Up {days} days {hours}:{minutes:02d}:{seconds:02d}"
    chat.numeric(client, n.RPL_STATSUPTIME, text)


def _operators(chat: Chat, client: Client) -> None:
    for op in chat.config.operators:
        chat.numeric(client, n.RPL_STATSOLINE, "O", op.host, "*", op.name)


#: STATS letter -> what it sends before ``219``.
REPORTS: dict[str, Callable[[Chat, Client], None]] = {
    "k": lambda chat, client: list_bans(chat, client, "K"),
    "d": lambda chat, client: list_bans(chat, client, "D"),
    "o": _operators,
    "u": _uptime,
    "z": _memory,
}
#: Letters anyone may ask for; the others are for operators.
PUBLIC = frozenset({"u"})


def handle_stats(chat: Chat, client: Client, cmd: Command) -> None:
    """STATS <letter> [<server>]

    Server statistics: ``u`` uptime (anyone); for operators ``k`` K-lines,
    ``d`` D-lines, ``o`` operators, ``z`` the memory report (how many users,
    rooms, invitations, MONITOR and WHOWAS entries the server holds, and how
    much output is queued).
    """
    if len(cmd.params) > 1 and cmd.params[1] and not mask_matches(cmd.params[1], chat.server_name):
        raise CommandError(n.ERR_NOSUCHSERVER, safe_param(cmd.params[1]))
    letter = cmd.params[0][:1] if cmd.params and cmd.params[0] else "*"
    key = letter.lower()
    if key not in PUBLIC and "o" not in client.user.modes:
        raise CommandError(n.ERR_NOPRIVILEGES)
    report = REPORTS.get(key)
    if report is not None:
        report(chat, client)
    chat.numeric(client, n.RPL_ENDOFSTATS, letter, "End of /STATS report")
