"""Server operators through in-memory sessions: OPER, MODE -o, KILL, WALLOPS, WHOIS/WHO/LUSERS.

IRC clients get exact lines; netcat users get readable ones. The password
check goes through ``Chat.offload``: inline by default here, and through a
hand-driven offloader where a test needs the check to be still running.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from ircish.config import Config, LimitsConfig, OperatorConfig
from ircish.core.command import Command
from ircish.core.handlers import oper
from ircish.dialects.plain import parse_plain
from ircish.errors import CommandError
from tests.helpers import MemoryClient, MemoryNetwork, drain
from tests.unit.test_operators_config import cheap_hash

SERVER = "ircish.local"
PASSWORD = "s3cret pass"
CHUNKING = pytest.mark.parametrize("bytewise", [False, True], ids=["one-chunk", "byte-at-a-time"])

OPERATORS = (
    OperatorConfig("admin", cheap_hash(PASSWORD)),
    OperatorConfig("local", cheap_hash("local pw"), host="~alice@127.0.0.1"),
    OperatorConfig("bobonly", cheap_hash("bob pw"), host="bob!*@*"),
    OperatorConfig("faraway", cheap_hash("far pw"), host="*@10.*"),
)


def mask(nick: str, plain: bool = False) -> str:
    return f"{nick}!~{'plain' if plain else nick}@localhost"


@pytest.fixture
def net() -> MemoryNetwork:
    return MemoryNetwork(replace(Config(), operators=OPERATORS))


class Deferred:
    """An offloader that holds jobs until the test runs them (a worker thread, by hand)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []

    def __call__(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.jobs.append((work, done))

    def run(self) -> None:
        jobs, self.jobs = self.jobs, []
        for work, done in jobs:
            done(work())


def become_oper(client: MemoryClient, plain: bool = False) -> None:
    client.send(f"/oper admin {PASSWORD}" if plain else f"OPER admin :{PASSWORD}")
    client.lines()
    assert "o" in client.user.modes


# -- OPER ------------------------------------------------------------------------------


@CHUNKING
def test_oper_irc(net: MemoryNetwork, bytewise: bool, caplog: pytest.LogCaptureFixture) -> None:
    alice = net.irc("alice")
    with caplog.at_level(logging.WARNING, logger="ircish.core"):
        alice.send(f"OPER admin :{PASSWORD}", byte_at_a_time=bytewise)
    assert alice.lines() == [
        f":{SERVER} 381 alice :You are now an IRC operator",
        f":{mask('alice')} MODE alice +o",
    ]
    assert "o" in alice.user.modes
    assert net.chat.operators == 1
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    # Logs name the real address (others see "localhost").
    assert "alice!~alice@127.0.0.1 is now an IRC operator (OPER as 'admin')" in caplog.text
    assert PASSWORD not in caplog.text


@CHUNKING
def test_oper_plain(net: MemoryNetwork, bytewise: bool) -> None:
    bob = net.plain("bob")
    bob.send(f"/oper admin {PASSWORD}", byte_at_a_time=bytewise)
    assert bob.lines() == ["*** You are now an IRC operator", "*** bob sets mode +o on bob"]
    assert "o" in bob.user.modes


def test_oper_name_is_case_insensitive(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    alice.send(f"OPER ADMIN :{PASSWORD}")
    assert alice.lines()[0] == f":{SERVER} 381 alice :You are now an IRC operator"


@pytest.mark.parametrize(
    "line",
    [
        "OPER admin :wrong",
        f"OPER nobody :{PASSWORD}",
        "OPER nobody :wrong",
        f"OPER admin :{PASSWORD} ",
        "OPER admin :",
        f"OPER local :{PASSWORD}",  # another operator's password
    ],
    ids=["wrong-password", "unknown-name", "both-wrong", "trailing-space", "empty", "crossed"],
)
def test_wrong_name_or_password_get_the_same_reply(
    net: MemoryNetwork, line: str, caplog: pytest.LogCaptureFixture
) -> None:
    alice = net.irc("alice")
    with caplog.at_level(logging.WARNING, logger="ircish.core"):
        alice.send(line)
    assert alice.lines() == [f":{SERVER} 464 alice :Password incorrect"]
    assert "o" not in alice.user.modes
    assert net.chat.operators == 0
    name = line.split()[1]
    assert f"failed OPER as {name!r} by alice!~alice@127.0.0.1: wrong name or password" in (
        caplog.text
    )
    assert "wrong" not in caplog.text.replace("wrong name", "")
    assert PASSWORD not in caplog.text


def test_wrong_password_plain(net: MemoryNetwork) -> None:
    bob = net.plain("bob")
    bob.send("/oper admin nope")
    assert bob.lines() == ["! Wrong operator name or password"]
    bob.send("/oper nobody nope")
    assert bob.lines() == ["! Wrong operator name or password"]


def test_unknown_name_costs_a_password_check_too(
    net: MemoryNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[tuple[str, str]] = []
    real = oper.verify_password

    def spy(password_hash: str, password: str) -> bool:
        checked.append((password_hash, password))
        return real(password_hash, password)

    monkeypatch.setattr(oper, "verify_password", spy)
    alice = net.irc("alice")
    alice.send(f"OPER nobody :{PASSWORD}")
    assert alice.lines() == [f":{SERVER} 464 alice :Password incorrect"]
    assert len(checked) == 1
    decoy, password = checked[0]
    assert password == PASSWORD
    assert decoy not in {op.password_hash for op in OPERATORS}
    assert decoy.split("$")[:4] == OPERATORS[0].password_hash.split("$")[:4], "same parameters"


def test_without_operators_oper_always_fails(caplog: pytest.LogCaptureFixture) -> None:
    net = MemoryNetwork()
    alice = net.irc("alice")
    alice.send("OPER admin :anything")
    assert alice.lines() == [f":{SERVER} 464 alice :Password incorrect"]


@pytest.mark.parametrize(
    ("who", "line", "expected"),
    [
        # host "~alice@127.0.0.1": an IRC client whose username is alice
        ("alice", "OPER local :local pw", "381"),
        ("bob", "OPER local :local pw", "491"),
        # host "bob!*@*": only while called bob
        ("bob", "OPER bobonly :bob pw", "381"),
        ("alice", "OPER bobonly :bob pw", "491"),
        # host "*@10.*": nobody here connects from 10.x
        ("alice", "OPER faraway :far pw", "491"),
        # a wrong password never reveals that the host is the problem
        ("bob", "OPER local :wrong", "464"),
        ("alice", "OPER faraway :wrong", "464"),
    ],
)
def test_host_masks(
    net: MemoryNetwork, who: str, line: str, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = net.irc(who)
    with caplog.at_level(logging.WARNING, logger="ircish.core"):
        client.send(line)
    first = client.lines()[0]
    assert first.split()[1] == expected
    if expected == "491":
        assert first == f":{SERVER} 491 {who} :No O-lines for your host"
        assert "o" not in client.user.modes
        real = mask(who).replace("@localhost", "@127.0.0.1")  # logs name the address
        assert f"refused OPER as {line.split()[1]!r} by {real}" in caplog.text


def test_host_mask_for_a_plain_user(net: MemoryNetwork) -> None:
    bob = net.plain("bob")
    bob.send("/oper local local pw")
    assert bob.lines() == ["! You may not become that operator from your address"]
    bob.send("/oper bobonly bob pw")
    assert bob.lines()[0] == "*** You are now an IRC operator"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("OPER", f":{SERVER} 461 alice OPER :Not enough parameters"),
        ("OPER admin", f":{SERVER} 461 alice OPER :Not enough parameters"),
    ],
)
def test_oper_needs_two_parameters(net: MemoryNetwork, line: str, expected: str) -> None:
    alice = net.irc("alice")
    alice.send(line)
    assert alice.lines() == [expected]


@pytest.mark.parametrize("line", ["/oper", "/oper admin", "/oper admin   "])
def test_plain_oper_usage(net: MemoryNetwork, line: str) -> None:
    bob = net.plain("bob")
    bob.send(line)
    assert bob.lines() == ["! Usage: /oper NAME PASSWORD"]


def test_plain_password_with_spaces(net: MemoryNetwork) -> None:
    bob = net.plain("bob")
    bob.send(f"/oper admin   {PASSWORD}  ")
    assert bob.lines()[0] == "*** You are now an IRC operator"


def test_oper_before_registration(net: MemoryNetwork) -> None:
    c = net.connect("irc")
    c.send(f"OPER admin :{PASSWORD}")
    assert c.lines() == [f":{SERVER} 451 * :You have not registered"]
    assert "o" not in c.user.modes


def test_oper_again_is_harmless(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    become_oper(alice)
    alice.send(f"OPER admin :{PASSWORD}")
    assert alice.lines() == [f":{SERVER} 381 alice :You are now an IRC operator"]
    assert net.chat.operators == 1


# -- dropping it, and what others see ---------------------------------------------------


def test_mode_minus_o_drops_operator_status(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    become_oper(alice)
    alice.send("MODE alice -o")
    assert alice.lines() == [f":{mask('alice')} MODE alice -o"]
    assert "o" not in alice.user.modes
    assert net.chat.operators == 0
    alice.send("WALLOPS :still here?")
    assert alice.lines() == [f":{SERVER} 481 alice :Permission Denied- You're not an IRC operator"]


def test_mode_plus_o_is_ignored(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    alice.send("MODE alice +o")
    assert alice.lines() == []
    assert "o" not in alice.user.modes
    assert net.chat.operators == 0


def test_whois_who_userhost_and_lusers_show_operators(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    bob = net.plain("bob")
    alice.send("JOIN #lobby")
    drain(alice, bob)
    become_oper(alice)
    bob.send("/whois alice")
    assert "*** alice is an IRC operator" in bob.lines()
    carol = net.irc("carol")
    carol.send("WHOIS alice")
    assert f":{SERVER} 313 carol alice :is an IRC operator" in carol.lines()
    carol.send("WHOIS bob")
    assert not any(" 313 " in x for x in carol.lines())
    carol.send("WHO #lobby")
    assert carol.lines() == [
        # The server's room: nobody is its operator by being first in it.
        f":{SERVER} 352 carol #lobby ~plain localhost {SERVER} bob H :0 bob",
        f":{SERVER} 352 carol #lobby ~alice localhost {SERVER} alice H* :0 alice real",
        f":{SERVER} 315 carol #lobby :End of /WHO list",
    ]
    carol.send("USERHOST alice bob")
    assert carol.lines() == [f":{SERVER} 302 carol :alice*=+~alice@localhost bob=+~plain@localhost"]
    carol.send("LUSERS")
    assert f":{SERVER} 252 carol 1 :operator(s) online" in carol.lines()
    bob.send(f"/oper admin {PASSWORD}")
    carol.send("LUSERS")
    assert f":{SERVER} 252 carol 2 :operator(s) online" in carol.lines()
    alice.send("QUIT")
    carol.send("LUSERS")
    assert f":{SERVER} 252 carol 1 :operator(s) online" in carol.lines()


# -- KILL ----------------------------------------------------------------------------------


@pytest.fixture
def room(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """#lobby: alice (IRC, operator), bob (plain), carol (IRC), dave (plain); erin (IRC) alone."""
    alice = net.irc("alice")
    alice.send("JOIN #lobby")
    become_oper(alice)
    bob = net.plain("bob")
    carol = net.irc("carol")
    carol.send("JOIN #lobby")
    dave = net.plain("dave")
    erin = net.irc("erin")
    people = {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "erin": erin}
    drain(*people.values())
    return people


@CHUNKING
def test_kill_an_irc_user(
    room: dict[str, MemoryClient], bytewise: bool, caplog: pytest.LogCaptureFixture
) -> None:
    alice, carol = room["alice"], room["carol"]
    with caplog.at_level(logging.WARNING, logger="ircish.core"):
        alice.send("KILL carol :spamming the room", byte_at_a_time=bytewise)
    quit_line = f":{mask('carol')} QUIT :Killed (alice (spamming the room))"
    assert carol.lines() == [
        f":{mask('alice')} KILL carol :spamming the room",
        "ERROR :Closing Link: localhost (Killed (alice (spamming the room)))",
    ]
    assert carol.sink.closed
    assert alice.lines() == [quit_line, f":{SERVER} NOTICE alice :Killed carol (spamming the room)"]
    assert room["bob"].lines() == ["*** carol quit (Killed (alice (spamming the room)))"]
    assert room["dave"].lines() == ["*** carol quit (Killed (alice (spamming the room)))"]
    assert room["erin"].lines() == []
    assert net_user_gone(room, "carol")
    assert "alice!~alice@127.0.0.1 killed carol!~carol@127.0.0.1: 'spamming the room'" in (
        caplog.text
    )


def net_user_gone(room: dict[str, MemoryClient], nick: str) -> bool:
    return room["alice"].net.chat.users.get(nick) is None


def test_kill_a_plain_user_by_a_plain_operator(room: dict[str, MemoryClient]) -> None:
    bob, dave = room["bob"], room["dave"]
    become_oper(dave, plain=True)
    drain(*room.values())
    dave.send("/kill bob flooding \x1b[31mred")
    assert bob.lines() == ["*** Closing connection: Killed (dave (flooding red))"]
    assert bob.sink.closed
    assert dave.lines() == [
        "*** bob quit (Killed (dave (flooding red)))",
        "*** Killed bob (flooding red)",
    ]
    assert room["carol"].lines() == [
        f":{mask('bob', plain=True)} QUIT :Killed (dave (flooding \x1b[31mred))"
    ]


def test_kill_someone_in_no_shared_room(room: dict[str, MemoryClient]) -> None:
    alice, erin = room["alice"], room["erin"]
    alice.send("KILL ERIN :bye")
    assert erin.lines()[-1] == "ERROR :Closing Link: localhost (Killed (alice (bye)))"
    assert alice.lines() == [f":{SERVER} NOTICE alice :Killed erin (bye)"]
    assert [c.lines() for c in (room["bob"], room["carol"], room["dave"])] == [[], [], []]


def test_kill_oneself(room: dict[str, MemoryClient]) -> None:
    alice = room["alice"]
    alice.send("KILL alice :oops")
    assert alice.lines() == [
        f":{mask('alice')} KILL alice :oops",
        "ERROR :Closing Link: localhost (Killed (alice (oops)))",
    ]
    assert room["carol"].lines() == [f":{mask('alice')} QUIT :Killed (alice (oops))"]
    assert alice.net.chat.operators == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("KILL nobody :bye", f":{SERVER} 401 alice nobody :No such nick/channel"),
        ("KILL #lobby :bye", f":{SERVER} 401 alice #lobby :No such nick/channel"),
        (f"KILL {SERVER} :bye", f":{SERVER} 483 alice :You cant kill a server!"),
        ("KILL IRCISH.LOCAL :bye", f":{SERVER} 483 alice :You cant kill a server!"),
        ("KILL carol", f":{SERVER} 461 alice KILL :Not enough parameters"),
        ("KILL carol :   ", f":{SERVER} 461 alice KILL :Not enough parameters"),
        ("KILL", f":{SERVER} 461 alice KILL :Not enough parameters"),
    ],
)
def test_kill_errors(room: dict[str, MemoryClient], line: str, expected: str) -> None:
    room["alice"].send(line)
    assert room["alice"].lines() == [expected]
    assert room["carol"].lines() == []
    assert not room["carol"].sink.closed


def test_kill_needs_operator_status(room: dict[str, MemoryClient]) -> None:
    carol, bob = room["carol"], room["bob"]
    carol.send("KILL alice :revenge")
    assert carol.lines() == [f":{SERVER} 481 carol :Permission Denied- You're not an IRC operator"]
    bob.send("/kill alice revenge")
    assert bob.lines() == ["! Only server operators can do that (see /oper)"]
    bob.send(f"/kill {SERVER} x")
    assert bob.lines() == ["! Only server operators can do that (see /oper)"]
    assert not room["alice"].sink.closed


@pytest.mark.parametrize("line", ["/kill", "/kill carol", "/kill carol  "])
def test_plain_kill_usage(room: dict[str, MemoryClient], line: str) -> None:
    room["dave"].send(line)
    assert room["dave"].lines() == ["! Usage: /kill NICK REASON"]


def test_plain_kill_the_server(room: dict[str, MemoryClient]) -> None:
    dave = room["dave"]
    become_oper(dave, plain=True)
    dave.send(f"/kill {SERVER} now")
    assert dave.lines() == ["! You cannot kill the server"]


def test_kill_reason_is_cut_to_the_topic_length() -> None:
    config = replace(
        Config(), operators=OPERATORS, limits=replace(LimitsConfig(), max_topic_length=5)
    )
    net = MemoryNetwork(config)
    alice, bob = net.irc("alice"), net.irc("bob")
    become_oper(alice)
    alice.send("KILL bob :abcdefghij")
    assert bob.lines()[-1] == "ERROR :Closing Link: localhost (Killed (alice (abcde)))"


# -- WALLOPS ----------------------------------------------------------------------------------


@CHUNKING
def test_wallops_reaches_users_with_mode_w(room: dict[str, MemoryClient], bytewise: bool) -> None:
    alice, bob, carol, dave, erin = (room[k] for k in ("alice", "bob", "carol", "dave", "erin"))
    bob.send("/mode bob +w")
    erin.send("MODE erin +w")
    drain(*room.values())
    alice.send("WALLOPS :maintenance at 10:00 \x02now\x02", byte_at_a_time=bytewise)
    line = f":{mask('alice')} WALLOPS :maintenance at 10:00 \x02now\x02"
    assert erin.lines() == [line]
    assert bob.lines() == ["*** Wallops from alice: maintenance at 10:00 now"]
    # The sender has no +w, so gets a copy of their own; the others none.
    assert alice.lines() == [line]
    assert carol.lines() == []
    assert dave.lines() == []


def test_wallops_sender_with_mode_w_gets_one_copy(room: dict[str, MemoryClient]) -> None:
    alice = room["alice"]
    alice.send("MODE alice +w")
    alice.lines()
    alice.send("WALLOPS :once")
    assert alice.lines() == [f":{mask('alice')} WALLOPS :once"]


def test_wallops_from_a_plain_operator(room: dict[str, MemoryClient]) -> None:
    dave, erin = room["dave"], room["erin"]
    become_oper(dave, plain=True)
    erin.send("MODE erin +w")
    drain(*room.values())
    dave.send("/wallops hello   everyone")
    assert erin.lines() == [f":{mask('dave', plain=True)} WALLOPS :hello   everyone"]
    assert dave.lines() == ["*** Wallops from dave: hello   everyone"]


def test_wallops_needs_operator_status(room: dict[str, MemoryClient]) -> None:
    carol, bob, erin = room["carol"], room["bob"], room["erin"]
    erin.send("MODE erin +w")
    erin.lines()
    carol.send("WALLOPS :hi")
    assert carol.lines() == [f":{SERVER} 481 carol :Permission Denied- You're not an IRC operator"]
    bob.send("/wallops hi")
    assert bob.lines() == ["! Only server operators can do that (see /oper)"]
    assert erin.lines() == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("WALLOPS", f":{SERVER} 461 alice WALLOPS :Not enough parameters"),
        ("WALLOPS :", f":{SERVER} 461 alice WALLOPS :Not enough parameters"),
        ("WALLOPS :  ", f":{SERVER} 461 alice WALLOPS :Not enough parameters"),
    ],
)
def test_wallops_needs_text(room: dict[str, MemoryClient], line: str, expected: str) -> None:
    room["alice"].send(line)
    assert room["alice"].lines() == [expected]


def test_plain_wallops_usage(room: dict[str, MemoryClient]) -> None:
    room["dave"].send("/wallops")
    assert room["dave"].lines() == ["! Usage: /wallops TEXT"]


# -- the offload seam --------------------------------------------------------------------------


def test_inline_offload_runs_work_then_done_in_the_same_outbox(net: MemoryNetwork) -> None:
    seen: list[str] = []
    alice = net.irc("alice")
    with net.chat.outbox(alice.client):
        net.chat.offload(lambda: 41 + 1, lambda result: seen.append(f"done {result}"))
        assert seen == ["done 42"]


def test_second_oper_while_the_first_is_checked(net: MemoryNetwork) -> None:
    deferred = Deferred()
    net.chat.offloader = deferred
    alice = net.irc("alice")
    bob = net.plain("bob")
    alice.send("OPER admin :wrong")
    assert alice.lines() == []
    alice.send(f"OPER admin :{PASSWORD}")
    assert alice.lines() == [
        f":{SERVER} 491 alice :An OPER attempt is already being checked; wait for its answer"
    ]
    bob.send("/oper admin wrong")
    bob.send(f"/oper admin {PASSWORD}")
    assert bob.lines() == ["! An OPER attempt is already being checked; wait for its answer"]
    assert len(deferred.jobs) == 2, "one check per client"
    deferred.run()
    assert alice.lines() == [f":{SERVER} 464 alice :Password incorrect"]
    assert bob.lines() == ["! Wrong operator name or password"]
    assert net.chat.oper_pending == set()
    alice.send(f"OPER admin :{PASSWORD}")
    deferred.run()
    assert alice.lines()[0] == f":{SERVER} 381 alice :You are now an IRC operator"


def test_client_gone_before_the_check_finishes(net: MemoryNetwork) -> None:
    deferred = Deferred()
    net.chat.offloader = deferred
    alice = net.irc("alice")
    carol = net.irc("carol")
    alice.send(f"OPER admin :{PASSWORD}")
    alice.send("QUIT :bye")
    drain(alice, carol)
    deferred.run()
    assert alice.lines() == []
    assert "o" not in alice.user.modes
    assert net.chat.operators == 0
    assert net.chat.oper_pending == set()
    carol.send("LUSERS")
    assert f":{SERVER} 252 carol 0 :operator(s) online" in carol.lines()


def test_nick_change_while_checked_is_seen_by_the_host_check(net: MemoryNetwork) -> None:
    deferred = Deferred()
    net.chat.offloader = deferred
    bob = net.irc("bob")
    bob.send("OPER bobonly :bob pw")
    bob.send("NICK robert")
    bob.lines()
    deferred.run()
    assert bob.lines() == [f":{SERVER} 491 robert :No O-lines for your host"]


def test_labeled_oper_is_answered_with_its_label_when_the_check_ends(net: MemoryNetwork) -> None:
    deferred = Deferred()
    net.chat.offloader = deferred
    alice = net.irc("alice", caps="labeled-response batch")
    alice.send(f"@label=op1 OPER admin :{PASSWORD}")
    assert alice.lines() == [], "no early ACK: the answer is still coming"
    deferred.run()
    lines = alice.lines()
    assert len(lines) == 4, lines
    opened = re.fullmatch(rf"@label=op1 :{SERVER} BATCH \+(\S+) labeled-response", lines[0])
    assert opened, lines[0]
    ref = opened.group(1)
    assert lines[1:] == [
        f"@batch={ref} :{SERVER} 381 alice :You are now an IRC operator",
        f"@batch={ref} :{mask('alice')} MODE alice +o",
        f":{SERVER} BATCH -{ref}",
    ]
    alice.send("@label=op2 OPER admin :nope")
    deferred.run()
    assert alice.lines() == [f"@label=op2 :{SERVER} 464 alice :Password incorrect"]


def test_labeled_oper_inline(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps="labeled-response batch")
    alice.send("@label=x OPER nobody :nope")
    assert alice.lines() == [f"@label=x :{SERVER} 464 alice :Password incorrect"]


def test_a_failing_check_is_a_mismatch(
    net: MemoryNetwork, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(password_hash: str, password: str) -> bool:
        raise MemoryError("no memory for argon2")

    monkeypatch.setattr(oper, "verify_password", broken)
    alice = net.irc("alice")
    with caplog.at_level(logging.ERROR, logger="ircish.core"):
        alice.send(f"OPER admin :{PASSWORD}")
    assert alice.lines() == [f":{SERVER} 464 alice :Password incorrect"]
    assert net.chat.oper_pending == set()
    assert "OPER password check failed" in caplog.text


# -- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "syntax"),
    [
        ("OPER", "OPER <name> <password>"),
        ("KILL", "KILL <nick> <reason>"),
        ("WALLOPS", "WALLOPS <text>"),
    ],
)
def test_help(net: MemoryNetwork, topic: str, syntax: str) -> None:
    alice = net.irc("alice")
    alice.send(f"HELP {topic}")
    assert f":{SERVER} 705 alice {topic} :{syntax}" in alice.lines()


@pytest.mark.parametrize(
    ("topic", "line"),
    [
        ("oper", "*** /oper NAME PASSWORD: become a server operator"),
        ("kill", "*** /kill NICK REASON: disconnect a user (server operators)"),
        ("wallops", "*** /wallops TEXT: message users with mode +w (operators)"),
    ],
)
def test_plain_help(net: MemoryNetwork, topic: str, line: str) -> None:
    bob = net.plain("bob")
    bob.send(f"/help {topic}")
    assert bob.lines() == [line]


# -- the slash commands, parsed --------------------------------------------------------------

PARSED = [
    ("/oper admin pw", Command("OPER", ("admin", "pw"))),
    ("/OPER admin two words ", Command("OPER", ("admin", "two words"))),
    ("/oper admin  spaced   pw", Command("OPER", ("admin", "spaced   pw"))),
    ("/kill bob spam", Command("KILL", ("bob", "spam"))),
    ("/Kill bob  too much spam ", Command("KILL", ("bob", "too much spam"))),
    ("/wallops hello", Command("WALLOPS", ("hello",))),
    ("/WALLOPS  hello  all ", Command("WALLOPS", ("hello  all",))),
]


@pytest.mark.parametrize(("line", "expected"), PARSED)
def test_slash_commands_build_the_irc_command(
    net: MemoryNetwork, line: str, expected: Command
) -> None:
    bob = net.plain("bob")
    assert parse_plain(line, bob.client) == expected


@pytest.mark.parametrize(
    ("line", "usage"),
    [
        ("/oper", "/oper NAME PASSWORD"),
        ("/oper admin", "/oper NAME PASSWORD"),
        ("/kill", "/kill NICK REASON"),
        ("/kill bob", "/kill NICK REASON"),
        ("/wallops", "/wallops TEXT"),
        ("/wallops   ", "/wallops TEXT"),
    ],
)
def test_slash_commands_usage(net: MemoryNetwork, line: str, usage: str) -> None:
    bob = net.plain("bob")
    with pytest.raises(CommandError) as info:
        parse_plain(line, bob.client)
    name = line.split(maxsplit=1)[0]
    assert (info.value.code, info.value.params, info.value.text) == (
        "461",
        (name,),
        f"Usage: {usage}",
    )


@pytest.mark.parametrize("line", ["/oper admin pw", "/kill bob x", "/wallops hi"])
def test_slash_commands_need_registration(net: MemoryNetwork, line: str) -> None:
    c = net.connect("plain")
    with pytest.raises(CommandError) as info:
        parse_plain(line, c.client)
    assert info.value.code == "451"
