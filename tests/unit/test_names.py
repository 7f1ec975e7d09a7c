"""Nickname and room-name rules: case mapping, validation."""

# Cyrillic letters that look Latin are the point of several cases here.
# ruff: noqa: RUF001

from __future__ import annotations

import unicodedata

import pytest

from ircish.core.names import fold, is_room_name, valid_nick, valid_room_name

E_ACUTE = "\u00e9"  # é, one code point (NFC)
E_COMBINING = "e\u0301"  # e + combining acute (NFD)

FOLD_CASES = [
    ("alice", "alice"),
    ("Alice", "alice"),
    ("ALICE", "alice"),
    ("aLiCe_42", "alice_42"),
    # rfc8265-style mapping: the rfc1459 equivalences []\~ <-> {}|^ do not apply.
    ("[Bob]", "[bob]"),
    ("a\\b", "a\\b"),
    ("a~b", "a~b"),
    ("Вася", "вася"),
    ("ВАСЯ", "вася"),
    ("вАсЯ", "вася"),
    ("Ёжик", "ёжик"),
    ("ΣΟΦΙΑ", "σοφια"),
    ("#Lobby", "#lobby"),
    ("#КОМНАТА", "#комната"),
    ("#Mixed-Комната", "#mixed-комната"),
    # RFC 8265 lowercases (toLower); it does not case-fold: ß stays ß.
    ("Straße", "straße"),
    ("\u212aate", "kate"),  # KELVIN SIGN: toLower, then NFC
    # Width mapping: fullwidth forms are their ordinary letters.
    ("ｂys_p1", "bys_p1"),
    ("ＡＬＩＣＥ", "alice"),
    # Names PRECIS refuses still fold, by its mapping rules alone (rooms allow symbols).
    ("#Café☕", "#café☕"),
    ("#ＣＡＦＥ☕", "#cafe☕"),
]


@pytest.mark.parametrize(("name", "key"), FOLD_CASES)
def test_fold(name: str, key: str) -> None:
    assert fold(name) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Alice", "aLICE"),
        ("Вася", "ВАСЯ"),
        ("#Lobby", "#LOBBY"),
        ("Straße", "STRAßE"),
        ("ｂob", "BOB"),
        (f"Ren{E_ACUTE}", f"REN{E_COMBINING.upper()}"),
        (f"{E_ACUTE}ric", f"{E_COMBINING}ric"),
        (f"#caf{E_ACUTE}", f"#CAF{E_COMBINING.upper()}"),
    ],
)
def test_fold_makes_names_equal(a: str, b: str) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("alice", "alicf"),
        ("[a]", "{a}"),
        ("a|b", "a\\b"),
        ("вася", "васа"),
        ("e", E_ACUTE),
        # Look-alikes are different names (the skeleton index refuses them instead).
        ("bys_p1", "bуs_р1"),
        ("Straße", "Strasse"),
    ],
)
def test_fold_keeps_different_names_apart(a: str, b: str) -> None:
    assert fold(a) != fold(b)


def test_fold_normalises_to_nfc() -> None:
    key = fold(f"{E_COMBINING}ric")
    assert key == f"{E_ACUTE}ric"
    assert unicodedata.is_normalized("NFC", key)


def test_fold_is_idempotent() -> None:
    for name, _ in FOLD_CASES:
        assert fold(fold(name)) == fold(name)


MAX_NICK = 30

NICK_CASES = [
    ("alice", True),
    ("Alice", True),
    ("a", True),
    ("a1", True),
    ("alice_", True),
    ("_alice", True),
    ("[bob]", True),
    ("{bob}", True),
    ("b|o^b", True),
    ("back\\slash", True),
    ("`tick`", True),
    ("a-b", True),
    ("Вася", True),
    ("Ёжик", True),
    ("Σοφία", True),
    ("李小龍", True),
    (f"{E_ACUTE}ric", True),
    ("x" * MAX_NICK, True),
    ("Ж" * MAX_NICK, True),
    ("", False),
    ("x" * (MAX_NICK + 1), False),
    ("Ж" * (MAX_NICK + 1), False),
    ("1abc", False),
    ("9", False),
    ("-abc", False),
    ("a b", False),
    ("a\tb", False),
    ("a,b", False),
    ("a!b", False),
    ("a@b", False),
    ("a:b", False),
    (":a", False),
    ("#a", False),
    ("&a", False),
    ("a*", False),
    ("a?", False),
    ("a.b", False),
    ("a\x01b", False),
    ("a\x1b[31m", False),
    ("a\u200bb", False),  # zero-width space: invisible look-alike
    ("😀", False),
    # IRC's rules pass, PRECIS refuses: compatibility forms, and mixed-direction text.
    ("x²", False),
    ("ﬁsh", False),
    ("Ⅻ", False),
    ("aשלום", False),
    ("שלום_", False),
    # PRECIS accepts these (fullwidth maps to ASCII; Hebrew alone passes the Bidi Rule).
    ("ｂys_p1", True),
    ("שלום", True),
    # A fullwidth digit is a digit, first or after folding.
    ("１abc", False),
]


@pytest.mark.parametrize(("nick", "ok"), NICK_CASES)
def test_valid_nick(nick: str, ok: bool) -> None:
    assert valid_nick(nick, MAX_NICK) is ok


@pytest.mark.parametrize(
    "nick",
    [
        # Letters that Unicode spells with combining marks are still letters.
        f"{E_COMBINING}ric",  # NFD input, as some keyboards produce it
        "राम",  # Devanagari: consonants plus vowel signs (category Mc/Mn)
        "สมชาย",  # Thai
    ],
)
def test_valid_nick_accepts_letters_with_combining_marks(nick: str) -> None:
    assert valid_nick(nick, MAX_NICK)


def test_valid_nick_length_limit_is_configurable() -> None:
    assert valid_nick("abcde", 5)
    assert not valid_nick("abcdef", 5)


MAX_ROOM = 50

ROOM_CASES = [
    ("#a", True),
    ("#lobby", True),
    ("#Lobby", True),
    ("##", True),
    ("#a-b_c.d", True),
    ("#комната", True),
    ("#日本", True),
    ("#c++", True),
    ("#" + "x" * (MAX_ROOM - 1), True),
    ("#" + "x" * MAX_ROOM, False),
    ("#", False),
    ("", False),
    ("lobby", False),
    ("&lobby", False),
    ("!lobby", False),
    ("#a b", False),
    ("#a,b", False),
    ("#a:b", False),
    ("#a\x07", False),
    ("#a\x00", False),
    ("#a\r", False),
    ("#a\n", False),
    ("#a\x1b", False),
    ("#a\u200b", False),
]


@pytest.mark.parametrize(("name", "ok"), ROOM_CASES)
def test_valid_room_name(name: str, ok: bool) -> None:
    assert valid_room_name(name, MAX_ROOM) is ok


@pytest.mark.parametrize(
    ("target", "room"), [("#a", True), ("#", True), ("alice", False), ("", False), ("&a", False)]
)
def test_is_room_name(target: str, room: bool) -> None:
    assert is_room_name(target) is room
