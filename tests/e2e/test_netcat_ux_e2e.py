"""A netcat newcomer over real TCP (issue 13): IRC's verb, where lines go, the server's room.

The newcomer types ``NICK carl`` in capitals and stays a human; is told where
their lines go and sees them; and finds #lobby run by the server's operators,
with its topic kept while it is empty. IRC clients beside them are unaffected.
"""

from __future__ import annotations

from collections.abc import Callable

from ircish.config import Config, OperatorConfig
from tests.helpers import LineClient, RunningServer
from tests.unit.test_operators_config import cheap_hash

WITH_OPERATOR = Config(operators=(OperatorConfig("admin", cheap_hash("pw")),))


def test_a_human_typing_irc_nick_stays_a_human(
    server: RunningServer, clients: list[LineClient]
) -> None:
    carl = server.client()
    clients.append(carl)
    carl.expect(r"Type a nickname")  # greeted: this one waited before typing
    carl.send("NICK carl")
    carl.expect(r"^\*\*\* Welcome to ircish, carl! Type /help for the commands\.$")
    carl.expect(r"^\*\*\* Now talking in #lobby$")
    carl.send("/who")
    assert carl.expect(r"^\*\*\* ") == "*** #lobby: carl (~plain@localhost)"

    # A human who types at once, before the greeting.
    dora = server.client()
    clients.append(dora)
    dora.send("NICK dora")
    dora.expect(r"^\*\*\* Welcome to ircish, dora! ")
    dora.send("hello")
    assert carl.expect(r"^\[#lobby\] <dora>") == "[#lobby] <dora> hello"
    assert not [x for x in carl.received + dora.received if " 451 " in x or x.startswith(":")]

    # An IRC client sending NICK and USER, as bots do, is still one.
    bot = server.client()
    clients.append(bot)
    bot.send("NICK bot")
    bot.send("USER bot 0 * :A bot")
    bot.expect(r"^:\S+ 001 bot ")


def test_netcat_user_sees_where_lines_go_and_their_own_lines(
    server: RunningServer, clients: list[LineClient]
) -> None:
    alice, bob = server.plain("alice"), server.plain("bob")
    clients += [alice, bob]
    alice.send("/join #rust")
    assert alice.expect(r"^\*\*\* Now talking") == "*** Now talking in #rust"
    alice.send("hi rust")
    assert alice.expect(r"^\[") == "[#rust] <alice> hi rust"
    alice.send("/msg bob psst")
    assert alice.expect(r"^\[") == "[to bob] <alice> psst"
    assert bob.expect(r"^\[") == "[private] <alice> psst"
    alice.send("/set echo off")
    alice.expect(r"^\*\*\* echo is off ")
    alice.send("/msg bob quiet now")
    bob.expect(r"quiet now")
    alice.send("/set echo on")
    alice.expect(r"^\*\*\* echo is on ")
    assert not [x for x in alice.received if "quiet now" in x]


def test_the_server_owns_the_default_room(
    make_server: Callable[..., RunningServer], clients: list[LineClient]
) -> None:
    server = make_server(WITH_OPERATOR)
    first = server.plain("first")
    clients.append(first)
    first.send("/topic mine")
    first.expect(r"^! You need to be an operator of #lobby for that$")

    admin = server.plain("admin")
    clients.append(admin)
    admin.send("/oper admin pw")
    admin.expect(r"^\*\*\* You are now an IRC operator$")
    admin.send("/topic Welcome to the lobby")
    first.expect(r"^\*\*\* admin changed the topic of #lobby to: Welcome to the lobby$")
    admin.send("/kick first rude")
    first.expect(r"^\*\*\* admin kicked first from #lobby \(rude\)$")
    admin.send("/quit")
    admin.expect_closed()

    # Empty now, and still there with its topic.
    later = server.plain("later")
    clients.append(later)
    later.send("/topic")
    assert later.expect(r"^\*\*\* Topic") == "*** Topic of #lobby: Welcome to the lobby"

    # An IRC client sees no operator in it.
    irc = server.client()
    clients.append(irc)
    irc.send("NICK ircy")
    irc.send("USER ircy 0 * :I")
    irc.send("JOIN #lobby")
    assert irc.expect(r" 353 ").endswith(" #lobby :later ircy")
