"""Reading history: CHATHISTORY, HISTORY, SEARCH, MARKREAD.

Theory of operation: history is written by the store hook
(``ircish.core.history``); these handlers only read it, through the
storage seam, with bounded, indexed queries. Every request names a
*conversation*: a room (its history, owner "") or a nickname (the
requester's private conversation with that nick: owner
``history.owner_key(user)``). Who may read: the members of a room (with
``[history] readers = "public"``, anyone, for rooms without +s or a key),
and the parties of a private conversation, who each read their own copy.

Answers are ``History`` replies: IRC clients get the original lines with
their original msgid and time (a ``chathistory`` batch when they have
``batch``), netcat users readable lines (``[#rust 14:02] <bob> hi``).

- ``CHATHISTORY``: IRCv3 ``draft/chathistory`` (LATEST, BEFORE, AFTER,
  AROUND, BETWEEN with ``msgid=`` and ``timestamp=`` selectors, TARGETS),
  after Ergo's ``chathistoryHandler``. With ``draft/event-playback`` every
  stored event comes back; without it only PRIVMSG and NOTICE.
- ``HISTORY <target> [<count>]`` (as in Ergo; netcat: ``/history``): the
  latest messages of a conversation.
- ``SEARCH <words> [in:<target>] [from:<nick>]`` (netcat: ``/search``):
  full-text search (SQLite FTS5; the words are quoted, never FTS syntax).
- ``MARKREAD <target> [timestamp=...]``: IRCv3 ``draft/read-marker``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ircish.core import history, replay
from ircish.core.command import Command
from ircish.core.events import History, HistoryTargets, ReadMarker, ServerNotice
from ircish.core.names import fold, is_room_name, normalize, valid_nick

if TYPE_CHECKING:
    from ircish.core.chat import Chat
    from ircish.core.clients import Client
    from ircish.core.storage import Storage, StoredEvent
    from ircish.core.users import User

#: ``timestamp=`` values: IRCv3 server-time, UTC, milliseconds optional.
_TIMESTAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z")
#: /history without a count, and the most /history and SEARCH return.
DEFAULT_COUNT = 20
#: Search answers are for reading, not for paging through everything.
MAX_SEARCH_RESULTS = 50
_SUBCOMMANDS = ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS")
UNAVAILABLE = "History is not available on this server"


@dataclass(frozen=True, slots=True)
class Conversation:
    """One history a user may read: owner and target keys, and its name as shown."""

    owner: str
    key: str
    name: str


def parse_timestamp(value: str) -> float | None:
    """An IRCv3 ``time`` value (``2024-05-01T14:02:03.123Z``) in seconds, or None."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(x) for x in match.groups()[:6])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    try:
        secs = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (OverflowError, ValueError):
        return None
    fraction = match.group(7) or "0"
    return secs + float("0." + fraction)


def conversation(chat: Chat, user: User, name: str) -> Conversation | None:
    """The history ``name`` means for ``user``, or None if there is none they may read."""
    if is_room_name(name):
        room = chat.rooms.get(name)
        if room is None:
            return None
        if user not in room.members:
            public = chat.config.history.readers == "public"
            if not public or "s" in room.modes or room.key:
                return None
        return Conversation("", room.folded, room.name)
    nick = normalize(name)
    if not valid_nick(nick, chat.config.limits.max_nick_length):
        return None
    other = chat.users.get(nick)
    return Conversation(history.owner_key(user), fold(nick), other.nick if other else nick)


def _keep_for(client: Client) -> replay.Keep:
    """Without draft/event-playback, a client gets messages only (IRCv3 chathistory)."""
    return None if "draft/event-playback" in client.caps else replay.is_message


# -- CHATHISTORY --------------------------------------------------------------------


class _Refusal(Exception):
    """A CHATHISTORY request that gets a FAIL: its code, context and text."""

    def __init__(self, code: str, *context: str, text: str) -> None:
        super().__init__(code)
        self.code = code
        self.context = context
        self.text = text


def handle_chathistory(chat: Chat, client: Client, cmd: Command) -> None:
    """CHATHISTORY LATEST|BEFORE|AFTER|AROUND <target> <*|msgid=|timestamp=> <limit>
    | CHATHISTORY BETWEEN <target> <ref> <ref> <limit>
    | CHATHISTORY TARGETS <timestamp=> <timestamp=> <limit>

    IRCv3 draft/chathistory: a batch of the conversation's stored events.
    """
    params = cmd.params
    sub = params[0].upper() if params else "*"
    try:
        if not params:
            raise _Refusal("NEED_MORE_PARAMS", "*", text="Missing parameters")
        if sub not in _SUBCOMMANDS:
            raise _Refusal("UNKNOWN_COMMAND", params[0], text="Unknown command")
        if len(params) < (5 if sub == "BETWEEN" else 4):
            raise _Refusal("NEED_MORE_PARAMS", sub, text="Missing parameters")
        storage = replay.history_storage(chat)
        if storage is None:
            raise _Refusal("MESSAGE_ERROR", sub, params[1], text=UNAVAILABLE)
        if sub == "TARGETS":
            _targets(chat, client, storage, params[1:])
        else:
            _chathistory(chat, client, storage, sub, params[1], params[2:])
    except _Refusal as refusal:
        chat.fail(client, "CHATHISTORY", refusal.code, *refusal.context, text=refusal.text)


def _limit(chat: Chat, sub: str, raw: str) -> int:
    """The limit asked for; 0 or more than the server's maximum mean the maximum (as Ergo)."""
    top = chat.config.history.max_request
    if not raw.isdigit():
        raise _Refusal("INVALID_PARAMS", sub, raw, text="The limit must be a number")
    wanted = int(raw)
    return top if wanted == 0 or wanted > top else wanted


#: A selector as a bound: a time, and the msgid of the event it names ("" for a timestamp).
Bound = tuple[float, str] | None


def _reference(storage: Storage, found: Conversation, sub: str, target: str, raw: str) -> Bound:
    """What a selector stands for: ``timestamp=...``, ``msgid=...``; None for ``*``."""
    kind, _, value = raw.partition("=")
    kind = kind.lower()
    if raw == "*" and sub in ("LATEST", "BEFORE", "BETWEEN"):
        # BEFORE * and BETWEEN * as LATEST *, as Ergo accepts (older Kiwi IRC sends them).
        return None
    if kind == "timestamp":
        when = parse_timestamp(value)
        if when is None:
            raise _Refusal("INVALID_PARAMS", sub, raw, text="Invalid timestamp")
        return when, ""
    if kind == "msgid" and value:
        when = storage.time_of(found.owner, found.key, value)
        if when is None:
            raise _Refusal(
                "MESSAGE_ERROR", sub, target, value, text="No such message in that history"
            )
        return when, value
    raise _Refusal("INVALID_PARAMS", sub, raw, text="A selector is *, msgid=... or timestamp=...")


def _read(
    storage: Storage,
    found: Conversation,
    limit: int,
    keep: replay.Keep,
    *,
    after: Bound = None,
    before: Bound = None,
    latest: bool = True,
    from_id: bool = False,
) -> list[StoredEvent]:
    return replay.read(
        storage,
        found.owner,
        found.key,
        limit,
        after=after[0] if after else None,
        after_id=after[1] if after else "",
        before=before[0] if before else None,
        before_id=before[1] if before else "",
        from_id=from_id,
        latest=latest,
        keep=keep,
    )


def _chathistory(
    chat: Chat, client: Client, storage: Storage, sub: str, target: str, args: tuple[str, ...]
) -> None:
    found = conversation(chat, client.user, target)
    if found is None:
        raise _Refusal("INVALID_TARGET", sub, target, text="Messages could not be retrieved")
    keep = _keep_for(client)
    if sub == "BETWEEN":
        first = _reference(storage, found, sub, target, args[0])
        second = _reference(storage, found, sub, target, args[1])
        limit = _limit(chat, sub, args[2])
        if first is not None and second is not None and first > second:
            # Backwards: the newest events before the first reference.
            items = _read(storage, found, limit, keep, after=second, before=first)
        else:
            items = _read(
                storage, found, limit, keep, after=first, before=second, latest=first is None
            )
    else:
        point = _reference(storage, found, sub, target, args[0])
        limit = _limit(chat, sub, args[1])
        if sub == "LATEST":
            items = _read(storage, found, limit, keep, after=point)
        elif sub == "BEFORE":
            items = _read(storage, found, limit, keep, before=point)
        elif sub == "AFTER":
            items = _read(storage, found, limit, keep, after=point, latest=False)
        else:  # AROUND: half before the reference, then the reference itself and after it.
            if point is None:
                raise _Refusal("INVALID_PARAMS", sub, args[0], text="AROUND needs a selector")
            items = _read(storage, found, limit // 2, keep, before=point)
            items += _read(
                storage, found, limit - len(items), keep, after=point, latest=False, from_id=True
            )
    chat.reply(client, History(found.name, tuple(items)))


def _targets(chat: Chat, client: Client, storage: Storage, args: tuple[str, ...]) -> None:
    """TARGETS: the conversations with activity between two times, oldest activity first."""
    bounds = []
    for raw in args[:2]:
        kind, _, value = raw.partition("=")
        when = parse_timestamp(value) if kind.lower() == "timestamp" else None
        if when is None:
            raise _Refusal("INVALID_PARAMS", "TARGETS", raw, text="TARGETS takes two timestamps")
        bounds.append(when)
    limit = _limit(chat, "TARGETS", args[2])
    user = client.user
    rooms = {room.folded: room.name for room in user.rooms.values()}
    lo, hi = min(bounds), max(bounds)
    listed = storage.targets(history.owner_key(user), list(rooms), lo, hi, limit)
    shown: list[tuple[str, float]] = []
    for key, when in listed:
        other = chat.users.get(key) if key not in rooms else None
        shown.append((rooms.get(key) or (other.nick if other else key), when))
    chat.reply(client, HistoryTargets(tuple(shown)))


# -- HISTORY and SEARCH ---------------------------------------------------------------


def _unavailable(chat: Chat, client: Client, command: str) -> None:
    chat.fail(client, command, "MESSAGE_ERROR", text=UNAVAILABLE)


def _tell_plain(chat: Chat, client: Client, text: str) -> None:
    """A line of context only netcat users need (IRC clients have the batch)."""
    if client.dialect.name == "plain":
        chat.reply(client, ServerNotice(text))


def handle_history(chat: Chat, client: Client, cmd: Command) -> None:
    """HISTORY <#room|nick> [<count>]

    The latest messages of a room or of your private conversation with someone.
    """
    storage = replay.history_storage(chat)
    if storage is None:
        _unavailable(chat, client, "HISTORY")
        return
    target = cmd.params[0]
    count = DEFAULT_COUNT
    if len(cmd.params) > 1:
        raw = cmd.params[1]
        if not raw.isdigit() or int(raw) == 0:
            chat.fail(
                client, "HISTORY", "INVALID_PARAMS", raw, text="The count must be a positive number"
            )
            return
        count = min(int(raw), chat.config.history.max_request)
    found = conversation(chat, client.user, target)
    if found is None:
        chat.fail(
            client,
            "HISTORY",
            "INVALID_TARGET",
            target,
            text=f"No history of {target} you may read (join the room first)",
        )
        return
    items = replay.read(storage, found.owner, found.key, count, keep=_keep_for(client))
    if not items:
        _tell_plain(chat, client, f"No messages in {found.name} yet")
        return
    _tell_plain(chat, client, f"History of {found.name}, {_messages(len(items))}:")
    chat.reply(client, History(found.name, tuple(items)))
    _tell_plain(chat, client, "End of history")


def _messages(count: int) -> str:
    return "1 message" if count == 1 else f"{count} messages"


def handle_search(chat: Chat, client: Client, cmd: Command) -> None:
    """SEARCH <words> [in:<#room|nick>] [from:<nick>]

    Full-text search of the history you may read (every word must match).
    """
    storage = replay.history_storage(chat)
    if storage is None:
        _unavailable(chat, client, "SEARCH")
        return
    words: list[str] = []
    where = sender = ""
    for word in " ".join(cmd.params).split():
        lowered = word.lower()
        if lowered.startswith("in:") and len(word) > 3:
            where = word[3:]
        elif lowered.startswith("from:") and len(word) > 5:
            sender = word[5:]
        else:
            words.append(word)
    text = " ".join(words)
    if not text:
        chat.fail(client, "SEARCH", "NEED_MORE_PARAMS", text="What to search for?")
        return
    user = client.user
    target: str | None = None
    if where:
        found = conversation(chat, user, where)
        if found is None:
            chat.fail(
                client,
                "SEARCH",
                "INVALID_TARGET",
                where,
                text=f"No history of {where} you may read (join the room first)",
            )
            return
        target = found.key
    rooms = [room.folded for room in user.rooms.values()]
    items = storage.search(
        history.owner_key(user),
        rooms,
        text,
        target=target,
        nick=fold(sender) if sender else None,
        limit=MAX_SEARCH_RESULTS,
    )
    if not items:
        _tell_plain(chat, client, f"Nothing found for {text!r}")
        return
    _tell_plain(chat, client, f"Found {_messages(len(items))} for {text!r}:")
    # Several conversations at once: a batch of our own type, not chathistory.
    chat.reply(client, History("", tuple(items), batch="ircish/search"))
    _tell_plain(chat, client, "End of search results")


# -- MARKREAD ---------------------------------------------------------------------------


def handle_markread(chat: Chat, client: Client, cmd: Command) -> None:
    """MARKREAD <target> [timestamp=<time>]

    IRCv3 draft/read-marker: ask for, or move forward, how far you have read.
    """
    storage = chat.storage
    if not cmd.params or not cmd.params[0]:
        chat.fail(client, "MARKREAD", "NEED_MORE_PARAMS", text="Missing parameters")
        return
    target = cmd.params[0]
    if storage is None:
        chat.fail(client, "MARKREAD", "TEMPORARILY_UNAVAILABLE", target, text=UNAVAILABLE)
        return
    user = client.user
    if not user.account:
        chat.fail(
            client, "MARKREAD", "ACCOUNT_REQUIRED", target, text="You must be logged in for that"
        )
        return
    if not (is_room_name(target) or valid_nick(normalize(target), 10**6)):
        chat.fail(client, "MARKREAD", "INVALID_PARAMS", target, text="Invalid target")
        return
    account, key = fold(user.account), fold(target)
    if len(cmd.params) < 2:
        chat.reply(client, ReadMarker(target, storage.read_marker(account, key)))
        return
    kind, _, value = cmd.params[1].partition("=")
    when = parse_timestamp(value) if kind.lower() == "timestamp" else None
    if when is None:
        chat.fail(client, "MARKREAD", "INVALID_PARAMS", cmd.params[1], text="Invalid timestamp")
        return
    stored = storage.read_marker(account, key)
    if stored is None or when > stored:
        # A marker only moves forward (IRCv3 read-marker).
        storage.set_read_marker(account, key, when)
        stored = when
    marker = ReadMarker(target, stored)
    for other in chat.accounts.online.get(account, ()):
        for each in other.clients:
            if "draft/read-marker" in each.caps:
                chat.reply(each, marker)
    if "draft/read-marker" not in client.caps:
        chat.reply(client, marker)


def markers_on_join(chat: Chat, client: Client, room_name: str) -> None:
    """The room's read marker for a client with draft/read-marker (sent before 366)."""
    storage = chat.storage
    user = client.user
    if storage is None or not user.account or "draft/read-marker" not in client.caps:
        return
    chat.reply(
        client, ReadMarker(room_name, storage.read_marker(fold(user.account), fold(room_name)))
    )
