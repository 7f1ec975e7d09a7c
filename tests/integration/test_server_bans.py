"""Server bans through in-memory sessions: KLINE, DLINE, UNKLINE, UNDLINE, STATS.

Users connect from made-up documentation addresses (203.0.113.0/24,
198.51.100.0/24, 2001:db8::/32) so that a ban can hit one of them and not
the operator, who is on loopback. What each user sees is asserted: the
banned user's 465 and closing line, room-mates' QUIT, the operator's NOTICE
or FAIL. The clock is the network's own, moved by ``net.advance``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ircish.config import Config, LimitsConfig, OperatorConfig
from ircish.core.chat import Chat
from ircish.storage.sqlite import SqliteStorage
from tests.helpers import MemoryClient, MemoryNetwork, drain
from tests.unit.test_operators_config import cheap_hash

SERVER = "ircish.local"
PASSWORD = "ban hammer"
BAD = "203.0.113.7"
OTHER = "198.51.100.9"
V6 = "2001:db8:1:2::7"


def config(**limits: int) -> Config:
    return replace(
        Config(),
        operators=(OperatorConfig("admin", cheap_hash(PASSWORD)),),
        limits=replace(LimitsConfig(), **limits),
    )


@pytest.fixture
def net() -> MemoryNetwork:
    return MemoryNetwork(config())


def irc_from(net: MemoryNetwork, nick: str, host: str) -> MemoryClient:
    """An IRC user from ``host``, registered, output drained."""
    client = net.connect("irc", host=host)
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{nick} real")
    client.lines()
    return client


def plain_from(net: MemoryNetwork, nick: str, host: str) -> MemoryClient:
    client = net.connect("plain", host=host)
    client.send(nick)
    client.lines()
    return client


def oper(net: MemoryNetwork, nick: str = "op", plain: bool = False) -> MemoryClient:
    client = net.plain(nick) if plain else net.irc(nick)
    client.send(f"/oper admin {PASSWORD}" if plain else f"OPER admin :{PASSWORD}")
    client.lines()
    assert "o" in client.user.modes
    return client


def registered(net: MemoryNetwork, nick: str) -> bool:
    return net.chat.users.get(nick) is not None


def notice(text: str, to: str = "op") -> str:
    return f":{SERVER} NOTICE {to} :{text}"


# -- K-lines ------------------------------------------------------------------------------


def test_kline_disconnects_whom_it_matches_and_room_mates_see_a_quit(net: MemoryNetwork) -> None:
    op = oper(net)
    bad = irc_from(net, "bad", BAD)
    good = irc_from(net, "good", OTHER)
    watcher = net.plain("watcher")
    for c in (bad, good):
        c.send("JOIN #lobby")
    drain(bad, good, watcher)
    op.send("KLINE 10m *@203.0.113.7 :spamming links")
    assert op.lines() == [
        notice("Added K-line *!*@203.0.113.7 for 10 minutes: spamming links (1 disconnected)")
    ]
    assert bad.lines() == [
        f":{SERVER} 465 bad :You are banned from this server: spamming links",
        f"ERROR :Closing Link: {bad.user.host} (K-lined: spamming links)",
    ]
    assert bad.sink.closed
    assert not registered(net, "bad")
    # A clean QUIT for everyone who shared a room; the reason is the ban's.
    assert watcher.lines() == ["*** bad quit (K-lined: spamming links)"]
    assert good.lines() == [f":{bad.user.mask} QUIT :K-lined: spamming links"]
    assert registered(net, "good")


def test_a_klined_user_is_refused_at_registration(net: MemoryNetwork) -> None:
    op = oper(net)
    op.send("KLINE *@203.0.113.* :go away")
    assert op.lines() == [notice("Added K-line *!*@203.0.113.* permanently: go away")]
    again = net.connect("irc", host="203.0.113.50")
    again.send("NICK back")
    again.send("USER back 0 * :Back")
    assert again.lines() == [
        f":{SERVER} 465 back :You are banned from this server: go away",
        f"ERROR :Closing Link: {again.user.host} (You are banned from this server: go away)",
    ]
    assert again.sink.closed and not registered(net, "back")
    human = net.connect("plain", host="203.0.113.51")
    human.lines()
    human.send("hopeful")
    assert human.lines() == [
        "! You are banned from this server: go away",
        "*** Closing connection: You are banned from this server: go away",
    ]
    assert not registered(net, "hopeful")
    # Someone else still gets in.
    fine = irc_from(net, "fine", OTHER)
    assert registered(net, "fine") and not fine.sink.closed


def test_kline_of_a_nick_bans_their_real_address(net: MemoryNetwork) -> None:
    op = oper(net)
    bad = irc_from(net, "spammer", BAD)
    assert bad.user.host != BAD  # others see a cloak
    op.send("KLINE spammer :bye")
    assert op.lines() == [notice("Added K-line *!*@203.0.113.7 permanently: bye (1 disconnected)")]
    assert bad.sink.closed
    new = net.connect("irc", host=BAD)
    new.send("NICK renamed")
    new.send("USER r 0 * :r")
    assert new.lines()[0] == f":{SERVER} 465 renamed :You are banned from this server: bye"


def test_kline_by_cloak_and_with_a_nick_mask(net: MemoryNetwork) -> None:
    op = oper(net)
    bad = irc_from(net, "bad", BAD)
    other = irc_from(net, "other", BAD)  # the same address: the same cloak
    cloak = bad.user.host
    assert other.user.host == cloak
    op.send(f"KLINE bad!*@{cloak} :only bad")
    assert op.lines() == [
        notice(f"Added K-line bad!*@{cloak} permanently: only bad (1 disconnected)")
    ]
    assert bad.sink.closed and not other.sink.closed
    # The nick part counts at registration: "other" gets in, a new "bad" does not.
    again = net.connect("irc", host=BAD)
    again.send("NICK bad")
    again.send("USER bad 0 * :b")
    assert again.lines()[0].split()[1] == "465"


def test_a_nick_change_cannot_take_a_klined_nick(net: MemoryNetwork) -> None:
    op = oper(net)
    op.send("KLINE spam*!*@203.0.113.* :no spam bots")
    drain(op)
    bot = irc_from(net, "quiet", BAD)
    human = plain_from(net, "human", "203.0.113.8")
    elsewhere = plain_from(net, "elsewhere", OTHER)
    drain(bot, human)
    bot.send("NICK spambot")
    assert bot.lines() == [
        f":{SERVER} 432 quiet spambot :spambot is banned from this server: no spam bots"
    ]
    human.send("/nick spammer")
    assert human.lines() == ["! spammer is banned from this server: no spam bots"]
    assert bot.user.nick == "quiet" and human.user.nick == "human"
    assert not bot.sink.closed
    bot.send("NICK fine")
    assert bot.user.nick == "fine"
    # The ban is for that network only.
    elsewhere.send("/nick spamfan")
    assert elsewhere.user.nick == "spamfan"


def test_replacing_a_kline_updates_it(net: MemoryNetwork) -> None:
    op = oper(net)
    op.send("KLINE 1h *@203.0.113.7 :first")
    op.lines()
    op.send("KLINE *@203.0.113.7 :second")
    assert op.lines() == [notice("Updated K-line *!*@203.0.113.7 permanently: second")]
    assert len(net.chat.bans) == 1
    op.send("STATS k")
    assert "second (set by op" in op.lines()[0]


def test_unkline_lifts_it(net: MemoryNetwork) -> None:
    op = oper(net)
    op.send("KLINE *@203.0.113.7 :x")
    op.lines()
    op.send("UNKLINE *@203.0.113.7")
    assert op.lines() == [notice("Removed K-line *!*@203.0.113.7")]
    assert len(net.chat.bans) == 0
    back = irc_from(net, "back", BAD)
    assert registered(net, "back") and not back.sink.closed


def test_a_ban_that_matches_the_operator_needs_myself(net: MemoryNetwork) -> None:
    op = oper(net)
    bystander = net.plain("bystander")
    op.send("KLINE *@127.0.0.1 :oops")
    assert op.lines() == [
        f":{SERVER} FAIL KLINE MATCHES_YOU *!*@127.0.0.1 :*!*@127.0.0.1 matches you; to ban"
        " yourself too, say KLINE MYSELF ..."
    ]
    assert len(net.chat.bans) == 0 and registered(net, "op") and registered(net, "bystander")
    # The cloak ("localhost") is the operator's as well.
    op.send("DLINE 127.0.0.0/8")
    assert op.lines()[0].startswith(f":{SERVER} FAIL DLINE MATCHES_YOU 127.0.0.0/8 :")
    op.send("KLINE ANDKILL MYSELF *@localhost :everyone local")
    assert op.lines() == [
        notice("Added K-line *!*@localhost permanently: everyone local (2 disconnected)"),
        f":{SERVER} 465 op :You are banned from this server: everyone local",
        "ERROR :Closing Link: localhost (K-lined: everyone local)",
    ]
    assert op.sink.closed and bystander.sink.closed


# -- D-lines ------------------------------------------------------------------------------


def test_dline_of_a_network_disconnects_and_refuses(net: MemoryNetwork) -> None:
    op = oper(net)
    a = irc_from(net, "a", "203.0.113.1")
    b = plain_from(net, "b", "203.0.113.200")
    c = irc_from(net, "c", OTHER)
    pending = net.connect("irc", host="203.0.113.99")  # still registering
    pending.send("NICK slow")
    pending.lines()
    op.send("DLINE 1d 203.0.113.0/24 :botnet")
    assert op.lines() == [notice("Added D-line 203.0.113.0/24 for 1 day: botnet (3 disconnected)")]
    assert a.lines() == [
        f":{SERVER} 465 a :You are banned from this server: botnet",
        f"ERROR :Closing Link: {a.user.host} (D-lined: botnet)",
    ]
    assert b.lines() == [
        "! You are banned from this server: botnet",
        "*** Closing connection: D-lined: botnet",
    ]
    assert a.sink.closed and b.sink.closed and pending.sink.closed and not c.sink.closed
    assert net.chat.bans.refuse_ip("203.0.113.42") == "You are banned from this server: botnet"
    assert net.chat.bans.refuse_ip("::ffff:203.0.113.42") != ""
    assert net.chat.bans.refuse_ip("203.0.114.1") == ""


def test_dline_ipv6(net: MemoryNetwork) -> None:
    op = oper(net)
    v6 = irc_from(net, "six", V6)
    op.send("DLINE 2001:db8:1::/48 :v6 spam")
    assert op.lines() == [
        notice("Added D-line 2001:db8:1::/48 permanently: v6 spam (1 disconnected)")
    ]
    assert v6.sink.closed
    assert net.chat.bans.refuse_ip("2001:db8:1:ffff::1") != ""
    assert net.chat.bans.refuse_ip("2001:db8:2::1") == ""
    # An address alone is a /128, shown without its length; host bits are dropped.
    op.send("DLINE 2001:DB8::5 :one")
    assert op.lines() == [notice("Added D-line 2001:db8::5 permanently: one")]
    # An address that starts with ':' is sent as "0::2": a parameter cannot start with ':'.
    op.send("DLINE 0::2 :colon")
    assert op.lines() == [notice("Added D-line ::2 permanently: colon")]
    op.send("STATS d")
    assert f":{SERVER} 225 op D 0::2 :colon (set by op at 1970-01-12 13:46 UTC; permanent)" in (
        op.lines()
    )
    op.send("UNDLINE 2001:db8:1:abcd::/48")
    assert op.lines() == [notice("Removed D-line 2001:db8:1::/48")]
    assert net.chat.bans.refuse_ip("2001:db8:1::1") == ""


def test_undline_lets_them_back(net: MemoryNetwork) -> None:
    op = oper(net)
    op.send("DLINE 203.0.113.7")
    assert op.lines() == [notice("Added D-line 203.0.113.7 permanently: No reason given")]
    refused = net.connect("irc", host=BAD)
    refused.send("NICK x")
    refused.send("USER x 0 * :x")
    assert (
        refused.lines()[0] == f":{SERVER} 465 x :You are banned from this server: No reason given"
    )
    op.send("UNDLINE 203.0.113.7")
    assert op.lines() == [notice("Removed D-line 203.0.113.7")]
    assert registered(net, "back") is False
    irc_from(net, "back", BAD)
    assert registered(net, "back")


# -- expiry -------------------------------------------------------------------------------


def test_timed_bans_expire_and_are_removed_from_storage() -> None:
    net = MemoryNetwork(config(), storage=True)
    assert net.storage is not None
    op = oper(net)
    op.send("KLINE 10m *@203.0.113.7 :ten minutes")
    op.send("DLINE 1h30m 198.51.100.0/24 :ninety minutes")
    op.lines()
    assert {b.mask for b in net.storage.bans()} == {"*!*@203.0.113.7", "198.51.100.0/24"}
    net.advance(599)
    op.send("STATS k")
    assert op.lines()[0].endswith("(set by op at 1970-01-12 13:46 UTC; expires in 1 second)")
    early = net.connect("irc", host=BAD)
    early.send("NICK early")
    early.send("USER e 0 * :e")
    assert early.lines()[0].split()[1] == "465"
    net.advance(1)
    # The timer removed it: gone from memory and storage, and no longer applied.
    assert [b.mask for b in net.storage.bans()] == ["198.51.100.0/24"]
    op.send("STATS k")
    assert op.lines() == [f":{SERVER} 219 op k :End of /STATS report"]
    irc_from(net, "late", BAD)
    assert registered(net, "late")
    assert net.chat.bans.refuse_ip(OTHER) != ""
    net.advance(80 * 60)
    assert net.chat.bans.refuse_ip(OTHER) == ""
    assert net.storage.bans() == []
    assert len(net.chat.bans) == 0


def test_stored_bans_come_back_and_expired_ones_are_dropped(tmp_path: Path) -> None:
    """Two chats on one SQLite file: the second loads what the first stored."""
    path = str(tmp_path / "bans.db")
    first = MemoryNetwork(config())
    store = SqliteStorage(path)
    first.chat.attach_storage(store)
    op = oper(first)
    op.send("KLINE *@203.0.113.7 :for ever")
    op.send("DLINE 60 198.51.100.0/24 :a minute")
    op.lines()
    store.close()
    now = [first.now + 120]
    chat = Chat(config(), clock=lambda: now[0])
    again = SqliteStorage(path)
    chat.attach_storage(again)
    assert [b.mask for b in chat.bans.listing("K")] == ["*!*@203.0.113.7"]
    assert chat.bans.listing("D") == []  # expired while the server was down
    assert [b.kind for b in again.bans()] == ["K"]
    assert chat.bans.refuse_ip(OTHER) == ""
    again.close()


# -- STATS --------------------------------------------------------------------------------


def test_stats_lists_bans_for_irc_and_plain(net: MemoryNetwork) -> None:
    op = oper(net)
    op.send("KLINE 2h bad!~x@203.0.113.* :nick and user")
    op.send("KLINE *@203.0.113.8 :just an address")
    op.send("DLINE 10.0.0.0/8 :private")
    op.lines()
    op.send("STATS k")
    assert op.lines() == [
        f":{SERVER} 216 op K 203.0.113.* * bad!~x :nick and user (set by op at 1970-01-12 13:46"
        " UTC; expires in 2 hours)",
        f":{SERVER} 216 op K 203.0.113.8 * * :just an address (set by op at 1970-01-12 13:46"
        " UTC; permanent)",
        f":{SERVER} 219 op k :End of /STATS report",
    ]
    op.send("KLINE LIST")
    assert len(op.lines()) == 3
    op.send("STATS D")
    assert op.lines() == [
        f":{SERVER} 225 op D 10.0.0.0/8 :private (set by op at 1970-01-12 13:46 UTC; permanent)",
        f":{SERVER} 219 op D :End of /STATS report",
    ]
    human = oper(net, "human", plain=True)
    human.send("/stats k")
    assert human.lines() == [
        "*** K-line bad!~x@203.0.113.*: nick and user (set by op at 1970-01-12 13:46 UTC;"
        " expires in 2 hours)",
        "*** K-line *@203.0.113.8: just an address (set by op at 1970-01-12 13:46 UTC; permanent)",
        "*** End of /stats k",
    ]
    human.send("/stats d")
    assert human.lines() == [
        "*** D-line 10.0.0.0/8: private (set by op at 1970-01-12 13:46 UTC; permanent)",
        "*** End of /stats d",
    ]


def test_stats_u_for_anyone_o_and_bans_for_operators(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    net.advance(90061)
    alice.send("STATS u")
    assert alice.lines() == [
        f":{SERVER} 242 alice :Server Up 1 days 1:01:01",
        f":{SERVER} 219 alice u :End of /STATS report",
    ]
    alice.send("STATS U")
    assert alice.lines()[0] == f":{SERVER} 242 alice :Server Up 1 days 1:01:01"
    # Everything else is for operators, even a letter STATS does not know.
    for query in ("k", "d", "o", "K", "z", "x"):
        alice.send(f"STATS {query}")
        assert alice.lines() == [
            f":{SERVER} 481 alice :Permission Denied- You're not an IRC operator"
        ]
    alice.send("STATS u elsewhere.example")
    assert alice.lines() == [f":{SERVER} 402 alice elsewhere.example :No such server"]
    op = oper(net)
    op.send("STATS o")
    assert op.lines() == [
        f":{SERVER} 243 op O * * :admin",
        f":{SERVER} 219 op o :End of /STATS report",
    ]
    op.send("STATS x ircish.local")
    assert op.lines() == [f":{SERVER} 219 op x :End of /STATS report"]
    human = net.plain("human")
    human.send("/stats u")
    assert human.lines() == ["*** Server Up 1 days 1:01:01", "*** End of /stats u"]


# -- netcat operators ---------------------------------------------------------------------


def test_plain_operator_bans_with_slash_commands(net: MemoryNetwork) -> None:
    op = oper(net, "boss", plain=True)
    bad = irc_from(net, "bad", BAD)
    bad.send("JOIN #lobby")
    op.lines()
    op.send("/kline 30m bad flooding  the room")
    # The answer, then the quit it caused.
    assert op.lines() == [
        "*** Added K-line *!*@203.0.113.7 for 30 minutes: flooding the room (1 disconnected)",
        "*** bad quit (K-lined: flooding the room)",
    ]
    assert bad.sink.closed
    op.send("/dline 2001:db8::/32 on sight")  # "on" is the reason's, not ON <server>
    assert op.lines() == ["*** Added D-line 2001:db8::/32 permanently: on sight"]
    op.send("/unkline *@203.0.113.7")
    assert op.lines() == ["*** Removed K-line *!*@203.0.113.7"]
    op.send("/undline 2001:db8::/32")
    assert op.lines() == ["*** Removed D-line 2001:db8::/32"]
    op.send("/undline 2001:db8::/32")
    assert op.lines() == ["! There is no D-line 2001:db8::/32"]
    op.send("/kline 10x *@h")
    assert op.lines() == [
        "! Invalid duration '10x': use seconds or a number with s, m, h, d, w or y (10m, 2h, 1d12h)"
    ]
    op.send("/kline")
    assert op.lines() == ["! Usage: /kline [DURATION] MASK|NICK [reason]"]


def test_a_plain_user_without_operator_status_is_refused(net: MemoryNetwork) -> None:
    human = net.plain("human")
    for line in ("/kline *@203.0.113.7 x", "/dline 10.0.0.0/8", "/unkline *@h", "/undline ::1"):
        human.send(line)
        assert human.lines() == ["! Only server operators can do that (see /oper)"]
    assert len(net.chat.bans) == 0


# -- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "KLINE 10x *@203.0.113.7 :r",
            "FAIL KLINE INVALID_DURATION 10x :Invalid duration '10x': use seconds or a number"
            " with s, m, h, d, w or y (10m, 2h, 1d12h)",
        ),
        (
            "KLINE ANDKILL MYSELF 1h2 *@203.0.113.7",
            "FAIL KLINE INVALID_DURATION 1h2 :Invalid duration '1h2': use seconds or a number"
            " with s, m, h, d, w or y (10m, 2h, 1d12h)",
        ),
        (
            "KLINE 0 *@203.0.113.7",
            "FAIL KLINE INVALID_DURATION 0 :A duration must be more than 0 (none: permanent)",
        ),
        (
            "KLINE 11y *@203.0.113.7",
            "FAIL KLINE INVALID_DURATION 11y :A duration may be at most 10 years (none: permanent)",
        ),
        (
            "KLINE nobody :r",
            "FAIL KLINE INVALID_MASK nobody :Invalid mask 'nobody': a K-line takes user@host or"
            " nick!user@host, or the nickname of someone connected",
        ),
        (
            "KLINE a@b@c",
            "FAIL KLINE INVALID_MASK a@b@c :Invalid mask 'a@b@c': one '!' and one '@' at most",
        ),
        (
            "KLINE *@*",
            "FAIL KLINE TOO_BROAD *@* :*!*@* would ban everyone: give a user or host that is not"
            " only wildcards",
        ),
        (
            "KLINE 1h bob!*@? :r",
            "FAIL KLINE TOO_BROAD bob!*@? :bob!*@? would ban everyone: give a user or host that"
            " is not only wildcards",
        ),
        (
            "DLINE 10.0.0.0/33 :r",
            "FAIL DLINE INVALID_ADDRESS 10.0.0.0/33 :Invalid address '10.0.0.0/33': a D-line"
            " takes an IP address or a CIDR network (203.0.113.7, 10.0.0.0/8, 2001:db8::/32)",
        ),
        (
            "DLINE 300.1.2.3",
            "FAIL DLINE INVALID_ADDRESS 300.1.2.3 :Invalid address '300.1.2.3': a D-line takes an"
            " IP address or a CIDR network (203.0.113.7, 10.0.0.0/8, 2001:db8::/32)",
        ),
        (
            "DLINE *@203.0.113.7",
            "FAIL DLINE INVALID_ADDRESS *@203.0.113.7 :Invalid address '*@203.0.113.7': a D-line"
            " takes an IP address or a CIDR network (203.0.113.7, 10.0.0.0/8, 2001:db8::/32)",
        ),
        ("DLINE 0.0.0.0/0", "FAIL DLINE TOO_BROAD 0.0.0.0/0 :0.0.0.0/0 would ban everyone"),
        ("DLINE 0::/0 :all of v6", "FAIL DLINE TOO_BROAD 0::/0 :::/0 would ban everyone"),
        ("KLINE 1h", "461 op KLINE :Not enough parameters"),
        ("DLINE ANDKILL 2h", "461 op DLINE :Not enough parameters"),
        ("KLINE *@203.0.113.7 ON", "461 op KLINE :Not enough parameters"),
        ("KLINE *@203.0.113.7 ON other.server :r", "402 op other.server :No such server"),
        (
            "UNKLINE *@203.0.113.99",
            "FAIL UNKLINE NO_SUCH_BAN *@203.0.113.99 :There is no K-line *!*@203.0.113.99",
        ),
        (
            "UNDLINE 10.0.0.0/8",
            "FAIL UNDLINE NO_SUCH_BAN 10.0.0.0/8 :There is no D-line 10.0.0.0/8",
        ),
        (
            "UNDLINE nonsense",
            "FAIL UNDLINE INVALID_ADDRESS nonsense :Invalid address"
            " 'nonsense': a D-line takes an IP address or a CIDR network (203.0.113.7,"
            " 10.0.0.0/8, 2001:db8::/32)",
        ),
        ("UNKLINE", "461 op UNKLINE :Not enough parameters"),
        (f"KLINE *@203.0.113.7 :{'x' * 10}\x00", None),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(
    net: MemoryNetwork, line: str, expected: str | None
) -> None:
    op = oper(net)
    op.send("KLINE *@198.51.100.1 :already there")
    op.lines()
    target = irc_from(net, "target", BAD)
    if expected is None:
        # A NUL in the reason becomes a space (session framing); the ban is set, nothing breaks.
        op.send(line)
        assert op.lines()[0].startswith(notice("Added K-line *!*@203.0.113.7 permanently: "))
        return
    op.send(line)
    assert op.lines() == [f":{SERVER} {expected}"]
    assert [b.mask for b in net.chat.bans.listing("K")] == ["*!*@198.51.100.1"]
    assert net.chat.bans.listing("D") == []
    assert registered(net, "target") and not target.sink.closed and target.lines() == []


@pytest.mark.parametrize(
    "line", ["KLINE *@203.0.113.7 :x", "DLINE 203.0.113.0/24", "UNKLINE *@h", "UNDLINE 1.2.3.4"]
)
def test_non_operators_get_481_and_nothing_changes(net: MemoryNetwork, line: str) -> None:
    op = oper(net)
    op.send("KLINE *@198.51.100.1 :kept")
    op.send("DLINE 1.2.3.4 :kept")
    op.lines()
    target = irc_from(net, "target", BAD)
    alice = net.irc("alice")
    alice.send(line)
    assert alice.lines() == [f":{SERVER} 481 alice :Permission Denied- You're not an IRC operator"]
    assert len(net.chat.bans) == 2
    assert not target.sink.closed


def test_the_number_of_bans_is_bounded() -> None:
    net = MemoryNetwork(config(max_bans=2))
    op = oper(net)
    op.send("KLINE *@203.0.113.1")
    op.send("DLINE 203.0.113.2")
    op.lines()
    op.send("KLINE *@203.0.113.3 :one more")
    assert op.lines() == [
        f":{SERVER} FAIL KLINE TOO_MANY_BANS *!*@203.0.113.3 :There are already 2 server bans"
        " ([limits] max_bans)"
    ]
    # Replacing one is not one more.
    op.send("DLINE 1h 203.0.113.2 :shorter")
    assert op.lines() == [notice("Updated D-line 203.0.113.2 for 1 hour: shorter")]
    op.send("UNKLINE *@203.0.113.1")
    op.send("KLINE *@203.0.113.3 :now it fits")
    assert op.lines()[-1] == notice("Added K-line *!*@203.0.113.3 permanently: now it fits")
    assert len(net.chat.bans) == 2


@pytest.mark.parametrize(
    ("word", "said", "seconds"),
    [
        ("90", "1 minute 30 seconds", 90),
        ("45s", "45 seconds", 45),
        ("10m", "10 minutes", 600),
        ("2h", "2 hours", 7200),
        ("1d12h", "1 day 12 hours", 129600),
        ("1w", "7 days", 604800),
        ("1Y", "1 year", 31536000),
    ],
)
def test_duration_forms(net: MemoryNetwork, word: str, said: str, seconds: int) -> None:
    op = oper(net)
    op.send(f"KLINE {word} *@203.0.113.7 :r")
    assert op.lines() == [notice(f"Added K-line *!*@203.0.113.7 for {said}: r")]
    (ban,) = net.chat.bans.listing("K")
    assert ban.expires == net.now + seconds
