"""What users can make the server hold is bounded, by ``[limits]`` keys, and reported.

Invitations expire (``invite_expiry``, on the hand-moved clock) and are
capped per room and per inviter, the oldest going first; they end with
their invitee and their room. MONITOR (``max_monitor``), WHOWAS
(``max_whowas``), the mask lists (``max_list_entries``), rooms per user
and registered rooms per account are bounded by config, and the bounds an
IRC token exists for are advertised in ISUPPORT. ``STATS z`` shows an
operator what is held.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ircish.config import Config, LimitsConfig, OperatorConfig
from ircish.core.handlers.stats import memory_report
from tests.helpers import MemoryClient, MemoryNetwork, drain
from tests.unit.test_operators_config import cheap_hash

S = "ircish.local"


def network(*, storage: bool = False, **limits: Any) -> MemoryNetwork:
    config = replace(Config(), limits=replace(LimitsConfig(), **limits))
    return MemoryNetwork(config, storage=storage)


def locked_room(net: MemoryNetwork, nick: str = "op", room: str = "#sec") -> MemoryClient:
    """``nick``, operator of an invite-only ``room``."""
    op = net.irc(nick)
    op.send(f"JOIN {room}")
    op.send(f"MODE {room} +i")
    op.lines()
    return op


def joins(client: MemoryClient, room: str = "#sec") -> bool:
    """Whether ``client`` gets into ``room`` (an invitation passes +i)."""
    client.lines()
    client.send(f"JOIN {room}")
    lines = client.lines()
    if lines[0].endswith(f" 473 {client.user.nick} {room} :Cannot join channel (+i)"):
        return False
    assert f" JOIN {room}" in lines[0], lines
    return True


def pending(net: MemoryNetwork) -> int:
    net.chat.rooms.invitations.sweep(net.now)
    return len(net.chat.rooms.invitations)


# -- invitations ------------------------------------------------------------------


def test_an_invitation_expires() -> None:
    net = network(invite_expiry=60)
    op = locked_room(net)
    early, late = net.irc("early"), net.irc("late")
    op.send("INVITE early #sec")
    op.send("INVITE late #sec")
    net.advance(59)
    assert joins(early)
    net.advance(2)
    assert not joins(late)
    assert pending(net) == 0


def test_a_renewed_invitation_gets_a_new_expiry() -> None:
    net = network(invite_expiry=60)
    op = locked_room(net)
    guest = net.irc("guest")
    op.send("INVITE guest #sec")
    net.advance(50)
    op.send("INVITE guest #sec")
    net.advance(50)
    assert joins(guest)


def test_a_room_keeps_its_newest_invitations() -> None:
    net = network(max_invites_per_room=3)
    ops = [net.irc(name) for name in ("op", "op2", "op3")]
    for op in ops:
        op.send("JOIN #sec")
    ops[0].send("MODE #sec +ioo op2 op3")
    guests = [net.irc(f"g{i}") for i in range(4)]
    for i, guest in enumerate(guests):
        # Different inviters: the room's cap, not an inviter's, drops the first.
        ops[i % 3].send(f"INVITE {guest.user.nick} #sec")
    assert net.chat.rooms.invitations.in_room("#sec") == 3
    assert not joins(guests[0])
    assert all(joins(g) for g in guests[1:])


def test_an_inviter_keeps_their_newest_invitations_across_rooms() -> None:
    net = network(max_invites_per_user=2)
    op = locked_room(net, room="#a")
    op.send("JOIN #b")
    op.send("MODE #b +i")
    other = locked_room(net, "other", room="#c")
    a, b, c, d = (net.irc(x) for x in "abcd")
    op.send("INVITE a #a")
    op.send("INVITE b #b")
    other.send("INVITE d #c")
    op.send("INVITE c #a")
    drain(op, other)
    assert not joins(a, "#a")
    assert joins(b, "#b") and joins(c, "#a")
    # Another inviter's invitations are not theirs to push out.
    assert joins(d, "#c")


def test_invitations_go_with_their_invitees() -> None:
    # The trial of the issue, scaled down: invitees who never join, then leave.
    net = network()
    op = locked_room(net)
    guests = [net.irc(f"g{i}") for i in range(30)]
    for guest in guests:
        op.send(f"INVITE {guest.user.nick} #sec")
    assert pending(net) == 30
    for guest in guests:
        guest.send("QUIT")
    assert pending(net) == 0


def test_invitations_go_with_their_room() -> None:
    net = network()
    op = locked_room(net)
    net.irc("guest")
    op.send("INVITE guest #sec")
    op.send("PART #sec")
    assert pending(net) == 0


def test_an_invitation_is_used_once() -> None:
    net = network()
    op = locked_room(net)
    guest = net.irc("guest")
    op.send("INVITE guest #sec")
    assert joins(guest)
    guest.send("PART #sec")
    assert pending(net) == 0
    assert not joins(guest)


# -- MONITOR, WHOWAS, mask lists, rooms --------------------------------------------


def isupport(client: MemoryClient) -> set[str]:
    client.send("VERSION")
    return {tok for line in client.lines() if " 005 " in line for tok in line.split()}


def test_monitor_is_bounded_by_config() -> None:
    net = network(max_monitor=3)
    watcher = net.irc("watcher")
    assert "MONITOR=3" in isupport(watcher)
    watcher.send("MONITOR + a,b,c,d,e")
    assert watcher.lines()[-1] == f":{S} 734 watcher 3 d,e :Monitor list is full"
    assert len(watcher.client.monitoring) == 3


def test_whowas_is_bounded_by_config() -> None:
    net = network(max_whowas=2)
    asker = net.irc("asker")
    for nick in ("one", "two", "three"):
        net.irc(nick).send("QUIT")
    assert [e.nick for e in net.chat.whowas] == ["two", "three"]
    asker.send("WHOWAS one")
    assert asker.lines() == [
        f":{S} 406 asker one :There was no such nickname",
        f":{S} 369 asker one :End of WHOWAS",
    ]


def test_mask_lists_are_bounded_by_config() -> None:
    net = network(max_list_entries=2)
    op = net.irc("op")
    assert "MAXLIST=beI:2" in isupport(op)
    op.send("JOIN #r")
    op.lines()
    op.send("MODE #r +beI a!*@* b!*@* c!*@*")
    lines = op.lines()
    assert lines == [
        f":{S} 478 op #r I :Channel list is full",
        ":op!~op@localhost MODE #r +be a!*@* b!*@*",
    ]


def test_rooms_per_user_are_bounded_by_config() -> None:
    net = network(max_rooms_per_user=2)
    user = net.irc("user")
    assert "CHANLIMIT=#:2" in isupport(user)
    user.send("JOIN #a,#b,#c")
    assert user.lines()[-1] == f":{S} 405 user #c :You have joined too many channels"


def test_registered_rooms_per_account_are_bounded_by_config() -> None:
    net = network(storage=True, max_registered_rooms=1)
    alice = net.irc("alice")
    alice.send("REGISTER * * correct-horse")
    alice.send("JOIN #a,#b")
    drain(alice)
    alice.send("CS REGISTER #a")
    assert "successfully registered" in alice.lines()[0]
    alice.send("CS REGISTER #b")
    assert alice.lines() == [
        ":ChanServ!ChanServ@services.ircish.local NOTICE alice :alice already founded 1 "
        "registered channels, the most one account may have; unregister one first"
    ]
    alice.send("CS UNREGISTER #a")
    alice.send("CS REGISTER #b")
    assert "successfully registered" in alice.lines()[-1]


# -- the memory report ------------------------------------------------------------


@pytest.fixture
def opnet() -> MemoryNetwork:
    config = replace(Config(), operators=(OperatorConfig("admin", cheap_hash("pw")),))
    return MemoryNetwork(config)


def test_stats_z_reports_what_is_held(opnet: MemoryNetwork) -> None:
    admin = opnet.irc("admin")
    admin.send("OPER admin pw")
    op = locked_room(opnet)
    opnet.irc("guest")
    op.send("INVITE guest #sec")
    admin.send("MONITOR + a,b")
    opnet.irc("gone").send("QUIT")
    drain(admin)
    admin.send("STATS z")
    lines = admin.lines()
    assert lines[-1] == f":{S} 219 admin z :End of /STATS report"
    report = [line.partition(" :")[2] for line in lines[:-1]]
    assert all(f" 249 admin z :{text}" in line for line, text in zip(lines, report, strict=False))
    assert report == memory_report(opnet.chat)
    assert report[0].startswith("users 3 (most 4), connections 3 (0 not registered)")
    assert "invitations 1 (at most 100 per room, 50 per inviter, for 3600 s)" in report
    assert "monitor entries 2 for 2 nicknames (at most 100 per connection)" in report
    assert "whowas entries 1 of 1000" in report


def test_stats_is_for_operators(opnet: MemoryNetwork) -> None:
    user = opnet.irc("user")
    user.send("STATS z")
    assert user.lines() == [f":{S} 481 user :Permission Denied- You're not an IRC operator"]


def test_stats_with_an_unknown_letter_ends_at_once(opnet: MemoryNetwork) -> None:
    admin = opnet.irc("admin")
    admin.send("OPER admin pw")
    drain(admin)
    admin.send("STATS q")
    assert admin.lines() == [f":{S} 219 admin q :End of /STATS report"]


def test_a_netcat_operator_reads_the_memory_report(opnet: MemoryNetwork) -> None:
    admin = opnet.plain("admin")
    admin.send("/oper admin pw")
    drain(admin)
    admin.send("/stats z")
    lines = admin.lines()
    assert lines[0].startswith("*** users 1 (most 1), connections 1 (0 not registered)")
    assert lines[-1] == "*** End of /stats z"
