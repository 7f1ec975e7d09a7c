"""Nicknames and room names: validation and case mapping.

Case mapping: names are compared after Unicode NFC normalisation and
``str.casefold()``, so ``Alice``/``ALICE`` and ``Вася``/``ВАСЯ`` are the same
name. This is the spirit of RFC 8265 (PRECIS) case mapping, and what ISUPPORT
advertises as ``CASEMAPPING=rfc8265``. Unlike the old ``rfc1459`` mapping,
``[]\\~`` are *not* folded to ``{}|^``.
"""

from __future__ import annotations

import functools
import re
import unicodedata

#: Characters IRC allows in nicknames beyond letters and digits.
NICK_SPECIALS = frozenset("[]\\`_^{|}-")
#: Characters never allowed in a room name (space, comma, BEL, colon, controls).
_ROOM_FORBIDDEN = frozenset(" ,:\x07\x00\r\n")
ROOM_PREFIX = "#"
_MARKS = frozenset({"Mn", "Mc"})
_MAX_MARKS = 3


def fold(name: str) -> str:
    """The key under which a nickname or room name is indexed."""
    if name.isascii():
        return name.lower()
    return unicodedata.normalize("NFC", name).casefold()


def normalize(name: str) -> str:
    """The NFC form names are stored in (so "é" typed as e + U+0301 is one name)."""
    return name if name.isascii() else unicodedata.normalize("NFC", name)


def valid_nick(nick: str, max_len: int) -> bool:
    """Letters (any script, with their combining marks), digits and IRC specials.

    Not starting with a digit, '-' or a combining mark; at most ``max_len``
    characters after NFC normalisation.
    """
    nick = normalize(nick)
    if not nick or len(nick) > max_len:
        return False
    first = nick[0]
    if first.isdigit() or first == "-" or not (first.isalnum() or first in NICK_SPECIALS):
        return False
    marks = 0
    for ch in nick[1:]:
        if ch.isalnum() or ch in NICK_SPECIALS:
            marks = 0
        elif unicodedata.category(ch) in _MARKS:
            # Scripts such as Devanagari need marks; a pile of them is only noise.
            marks += 1
            if marks > _MAX_MARKS:
                return False
        else:
            return False
    return True


def valid_room_name(name: str, max_len: int) -> bool:
    """``#`` followed by at least one printable character, no separators."""
    if len(name) < 2 or len(name) > max_len or name[0] != ROOM_PREFIX:
        return False
    return all(ch not in _ROOM_FORBIDDEN and ch.isprintable() for ch in name)


def is_room_name(target: str) -> bool:
    """Whether a message target names a room rather than a user."""
    return target.startswith(ROOM_PREFIX)


def canonical_mask(mask: str) -> str:
    """Complete a ban-style mask to ``nick!user@host`` (``bob`` -> ``bob!*@*``)."""
    if "!" in mask:
        nick, _, rest = mask.partition("!")
        user, _, host = rest.partition("@")
        return f"{nick or '*'}!{user or '*'}@{host or '*'}"
    if "@" in mask:
        user, _, host = mask.partition("@")
        return f"*!{user or '*'}@{host or '*'}"
    if "." in mask or ":" in mask:
        return f"*!*@{mask}"
    return f"{mask}!*@*"


@functools.lru_cache(maxsize=4096)
def _mask_regex(mask: str) -> re.Pattern[str]:
    # IRC globs know only * and ?; [ ] are ordinary nickname characters.
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in fold(mask))
    return re.compile("".join(parts), re.DOTALL)


def mask_matches(mask: str, full: str) -> bool:
    """Whether ``nick!user@host`` ``full`` matches the glob ``mask`` (case-insensitively)."""
    return _mask_regex(mask).fullmatch(fold(full)) is not None
