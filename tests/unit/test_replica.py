"""Two chat cores in memory, bridged through the codec the way Redis bridges processes.

Each ``MemoryNetwork`` publishes its commands' envelopes; the bridge
encodes them to JSON (``core.codec``) and the other core applies them
(``core.replica``), as ``net.cluster`` does with a stream in between. What a
user of one core sees of a user of the other is asserted in their own lines.
"""

from __future__ import annotations

from collections.abc import Callable

from ircish.core import codec, replica
from ircish.core.events import Envelope
from ircish.core.users import User
from tests.helpers import MemoryNetwork


class Bridge:
    """The network seam of one core: entries go to the other core at once."""

    def __init__(self, here: MemoryNetwork, node: str) -> None:
        self.here = here
        self.node = node
        self.peer: Bridge | None = None
        self.claimed: dict[str, str] = {}
        here.chat.publish = self.publish
        here.chat.network = self

    def publish(self, envelopes: list[Envelope]) -> None:
        out = replica.outgoing(self.here.chat, envelopes)
        self._send(codec.encode_batch(self.node, out.items))

    def user_registered(self, user: User) -> None:
        self._send(codec.encode_user_entry(self.node, user))

    def claim_nick(self, user: User, nick: str, done: Callable[[bool], None]) -> None:
        done(True)

    def _send(self, entry: str) -> None:
        assert self.peer is not None
        self.peer.receive(entry)

    def receive(self, entry: str) -> None:
        obj = codec.decode(entry)
        chat = self.here.chat
        if obj["k"] == "u":
            with chat.remote([]):
                replica.add_user(chat, obj["u"])
        else:
            replica.apply(chat, codec.decode_envelopes(obj))


def pair() -> tuple[MemoryNetwork, MemoryNetwork]:
    a, b = MemoryNetwork(), MemoryNetwork()
    ba, bb = Bridge(a, "a/1"), Bridge(b, "b/1")
    ba.peer, bb.peer = bb, ba
    return a, b


def test_a_room_spans_both_cores_with_one_msgid() -> None:
    a, b = pair()
    alice = a.irc("alice", caps="message-tags server-time")
    bob = b.irc("bob", caps="message-tags server-time echo-message")
    alice.send("JOIN #rust")
    bob.send("JOIN #rust")
    assert any(m.verb == "JOIN" and m.source.startswith("bob!") for m in alice.messages())
    names = [m for m in bob.messages() if m.verb == "353"]
    assert names and set(names[0].params[-1].split()) == {"@alice", "bob"}
    bob.send("PRIVMSG #rust :hello")
    got = [m for m in alice.messages() if m.verb == "PRIVMSG"]
    assert [m.params for m in got] == [("#rust", "hello")]
    # The msgid and time minted on bob's core, which bob's echo shows.
    echo = [m for m in bob.messages() if m.verb == "PRIVMSG"]
    assert echo[0].tags["msgid"] == got[0].tags["msgid"]
    assert echo[0].tags["time"] == got[0].tags["time"]


def test_state_changes_follow_on_the_other_core() -> None:
    a, b = pair()
    alice = a.irc("alice")
    bob = b.irc("bob")
    alice.send("JOIN #ops")
    bob.send("JOIN #ops")
    alice.send("MODE #ops +o bob")
    alice.send("TOPIC #ops :on both")
    room_b = b.chat.rooms.get_or_create("#ops", 0)[0]
    assert room_b.topic == "on both"
    bob_b = b.chat.users.get("bob")
    assert bob_b is not None and room_b.members[bob_b] == "o"
    bob.send("NICK robert")
    assert a.chat.users.get("robert") is not None and a.chat.users.get("bob") is None
    assert any(m.verb == "NICK" for m in alice.messages())
    alice.send("KICK #ops robert :out")
    assert b.chat.users.get("robert") not in room_b.members
    alice.send("AWAY :gone")
    alice_b = b.chat.users.get("alice")
    assert alice_b is not None and alice_b.away == "gone"
    alice.send("QUIT :bye")
    assert b.chat.users.get("alice") is None
    assert b.chat.rooms.by_key("#ops") is None
    # robert was kicked, so shares no room with alice: no quit for him.
    assert [m for m in bob.messages() if m.verb == "QUIT"] == []


def test_private_messages_and_whois_across_cores() -> None:
    a, b = pair()
    alice = a.plain("alice")
    bob = b.irc("bob")
    alice.send("/msg bob hi there")
    assert [m.params for m in bob.messages() if m.verb == "PRIVMSG"] == [("bob", "hi there")]
    bob.send("WHOIS alice")
    whois = [m for m in bob.messages() if m.verb == "311"]
    assert whois and whois[0].params[1] == "alice"
    bob.send("PRIVMSG alice :back")
    assert "[private] <bob> back" in alice.lines()


def test_a_lost_nodes_users_quit_and_a_snapshot_rebuilds_the_state() -> None:
    a, b = pair()
    alice = a.irc("alice")
    bob = b.irc("bob")
    alice.send("JOIN #x")
    bob.send("JOIN #x")
    alice.lines()
    # A third core learns the network from records, as from the Redis snapshot.
    c = MemoryNetwork()
    users = {u.uid: codec.user_record(u, "b/1") for u in b.chat.users if not u.node}
    users |= {u.uid: codec.user_record(u) for u in b.chat.users if u.node}
    rooms = {r.folded: codec.room_record(r) for r in b.chat.rooms}
    replica.load_snapshot(c.chat, users, rooms, "c/1")
    room = c.chat.rooms.by_key("#x")
    assert room is not None and {u.nick for u in room.members} == {"alice", "bob"}
    assert room.prefix_of(c.chat.users.get("alice")) == "@"  # type: ignore[arg-type]
    # b is lost: its users quit on a, with the reason everyone sees.
    assert replica.node_lost(a.chat, "b/1", "node lost") == 1
    quits = [m for m in alice.messages() if m.verb == "QUIT"]
    assert [(m.source.split("!")[0], m.params) for m in quits] == [("bob", ("node lost",))]


def test_bad_entries_are_refused() -> None:
    for bad in ("", "[]", '{"v": 2, "n": "x", "k": "e"}', '{"v": 1, "n": 3, "k": "e"}'):
        try:
            codec.decode(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
    obj = codec.decode('{"v": 1, "n": "x", "k": "e", "e": [["Nope", [], "ToRoom", ["#a"]]]}')
    try:
        codec.decode_envelopes(obj)
    except ValueError:
        pass
    else:
        raise AssertionError("a malformed envelope was accepted")


def test_an_operator_kills_a_user_of_the_other_core() -> None:
    a, b = pair()
    alice = a.irc("alice")
    bob = b.irc("bob")
    alice.send("JOIN #x")
    bob.send("JOIN #x")
    alice.user.modes = alice.user.modes | {"o"}
    alice.lines()
    alice.send("KILL bob :spamming")
    got = bob.messages()
    assert [m.verb for m in got if m.verb in ("KILL", "ERROR")] == ["KILL", "ERROR"]
    assert bob.sink.closed
    assert b.chat.users.get("bob") is None and a.chat.users.get("bob") is None
    quits = [m for m in alice.messages() if m.verb == "QUIT"]
    assert [m.params[-1] for m in quits] == ["Killed (alice (spamming))"]
