"""ChanServ and registered rooms through in-memory sessions, on a real SQLite store in memory.

Accounts are set on the user directly (``user.account``): logging in is
NickServ's business and tested with it. IRC clients get exact lines; netcat
users get readable ones. A restart is a second ``Chat`` on the same storage.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ircish.config import Config, HistoryConfig
from ircish.core import registered
from ircish.core.events import ModeChange
from ircish.core.handlers.chanserv import handle_chanserv
from ircish.core.storage import Account
from tests.helpers import MemoryClient, MemoryNetwork, drain

SERVER = "ircish.local"
CS = f":ChanServ!ChanServ@services.{SERVER}"
#: History off: the exact lines of a join are not mixed with its replay (tested apart below).
QUIET = replace(Config(), history=HistoryConfig(enabled=False))


def notice(nick: str, text: str) -> str:
    return f"{CS} NOTICE {nick} :{text}"


def cs(net: MemoryNetwork, who: MemoryClient, text: str) -> list[str]:
    """``who`` tells ChanServ ``text`` (``/msg ChanServ``); the lines ``who`` gets back."""
    if who.client.dialect.name == "plain":
        who.send(f"/msg ChanServ {text}")
    else:
        who.send(f"PRIVMSG ChanServ :{text}")
    return who.lines()


def direct(net: MemoryNetwork, who: MemoryClient, text: str) -> list[str]:
    """The handler itself, without the services routing in front of it."""
    with net.chat.outbox(who.client):
        handle_chanserv(net.chat, who.client, text.split())
    return who.lines()


def login(net: MemoryNetwork, who: MemoryClient, account: str) -> None:
    """Give ``who`` an existing account (the account row, and the user logged in to it)."""
    assert net.storage is not None
    if net.storage.account(account.lower()) is None:
        net.storage.save_account(account.lower(), Account(account, "argon2-not-used", ""))
    who.user.account = account


@pytest.fixture
def net() -> MemoryNetwork:
    return MemoryNetwork(QUIET, storage=True)


def founded(net: MemoryNetwork, room: str = "#rust") -> MemoryClient:
    """alice, logged in, has created and registered ``room``."""
    alice = net.irc("alice")
    login(net, alice, "alice")
    alice.send(f"JOIN {room}")
    drain(alice)
    assert cs(net, alice, f"REGISTER {room}") == [
        notice("alice", f"Channel {room} successfully registered; alice is its founder")
    ]
    return alice


# -- availability and errors ------------------------------------------------------


def test_without_storage_chanserv_says_it_is_unavailable() -> None:
    net = MemoryNetwork(QUIET)
    alice = net.irc("alice")
    alice.send("JOIN #rust")
    drain(alice)
    for text in ("REGISTER #rust", "OP #rust", "AMODE #rust", "INFO #rust"):
        assert direct(net, alice, text) == [
            notice("alice", "ChanServ is not available on this server")
        ]
    # HELP still answers: it says what ChanServ would do.
    assert direct(net, alice, "HELP")[0] == notice(
        "alice", "ChanServ lets you register and manage channels. Commands:"
    )


def test_register_needs_a_login(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    alice.send("JOIN #rust")
    drain(alice)
    assert cs(net, alice, "REGISTER #rust") == [
        notice(
            "alice",
            "You are not logged in to an account (log in with /login or /msg NickServ IDENTIFY)",
        )
    ]
    assert "#rust" not in net.chat.registered_rooms


def test_register_needs_room_operator_status_and_a_live_room(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    alice.send("JOIN #rust")
    bob = net.irc("bob")
    login(net, bob, "bob")
    bob.send("JOIN #rust")
    drain(alice, bob)
    assert cs(net, bob, "REGISTER #rust") == [
        notice("bob", "You must be an operator of #rust to register it")
    ]
    assert cs(net, bob, "REGISTER #nowhere") == [
        notice("bob", "No such channel: #nowhere (nobody is in it)")
    ]
    assert cs(net, bob, "REGISTER") == [notice("bob", "Syntax: REGISTER #channel")]
    assert cs(net, bob, "REGISTER rust") == [notice("bob", "Syntax: REGISTER #channel")]
    assert not net.chat.registered_rooms


def test_register_twice_and_unknown_commands(net: MemoryNetwork) -> None:
    alice = founded(net)
    assert cs(net, alice, "register #RUST") == [
        notice("alice", "Channel #rust is already registered")
    ]
    assert cs(net, alice, "FROB #rust") == [
        notice("alice", "Unknown command FROB; HELP lists the commands")
    ]
    assert cs(net, alice, "OP #other") == [notice("alice", "Channel #other is not registered")]


def test_help_lists_every_command_and_explains_one(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    lines = direct(net, alice, "")
    for verb in ("REGISTER", "UNREGISTER", "INFO", "OP", "DEOP", "VOICE", "DEVOICE", "AMODE"):
        assert any(line.startswith(f"{CS} NOTICE alice :{verb} #channel") for line in lines)
    assert cs(net, alice, "HELP amode") == [
        notice("alice", "Syntax: AMODE #channel [+o|-o|+v|-v account]"),
        notice(
            "alice",
            "List the access list, or give an account +o/+v on every join (founder only)",
        ),
    ]


# -- what a registered room keeps -------------------------------------------------


def test_a_registered_room_keeps_topic_modes_key_limit_and_bans_after_it_empties(
    net: MemoryNetwork,
) -> None:
    alice = founded(net)
    alice.send("TOPIC #rust :Rust talk")
    alice.send("MODE #rust +imk-t sekrit")
    alice.send("MODE #rust +l 50")
    alice.send("MODE #rust +b troll!*@*")
    alice.send("MODE #rust +e friend!*@*")
    alice.send("PART #rust")
    assert net.chat.rooms.get("#rust") is None
    drain(alice)

    # Nobody is in it, yet it still wants its key, and keeps the troll out.
    bob = net.irc("bob")
    bob.send("JOIN #rust")
    assert bob.lines() == [f":{SERVER} 473 bob #rust :Cannot join channel (+i)"]
    assert net.chat.rooms.get("#rust") is None

    # The founder passes every restriction, gets +o from ChanServ, and sees the topic.
    alice.send("JOIN #rust")
    lines = alice.lines()
    assert lines[:3] == [
        ":alice!~alice@localhost JOIN #rust",
        f"{CS} MODE #rust +o alice",
        f":{SERVER} 332 alice #rust :Rust talk",
    ]
    assert f":{SERVER} 353 alice = #rust :@alice" in lines
    room = net.chat.rooms.get("#rust")
    assert room is not None
    assert room.modes == {"i", "m", "n"}
    assert (room.key, room.limit) == ("sekrit", 50)
    assert [e.mask for e in room.lists["b"].values()] == ["troll!*@*"]
    assert [e.mask for e in room.lists["e"].values()] == ["friend!*@*"]
    assert room.topic_by == "alice!~alice@localhost"
    alice.send("MODE #rust")
    assert alice.lines()[0] == f":{SERVER} 324 alice #rust +imnkl sekrit 50"


def test_someone_without_access_who_recreates_a_registered_room_is_no_operator(
    net: MemoryNetwork,
) -> None:
    alice = founded(net)
    alice.send("PART #rust")
    bob = net.irc("bob")
    bob.send("JOIN #rust")
    lines = bob.lines()
    assert f"{CS} MODE #rust +o bob" not in lines
    assert f":{SERVER} 353 bob = #rust :bob" in lines
    bob.send("TOPIC #rust :mine now")
    assert bob.lines() == [f":{SERVER} 482 bob #rust :You're not channel operator"]


def test_unregistered_rooms_are_unchanged(net: MemoryNetwork) -> None:
    founded(net, "#rust")
    carol = net.irc("carol")
    login(net, carol, "carol")
    carol.send("JOIN #go")
    assert f":{SERVER} 353 carol = #go :@carol" in carol.lines()
    assert "#go" not in net.chat.registered_rooms


def test_topic_and_mode_changes_are_saved_as_they_happen(net: MemoryNetwork) -> None:
    alice = founded(net)
    assert net.storage is not None
    alice.send("TOPIC #rust :first")
    rec = net.storage.room("#rust")
    assert rec is not None and rec.topic == "first"
    alice.send("MODE #rust +s")
    alice.send("MODE #rust +b x!*@*")
    rec = net.storage.room("#rust")
    assert rec is not None
    assert rec.modes == "nst"
    assert [(e.mask, e.set_by) for e in rec.lists["b"]] == [("x!*@*", "alice!~alice@localhost")]
    alice.send("MODE #rust -b x!*@*")
    rec = net.storage.room("#rust")
    assert rec is not None and rec.lists == {}


def test_a_registered_room_survives_a_restart(net: MemoryNetwork) -> None:
    alice = founded(net)
    alice.send("TOPIC #rust :kept")
    alice.send("MODE #rust +k door")
    assert net.storage is not None
    net.storage.commit()

    # A new server process on the same database.
    later = MemoryNetwork(QUIET)
    later.storage = net.storage
    later.chat.attach_storage(net.storage)
    assert later.chat.registered_rooms == {"#rust"}
    alice2 = later.irc("alice")
    alice2.user.account = "alice"
    alice2.send("JOIN #rust")
    lines = alice2.lines()
    assert lines[:3] == [
        ":alice!~alice@localhost JOIN #rust",
        f"{CS} MODE #rust +o alice",
        f":{SERVER} 332 alice #rust :kept",
    ]
    bob = later.irc("bob")
    bob.send("JOIN #rust")
    assert bob.lines() == [f":{SERVER} 475 bob #rust :Cannot join channel (+k)"]
    bob.send("JOIN #rust door")
    assert bob.lines()[0] == ":bob!~bob@localhost JOIN #rust"


# -- the access list --------------------------------------------------------------


def test_amode_gives_an_account_status_on_every_join(net: MemoryNetwork) -> None:
    alice = founded(net)
    bob = net.irc("bob")
    login(net, bob, "bob")
    carol = net.irc("carol")
    login(net, carol, "carol")
    bob.send("JOIN #rust")
    drain(alice, bob)

    # Applied at once to the account's members, as ergo does.
    assert cs(net, alice, "AMODE #rust +o bob") == [
        notice("alice", "Successfully set persistent mode +o on bob"),
        f"{CS} MODE #rust +o bob",
    ]
    assert bob.lines() == [f"{CS} MODE #rust +o bob"]
    assert cs(net, alice, "AMODE #rust +v Carol") == [
        notice("alice", "Successfully set persistent mode +v on Carol")
    ]
    assert cs(net, alice, "AMODE #rust") == [
        notice("alice", "Channel #rust has 3 persistent modes set"),
        notice("alice", "Account alice receives mode +o (founder)"),
        notice("alice", "Account bob receives mode +o"),
        notice("alice", "Account carol receives mode +v"),
    ]
    carol.send("JOIN #rust")
    lines = carol.lines()
    assert lines[:2] == [":carol!~carol@localhost JOIN #rust", f"{CS} MODE #rust +v carol"]
    assert f":{SERVER} 353 carol = #rust :@alice @bob +carol" in lines
    assert alice.lines() == [":carol!~carol@localhost JOIN #rust", f"{CS} MODE #rust +v carol"]

    # A logged-out user on the same nick gets nothing.
    dave = net.irc("dave")
    dave.send("JOIN #rust")
    assert f"{CS} MODE #rust +v dave" not in dave.lines()

    drain(alice, bob, carol)
    assert cs(net, alice, "AMODE #rust -o bob") == [
        notice("alice", "Successfully set persistent mode -o on bob"),
        f"{CS} MODE #rust -o bob",
    ]
    assert cs(net, alice, "AMODE #rust -o bob") == [notice("alice", "No changes were made")]


def test_amode_errors(net: MemoryNetwork) -> None:
    alice = founded(net)
    bob = net.irc("bob")
    login(net, bob, "bob")
    bob.send("JOIN #rust")
    drain(alice, bob)
    assert cs(net, bob, "AMODE #rust +o bob") == [
        notice("bob", "Only the founder of #rust (alice) can do this")
    ]
    assert cs(net, alice, "AMODE #rust +o nobody") == [
        notice("alice", "Account nobody does not exist")
    ]
    assert cs(net, alice, "AMODE #rust +q bob") == [
        notice("alice", "Syntax: AMODE #channel [+o|-o|+v|-v account]")
    ]
    assert cs(net, alice, "AMODE #rust -v alice") == [
        notice("alice", "alice is the founder of #rust and always gets +o")
    ]
    # Anyone may read the list.
    assert cs(net, bob, "AMODE #rust")[0] == notice(
        "bob", "Channel #rust has 1 persistent modes set"
    )


def test_op_deop_voice_devoice_need_access(net: MemoryNetwork) -> None:
    alice = founded(net)
    bob = net.irc("bob")
    login(net, bob, "bob")
    carol = net.irc("carol")
    login(net, carol, "carol")
    for c in (bob, carol):
        c.send("JOIN #rust")
    cs(net, alice, "AMODE #rust +v bob")
    alice.send("MODE #rust -v bob")
    drain(alice, bob, carol)

    assert cs(net, carol, "OP #rust") == [notice("carol", "You have no operator access to #rust")]
    assert cs(net, carol, "VOICE #rust") == [notice("carol", "You have no access to #rust")]
    assert cs(net, bob, "OP #rust") == [notice("bob", "You have no operator access to #rust")]
    assert cs(net, bob, "VOICE #rust carol") == [
        notice("bob", "You need operator access to #rust to do this to others")
    ]
    assert cs(net, bob, "VOICE #rust") == [
        f"{CS} MODE #rust +v bob",
        notice("bob", "Gave +v bob"),
    ]
    assert carol.lines() == [f"{CS} MODE #rust +v bob"]
    assert cs(net, bob, "VOICE #rust") == [notice("bob", "bob already has +v")]
    assert cs(net, bob, "DEVOICE #rust") == [
        f"{CS} MODE #rust -v bob",
        notice("bob", "Took -v bob"),
    ]

    # The founder may act on others.
    alice.send("MODE #rust -o alice")
    drain(alice, bob, carol)
    assert cs(net, alice, "OP #rust") == [
        f"{CS} MODE #rust +o alice",
        notice("alice", "Gave +o alice"),
    ]
    assert cs(net, alice, "OP #rust carol")[1] == notice("alice", "Gave +o carol")
    assert cs(net, alice, "DEOP #rust carol")[1] == notice("alice", "Took -o carol")
    assert cs(net, alice, "DEOP #rust carol") == [notice("alice", "carol does not have +o")]
    assert cs(net, alice, "OP #rust zed") == [notice("alice", "No such nick: zed")]
    net.irc("dave")
    assert cs(net, alice, "OP #rust dave") == [notice("alice", "dave is not in #rust")]

    # Not logged in.
    bob.user.account = ""
    drain(bob)
    assert cs(net, bob, "VOICE #rust")[0].endswith(
        ":You are not logged in to an account (log in with /login or /msg NickServ IDENTIFY)"
    )


def test_op_in_a_registered_room_nobody_is_in(net: MemoryNetwork) -> None:
    alice = founded(net)
    alice.send("PART #rust")
    drain(alice)
    assert cs(net, alice, "OP #rust") == [
        notice("alice", "No such channel: #rust (nobody is in it)")
    ]


def test_info_and_unregister(net: MemoryNetwork) -> None:
    alice = founded(net)
    bob = net.irc("bob")
    login(net, bob, "bob")
    assert cs(net, bob, "INFO #rust") == [
        notice("bob", "Channel #rust is registered"),
        notice("bob", "Founder: alice"),
        notice("bob", "Registered: 1970-01-12 13:46:40 UTC"),
        notice("bob", "Access list: 0 accounts (AMODE #rust lists them)"),
    ]
    assert cs(net, bob, "UNREGISTER #rust") == [
        notice("bob", "Only the founder of #rust (alice) can do this")
    ]
    assert cs(net, alice, "UNREGISTER #rust") == [
        notice("alice", "Channel #rust is now unregistered")
    ]
    assert net.storage is not None and net.storage.room("#rust") is None
    assert cs(net, bob, "INFO #rust") == [notice("bob", "Channel #rust is not registered")]
    # An unregistered room is an ordinary room again: its next creator is its operator.
    alice.send("PART #rust")
    bob.send("JOIN #rust")
    assert f":{SERVER} 353 bob = #rust :@bob" in bob.lines()


# -- dialects and history ---------------------------------------------------------


def test_netcat_users_read_chanserv_in_sentences(net: MemoryNetwork) -> None:
    founded(net)
    eve = net.plain("eve")
    login(net, eve, "eve")
    eve.send("/join #rust")
    drain(eve)
    assert cs(net, eve, "REGISTER #rust") == ["-ChanServ- Room #rust is already registered"]
    assert cs(net, eve, "OP #rust") == ["-ChanServ- You have no operator access to #rust"]
    # netcat reads "room" everywhere (help, syntax, errors); IRC clients keep "channel".
    said = cs(net, eve, "HELP") + cs(net, eve, "INFO") + cs(net, eve, "INFO #nowhere")
    assert "-ChanServ- ChanServ lets you register and manage rooms. Commands:" in said
    assert "-ChanServ- REGISTER #room: register a room you are an operator of; you found it" in said
    assert "-ChanServ- Syntax: INFO #room" in said
    assert "-ChanServ- Room #nowhere is not registered" in said
    assert not [x for x in said if "channel" in x.lower()]
    irc = net.irc("ivy")
    assert notice("ivy", "Syntax: INFO #channel") in cs(net, irc, "INFO")
    assert notice("ivy", "Channel #nowhere is not registered") in cs(net, irc, "INFO #nowhere")


def test_chanserv_answers_echo_braces_as_typed(net: MemoryNetwork) -> None:
    """A value with template braces in it (a nick may have them) is shown, never expanded."""
    alice = founded(net)
    assert cs(net, alice, "OP #rust {room}") == [notice("alice", "No such nick: {room}")]
    assert cs(net, alice, "{Room}x") == [
        notice("alice", "Unknown command {Room}x; HELP lists the commands")
    ]


def test_with_history_on_chanserv_mode_changes_are_history_too() -> None:
    net = MemoryNetwork(storage=True)
    alice = founded(net)
    bob = net.irc("bob")
    login(net, bob, "bob")
    carol = net.irc("carol")
    for c in (bob, carol):
        c.send("JOIN #rust")
    drain(alice, bob, carol)
    cs(net, alice, "AMODE #rust +v bob")
    assert carol.lines() == [f"{CS} MODE #rust +v bob"]
    assert net.storage is not None
    stored = net.storage.query("", "#rust", limit=10, latest=True)
    assert isinstance(stored[-1].event, ModeChange)
    assert stored[-1].event.source == f"ChanServ!ChanServ@services.{SERVER}"


def test_a_deleted_account_loses_its_rooms_and_its_access(net: MemoryNetwork) -> None:
    alice = founded(net, "#rust")
    bob = net.irc("bob")
    login(net, bob, "bob")
    bob.send("JOIN #go")
    cs(net, bob, "REGISTER #go")
    cs(net, bob, "AMODE #go +o alice")
    cs(net, alice, "AMODE #rust +o bob")
    cs(net, alice, "TRANSFER #rust bob")
    registered.forget_account(net.chat, "Bob")
    assert net.chat.registered_rooms == {"#rust"}
    assert net.storage is not None
    rec = net.storage.room("#rust")
    # Whoever registers "bob" next can neither accept the offer nor inherit its access.
    assert rec is not None and rec.access == {} and rec.transfer_to == ""
    assert net.storage.room("#go") is None


def test_netcat_users_see_chanserv_mode_changes_in_words(net: MemoryNetwork) -> None:
    alice = founded(net)
    eve = net.plain("eve")
    login(net, eve, "eve")
    eve.send("/join #rust")
    drain(eve)
    cs(net, alice, "AMODE #rust +v eve")
    assert eve.lines() == ["*** ChanServ sets mode +v eve on #rust"]


def test_cs_command_and_netcat_alias_reach_chanserv(net: MemoryNetwork) -> None:
    alice = founded(net)
    alice.send("CS INFO #rust")
    assert alice.lines()[:2] == [
        notice("alice", "Channel #rust is registered"),
        notice("alice", "Founder: alice"),
    ]
    eve = net.plain("eve")
    eve.send("/cs INFO #rust")
    assert eve.lines()[:2] == [
        "-ChanServ- Room #rust is registered",
        "-ChanServ- Founder: alice",
    ]


# -- TRANSFER and CLEAR -----------------------------------------------------------


def test_transfer_takes_effect_when_the_new_founder_accepts(net: MemoryNetwork) -> None:
    alice = founded(net)
    bob = net.irc("bob")
    login(net, bob, "bob")
    assert cs(net, bob, "TRANSFER #rust bob") == [
        notice("bob", "Only the founder of #rust (alice) can do this")
    ]
    assert cs(net, alice, "TRANSFER #rust nobody") == [
        notice("alice", "Account nobody does not exist")
    ]
    assert cs(net, bob, "TRANSFER ACCEPT #rust") == [notice("bob", "#rust was not offered to bob")]
    assert cs(net, alice, "TRANSFER #rust Bob") == [
        notice(
            "alice",
            "#rust is offered to bob; it becomes founder when it sends: "
            "/msg ChanServ TRANSFER ACCEPT #rust",
        )
    ]
    record = registered.record(net.chat, "#rust")
    assert record is not None and record.founder == "alice", "nothing changes before accepting"
    assert cs(net, bob, "TRANSFER ACCEPT #rust") == [
        notice("bob", "You are now the founder of #rust")
    ]
    record = registered.record(net.chat, "#rust")
    assert record is not None
    assert (record.founder, record.transfer_to) == ("bob", "")
    assert record.access == {"alice": "o"}, "the former founder keeps operator access"
    # The new founder can do what only the founder may; the old one no longer.
    assert cs(net, alice, "UNREGISTER #rust") == [
        notice("alice", "Only the founder of #rust (bob) can do this")
    ]
    assert cs(net, bob, "AMODE #rust -o alice") == [
        notice("bob", "Successfully set persistent mode -o on alice")
    ]


def test_clear_empties_the_access_list_or_lifts_every_ban(net: MemoryNetwork) -> None:
    alice = founded(net)
    watcher = net.irc("watcher")
    watcher.send("JOIN #rust")
    drain(watcher)
    for account in ("bob", "carol"):
        assert net.storage is not None
        net.storage.save_account(account, Account(account, "argon2-not-used", ""))
        cs(net, alice, f"AMODE #rust +v {account}")
    masks = [f"spam{i}!*@*" for i in range(6)]
    alice.send("MODE #rust +bbbb " + " ".join(masks[:4]))
    alice.send("MODE #rust +bb " + " ".join(masks[4:]))
    drain(alice)
    drain(watcher)
    assert cs(net, watcher, "CLEAR #rust BANS") == [
        notice(
            "watcher",
            "You are not logged in to an account (log in with /login or /msg NickServ IDENTIFY)",
        )
    ]
    assert cs(net, alice, "CLEAR #rust everything") == [
        notice("alice", "Syntax: CLEAR #channel ACCESS|BANS")
    ]
    assert cs(net, alice, "CLEAR #rust ACCESS") == [
        notice("alice", "Cleared 2 access entries of #rust")
    ]
    lines = cs(net, alice, "CLEAR #rust bans")
    assert lines[-1] == notice("alice", "Lifted 6 bans in #rust")
    # Everyone in the room sees ChanServ lift them, at most MODES (4) a line.
    assert watcher.lines() == [
        f"{CS} MODE #rust -bbbb " + " ".join(masks[:4]),
        f"{CS} MODE #rust -bb " + " ".join(masks[4:]),
    ]
    record = registered.record(net.chat, "#rust")
    assert record is not None
    assert record.access == {} and not record.lists.get("b")
