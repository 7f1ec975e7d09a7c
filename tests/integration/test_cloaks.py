"""Host cloaking through in-memory sessions: what a normal user, the user and an operator see.

Users connect from documentation addresses (203.0.113.0/24, 2001:db8::/32),
which get cloaks; loopback shows as ``localhost``. One test pins a cloak's
exact value for a fixed secret: a change of the algorithm would change every
cloak (and break room bans by cloak), so it must be deliberate.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

import pytest

from ircish.config import Config, ConfigError, OperatorConfig, ServerConfig, config_from_dict
from ircish.core.chat import Chat
from ircish.core.cloaks import Cloaks
from ircish.storage.sqlite import SqliteStorage
from tests.helpers import MemoryClient, MemoryNetwork, drain
from tests.unit.test_operators_config import cheap_hash

SERVER = "ircish.local"
PASSWORD = "see all"
ADDRESS = "203.0.113.7"
CLOAK = re.compile(r"[a-z2-7]{13}\.ircish")
SECRET = "a fixed secret for the tests"


def config(**server: object) -> Config:
    return replace(
        Config(),
        server=replace(ServerConfig(), **server),  # type: ignore[arg-type]
        operators=(OperatorConfig("admin", cheap_hash(PASSWORD)),),
    )


@pytest.fixture
def net() -> MemoryNetwork:
    return MemoryNetwork(config())


def irc_from(net: MemoryNetwork, nick: str, host: str, caps: str = "") -> MemoryClient:
    client = net.connect("irc", host=host)
    if caps:
        client.send(f"CAP REQ :{caps}")
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{nick} real")
    if caps:
        client.send("CAP END")
    return client


def oper(net: MemoryNetwork, nick: str = "op") -> MemoryClient:
    client = net.irc(nick)
    client.send(f"OPER admin :{PASSWORD}")
    client.lines()
    return client


def test_others_see_a_cloak_everywhere_a_host_shows(net: MemoryNetwork) -> None:
    bob = irc_from(net, "bob", ADDRESS)
    welcome = bob.lines()[0]
    cloak = bob.user.host
    assert CLOAK.fullmatch(cloak)
    # The user's own view is everyone's: the welcome and the echo of their JOIN.
    assert welcome == f":{SERVER} 001 bob :Welcome to the ircish IRC Network bob!~bob@{cloak}"
    alice = net.irc("alice")
    carol = net.plain("carol")
    alice.send("JOIN #lobby")
    drain(alice, carol)
    bob.send("JOIN #lobby")
    assert bob.lines()[0] == f":bob!~bob@{cloak} JOIN #lobby"
    assert alice.lines() == [f":bob!~bob@{cloak} JOIN #lobby"]
    carol.lines()
    alice.send("WHOIS bob")
    whois = alice.lines()
    assert whois[0] == f":{SERVER} 311 alice bob ~bob {cloak} * :bob real"
    assert not any(" 338 " in x or ADDRESS in x for x in whois)
    alice.send("WHO #lobby")
    assert f":{SERVER} 352 alice #lobby ~bob {cloak} {SERVER} bob H :0 bob real" in alice.lines()
    alice.send("WHO bob %uhi")
    assert alice.lines()[0] == f":{SERVER} 354 alice ~bob 255.255.255.255 {cloak}"
    alice.send("USERHOST bob")
    assert alice.lines() == [f":{SERVER} 302 alice :bob=+~bob@{cloak}"]
    carol.send("/whois bob")
    assert carol.lines()[0] == f"*** bob is ~bob@{cloak} (bob real)"
    bob.send("PRIVMSG #lobby :hi")
    assert alice.lines() == [f":bob!~bob@{cloak} PRIVMSG #lobby :hi"]
    bob.send("QUIT :bye")
    assert alice.lines() == [f":bob!~bob@{cloak} QUIT :Quit: bye"]
    alice.send("WHOWAS bob")
    assert alice.lines()[0] == f":{SERVER} 314 alice bob ~bob {cloak} * :bob real"
    everything = [x for c in (alice, carol) for x in c.sink.data]
    assert not any(ADDRESS.encode() in x for x in everything)


def test_an_operator_and_the_user_see_the_real_address(net: MemoryNetwork) -> None:
    bob = irc_from(net, "bob", ADDRESS)
    bob.lines()
    cloak = bob.user.host
    op = oper(net)
    op.send("WHOIS bob")
    lines = op.lines()
    assert lines[0] == f":{SERVER} 311 op bob ~bob {cloak} * :bob real"
    assert f":{SERVER} 338 op bob ~bob@{ADDRESS} {ADDRESS} :Actual user@host, Actual IP" in lines
    op.send("WHO bob %nhi")
    assert op.lines()[0] == f":{SERVER} 354 op {ADDRESS} {cloak} bob"
    bob.send("WHOIS bob")
    assert f":{SERVER} 338 bob bob ~bob@{ADDRESS} {ADDRESS} :Actual user@host, Actual IP" in (
        bob.lines()
    )
    human = net.plain("human")
    human.send(f"/oper admin {PASSWORD}")
    human.lines()
    human.send("/whois bob")
    assert f"*** bob is really ~bob@{ADDRESS}" in human.lines()
    bob.send("QUIT")
    op.send("WHOWAS bob")
    assert op.lines()[:2] == [
        f":{SERVER} 314 op bob ~bob {cloak} * :bob real",
        f":{SERVER} 338 op bob ~bob@{ADDRESS} {ADDRESS} :Actual user@host, Actual IP",
    ]
    # Loopback shows as "localhost"; operators still see which address.
    plain = net.plain("local")
    assert plain.user.host == "localhost"
    op.send("WHOIS local")
    assert f":{SERVER} 338 op local ~plain@127.0.0.1 127.0.0.1 :Actual user@host, Actual IP" in (
        op.lines()
    )


def test_cloaks_of_addresses() -> None:
    cloaks = Cloaks(True, SECRET, "ircish")
    # Pinned: changing the algorithm changes every cloak.
    assert cloaks.host_for(ADDRESS) == "ytjajcihb6lro.ircish"
    assert cloaks.host_for(ADDRESS) == Cloaks(True, SECRET, "ircish").host_for(ADDRESS)
    assert cloaks.host_for("203.0.113.8") != cloaks.host_for(ADDRESS)
    assert Cloaks(True, SECRET + "!", "ircish").host_for(ADDRESS) != cloaks.host_for(ADDRESS)
    # One IPv6 /64 is one cloak; another /64 is another.
    home = cloaks.host_for("2001:db8:1:2::7")
    assert home == cloaks.host_for("2001:db8:1:2:ffff::1") != cloaks.host_for("2001:db8:1:3::7")
    assert cloaks.host_for("::ffff:203.0.113.7") == cloaks.host_for(ADDRESS)
    for loopback in ("127.0.0.1", "127.5.5.5", "::1", "::ffff:127.0.0.1"):
        assert cloaks.host_for(loopback) == "localhost"
    # The suffix is the network name, as a host name can have it.
    assert Cloaks(True, SECRET, "My Net!").host_for(ADDRESS).endswith(".mynet")
    assert Cloaks(True, SECRET, "!!!").host_for(ADDRESS).endswith(".ircish")
    off = Cloaks(False, "", "ircish")
    assert off.host_for(ADDRESS) == ADDRESS
    assert off.host_for("::1") == "0::1"  # a parameter cannot start with ':'
    assert off.host_for("2001:DB8::1") == "2001:db8::1"


def test_kept_cloaks_follow_changed_settings() -> None:
    cloaks = Cloaks(True, SECRET, "ircish")
    first = cloaks.host_for(ADDRESS)
    assert cloaks.host_for(ADDRESS) == first, "kept, and the same"
    cloaks.follow(True, SECRET + "!", "ircish")
    assert cloaks.host_for(ADDRESS) == Cloaks(True, SECRET + "!", "ircish").host_for(ADDRESS)
    cloaks.follow(True, SECRET, "Other")
    assert cloaks.host_for(ADDRESS) == first.replace(".ircish", ".other")
    cloaks.follow(False, SECRET, "Other")
    assert cloaks.host_for(ADDRESS) == ADDRESS
    unstored = Cloaks(True, "", "ircish")
    before = unstored.host_for(ADDRESS)
    unstored.adopt_shared_secret(SECRET)
    assert unstored.host_for(ADDRESS) == first != before


def test_cloaks_off_shows_addresses() -> None:
    net = MemoryNetwork(config(cloaks=False))
    bob = irc_from(net, "bob", ADDRESS)
    assert bob.lines()[0].endswith(f"bob!~bob@{ADDRESS}")
    local = net.irc("local")
    assert local.user.mask == "local!~local@127.0.0.1"
    assert local.user.real_mask is local.user.mask


def test_room_bans_match_the_cloak_and_the_real_address(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    alice.send("JOIN #den")
    bob = irc_from(net, "bob", ADDRESS)
    carol = irc_from(net, "carol", "203.0.113.8")
    drain(alice, bob, carol)
    alice.send(f"MODE #den +b *!*@{bob.user.host}")
    alice.send("MODE #den +b *!*@203.0.113.8")
    alice.lines()
    bob.send("JOIN #den")
    assert bob.lines() == [f":{SERVER} 474 bob #den :Cannot join channel (+b)"]
    carol.send("JOIN #den")
    assert carol.lines() == [f":{SERVER} 474 carol #den :Cannot join channel (+b)"]
    dave = irc_from(net, "dave", "203.0.113.9")
    dave.lines()
    dave.send("JOIN #den")
    assert dave.lines()[0] == f":dave!~dave@{dave.user.host} JOIN #den"


def test_operator_host_masks_match_the_real_address_or_the_cloak() -> None:
    cloak = Cloaks(True, SECRET, "ircish").host_for(ADDRESS)
    net = MemoryNetwork(
        replace(
            config(cloak_secret=SECRET),
            operators=(
                OperatorConfig("byip", cheap_hash("pw"), host="*@203.0.113.*"),
                OperatorConfig("bycloak", cheap_hash("pw"), host=f"*@{cloak}"),
            ),
        )
    )
    for name in ("byip", "bycloak"):
        user = irc_from(net, name, ADDRESS)
        user.lines()
        user.send(f"OPER {name} pw")
        assert user.lines()[0] == f":{SERVER} 381 {name} :You are now an IRC operator"


def test_chghost_replaces_the_cloak_and_keeps_the_address(net: MemoryNetwork) -> None:
    bob = irc_from(net, "bob", ADDRESS)
    bob.lines()
    op = oper(net)
    op.send("CHGHOST bob staff/bob")
    op.lines()
    assert bob.user.host == "staff/bob" and bob.user.ip == ADDRESS
    op.send("KLINE *@203.0.113.7 :still you")
    assert bob.sink.closed


def test_the_generated_secret_is_kept_in_the_storage(tmp_path: Path) -> None:
    path = str(tmp_path / "ircish.db")
    first = Chat(Config())
    store = SqliteStorage(path)
    first.attach_storage(store)
    before = first.cloaks.host_for(ADDRESS)
    store.close()
    second = Chat(Config())
    again = SqliteStorage(path)
    second.attach_storage(again)
    assert second.cloaks.host_for(ADDRESS) == before
    again.close()
    # A configured secret wins over the stored one.
    third = Chat(config(cloak_secret=SECRET))
    last = SqliteStorage(path)
    third.attach_storage(last)
    assert third.cloaks.host_for(ADDRESS) == "ytjajcihb6lro.ircish"
    last.close()


def test_without_storage_cloaks_change_on_restart_and_say_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="ircish.core"):
        one = Chat(Config()).cloaks.host_for(ADDRESS)
        two = Chat(Config()).cloaks.host_for(ADDRESS)
    assert one != two
    assert caplog.text.count("cloaks will change when the server restarts") == 2
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ircish.core"):
        Chat(config(cloak_secret=SECRET)).cloaks.host_for(ADDRESS)
    assert caplog.text == ""


def test_a_short_cloak_secret_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict({"server": {"cloak_secret": "tinykey1"}})
    assert str(err.value).startswith("server.cloak_secret: expected at least 16 characters")
    assert "tinykey1" not in str(err.value)
    assert config_from_dict({"server": {"cloaks": False}}).server.cloaks is False
