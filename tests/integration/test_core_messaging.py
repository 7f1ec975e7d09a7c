"""Messages, nick changes, quits and away through in-memory sessions: who receives what."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from ircish.core import events as ev
from tests.helpers import MemoryClient, MemoryNetwork, drain

SERVER = "ircish.local"

CHUNKING = pytest.mark.parametrize("bytewise", [False, True], ids=["one-chunk", "byte-at-a-time"])


def mask(nick: str, plain: bool = True) -> str:
    return f"{nick}!~{'plain' if plain else nick}@localhost"


@pytest.fixture
def cast(net: MemoryNetwork) -> dict[str, MemoryClient]:
    """Rooms: #dev = alice, bob, carol; #ops = alice, dave; #lobby = alice, carol; erin alone in #x.

    alice, carol (plain); bob, dave, erin (IRC).
    """
    alice = net.plain("alice")
    bob = net.irc("bob")
    carol = net.plain("carol")
    dave = net.irc("dave")
    erin = net.irc("erin")
    for client, rooms in (
        (alice, ["#dev", "#ops"]),
        (bob, ["#dev"]),
        (carol, ["#dev"]),
        (dave, ["#ops"]),
        (erin, ["#x"]),
    ):
        for room in rooms:
            client.send(
                f"/join {room}" if client.client.dialect.name == "plain" else f"JOIN {room}"
            )
    alice.send("/join #dev")  # talk in #dev
    people = {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "erin": erin}
    drain(*people.values())
    return people


# -- room messages ---------------------------------------------------------------


@CHUNKING
def test_room_message_routing(cast: dict[str, MemoryClient], bytewise: bool) -> None:
    cast["alice"].send("hello dev", byte_at_a_time=bytewise)
    # Netcat users see their own line (echo is on by default); IRC needs echo-message.
    assert cast["alice"].lines() == ["[#dev] <alice> hello dev"]
    assert cast["carol"].lines() == ["[#dev] <alice> hello dev"]
    assert cast["bob"].lines() == [f":{mask('alice')} PRIVMSG #dev :hello dev"]
    assert cast["dave"].lines() == []
    assert cast["erin"].lines() == []


@CHUNKING
def test_irc_room_message_to_plain_users(cast: dict[str, MemoryClient], bytewise: bool) -> None:
    cast["bob"].send("PRIVMSG #DEV :hi all, привет", byte_at_a_time=bytewise)
    assert cast["alice"].lines() == ["[#dev] <bob> hi all, привет"]
    assert cast["carol"].lines() == ["[#dev] <bob> hi all, привет"]
    assert cast["bob"].lines() == []
    assert cast["dave"].lines() == []


def test_plain_message_to_another_room(cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/msg #ops over here")
    assert cast["dave"].lines() == [f":{mask('alice')} PRIVMSG #ops :over here"]
    assert cast["bob"].lines() == cast["carol"].lines() == []


def test_echo_message(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    frank = net.irc("frank", caps="echo-message")
    frank.send("JOIN #dev")
    drain(frank, *cast.values())
    frank.send("PRIVMSG #dev :echoed")
    assert frank.lines() == [f":{mask('frank', False)} PRIVMSG #dev :echoed"]
    frank.send("PRIVMSG alice :private echo")
    assert frank.lines() == [f":{mask('frank', False)} PRIVMSG alice :private echo"]
    assert cast["alice"].lines() == ["[#dev] <frank> echoed", "[private] <frank> private echo"]


def test_message_to_a_room_one_is_not_in(cast: dict[str, MemoryClient]) -> None:
    cast["erin"].send("PRIVMSG #dev :let me in")
    assert cast["erin"].lines() == [f":{SERVER} 404 erin #dev :Cannot send to channel"]
    cast["carol"].send("/msg #ops hello?")
    assert cast["carol"].lines() == ["! You cannot send to #ops: join it first"]
    assert cast["alice"].lines() == cast["dave"].lines() == []


def test_message_to_a_missing_room(cast: dict[str, MemoryClient]) -> None:
    cast["carol"].send("/msg #nowhere hi")
    assert cast["carol"].lines() == ["! No such room: #nowhere"]
    cast["bob"].send("PRIVMSG #nowhere :hi")
    assert cast["bob"].lines() == [f":{SERVER} 403 bob #nowhere :No such channel"]


def test_action(cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/me waves")
    assert cast["carol"].lines() == ["[#dev] * alice waves"]
    assert cast["bob"].lines() == [f":{mask('alice')} PRIVMSG #dev :\x01ACTION waves\x01"]
    cast["bob"].send("PRIVMSG #dev :\x01ACTION nods\x01")
    assert cast["carol"].lines() == ["[#dev] * bob nods"]


def test_ctcp_request_is_shown_not_obeyed(cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("PRIVMSG carol :\x01VERSION\x01")
    assert cast["carol"].lines() == ["[private] *** bob sent a CTCP VERSION request"]


def test_ctcp_reply_is_shown_with_its_text(cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("NOTICE carol :\x01VERSION irssi v1.4.3\x01")
    assert cast["carol"].lines() == ["[private] *** CTCP VERSION reply from bob: irssi v1.4.3"]
    cast["bob"].send("NOTICE carol :\x01PING\x01")
    assert cast["carol"].lines() == ["[private] *** CTCP PING reply from bob"]


def test_control_characters_do_not_reach_plain_users(cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("PRIVMSG #dev :\x1b[2J\x02bold\x02 \x0304red\x03 \x07bell")
    assert cast["carol"].lines() == ["[#dev] <bob> bold red bell"]


def test_several_targets(cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("PRIVMSG #dev,dave,zed :to many")
    assert cast["bob"].lines() == [f":{SERVER} 401 bob zed :No such nick/channel"]
    assert cast["carol"].lines() == ["[#dev] <bob> to many"]
    assert cast["dave"].lines() == [f":{mask('bob', False)} PRIVMSG dave :to many"]


def test_irc_message_errors(cast: dict[str, MemoryClient]) -> None:
    bob = cast["bob"]
    bob.send("PRIVMSG")
    assert bob.lines() == [f":{SERVER} 411 bob :No recipient given (PRIVMSG)"]
    bob.send("PRIVMSG #dev")
    assert bob.lines() == [f":{SERVER} 412 bob :No text to send"]
    bob.send("PRIVMSG #dev :")
    assert bob.lines() == [f":{SERVER} 412 bob :No text to send"]
    assert cast["alice"].lines() == []


# -- private messages --------------------------------------------------------------


@CHUNKING
def test_private_message_routing(cast: dict[str, MemoryClient], bytewise: bool) -> None:
    cast["alice"].send("/msg erin psst", byte_at_a_time=bytewise)
    assert cast["erin"].lines() == [f":{mask('alice')} PRIVMSG erin :psst"]
    assert cast["alice"].lines() == ["[to erin] <alice> psst"]
    assert all(cast[n].lines() == [] for n in ("bob", "carol", "dave"))
    cast["erin"].send("PRIVMSG alice :psst back", byte_at_a_time=bytewise)
    assert cast["alice"].lines() == ["[private] <erin> psst back"]
    assert all(cast[n].lines() == [] for n in ("bob", "carol", "dave", "erin"))


@pytest.mark.parametrize("target", ["CAROL", "Carol", "cArOl"])
def test_private_messages_find_nicks_case_insensitively(
    cast: dict[str, MemoryClient], target: str
) -> None:
    cast["bob"].send(f"PRIVMSG {target} :hi")
    assert cast["carol"].lines() == ["[private] <bob> hi"]


def test_private_message_to_a_cyrillic_nick(net: MemoryNetwork) -> None:
    vasya = net.plain("Вася")
    bob = net.irc("bob")
    drain(vasya)
    bob.send("PRIVMSG ВАСЯ :привет")
    assert vasya.lines() == ["[private] <bob> привет"]
    vasya.send("/msg BOB здравствуй")
    assert bob.lines() == [":Вася!~plain@localhost PRIVMSG bob :здравствуй"]


def test_private_message_to_nobody(cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/msg zed hello")
    assert cast["alice"].lines() == ["! No such nick or room: zed"]
    cast["bob"].send("PRIVMSG zed :hello")
    assert cast["bob"].lines() == [f":{SERVER} 401 bob zed :No such nick/channel"]


def test_notices(cast: dict[str, MemoryClient]) -> None:
    cast["alice"].send("/notice #dev heads up")
    assert cast["carol"].lines() == ["[#dev] -alice- heads up"]
    assert cast["bob"].lines() == [f":{mask('alice')} NOTICE #dev :heads up"]
    cast["bob"].send("NOTICE carol :just so you know")
    assert cast["carol"].lines() == ["[private] -bob- just so you know"]
    # Notices never cause error replies.
    cast["bob"].send("NOTICE zed :anyone?")
    cast["bob"].send("NOTICE #ops :anyone?")
    cast["bob"].send("NOTICE")
    assert cast["bob"].lines() == []


# -- nick changes ----------------------------------------------------------------


@CHUNKING
def test_nick_change_routing(cast: dict[str, MemoryClient], bytewise: bool) -> None:
    # alice shares #dev with bob and carol, #ops with dave, and #lobby with carol.
    cast["alice"].send("/nick alicia", byte_at_a_time=bytewise)
    assert cast["alice"].lines() == ["*** alice is now known as alicia"]
    assert cast["carol"].lines() == ["*** alice is now known as alicia"], "once, not per room"
    assert cast["bob"].lines() == [f":{mask('alice')} NICK alicia"]
    assert cast["dave"].lines() == [f":{mask('alice')} NICK alicia"]
    assert cast["erin"].lines() == []
    cast["bob"].send("PRIVMSG #dev :hi alicia")
    assert cast["alice"].lines() == ["[#dev] <bob> hi alicia"]


def test_irc_nick_change_is_echoed_to_the_user(cast: dict[str, MemoryClient]) -> None:
    cast["erin"].send("NICK erina")
    assert cast["erin"].lines() == [f":{mask('erin', False)} NICK erina"]
    assert all(cast[n].lines() == [] for n in ("alice", "bob", "carol", "dave"))


def test_nick_change_updates_lookups(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("NICK Robert")
    assert net.chat.users.get("bob") is None
    assert net.chat.users.get("ROBERT") is cast["bob"].user
    assert cast["bob"].user.mask == "Robert!~bob@localhost"
    drain(*cast.values())
    cast["alice"].send("/msg bob still there?")
    assert cast["alice"].lines() == ["! No such nick or room: bob"]
    cast["alice"].send("/msg robert still there?")
    assert cast["bob"].lines() == [f":{mask('alice')} PRIVMSG Robert :still there?"]
    # The old nick is free again.
    frank = net.connect("plain")
    frank.send("bob")
    assert frank.user.registered


def test_nick_change_to_a_case_variant_of_ones_own(cast: dict[str, MemoryClient]) -> None:
    cast["carol"].send("/nick Carol")
    assert cast["carol"].lines() == ["*** carol is now known as Carol"]
    assert cast["bob"].lines() == [f":{mask('carol')} NICK Carol"]


def test_nick_change_to_the_same_nick_is_silent(cast: dict[str, MemoryClient]) -> None:
    cast["carol"].send("/nick carol")
    assert cast["carol"].lines() == cast["bob"].lines() == []


@pytest.mark.parametrize(("taken", "wanted"), [("bob", "BOB"), ("Вася", "вАСЯ")])
def test_nick_change_collision(net: MemoryNetwork, taken: str, wanted: str) -> None:
    net.irc(taken)
    alice = net.plain("alice")
    other = net.irc("other")
    alice.send(f"/nick {wanted}")
    assert alice.lines() == [f"! The nickname {wanted} is taken; pick another"]
    other.send(f"NICK {wanted}")
    assert other.lines() == [f":{SERVER} 433 other {wanted} :Nickname is already in use"]
    assert alice.user.nick == "alice"


def test_nick_change_invalid(cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("NICK 1bob")
    assert cast["bob"].lines() == [f":{SERVER} 432 bob 1bob :Erroneous nickname"]
    cast["bob"].send("NICK")
    assert cast["bob"].lines() == [f":{SERVER} 431 bob :No nickname given"]


# -- quits -----------------------------------------------------------------------


@CHUNKING
def test_quit_routing(cast: dict[str, MemoryClient], bytewise: bool) -> None:
    cast["alice"].send("/quit see you", byte_at_a_time=bytewise)
    assert cast["alice"].lines() == ["*** Closing connection: Quit: see you"]
    assert cast["alice"].sink.closed
    assert cast["carol"].lines() == ["*** alice quit (Quit: see you)"], "once, not per room"
    assert cast["bob"].lines() == [f":{mask('alice')} QUIT :Quit: see you"]
    assert cast["dave"].lines() == [f":{mask('alice')} QUIT :Quit: see you"]
    assert cast["erin"].lines() == []


def test_irc_quit(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("QUIT")
    assert cast["bob"].lines() == ["ERROR :Closing Link: localhost (Quit)"]
    assert cast["carol"].lines() == ["*** bob quit (Quit)"]
    assert cast["alice"].lines() == ["*** bob quit (Quit)"]
    assert net.chat.users.get("bob") is None
    room = net.chat.rooms.get("#dev")
    assert room is not None
    assert cast["bob"].user not in room.members


def test_quit_removes_the_user_everywhere(
    net: MemoryNetwork, cast: dict[str, MemoryClient]
) -> None:
    cast["dave"].send("QUIT :bye")
    assert net.chat.users.get("dave") is None
    ops = net.chat.rooms.get("#ops")
    assert ops is not None
    assert [u.nick for u in ops.members] == ["alice"]
    cast["alice"].lines()
    cast["alice"].send("/msg dave hello?")
    assert cast["alice"].lines() == ["! No such nick or room: dave"]


# -- away ------------------------------------------------------------------------


def test_away(net: MemoryNetwork, cast: dict[str, MemoryClient]) -> None:
    notified = net.irc("frank", caps="away-notify")
    notified.send("JOIN #dev")
    drain(notified, *cast.values())
    cast["carol"].send("/away gone fishing")
    assert cast["carol"].lines() == ["*** You are now marked as away"]
    assert notified.lines() == [f":{mask('carol')} AWAY :gone fishing"]
    # Without away-notify nobody is told.
    assert cast["alice"].lines() == cast["bob"].lines() == []
    cast["bob"].send("PRIVMSG carol :are you there?")
    assert cast["bob"].lines() == [f":{SERVER} 301 bob carol :gone fishing"]
    assert cast["carol"].lines() == ["[private] <bob> are you there?"]
    cast["alice"].send("/msg carol hello?")
    assert cast["alice"].lines() == ["[to carol] <alice> hello?", "*** carol is away: gone fishing"]
    # Notices and room messages do not trigger the away reply.
    cast["bob"].send("NOTICE carol :fyi")
    cast["bob"].send("PRIVMSG #dev :all")
    assert cast["bob"].lines() == []
    drain(cast["carol"], notified)
    cast["carol"].send("/away")
    assert cast["carol"].lines() == ["*** You are no longer marked as away"]
    assert notified.lines() == [f":{mask('carol')} AWAY"]
    cast["bob"].send("PRIVMSG carol :back?")
    assert cast["bob"].lines() == []


def test_irc_away_replies(cast: dict[str, MemoryClient]) -> None:
    cast["bob"].send("AWAY :lunch")
    assert cast["bob"].lines() == [f":{SERVER} 306 bob :You have been marked as being away"]
    cast["bob"].send("AWAY")
    assert cast["bob"].lines() == [f":{SERVER} 305 bob :You are no longer marked as being away"]


# -- broadcast rendering -----------------------------------------------------------


def count_renders(monkeypatch: pytest.MonkeyPatch, net: MemoryNetwork) -> Counter[str]:
    """Wrap both dialects' render to count calls per event type."""
    calls: Counter[str] = Counter()
    for dialect in (net.dialects.plain, net.dialects.irc):
        original: Callable[..., bytes] = dialect.render

        def counted(env: ev.Envelope, client: Any, _orig: Callable[..., bytes] = original) -> bytes:
            calls[type(env.event).__name__] += 1
            return _orig(env, client)

        monkeypatch.setattr(dialect, "render", counted)
    return calls


def test_broadcast_is_rendered_once_per_render_key(
    net: MemoryNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = [net.plain(f"p{i}") for i in range(30)]
    irc = [net.irc(f"i{i}") for i in range(30)]
    timed = [net.irc(f"t{i}", caps="server-time") for i in range(5)]
    for client in irc + timed:
        client.send("JOIN #lobby")
    sender = net.irc("sender")
    sender.send("JOIN #lobby")
    everyone = [*plain, *irc, *timed]
    drain(sender, *everyone)
    calls = count_renders(monkeypatch, net)
    before = {id(c): len(c.sink.data) for c in everyone}

    sender.send("PRIVMSG #lobby :hello, all 65 of you")

    # Three render keys: plain, IRC, IRC with server-time.
    assert calls["Privmsg"] == 3
    for group in (plain, irc, timed):
        appended = [c.sink.data[before[id(c)]] for c in group]
        assert all(len(c.sink.data) == before[id(c)] + 1 for c in group)
        assert all(data is appended[0] for data in appended), "the same bytes object for all"
    assert plain[0].lines() == ["[#lobby] <sender> hello, all 65 of you"]
    assert irc[0].lines() == [f":{mask('sender', False)} PRIVMSG #lobby :hello, all 65 of you"]
    [stamped] = timed[0].lines()
    assert re.fullmatch(
        r"@time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
        + re.escape(f":{mask('sender', False)} PRIVMSG #lobby :hello, all 65 of you"),
        stamped,
    )


def test_quit_to_many_rooms_is_rendered_once(
    net: MemoryNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaver = net.plain("leaver")
    others = [net.plain(f"p{i}") for i in range(10)] + [net.irc(f"i{i}") for i in range(10)]
    for i, client in enumerate(others):
        room = f"#r{i % 4}"
        client.send(f"/join {room}" if client.client.dialect.name == "plain" else f"JOIN {room}")
        leaver.send(f"/join {room}")
    drain(leaver, *others)
    calls = count_renders(monkeypatch, net)
    leaver.send("/quit")
    assert calls["Quit"] == 2
    assert all(len(c.lines()) == 1 for c in others), "each peer hears the quit exactly once"


def test_nick_change_rendered_once_per_key(
    net: MemoryNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    changer = net.plain("changer")
    others = [net.plain(f"p{i}") for i in range(5)] + [net.irc(f"i{i}") for i in range(5)]
    for client in others:
        client.send("/join #lobby" if client.client.dialect.name == "plain" else "JOIN #lobby")
    drain(changer, *others)
    calls = count_renders(monkeypatch, net)
    changer.send("/nick changed")
    assert calls["NickChange"] == 2
    assert changer.lines() == ["*** changer is now known as changed"]


def test_a_quit_message_stays_out_of_the_log(
    net: MemoryNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    """What a user says in QUIT is theirs (and could carry escapes for ``tail -f``)."""
    client = net.irc("mal")
    with caplog.at_level("INFO", logger="ircish"):
        client.send("QUIT :\x1b]0;HACKED\x07\x1b[2Jred")
    [line] = [r.getMessage() for r in caplog.records if "quit" in r.getMessage()]
    assert line == "mal (127.0.0.1) quit: 'Quit'"
