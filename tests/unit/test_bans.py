"""Server ban parsing and the ban list's indexes (``ircish.core.bans``), without a chat."""

from __future__ import annotations

import pytest

from ircish.core import bans
from ircish.core.bans import BanError, BanList
from ircish.core.storage import ServerBan
from ircish.core.users import User
from ircish.protocol.words import looks_like_duration

NOW = 1_000_000.0


@pytest.mark.parametrize(
    ("word", "seconds"),
    [
        ("1", 1),
        ("3600", 3600),
        ("10m", 600),
        ("2h", 7200),
        ("1d", 86400),
        ("1d12h", 129600),
        ("1w", 604800),
        ("1y", 31536000),
        ("90S", 90),
        ("1h30m15s", 5415),
        ("10y", 315360000),
    ],
)
def test_durations(word: str, seconds: int) -> None:
    assert looks_like_duration(word)
    assert bans.parse_duration(word) == seconds


@pytest.mark.parametrize("word", ["10x", "1mo", "0", "0m", "11y", "1h2", "٣h", "9" * 30])
def test_bad_durations(word: str) -> None:
    assert looks_like_duration(word)  # meant as one: an error, never a mask
    with pytest.raises(BanError) as err:
        bans.parse_duration(word)
    assert err.value.code == "INVALID_DURATION"


@pytest.mark.parametrize(
    "word", ["*@host", "10.0.0.1", "2001:db8::1", "1.2.3.0/24", "bob", "", "1.5h", "h1"]
)
def test_targets_are_not_durations(word: str) -> None:
    assert not looks_like_duration(word)


@pytest.mark.parametrize(
    ("text", "mask"),
    [
        ("*@203.0.113.7", "*!*@203.0.113.7"),
        ("bob!*@*.example", "bob!*@*.example"),
        ("~u@h", "*!~u@h"),
        ("@h", "*!*@h"),
        ("u@", "*!u@*"),
        ("n!@h", "n!*@h"),
    ],
)
def test_kline_masks(text: str, mask: str) -> None:
    assert bans.kline_mask(text) == mask


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("bob", "INVALID_MASK"),
        ("*@*", "TOO_BROAD"),
        ("n!*@*", "TOO_BROAD"),
        ("*?@?*", "TOO_BROAD"),
        ("a b@c", "INVALID_MASK"),
        ("x@\x01", "INVALID_MASK"),
        ("a@b@c", "INVALID_MASK"),
        ("a!b!c@d", "INVALID_MASK"),
        ("*@" + "h" * 200, "INVALID_MASK"),
    ],
)
def test_bad_kline_masks(text: str, code: str) -> None:
    with pytest.raises(BanError) as err:
        bans.kline_mask(text)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("2001:db8::1/128", "2001:db8::1"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
    ],
)
def test_dline_networks(text: str, shown: str) -> None:
    assert bans.network_text(bans.dline_network(text)) == shown


def test_an_ipv4_mapped_network_is_ipv4_and_all_of_it_is_too_broad() -> None:
    with pytest.raises(BanError) as err:
        bans.dline_network("::ffff:0:0/96")
    assert err.value.code == "TOO_BROAD"
    assert str(bans.dline_network("::ffff:0:0/95")) == "::fffe:0:0/95"  # not only IPv4-mapped


@pytest.mark.parametrize(
    "text", ["10.0.0.0/33", "300.1.1.1", "host.example", "*@1.2.3.4", "", "1.2.3.4/x"]
)
def test_bad_dline_networks(text: str) -> None:
    with pytest.raises(BanError) as err:
        bans.dline_network(text)
    assert err.value.code == "INVALID_ADDRESS"


def test_describe_duration() -> None:
    assert bans.describe_duration(0) == "0 seconds"
    assert bans.describe_duration(1) == "1 second"
    assert bans.describe_duration(3661) == "1 hour 1 minute"
    assert bans.describe_duration(86400 * 400) == "1 year 35 days"


def user(host: str, ip: str, nick: str = "bob", username: str = "~bob") -> User:
    u = User(host, NOW, ip=ip)
    u.username = username
    u.set_nick(nick)
    return u


def kline(mask: str, expires: float = 0.0) -> ServerBan:
    return ServerBan("K", bans.kline_mask(mask), "r", "op", NOW, expires)


def dline(net: str, expires: float = 0.0) -> ServerBan:
    return ServerBan("D", bans.network_text(bans.dline_network(net)), "r", "op", NOW, expires)


def test_klines_match_the_real_and_the_shown_host_literal_or_wildcard() -> None:
    clock = [NOW]
    banlist = BanList(lambda: clock[0])
    victim = user("abc.ircish", "203.0.113.7")
    other = user("xyz.ircish", "198.51.100.1", "carol", "~carol")

    def hit(u: User) -> ServerBan | None:
        return banlist.kline_for((u.mask, u.real_mask), (u.host, u.ip))

    assert hit(victim) is None
    by_ip = kline("*@203.0.113.7")
    banlist.put(by_ip)
    assert hit(victim) == by_ip and hit(other) is None
    banlist.drop("K", "*!*@203.0.113.7")
    by_cloak = kline("*@ABC.ircish")  # case-insensitive
    banlist.put(by_cloak)
    assert hit(victim) == by_cloak and hit(other) is None
    wild = kline("carol!*@198.51.*", expires=NOW + 10)
    banlist.put(wild)
    assert hit(other) == wild
    clock[0] = NOW + 10
    assert hit(other) is None  # expired: no longer applies
    assert banlist.expired() == [("K", "carol!*@198.51.*")]
    assert len(banlist) == 2
    assert banlist.listing("K") == [by_cloak]


def test_dlines_by_prefix_length() -> None:
    clock = [NOW]
    banlist = BanList(lambda: clock[0])
    banlist.put(dline("203.0.113.0/24"))
    banlist.put(dline("2001:db8::/32", expires=NOW + 5))
    banlist.put(dline("198.51.100.9"))
    assert banlist.dline_for("203.0.113.200") is not None
    assert banlist.dline_for("203.0.114.1") is None
    assert banlist.dline_for("198.51.100.9") is not None
    assert banlist.dline_for("198.51.100.10") is None
    assert banlist.dline_for("::ffff:198.51.100.9") is not None
    assert banlist.dline_for("2001:db8:ffff::1") is not None
    assert banlist.dline_for("not an address") is None
    assert banlist.refuse_ip("203.0.113.1") == "You are banned from this server: r"
    clock[0] = NOW + 5
    assert banlist.dline_for("2001:db8::1") is None
    assert banlist.drop("D", "203.0.113.0/24") is not None
    assert banlist.drop("D", "203.0.113.0/24") is None
    assert banlist.dline_for("203.0.113.200") is None
    assert banlist.matches(dline("198.51.100.0/24"), user("h", "198.51.100.77"))
    assert not banlist.matches(dline("198.51.100.0/24"), user("h", "fe80::1"))
    assert banlist.refuse_ip("198.51.100.9") != ""  # the others still apply
