"""The client's state, with no terminal and no socket: buffers, lines, history.

Theory of operation: everything the user sees is a ``Line`` in a ``Buffer``.
The IRC layer (``irc.py``) turns server messages into lines and membership
changes; the command layer (``commands.py``) turns typed input into IRC lines
and local actions; the UI (``app.py``) only draws the current buffer and the
status line from this model. Activity accounting happens in one place,
``Model.add``: a line arriving in a buffer that is not in view raises its
unread count, and a line that mentions the user (or any private message)
raises its highlight count and rings the bell.

Buffers are numbered from 1 in the order they were opened, like irssi windows
and WeeChat buffers; buffer 1 is the server buffer and cannot be closed.

Server history (IRCv3 ``draft/chathistory``) arrives as whole batches of
messages, older than or interleaved with what the buffer already shows.
``Model.insert_history`` puts them in time order (a stable sort, so lines with
the same time keep the server's order) and drops every message whose msgid the
buffer already has, so live lines, their echoes and overlapping history
requests never show twice. Only messages carry a msgid in the buffer: they are
what chathistory returns, so the oldest and newest msgid are valid selectors
for the next request.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from ircish.client.logfile import LogBook

#: Lines kept per buffer; older ones scroll away for good.
MAX_LINES = 2000
#: Characters IRC allows in nicknames besides letters and digits.
NICK_SPECIALS = "[]\\`_^{|}-"


def _time(line: Line) -> datetime:
    return line.time


class LineKind(Enum):
    """What a line is; decides its look and whether it counts as activity."""

    MESSAGE = "message"
    ACTION = "action"
    NOTICE = "notice"
    JOIN = "join"
    PART = "part"
    QUIT = "quit"
    NICK = "nick"
    TOPIC = "topic"
    KICK = "kick"
    MODE = "mode"
    INFO = "info"
    ERROR = "error"
    TABLE = "table"
    #: Consecutive joins, parts and quits drawn as one (never stored in a buffer).
    FOLDED = "folded"
    #: One's own message to another buffer, echoed where it was typed: ``[msg(bob)] hi``.
    SENT = "sent"
    #: The same for a notice: ``[notice(bob)] hi``.
    SENT_NOTICE = "sent-notice"


#: Kinds that count as unread activity (joins and parts are only noise).
ACTIVITY_KINDS = frozenset({LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE})
#: Others' comings and goings: hidden by ``/set show_joins off``, folded by
#: ``Model.fold_joins``.
JOIN_KINDS = frozenset({LineKind.JOIN, LineKind.PART, LineKind.QUIT})


@dataclass(frozen=True, slots=True)
class Table:
    """A tidy answer (/list, /who, /whois, /help): a title, headers and rows."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(eq=False, slots=True)
class Line:
    """One entry of a buffer's scrollback."""

    time: datetime
    kind: LineKind
    text: str = ""
    #: The speaker for messages, actions and notices; the subject otherwise.
    nick: str = ""
    own: bool = False
    mention: bool = False
    table: Table | None = None
    #: The server's msgid (messages only): the key for dropping duplicates.
    msgid: str = ""
    #: Fetched from the server's history (shown with its date when not from today).
    history: bool = False
    #: Rendering cache owned by ``render.py``: (width, rows).
    cache: tuple[int, list[object]] | None = field(default=None, repr=False)


class BufferKind(Enum):
    SERVER = "server"
    ROOM = "room"
    QUERY = "query"


@dataclass(eq=False)
class Buffer:
    """The scrollback of the server, of one room or of one private conversation."""

    name: str
    kind: BufferKind
    lines: deque[Line] = field(default_factory=lambda: deque(maxlen=MAX_LINES))
    unread: int = 0
    highlights: int = 0
    topic: str = ""
    #: Room members: folded nick -> (nick as shown, prefix characters such as "@+").
    members: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Folded nick -> sequence number of their last message (completion order).
    spoke: dict[str, int] = field(default_factory=dict)
    #: Whether we are in the room (rooms only): False after a kick or a lost connection.
    joined: bool = False
    #: Lines hidden below the view; 0 follows new lines.
    scroll: int = 0
    #: msgid -> line, for every line of ``lines`` that has one.
    msgids: dict[str, Line] = field(default_factory=dict)
    #: A history request for this buffer is waiting for its answer.
    history_pending: bool = False
    #: The server has no older history for this buffer (or the user cleared it).
    history_start: bool = False
    #: The newest msgid when the buffer was last cleared: where a catch-up starts.
    cleared_msgid: str = ""
    #: The first line that arrived while the buffer was not in view: the read
    #: marker ("--- new messages ---") is drawn above it until the user leaves
    #: the buffer again.
    marker: Line | None = None

    @property
    def full(self) -> bool:
        return len(self.lines) == self.lines.maxlen

    def oldest_msgid(self) -> str:
        return next((line.msgid for line in self.lines if line.msgid), "")

    def newest_msgid(self) -> str:
        newest = (line.msgid for line in reversed(self.lines) if line.msgid)
        return next(newest, self.cleared_msgid)

    @property
    def is_room(self) -> bool:
        return self.kind is BufferKind.ROOM


class History:
    """Input history navigated with Up/Down; the line being typed is kept as a draft."""

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self.entries: list[str] = []
        self._pos = 0
        self._draft = ""

    def add(self, text: str) -> None:
        if text.strip() and (not self.entries or self.entries[-1] != text):
            self.entries.append(text)
            del self.entries[: -self.limit]
        self._pos = len(self.entries)
        self._draft = ""

    def up(self, current: str) -> str | None:
        """The previous entry, or None at the oldest one."""
        if self._pos == 0:
            return None
        if self._pos == len(self.entries):
            self._draft = current
        self._pos -= 1
        return self.entries[self._pos]

    def down(self, current: str) -> str | None:
        """The next entry (the draft after the newest), or None if already there."""
        if self._pos >= len(self.entries):
            return None
        self._pos += 1
        if self._pos == len(self.entries):
            return self._draft
        return self.entries[self._pos]


def casefolder(casemapping: str) -> Callable[[str], str]:
    """The fold function for an ISUPPORT ``CASEMAPPING`` value."""
    if casemapping == "ascii":
        return str.lower
    if casemapping in ("rfc1459", "strict-rfc1459"):
        extra = "[]\\~" if casemapping == "rfc1459" else "[]\\"
        table = str.maketrans(extra, "{}|^"[: len(extra)])
        return lambda s: s.lower().translate(table)
    # rfc8265 and unknown mappings: Unicode case folding (what ircish-server does).
    return str.casefold


def mention_pattern(nick: str, words: tuple[str, ...] = ()) -> re.Pattern[str]:
    """Matches ``nick`` (or one of ``words``) as a whole word, case-insensitively."""
    edge = re.escape(NICK_SPECIALS)
    alternatives = "|".join(re.escape(w) for w in (nick, *words) if w)
    return re.compile(rf"(?<![\w{edge}])(?:{alternatives})(?![\w{edge}])", re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def mask_regex(mask: str) -> re.Pattern[str]:
    """A ``nick!user@host`` glob (``*`` and ``?`` only; ``[`` is a nick character)."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in mask)
    return re.compile("".join(parts), re.DOTALL)


class Model:
    """All buffers and the user's own state."""

    def __init__(
        self,
        nick: str,
        server_label: str,
        *,
        clock: Callable[[], datetime] | None = None,
        on_bell: Callable[[], None] | None = None,
    ) -> None:
        self.nick = nick
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.on_bell = on_bell
        self.away: str | None = None
        #: The account we are logged in to (RPL_LOGGEDIN), or None.
        self.account: str | None = None
        #: Shown in the status line: "connecting", "registering", "connected", "reconnecting".
        self.state = "disconnected"
        #: When (time.monotonic) the next connection attempt is due, while waiting for it.
        self.retry_at: float | None = None
        self.fold: Callable[[str], str] = str.casefold
        self.chantypes = "#&"
        #: Prefix characters by rank, highest first (ISUPPORT PREFIX).
        self.prefixes = "~&@%+"
        #: Mode letter -> prefix character, e.g. "o" -> "@".
        self.prefix_modes = {"q": "~", "a": "&", "o": "@", "h": "%", "v": "+"}
        #: Room names seen in /list answers (for completion).
        self.known_rooms: set[str] = set()
        #: Other users known to be away: folded nick -> away text ("" if not told).
        #: Kept from IRCv3 away-notify, RPL_AWAY (301) and WHO flags.
        self.away_users: dict[str, str] = {}
        #: Draw runs of consecutive joins, parts and quits as one line
        #: ("--> alice, bob joined; <-- carol quit"). Only drawing reads it.
        self.fold_joins = False
        self.history = History()
        self.server = Buffer(server_label, BufferKind.SERVER)
        self.buffers: list[Buffer] = [self.server]
        self.current = self.server
        #: Whether this model's network is the one in view (``networks.Networks``): only
        #: then is its current buffer on screen, and what arrives there read at once.
        self.focused = True
        self._said = 0
        #: Words besides the nickname that make a line a mention (``highlights``).
        self.highlight_words: tuple[str, ...] = ()
        self._mention = mention_pattern(nick)
        #: Whether others' joins, parts and quits are shown (``/set show_joins``):
        #: off, new ones are not kept (nor logged) and those kept are not drawn.
        self.show_joins = True
        #: Whether the screen takes the mouse (``/set mouse``): wheel, clicks.
        self.mouse = True
        #: Ignore masks (``/ignore``), completed to ``nick!user@host``.
        self.ignores: list[str] = []
        #: Where added lines are logged, if anywhere (``/set log``).
        self.logbook: LogBook | None = None
        #: The configuration file ``/save`` writes (the one read at start, else the default).
        self.config_path: Path | None = None

    # -- names ------------------------------------------------------------------

    def set_nick(self, nick: str) -> None:
        self.nick = nick
        self._mention = mention_pattern(nick, self.highlight_words)

    def set_highlights(self, words: tuple[str, ...]) -> None:
        self.highlight_words = words
        self._mention = mention_pattern(self.nick, words)

    # -- ignoring -----------------------------------------------------------------

    def ignore(self, mask: str) -> str | None:
        """Ignore ``mask`` (a nick becomes ``nick!*@*``); the mask, or None if already there."""
        full = mask if "!" in mask or "@" in mask else f"{mask}!*@*"
        if "!" not in full:
            full = "*!" + full
        if any(self.fold(m) == self.fold(full) for m in self.ignores):
            return None
        self.ignores.append(full)
        return full

    def unignore(self, mask: str) -> str | None:
        """Stop ignoring ``mask`` (or the nick's ``nick!*@*``); the mask removed, or None."""
        for full in (mask, f"{mask}!*@*", f"*!{mask}"):
            for m in self.ignores:
                if self.fold(m) == self.fold(full):
                    self.ignores.remove(m)
                    return m
        return None

    def is_ignored(self, source: str | None) -> bool:
        """Whether a message from ``source`` (``nick!user@host``) is hidden; never our own."""
        if not self.ignores or not source or "!" not in source:
            return False
        if self.is_me(source.split("!", 1)[0]):
            return False
        folded = self.fold(source)
        # Folded here, not when added: the server's CASEMAPPING may come later.
        return any(mask_regex(self.fold(m)).fullmatch(folded) for m in self.ignores)

    def is_me(self, nick: str | None) -> bool:
        return nick is not None and self.fold(nick) == self.fold(self.nick)

    def is_room_name(self, name: str) -> bool:
        return bool(name) and name[0] in self.chantypes

    def mentions_me(self, text: str) -> bool:
        return self._mention.search(text) is not None

    # -- buffers ----------------------------------------------------------------

    def find(self, name: str) -> Buffer | None:
        """The buffer called ``name`` (case-insensitive), a number ("2"), or None."""
        if name.isdigit():
            i = int(name) - 1
            return self.buffers[i] if 0 <= i < len(self.buffers) else None
        key = self.fold(name)
        for buf in self.buffers:
            if buf is not self.server and self.fold(buf.name) == key:
                return buf
        if key in ("server", "status", self.fold(self.server.name)):
            return self.server
        return None

    def open(self, name: str, kind: BufferKind) -> Buffer:
        """The buffer for ``name``, created at the end of the list if needed."""
        buf = self.find(name) if not name.isdigit() else None
        if buf is None or buf is self.server:
            buf = Buffer(name, kind)
            self.buffers.append(buf)
        return buf

    def rooms(self) -> list[Buffer]:
        return [b for b in self.buffers if b.kind is BufferKind.ROOM]

    def rooms_with(self, nick: str) -> Iterator[Buffer]:
        key = self.fold(nick)
        return (b for b in self.rooms() if key in b.members)

    def is_noise(self, line: Line) -> bool:
        """Someone else's join, part or quit (one's own are never hidden or folded)."""
        return line.kind in JOIN_KINDS and not line.own

    def hidden(self, line: Line) -> bool:
        """Whether ``line`` is not drawn at all (``show_joins`` off)."""
        return not self.show_joins and self.is_noise(line)

    def switch(self, buf: Buffer) -> None:
        if buf is not self.current:
            self.current.marker = None  # read now: the marker goes when the user leaves
        self.current = buf
        buf.unread = 0
        buf.highlights = 0

    def in_view(self, buf: Buffer) -> bool:
        """Whether ``buf`` is on screen: this network's current buffer, and it is focused."""
        return self.focused and buf is self.current

    def close(self, buf: Buffer) -> None:
        if buf is self.server:
            raise ValueError("the server buffer cannot be closed")
        i = self.buffers.index(buf)
        self.buffers.remove(buf)
        if self.current is buf:
            self.switch(self.buffers[max(0, i - 1)])

    def rename(self, buf: Buffer, name: str) -> None:
        buf.name = name

    # -- lines ------------------------------------------------------------------

    def add(self, buf: Buffer, line: Line) -> Line:
        """Append ``line`` to ``buf`` and account for it as activity.

        A message whose msgid the buffer already shows is not added again: the
        line already there is returned.
        """
        if line.msgid:
            if (seen := buf.msgids.get(line.msgid)) is not None:
                return seen
            buf.msgids[line.msgid] = line
        if not self.show_joins and line.kind in JOIN_KINDS and not line.own:
            return line  # not shown, not logged
        if self.logbook is not None and self.logbook.enabled:
            self.logbook.write(buf, line)
        if buf.full:
            self._evict(buf)
        if not self.in_view(buf) and buf.marker is None and buf.lines:
            buf.marker = line
        buf.lines.append(line)
        if self.in_view(buf) and buf.scroll:
            buf.scroll += 1  # keep the view still while the user reads back
        self._count(buf, line)
        return line

    def _evict(self, buf: Buffer) -> None:
        """Drop the oldest line of a full buffer (and forget its msgid)."""
        old = buf.lines.popleft()
        if old.msgid:
            buf.msgids.pop(old.msgid, None)

    @staticmethod
    def is_activity(line: Line) -> bool:
        """Whether ``line`` counts as unread: others' messages, and being kicked."""
        if line.kind in ACTIVITY_KINDS:
            return not line.own
        return line.kind is LineKind.KICK and line.mention

    def _count(self, buf: Buffer, line: Line, *, bell: bool = True) -> None:
        """Activity accounting for a line that just arrived in ``buf``.

        One rule for every kind: a line is unread activity or it is not, and a
        highlight is always one of the unread lines (never ``(0!)``).
        """
        if line.kind in ACTIVITY_KINDS and line.nick and not line.own:
            buf.spoke[self.fold(line.nick)] = self._said = self._said + 1
        if self.in_view(buf) or not self.is_activity(line):
            return
        buf.unread += 1
        if line.mention or buf.kind is BufferKind.QUERY:
            buf.highlights += 1
            if bell and self.on_bell is not None:
                self.on_bell()

    def insert_history(
        self, buf: Buffer, lines: list[Line], *, missed: bool = False, after: str = ""
    ) -> int:
        """Put history lines into ``buf`` in time order; returns how many were new.

        Messages already in the buffer (same msgid) are dropped. ``missed``
        lines (the catch-up after a reconnect) count as unread activity, with
        at most one bell for the batch; older history never does.

        Server time has millisecond precision, so a burst shares one time: the
        batch keeps the server's order, a new line goes before buffer lines of
        the same time (a batch answers with what precedes what we have), and
        never before a line the batch itself already placed, nor before the
        buffer's copy of a message the batch repeats, nor before the message
        with msgid ``after`` (what the request asked for lines after). A line that lands below the
        bottom of a scrolled-back view scrolls it, so the view stays still.
        """
        added = 0
        rang = False
        lo = 0
        if after in buf.msgids:
            lo = buf.lines.index(buf.msgids[after]) + 1
        for line in sorted(lines, key=lambda x: x.time):
            seen = buf.msgids.get(line.msgid) if line.msgid else None
            if seen is not None:
                lo = max(lo, buf.lines.index(seen) + 1)
                continue
            index = bisect_left(buf.lines, line.time, lo=min(lo, len(buf.lines)), key=_time)
            if buf.full:
                if index == 0:
                    continue  # older than everything the buffer can keep
                self._evict(buf)
                index -= 1
            below_view = index > len(buf.lines) - buf.scroll
            buf.lines.insert(index, line)
            lo = index + 1
            if line.msgid:
                buf.msgids[line.msgid] = line
            added += 1
            if buf.scroll and below_view:
                buf.scroll += 1
            if missed:
                if not self.in_view(buf) and buf.marker is None and len(buf.lines) > 1:
                    buf.marker = line
                before = buf.highlights
                self._count(buf, line, bell=not rang)
                rang = rang or buf.highlights > before
        return added

    def line(
        self, buf: Buffer, kind: LineKind, text: str = "", nick: str = "", **kw: object
    ) -> Line:
        """Build a line stamped now and add it (``kw``: own, mention, table, time, msgid)."""
        when = kw.pop("time", None) or self.clock()
        made = Line(when, kind, text, nick, **kw)  # type: ignore[arg-type]
        return self.add(buf, made)

    def make_message(
        self,
        nick: str,
        text: str,
        kind: LineKind = LineKind.MESSAGE,
        time: datetime | None = None,
        msgid: str = "",
        history: bool = False,
    ) -> Line:
        """A message line, not yet in any buffer: marks own lines and mentions."""
        own = self.is_me(nick)
        mention = not own and self.mentions_me(text)
        when = time or self.clock()
        return Line(when, kind, text, nick, own, mention, msgid=msgid, history=history)

    def info(self, text: str, buf: Buffer | None = None) -> Line:
        return self.line(buf or self.current, LineKind.INFO, text)

    def error(self, text: str, buf: Buffer | None = None) -> Line:
        return self.line(buf or self.current, LineKind.ERROR, text)

    def message(
        self,
        buf: Buffer,
        nick: str,
        text: str,
        kind: LineKind = LineKind.MESSAGE,
        time: datetime | None = None,
        msgid: str = "",
    ) -> Line:
        """A message, action or notice: marks own lines and mentions of the user."""
        return self.add(buf, self.make_message(nick, text, kind, time, msgid))

    def clear(self, buf: Buffer) -> None:
        """Empty the buffer; scrolling up does not fetch the cleared history again."""
        buf.cleared_msgid = buf.newest_msgid()
        buf.history_start = True
        buf.lines.clear()
        buf.msgids.clear()
        buf.scroll = 0

    # -- members ----------------------------------------------------------------

    def add_member(self, buf: Buffer, nick: str, prefix: str = "") -> None:
        buf.members[self.fold(nick)] = (nick, prefix)

    def remove_member(self, buf: Buffer, nick: str) -> bool:
        key = self.fold(nick)
        buf.spoke.pop(key, None)
        return buf.members.pop(key, None) is not None

    def rename_member(self, buf: Buffer, old: str, new: str) -> None:
        entry = buf.members.pop(self.fold(old), None)
        if entry is not None:
            buf.members[self.fold(new)] = (new, entry[1])
        if (spoke := buf.spoke.pop(self.fold(old), None)) is not None:
            buf.spoke[self.fold(new)] = spoke

    def set_away(self, nick: str, text: str | None) -> None:
        """Someone else went away (``text``) or came back (``None``)."""
        if text is None:
            self.away_users.pop(self.fold(nick), None)
        else:
            self.away_users[self.fold(nick)] = text

    def is_away(self, nick: str) -> bool:
        return self.fold(nick) in self.away_users

    def rename_user(self, old: str, new: str) -> None:
        """What is kept per user (not per room) follows a nick change."""
        if (text := self.away_users.pop(self.fold(old), None)) is not None:
            self.away_users[self.fold(new)] = text

    def set_prefix(self, buf: Buffer, nick: str, char: str, on: bool) -> None:
        key = self.fold(nick)
        if key not in buf.members:
            return
        shown, prefix = buf.members[key]
        chars = set(prefix) | {char} if on else set(prefix) - {char}
        ranked = "".join(c for c in self.prefixes if c in chars)
        buf.members[key] = (shown, ranked)

    def ranked_members(self, buf: Buffer) -> list[tuple[str, str]]:
        """(highest prefix or "", nick) of every member, by rank then name."""
        rank = {c: i for i, c in enumerate(self.prefixes)}

        def key(entry: tuple[str, str]) -> tuple[int, str]:
            shown, prefix = entry
            return (rank.get(prefix[:1], len(rank)), self.fold(shown))

        return [(prefix[:1], shown) for shown, prefix in sorted(buf.members.values(), key=key)]

    def sorted_members(self, buf: Buffer) -> list[str]:
        """Members with their highest prefix, by rank then name (as /names shows them)."""
        return [prefix + shown for prefix, shown in self.ranked_members(buf)]
