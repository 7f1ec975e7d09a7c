"""Netcat's /help comes from the one slash table, filtered by who asks.

A server without a password does not offer ``/pass``; one with a password
offers it before registration; before registration only what works then is
listed; every command shows its short forms.
"""

from __future__ import annotations

from ircish.config import Config, ServerConfig
from ircish.protocol.slash import COMMANDS
from tests.helpers import MemoryNetwork


def help_lines(net: MemoryNetwork, nick: str | None, password: str = "") -> list[str]:
    client = net.connect("plain")
    client.lines()
    if password:
        client.send(f"/pass {password}")
    if nick:
        client.send(nick)
    client.lines()
    client.send("/help")
    return client.lines()


def listed(lines: list[str]) -> list[str]:
    """The usage lines the help lists (``***   /join ...  summary``)."""
    return [x.removeprefix("***   ").split("  ")[0] for x in lines if x.startswith("***   /")]


def test_without_a_server_password_pass_is_not_listed() -> None:
    lines = help_lines(MemoryNetwork(), "alice")
    usages = listed(lines)
    assert "/pass PASSWORD" not in usages
    # Everything else of the shared table is, and netcat's own /set.
    assert len(usages) == len(COMMANDS) - 1 + 1
    assert "/set [echo [on|off]]" in usages


def test_with_a_server_password_pass_is_listed_before_registration() -> None:
    net = MemoryNetwork(Config(server=ServerConfig(password="sekrit")))
    before = help_lines(net, None)
    assert before[0] == (
        "*** Commands before you have a nickname (type one; then /help lists them all):"
    )
    assert listed(before) == [
        "/nick NAME",
        "/quit [reason]",
        "/pass PASSWORD",
        "/help [COMMAND]",
        "/set [echo [on|off]]",
    ]
    # Registered, the password is no longer something to give.
    assert "/pass PASSWORD" not in listed(help_lines(net, "alice", password="sekrit"))


def test_help_shows_the_short_forms() -> None:
    lines = help_lines(MemoryNetwork(), "alice")
    join = next(x for x in lines if x.startswith("***   /join "))
    assert join.endswith("join rooms, or switch to one (also /j)")
    quit_ = next(x for x in lines if x.startswith("***   /quit "))
    assert quit_.endswith("(also /exit, /bye)")
    net = MemoryNetwork()
    alice = net.plain("alice")
    alice.send("/help j")
    assert alice.lines() == [
        "*** /join #room [key=KEY] [#room2 ...]: join rooms, or switch to one (also /j)"
    ]


def test_a_joined_room_and_a_bare_word_ask_instead_of_taking_a_key() -> None:
    net = MemoryNetwork()
    alice = net.plain("alice")
    alice.send("/join #help newbies")
    assert alice.lines()[0].startswith(
        "! To join #help with the key newbies, type /join #help key=newbies"
    )
    assert alice.client.current_room is not None
    assert alice.client.current_room.name == "#lobby"  # nothing was joined
