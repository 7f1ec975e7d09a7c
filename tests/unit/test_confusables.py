"""PRECIS case mapping (RFC 8265) and UTS #39 skeletons: examples and properties."""

# Look-alike letters are the point of these cases.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from precis_i18n import get_profile

from ircish.core import confusables, names
from ircish.core.confusables import skeleton
from ircish.core.names import fold, precis_problem, valid_nick

PRECIS = get_profile("UsernameCaseMapped")
MAX_NICK = 30


def precis_key(name: str) -> str | None:
    try:
        return PRECIS.enforce(name)
    except UnicodeError:
        return None


def fullwidth(text: str) -> str:
    """ASCII printable characters as their fullwidth forms (U+FF01-U+FF5E)."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


# -- skeletons ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lookalike",
    [
        "bys_p1",
        "bуs_р1",  # Cyrillic у and р
        "ｂys_p1",  # fullwidth b
        "ｂｙｓ＿ｐ１",  # all fullwidth
        "BYS_P1",  # case
        "bys_pl",  # l looks like 1
        "bys_pI",  # so does I
        "bys_р|",  # and | (not a nickname character, but a skeleton is total)
    ],
)
def test_the_issues_lookalikes_share_a_skeleton(lookalike: str) -> None:
    assert skeleton(lookalike) == skeleton("bys_p1") == "bys_pl"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Bob", "B0b"),  # 0 looks like O
        ("NickServ", "NickSeгv"),  # Cyrillic г
        ("Вася", "Bacя"),  # Cyrillic В, а, с against Latin B, a, c
        ("paypal", "раураl"),
    ],
)
def test_lookalikes(a: str, b: str) -> None:
    assert skeleton(a) == skeleton(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("emma", "ernrna"),  # m is kept apart from rn (Ergo's tweak of the table)
        ("alice", "bob"),
        ("nick", "nlck"),  # i does not look like l
        ("вася", "васа"),
    ],
)
def test_different_names_keep_different_skeletons(a: str, b: str) -> None:
    assert skeleton(a) != skeleton(b)


def test_the_m_family_looks_like_m_not_rn() -> None:
    # SMALL ROMAN NUMERAL ONE THOUSAND and LATIN SMALL LETTER M WITH HOOK.
    assert skeleton("\u217f") == "m"
    assert skeleton("\u0271") == skeleton("m\u0326")


def test_the_data_is_unicodes_confusables_txt() -> None:
    assert confusables.DATA_VERSION == "13.0.0"
    assert len(confusables._TABLE) > 6000
    assert confusables._TABLE[ord("у")] == "y"


def test_every_character_of_the_table_has_a_fixed_point_skeleton() -> None:
    table = confusables._TABLE
    chars = {chr(cp) for cp in table} | {ch for target in table.values() for ch in target}
    chars |= {ch.upper() for ch in chars} | {ch.casefold() for ch in chars}
    for ch in chars:
        key = skeleton(ch)
        assert skeleton(key) == key, (ch, key)


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_a_skeleton_is_its_own_skeleton(text: str) -> None:
    key = skeleton(text)
    assert skeleton(key) == key


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_the_skeleton_of_a_folded_name_is_stable(text: str) -> None:
    key = skeleton(fold(text))
    assert skeleton(fold(fold(text))) == key
    assert skeleton(key) == key


@given(st.text(alphabet=string.ascii_letters + string.digits + "[]\\`_^{|}-", max_size=30))
def test_fullwidth_forms_look_like_ascii(text: str) -> None:
    assert skeleton(fullwidth(text)) == skeleton(text)


# -- PRECIS case mapping ----------------------------------------------------------------


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_ascii_fold_is_lower_and_what_precis_gives(text: str) -> None:
    assert fold(text) == text.lower()
    key = precis_key(text)
    assert key is None or key == fold(text)


@settings(max_examples=500)
@given(st.text(max_size=40))
def test_fold_is_what_precis_gives_whenever_precis_accepts(text: str) -> None:
    key = precis_key(text)
    assert key is None or fold(text) == key


@settings(max_examples=500)
@given(st.text(max_size=40))
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.text(min_size=1, max_size=20))
def test_names_too_long_for_the_cache_fold_the_same_way(text: str) -> None:
    long = (text * (names._CACHED_LENGTH // len(text) + 2))[: names._CACHED_LENGTH + 5]
    assert fold(long) == names._fold(long)
    assert fold(text) == names._fold(text)


@given(st.text(alphabet=st.characters(categories=("L", "M", "N")), max_size=MAX_NICK))
def test_the_folded_form_of_a_valid_nick_is_a_valid_nick(text: str) -> None:
    if valid_nick(text, MAX_NICK):
        assert valid_nick(fold(text), MAX_NICK)
        assert precis_key(names.normalize(text)) is not None


@pytest.mark.parametrize(
    ("nick", "why"),
    [
        ("x²", "compatibility character"),
        ("ﬁsh", "compatibility character"),
        ("aשלום", "right-to-left"),
        ("Вася", None),
        ("bob", None),
        ("ｂob", None),
    ],
)
def test_precis_problem_says_why(nick: str, why: str | None) -> None:
    problem = precis_problem(nick)
    if why is None:
        assert problem is None
    else:
        assert problem is not None and why in problem
