"""Registration in memory: plain users pick a nick; IRC clients send NICK/USER/CAP/PASS."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ircish.config import Config, ServerConfig
from ircish.core.caps import offered
from tests.helpers import MemoryClient, MemoryNetwork

SERVER = "ircish.local"
GREETING = (
    f"*** This is {SERVER}. Type a nickname and press Enter (or /nick NAME). "
    "/help lists the commands."
)
NOT_REGISTERED_PLAIN = "! Pick a nickname first: type it, or /nick NAME"


def config(**server: object) -> Config:
    return replace(Config(), server=replace(ServerConfig(), **server))


def send(client: MemoryClient, line: str, byte_at_a_time: bool) -> list[str]:
    client.send(line, byte_at_a_time=byte_at_a_time)
    return client.lines()


def codes(lines: list[str]) -> list[str]:
    """The numeric codes of IRC lines from the server, in order."""
    return [x.split()[1] for x in lines if x.startswith(f":{SERVER} ") and x.split()[1].isdigit()]


CHUNKING = pytest.mark.parametrize("bytewise", [False, True], ids=["one-chunk", "byte-at-a-time"])


# -- plain users -----------------------------------------------------------------


def test_plain_user_is_greeted_on_connect(net: MemoryNetwork) -> None:
    client = net.connect("plain")
    assert client.lines() == [GREETING]
    assert not client.user.registered


@CHUNKING
def test_plain_first_line_is_the_nickname(net: MemoryNetwork, bytewise: bool) -> None:
    client = net.connect("plain")
    client.lines()
    assert send(client, "alice", bytewise) == [
        "*** Welcome to ircish, alice! Type /help for the commands.",
        "*** 1 user online",
        "*** Be kind; have fun.",
        "*** alice joined #lobby",
        # The default room is the server's: nobody is its operator by being first.
        "*** Users in #lobby: alice",
        "*** Now talking in #lobby",
    ]
    user = client.user
    assert user.registered
    assert user.nick == "alice"
    assert user.mask == "alice!~plain@localhost"
    assert client.client.current_room is not None
    assert client.client.current_room.name == "#lobby"
    assert net.chat.users.get("alice") is user


def test_plain_nick_with_surrounding_spaces(net: MemoryNetwork) -> None:
    client = net.connect("plain")
    client.send("   bob   ")
    assert client.user.nick == "bob"


def test_plain_cyrillic_nickname(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    vasya = net.connect("plain")
    vasya.lines()
    vasya.send("Вася")
    assert "*** Welcome to ircish, Вася! Type /help for the commands." in vasya.lines()
    assert alice.lines() == ["*** Вася joined #lobby"]


def test_plain_slash_nick_registers_too(net: MemoryNetwork) -> None:
    client = net.connect("plain")
    client.lines()
    client.send("/nick carol")
    assert client.user.registered
    assert client.lines()[0] == "*** Welcome to ircish, carol! Type /help for the commands."


def test_plain_empty_lines_before_the_nick_are_ignored(net: MemoryNetwork) -> None:
    client = net.connect("plain")
    client.lines()
    client.send("")
    client.send("   ")
    assert client.lines() == []
    client.send("dave")
    assert client.user.registered


def test_plain_multi_word_first_line_is_refused(net: MemoryNetwork) -> None:
    client = net.connect("plain")
    client.lines()
    assert send(client, "hello everyone", False) == ["! A nickname is one word; type just the name"]
    assert not client.user.registered
    client.send("erin")
    assert client.user.registered


@pytest.mark.parametrize("nick", ["1abc", "-x", "a!b", "#room", "x" * 31])
def test_plain_invalid_nickname(net: MemoryNetwork, nick: str) -> None:
    client = net.connect("plain")
    client.lines()
    assert send(client, nick, False) == [
        f"! {nick!r} is not a valid nickname: use up to 30 letters, digits or "
        "[]\\`_^{|}-, not starting with a digit or '-'"
    ]
    assert not client.user.registered
    assert len(net.chat.users) == 0


@pytest.mark.parametrize(
    ("taken", "wanted"),
    [
        ("alice", "alice"),
        ("alice", "ALICE"),
        ("alice", "Alice"),
        ("вася", "ВАСЯ"),
        ("ВаСя", "вася"),
    ],
)
def test_plain_nickname_collision(net: MemoryNetwork, taken: str, wanted: str) -> None:
    first = net.plain(taken)
    client = net.connect("plain")
    client.lines()
    assert send(client, wanted, False) == [f"! The nickname {wanted} is taken; pick another"]
    assert not client.user.registered
    assert net.chat.users.get(wanted) is first.user
    assert first.lines() == []
    client.send("someone_else")
    assert client.user.registered


@pytest.mark.parametrize("line", ["/join #a", "/msg alice hi", "/who", "/list", "/me waves"])
def test_plain_commands_before_registration(net: MemoryNetwork, line: str) -> None:
    net.plain("alice")
    client = net.connect("plain")
    client.lines()
    assert send(client, line, False) == [NOT_REGISTERED_PLAIN]
    assert not client.user.registered


def test_plain_help_and_quit_before_registration(net: MemoryNetwork) -> None:
    client = net.connect("plain")
    client.lines()
    client.send("/help")
    lines = client.lines()
    assert lines[0].startswith("*** Commands")
    assert any("/nick NAME" in x for x in lines)
    client.send("/quit")
    assert client.lines() == ["*** Closing connection: Quit"]
    assert client.sink.closed
    assert client.session.closed


def test_plain_user_without_default_room() -> None:
    net = MemoryNetwork(config(default_room=""))
    client = net.connect("plain")
    client.lines()
    client.send("alice")
    lines = client.lines()
    assert lines[0] == "*** Welcome to ircish, alice! Type /help for the commands."
    assert not any("joined" in x for x in lines)
    assert client.user.rooms == {}
    assert len(net.chat.rooms) == 0


def test_plain_user_joins_a_configured_default_room() -> None:
    net = MemoryNetwork(config(default_room="#Общая"))
    alice = net.plain("alice")
    assert alice.client.current_room is not None
    assert alice.client.current_room.name == "#Общая"


# -- IRC clients -----------------------------------------------------------------


@CHUNKING
def test_irc_nick_then_user(net: MemoryNetwork, bytewise: bool) -> None:
    client = net.connect("irc")
    assert client.lines() == [], "IRC clients speak first; the server says nothing"
    assert send(client, "NICK bob", bytewise) == []
    lines = send(client, "USER bobby 0 * :Bob Builder", bytewise)
    assert lines[0] == f":{SERVER} 001 bob :Welcome to the ircish IRC Network bob!~bobby@localhost"
    assert codes(lines) == [
        "001", "002", "003", "004", "005", "005", "005",
        "251", "252", "253", "254", "255", "265", "266",
        "375", "372", "376",
    ]  # fmt: skip
    assert client.user.registered
    assert client.user.realname == "Bob Builder"
    assert client.user.rooms == {}, "IRC clients are not put in the default room"


def test_irc_user_then_nick(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    assert send(client, "USER bob 0 * :Bob", False) == []
    lines = send(client, "NICK bob", False)
    assert codes(lines)[0] == "001"


def test_irc_isupport_advertises_the_casemapping(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    client.send("NICK bob")
    client.send("USER bob 0 * :Bob")
    isupport = [x for x in client.lines() if " 005 " in x]
    assert any(" CASEMAPPING=rfc8265 " in x for x in isupport)
    assert any(" NICKLEN=30 " in x for x in isupport)


@pytest.mark.parametrize("line", ["JOIN #a", "PRIVMSG alice :hi", "WHO #a", "FOO bar"])
def test_irc_commands_before_registration(net: MemoryNetwork, line: str) -> None:
    client = net.connect("irc")
    assert send(client, line, False) == [f":{SERVER} 451 * :You have not registered"]


def test_irc_nickname_in_use(net: MemoryNetwork) -> None:
    net.plain("alice")
    client = net.connect("irc")
    assert send(client, "NICK ALICE", False) == [
        f":{SERVER} 433 * ALICE :Nickname is already in use"
    ]
    client.send("USER x 0 * :x")
    assert not client.user.registered
    assert codes(send(client, "NICK alice2", False))[0] == "001"


def test_irc_cyrillic_nickname_in_use(net: MemoryNetwork) -> None:
    net.irc("вася")
    client = net.connect("irc")
    assert send(client, "NICK ВАСЯ", False) == [f":{SERVER} 433 * ВАСЯ :Nickname is already in use"]


def test_irc_erroneous_nickname(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    assert send(client, "NICK 9lives", False) == [f":{SERVER} 432 * 9lives :Erroneous nickname"]
    assert send(client, "NICK", False) == [f":{SERVER} 431 * :No nickname given"]


def test_irc_nick_taken_between_nick_and_user(net: MemoryNetwork) -> None:
    """Two clients ask for the same free nick; the one that finishes first gets it."""
    first = net.connect("irc")
    second = net.connect("irc")
    first.send("NICK sam")
    second.send("NICK sam")
    assert first.lines() == second.lines() == []
    first.send("USER sam 0 * :Sam")
    assert first.user.registered
    assert send(second, "USER sam 0 * :Other Sam", False) == [
        f":{SERVER} 433 * sam :Nickname is already in use"
    ]
    assert not second.user.registered
    assert codes(send(second, "NICK sam2", False))[0] == "001"
    assert net.chat.users.get("sam") is first.user
    assert net.chat.users.get("sam2") is second.user


def test_irc_reregistration_is_refused(net: MemoryNetwork) -> None:
    client = net.irc("bob")
    assert send(client, "USER again 0 * :x", False) == [
        f":{SERVER} 462 bob :You may not reregister"
    ]
    assert send(client, "PASS x", False) == [f":{SERVER} 462 bob :You may not reregister"]


def test_irc_auto_join_when_configured() -> None:
    net = MemoryNetwork(config(auto_join_irc=True))
    alice = net.plain("alice")
    bob = net.connect("irc")
    bob.send("NICK bob")
    lines = send(bob, "USER bob 0 * :Bob", False)
    assert ":bob!~bob@localhost JOIN #lobby" in lines
    assert alice.lines() == ["*** bob joined #lobby"]


# -- CAP negotiation -----------------------------------------------------------


#: What CAP LS 302 lists: every implemented capability, with its value if it has one.
#: Without storage (``MemoryNetwork()``): no account or history capabilities.
CAPS = " ".join(f"{k}={v}" if v else k for k, v in offered(storage=False, history=False).items())


@CHUNKING
def test_cap_ls_req_end(net: MemoryNetwork, bytewise: bool) -> None:
    client = net.connect("irc")
    assert send(client, "CAP LS 302", bytewise) == [f":{SERVER} CAP * LS :{CAPS}"]
    assert send(client, "NICK bob", bytewise) == []
    assert send(client, "USER bob 0 * :Bob", bytewise) == [], "registration waits for CAP END"
    assert send(client, "CAP REQ :multi-prefix echo-message", bytewise) == [
        f":{SERVER} CAP bob ACK :multi-prefix echo-message"
    ]
    assert not client.user.registered
    lines = send(client, "CAP END", bytewise)
    assert codes(lines)[0] == "001"
    assert client.client.caps == {"multi-prefix", "echo-message"}
    assert send(client, "CAP LIST", bytewise) == [
        f":{SERVER} CAP bob LIST :echo-message multi-prefix"
    ]


def test_cap_req_before_nick_holds_registration(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    assert send(client, "CAP REQ :multi-prefix", False) == [f":{SERVER} CAP * ACK :multi-prefix"]
    client.send("NICK bob")
    client.send("USER bob 0 * :Bob")
    assert not client.user.registered
    client.send("CAP END")
    assert client.user.registered


def test_cap_req_unknown_is_refused_whole(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    assert send(client, "CAP REQ :server-time bogus", False) == [
        f":{SERVER} CAP * NAK :server-time bogus"
    ]
    assert client.client.caps == frozenset()


def test_cap_req_can_remove(net: MemoryNetwork) -> None:
    client = net.irc("bob", caps="server-time multi-prefix")
    assert client.client.caps == {"server-time", "multi-prefix"}
    client.send("CAP REQ :-server-time")
    assert client.client.caps == {"multi-prefix"}


def test_cap_end_without_negotiation_does_nothing(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    assert send(client, "CAP END", False) == []
    client.send("NICK bob")
    client.send("USER bob 0 * :Bob")
    assert client.user.registered


def test_cap_unknown_subcommand(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    assert send(client, "CAP FOO", False) == [f":{SERVER} 410 * FOO :Invalid CAP command"]


# -- server password -------------------------------------------------------------


@CHUNKING
def test_pass_correct(bytewise: bool) -> None:
    net = MemoryNetwork(config(password="sekrit"))
    client = net.connect("irc")
    for line in ("PASS sekrit", "NICK bob"):
        assert send(client, line, bytewise) == []
    assert codes(send(client, "USER bob 0 * :Bob", bytewise))[0] == "001"
    assert client.user.registered


@pytest.mark.parametrize("pass_line", ["PASS wrong", "PASS Sekrit", None])
def test_pass_wrong_or_missing(pass_line: str | None) -> None:
    net = MemoryNetwork(config(password="sekrit"))
    client = net.connect("irc")
    if pass_line:
        client.send(pass_line)
    client.send("NICK bob")
    assert send(client, "USER bob 0 * :Bob", False) == [
        f":{SERVER} 464 bob :Password incorrect",
        "ERROR :Closing Link: localhost (Bad password)",
    ]
    assert client.sink.closed
    assert not client.user.registered
    assert net.chat.users.get("bob") is None
    assert client.user not in net.chat.clients


def test_pass_last_one_counts() -> None:
    net = MemoryNetwork(config(password="sekrit"))
    client = net.connect("irc")
    client.send("PASS wrong")
    client.send("PASS sekrit")
    client.send("NICK bob")
    client.send("USER bob 0 * :Bob")
    assert client.user.registered


def test_pass_sent_without_a_server_password_is_ignored(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    client.send("PASS whatever")
    client.send("NICK bob")
    client.send("USER bob 0 * :Bob")
    assert client.user.registered


def test_plain_user_without_the_server_password_gets_another_try() -> None:
    net = MemoryNetwork(config(password="sekrit"))
    client = net.connect("plain")
    assert client.lines() == [
        "*** This is ircish.local; it needs a password: type /pass PASSWORD, "
        "then a nickname. /help lists the commands."
    ]
    assert send(client, "alice", False) == [
        "! This server needs a password: type /pass PASSWORD, then your nickname",
    ]
    assert not client.sink.closed
    assert not client.user.registered
    client.send("/pass wrong")
    assert send(client, "alice", False)[0].startswith("! This server needs a password")
    client.send("/pass sekrit")
    assert (
        send(client, "alice", False)[0]
        == "*** Welcome to ircish, alice! Type /help for the commands."
    )
    assert client.user.registered


# -- quitting before registration ------------------------------------------------


def test_irc_quit_before_registration(net: MemoryNetwork) -> None:
    alice = net.plain("alice")
    client = net.connect("irc")
    client.send("NICK bob")
    assert send(client, "QUIT :changed my mind", False) == [
        "ERROR :Closing Link: localhost (Quit: changed my mind)"
    ]
    assert client.sink.closed
    assert alice.lines() == [], "nobody saw an unregistered connection leave"


def test_unregistered_connections_count_as_unknown(net: MemoryNetwork) -> None:
    net.connect("irc")
    client = net.connect("irc")
    client.send("NICK bob")
    lines = send(client, "USER bob 0 * :Bob", False)
    assert f":{SERVER} 253 bob 1 :unknown connection(s)" in lines
