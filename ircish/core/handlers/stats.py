"""STATS for operators, and the memory report (``STATS z``).

Theory of operation: everything users can make the server hold is bounded
(``[limits]``: lines, send queues, rooms per user, invitations, mask lists,
MONITOR, WHOWAS, registered rooms per account). ``memory_report`` counts
what is held now, so that an operator can see during an attack that the
bounds hold, and which one is being pushed. It walks every client and room
once: fine for a command only operators may run, never for a hot path.

A letter STATS does not know gets only ``219`` (End of STATS report), as on
other servers; new reports are one entry in ``REPORTS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ircish.core.command import Command
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client


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


#: STATS letter -> what it sends before ``219``.
REPORTS: dict[str, Callable[[Chat, Client], None]] = {"z": _memory}


def handle_stats(chat: Chat, client: Client, cmd: Command) -> None:
    """STATS <letter>

    Server statistics for operators: ``z`` is the memory report (how many
    users, rooms, invitations, MONITOR and WHOWAS entries the server holds,
    and how much output is queued).
    """
    if "o" not in client.user.modes:
        raise CommandError(n.ERR_NOPRIVILEGES)
    letter = cmd.params[0][:1] if cmd.params and cmd.params[0] else "*"
    report = REPORTS.get(letter)
    if report is not None:
        report(chat, client)
    chat.numeric(client, n.RPL_ENDOFSTATS, letter, "End of /STATS report")
