"""The shape of words that both the server and the slash-command language read.

Pure functions on strings: a ban mask completed to ``nick!user@host`` and the
test for a duration (``10m``). The core bans and matches with them; the slash
language (``protocol.slash``) uses them to turn ``/ban bob`` and ``/kline 1h
bob`` into IRC commands on either side.
"""

from __future__ import annotations

#: What a mask or an address has and a duration never does.
_NOT_DURATION = frozenset("@!.:/*?")


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


def looks_like_duration(word: str) -> bool:
    """Whether ``word`` was meant as a duration (``10m``, ``1d12h``, ``3600``) not a target."""
    return bool(word) and word[0].isdigit() and not (_NOT_DURATION & set(word))
