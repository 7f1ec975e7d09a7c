"""IRCv3 user state through in-memory sessions: setname, chghost, invite-notify, MONITOR,
extended-monitor, bot mode, no-implicit-names and WHOX.

Every scenario mixes IRC clients (with and without the capability) and netcat
users, and checks the exact lines each of them gets, including that people
who should hear nothing hear nothing.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ircish.config import Config, LimitsConfig
from ircish.core import state
from ircish.core.caps import CAPABILITIES
from ircish.core.command import Command
from ircish.core.replies import MAX_REALNAME
from ircish.dialects.plain import SLASH_COMMANDS, parse_plain
from ircish.errors import CommandError
from ircish.protocol import numerics as n
from ircish.protocol.message import Message
from tests.helpers import MemoryClient, MemoryNetwork, drain

MONITOR_LIMIT = LimitsConfig().max_monitor

SERVER = "ircish.local"
LOCAL = "localhost"  # loopback shows as localhost (cloaks)

CHUNKING = pytest.mark.parametrize("bytewise", [False, True], ids=["one-chunk", "byte-at-a-time"])
#: The name this server gives the no-implicit-names capability.
NO_NAMES = next(c for c in CAPABILITIES if c.endswith("no-implicit-names"))


def irc_mask(nick: str) -> str:
    return f"{nick}!~{nick}@{LOCAL}"


def plain_mask(nick: str) -> str:
    return f"{nick}!~plain@{LOCAL}"


def make_oper(net: MemoryNetwork, client: MemoryClient) -> None:
    """Give ``client`` user mode +o the way OPER does (the state function), then drain."""
    state.change_user_modes(net.chat, client.user, [("+", "o")])
    client.lines()


def join(client: MemoryClient, *rooms: str) -> None:
    for room in rooms:
        client.send(f"/join {room}" if client.client.dialect.name == "plain" else f"JOIN {room}")


# -- setname ----------------------------------------------------------------------------


@pytest.fixture
def room(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """#x: alice, bob (setname), carol (no caps), pat (plain); dave (setname) is elsewhere."""
    people = {
        "alice": net.irc("alice", "setname"),
        "bob": net.irc("bob", "setname"),
        "carol": net.irc("carol"),
        "pat": net.plain("pat"),
        "dave": net.irc("dave", "setname"),
    }
    for nick in ("alice", "bob", "carol", "pat"):
        join(people[nick], "#x")
    join(people["dave"], "#elsewhere")
    drain(*people.values())
    return people


@CHUNKING
def test_setname_confirms_and_tells_room_mates(
    room: dict[str, MemoryClient], bytewise: bool
) -> None:
    room["alice"].send("SETNAME :Alice Liddell <alice@example.org>", byte_at_a_time=bytewise)
    line = f":{irc_mask('alice')} SETNAME :Alice Liddell <alice@example.org>"
    assert room["alice"].lines() == [line]
    assert room["bob"].lines() == [line]
    assert room["carol"].lines() == [], "the SETNAME message needs the capability"
    assert room["pat"].lines() == [
        "*** alice changed their realname to: Alice Liddell <alice@example.org>"
    ]
    assert room["dave"].lines() == [], "no shared room"
    assert room["alice"].user.realname == "Alice Liddell <alice@example.org>"
    room["carol"].send("WHOIS alice")
    assert f":{SERVER} 311 carol alice ~alice {LOCAL} * :Alice Liddell <alice@example.org>" in (
        room["carol"].lines()
    )


def test_setname_single_word_and_longest(room: dict[str, MemoryClient]) -> None:
    room["alice"].send("SETNAME Batman")
    assert room["alice"].lines() == [f":{irc_mask('alice')} SETNAME :Batman"]
    longest = "é" * MAX_REALNAME  # NAMELEN counts characters
    room["alice"].send(f"SETNAME :{longest}")
    assert room["bob"].lines()[-1] == f":{irc_mask('alice')} SETNAME :{longest}"
    assert room["alice"].user.realname == longest


@pytest.mark.parametrize(
    "line",
    ["SETNAME :", "SETNAME :   ", "SETNAME :" + "x" * (MAX_REALNAME + 1)],
    ids=["empty", "blank", "too-long"],
)
def test_setname_invalid_realname_is_refused(room: dict[str, MemoryClient], line: str) -> None:
    room["alice"].send(line)
    assert room["alice"].lines() == [
        f":{SERVER} FAIL SETNAME INVALID_REALNAME "
        f":Realname is not valid (1 to {MAX_REALNAME} characters)"
    ]
    assert room["alice"].user.realname == "alice real"
    assert room["bob"].lines() == []
    assert room["pat"].lines() == []


def test_setname_without_params_and_without_the_cap(room: dict[str, MemoryClient]) -> None:
    room["alice"].send("SETNAME")
    assert room["alice"].lines() == [f":{SERVER} 461 alice SETNAME :Not enough parameters"]
    # Without the capability the change is silent (the spec), but it happens.
    room["carol"].send("SETNAME :Carol C")
    assert room["carol"].lines() == []
    assert room["carol"].user.realname == "Carol C"
    assert room["alice"].lines() == [f":{irc_mask('carol')} SETNAME :Carol C"]
    assert room["pat"].lines() == ["*** carol changed their realname to: Carol C"]
    # A failure is still a FAIL: standard replies need no capability.
    room["carol"].send("SETNAME :")
    assert room["carol"].lines()[0].startswith(f":{SERVER} FAIL SETNAME INVALID_REALNAME :")


def test_setname_with_labeled_response(net: MemoryNetwork) -> None:
    alice = net.irc("alice", "setname labeled-response batch")
    alice.send("@label=s1 SETNAME :New Name")
    assert alice.lines() == [f"@label=s1 :{irc_mask('alice')} SETNAME :New Name"]


def test_plain_setname(room: dict[str, MemoryClient]) -> None:
    room["pat"].send("/setname Pat the \x1b[31mCat")
    # The netcat user's own confirmation and other netcat users' line are cleaned.
    assert room["pat"].lines() == ["*** pat changed their realname to: Pat the Cat"]
    assert room["alice"].lines() == [f":{plain_mask('pat')} SETNAME :Pat the \x1b[31mCat"]
    room["pat"].send("/realname   Pat  ")
    assert room["pat"].lines() == ["*** pat changed their realname to: Pat"]
    room["pat"].send("/setname")
    assert room["pat"].lines() == ["! Usage: /setname REALNAME"]
    room["pat"].send("/setname " + "y" * (MAX_REALNAME + 1))
    assert room["pat"].lines() == [f"! Realname is not valid (1 to {MAX_REALNAME} characters)"]


# -- chghost --------------------------------------------------------------------------------


@pytest.fixture
def hosts(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """#x: bob (chghost, the target), ann (chghost), carl (no caps), pat (plain). oz: operator."""
    people = {
        "bob": net.irc("bob", "chghost"),
        "ann": net.irc("ann", "chghost"),
        "carl": net.irc("carl"),
        "pat": net.plain("pat"),
        "oz": net.irc("oz"),
    }
    for nick in ("bob", "ann", "carl", "pat"):
        join(people[nick], "#x")
    make_oper(net, people["oz"])
    drain(*people.values())
    return people


@CHUNKING
def test_chghost_by_an_operator(hosts: dict[str, MemoryClient], bytewise: bool) -> None:
    hosts["oz"].send("CHGHOST bob ~b staff/bob", byte_at_a_time=bytewise)
    assert hosts["oz"].lines() == [
        f":{SERVER} NOTICE oz :Changed the host of bob to bob!~b@staff/bob"
    ]
    line = f":{irc_mask('bob')} CHGHOST ~b staff/bob"
    assert hosts["bob"].lines() == [line], "the user's own client is told too"
    assert hosts["ann"].lines() == [line]
    assert hosts["carl"].lines() == [], "no fallback QUIT/JOIN for clients without chghost"
    assert hosts["pat"].lines() == ["*** bob is now bob!~b@staff/bob"]
    assert hosts["bob"].user.mask == "bob!~b@staff/bob"
    # Everything from bob now carries the new mask.
    hosts["bob"].send("PRIVMSG #x :hi")
    assert hosts["carl"].lines() == [":bob!~b@staff/bob PRIVMSG #x :hi"]
    hosts["carl"].send("WHO bob")
    assert hosts["carl"].lines()[0] == (
        f":{SERVER} 352 carl #x ~b staff/bob {SERVER} bob H@ :0 bob real"
    )


def test_chghost_host_only_keeps_the_username(hosts: dict[str, MemoryClient]) -> None:
    hosts["oz"].send("CHGHOST bob 2001:db8::1")
    assert hosts["ann"].lines() == [f":{irc_mask('bob')} CHGHOST ~bob 2001:db8::1"]
    hosts["oz"].send("CHGHOST bob ~bob 2001:db8::1")
    assert hosts["oz"].lines()[-1] == f":{SERVER} NOTICE oz :bob is already bob!~bob@2001:db8::1"
    assert hosts["ann"].lines() == []


def test_chghost_needs_an_operator(hosts: dict[str, MemoryClient]) -> None:
    hosts["ann"].send("CHGHOST bob ~b evil.host")
    assert hosts["ann"].lines() == [
        f":{SERVER} 481 ann :Permission Denied- You're not an IRC operator"
    ]
    # Checked before the target, so nobody learns who is online this way.
    hosts["ann"].send("CHGHOST nobody ~b evil.host")
    assert hosts["ann"].lines()[0].startswith(f":{SERVER} 481 ann ")
    assert hosts["bob"].user.host == LOCAL
    assert hosts["pat"].lines() == []


@pytest.mark.parametrize(
    ("args", "reply"),
    [
        ("bob b@d host.ok", "INVALID_USERNAME b@d :Invalid username"),
        ("bob ~~b host.ok", "INVALID_USERNAME ~~b :Invalid username"),
        ("bob " + "u" * 17 + " host.ok", f"INVALID_USERNAME {'u' * 17} :Invalid username"),
        ("bob ~b bad!host", "INVALID_HOST bad!host :Invalid host"),
        ("bob ~b bad*host", "INVALID_HOST bad*host :Invalid host"),
        ("bob ~b -lead", "INVALID_HOST -lead :Invalid host"),
        ("bob ~b .lead", "INVALID_HOST .lead :Invalid host"),
        ("bob ~b a,b", "INVALID_HOST a,b :Invalid host"),
        ("bob ~b :two words", "INVALID_HOST * :Invalid host"),
        ("bob ~b ::colon", "INVALID_HOST * :Invalid host"),
        ("bob ~b " + "h" * 65, "INVALID_HOST * :Invalid host"),
        ("bob ~b " + "h" * 64, f"INVALID_HOST {'h' * 64} :Invalid host"),
        ("bob ~b hóst", "INVALID_HOST hóst :Invalid host"),
    ],
)
def test_chghost_invalid_values_change_nothing(
    hosts: dict[str, MemoryClient], args: str, reply: str
) -> None:
    hosts["oz"].send(f"CHGHOST {args}")
    lines = hosts["oz"].lines()
    assert len(lines) == 1
    assert lines[0].startswith(f":{SERVER} FAIL CHGHOST {reply}")
    assert hosts["bob"].user.mask == irc_mask("bob")
    assert hosts["ann"].lines() == []
    assert hosts["pat"].lines() == []


def test_chghost_errors(hosts: dict[str, MemoryClient]) -> None:
    hosts["oz"].send("CHGHOST nobody ~n new.host")
    assert hosts["oz"].lines() == [f":{SERVER} 401 oz nobody :No such nick/channel"]
    hosts["oz"].send("CHGHOST bob")
    assert hosts["oz"].lines() == [f":{SERVER} 461 oz CHGHOST :Not enough parameters"]


def test_plain_chghost(net: MemoryNetwork, hosts: dict[str, MemoryClient]) -> None:
    hosts["pat"].send("/chghost bob ~b new.host")
    (line,) = hosts["pat"].lines()
    assert line.startswith("! ") and "operator" in line
    make_oper(net, hosts["pat"])
    hosts["pat"].send("/chghost bob ~b new.host")
    assert hosts["pat"].lines() == [
        "*** bob is now bob!~b@new.host",
        "*** Changed the host of bob to bob!~b@new.host",
    ]
    hosts["pat"].send("/chghost bob")
    assert hosts["pat"].lines() == [
        "! Usage: /chghost NICK [USERNAME] HOST",
    ]


# -- invite-notify ------------------------------------------------------------------------------


def test_invite_notify_reaches_other_room_operators(net: MemoryNetwork) -> None:
    alice = net.irc("alice", "invite-notify")  # creates #x: operator, the inviter
    ops_cap = net.irc("frank", "invite-notify")
    ops_nocap = net.irc("bob")
    ops_plain = net.plain("pat")
    member_cap = net.irc("dave", "invite-notify")  # not an operator
    zed = net.irc("zed", "invite-notify")
    join(alice, "#x")
    for client in (ops_cap, ops_nocap, ops_plain, member_cap):
        join(client, "#x")
    alice.send("MODE #x +oo frank bob")
    alice.send("MODE #x +o pat")
    everyone = (alice, ops_cap, ops_nocap, ops_plain, member_cap, zed)
    drain(*everyone)

    alice.send("INVITE zed #x")
    assert alice.lines() == [f":{SERVER} 341 alice zed #x"], "not the inviter's own notify"
    assert zed.lines() == [f":{irc_mask('alice')} INVITE zed #x"]
    assert ops_cap.lines() == [f":{irc_mask('alice')} INVITE zed #x"]
    assert ops_nocap.lines() == []
    assert ops_plain.lines() == [], "netcat users are not told of others' invitations"
    assert member_cap.lines() == [], "only operators hear of invitations"
    # An invitation to a room that does not exist tells nobody else.
    alice.send("INVITE zed #nowhere")
    assert zed.lines() == [f":{irc_mask('alice')} INVITE zed #nowhere"]
    assert ops_cap.lines() == []


# -- MONITOR ------------------------------------------------------------------------------------


@CHUNKING
def test_monitor_add_reports_online_and_offline(net: MemoryNetwork, bytewise: bool) -> None:
    watcher = net.irc("watcher")
    net.irc("Alice")
    net.plain("pat")
    watcher.send("MONITOR + alice,Nobody,pat,1bad,,alice", byte_at_a_time=bytewise)
    assert watcher.lines() == [
        f":{SERVER} 730 watcher :Alice!~Alice@{LOCAL},{plain_mask('pat')},Alice!~Alice@{LOCAL}",
        f":{SERVER} 731 watcher :Nobody",
    ]
    assert watcher.client.monitoring == {"alice", "nobody", "pat"}, "each target once"
    watcher.send("MONITOR L")
    assert watcher.lines() == [
        f":{SERVER} 732 watcher :Alice,nobody,pat",
        f":{SERVER} 733 watcher :End of MONITOR list",
    ]
    watcher.send("monitor s")
    assert watcher.lines() == [
        f":{SERVER} 730 watcher :Alice!~Alice@{LOCAL},{plain_mask('pat')}",
        f":{SERVER} 731 watcher :nobody",
    ]
    watcher.send("MONITOR - ALICE,ghost")
    assert watcher.lines() == []
    assert watcher.client.monitoring == {"nobody", "pat"}
    watcher.send("MONITOR C")
    assert watcher.lines() == []
    assert watcher.client.monitoring == set()
    assert net.chat.monitors == {}
    watcher.send("MONITOR L")
    assert watcher.lines() == [f":{SERVER} 733 watcher :End of MONITOR list"]
    watcher.send("MONITOR S")
    assert watcher.lines() == []


def test_monitor_notifications(net: MemoryNetwork) -> None:
    watcher = net.irc("watcher")
    other = net.irc("other")
    watcher.send("MONITOR + carol,newnick")
    drain(watcher)
    carol = net.irc("carol")
    assert watcher.lines() == [f":{SERVER} 730 watcher :{irc_mask('carol')}"]
    carol.send("NICK Newnick")
    assert watcher.lines() == [
        f":{SERVER} 731 watcher :carol",
        f":{SERVER} 730 watcher :Newnick!~carol@{LOCAL}",
    ]
    carol.send("NICK NEWNICK")  # the same nickname, another case: no news
    assert watcher.lines() == []
    carol.send("QUIT :bye")
    assert watcher.lines() == [f":{SERVER} 731 watcher :NEWNICK"]
    assert other.lines() == [], "only watchers are told"


def test_monitor_errors(net: MemoryNetwork) -> None:
    watcher = net.irc("watcher")
    watcher.send("MONITOR")
    assert watcher.lines() == [f":{SERVER} 461 watcher MONITOR :Not enough parameters"]
    watcher.send("MONITOR +")
    assert watcher.lines() == [f":{SERVER} 461 watcher MONITOR :Not enough parameters"]
    watcher.send("MONITOR X alice")
    assert watcher.lines() == [f":{SERVER} 400 watcher MONITOR X :Unknown MONITOR subcommand"]
    assert watcher.client.monitoring == set()


def test_monitor_list_is_limited(net: MemoryNetwork) -> None:
    watcher = net.irc("watcher")
    first = [f"n{i}" for i in range(MONITOR_LIMIT - 1)]
    watcher.send("MONITOR + " + ",".join(first[:50]))
    watcher.send("MONITOR + " + ",".join(first[50:]))
    drain(watcher)
    net.irc("late")
    watcher.send("MONITOR + n0,late,extra1,extra2")
    assert watcher.lines() == [
        f":{SERVER} 730 watcher :{irc_mask('late')}",
        f":{SERVER} 731 watcher :n0",
        f":{SERVER} 734 watcher {MONITOR_LIMIT} extra1,extra2 :Monitor list is full",
    ]
    assert len(watcher.client.monitoring) == MONITOR_LIMIT
    # Removing one makes room for one.
    watcher.send("MONITOR - n0")
    watcher.send("MONITOR + extra1")
    assert watcher.lines() == [f":{SERVER} 731 watcher :extra1"]


def test_monitor_replies_stay_inside_512_bytes(net: MemoryNetwork) -> None:
    watcher = net.irc("watcher")
    nicks = [f"n{i:02d}" + "x" * 26 for i in range(60)]
    watcher.send("MONITOR + " + ",".join(nicks[:15]))
    for start in range(15, 60, 15):
        watcher.send("MONITOR + " + ",".join(nicks[start : start + 15]))
    drain(watcher)
    watcher.send("MONITOR S")
    lines = watcher.lines()
    assert len(lines) > 1
    assert all(len(line.encode()) + 2 <= 512 for line in lines)
    listed = [n for line in lines for n in Message.parse(line).params[1].split(",")]
    assert listed == sorted(nicks)


def test_closing_a_watcher_forgets_its_list(net: MemoryNetwork) -> None:
    watcher = net.irc("watcher")
    keeper = net.irc("keeper")
    watcher.send("MONITOR + a,b")
    keeper.send("MONITOR + b")
    watcher.send("QUIT")
    assert net.chat.monitors == {"b": {keeper.client}}
    net.irc("b")
    assert keeper.lines()[-1] == f":{SERVER} 730 keeper :{irc_mask('b')}"


@CHUNKING
def test_plain_monitor(net: MemoryNetwork, bytewise: bool) -> None:
    pat = net.plain("pat")
    net.irc("bob")
    pat.send("/monitor +bob carol", byte_at_a_time=bytewise)
    assert pat.lines() == ["*** bob is online", "*** carol is offline"]
    pat.send("/notify + dan,erin")
    assert pat.lines() == ["*** dan, erin are offline"]
    pat.send("/monitor")
    assert pat.lines() == [
        "*** You are monitoring: bob, carol, dan, erin",
        "*** End of your monitor list",
    ]
    carol = net.irc("carol")
    assert pat.lines() == ["*** carol is online"]
    carol.send("QUIT")
    assert pat.lines() == ["*** carol is offline"]
    pat.send("/monitor -dan -erin")
    pat.send("/monitor status")
    assert pat.lines() == ["*** bob is online", "*** carol is offline"]
    pat.send("/monitor clear")
    pat.send("/monitor list")
    assert pat.lines() == ["*** End of your monitor list"]


@pytest.mark.parametrize("args", ["+a -b", "+", "-", "+ +"])
def test_plain_monitor_usage(net: MemoryNetwork, args: str) -> None:
    pat = net.plain("pat")
    pat.send(f"/monitor {args}")
    assert pat.lines() == [
        "! Usage: /monitor [+NICK|-NICK|status|clear]",
    ]
    assert pat.client.monitoring == set()


def test_plain_monitor_list_full(net: MemoryNetwork) -> None:
    pat = net.plain("pat")
    for start in range(0, MONITOR_LIMIT, 25):
        pat.send("/monitor " + " ".join(f"n{i}" for i in range(start, start + 25)))
    drain(pat)
    pat.send("/monitor +x +y")
    assert pat.lines() == [
        f"! Your monitor list is full ({MONITOR_LIMIT} nicknames): not added: x, y"
    ]


# -- extended-monitor ------------------------------------------------------------------------


@pytest.fixture
def watched(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """bob is watched by: full (extended-monitor + the notify caps, no shared room), plain
    (notify caps but no extended-monitor), bare (extended-monitor only), mate (everything, and
    sharing #x with bob), pat (netcat). oz is an operator."""
    people = {
        "bob": net.irc("bob"),
        "full": net.irc("full", "extended-monitor away-notify setname chghost"),
        "plain": net.irc("plain", "away-notify setname chghost"),
        "bare": net.irc("bare", "extended-monitor"),
        "mate": net.irc("mate", "extended-monitor away-notify setname chghost"),
        "pat": net.plain("pat"),
        "oz": net.irc("oz"),
    }
    join(people["bob"], "#x")
    join(people["mate"], "#x")
    for nick in ("full", "plain", "bare", "mate"):
        people[nick].send("MONITOR + bob")
    people["pat"].send("/monitor bob")
    make_oper(net, people["oz"])
    drain(*people.values())
    return people


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("AWAY :lunch", f":{irc_mask('bob')} AWAY :lunch"),
        ("SETNAME :Bob B", f":{irc_mask('bob')} SETNAME :Bob B"),
    ],
)
def test_extended_monitor_watchers_get_state_changes(
    watched: dict[str, MemoryClient], command: str, line: str
) -> None:
    watched["bob"].send(command)
    assert watched["full"].lines() == [line]
    assert watched["mate"].lines() == [line], "one copy for a watcher in a shared room"
    assert watched["plain"].lines() == [], "no extended-monitor"
    assert watched["bare"].lines() == [], "extended-monitor without the notify capability"
    assert watched["pat"].lines() == [], "netcat watchers share no room: nothing"


def test_extended_monitor_chghost(watched: dict[str, MemoryClient]) -> None:
    watched["oz"].send("CHGHOST bob ~b new.host")
    line = f":{irc_mask('bob')} CHGHOST ~b new.host"
    assert watched["full"].lines() == [line]
    assert watched["mate"].lines() == [line]
    assert watched["plain"].lines() == []
    assert watched["bare"].lines() == []
    # MONITOR S shows the new mask.
    watched["full"].send("MONITOR S")
    assert watched["full"].lines() == [f":{SERVER} 730 full :bob!~b@new.host"]


def test_extended_monitor_follows_the_nickname(watched: dict[str, MemoryClient]) -> None:
    watched["bob"].send("NICK robert")
    drain(*watched.values())
    watched["bob"].send("AWAY :gone")
    assert watched["full"].lines() == [], "full watches bob, not robert"
    watched["full"].send("MONITOR + robert")
    drain(watched["full"])
    watched["bob"].send("AWAY")
    assert watched["full"].lines() == [f":robert!~bob@{LOCAL} AWAY"]


# -- bot mode ---------------------------------------------------------------------------------


@pytest.fixture
def bots(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """#x: robo (a bot, opped), tagged (message-tags), untagged (no caps), pat (plain)."""
    people = {
        "robo": net.irc("robo"),
        "tagged": net.irc("tagged", "message-tags"),
        "untagged": net.irc("untagged"),
        "pat": net.plain("pat"),
    }
    for client in people.values():
        join(client, "#x")
    people["robo"].send("MODE robo +B")
    drain(*people.values())
    return people


def test_bot_mode_whois_and_who(bots: dict[str, MemoryClient]) -> None:
    assert "B" in bots["robo"].user.modes
    bots["untagged"].send("WHOIS robo")
    assert f":{SERVER} 335 untagged robo :is a Bot on ircish" in bots["untagged"].lines()
    bots["untagged"].send("WHO #x")
    assert bots["untagged"].lines()[0] == (
        f":{SERVER} 352 untagged #x ~robo {LOCAL} {SERVER} robo H@B :0 robo real"
    )
    bots["robo"].send("AWAY :zzz")
    bots["untagged"].send("WHO robo")
    assert bots["untagged"].lines()[-2] == (
        f":{SERVER} 352 untagged #x ~robo {LOCAL} {SERVER} robo G@B :0 robo real"
    )
    bots["pat"].send("/whois robo")
    assert "*** robo is a bot" in bots["pat"].lines()
    bots["pat"].send("/who #x")
    assert bots["pat"].lines()[0] == f"*** #x: @robo (~robo@{LOCAL}) [away] [bot]"


@pytest.mark.parametrize(
    ("command", "verb"),
    [
        ("PRIVMSG #x :beep", "PRIVMSG"),
        ("NOTICE #x :beep", "NOTICE"),
        ("@+typing=active TAGMSG #x", "TAGMSG"),
    ],
)
def test_bot_tag_on_messages(bots: dict[str, MemoryClient], command: str, verb: str) -> None:
    bots["robo"].send(command)
    (tagged,) = bots["tagged"].messages()
    assert tagged.verb == verb
    assert tagged.tags["bot"] == ""
    assert tagged.source == irc_mask("robo")
    untagged = bots["untagged"].lines()
    if verb == "TAGMSG":
        assert untagged == []
    else:
        assert untagged == [f":{irc_mask('robo')} {verb} #x :beep"], "no tags without message-tags"
    # A human's messages carry no bot tag.
    bots["untagged"].send("PRIVMSG #x :human")
    (human,) = bots["tagged"].messages()
    assert "bot" not in human.tags


def test_bot_private_message_and_unset(bots: dict[str, MemoryClient]) -> None:
    bots["robo"].send("PRIVMSG tagged :hi")
    (msg,) = bots["tagged"].messages()
    assert "bot" in msg.tags
    bots["robo"].send("MODE robo -B")
    assert bots["robo"].lines() == [f":{irc_mask('robo')} MODE robo -B"]
    bots["robo"].send("PRIVMSG tagged :hi")
    (msg,) = bots["tagged"].messages()
    assert "bot" not in msg.tags


def test_plain_bot_mode(bots: dict[str, MemoryClient]) -> None:
    bots["pat"].send("/mode +B")
    assert bots["pat"].lines() == ["*** pat sets mode +B on pat"]
    assert "B" in bots["pat"].user.modes
    bots["pat"].send("beep")
    assert bots["tagged"].messages()[0].tags["bot"] == ""
    bots["pat"].send("/mode -B")
    assert "B" not in bots["pat"].user.modes
    # "+i" is also a room mode, so it stays the room's (pat is no operator of #x).
    bots["pat"].send("/mode +i")
    assert bots["pat"].lines()[-1] == "! You need to be an operator of #x for that"


# -- no-implicit-names --------------------------------------------------------------------------


def test_no_implicit_names(net: MemoryNetwork) -> None:
    quiet = net.irc("quiet", NO_NAMES)
    loud = net.irc("loud")
    loud.send("JOIN #x")
    loud.send("TOPIC #x :the topic")
    drain(loud)
    quiet.send("JOIN #x")
    lines = quiet.lines()
    assert lines[0] == f":{irc_mask('quiet')} JOIN #x"
    assert [line.split()[1] for line in lines[1:]] == ["332", "333"], "the topic, no NAMES"
    quiet.send("NAMES #x")
    assert quiet.lines() == [
        f":{SERVER} 353 quiet = #x :@loud quiet",
        f":{SERVER} 366 quiet #x :End of /NAMES list",
    ]
    loud.lines()
    loud.send("JOIN #y")
    assert [line.split()[1] for line in loud.lines()] == ["JOIN", "353", "366"]


def test_no_implicit_names_on_the_default_room() -> None:
    config = Config()
    net = MemoryNetwork(replace(config, server=replace(config.server, auto_join_irc=True)))
    client = net.connect("irc")
    client.send(f"CAP REQ :{NO_NAMES}")
    client.send("NICK quiet")
    client.send("USER quiet 0 * :Q")
    client.send("CAP END")
    verbs = [line.split()[1] for line in client.lines()]
    assert "JOIN" in verbs
    assert "353" not in verbs and "366" not in verbs


# -- WHOX ---------------------------------------------------------------------------------------


@pytest.fixture
def whox(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """#x: me (asking), cool (realname "Cool User", away, bot), pat (plain, op of #x)."""
    people = {
        "pat": net.plain("pat"),
        "cool": net.irc("cool"),
        "me": net.irc("me"),
    }
    for nick in ("pat", "cool", "me"):
        join(people[nick], "#x")
    people["cool"].send("SETNAME :Cool User")
    people["cool"].send("AWAY :afk")
    people["cool"].send("MODE cool +B")
    drain(*people.values())
    return people


@pytest.mark.parametrize(
    ("query", "reply"),
    [
        # The spec's examples, with this server's values.
        ("WHO cool %cuhnar", f"#x ~cool {LOCAL} cool 0 :Cool User"),
        ("WHO cool %afnt,42", "42 cool GB 0"),
        # Every field, in the spec's order whatever order they were asked in.
        (
            "WHO cool %rolafdnshiuct,7",
            f"7 #x ~cool 255.255.255.255 {LOCAL} {SERVER} cool GB 0 0 0 n/a :Cool User",
        ),
        ("WHO cool %n", "cool"),
        ("WHO cool %nnn", "cool"),
        ("WHO cool %t", "0"),
        ("WHO cool %t,1234", "0"),
        ("WHO cool %t,4x", "0"),
        ("WHO cool %t,", "0"),
        ("WHO cool %t,007", "007"),
        ("WHO cool n%na,5", "cool 0"),  # flags before % are ignored
        ("WHO cool %NZq", ""),  # unknown fields are ignored
        ("WHO cool %", ""),
        ("WHO pat %nr", "pat pat"),  # a one-word realname needs no ":"
    ],
)
def test_whox_fields(whox: dict[str, MemoryClient], query: str, reply: str) -> None:
    whox["me"].send(query)
    mask = query.split()[1]
    assert whox["me"].lines() == [
        f":{SERVER} 354 me {reply}".rstrip(),
        f":{SERVER} 315 me {mask} :End of /WHO list",
    ]


def test_whox_room_and_idle(net: MemoryNetwork, whox: dict[str, MemoryClient]) -> None:
    net.now += 42
    whox["me"].send("PING :x")
    whox["me"].lines()
    whox["me"].send("WHO #x %tnfl,99")
    assert whox["me"].lines() == [
        f":{SERVER} 354 me 99 pat H@ 42",
        f":{SERVER} 354 me 99 cool GB 42",
        f":{SERVER} 354 me 99 me H 0",
        f":{SERVER} 315 me #x :End of /WHO list",
    ]


def test_plain_who_is_unchanged_by_whox(whox: dict[str, MemoryClient]) -> None:
    whox["me"].send("WHO #x")
    assert whox["me"].lines() == [
        f":{SERVER} 352 me #x ~plain {LOCAL} {SERVER} pat H@ :0 pat",
        f":{SERVER} 352 me #x ~cool {LOCAL} {SERVER} cool GB :0 Cool User",
        f":{SERVER} 352 me #x ~me {LOCAL} {SERVER} me H :0 me real",
        f":{SERVER} 315 me #x :End of /WHO list",
    ]


@pytest.mark.parametrize("whox_param", ["", " %n"], ids=["who", "whox"])
def test_who_hides_invisible_users_and_secret_rooms(net: MemoryNetwork, whox_param: str) -> None:
    asker = net.irc("asker")
    shy = net.irc("shy")
    mate = net.irc("mate")
    shy.send("MODE shy +i")
    shy.send("JOIN #open")
    mate.send("JOIN #open")
    mate.send("JOIN #secret")
    mate.send("MODE #secret +s")
    drain(shy, mate)

    def names(query: str) -> list[str]:
        asker.send(query + whox_param)
        lines = asker.lines()
        assert lines[-1].split()[1] == "315"
        return [Message.parse(x).params[-1 if whox_param else 5] for x in lines[:-1]]

    assert names("WHO #open") == ["mate"], "+i members are hidden from outsiders"
    assert names("WHO #secret") == [], "a secret room is hidden from outsiders"
    assert names("WHO *") == ["asker", "mate"]
    assert names("WHO sh*") == []
    assert names("WHO shy") == ["shy"], "an exact nickname is always answered"
    # Sharing a room makes an invisible user visible.
    asker.send("JOIN #open")
    drain(asker)
    assert names("WHO #open") == ["shy", "mate", "asker"]
    assert names("WHO sh*") == ["shy"]
    mate.send("MODE #secret -s")
    assert names("WHO #secret") == ["mate"]


def test_who_masks(net: MemoryNetwork) -> None:
    asker = net.irc("asker")
    net.irc("[bot]one")
    net.irc("[bot]two")
    net.plain("pat")

    def nicks(query: str) -> list[str]:
        asker.send(query)
        return [Message.parse(x).params[5] for x in asker.lines()[:-1]]

    assert nicks("WHO [bot]*") == ["[bot]one", "[bot]two"], "[ ] are nickname characters"
    assert nicks("WHO [BOT]?ne") == ["[bot]one"]
    assert nicks("WHO *!~plain@*") == ["pat"]
    assert nicks("WHO *@localhost") == ["asker", "[bot]one", "[bot]two", "pat"]
    assert nicks("WHO 0") == ["asker", "[bot]one", "[bot]two", "pat"]


def test_who_shows_a_shared_room_first(net: MemoryNetwork) -> None:
    asker = net.irc("asker")
    other = net.irc("other")
    other.send("JOIN #a")
    other.send("JOIN #b")
    asker.send("JOIN #b")
    drain(asker)
    asker.send("WHO other %cn")
    assert asker.lines()[0] == f":{SERVER} 354 asker #b other"


# -- the netcat slash commands, table-driven ---------------------------------------------------

#: (line, the command it becomes, or the slash command whose usage line it gets).
SLASH_CASES: list[tuple[str, tuple[str, ...] | str]] = [
    ("/setname Pat Smith", ("SETNAME", "Pat Smith")),
    ("/setname   Pat  Smith  ", ("SETNAME", "Pat  Smith")),
    ("/realname Pat", ("SETNAME", "Pat")),
    ("/setname", "setname"),
    ("/setname    ", "setname"),
    ("/chghost bob new.host", ("CHGHOST", "bob", "new.host")),
    ("/chghost bob ~b new.host", ("CHGHOST", "bob", "~b", "new.host")),
    ("/chghost bob", "chghost"),
    ("/chghost a b c d", "chghost"),
    ("/monitor", ("MONITOR", "L")),
    ("/monitor list", ("MONITOR", "L")),
    ("/monitor LIST", ("MONITOR", "L")),
    ("/monitor status", ("MONITOR", "S")),
    ("/monitor clear", ("MONITOR", "C")),
    ("/monitor bob", ("MONITOR", "+", "bob")),
    ("/monitor +bob", ("MONITOR", "+", "bob")),
    ("/monitor +bob +carol", ("MONITOR", "+", "bob,carol")),
    ("/monitor bob,carol dan", ("MONITOR", "+", "bob,carol,dan")),
    ("/monitor + bob,carol", ("MONITOR", "+", "bob,carol")),
    ("/monitor -bob -carol", ("MONITOR", "-", "bob,carol")),
    ("/monitor - bob", ("MONITOR", "-", "bob")),
    ("/monitor -bob carol", ("MONITOR", "-", "bob,carol")),
    ("/notify +Вася", ("MONITOR", "+", "Вася")),
    ("/notify", ("MONITOR", "L")),
    ("/monitor +bob -carol", "monitor"),
    ("/monitor +", "monitor"),
    ("/monitor - +bob", "monitor"),
    ("/mode +B", ("MODE", "pat", "+B")),
    ("/mode -B", ("MODE", "pat", "-B")),
    ("/mode +Bw", ("MODE", "pat", "+Bw")),
    ("/mode +i", ("MODE", "#lobby", "+i")),
    ("/mode +Bi", ("MODE", "#lobby", "+Bi")),
    ("/mode +B bob", ("MODE", "#lobby", "+B", "bob")),
]


@pytest.mark.parametrize(("line", "expected"), SLASH_CASES, ids=[c[0] for c in SLASH_CASES])
def test_slash_commands(net: MemoryNetwork, line: str, expected: tuple[str, ...] | str) -> None:
    pat = net.plain("pat")
    if isinstance(expected, str):
        with pytest.raises(CommandError) as info:
            parse_plain(line, pat.client)
        assert (info.value.code, info.value.text) == (
            n.ERR_NEEDMOREPARAMS,
            "Usage: " + SLASH_COMMANDS[expected].usage,
        )
    else:
        assert parse_plain(line, pat.client) == Command(expected[0], expected[1:])
        assert parse_plain(line.upper().replace("PAT", "pat"), pat.client).verb == expected[0]


def test_everything_a_bot_does_carries_the_bot_tag(net: MemoryNetwork) -> None:
    """IRCv3 bot mode: the bot tag SHOULD be on all messages sent by the bot, not only PRIVMSG."""
    watcher = net.irc("watcher", caps="message-tags")
    plain_irc = net.irc("plainirc")
    watcher.send("JOIN #dev")
    plain_irc.send("JOIN #dev")
    robo = net.irc("robo")
    robo.send("MODE robo +B")
    for c in (watcher, plain_irc, robo):
        c.lines()
    robo.send("JOIN #dev")
    watcher.send("MODE #dev +o robo")
    robo.send("TOPIC #dev :beep")
    robo.send("NICK robo2")
    robo.send("PART #dev :done")
    tagged = [(m.verb, "bot" in m.tags) for m in watcher.messages()]
    assert tagged == [
        ("JOIN", True),
        ("MODE", False),  # the operator who gave +o is no bot
        ("TOPIC", True),
        ("NICK", True),
        ("PART", True),
    ]
    assert all(not m.tags for m in plain_irc.messages()), "no tags without message-tags"
