"""Giving history back without being asked: on join, and after logging in.

Theory of operation: clients that negotiated ``draft/chathistory`` fetch
what they want themselves (``ircish.core.handlers.history``), so they get
nothing here. Everyone else is caught up by the server:

- on join, the last ``[history] replay_lines`` messages of the room, after
  the topic and the names (IRC clients only with ``[history] replay_irc``),
  but none from before the nickname last left the room (a part, kick or
  quit, a server restart's included): what someone saw before they left
  is not shown to them twice when they come back;
- after logging in, the private messages that arrived for the account while
  none of its clients was there.

Both go out as one ``History`` reply per conversation: IRC clients see the
original lines with their original msgid and time (in a ``chathistory``
batch when they have ``batch``), netcat users readable lines marked with
where and when (``[#rust 14:02] <bob> hi``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ircish.core import history
from ircish.core.events import Event, History, Kick, Multiline, Part, Privmsg, Quit
from ircish.core.names import fold

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.rooms import Room
    from ircish.core.storage import Storage, StoredEvent

#: What "messages" means for a replay without event-playback.
MESSAGE_TYPES: tuple[type[Event], ...] = (Privmsg, Multiline)
#: Which stored events a read keeps (None: all of them).
Keep = Callable[["StoredEvent"], bool] | None
#: One millisecond: the precision of stored times.
_MS = 0.001
#: Pages a filtered read looks through before giving up (bounds the work).
_MAX_PAGES = 6
#: The largest page a read grows to (when one millisecond holds more events than a page).
_MAX_PAGE = 5000


def history_storage(chat: Chat) -> Storage | None:
    """The storage history reads from, or None when history is off."""
    if chat.storage is None or not chat.config.history.enabled:
        return None
    return chat.storage


def fetches_itself(client: Client) -> bool:
    """Whether the client asks for history itself (IRCv3 draft/chathistory)."""
    return "draft/chathistory" in client.caps


def is_message(item: StoredEvent) -> bool:
    return isinstance(item.event, MESSAGE_TYPES)


def read(
    storage: Storage,
    owner: str,
    target: str,
    limit: int,
    *,
    after: float | None = None,
    before: float | None = None,
    after_id: str = "",
    before_id: str = "",
    from_id: bool = False,
    latest: bool = True,
    keep: Keep = is_message,
) -> list[StoredEvent]:
    """Up to ``limit`` events of one history strictly between two bounds, oldest first.

    A bound is a time, or the time and msgid of an event (``after_id``,
    ``before_id``): events stamped in the same millisecond are ordered by
    msgid, which sorts by creation, so a command's many events (or sixty
    lines pasted at once) page exactly. ``latest`` picks the newest events,
    otherwise the oldest; ``keep`` filters them (by default: messages only).
    ``from_id`` makes the ``after_id`` bound inclusive (AROUND a message).
    History keeps every room event, so a page of rows may hold fewer than
    asked for: a filtered read looks a few pages further, no more.
    """
    if limit <= 0:
        return []
    # A msgid bound takes in its whole millisecond; ``wanted`` drops its side of it.
    lo = after - _MS if after is not None and after_id else after
    hi = before + _MS if before is not None and before_id else before

    def wanted(row: StoredEvent) -> bool:
        passed = row.msgid < after_id or (row.msgid == after_id and not from_id)
        if after_id and after is not None and row.time <= after and passed:
            return False
        if before_id and before is not None and row.time >= before and row.msgid >= before_id:
            return False
        return keep is None or keep(row)

    exact = keep is None and not after_id and not before_id
    page = limit if exact else max(limit * 2, 20)
    found: list[StoredEvent] = []
    seen: set[str] = set()
    for _ in range(_MAX_PAGES):
        rows = storage.query(owner, target, after=lo, before=hi, limit=page, latest=latest)
        fresh = [r for r in rows if r.msgid not in seen]
        seen.update(r.msgid for r in fresh)
        kept = [r for r in fresh if wanted(r)]
        if latest:
            found[:0] = kept
        else:
            found.extend(kept)
        if exact or len(found) >= limit or len(rows) < page or not fresh:
            break
        # The next page takes in the last page's edge millisecond again (``seen`` drops the
        # repeats): events of one millisecond must not fall between two pages.
        edge = rows[0].time + _MS if latest else rows[-1].time - _MS
        if edge == (hi if latest else lo):
            # One millisecond filled the whole page: read more of it at once.
            page = min(page * 4, _MAX_PAGE)
        elif latest:
            hi = edge
        else:
            lo = edge
    return sorted(found, key=_order)[-limit:] if latest else sorted(found, key=_order)[:limit]


def _order(row: StoredEvent) -> tuple[float, str]:
    return row.time, row.msgid


def after_join(chat: Chat, client: Client, room: Room) -> None:
    """The room's recent messages for a client that just joined it (see the module doc)."""
    storage = history_storage(chat)
    config = chat.config.history
    if storage is None or config.replay_lines <= 0 or fetches_itself(client):
        return
    if client.dialect.name != "plain" and not config.replay_irc:
        return
    nick = client.user.folded

    def left(item: StoredEvent) -> bool:
        """Whether ``item`` is this nickname leaving the room."""
        event = item.event
        if isinstance(event, Kick):
            return fold(event.target) == nick
        return isinstance(event, (Part, Quit)) and fold(event.nick) == nick

    # The join itself is still in the command's outbox, not in storage: it cannot show up.
    items = read(
        storage,
        "",
        room.folded,
        config.replay_lines,
        keep=lambda item: is_message(item) or left(item),
    )
    departures = [i for i, item in enumerate(items) if left(item)]
    if departures:
        items = items[departures[-1] + 1 :]
    if items:
        chat.reply(client, History(room.name, tuple(items)))


def after_login(chat: Chat, client: Client, since: float) -> None:
    """The private messages that arrived for the client's account since ``since``."""
    storage = history_storage(chat)
    if storage is None or fetches_itself(client):
        return
    if client.dialect.name != "plain" and not chat.config.history.replay_irc:
        return
    user = client.user
    owner = history.owner_key(user)
    now = chat.clock()
    budget = chat.config.history.max_request
    # Newest activity last: replay conversations in the order they happened.
    for target, _latest in storage.targets(owner, [], since, now + 1, budget):
        items = [
            item
            for item in read(storage, owner, target, budget, after=since)
            # Only what the correspondent sent: the account's own side it has seen.
            if fold(getattr(item.event, "nick", "")) == target
        ]
        if not items:
            continue
        chat.reply(client, History(_display_nick(items, target), tuple(items)))


def _display_nick(items: list[StoredEvent], target: str) -> str:
    """The correspondent's nickname as they wrote it (the key is folded)."""
    for item in reversed(items):
        nick: str = getattr(item.event, "nick", "")
        if fold(nick) == target:
            return nick
    return target
