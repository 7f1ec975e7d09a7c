"""What a netcat user is told (issue 13): refusals, the current room, their own lines.

And the default room, which belongs to the server: nobody is its operator by
joining first, server operators manage it, and it keeps its topic when empty.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ircish.config import Config, OperatorConfig, ServerConfig
from tests.helpers import MemoryClient, MemoryNetwork, drain
from tests.unit.test_operators_config import cheap_hash

SERVER = "ircish.local"
OPERS = replace(Config(), operators=(OperatorConfig("admin", cheap_hash("pw")),))


@pytest.fixture
def opnet() -> MemoryNetwork:
    return MemoryNetwork(OPERS)


def oper(client: MemoryClient) -> None:
    client.send("/oper admin pw")
    assert "*** You are now an IRC operator" in client.lines()


# -- bug 7: one clean sentence per refusal ------------------------------------------


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("/msg", "! Usage: /msg NICK|#room TEXT"),
        (
            "/jion",
            "! Unknown command /jion (did you mean /join?). Type /help for the list of commands.",
        ),
        ("/mode +x", "! Unknown mode letter x (see /help modes)"),
        ("/kick", "! Usage: /kick [#room] NICK [reason]"),
        ("/join #a:b", "! #a:b is not a valid room name: it may not contain ':'"),
        (
            "/join #" + "x" * 50,
            f"! #{'x' * 50} is not a valid room name: it is longer than the 50-character limit",
        ),
    ],
)
def test_reported_error_lines_read_as_one_sentence(
    net: MemoryNetwork, line: str, shown: str
) -> None:
    alice = net.plain("alice")
    alice.send("/join #rust")  # her own room: she is its operator
    alice.lines()
    alice.send(line)
    assert alice.lines() == [shown]


# -- where lines go: "Now talking in" ------------------------------------------------


def test_joining_says_where_lines_go_now(net: MemoryNetwork) -> None:
    client = net.connect("plain")
    client.send("alice")
    assert client.lines()[-3:] == [
        "*** alice joined #lobby",
        "*** Users in #lobby: alice",
        "*** Now talking in #lobby",
    ]
    client.send("/join #rust")
    assert client.lines() == [
        "*** alice joined #rust",
        "*** Users in #rust: @alice",
        "*** Now talking in #rust",
    ]
    client.send("/join #lobby")  # already in it: a switch
    assert client.lines() == ["*** Now talking in #lobby"]
    client.send("/part")
    assert client.lines() == ["*** alice left #lobby", "*** Now talking in #rust"]


def test_irc_clients_are_not_told_where_lines_go(net: MemoryNetwork) -> None:
    bob = net.irc("bob")
    bob.send("JOIN #rust")
    assert not [x for x in bob.lines() if "talking" in x.lower()]


# -- one's own lines, echoed ----------------------------------------------------------


def test_netcat_users_see_their_own_lines_once(net: MemoryNetwork) -> None:
    alice, bob = net.plain("alice"), net.plain("bob")
    irc = net.irc("irc")
    irc.send("JOIN #lobby")
    alice.send("/join #rust")
    drain(alice, bob, irc)
    alice.send("hi rust")
    assert alice.lines() == ["[#rust] <alice> hi rust"]
    alice.send("/msg #lobby hi lobby")
    assert alice.lines() == ["[#lobby] <alice> hi lobby"]
    assert bob.lines() == ["[#lobby] <alice> hi lobby"]
    assert irc.lines() == [":alice!~plain@localhost PRIVMSG #lobby :hi lobby"]
    alice.send("/me waves")
    assert alice.lines() == ["[#rust] * alice waves"]
    alice.send("/notice #lobby fyi")
    assert alice.lines() == ["[#lobby] -alice- fyi"]
    # A private message names whom it went to; the recipient sees it as private.
    alice.send("/msg bob psst")
    assert alice.lines() == ["[to bob] <alice> psst"]
    assert bob.lines() == ["[#lobby] -alice- fyi", "[private] <alice> psst"]
    alice.send("/msg irc psst")
    assert alice.lines() == ["[to irc] <alice> psst"]
    # A message to oneself arrives once, not once more as an echo.
    alice.send("/msg alice note")
    assert alice.lines() == ["[private] <alice> note"]
    # A refused message is not echoed.
    alice.send("/msg nobody hello")
    assert alice.lines() == ["! No such nick or room: nobody"]


def test_echo_of_a_status_message_to_operators(net: MemoryNetwork) -> None:
    alice, bob = net.plain("alice"), net.plain("bob")
    alice.send("/join #rust")
    bob.send("/join #rust")
    drain(alice, bob)
    bob.send("/msg @#rust ops only")  # bob is not an operator: he still sees what he sent
    assert bob.lines() == ["[@#rust] <bob> ops only"]
    assert alice.lines() == ["[@#rust] <bob> ops only"]
    alice.send("/msg @#rust noted")  # alice is one: once, not twice
    assert alice.lines() == ["[@#rust] <alice> noted"]


def test_set_echo_off_and_on(net: MemoryNetwork) -> None:
    alice, bob = net.plain("alice"), net.plain("bob")
    alice.lines()
    alice.send("/set")
    assert alice.lines() == ["*** echo is on (show your own messages, as [#room] <you> text)"]
    alice.send("/set echo off")
    assert alice.lines() == ["*** echo is off (show your own messages, as [#room] <you> text)"]
    drain(bob)
    alice.send("quiet")
    alice.send("/msg bob psst")
    assert alice.lines() == []
    assert bob.lines() == ["[#lobby] <alice> quiet", "[private] <alice> psst"]
    alice.send("/set echo on")
    alice.lines()
    alice.send("loud")
    assert alice.lines() == ["[#lobby] <alice> loud"]
    alice.send("/set echo sometimes")
    assert alice.lines() == ["! Usage: /set [echo [on|off]]"]
    alice.send("/set colour on")
    assert alice.lines() == ["! There is no setting 'colour' (there is: echo)"]
    alice.send("/help set")
    assert alice.lines() == ["*** /set [echo [on|off]]: show or change your settings"]


def test_settings_are_per_connection(net: MemoryNetwork) -> None:
    alice, bob = net.plain("alice"), net.plain("bob")
    alice.send("/set echo off")
    drain(alice, bob)
    bob.send("hi")
    assert bob.lines() == ["[#lobby] <bob> hi"]


def test_irc_clients_get_no_echo_without_echo_message(net: MemoryNetwork) -> None:
    irc = net.irc("irc")
    irc.send("JOIN #lobby")
    irc.lines()
    irc.send("PRIVMSG #lobby :hi")
    assert irc.lines() == []


def test_a_slow_irc_client_greeted_as_a_human_gets_no_netcat_echo(net: MemoryNetwork) -> None:
    client = net.connect("auto")
    net.now += net.config.limits.detect_timeout + 0.1
    client.session.check_timeouts(net.now)
    client.send("CAP LS 302")
    client.send("NICK slow")
    client.send("USER slow 0 * :Slow")
    client.send("CAP END")
    client.send("JOIN #rust")
    client.lines()
    client.send("PRIVMSG #rust :hi")
    assert client.lines() == []


# -- the default room belongs to the server --------------------------------------------


def test_nobody_is_operator_of_the_default_room_by_joining_first(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    room = net.chat.rooms.get("#lobby")
    assert room is not None and not room.is_op(alice.user)
    alice.send("/topic mine now")
    assert alice.lines() == ["! You need to be an operator of #lobby for that"]
    alice.send("/mode +m")
    assert alice.lines() == ["! You need to be an operator of #lobby for that"]
    irc = net.irc("bob")
    irc.send("JOIN #lobby")
    assert f":{SERVER} 353 bob = #lobby :alice bob" in irc.lines()


def test_other_rooms_keep_irc_behaviour(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    alice.send("/join #rust")
    alice.send("/topic Rust")
    alice.send("/part #rust")
    alice.lines()
    assert net.chat.rooms.get("#rust") is None, "an empty room is gone"
    alice.send("/join #rust")
    assert alice.lines() == [
        "*** alice joined #rust",
        "*** Users in #rust: @alice",
        "*** Now talking in #rust",
    ]


def test_server_operators_manage_the_default_room(opnet: MemoryNetwork) -> None:
    bob = opnet.plain("bob")  # first in #lobby, and still no operator of it
    alice = opnet.plain("alice")
    oper(alice)
    drain(alice, bob)
    alice.send("/topic Welcome! Be kind.")
    assert bob.lines() == ["*** alice changed the topic of #lobby to: Welcome! Be kind."]
    alice.send("/mode +m")
    assert bob.lines() == ["*** alice sets mode +m on #lobby"]
    alice.send("/mode +v bob")
    assert bob.lines() == ["*** alice sets mode +v bob on #lobby"]
    alice.send("/kick bob enough")
    assert bob.lines() == ["*** alice kicked bob from #lobby (enough)"]
    # Server operators act as operators in the server's room only.
    bob.send("/join #rust")
    alice.send("/join #rust")
    drain(alice, bob)
    alice.send("/topic #rust mine")
    assert alice.lines() == ["! You need to be an operator of #rust for that"]


def test_the_default_room_keeps_its_topic_when_empty(opnet: MemoryNetwork) -> None:
    alice = opnet.plain("alice")
    oper(alice)
    alice.send("/topic Welcome to the lobby")
    alice.send("/mode +m")
    alice.send("/quit")
    room = opnet.chat.rooms.get("#lobby")
    assert room is not None and not room.members
    bob = opnet.connect("plain")
    bob.send("bob")
    lines = bob.lines()
    assert "*** Topic of #lobby: Welcome to the lobby" in lines
    assert "*** Users in #lobby: bob" in lines
    bob.send("/mode")
    assert bob.lines()[0] == "*** Modes of #lobby: +mnt"
    bob.send("/list")
    assert "***   #lobby (1 user): Welcome to the lobby" in bob.lines()


def test_a_new_default_room_takes_over_on_reload(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    alice.send("/part")
    assert net.chat.rooms.get("#lobby") is not None, "kept while it is the server's"
    net.chat.config = replace(net.config, server=replace(ServerConfig(), default_room="#hall"))
    assert net.chat.rooms.get("#lobby") is None, "an ordinary empty room again: gone"
    carol = net.plain("carol")
    hall = net.chat.rooms.get("#hall")
    assert hall is not None and hall.server_owned and not hall.is_op(carol.user)


# -- a mode that needs a parameter, given none ----------------------------------------


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("/mode +k", "! +k on #mine needs a key, e.g. +k secret"),
        ("/mode +l", "! +l on #mine needs a number of users, e.g. +l 50"),
        ("/mode +o", "! +o on #mine needs a nickname, e.g. +o alice"),
    ],
)
def test_a_mode_without_its_parameter_says_what_it_needs(line: str, shown: str) -> None:
    net = MemoryNetwork()
    zed = net.plain("zed")
    zed.send("/join #mine")
    zed.lines()
    zed.send(line)
    assert zed.lines() == [shown]
    zed.send("/mode")
    assert any("+nt" in x and "k" not in x.split("+")[-1] for x in zed.lines())


def test_an_irc_client_gets_696_for_a_key_mode_without_a_key() -> None:
    net = MemoryNetwork()
    yy = net.irc("yy")
    yy.send("JOIN #m2")
    yy.lines()
    yy.send("MODE #m2 +k")
    assert yy.lines() == [f":{SERVER} 696 yy #m2 k * :needs a key, e.g. +k secret"]


# -- a /who that lists nobody ---------------------------------------------------------


def test_a_who_that_finds_nobody_says_so_in_a_sentence(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    bob = net.plain("bob")
    bob.send("/join #hidden")
    bob.send("/mode #hidden +s")
    drain(alice)
    for line, shown in [
        (
            "/who #nowhere",
            "*** Nobody to show in #nowhere: there is no such room, or nobody in it you can see",
        ),
        # A secret room reads exactly like one that does not exist.
        (
            "/who #hidden",
            "*** Nobody to show in #hidden: there is no such room, or nobody in it you can see",
        ),
        ("/who zed", "*** Nobody online matches zed"),
        ("/who z*", "*** Nobody online matches z*"),
    ]:
        alice.send(line)
        assert alice.lines() == [shown]
    alice.send("/who bob")
    assert alice.lines()[-1] == "*** End of /who"
    # IRC clients keep the numeric, with a text that says the same.
    irc = net.irc("ivy")
    irc.send("WHO #nowhere")
    assert irc.lines() == [f":{SERVER} 315 ivy #nowhere :End of /WHO list (nobody to show)"]
