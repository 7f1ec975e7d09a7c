"""Server bans: K-lines (by ``nick!user@host`` mask) and D-lines (by IP or CIDR network).

Theory of operation: ``BanList`` holds every ban in memory, indexed so that
the checks on the busy paths cost little however many bans there are:

- a D-line is checked at every accepted connection (``refuse_ip``, called by
  ``net.server`` before a ``Connection`` exists). D-lines are kept by
  network, grouped by prefix length, so a check computes the address's
  network once per prefix length in use (at most 33 for IPv4, 129 for IPv6)
  and looks each up in a dict;
- a K-line is checked when a connection completes registration, and
  against the new mask when a registered user changes nickname. A K-line
  whose host is literal (``*@203.0.113.7``, ``*@abc.ircish``) is found by a
  dict lookup of the user's real and shown host; only K-lines with a wildcard
  in the host are matched one by one (each with its own compiled pattern).

A K-line matches a user if it matches their mask with the real address or
with the shown (cloaked) host, so operators may ban by either. Expired bans
never match; each timed ban has a timer (``chat.later``) that removes it
from memory and storage when it expires, and ``expire`` also runs before a
listing. The number of bans is bounded by ``[limits] max_bans`` (checked by
KLINE and DLINE, from the config each time, so a reload applies).

With storage attached, every change is written through (``add``/``remove``
below) and the bans are loaded at start; without storage they last until
the server stops.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ircish.core.cloaks import normalize_ip
from ircish.core.names import fold
from ircish.core.storage import ServerBan
from ircish.protocol import numerics as n
from ircish.protocol.words import canonical_mask

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ircish.core.chat import Chat
    from ircish.core.users import User

log = logging.getLogger("ircish.core")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Longest mask or address a ban takes.
MAX_MASK_LENGTH = 200
#: Longest duration a ban takes (ten years); longer is a mistake, or "no duration".
MAX_DURATION = 10 * 365 * 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_DURATION = re.compile(r"(?:\d+[smhdwy])+|\d+")
_DURATION_PART = re.compile(r"(\d+)([smhdwy])")
_WILDCARDS = frozenset("*?")


class BanError(ValueError):
    """A ban's duration, mask or address is not acceptable; the message says why."""

    def __init__(self, code: str, text: str, word: str = "") -> None:
        super().__init__(text)
        #: The FAIL code: INVALID_DURATION, INVALID_MASK, INVALID_ADDRESS, TOO_BROAD.
        self.code = code
        self.text = text
        #: The word refused, when it is not the ban's target (a duration).
        self.word = word


# -- parsing --------------------------------------------------------------------------


def parse_duration(word: str) -> int:
    """Seconds in ``10m``, ``2h``, ``1d12h``, ``1w`` or plain seconds; raises BanError."""
    text = word.lower()
    if not text.isascii() or not _DURATION.fullmatch(text):
        raise BanError(
            "INVALID_DURATION",
            f"Invalid duration {word!r}: use seconds or a number with s, m, h, d, w or y"
            " (10m, 2h, 1d12h)",
            word,
        )
    if text.isdigit():
        seconds = int(text)
    else:
        seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION_PART.findall(text))
    if seconds <= 0:
        raise BanError("INVALID_DURATION", "A duration must be more than 0 (none: permanent)", word)
    if seconds > MAX_DURATION:
        raise BanError(
            "INVALID_DURATION", "A duration may be at most 10 years (none: permanent)", word
        )
    return seconds


def kline_mask(text: str) -> str:
    """The canonical ``nick!user@host`` of a K-line target; raises BanError."""
    if "@" not in text:
        raise BanError(
            "INVALID_MASK",
            f"Invalid mask {text!r}: a K-line takes user@host or nick!user@host, or the"
            " nickname of someone connected",
        )
    if len(text) > MAX_MASK_LENGTH or not text.isprintable() or any(c.isspace() for c in text):
        raise BanError(
            "INVALID_MASK", f"Invalid mask: at most {MAX_MASK_LENGTH} characters, no spaces"
        )
    mask = canonical_mask(text)
    userhost = mask.partition("!")[2]
    user, _, host = userhost.partition("@")
    if "@" in host or "!" in userhost:
        raise BanError("INVALID_MASK", f"Invalid mask {text!r}: one '!' and one '@' at most")
    if set(user) <= _WILDCARDS and set(host) <= _WILDCARDS:
        raise BanError(
            "TOO_BROAD",
            f"{mask} would ban everyone: give a user or host that is not only wildcards",
        )
    return mask


def dline_network(text: str) -> Network:
    """The network of a D-line target (``203.0.113.7``, ``10.0.0.0/8``, ``2001:db8::/32``)."""
    try:
        if len(text) > MAX_MASK_LENGTH:
            raise ValueError(text)
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise BanError(
            "INVALID_ADDRESS",
            f"Invalid address {text!r}: a D-line takes an IP address or a CIDR network"
            " (203.0.113.7, 10.0.0.0/8, 2001:db8::/32)",
        ) from None
    if (
        isinstance(network, ipaddress.IPv6Network)
        and network.prefixlen >= 96
        and network.network_address.ipv4_mapped is not None
    ):
        # Connections from IPv4-mapped addresses are checked as IPv4.
        mapped = network.network_address.ipv4_mapped
        network = ipaddress.IPv4Network((mapped, network.prefixlen - 96), strict=False)
    if network.prefixlen == 0:
        raise BanError("TOO_BROAD", f"{network} would ban everyone")
    return network


def network_text(network: Network) -> str:
    """How a D-line shows: a single address without its prefix length."""
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def describe_duration(seconds: float) -> str:
    """``2 hours``, ``1 day 12 hours``, ``45 seconds``: the two largest units."""
    left = max(0, round(seconds))
    parts: list[str] = []
    for name, size in (("year", 31536000), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if left >= size:
            count, left = divmod(left, size)
            parts.append(f"{count} {name}" + ("s" if count != 1 else ""))
    if left or not parts:
        parts.append(f"{left} second" + ("s" if left != 1 else ""))
    return " ".join(parts[:2])


def _glob(mask: str) -> re.Pattern[str]:
    # As names.mask_matches: only * and ? are wildcards, compared case-folded.
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in fold(mask))
    return re.compile("".join(parts), re.DOTALL)


def key_of(kind: str, mask: str) -> str:
    """The key a ban is kept under: the folded mask, or the network."""
    return fold(mask) if kind == "K" else str(dline_network(mask))


# -- the list ---------------------------------------------------------------------------


@dataclass(slots=True)
class _KLine:
    ban: ServerBan
    pattern: re.Pattern[str]
    #: The folded host when it has no wildcard: found by lookup, not by matching.
    host: str | None


class BanList:
    """Every K-line and D-line, indexed for the checks (see the module docstring)."""

    __slots__ = ("_by_host", "_clock", "_dlines", "_klines", "_nets", "_wild")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._klines: dict[str, _KLine] = {}
        self._by_host: dict[str, dict[str, _KLine]] = {}
        self._wild: dict[str, _KLine] = {}
        self._dlines: dict[str, tuple[Network, ServerBan]] = {}
        #: (IP version, prefix length) -> network -> ban.
        self._nets: dict[tuple[int, int], dict[Network, ServerBan]] = {}

    def __len__(self) -> int:
        return len(self._klines) + len(self._dlines)

    def get(self, kind: str, key: str) -> ServerBan | None:
        if kind == "K":
            kline = self._klines.get(key)
            return kline.ban if kline is not None else None
        found = self._dlines.get(key)
        return found[1] if found is not None else None

    def put(self, ban: ServerBan) -> str:
        """Add or replace a ban (the caller checked the bound); return its key."""
        if ban.kind == "K":
            key = fold(ban.mask)
            self._drop_kline(key)
            host = fold(ban.mask.rpartition("@")[2])
            kline = _KLine(ban, _glob(ban.mask), None if _WILDCARDS & set(host) else host)
            self._klines[key] = kline
            if kline.host is None:
                self._wild[key] = kline
            else:
                self._by_host.setdefault(kline.host, {})[key] = kline
            return key
        network = dline_network(ban.mask)
        key = str(network)
        self._drop_dline(key)
        self._dlines[key] = (network, ban)
        self._nets.setdefault((network.version, network.prefixlen), {})[network] = ban
        return key

    def drop(self, kind: str, key: str) -> ServerBan | None:
        """Remove a ban; return it, or None if there was none."""
        return self._drop_kline(key) if kind == "K" else self._drop_dline(key)

    def _drop_kline(self, key: str) -> ServerBan | None:
        kline = self._klines.pop(key, None)
        if kline is None:
            return None
        if kline.host is None:
            del self._wild[key]
        else:
            bucket = self._by_host[kline.host]
            del bucket[key]
            if not bucket:
                del self._by_host[kline.host]
        return kline.ban

    def _drop_dline(self, key: str) -> ServerBan | None:
        found = self._dlines.pop(key, None)
        if found is None:
            return None
        network, ban = found
        group = (network.version, network.prefixlen)
        del self._nets[group][network]
        if not self._nets[group]:
            del self._nets[group]
        return ban

    # -- checks ---------------------------------------------------------------------

    def dline_for(self, ip: str) -> ServerBan | None:
        """The D-line that covers ``ip`` (in force now), or None."""
        if not self._nets:
            return None
        canonical = normalize_ip(ip)
        if not canonical:
            return None
        addr = ipaddress.ip_address(canonical)
        now = self._clock()
        for (version, prefix), networks in self._nets.items():
            if version != addr.version:
                continue
            ban = networks.get(ipaddress.ip_network((addr, prefix), strict=False))
            if ban is not None and not _over(ban, now):
                return ban
        return None

    def refuse_ip(self, ip: str) -> str:
        """Why a new connection from ``ip`` is refused at accept ("" when it is not)."""
        ban = self.dline_for(ip) if self._nets else None
        return "" if ban is None else refusal_text(ban)

    def kline_for(self, masks: Iterable[str], hosts: Iterable[str]) -> ServerBan | None:
        """The K-line (in force now) matching any of ``masks``, whose hosts are ``hosts``."""
        if not self._klines:
            return None
        now = self._clock()
        folded = [fold(m) for m in masks]
        candidates: list[_KLine] = []
        for host in {fold(h) for h in hosts}:
            candidates.extend(self._by_host.get(host, {}).values())
        candidates.extend(self._wild.values())
        for kline in candidates:
            ban = kline.ban
            if _over(ban, now):
                continue
            if any(kline.pattern.fullmatch(m) for m in folded):
                return ban
        return None

    def user_ban(self, user: User) -> ServerBan | None:
        """The D-line or K-line that applies to ``user``, or None."""
        return self.dline_for(user.ip) or self.kline_for(
            (user.mask, user.real_mask), (user.host, user.ip)
        )

    def nick_ban(self, user: User, nick: str) -> ServerBan | None:
        """The K-line that would apply to ``user`` if they were called ``nick``, or None."""
        masks = [f"{nick}!{m.partition('!')[2]}" for m in (user.mask, user.real_mask)]
        return self.kline_for(masks, (user.host, user.ip))

    def matches(self, ban: ServerBan, user: User) -> bool:
        """Whether this one ban (set or not) applies to ``user``."""
        if ban.kind == "D":
            canonical = normalize_ip(user.ip)
            return bool(canonical) and ipaddress.ip_address(canonical) in dline_network(ban.mask)
        pattern = _glob(ban.mask)
        return any(pattern.fullmatch(fold(m)) for m in (user.mask, user.real_mask))

    def listing(self, kind: str) -> list[ServerBan]:
        """The bans of a kind in force now, oldest first."""
        now = self._clock()
        if kind == "K":
            bans = [k.ban for k in self._klines.values()]
        else:
            bans = [b for _, b in self._dlines.values()]
        return sorted((b for b in bans if not _over(b, now)), key=lambda b: b.set_at)

    def expired(self) -> list[tuple[str, str]]:
        """(kind, key) of every ban that has expired."""
        now = self._clock()
        out = [("K", k) for k, kline in self._klines.items() if _over(kline.ban, now)]
        out += [("D", k) for k, (_, ban) in self._dlines.items() if _over(ban, now)]
        return out


def _over(ban: ServerBan, now: float) -> bool:
    return bool(ban.expires) and ban.expires <= now


def refusal_text(ban: ServerBan) -> str:
    """What a banned user is told (465, and the reason of the closing line)."""
    return f"You are banned from this server: {ban.reason}"


def quit_reason(ban: ServerBan) -> str:
    """What the room-mates of a user disconnected by a new ban see as the quit."""
    return f"{ban.kind}-lined: {ban.reason}"


# -- with the chat: storage and expiry timers -----------------------------------------------


def load(chat: Chat) -> None:
    """Take the stored bans (when storage is attached); expired ones are deleted."""
    storage = chat.storage
    if storage is None:
        return
    now = chat.clock()
    loaded = 0
    for ban in storage.bans():
        try:
            key = key_of(ban.kind, ban.mask)
        except ValueError:
            log.warning("skipping an unreadable stored %s-line %r", ban.kind, ban.mask)
            continue
        if _over(ban, now):
            storage.delete_ban(ban.kind, key)
            continue
        chat.bans.put(ban)
        _expire_later(chat, ban)
        loaded += 1
    if loaded:
        log.info("%d server bans in force", loaded)


def add(chat: Chat, ban: ServerBan) -> ServerBan | None:
    """Set a ban (replacing one of the same mask); return the one replaced, if any.

    The caller checked ``[limits] max_bans``.
    """
    key = key_of(ban.kind, ban.mask)
    old = chat.bans.get(ban.kind, key)
    chat.bans.put(ban)
    if chat.storage is not None:
        chat.storage.save_ban(key, ban)
    _expire_later(chat, ban)
    return old


def put_shared(chat: Chat, ban: ServerBan) -> None:
    """A ban set on another process (already stored here): in force, with its expiry."""
    chat.bans.put(ban)
    _expire_later(chat, ban)


def matching(chat: Chat, ban: ServerBan) -> list[User]:
    """The users a new ban disconnects (a D-line also those still registering)."""
    if ban.kind == "D":
        found = {c.user: None for c in chat.clients if chat.bans.matches(ban, c.user)}
        return list(found)
    return [u for u in chat.users if chat.bans.matches(ban, u)]


def enforce(chat: Chat, ban: ServerBan) -> int:
    """A ban set on another process: disconnect whom it matches here; how many."""
    victims = [u for u in matching(chat, ban) if u.clients]
    disconnect(chat, ban, victims)
    return len(victims)


def disconnect(chat: Chat, ban: ServerBan, victims: list[User]) -> None:
    why = refusal_text(ban)
    reason = quit_reason(ban)
    for victim in victims:
        log.info("%s (%s) matches the new %s-line %s", victim.nick, victim.ip, ban.kind, ban.mask)
        for each in list(victim.clients):
            if not each.quitting:
                chat.numeric(each, n.ERR_YOUREBANNEDCREEP, why)
                chat.disconnect(each, reason)


def remove(chat: Chat, kind: str, key: str) -> ServerBan | None:
    """Lift a ban; return it, or None if there was none."""
    ban = chat.bans.drop(kind, key)
    if ban is not None and chat.storage is not None:
        chat.storage.delete_ban(kind, key)
    return ban


def expire(chat: Chat) -> None:
    """Remove every ban that has expired, from memory and storage."""
    for kind, key in chat.bans.expired():
        ban = remove(chat, kind, key)
        if ban is not None:
            log.info("%s-line %s expired", kind, ban.mask)


def _expire_later(chat: Chat, ban: ServerBan) -> None:
    if ban.expires:
        # A ban replaced or lifted meanwhile leaves a timer that finds nothing to do.
        chat.later(max(0.0, ban.expires - chat.clock()), lambda: expire(chat))
