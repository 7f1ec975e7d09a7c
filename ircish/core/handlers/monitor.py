"""IRCv3 MONITOR: be told when nicknames come online or go offline.

Each connection keeps its own list (``client.monitoring``, folded nicknames)
and the chat keeps the reverse index (``chat.monitors``: folded nickname ->
watching clients), which ``state.notify_monitors`` reads when a user
registers, quits or changes nickname, and which ``ToPeers(watchers=True)``
reads for ``extended-monitor``. Both are local: a watcher is a connection,
not a user, and ``state.detach`` forgets a closing connection's entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ircish.core.command import Command
from ircish.core.names import fold, normalize, valid_nick
from ircish.errors import CommandError
from ircish.protocol import numerics as n

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client

#: Target lists in 730-732 are split so that each line stays well inside 512 bytes.
_CHUNK_BYTES = 400


def handle_monitor(chat: Chat, client: Client, cmd: Command) -> None:
    """MONITOR {+|-} <nick>{,<nick>} | MONITOR {C|L|S}"""
    sub = cmd.params[0].upper()
    if sub in ("+", "-"):
        if len(cmd.params) < 2 or not cmd.params[1]:
            raise CommandError(n.ERR_NEEDMOREPARAMS, "MONITOR")
        targets = [t for t in cmd.params[1].split(",") if t]
        if sub == "+":
            _add(chat, client, targets)
        else:
            for target in targets:
                unwatch(chat, client, fold(target))
    elif sub == "C":
        for folded in list(client.monitoring):
            unwatch(chat, client, folded)
    elif sub == "L":
        _numerics(chat, client, n.RPL_MONLIST, [_shown(chat, f) for f in sorted(client.monitoring)])
        chat.numeric(client, n.RPL_ENDOFMONLIST, "End of MONITOR list")
    elif sub == "S":
        _status(chat, client, sorted(client.monitoring))
    else:
        # As ergo answers an unknown subcommand.
        raise CommandError(n.ERR_UNKNOWNERROR, "MONITOR", sub, text="Unknown MONITOR subcommand")


def watch(chat: Chat, client: Client, folded: str) -> None:
    """Add one folded nickname to ``client``'s list and the chat's index."""
    if not isinstance(client.monitoring, set):
        client.monitoring = set(client.monitoring)
    client.monitoring.add(folded)
    chat.monitors.setdefault(folded, set()).add(client)


def unwatch(chat: Chat, client: Client, folded: str) -> None:
    """Remove one folded nickname (a no-op when it is not on the list)."""
    if isinstance(client.monitoring, set):
        client.monitoring.discard(folded)
    watchers = chat.monitors.get(folded)
    if watchers is not None:
        watchers.discard(client)
        if not watchers:
            del chat.monitors[folded]


def _add(chat: Chat, client: Client, targets: list[str]) -> None:
    max_nick = chat.config.limits.max_nick_length
    limit = chat.config.limits.max_monitor
    online: list[str] = []
    offline: list[str] = []
    full_from: int | None = None
    for i, raw in enumerate(targets):
        nick = normalize(raw)
        # The spec: a target MUST be a valid nickname; others are skipped, as in ergo.
        if not valid_nick(nick, max_nick):
            continue
        folded = fold(nick)
        if folded not in client.monitoring:
            if len(client.monitoring) >= limit:
                full_from = i
                break
            watch(chat, client, folded)
        # Already listed targets are not added again, but their state is told again.
        user = chat.users.get(folded)
        if user is not None:
            online.append(user.mask)
        else:
            offline.append(nick)
    _numerics(chat, client, n.RPL_MONONLINE, online)
    _numerics(chat, client, n.RPL_MONOFFLINE, offline)
    if full_from is not None:
        # 734 names the targets that could not be added, as the client sent them.
        chat.numeric(
            client,
            n.ERR_MONLISTFULL,
            str(limit),
            ",".join(targets[full_from:]),
            n.ERROR_TEXT[n.ERR_MONLISTFULL],
        )


def _status(chat: Chat, client: Client, folded: Iterable[str]) -> None:
    online: list[str] = []
    offline: list[str] = []
    for key in folded:
        user = chat.users.get(key)
        if user is not None:
            online.append(user.mask)
        else:
            offline.append(key)
    _numerics(chat, client, n.RPL_MONONLINE, online)
    _numerics(chat, client, n.RPL_MONOFFLINE, offline)


def _shown(chat: Chat, folded: str) -> str:
    """A listed nickname as its user spells it when online, else its folded form."""
    user = chat.users.get(folded)
    return user.nick if user is not None else folded


def _numerics(chat: Chat, client: Client, code: str, items: list[str]) -> None:
    """One numeric per chunk of comma-separated ``items``; nothing for none."""
    chunk: list[str] = []
    size = 0
    for item in items:
        length = len(item.encode("utf-8")) + 1
        if chunk and size + length > _CHUNK_BYTES:
            chat.numeric(client, code, ",".join(chunk))
            chunk, size = [], 0
        chunk.append(item)
        size += length
    if chunk:
        chat.numeric(client, code, ",".join(chunk))
