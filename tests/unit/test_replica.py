"""Two chat cores in memory, bridged through the codec the way Redis bridges processes.

Each ``MemoryNetwork`` publishes its commands' envelopes; the bridge
encodes them to JSON (``core.codec``) and the other core applies them
(``core.replica``), as ``net.cluster`` does with a stream in between. What a
user of one core sees of a user of the other is asserted in their own lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ircish.config import Config
from ircish.core import accounts, codec, replica
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


class Hub(Bridge):
    """A core's seam to several others; while ``held`` (Redis away) entries wait there."""

    def __init__(self, here: MemoryNetwork, node: str) -> None:
        super().__init__(here, node)
        self.peers: list[Hub] = []
        self.held: list[str] | None = None

    def _send(self, entry: str) -> None:
        if self.held is not None:
            self.held.append(entry)
            return
        for peer in self.peers:
            peer.receive(entry)

    def release(self) -> None:
        held, self.held = self.held or [], None
        for entry in held:
            self._send(entry)


def mesh(count: int) -> tuple[list[MemoryNetwork], list[Hub]]:
    cores = [MemoryNetwork() for _ in range(count)]
    hubs = [Hub(core, f"{chr(ord('a') + i)}/1") for i, core in enumerate(cores)]
    for hub in hubs:
        hub.peers = [h for h in hubs if h is not hub]
    return cores, hubs


def test_published_envelopes_carry_the_actors_and_targets_uids() -> None:
    a, b = pair()
    alice = a.irc("alice")
    b.irc("bob")
    alice.send("JOIN #x")
    published: list[Envelope] = []
    a.chat.publish = published.extend
    alice.send("PRIVMSG #x :hi")
    alice.send("INVITE bob #x")
    items = codec.decode_envelopes(
        codec.decode(codec.encode_batch("a/1", replica.outgoing(a.chat, published).items))
    )
    bob_uid = a.chat.users.get("bob").uid  # type: ignore[union-attr]
    uids = {(type(env.event).__name__, extra.get("a"), extra.get("t")) for env, extra in items}
    assert uids == {("Privmsg", alice.user.uid, None), ("Invite", alice.user.uid, bob_uid)}


def test_an_entry_without_the_actors_uid_is_resolved_by_nick() -> None:
    a, b = pair()
    alice = a.irc("alice")
    alice.send("JOIN #x")
    alice_on_b = b.chat.users.get("alice")
    assert alice_on_b is not None
    # An entry written before the uid went along: no "a" in its extra.
    entry = codec.decode(
        '{"v": 1, "n": "a/1", "k": "e", "e": [["AwayChange", '
        f'["{alice.user.mask}", "alice", "lunch"], "ToRoom", ["#x", [], "", []], '
        '"0123456789abcdef0123456789a", 1000000.0, [], false, "", {}]]}'
    )
    # (An away change really goes to peers; a room audience makes the nick the only clue.)
    replica.apply(b.chat, codec.decode_envelopes(entry))
    assert alice_on_b.away == "lunch"


def test_two_users_with_one_nickname_after_an_outage_stay_apart_on_a_third_core() -> None:
    (a, b, c), hubs = mesh(3)
    carol = c.irc("carol")
    carol.send("JOIN #x")
    carol.send("JOIN #y")
    for hub in hubs:
        hub.held = []  # Redis away: each core takes "alice" without a claim
    alice_a = a.irc("alice")
    alice_b = b.irc("alice")
    alice_a.send("JOIN #x")
    alice_b.send("JOIN #y")
    alice_b.send("AWAY :on b")
    carol.lines()
    for hub in hubs:
        hub.release()  # a's entries reach the stream first
    alice_on_c = c.chat.users.get("alice")
    assert alice_on_c is not None and alice_on_c.uid == alice_a.user.uid
    # b's alice was refused on c (her nickname was taken there): her join and away are
    # neither applied to a's alice nor shown.
    assert set(alice_on_c.rooms) == {"#x"} and alice_on_c.away is None
    assert [m.params for m in carol.messages() if m.verb == "JOIN"] == [("#x",)]
    # b's alice loses the nick: renamed, then announced again (as net.cluster does), she is
    # a user of her own on c.
    with b.chat.outbox():
        replica.nick_taken_elsewhere(b.chat, alice_b.user, "Guest1")
    hubs[1].user_registered(alice_b.user)
    hubs[1].publish(replica.announcement(b.chat, alice_b.user))
    guest = c.chat.users.get("Guest1")
    assert guest is not None and guest.uid == alice_b.user.uid
    assert set(guest.rooms) == {"#y"} and c.chat.users.get("alice") is alice_on_c
    alice_b.send("PRIVMSG #y :from b")
    alice_a.send("PRIVMSG #x :from a")
    seen = [(m.verb, m.source.split("!")[0], m.params) for m in carol.messages()]
    assert seen == [
        ("JOIN", "Guest1", ("#y",)),
        ("PRIVMSG", "Guest1", ("#y", "from b")),
        ("PRIVMSG", "alice", ("#x", "from a")),
    ]


def test_a_user_whose_nickname_another_process_holds_is_renamed_with_a_notice() -> None:
    net = MemoryNetwork()
    alice = net.plain("alice")
    bob = net.irc("bob")
    bob.send("JOIN #lobby")
    bob.lines()
    alice.lines()
    with net.chat.outbox():
        replica.nick_taken_elsewhere(net.chat, alice.user, "Guest7")
    assert alice.lines() == [
        "*** Your nickname alice was taken on another server while the network was degraded, "
        "and that server holds it: you are now Guest7.",
        "*** alice is now known as Guest7",
    ]
    assert [(m.verb, m.source.split("!")[0], m.params) for m in bob.messages()] == [
        ("NICK", "alice", ("Guest7",))
    ]
    assert net.chat.users.get("alice") is None and net.chat.users.get("Guest7") is alice.user


def test_a_renamed_users_nickname_is_made_of_their_uid() -> None:
    net = MemoryNetwork()
    alice = net.plain("alice")
    nick = accounts.uid_nick(net.chat, alice.user)
    assert nick == "Guest" + alice.user.uid.replace("-", "")
    # Too long for the configured limit: a guest nickname instead.
    short = MemoryNetwork(replace(Config(), limits=replace(Config().limits, max_nick_length=9)))
    bob = short.plain("bob")
    assert accounts.uid_nick(short.chat, bob.user).startswith("Guest")
    assert len(accounts.uid_nick(short.chat, bob.user)) <= 9
