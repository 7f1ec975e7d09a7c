"""Nicknames and room names: validation and case mapping.

Case mapping is RFC 8265's (PRECIS), as ISUPPORT advertises with
``CASEMAPPING=rfc8265`` and as Ergo does: the ``UsernameCaseMapped`` profile
of the ``precis-i18n`` library maps fullwidth and halfwidth forms to their
ordinary characters, lowercases (Unicode ``toLower``) and normalises to NFC,
so ``Alice``/``ALICE``, ``Вася``/``ВАСЯ`` and ``ｂob``/``bob`` are the same
name. Unlike the old ``rfc1459`` mapping, ``[]\\~`` are *not* folded to
``{}|^``; unlike ``str.casefold()``, ``ß`` stays ``ß`` (``Straße`` is not
``Strasse``).

A nickname must pass both IRC's rules (``valid_nick``: letters, digits and
IRC's specials, no leading digit or ``-``) and PRECIS's IdentifierClass (no
compatibility characters such as ``²`` or ``ﬁ``, no unassigned code points,
right-to-left text only as the Bidi Rule allows). Room names keep their own
rules and fold the same way; a name PRECIS refuses (a room name with a
symbol, a lookup of an invalid nick) folds by the profile's mapping rules
alone, so ``fold`` never fails.

``fold`` runs for every message target: an ASCII name is just ``lower()``
(which is what PRECIS gives for ASCII), and the PRECIS work for other names
is cached. Look-alike nicknames (UTS #39 skeletons) are
``ircish.core.confusables``.
"""

# Look-alike letters in the examples are the point of them.
# ruff: noqa: RUF002

from __future__ import annotations

import functools
import re
import unicodedata

from precis_i18n import get_profile

#: Characters IRC allows in nicknames beyond letters and digits.
NICK_SPECIALS = frozenset("[]\\`_^{|}-")
#: Characters never allowed in a room name (space, comma, BEL, colon, controls).
_ROOM_FORBIDDEN = frozenset(" ,:\x07\x00\r\n")
ROOM_PREFIX = "#"
_MARKS = frozenset({"Mn", "Mc"})
_MAX_MARKS = 3
#: RFC 8265 section 3.3 (UsernameCaseMapped: width mapping, toLower, NFC, Bidi Rule).
_PRECIS = get_profile("UsernameCaseMapped")
#: Longer names are folded without the cache, so that odd targets cannot fill memory.
_CACHED_LENGTH = 100
#: Rounds of the mapping rules before a key is taken as it is (RFC 8264 section 7).
_MAX_ROUNDS = 4
#: Why PRECIS refused a nickname, in words for the user (by precis-i18n's reason).
_PRECIS_REASONS = {
    "has_compat": "a compatibility character such as ² or ﬁ (type the plain letter or digit)",
    "bidi_rule": "right-to-left letters mixed with other text",
    "unassigned": "a character Unicode has not assigned",
    "not_idempotent": "characters whose case mapping does not settle",
}


def fold(name: str) -> str:
    """The key under which a nickname or room name is indexed."""
    if name.isascii():
        return name.lower()
    if len(name) > _CACHED_LENGTH:
        return _fold(name)
    return _fold_cached(name)


def _fold(name: str) -> str:
    """The profile's mapping rules, repeated until they settle, without its checks.

    For every name PRECIS accepts this is exactly what ``enforce`` returns (its
    result is the rules applied once, and only if applying them again changes
    nothing); the checks cost microseconds a character, so only ``valid_nick``
    runs them, on names no longer than a nickname.
    """
    key = name
    for _ in range(_MAX_ROUNDS):
        again = _PRECIS.width_mapping_rule(key)
        again = _PRECIS.normalization_rule(_PRECIS.case_mapping_rule(again))
        if again == key:
            break
        key = again
    return key


#: Non-ASCII names seen recently (targets, rooms, masks) -> their keys.
_fold_cached = functools.lru_cache(maxsize=4096)(_fold)


def precis_problem(name: str) -> str | None:
    """Why PRECIS (UsernameCaseMapped) refuses ``name``, in words; None if it accepts it."""
    if name.isascii():
        return None if name and all(" " < ch < "\x7f" for ch in name) else "a space or control"
    try:
        _PRECIS.enforce(name)
    except UnicodeEncodeError as exc:
        reason = exc.reason.rpartition("/")[2]
        return _PRECIS_REASONS.get(reason, "a character not allowed in nicknames")
    except UnicodeError:
        return "a character not allowed in nicknames"
    return None


def normalize(name: str) -> str:
    """The NFC form names are stored in (so "é" typed as e + U+0301 is one name)."""
    return name if name.isascii() else unicodedata.normalize("NFC", name)


def _irc_nick(nick: str, max_len: int) -> bool:
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


def valid_nick(nick: str, max_len: int, *, precis: bool = True) -> bool:
    """Letters (any script, with their combining marks), digits and IRC specials,
    accepted by PRECIS (unless ``precis`` is false: IRC's rules alone).

    Not starting with a digit, '-' or a combining mark; at most ``max_len``
    characters after NFC normalisation. The folded form obeys the same rules
    (a fullwidth digit is a digit).
    """
    nick = normalize(nick)
    if not _irc_nick(nick, max_len):
        return False
    if nick.isascii() or not precis:
        return True
    return precis_problem(nick) is None and _irc_nick(fold(nick), max_len)


def valid_room_name(name: str, max_len: int) -> bool:
    """``#`` followed by at least one printable character, no separators."""
    if len(name) < 2 or len(name) > max_len or name[0] != ROOM_PREFIX:
        return False
    return all(ch not in _ROOM_FORBIDDEN and ch.isprintable() for ch in name)


def room_name_problem(name: str, max_len: int) -> str:
    """Why ``name`` is not a valid room name, in a few words ("" when it is one)."""
    if not name.startswith(ROOM_PREFIX):
        return f"it must start with '{ROOM_PREFIX}'"
    if len(name) < 2:
        return f"it needs at least one character after '{ROOM_PREFIX}'"
    if len(name) > max_len:
        return f"it is longer than the {max_len}-character limit"
    for ch in name:
        if ch == " ":
            return "it may not contain spaces"
        if ch in ",:":
            return f"it may not contain '{ch}'"
        if ch in _ROOM_FORBIDDEN or not ch.isprintable():
            return "it may not contain control characters"
    return ""


def is_room_name(target: str) -> bool:
    """Whether a message target names a room rather than a user."""
    return target.startswith(ROOM_PREFIX)


@functools.lru_cache(maxsize=4096)
def _mask_regex(mask: str) -> re.Pattern[str]:
    # IRC globs know only * and ?; [ ] are ordinary nickname characters.
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in fold(mask))
    return re.compile("".join(parts), re.DOTALL)


def mask_matches(mask: str, full: str) -> bool:
    """Whether ``nick!user@host`` ``full`` matches the glob ``mask`` (case-insensitively)."""
    return _mask_regex(mask).fullmatch(fold(full)) is not None
