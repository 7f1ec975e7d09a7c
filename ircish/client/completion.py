"""Tab completion, irssi style: Tab replaces the word before the cursor and cycles.

What is completed depends on the word and its place:

- ``/jo``            -> command names (``/join ``)
- ``/switch #d``     -> buffer names after ``/switch`` and ``/close``
- ``#li``            -> rooms: joined ones first, then those seen in ``/list``
- ``al`` at the start of the line -> ``alice: `` (the addressing convention)
- ``al`` elsewhere   -> ``alice `` (members of the current room or the query peer)

Nicknames come in the order their owners last spoke (most recent first), then
alphabetically with away users last, as in irssi and WeeChat. Pressing Tab again right after a
completion moves to the next candidate; Shift+Tab to the previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ircish.client.model import BufferKind, Model

#: Commands whose argument is a buffer name.
_BUFFER_COMMANDS = frozenset({"/switch", "/close", "/buffer", "/window", "/b", "/w"})


@dataclass(slots=True)
class _Cycle:
    head: str
    tail: str
    suffix_at_start: bool
    candidates: list[str]
    index: int
    result: tuple[str, int]


class Completer:
    """Completes the input line against a ``Model``."""

    def __init__(self, model: Model, commands: Iterable[str]) -> None:
        self.model = model
        self.commands = sorted(set(commands))
        self._cycle: _Cycle | None = None

    def complete(self, text: str, cursor: int, backwards: bool = False) -> tuple[str, int] | None:
        """The new (text, cursor), or None when nothing matches."""
        cycle = self._cycle
        if cycle is not None and cycle.result == (text, cursor) and cycle.candidates:
            step = -1 if backwards else 1
            cycle.index = (cycle.index + step) % len(cycle.candidates)
            return self._apply(cycle)
        before, after = text[:cursor], text[cursor:]
        start = before.rfind(" ") + 1
        head, word = before[:start], before[start:]
        candidates, suffix = self._candidates(head, word)
        if not candidates:
            self._cycle = None
            return None
        self._cycle = _Cycle(
            head,
            after,
            suffix == ": ",
            candidates,
            len(candidates) - 1 if backwards else 0,
            ("", 0),
        )
        return self._apply(self._cycle)

    def _apply(self, cycle: _Cycle) -> tuple[str, int]:
        chosen = cycle.candidates[cycle.index]
        suffix = ": " if cycle.suffix_at_start else " "
        if cycle.tail.startswith(" "):
            suffix = suffix.rstrip()
        new_before = cycle.head + chosen + suffix
        cycle.result = (new_before + cycle.tail, len(new_before))
        return cycle.result

    def _candidates(self, head: str, word: str) -> tuple[list[str], str]:
        model = self.model
        first = head.strip() == ""
        if first and word.startswith("/"):
            return _prefixed(self.commands, word, str.lower), " "
        command = head.split(" ", 1)[0].lower() if head.startswith("/") else ""
        if command in _BUFFER_COMMANDS and head.count(" ") == 1:
            names = [b.name for b in model.buffers if b is not model.server]
            return _prefixed(names, word, model.fold), " "
        if not word:
            return [], " "
        if model.is_room_name(word):
            joined = [b.name for b in model.rooms()]
            seen = sorted(model.known_rooms, key=model.fold)
            return _prefixed(_unique(joined + seen, model.fold), word, model.fold), " "
        return _prefixed(self._nicks(), word, model.fold), ": " if first else " "

    def _nicks(self) -> list[str]:
        model = self.model
        buf = model.current
        if buf.kind is BufferKind.QUERY:
            return [buf.name]
        me = model.fold(model.nick)
        # Who spoke last first; of the rest, those here before those away.
        ranked = sorted(
            ((key, shown) for key, (shown, _) in buf.members.items() if key != me),
            key=lambda item: (-buf.spoke.get(item[0], 0), model.is_away(item[1]), item[0]),
        )
        return [shown for _, shown in ranked]


def _prefixed(names: Iterable[str], word: str, fold: Callable[[str], str]) -> list[str]:
    key = fold(word)
    return [n for n in names if fold(n).startswith(key)]


def _unique(names: Iterable[str], fold: Callable[[str], str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        key = fold(name)
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out
