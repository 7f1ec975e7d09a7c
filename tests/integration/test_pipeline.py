"""The delivery pipeline: events stamped once, addressed to audiences, rendered per key.

These run real sessions on one ``Chat`` (``MemoryNetwork``) and look at what
each recipient got and at what the store and publish hooks were handed.
"""

from __future__ import annotations

import re
import string

import pytest

from ircish.core import events as ev
from ircish.core.pipeline import MsgIdMinter
from ircish.protocol.message import Message
from tests.helpers import MemoryClient, MemoryNetwork, drain

TAGGED = "message-tags server-time echo-message"


def tags_of(client: MemoryClient, verb: str) -> list[dict[str, str]]:
    """The tags of every line with ``verb`` that ``client`` received since the last read."""
    return [m.tags for m in client.messages() if m.verb == verb]


@pytest.fixture
def hooks(net: MemoryNetwork) -> dict[str, list[ev.Envelope]]:
    seen: dict[str, list[ev.Envelope]] = {"store": [], "publish": []}
    net.chat.store = seen["store"].extend
    net.chat.publish = seen["publish"].extend
    return seen


def test_one_msgid_and_time_in_every_copy(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps=TAGGED)
    bob = net.irc("bob", caps=TAGGED)
    carol = net.irc("carol", caps="message-tags")
    dave = net.irc("dave")
    for c in (alice, bob, carol, dave):
        c.send("JOIN #dev")
    erin = net.plain("erin")
    erin.send("/join #dev")
    drain(alice, bob, carol, dave, erin)
    net.now += 12.345
    alice.send("PRIVMSG #dev :hello")
    echo, bobs, carols = (
        tags_of(alice, "PRIVMSG"),
        tags_of(bob, "PRIVMSG"),
        tags_of(carol, "PRIVMSG"),
    )
    assert len(echo) == len(bobs) == len(carols) == 1
    assert echo[0]["msgid"] == bobs[0]["msgid"] == carols[0]["msgid"]
    assert echo[0]["time"] == bobs[0]["time"] == "1970-01-12T13:46:52.345Z"
    assert "time" not in carols[0], "carol did not ask for server-time"
    assert [m.tags for m in dave.messages()] == [{}], "no tags without the caps"
    assert erin.lines() == ["[#dev] <alice> hello"]


def test_each_event_gets_its_own_msgid(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps=TAGGED)
    alice.send("JOIN #dev")
    alice.lines()
    alice.send("PRIVMSG #dev :one")
    alice.send("PRIVMSG #dev :two")
    alice.send("PRIVMSG #dev,alice :three")
    ids = [t["msgid"] for t in tags_of(alice, "PRIVMSG")]
    # The message to herself comes twice (delivered, and its echo), with one msgid.
    assert len(ids) == 5
    assert len(set(ids)) == 4


def test_msgids_are_url_safe_unique_and_sort_by_time() -> None:
    minter = MsgIdMinter()
    ids = [minter.mint(1_700_000_000.0 + i / 1000) for i in range(2000)]
    allowed = set(string.hexdigits.lower())
    assert all(len(x) == 29 and set(x) <= allowed for x in ids)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    # A second process (or a restart) never mints the same id in the same millisecond.
    other = MsgIdMinter()
    assert not {other.mint(1_700_000_000.0) for _ in range(100)} & set(ids)


def test_replies_carry_the_command_time_but_no_msgid(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps=TAGGED)
    net.now = 2_000_000.5
    alice.send("MOTD")
    motd = alice.messages()
    assert [m.verb for m in motd] == ["375", "372", "376"]
    assert {m.tags.get("time") for m in motd} == {"1970-01-24T03:33:20.500Z"}
    assert not any("msgid" in m.tags for m in motd)


def test_store_and_publish_hooks_get_stamped_events(
    net: MemoryNetwork, hooks: dict[str, list[ev.Envelope]]
) -> None:
    alice = net.irc("alice", caps=TAGGED)
    alice.send("JOIN #dev")
    alice.send("@+typing=active TAGMSG #dev")
    alice.send("PRIVMSG #dev :kept")
    alice.send("WHOIS alice")  # replies only: nothing stored or published
    stored = [type(e.event).__name__ for e in hooks["store"]]
    published = [type(e.event).__name__ for e in hooks["publish"]]
    # TAGMSG is kept too: draft/event-playback replays it (others never see it replayed).
    assert stored == published == ["Join", "TagMsg", "Privmsg"]
    msg = hooks["store"][-1]
    assert isinstance(msg.event, ev.Privmsg)
    assert msg.audience == ev.ToRoom("#dev")
    assert msg.time == net.now
    received = tags_of(alice, "PRIVMSG")
    assert received[-1]["msgid"] == msg.msgid, "the stored copy is the delivered copy"


def test_audience_of_a_quit_is_the_rooms_at_the_time(
    net: MemoryNetwork, hooks: dict[str, list[ev.Envelope]]
) -> None:
    alice = net.irc("alice")
    bob = net.irc("bob")
    carol = net.irc("carol")
    alice.send("JOIN #a,#b")
    bob.send("JOIN #a")
    carol.send("JOIN #b")
    drain(alice, bob, carol)
    hooks["publish"].clear()
    alice.send("QUIT :bye")
    [quit_env] = hooks["publish"]
    assert quit_env.audience == ev.ToPeers(alice.user.uid, ("#a", "#b"))
    assert bob.lines() == [":alice!~alice@localhost QUIT :Quit: bye"]
    assert carol.lines() == [":alice!~alice@localhost QUIT :Quit: bye"]
    assert net.chat.rooms.get("#a") is not None, "bob keeps #a"


def test_parting_and_kicked_users_see_their_own_departure(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    bob = net.irc("bob")
    carol = net.plain("carol")
    alice.send("JOIN #dev")
    bob.send("JOIN #dev")
    carol.send("/join #dev")
    drain(alice, bob, carol)
    alice.send("KICK #dev bob :out")
    kick = ":alice!~alice@localhost KICK #dev bob :out"
    assert alice.lines() == [kick]
    assert bob.lines() == [kick]
    assert carol.lines() == ["*** alice kicked bob from #dev (out)"]
    carol.send("/part #dev")
    assert carol.lines()[0] == "*** carol left #dev"
    assert alice.lines() == [":carol!~plain@localhost PART #dev"]


def test_a_command_output_keeps_its_order(net: MemoryNetwork) -> None:
    """JOIN: the join line, then topic and names, for the joiner; the others see the join."""
    alice = net.irc("alice")
    alice.send("JOIN #dev")
    alice.send("TOPIC #dev :plans")
    alice.lines()
    bob = net.irc("bob")
    bob.send("JOIN #dev,#other")
    verbs = [m.verb for m in bob.messages()]
    assert verbs == ["JOIN", "332", "333", "353", "366", "JOIN", "353", "366"]
    assert [m.verb for m in alice.messages()] == ["JOIN"]


def test_store_runs_before_any_byte_is_queued(net: MemoryNetwork) -> None:
    """History will commit in the store stage: nothing of the command is queued before it."""
    alice = net.irc("alice")
    bob = net.irc("bob")
    alice.send("JOIN #dev")
    bob.send("JOIN #dev")
    drain(alice, bob)
    queued_at_store: list[int] = []
    net.chat.store = lambda envs: queued_at_store.append(len(bob.sink.data) + len(alice.sink.data))
    before = len(bob.sink.data) + len(alice.sink.data)
    alice.send("PRIVMSG #dev :first")
    assert queued_at_store == [before]
    assert bob.lines() == [":alice!~alice@localhost PRIVMSG #dev :first"]


def test_labeled_response_wraps_one_commands_output(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps="labeled-response batch")
    alice.send("@label=a1 JOIN #dev")
    lines = alice.lines()
    assert re.fullmatch(r"@label=a1 :ircish\.local BATCH \+(\S+) labeled-response", lines[0])
    ref = lines[0].split()[3][1:]
    assert lines[-1] == f":ircish.local BATCH -{ref}"
    assert all(x.startswith(f"@batch={ref} ") for x in lines[1:-1])
    assert [Message.parse(x).verb for x in lines[1:-1]] == ["JOIN", "353", "366"]
    alice.send("@label=a2 PONG :x")
    assert alice.lines() == ["@label=a2 :ircish.local ACK"]
    alice.send("@label=a3 MODE alice")
    assert alice.lines() == ["@label=a3 :ircish.local 221 alice +"]


def test_other_users_output_is_not_labeled(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps="labeled-response batch")
    bob = net.irc("bob", caps="labeled-response batch")
    alice.send("JOIN #dev")
    bob.send("JOIN #dev")
    drain(alice, bob)
    bob.send("@label=b1 PRIVMSG #dev :hi")
    assert alice.lines() == [":bob!~bob@localhost PRIVMSG #dev :hi"]
    assert bob.lines() == ["@label=b1 :ircish.local ACK"], "no echo-message: just ACK"


def test_render_cache_follows_cap_changes(net: MemoryNetwork) -> None:
    """A member who turns on server-time after joining gets timed lines at once."""
    alice = net.irc("alice")
    bob = net.irc("bob")
    alice.send("JOIN #dev")
    bob.send("JOIN #dev")
    alice.send("PRIVMSG #dev :one")
    bob.lines()
    bob.send("CAP REQ :server-time")
    bob.lines()
    alice.send("PRIVMSG #dev :two")
    [line] = bob.lines()
    assert line.startswith("@time=")


def test_a_second_client_of_a_user_is_reached(net: MemoryNetwork) -> None:
    """Audiences resolve to every local client of a user (one account on two devices)."""
    alice = net.irc("alice")
    bob = net.irc("bob")
    alice.send("JOIN #dev")
    bob.send("JOIN #dev")
    drain(alice, bob)
    # A second connection attached to bob's user, as an account session would be.
    second = net.connect("irc")
    user = bob.user
    extra = second.client
    net.chat.clients.discard(extra)
    extra.user.clients.remove(extra)
    extra.user = user
    user.clients.append(extra)
    for room in user.rooms.values():
        room.forget_targets()
    alice.send("PRIVMSG #dev :both of you")
    assert bob.lines() == [":alice!~alice@localhost PRIVMSG #dev :both of you"]
    assert second.lines() == [":alice!~alice@localhost PRIVMSG #dev :both of you"]
