"""IRCv3 message features through in-memory sessions: tags, msgid, echo, labels, multiline.

Checked against the IRCv3 specifications (message-tags, message-ids,
server-time, echo-message, labeled-response, batch, client-batch,
draft/multiline, standard-replies, UTF8ONLY) and ergo where they leave room.
Each room has IRC clients with different capabilities and a netcat user, and
the tests assert what each of them sees, byte for byte where the spec fixes it.
"""

from __future__ import annotations

import re

import pytest

from ircish.config import Config
from ircish.core import events as ev
from ircish.core.caps import CAPABILITIES
from ircish.core.clients import Client
from ircish.core.users import User
from ircish.dialects.plain import PlainDialect
from ircish.protocol.message import Message
from tests.helpers import MemoryClient, MemoryNetwork, drain

SERVER = "ircish.local"
#: The MemoryNetwork clock, as server-time shows it.
TIME = "1970-01-12T13:46:40.000Z"
ALL = "message-tags batch draft/multiline server-time echo-message labeled-response"
ML = "message-tags batch draft/multiline server-time"
TAGS = "message-tags server-time"
CHUNKING = pytest.mark.parametrize("bytewise", [False, True], ids=["one-chunk", "byte-at-a-time"])


def mask(nick: str) -> str:
    return f"{nick}!~{nick}@localhost"


ALICE = mask("alice")


def send(client: MemoryClient, line: str, bytewise: bool = False) -> None:
    client.send(line, byte_at_a_time=bytewise)


def tags(line: str) -> dict[str, str]:
    return Message.parse(line).tags


def check_batches(lines: list[str]) -> None:
    """Server batches are well formed (IRCv3 batch): opened once, tagged, nested, closed."""
    parents: dict[str, str | None] = {}
    for line in lines:
        msg = Message.parse(line)
        parent = msg.tags.get("batch")
        assert parent is None or parent in parents, f"line refers to no open batch: {line}"
        if msg.verb != "BATCH":
            continue
        sign, ref = msg.params[0][:1], msg.params[0][1:]
        if sign == "+":
            assert re.fullmatch(r"[A-Za-z0-9-]+", ref), line
            assert ref not in parents, f"batch opened twice: {line}"
            assert len(msg.params) >= 2, f"batch without a type: {line}"
            parents[ref] = parent
        else:
            assert sign == "-" and ref in parents, f"closing a batch that is not open: {line}"
            # A nested batch's start and end refer to the same outer batch.
            assert parents.pop(ref) == parent, line
            assert ref not in parents.values(), f"inner batch still open: {line}"
    assert not parents, f"batches left open: {parents}"


@pytest.fixture
def room(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """#dev with alice (every cap), bob (multiline), carol (tags), dave (no caps), pat (netcat)."""
    people = {
        "alice": net.irc("alice", caps=ALL),
        "bob": net.irc("bob", caps=ML),
        "carol": net.irc("carol", caps=TAGS),
        "dave": net.irc("dave"),
    }
    for client in people.values():
        client.send("JOIN #dev")
    people["pat"] = net.plain("pat")
    people["pat"].send("/join #dev")
    drain(*people.values())
    return people


# -- message-tags ---------------------------------------------------------------

RAW_VALUE = r"raw+:=,escaped\:\s\\"
FOREIGN = "msgid=fake;time=2000-01-01T00:00:00.000Z;account=evil;draft/reply=x;batch=1"


@CHUNKING
@pytest.mark.parametrize("verb", ["PRIVMSG", "NOTICE"])
def test_only_client_only_tags_are_relayed(
    room: dict[str, MemoryClient], verb: str, bytewise: bool
) -> None:
    alice = room["alice"]
    alice.send("CAP REQ :-echo-message")
    alice.lines()
    send(
        alice,
        f"@+example={RAW_VALUE};+flag;{FOREIGN.replace(';batch=1', '')} {verb} #dev :hi",
        bytewise,
    )
    bobs = room["bob"].lines()
    assert len(bobs) == 1
    msgid = tags(bobs[0])["msgid"]
    assert bobs == [
        f"@time={TIME};msgid={msgid};+example={RAW_VALUE};+flag :{ALICE} {verb} #dev :hi"
    ]
    assert room["carol"].lines() == bobs, "the same tags for every message-tags client"
    assert room["dave"].lines() == [f":{ALICE} {verb} #dev :hi"]
    shown = "<alice> hi" if verb == "PRIVMSG" else "-alice- hi"
    assert room["pat"].lines() == [f"[#dev] {shown}"]
    assert alice.lines() == []


@CHUNKING
def test_tagmsg_reaches_only_message_tags_clients(
    room: dict[str, MemoryClient], bytewise: bool
) -> None:
    alice = room["alice"]
    send(alice, f"@+typing=active;{FOREIGN.replace(';batch=1', '')} TAGMSG #dev", bytewise)
    echo = alice.lines()
    msgid = tags(echo[0])["msgid"]
    line = f"@time={TIME};msgid={msgid};+typing=active :{ALICE} TAGMSG #dev"
    assert echo == [line], "echo-message applies to TAGMSG (IRCv3 echo-message)"
    assert room["bob"].lines() == [line]
    assert room["carol"].lines() == [line]
    assert room["dave"].lines() == [], "never to clients without message-tags"
    assert room["pat"].lines() == [], "never to netcat users"


def test_private_typing_indicator(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps="message-tags")
    bob = net.irc("bob", caps="message-tags")
    dave = net.irc("dave")
    pat = net.plain("pat")
    alice.send("@+typing=paused TAGMSG bob")
    msgid = tags(line := bob.lines()[0])["msgid"]
    assert line == f"@msgid={msgid};+typing=paused :{ALICE} TAGMSG bob"
    # To users who cannot see it: nothing is delivered, and it is no error.
    alice.send("@+typing=active TAGMSG dave")
    alice.send("@+typing=active TAGMSG pat")
    assert (alice.lines(), dave.lines(), pat.lines()) == ([], [], [])
    alice.send("@+typing=active TAGMSG nobody")
    assert alice.lines() == [f":{SERVER} 401 alice nobody :No such nick/channel"]


def test_tagmsg_without_client_only_tags_is_dropped(room: dict[str, MemoryClient]) -> None:
    """Nothing to relay (as in ergo): no delivery, no error; labeled, it is ACKed."""
    alice = room["alice"]
    alice.send("TAGMSG #dev")
    alice.send("@draft/reply=x TAGMSG #nowhere")
    alice.send("@label=t1 TAGMSG #dev")
    assert alice.lines() == [f"@label=t1;time={TIME} :{SERVER} ACK"]
    assert all(c.lines() == [] for c in room.values())


@pytest.mark.parametrize(
    ("sent", "relayed", "value"),
    [
        (RAW_VALUE, RAW_VALUE, "raw+:=,escaped; \\"),
        (r"a\sb\:c\\d\r\n", r"a\sb\:c\\d\r\n", "a b;c\\d\r\n"),
        ("test\\", "test", "test"),  # a lone backslash at the end is dropped
        (r"\b\x", "bx", "bx"),  # an invalid escape drops its backslash
        ("", "", ""),  # empty and missing values are the same
        ("ünï/cödé=ok", "ünï/cödé=ok", "ünï/cödé=ok"),
    ],
)
def test_tag_values_round_trip(net: MemoryNetwork, sent: str, relayed: str, value: str) -> None:
    alice = net.irc("alice")
    bob = net.irc("bob", caps="message-tags")
    alice.send(f"@+v={sent} PRIVMSG bob :x")
    line = bob.lines()[0]
    msgid = tags(line)["msgid"]
    shown = f"+v={relayed}" if relayed else "+v"
    assert line == f"@msgid={msgid};{shown} :{ALICE} PRIVMSG bob :x"
    assert tags(line)["+v"] == value


@CHUNKING
def test_tag_data_limit_is_4094_bytes(room: dict[str, MemoryClient], bytewise: bool) -> None:
    alice, bob = room["alice"], room["bob"]
    body = " PRIVMSG #dev :big"
    exact = "+t=" + "x" * (4094 - 3)
    send(alice, "@" + exact + body, bytewise)
    assert tags(bob.lines()[0])["+t"] == "x" * 4091
    drain(alice, *room.values())
    for data in ("+t=" + "x" * 4092, "+t=" + "é" * 2046):  # 4095 and 4095 bytes
        send(alice, "@" + data + body, bytewise)
        assert alice.lines() == [f"@time={TIME} :{SERVER} 417 alice :Input line was too long"]
        assert all(c.lines() == [] for c in room.values()), "refused, never truncated"


def test_msgid_and_time_are_the_same_in_every_copy(
    net: MemoryNetwork, room: dict[str, MemoryClient]
) -> None:
    alice, bob, carol = room["alice"], room["bob"], room["carol"]
    seen: set[str] = set()
    for line in ("PRIVMSG #dev :one", "NOTICE #dev :two", "@+react=x TAGMSG #dev"):
        net.now += 1.5
        alice.send(line)
        copies = [c.lines() for c in (alice, bob, carol)]
        assert all(len(c) == 1 for c in copies)
        ids = {tags(c[0])["msgid"] for c in copies}
        times = {tags(c[0])["time"] for c in copies}
        assert len(ids) == 1 and len(times) == 1, "the echo and every copy agree"
        assert not ids & seen, "a new msgid per message"
        seen |= ids
    assert times == {"1970-01-12T13:46:44.500Z"}


def test_bot_tag_comes_before_client_only_tags(net: MemoryNetwork) -> None:
    alice = net.irc("alice")
    bob = net.irc("bob", caps="message-tags")
    alice.send("MODE alice +B")
    alice.lines()
    alice.send("@+x=1 PRIVMSG bob :beep")
    line = bob.lines()[0]
    assert line == f"@msgid={tags(line)['msgid']};bot;+x=1 :{ALICE} PRIVMSG bob :beep"


# -- echo-message ---------------------------------------------------------------


def test_echo_carries_the_same_msgid_and_time(net: MemoryNetwork) -> None:
    caps = "message-tags echo-message server-time"
    alice = net.irc("alice", caps=caps)
    bob = net.irc("bob", caps=caps)
    for c in (alice, bob):
        c.send("JOIN #dev")
    drain(alice, bob)
    net.now += 0.25
    alice.send("@+draft/reply=abc PRIVMSG #dev :hello")
    echo, copy = alice.lines(), bob.lines()
    assert echo == copy
    assert tags(echo[0]) == {
        "time": "1970-01-12T13:46:40.250Z",
        "msgid": tags(copy[0])["msgid"],
        "+draft/reply": "abc",
    }
    alice.send("PRIVMSG bob :private")
    assert alice.lines() == bob.lines()


def test_message_to_oneself_comes_twice_with_echo_message(net: MemoryNetwork) -> None:
    """Delivered, and echoed (IRCv3 labeled-response: "duplicate messages")."""
    alice = net.irc("alice", caps="message-tags echo-message")
    alice.send("PRIVMSG alice :note to self")
    lines = alice.lines()
    assert len(lines) == 2 and lines[0] == lines[1]
    plain = net.irc("bob")
    plain.send("PRIVMSG bob :note")
    assert plain.lines() == [f":{mask('bob')} PRIVMSG bob :note"]


# -- labeled-response -----------------------------------------------------------


def label_of(line: str) -> str | None:
    return tags(line).get("label")


@CHUNKING
def test_labeled_single_reply_and_ack(room: dict[str, MemoryClient], bytewise: bool) -> None:
    alice = room["alice"]
    send(alice, "@label=p1 PING tok", bytewise)
    assert alice.lines() == [f"@label=p1;time={TIME} :{SERVER} PONG {SERVER} :tok"]
    send(alice, "@label=p2 PONG :whatever", bytewise)
    assert alice.lines() == [f"@label=p2;time={TIME} :{SERVER} ACK"]
    send(alice, "@label=p3 PRIVMSG nobody :hi", bytewise)
    assert alice.lines() == [
        f"@label=p3;time={TIME} :{SERVER} 401 alice nobody :No such nick/channel"
    ]
    send(alice, "@label=p4 FROB", bytewise)
    assert alice.lines() == [f"@label=p4;time={TIME} :{SERVER} 421 alice FROB :Unknown command"]


def test_labeled_message_echo_is_the_response(room: dict[str, MemoryClient]) -> None:
    alice, bob = room["alice"], room["bob"]
    alice.send(r"@label=a\sb;+x=1 PRIVMSG #dev :hi")
    echo = alice.lines()
    copy = bob.lines()
    assert echo == [r"@label=a\sb;" + copy[0][1:]], "the label goes back escaped as it came"
    assert label_of(copy[0]) is None, "the others' copies carry no label"
    # Without echo-message there is nothing to answer: ACK.
    alice.send("CAP REQ :-echo-message")
    alice.lines()
    alice.send("@label=q PRIVMSG #dev :again")
    assert alice.lines() == [f"@label=q;time={TIME} :{SERVER} ACK"]
    assert len(bob.lines()) == 1


def test_labeled_message_to_oneself(net: MemoryNetwork) -> None:
    """Only the echo is labeled; the delivered copy never is (IRCv3 labeled-response)."""
    alice = net.irc("alice", caps="message-tags batch labeled-response echo-message")
    alice.send("@label=s1 PRIVMSG alice :me")
    lines = alice.lines()
    assert [label_of(x) for x in lines] == [None, "s1"]
    assert lines[1] == "@label=s1;" + lines[0][1:]
    alice.send("CAP REQ :-echo-message")
    alice.lines()
    alice.send("@label=s2 PRIVMSG alice :me again")
    lines = alice.lines()
    assert [label_of(x) for x in lines] == [None, "s2"]
    assert lines[1] == f"@label=s2 :{SERVER} ACK"


@pytest.mark.parametrize(
    ("command", "verbs"),
    [
        ("NAMES #dev", ["353", "366"]),
        ("WHOIS bob", ["311", "312", "318"]),
        ("JOIN #new", ["JOIN", "353", "366"]),
        ("MOTD", ["375", "372", "376"]),
        ("HELP PRIVMSG", ["704", "705", "706"]),
    ],
)
def test_labeled_multi_line_response_is_one_batch(
    room: dict[str, MemoryClient], command: str, verbs: list[str]
) -> None:
    alice = room["alice"]
    alice.send(f"@label=m1 {command}")
    lines = alice.lines()
    check_batches(lines)
    first, *inner, last = (Message.parse(x) for x in lines)
    ref = first.params[0][1:]
    assert lines[0] == f"@label=m1 :{SERVER} BATCH +{ref} labeled-response"
    assert lines[-1] == f":{SERVER} BATCH -{ref}"
    got = [m.verb for m in inner]
    assert (got[0], got[-1]) == (verbs[0], verbs[-1]) and set(verbs) <= set(got), got
    assert all(m.tags["batch"] == ref and m.tags["time"] == TIME for m in inner)
    assert sum(label_of(x) is not None for x in lines) == 1, "exactly one label"
    assert (first.verb, last.verb) == ("BATCH", "BATCH")


def test_label_needs_batch_and_at_most_64_bytes(net: MemoryNetwork) -> None:
    nobatch = net.irc("nob", caps="labeled-response")
    nobatch.send("@label=x PING t")
    assert nobatch.lines() == [f":{SERVER} PONG {SERVER} :t"]
    alice = net.irc("alice", caps="labeled-response batch")
    alice.send(f"@label={'l' * 64} PING t")
    assert alice.lines() == [f"@label={'l' * 64} :{SERVER} PONG {SERVER} :t"]
    # Longer labels are ignored (the client broke the 64-byte rule): no label, no ACK.
    alice.send(f"@label={'l' * 65} PING t")
    assert alice.lines() == [f":{SERVER} PONG {SERVER} :t"]
    alice.send(f"@label={'é' * 33} PONG t")
    assert alice.lines() == []
    alice.send(f"@label={'é' * 32} PONG t")
    assert alice.lines() == [f"@label={'é' * 32} :{SERVER} ACK"]


def test_labeled_quit_and_responses_of_other_clients(room: dict[str, MemoryClient]) -> None:
    alice, bob = room["alice"], room["bob"]
    bob.send("CAP REQ :labeled-response")
    bob.lines()
    bob.send("@label=bye QUIT :done")
    lines = bob.lines()
    assert lines == [f"@label=bye;time={TIME} ERROR :Closing Link: localhost (Quit: done)"]
    assert label_of(alice.lines()[0]) is None


# -- draft/multiline ------------------------------------------------------------

SPEC_BATCH = [
    "BATCH +123 draft/multiline #dev",
    "@batch=123 PRIVMSG #dev hello",
    "@batch=123 PRIVMSG #dev :",
    "@batch=123 privmsg #dev :how is ",
    "@batch=123;draft/multiline-concat PRIVMSG #dev :everyone?",
    "BATCH -123",
]


def test_multiline_is_advertised_with_its_limits(net: MemoryNetwork) -> None:
    assert CAPABILITIES["draft/multiline"] == "max-bytes=4096,max-lines=100"
    client = net.connect("irc")
    client.send("CAP LS 302")
    assert "draft/multiline=max-bytes=4096,max-lines=100" in " ".join(client.lines())


@CHUNKING
def test_multiline_as_each_client_sees_it(room: dict[str, MemoryClient], bytewise: bool) -> None:
    """The example of the IRCv3 multiline spec, to every kind of client."""
    alice = room["alice"]
    send(alice, "@+draft/reply=r1 " + SPEC_BATCH[0], bytewise)
    for line in SPEC_BATCH[1:-1]:
        send(alice, line, bytewise)
    assert all(c.lines() == [] for c in room.values()), "nothing before the batch ends"
    send(alice, SPEC_BATCH[-1], bytewise)
    bobs = room["bob"].lines()
    msgid = tags(bobs[0])["msgid"]
    ref = Message.parse(bobs[0]).params[0][1:]
    head = f":{ALICE} PRIVMSG #dev :"
    assert bobs == [
        f"@time={TIME};msgid={msgid};+draft/reply=r1 :{ALICE} BATCH +{ref} draft/multiline #dev",
        f"@batch={ref} {head}hello",
        f"@batch={ref} {head}",
        f"@batch={ref} {head}how is ",
        f"@batch={ref};draft/multiline-concat {head}everyone?",
        f":{ALICE} BATCH -{ref}",
    ]
    check_batches(bobs)
    assert room["alice"].lines() == bobs, "the echo is the same batch"
    # Without the cap: the nonblank lines as sent, msgid on the first only, no blank line.
    assert room["carol"].lines() == [
        f"@time={TIME};msgid={msgid};+draft/reply=r1 {head}hello",
        f"@time={TIME};+draft/reply=r1 {head}how is ",
        f"@time={TIME};+draft/reply=r1 {head}everyone?",
    ]
    assert room["dave"].lines() == [f"{head}hello", f"{head}how is ", f"{head}everyone?"]
    # A human sees the message as written.
    assert room["pat"].lines() == [
        "[#dev] <alice> hello",
        "[#dev] <alice> ",
        "[#dev] <alice> how is everyone?",
    ]


def test_multiline_notice_and_private_messages(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps="batch draft/multiline")
    bob = net.irc("bob", caps="batch draft/multiline")
    pat = net.plain("pat")
    for target, verb in (("bob", "NOTICE"), ("pat", "PRIVMSG")):
        alice.send(f"BATCH +n1 draft/multiline {target}")
        alice.send(f"@batch=n1 {verb} {target} :first")
        alice.send(f"@batch=n1 {verb} {target} :")
        alice.send(f"@batch=n1 {verb} {target} :third")
        alice.send("BATCH -n1")
    lines = bob.lines()
    check_batches(lines)
    assert [Message.parse(x).verb for x in lines] == [
        "BATCH",
        "NOTICE",
        "NOTICE",
        "NOTICE",
        "BATCH",
    ]
    assert pat.lines() == [
        "[private] <alice> first",
        "[private] <alice> ",
        "[private] <alice> third",
    ]
    assert alice.lines() == [], "no echo without echo-message"


def test_multiline_first_blank_line_leaves_the_msgid_to_the_next(
    room: dict[str, MemoryClient],
) -> None:
    alice = room["alice"]
    for line in (
        "BATCH +b draft/multiline #dev",
        "@batch=b PRIVMSG #dev :",
        "@batch=b PRIVMSG #dev :x",
    ):
        alice.send(line)
    alice.send("@batch=b PRIVMSG #dev :y")
    alice.send("BATCH -b")
    carols = room["carol"].lines()
    assert [set(tags(x)) for x in carols] == [{"time", "msgid"}, {"time"}]
    assert [Message.parse(x).params[1] for x in carols] == ["x", "y"]


def test_multiline_to_an_away_user_and_the_labeled_echo(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps=ALL)
    bob = net.irc("bob")
    bob.send("AWAY :lunch")
    bob.lines()
    alice.send("@label=e1 BATCH +e draft/multiline bob")
    alice.send("@batch=e PRIVMSG bob :one")
    alice.send("@batch=e PRIVMSG bob :two")
    alice.send("BATCH -e")
    lines = alice.lines()
    check_batches(lines)
    # The multiline echo and RPL_AWAY: a labeled-response batch with the multiline one nested.
    outer = Message.parse(lines[0]).params[0][1:]
    inner = Message.parse(lines[1]).params[0][1:]
    assert lines[0] == f"@label=e1 :{SERVER} BATCH +{outer} labeled-response"
    assert tags(lines[1])["batch"] == outer and Message.parse(lines[1]).verb == "BATCH"
    assert [tags(x)["batch"] for x in lines[2:4]] == [inner, inner]
    assert tags(lines[4])["batch"] == outer and lines[4].endswith(f"BATCH -{inner}")
    assert tags(lines[5])["batch"] == outer and " 301 alice bob :lunch" in lines[5]
    assert lines[6] == f":{SERVER} BATCH -{outer}"
    assert sum(label_of(x) is not None for x in lines) == 1
    assert bob.lines() == [f":{ALICE} PRIVMSG bob :one", f":{ALICE} PRIVMSG bob :two"]


def test_labeled_multiline_echo_carries_the_label_on_its_batch(
    room: dict[str, MemoryClient],
) -> None:
    alice = room["alice"]
    alice.send("@label=ml BATCH +x draft/multiline #dev")
    assert alice.lines() == [], "no ACK for the opening line: the batch is one command"
    alice.send("@batch=x PRIVMSG #dev :a")
    alice.send("@batch=x PRIVMSG #dev :b")
    alice.send("BATCH -x")
    lines = alice.lines()
    check_batches(lines)
    assert label_of(lines[0]) == "ml" and Message.parse(lines[0]).params[1] == "draft/multiline"
    assert sum(label_of(x) is not None for x in lines) == 1
    assert lines[1:] == room["bob"].lines()[1:]
    # Without echo-message: ACK. Without the multiline cap: the lines in a labeled batch.
    alice.send("CAP REQ :-echo-message")
    alice.lines()
    for line in ("@label=m2 BATCH +y draft/multiline #dev", "@batch=y PRIVMSG #dev :c", "BATCH -y"):
        alice.send(line)
    assert alice.lines() == [f"@label=m2;time={TIME} :{SERVER} ACK"]
    alice.send("CAP REQ :echo-message -draft/multiline")
    alice.lines()
    for line in (
        "@label=m3 BATCH +z draft/multiline #dev",
        "@batch=z PRIVMSG #dev :d",
        "@batch=z PRIVMSG #dev :e",
        "BATCH -z",
    ):
        alice.send(line)
    lines = alice.lines()
    check_batches(lines)
    assert Message.parse(lines[0]).params[1] == "labeled-response"
    assert [Message.parse(x).params[-1] for x in lines[1:3]] == ["d", "e"]


def batch_lines(ref: str, target: str, texts: list[str], verb: str = "PRIVMSG") -> list[str]:
    return [
        f"BATCH +{ref} draft/multiline {target}",
        *(f"@batch={ref} {verb} {target} :{t}" for t in texts),
        f"BATCH -{ref}",
    ]


def fail(code: str, *context: str) -> str:
    middle = "".join(" " + c for c in context)
    return f"@time={TIME} :{SERVER} FAIL BATCH {code}{middle} :"


@pytest.mark.parametrize(
    ("lines", "reply"),
    [
        (
            ["BATCH +4 draft/multiline #dev", "@batch=4 PRIVMSG #other :hi", "BATCH -4"],
            fail("MULTILINE_INVALID_TARGET", "#dev", "#other"),
        ),
        (
            batch_lines("5", "#dev", ["x" * 400] * 10 + ["y" * 87]),
            fail("MULTILINE_MAX_BYTES", "4096"),
        ),
        (batch_lines("6", "#dev", ["z"] * 101), fail("MULTILINE_MAX_LINES", "100")),
        (batch_lines("7", "#dev", ["", ""]), fail("MULTILINE_INVALID")),
        (batch_lines("8", "#dev", []), fail("MULTILINE_INVALID")),
        (
            [
                "BATCH +9 draft/multiline #dev",
                "@batch=9 PRIVMSG #dev :hi ",
                "@batch=9;draft/multiline-concat PRIVMSG #dev :",
                "BATCH -9",
            ],
            fail("MULTILINE_INVALID"),
        ),
        (
            [
                "BATCH +a draft/multiline #dev",
                "@batch=a PRIVMSG #dev :p",
                "@batch=a NOTICE #dev :n",
                "BATCH -a",
            ],
            fail("MULTILINE_INVALID"),
        ),
        (
            ["BATCH +b draft/multiline #dev", "@batch=b TAGMSG #dev", "BATCH -b"],
            fail("MULTILINE_INVALID"),
        ),
        (
            ["BATCH +c draft/multiline #dev", "@batch=c PRIVMSG #dev", "BATCH -c"],
            fail("MULTILINE_INVALID"),
        ),
        (
            ["BATCH +d draft/multiline #dev", "@batch=zz PRIVMSG #dev :x", "BATCH -d"],
            fail("MULTILINE_INVALID"),
        ),
        (["BATCH +e draft/multiline #dev", "BATCH -f"], fail("MULTILINE_INVALID")),
        (["@batch=g PRIVMSG #dev :stray"], fail("MULTILINE_INVALID")),
        (["BATCH -h"], fail("MULTILINE_INVALID")),
        (
            ["BATCH +i draft/multiline #dev", "BATCH +j draft/multiline #dev"],
            fail("MULTILINE_INVALID"),
        ),
        (["BATCH +k draft/multiline"], fail("MULTILINE_INVALID")),
        (["BATCH +l example.com/other #dev"], fail("UNKNOWN_TYPE", "l", "example.com/other")),
        (["BATCH +m :two words"], fail("UNKNOWN_TYPE", "m", "*")),
        (["BATCH +n"], fail("INVALID_PARAMS", "n")),
        (["BATCH +bad_ref draft/multiline #dev"], fail("INVALID_REFTAG", "bad_ref")),
        (["BATCH + draft/multiline #dev"], fail("INVALID_REFTAG", "*")),
        (["BATCH 123 draft/multiline #dev"], fail("INVALID_PARAMS", "123")),
        (["@batch=o BATCH +p draft/multiline #dev"], fail("INVALID_PARAMS", "+p")),
    ],
)
def test_invalid_batches_fail_once_and_deliver_nothing(
    room: dict[str, MemoryClient], lines: list[str], reply: str
) -> None:
    alice = room["alice"]
    for line in lines:
        alice.send(line)
    got = alice.lines()
    assert len(got) == 1 and got[0].startswith(reply), got
    others = [room[n].lines() for n in ("bob", "carol", "dave", "pat")]
    assert others == [[], [], [], []]
    assert alice.client.batch is None or alice.client.batch.failed
    # The connection is fine afterwards: a good batch goes through.
    for line in batch_lines("ok", "#dev", ["fine"]):
        alice.send(line)
    assert room["dave"].lines() == [f":{ALICE} PRIVMSG #dev :fine"]


def test_multiline_limits_are_inclusive(room: dict[str, MemoryClient]) -> None:
    alice = room["alice"]
    # 10 * 400 bytes + 9 line breaks + 87 = 4096 bytes.
    for line in batch_lines("big", "#dev", ["x" * 400] * 10 + ["y" * 86]):
        alice.send(line)
    assert len(room["dave"].lines()) == 11
    # A concatenated line costs no line break.
    texts = ["x" * 400] * 10 + ["y" * 86]
    lines = batch_lines("cat", "#dev", texts)
    lines[-2] = "@batch=cat;draft/multiline-concat PRIVMSG #dev :" + "y" * 87
    for line in lines:
        alice.send(line)
    assert len(room["dave"].lines()) == 11
    for line in batch_lines("many", "#dev", ["z"] * 100):
        alice.send(line)
    assert len(room["dave"].lines()) == 100
    assert not [x for x in alice.lines() if " FAIL " in x]


def test_multiline_notice_batch_errors_are_silent(room: dict[str, MemoryClient]) -> None:
    alice = room["alice"]
    for line in batch_lines("q", "#dev", ["z"] * 101, verb="NOTICE"):
        alice.send(line)
    for line in batch_lines("r", "#nowhere", ["z"], verb="NOTICE"):
        alice.send(line)
    assert alice.lines() == []
    assert room["dave"].lines() == []


def test_multiline_target_errors_come_at_the_end(
    net: MemoryNetwork, room: dict[str, MemoryClient]
) -> None:
    alice = room["alice"]
    for line in batch_lines("s", "#nowhere", ["a"]):
        alice.send(line)
    assert alice.lines() == [f"@time={TIME} :{SERVER} 403 alice #nowhere :No such channel"]
    outsider = net.irc("out", caps="batch draft/multiline")
    for line in batch_lines("t", "#dev", ["a"]):
        outsider.send(line)
    assert [Message.parse(x).verb for x in outsider.lines()] == ["404"]
    for line in batch_lines("u", "nobody", ["a"]):
        alice.send(line)
    assert alice.lines() == [f"@time={TIME} :{SERVER} 401 alice nobody :No such nick/channel"]
    assert room["dave"].lines() == []


def test_multiline_target_matches_case_insensitively_and_statusmsg(
    room: dict[str, MemoryClient],
) -> None:
    alice = room["alice"]
    for line in ("BATCH +v draft/multiline #Dev", "@batch=v PRIVMSG #DEV :case", "BATCH -v"):
        alice.send(line)
    assert room["dave"].lines() == [f":{ALICE} PRIVMSG #dev :case"]
    room["bob"].send("JOIN #ops")
    room["dave"].send("JOIN #ops")
    drain(*room.values())
    room["bob"].send("BATCH +w draft/multiline @#ops")
    room["bob"].send("@batch=w PRIVMSG @#ops :ops only")
    room["bob"].send("BATCH -w")
    assert room["dave"].lines() == [], "dave holds no +o in #ops"


def test_other_commands_during_a_batch_run_as_usual(room: dict[str, MemoryClient]) -> None:
    alice = room["alice"]
    alice.send("BATCH +i1 draft/multiline #dev")
    alice.send("@batch=i1 PRIVMSG #dev :part one")
    alice.send("PING during")
    alice.send("PRIVMSG dave :unbatched")
    assert [Message.parse(x).verb for x in alice.lines()] == ["PONG", "PRIVMSG"]
    assert room["dave"].lines() == [f":{ALICE} PRIVMSG dave :unbatched"]
    alice.send("@batch=i1 PRIVMSG #dev :part two")
    alice.send("BATCH -i1")
    assert room["dave"].lines() == [
        f":{ALICE} PRIVMSG #dev :part one",
        f":{ALICE} PRIVMSG #dev :part two",
    ]


def test_unterminated_batch_is_dropped_at_disconnect(room: dict[str, MemoryClient]) -> None:
    alice = room["alice"]
    alice.send("BATCH +gone draft/multiline #dev")
    alice.send("@batch=gone PRIVMSG #dev :never delivered")
    alice.session.connection_lost("reset")
    assert room["dave"].lines() == [f":{ALICE} QUIT :reset"]
    assert room["pat"].lines() == ["*** alice quit (reset)"]


def test_batch_needs_registration(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    client.send("BATCH +a draft/multiline #dev")
    assert client.lines() == [f":{SERVER} 451 * :You have not registered"]


# -- standard replies and UTF8ONLY ----------------------------------------------


def test_standard_replies_are_one_clean_line_for_netcat_users() -> None:
    dialect = PlainDialect(Config())
    user = User("127.0.0.1", 0.0)
    client = Client(user, _NullSink(), dialect, 0.0)
    reply = ev.StandardReply("FAIL", "BATCH", "X", ("a b",), "Bad\x1b[31m\r\nthing")
    assert dialect.render(ev.Envelope(reply, client=client), client) == b"! Badthing\r\n"


class _NullSink:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("raw", "command"),
    [
        (b"PRIVMSG #dev :caf\xe9", "PRIVMSG"),
        (b"privmsg #dev :\xff", "PRIVMSG"),
        (b"@+x=\xff PRIVMSG #dev :tag", "PRIVMSG"),
        (b"@a=b :alice NOTICE #dev :\xfe", "NOTICE"),
        (b"@\xff", "*"),
        (b"\xff\xfe", "*"),
        (b"PRIV\rMSG #dev :\xff", "*"),
        (b"TOPIC #dev :\xc3(", "TOPIC"),
    ],
)
def test_invalid_utf8_from_irc_is_refused(
    room: dict[str, MemoryClient], raw: bytes, command: str
) -> None:
    alice = room["alice"]
    alice.feed(raw + b"\r\n")
    assert alice.lines() == [
        f"@time={TIME} :{SERVER} FAIL {command} INVALID_UTF8 "
        ":Message rejected: it is not valid UTF-8"
    ]
    assert [room[n].lines() for n in ("bob", "carol", "dave", "pat")] == [[], [], [], []]


def test_invalid_utf8_from_netcat_is_repaired(room: dict[str, MemoryClient]) -> None:
    room["pat"].feed(b"caf\xe9 ok\r\n")
    assert room["dave"].lines() == [":pat!~plain@localhost PRIVMSG #dev :caf\ufffd ok"]


def test_utf8only_is_advertised(net: MemoryNetwork) -> None:
    client = net.connect("irc")
    client.send("NICK u")
    client.send("USER u 0 * :u")
    assert any(" UTF8ONLY " in x or x.endswith(" UTF8ONLY") for x in client.lines() if " 005 " in x)


def test_a_failed_labeled_batch_answers_its_label(room: dict[str, MemoryClient]) -> None:
    alice = room["alice"]
    alice.send("@label=f1 BATCH +f draft/multiline #dev")
    alice.send("@batch=f PRIVMSG #other :wrong target")
    assert alice.lines() == [
        f"@label=f1;time={TIME} :{SERVER} FAIL BATCH MULTILINE_INVALID_TARGET #dev #other "
        ":Every line of a multiline batch goes to the batch's target"
    ]
    alice.send("@batch=f PRIVMSG #dev :ignored")
    alice.send("BATCH -f")
    assert alice.lines() == []
    alice.send("@label=f2 BATCH +g unknown/type")
    assert alice.lines() == [
        f"@label=f2;time={TIME} :{SERVER} FAIL BATCH UNKNOWN_TYPE g unknown/type "
        ":Unknown batch type; this server accepts draft/multiline"
    ]
    assert room["dave"].lines() == []


def test_labeled_batch_tags_lines_whose_tag_values_mention_batch(net: MemoryNetwork) -> None:
    alice = net.irc("alice", caps=ALL)
    bob = net.irc("bob")
    bob.send("AWAY :out")
    bob.lines()
    alice.send("@label=w;+x=batch=1 PRIVMSG bob :hi")
    lines = alice.lines()
    check_batches(lines)
    ref = Message.parse(lines[0]).params[0][1:]
    echo = Message.parse(lines[1])
    assert echo.verb == "PRIVMSG" and echo.tags["batch"] == ref and echo.tags["+x"] == "batch=1"
    assert Message.parse(lines[2]).verb == "301"
