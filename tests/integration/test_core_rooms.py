"""Rooms through in-memory sessions: who sees joins, parts, topics, kicks, modes and invites.

Plain (netcat) and IRC users are mixed in every scenario; each test checks what
the people in the room see and that people elsewhere see nothing.
"""

# Cyrillic letters that look Latin are the point of several cases here.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import replace

import pytest

from ircish.config import Config, LimitsConfig, ServerConfig
from tests.helpers import MemoryClient, MemoryNetwork, drain

SERVER = "ircish.local"

CHUNKING = pytest.mark.parametrize("bytewise", [False, True], ids=["one-chunk", "byte-at-a-time"])


def mask(nick: str, plain: bool = True) -> str:
    return f"{nick}!~{'plain' if plain else nick}@localhost"


def room_names(client: MemoryClient) -> list[str]:
    return [r.name for r in client.user.rooms.values()]


def current(client: MemoryClient) -> str | None:
    room = client.client.current_room
    return None if room is None else room.name


@pytest.fixture
def cast(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """alice (plain) creates #dev; bob (IRC) and carol (plain) join it; dave (IRC) is elsewhere.

    alice and carol are also in #lobby (the default room); bob and dave are not.
    """
    alice = net.plain("alice")
    alice.send("/join #dev")
    bob = net.irc("bob")
    bob.send("JOIN #dev")
    carol = net.plain("carol")
    carol.send("/join #dev")
    dave = net.irc("dave")
    dave.send("JOIN #elsewhere")
    everyone = {"alice": alice, "bob": bob, "carol": carol, "dave": dave}
    drain(*everyone.values())
    return everyone


# -- joining ---------------------------------------------------------------------


@CHUNKING
def test_join_is_seen_by_the_room_only(
    net: MemoryNetwork, cast: dict[str, MemoryClient], bytewise: bool
) -> None:
    erin = net.plain("erin")
    drain(*cast.values())
    erin.send("/join #dev", byte_at_a_time=bytewise)
    assert erin.lines() == [
        "*** erin joined #dev",
        "*** Users in #dev: @alice bob carol erin",
        "*** Now talking in #dev",
    ]
    assert cast["alice"].lines() == ["*** erin joined #dev"]
    assert cast["carol"].lines() == ["*** erin joined #dev"]
    assert cast["bob"].lines() == [f":{mask('erin')} JOIN #dev"]
    assert cast["dave"].lines() == []


@CHUNKING
def test_irc_join_output(net: MemoryNetwork, cast: dict[str, MemoryClient], bytewise: bool) -> None:
    frank = net.irc("frank")
    frank.send("JOIN #dev", byte_at_a_time=bytewise)
    assert frank.lines() == [
        f":{mask('frank', False)} JOIN #dev",
        f":{SERVER} 353 frank = #dev :@alice bob carol frank",
        f":{SERVER} 366 frank #dev :End of /NAMES list",
    ]
    assert cast["alice"].lines() == ["*** frank joined #dev"]
    assert cast["bob"].lines() == [f":{mask('frank', False)} JOIN #dev"]
    assert cast["dave"].lines() == []


def test_first_member_becomes_operator(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    alice.send("/join #new")
    assert alice.lines() == [
        "*** alice joined #new",
        "*** Users in #new: @alice",
        "*** Now talking in #new",
    ]
    room = net.chat.rooms.get("#new")
    assert room is not None
    assert room.is_op(alice.user)


def test_join_several_rooms_at_once(net: MemoryNetwork) -> None:
    bob = net.irc("bob")
    bob.send("JOIN #one,#two,#three")
    assert [x for x in bob.lines() if " JOIN " in x] == [
        f":{mask('bob', False)} JOIN #one",
        f":{mask('bob', False)} JOIN #two",
        f":{mask('bob', False)} JOIN #three",
    ]
    assert room_names(bob) == ["#one", "#two", "#three"]


def test_plain_join_accepts_names_without_hash(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    alice.send("/join dev ops")
    assert room_names(alice) == ["#lobby", "#dev", "#ops"]
    assert current(alice) == "#ops"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("#a:b", "it may not contain ':'"),
        ("#a\x07b", "it may not contain control characters"),
        ("#" + "x" * 50, "it is longer than the 50-character limit"),
        ("#", "it needs at least one character after '#'"),
    ],
)
def test_invalid_room_name_says_why(net: MemoryNetwork, name: str, why: str) -> None:
    """Bug 10: a refused room name is not "No such room", and the refusal says why."""
    alice = net.plain("alice")
    bob = net.irc("bob")
    alice.send(f"/join {name}")
    # Control characters never reach a netcat terminal, not even one's own.
    assert alice.lines() == [f"! {name.replace(chr(7), '')} is not a valid room name: {why}"]
    bob.send(f"JOIN {name}")
    assert bob.lines() == [f":{SERVER} 403 bob {name} :Invalid channel name: {why}"]
    assert net.chat.rooms.get(name) is None


def test_invalid_room_name_of_an_invitation_says_why(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    net.plain("bob")
    alice.lines()
    alice.send("/invite bob #a,b")
    assert alice.lines() == ["! #a,b is not a valid room name: it may not contain ','"]


def test_one_bad_room_does_not_stop_the_others(net: MemoryNetwork) -> None:
    bob = net.irc("bob")
    bob.send("JOIN #ok1,#bad:name,#ok2")
    lines = bob.lines()
    assert f":{SERVER} 403 bob #bad:name :Invalid channel name: it may not contain ':'" in lines
    assert room_names(bob) == ["#ok1", "#ok2"]


# -- case-insensitive room names ---------------------------------------------------


@pytest.mark.parametrize(("created", "joined"), [("#Dev", "#dEV"), ("#Комната", "#КОМНАТА")])
def test_room_names_are_case_insensitive(net: MemoryNetwork, created: str, joined: str) -> None:
    alice = net.plain("alice")
    alice.send(f"/join {created}")
    bob = net.irc("bob")
    drain(alice)
    bob.send(f"JOIN {joined}")
    # Everyone sees the name as it was first created.
    assert bob.lines()[0] == f":{mask('bob', False)} JOIN {created}"
    assert alice.lines() == [f"*** bob joined {created}"]
    assert len([r for r in net.chat.rooms if r.name == created]) == 1
    bob.send(f"PRIVMSG {joined.lower()} :hi")
    assert alice.lines() == [f"[{created}] <bob> hi"]


# -- current room (plain users) ------------------------------------------------------


def test_current_room_follows_the_last_join(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    bob = net.plain("bob")
    bob.send("/join #dev")
    alice.send("/join #dev")
    drain(alice, bob)
    assert current(alice) == "#dev"
    alice.send("hello dev")
    assert bob.lines() == ["[#dev] <alice> hello dev"]


@CHUNKING
def test_join_of_a_joined_room_switches_to_it(net: MemoryNetwork, bytewise: bool) -> None:
    alice = net.plain("alice")
    bob = net.plain("bob")
    alice.send("/join #dev")
    drain(alice, bob)
    alice.send("/join #LOBBY", byte_at_a_time=bytewise)
    assert alice.lines() == ["*** Now talking in #lobby"]
    assert bob.lines() == [], "switching rooms is not a join"
    assert current(alice) == "#lobby"
    alice.send("back in the lobby", byte_at_a_time=bytewise)
    assert bob.lines() == ["[#lobby] <alice> back in the lobby"]


def test_irc_join_of_a_joined_room_is_silent(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    bob = net.irc("bob")
    bob.send("JOIN #lobby")
    drain(alice, bob)
    bob.send("JOIN #lobby")
    assert bob.lines() == []
    assert alice.lines() == []


@CHUNKING
def test_part_of_the_current_room_falls_back(net: MemoryNetwork, bytewise: bool) -> None:
    alice = net.plain("alice")
    bob = net.plain("bob")
    for room in ("#one", "#two", "#three"):
        alice.send(f"/join {room}")
        bob.send(f"/join {room}")
    alice.send("/join #two")  # switch back to #two
    drain(alice, bob)
    assert current(alice) == "#two"
    alice.send("/part", byte_at_a_time=bytewise)
    assert alice.lines() == ["*** alice left #two", "*** Now talking in #three"]
    assert bob.lines() == ["*** alice left #two"]
    # The most recently joined room still held.
    assert current(alice) == "#three"
    alice.send("where am i", byte_at_a_time=bytewise)
    assert bob.lines() == ["[#three] <alice> where am i"]


def test_part_of_another_room_keeps_the_current_one(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    alice.send("/join #one")
    alice.send("/join #two")
    alice.send("/part #one")
    assert current(alice) == "#two"


def test_part_of_the_last_room_leaves_no_current_room(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    alice.send("/part")
    assert alice.lines() == ["*** alice left #lobby"]
    assert current(alice) is None
    alice.send("anyone?")
    assert alice.lines() == ["! You are not in a room: /join #room first"]
    alice.send("/join #lobby")
    assert current(alice) == "#lobby"


# -- leaving ---------------------------------------------------------------------


@CHUNKING
def test_part_is_seen_by_the_room_only(cast: dict[str, MemoryClient], bytewise: bool) -> None:
    cast["carol"].send("/part #dev gotta go", byte_at_a_time=bytewise)
    assert cast["carol"].lines() == ["*** carol left #dev (gotta go)", "*** Now talking in #lobby"]
    assert cast["alice"].lines() == ["*** carol left #dev (gotta go)"]
    assert cast["bob"].lines() == [f":{mask('carol')} PART #dev :gotta go"]
    assert cast["dave"].lines() == []
    assert "#dev" not in room_names(cast["carol"])


def test_irc_part_without_reason(cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("PART #dev")
    assert cast["bob"].lines() == [f":{mask('bob', False)} PART #dev"]
    assert cast["alice"].lines() == ["*** bob left #dev"]


def test_part_errors(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/part #nowhere")
    assert cast["alice"].lines() == ["! No such room: #nowhere"]
    cast["dave"].send("PART #dev")
    assert cast["dave"].lines() == [f":{SERVER} 442 dave #dev :You're not on that channel"]
    cast["carol"].send("/part #elsewhere")
    assert cast["carol"].lines() == ["! You are not in #elsewhere"]


def test_irc_join_0_leaves_every_room(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("JOIN #extra")
    drain(*cast.values())
    cast["bob"].send("JOIN 0")
    assert cast["bob"].lines() == [
        f":{mask('bob', False)} PART #dev :Left all channels",
        f":{mask('bob', False)} PART #extra :Left all channels",
    ]
    assert cast["alice"].lines() == ["*** bob left #dev (Left all channels)"]
    assert cast["bob"].user.rooms == {}
    assert net.chat.rooms.get("#extra") is None


@pytest.mark.parametrize("how", ["part", "quit", "kick", "join0"])
def test_room_is_removed_when_empty(net: MemoryNetwork, how: str) -> None:
    alice = net.plain("alice")
    bob = net.irc("bob")
    bob.send("JOIN #tmp")
    assert net.chat.rooms.get("#tmp") is not None
    if how == "part":
        bob.send("PART #TMP")
    elif how == "quit":
        bob.send("QUIT :bye")
    elif how == "kick":
        bob.send("KICK #tmp bob :self")
    else:
        bob.send("JOIN 0")
    assert net.chat.rooms.get("#tmp") is None
    alice.lines()
    alice.send("/list")
    assert "#tmp" not in " ".join(alice.lines())
    # Rejoining creates it afresh, with a new operator.
    alice.send("/join #tmp")
    room = net.chat.rooms.get("#tmp")
    assert room is not None
    assert room.is_op(alice.user)


# -- rooms per user ----------------------------------------------------------------


@CHUNKING
def test_rooms_per_user_limit(bytewise: bool) -> None:
    net = MemoryNetwork(replace(Config(), limits=replace(LimitsConfig(), max_rooms_per_user=2)))
    alice = net.plain("alice")  # in #lobby: 1 of 2
    alice.send("/join #a", byte_at_a_time=bytewise)
    drain(alice)
    alice.send("/join #b", byte_at_a_time=bytewise)
    assert alice.lines() == ["! You are in too many rooms to join #b"]
    assert net.chat.rooms.get("#b") is None
    # Switching to a room already joined is not a join.
    alice.send("/join #lobby", byte_at_a_time=bytewise)
    assert alice.lines() == ["*** Now talking in #lobby"]
    # Leaving one makes room for another.
    alice.send("/part #a")
    alice.send("/join #b")
    assert room_names(alice) == ["#lobby", "#b"]

    bob = net.irc("bob")
    bob.send("JOIN #x,#y,#z")
    lines = bob.lines()
    assert f":{SERVER} 405 bob #z :You have joined too many channels" in lines
    assert room_names(bob) == ["#x", "#y"]


# -- topic -----------------------------------------------------------------------


@CHUNKING
def test_topic_routing(cast: dict[str, MemoryClient], bytewise: bool) -> None:
    cast["alice"].send("/topic #dev Release on Friday", byte_at_a_time=bytewise)
    seen = "*** alice changed the topic of #dev to: Release on Friday"
    assert cast["alice"].lines() == [seen]
    assert cast["carol"].lines() == [seen]
    assert cast["bob"].lines() == [f":{mask('alice')} TOPIC #dev :Release on Friday"]
    assert cast["dave"].lines() == []


def test_topic_query_and_new_joiners(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/topic Тема: релиз")
    drain(*cast.values())
    cast["carol"].send("/topic")
    assert cast["carol"].lines() == [
        "*** Topic of #dev: Тема: релиз",
        "*** Topic set by alice at 1970-01-12 13:46 UTC",
    ]
    cast["dave"].send("TOPIC #dev")
    assert cast["dave"].lines() == [
        f":{SERVER} 332 dave #dev :Тема: релиз",
        f":{SERVER} 333 dave #dev {mask('alice')} 1000000",
    ]
    cast["dave"].send("JOIN #dev")
    assert cast["dave"].lines()[1:3] == [
        f":{SERVER} 332 dave #dev :Тема: релиз",
        f":{SERVER} 333 dave #dev {mask('alice')} 1000000",
    ]


def test_topic_needs_op_while_t_is_set(cast: dict[str, MemoryClient]) -> None:
    cast["carol"].send("/topic #dev mine now")
    assert cast["carol"].lines() == ["! You need to be an operator of #dev for that"]
    cast["bob"].send("TOPIC #dev :mine now")
    assert cast["bob"].lines() == [f":{SERVER} 482 bob #dev :You're not channel operator"]
    assert cast["alice"].lines() == []
    cast["alice"].send("/mode -t")
    drain(*cast.values())
    cast["carol"].send("/topic #dev anyone may")
    assert cast["bob"].lines() == [f":{mask('carol')} TOPIC #dev :anyone may"]


def test_topic_cleared_and_unset(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/topic something")
    drain(*cast.values())
    cast["alice"].send("/mode +o bob")
    drain(*cast.values())
    cast["bob"].send("TOPIC #dev :")
    assert cast["carol"].lines() == ["*** bob cleared the topic of #dev"]
    assert cast["bob"].lines() == [f":{mask('bob', False)} TOPIC #dev :"]
    cast["carol"].send("/topic")
    assert cast["carol"].lines() == ["*** #dev has no topic"]


def test_topic_is_cut_to_the_limit() -> None:
    net = MemoryNetwork(replace(Config(), limits=replace(LimitsConfig(), max_topic_length=10)))
    alice = net.plain("alice")
    alice.send("/join #new")
    alice.lines()
    alice.send("/topic 0123456789abcdef")
    assert alice.lines() == ["*** alice changed the topic of #new to: 0123456789"]


def test_topic_of_a_room_one_is_not_in(cast: dict[str, MemoryClient]) -> None:
    cast["dave"].send("TOPIC #dev :hijack")
    assert cast["dave"].lines() == [f":{SERVER} 442 dave #dev :You're not on that channel"]
    cast["dave"].send("TOPIC #nope")
    assert cast["dave"].lines() == [f":{SERVER} 403 dave #nope :No such channel"]


# -- kick ------------------------------------------------------------------------


@CHUNKING
def test_kick_routing(cast: dict[str, MemoryClient], bytewise: bool) -> None:
    cast["alice"].send("/kick #dev bob stop spamming", byte_at_a_time=bytewise)
    seen = "*** alice kicked bob from #dev (stop spamming)"
    assert cast["alice"].lines() == [seen]
    assert cast["carol"].lines() == [seen]
    assert cast["bob"].lines() == [f":{mask('alice')} KICK #dev bob :stop spamming"]
    assert cast["dave"].lines() == []
    assert "#dev" not in room_names(cast["bob"])
    # Once out, bob no longer hears the room.
    cast["carol"].send("/msg #dev is he gone?")
    assert cast["bob"].lines() == []


def test_kick_moves_a_plain_users_current_room(cast: dict[str, MemoryClient]) -> None:
    assert current(cast["carol"]) == "#dev"
    cast["alice"].send("/kick carol")
    assert cast["carol"].lines() == [
        "*** alice kicked carol from #dev (alice)",
        "*** Now talking in #lobby",
    ]
    assert current(cast["carol"]) == "#lobby"


def test_kick_by_irc_operator(cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/mode +o bob")
    drain(*cast.values())
    cast["bob"].send("KICK #DEV Carol")
    assert cast["carol"].lines() == [
        "*** bob kicked carol from #dev (bob)",
        "*** Now talking in #lobby",
    ]
    assert cast["alice"].lines() == ["*** bob kicked carol from #dev (bob)"]


def test_kick_errors(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["carol"].send("/kick bob")
    assert cast["carol"].lines() == ["! You need to be an operator of #dev for that"]
    cast["alice"].send("/kick zed")
    assert cast["alice"].lines() == ["! No such nick or room: zed"]
    cast["alice"].send("/kick dave")
    assert cast["alice"].lines() == ["! dave is not in #dev"]
    cast["dave"].send("KICK #dev bob")
    assert cast["dave"].lines() == [f":{SERVER} 442 dave #dev :You're not on that channel"]
    assert cast["bob"].lines() == []
    assert "#dev" in room_names(cast["bob"])


# -- mode ------------------------------------------------------------------------


@CHUNKING
def test_mode_change_routing(cast: dict[str, MemoryClient], bytewise: bool) -> None:
    cast["alice"].send("/mode #dev +o bob", byte_at_a_time=bytewise)
    assert cast["alice"].lines() == ["*** alice sets mode +o bob on #dev"]
    assert cast["carol"].lines() == ["*** alice sets mode +o bob on #dev"]
    assert cast["bob"].lines() == [f":{mask('alice')} MODE #dev +o bob"]
    assert cast["dave"].lines() == []
    cast["carol"].send("/names")
    assert cast["carol"].lines() == ["*** Users in #dev: @alice @bob carol"]


def test_mode_query(cast: dict[str, MemoryClient]) -> None:
    cast["carol"].send("/mode")
    assert cast["carol"].lines() == ["*** Modes of #dev: +nt"]
    cast["alice"].send("/mode +k sesame")
    drain(*cast.values())
    cast["bob"].send("MODE #dev")
    assert cast["bob"].lines()[0] == f":{SERVER} 324 bob #dev +ntk sesame"
    # Non-members do not learn the key.
    cast["dave"].send("MODE #dev")
    assert cast["dave"].lines()[0] == f":{SERVER} 324 dave #dev +ntk *"


def test_mode_needs_op(cast: dict[str, MemoryClient]) -> None:
    cast["carol"].send("/mode +i")
    assert cast["carol"].lines() == ["! You need to be an operator of #dev for that"]
    cast["dave"].send("MODE #dev +i")
    assert cast["dave"].lines() == [f":{SERVER} 442 dave #dev :You're not on that channel"]
    assert cast["alice"].lines() == []


def test_invite_only_room_and_invite(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/mode +i")
    drain(*cast.values())
    cast["dave"].send("JOIN #dev")
    assert cast["dave"].lines() == [f":{SERVER} 473 dave #dev :Cannot join channel (+i)"]
    erin = net.plain("erin")
    drain(*cast.values())
    erin.send("/join #dev")
    assert erin.lines() == ["! #dev is invite-only: ask an operator for /invite"]
    # Only operators may invite into a +i room.
    cast["carol"].send("/invite erin")
    assert cast["carol"].lines() == ["! You need to be an operator of #dev for that"]
    cast["alice"].send("/invite erin")
    assert cast["alice"].lines() == ["*** Invited erin to #dev"]
    assert erin.lines() == ["*** alice invites you to #dev (type /join #dev)"]
    assert cast["bob"].lines() == cast["carol"].lines() == [], "the room is not told"
    erin.send("/join #dev")
    assert erin.lines()[0] == "*** erin joined #dev"
    cast["alice"].send("/invite dave #dev")
    assert cast["dave"].lines() == [f":{mask('alice')} INVITE dave #dev"]
    cast["dave"].send("JOIN #dev")
    assert cast["dave"].lines()[0] == f":{mask('dave', False)} JOIN #dev"


def test_irc_invite_output(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("INVITE dave #dev")
    assert cast["bob"].lines() == [f":{SERVER} 341 bob dave #dev"]
    assert cast["dave"].lines() == [f":{mask('bob', False)} INVITE dave #dev"]
    assert cast["alice"].lines() == []


def test_invite_errors(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/invite bob")
    assert cast["alice"].lines() == ["! bob is already in #dev"]
    cast["alice"].send("/invite zed")
    assert cast["alice"].lines() == ["! No such nick or room: zed"]
    cast["dave"].send("INVITE bob #dev")
    assert cast["dave"].lines() == [f":{SERVER} 442 dave #dev :You're not on that channel"]


def test_invite_to_an_away_user(cast: dict[str, MemoryClient]) -> None:
    cast["dave"].send("AWAY :lunch")
    cast["dave"].lines()
    cast["alice"].send("/invite dave")
    assert cast["alice"].lines() == ["*** Invited dave to #dev", "*** dave is away: lunch"]


def test_key_and_limit(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/mode +k sesame")
    assert cast["carol"].lines() == ["*** alice sets mode +k sesame on #dev"]
    erin = net.plain("erin")
    erin.send("/join #dev")
    assert erin.lines() == ["! #dev needs a key: /join #dev key=KEY"]
    erin.send("/join #dev key=wrong")
    assert erin.lines() == ["! #dev needs a key: /join #dev key=KEY"]
    erin.send("/join #dev key=sesame")
    assert erin.lines()[0] == "*** erin joined #dev"
    # -k takes an argument like +k (CHANMODES type B); +l then takes 4.
    cast["alice"].send("/mode -k+l * 4")
    assert cast["bob"].lines()[-1] == f":{mask('alice')} MODE #dev -k+l * 4"
    frank = net.irc("frank")
    frank.send("JOIN #dev")
    assert frank.lines() == [f":{SERVER} 471 frank #dev :Cannot join channel (+l)"]
    cast["alice"].send("/mode -l")
    frank.send("JOIN #dev")
    assert frank.lines()[0] == f":{mask('frank', False)} JOIN #dev"


# -- a user in no room -------------------------------------------------------------


def test_user_in_no_room() -> None:
    net = MemoryNetwork(replace(Config(), server=replace(ServerConfig(), default_room="")))
    alice = net.plain("alice")
    bob = net.plain("bob")
    bob.send("/join #dev")
    bob.lines()
    alice.send("hello?")
    assert alice.lines() == ["! You are not in a room: /join #room first"]
    alice.send("/me waves")
    assert alice.lines() == ["! You are not in a room: /join #room first"]
    # She can still talk privately, and nobody sees her come or go.
    alice.send("/msg bob psst")
    assert bob.lines() == ["[private] <alice> psst"]
    alice.send("/nick alicia")
    assert alice.lines() == ["[to bob] <alice> psst", "*** alice is now known as alicia"]
    alice.send("/quit")
    assert bob.lines() == []


def test_plain_user_clears_a_topic(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    bob = net.irc("bob")
    alice.send("/join #rust")
    bob.send("JOIN #rust")
    alice.send("/topic Release day")
    drain(alice, bob)
    alice.send("/topic -delete")
    assert alice.lines() == ["*** alice cleared the topic of #rust"]
    assert bob.lines() == [f":{mask('alice')} TOPIC #rust :"]
    bob.send("TOPIC #rust")
    assert bob.lines() == [f":{SERVER} 331 bob #rust :No topic is set"]
