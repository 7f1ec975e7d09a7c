"""Nicknames in memory: PRECIS refusals (432) and look-alikes refused (433), in both dialects."""

# Look-alike letters are the point of these cases.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import itertools

import pytest

from ircish.core import accounts, state
from ircish.core.confusables import skeleton
from ircish.core.users import User
from tests.helpers import MemoryClient, MemoryNetwork, drain

S = "ircish.local"
PW = "s3cretpw!"
NS = f":NickServ!NickServ@services.{S} NOTICE"
CYRILLIC = "bуs_р1"  # Cyrillic у and р
FULLWIDTH = "ｂys_p1"


@pytest.fixture
def net() -> MemoryNetwork:
    return MemoryNetwork(storage=True)


def fresh(net: MemoryNetwork, dialect: str) -> MemoryClient:
    client = net.connect(dialect)
    drain(client)
    return client


def register_account(net: MemoryNetwork, nick: str) -> None:
    """``nick`` registers an account from netcat, then quits."""
    owner = net.plain(nick)
    owner.send(f"/register {PW}")
    assert owner.lines() == [f"*** Account {nick} registered; you are now logged in."]
    owner.send("/quit")


# -- look-alikes of a present nickname ----------------------------------------------------


def test_netcat_users_are_refused_lookalikes_with_one_clear_line(net: MemoryNetwork) -> None:
    bys = net.plain("bys_p1")
    newcomer = fresh(net, "plain")
    newcomer.send(CYRILLIC)
    assert newcomer.lines() == [
        f"! {CYRILLIC} looks too much like bys_p1, who is online: pick another nickname"
    ]
    newcomer.send(FULLWIDTH)  # folds to bys_p1 itself (PRECIS width mapping)
    assert newcomer.lines() == [f"! The nickname {FULLWIDTH} is taken; pick another"]
    newcomer.send("bys_pl")
    assert newcomer.lines() == [
        "! bys_pl looks too much like bys_p1, who is online: pick another nickname"
    ]
    assert not newcomer.user.registered
    newcomer.send("carol")
    assert any(line.startswith("*** Welcome to") for line in newcomer.lines())
    assert bys.lines() == ["*** carol joined #lobby"]


def test_irc_clients_get_433_for_lookalikes(net: MemoryNetwork) -> None:
    net.plain("bys_p1")
    client = fresh(net, "irc")
    client.send(f"NICK {CYRILLIC}")
    client.send("USER x 0 * :x")
    assert client.lines() == [
        f":{S} 433 * {CYRILLIC} :{CYRILLIC} looks too much like bys_p1, who is online: "
        "pick another nickname"
    ]
    client.send(f"NICK {FULLWIDTH}")
    assert client.lines() == [f":{S} 433 * {FULLWIDTH} :Nickname is already in use"]
    client.send("NICK carol")
    assert client.lines()[0].startswith(f":{S} 001 carol ")
    client.send(f"NICK {CYRILLIC}")
    assert client.lines() == [
        f":{S} 433 carol {CYRILLIC} :{CYRILLIC} looks too much like bys_p1, who is online: "
        "pick another nickname"
    ]
    assert client.user.nick == "carol"


def test_ones_own_lookalikes_are_allowed(net: MemoryNetwork) -> None:
    bys = net.plain("bys_p1")
    bys.send("/nick BYS_Pl")
    assert bys.lines() == ["*** bys_p1 is now known as BYS_Pl"]
    bys.send(f"/nick {CYRILLIC}")
    assert bys.lines() == [f"*** BYS_Pl is now known as {CYRILLIC}"]
    # The index follows the change: the old spelling is a look-alike of the new one.
    other = fresh(net, "irc")
    other.send("NICK bys_p1")
    other.send("USER x 0 * :x")
    assert other.lines()[0].startswith(f":{S} 433 * bys_p1 :bys_p1 looks too much like {CYRILLIC}")


def test_a_nickname_and_its_lookalikes_are_free_again_after_a_change_or_a_quit(
    net: MemoryNetwork,
) -> None:
    bys = net.plain("bys_p1")
    bys.send("/nick robert")
    drain(bys)
    first = net.plain(CYRILLIC)
    assert first.user.registered and first.user.nick == CYRILLIC
    first.send("/quit")
    second = net.plain("bys_pl")
    assert second.user.registered and second.user.nick == "bys_pl"


def test_a_lookalike_registered_first_wins_over_a_pending_nick(net: MemoryNetwork) -> None:
    slow = fresh(net, "irc")
    slow.send("NICK bob")  # no USER yet: bob is not claimed
    net.plain("B0B")
    slow.send("USER bob 0 * :Bob")
    assert slow.lines() == [
        f":{S} 433 * bob :bob looks too much like B0B, who is online: pick another nickname"
    ]
    slow.send("NICK robert")
    assert slow.lines()[0].startswith(f":{S} 001 robert ")


def test_lookalikes_of_the_services_are_refused(net: MemoryNetwork) -> None:
    bob = net.plain("bob")
    bob.send("/nick NickSeгv")
    assert bob.lines() == [
        "! NickSeгv looks too much like NickServ, a service: pick another nickname"
    ]
    bob.send("/nick ChanServ")
    assert bob.lines() == ["! The nickname ChanServ is taken; pick another"]


def test_messages_reach_a_user_by_any_spelling_that_folds_to_the_nick(net: MemoryNetwork) -> None:
    bys = net.irc("bys_p1")
    alice = net.irc("alice")
    alice.send(f"PRIVMSG {FULLWIDTH} :hello")
    assert bys.lines() == [":alice!~alice@localhost PRIVMSG bys_p1 :hello"]
    alice.send(f"PRIVMSG {CYRILLIC} :hello")  # a look-alike is another name
    assert alice.lines()[0].startswith(f":{S} 401 alice {CYRILLIC} ")


def test_room_names_fold_the_same_way(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    bob = net.irc("bob")
    alice.send("JOIN #lobby")
    bob.send("JOIN #ＬＯＢＢＹ")
    assert alice.lines()[-1] == ":bob!~bob@localhost JOIN #lobby"


# -- PRECIS refusals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nick", "why"),
    [
        ("x²", "it has a compatibility character such as ² or ﬁ (type the plain letter or digit)"),
        ("aשלום", "it has right-to-left letters mixed with other text"),
    ],
)
def test_nicks_precis_refuses_get_432_with_the_reason(
    net: MemoryNetwork, nick: str, why: str
) -> None:
    irc = fresh(net, "irc")
    irc.send(f"NICK {nick}")
    assert irc.lines() == [f":{S} 432 * {nick} :{nick} is not a valid nickname: {why}"]
    human = fresh(net, "plain")
    human.send(nick)
    assert human.lines() == [f"! {nick} is not a valid nickname: {why}"]


def test_irc_rules_keep_their_usual_432(net: MemoryNetwork) -> None:
    irc = fresh(net, "irc")
    irc.send("NICK 1ébc")
    assert irc.lines() == [f":{S} 432 * 1ébc :Erroneous nickname"]


# -- registered accounts -----------------------------------------------------------------


def test_lookalikes_of_a_registered_account_are_refused(net: MemoryNetwork) -> None:
    register_account(net, "bob")
    human = fresh(net, "plain")
    human.send("B0b")
    assert human.lines() == [
        "! B0b looks too much like the registered nickname bob: pick another nickname"
    ]
    irc = fresh(net, "irc")
    irc.send("NICK b0b")
    irc.send("USER x 0 * :x")
    assert irc.lines() == [
        f":{S} 433 * b0b :b0b looks too much like the registered nickname bob: "
        "pick another nickname"
    ]
    # The name itself is nick protection's business: taken, with a grace to log in.
    human.send("bob")
    assert any("The nickname bob is registered" in line for line in human.lines())


def test_the_owner_may_use_a_lookalike_of_their_account(net: MemoryNetwork) -> None:
    register_account(net, "bob")
    owner = net.plain("robert")
    owner.send(f"/login bob {PW}")
    assert owner.lines() == ["*** You are now logged in as bob."]
    owner.send("/nick B0b")
    assert owner.lines() == ["*** robert is now known as B0b"]
    net.advance(60)
    assert owner.user.nick == "B0b"


def test_a_lookalike_left_without_its_account_is_protected_then_renamed(
    net: MemoryNetwork,
) -> None:
    register_account(net, "bob")
    owner = net.plain("robert")
    owner.send(f"/login bob {PW}")
    owner.send("/nick B0b")
    drain(owner)
    owner.send("/logout")
    assert owner.lines()[1] == (
        "*** The nickname B0b looks like the registered nickname bob: log in within 30 seconds "
        "(/login bob PASSWORD) or you will be renamed."
    )
    owner.send(f"/register {PW}")
    assert owner.lines() == [
        "! B0b looks too much like the registered nickname bob: register another nickname"
    ]
    net.advance(31)
    assert owner.user.nick.startswith("Guest")


def test_irc_register_of_a_lookalike_fails(net: MemoryNetwork) -> None:
    register_account(net, "bob")
    irc = net.irc("robert")
    irc.send(f"LOGIN bob {PW}")
    irc.send("NICK B0b")
    irc.send("LOGOUT")
    lines = irc.lines()
    assert (
        f"{NS} B0b :This nickname looks like bob. Log in within 30 seconds "
        f"(/msg NickServ IDENTIFY bob <password>) or you will be renamed."
    ) in lines
    irc.send(f"REGISTER * * {PW}")
    assert irc.lines() == [
        f":{S} FAIL REGISTER ACCOUNT_EXISTS B0b :B0b looks too much like the registered "
        "nickname bob: register another nickname"
    ]
    irc.send(f"PRIVMSG NickServ :REGISTER {PW}")
    assert irc.lines() == [
        f"{NS} B0b :B0b looks too much like the registered nickname bob: register another nickname"
    ]


def test_register_refuses_a_lookalike_of_someone_online(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    # A user the index did not vet (as one arriving from another server process would).
    ghost = User("10.0.0.1", net.now)
    ghost.username = "~a"
    ghost.set_nick("аlice")  # Cyrillic а
    state.register(net.chat, ghost)
    alice.send(f"/register {PW}")
    assert alice.lines() == [
        "! alice looks too much like аlice, who is online: register another nickname"
    ]


def test_unregistering_frees_the_lookalikes(net: MemoryNetwork) -> None:
    owner = net.plain("bob")
    owner.send(f"/register {PW}")
    owner.send(f"/unregister {PW}")
    drain(owner)
    other = net.plain("B0b_")
    other.send("/nick b0b")
    assert other.lines()[0].startswith("! b0b looks too much like bob, who is online")
    owner.send("/quit")
    drain(other)
    other.send("/nick b0b")
    assert other.lines() == ["*** B0b_ is now known as b0b"]


def test_the_account_index_is_read_from_storage(net: MemoryNetwork) -> None:
    register_account(net, "bob")
    assert net.storage is not None
    again = MemoryNetwork()
    again.chat.attach_storage(net.storage)
    human = fresh(again, "plain")
    human.send("B0b")
    assert human.lines() == [
        "! B0b looks too much like the registered nickname bob: pick another nickname"
    ]


def test_guest_nicks_avoid_lookalikes(net: MemoryNetwork) -> None:
    net.plain("GuestlOOO")  # looks like Guest1000
    net.chat.accounts.guests = itertools.count(1000)
    assert accounts.guest_nick(net.chat) == "Guest1001"


def assert_index_in_sync(net: MemoryNetwork) -> None:
    """The skeleton index holds exactly the skeletons of the nicks in the nick index."""
    expected: dict[str, set[User]] = {}
    for user in net.chat.users:
        assert user.skeleton == skeleton(user.nick)
        expected.setdefault(user.skeleton, set()).add(user)
    index = net.chat.users._by_skeleton
    held = {key: {h} if isinstance(h, User) else set(h) for key, h in index.items()}
    assert held == expected


def test_the_skeleton_index_follows_every_change_of_the_nick_index(net: MemoryNetwork) -> None:
    register_account(net, "alice")
    register_account(net, "bob")
    stale = net.plain("alice")  # holds the registered nick without logging in
    me = net.plain("alice_")
    me.send(f"/login alice {PW}")
    assert_index_in_sync(net)
    me.send("/ghost alice")  # a GHOST disconnects the other
    assert not stale.user.registered
    me.send("/nick alice")
    assert me.user.nick == "alice"
    assert_index_in_sync(net)
    taker = net.plain("bob")  # renamed to a guest after the grace
    net.advance(31)
    assert taker.user.nick.startswith("Guest")
    assert_index_in_sync(net)
    leaver = net.irc("dave")
    leaver.send("QUIT :bye")
    dropped = net.plain("erin")
    dropped.session.connection_lost("Connection reset")
    assert_index_in_sync(net)
    assert {u.nick for u in net.chat.users} == {"alice", taker.user.nick}
