"""Server history in the client: the model's ordering and dedupe, and the chathistory protocol.

The model tests build lines by hand; the protocol tests feed a registered
``IrcClient`` the lines an IRCv3 ``draft/chathistory`` server sends (a
``chathistory`` batch of PRIVMSGs with ``time`` and ``msgid`` tags) and check
both what it asks for and what ends up in the buffer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ircish.client.irc import IrcClient
from ircish.client.model import MAX_LINES, Buffer, BufferKind, Line, LineKind, Model
from tests.client.conftest import T0, feed, make_client

HISTORY_CAPS = "server-time echo-message batch message-tags draft/chathistory"


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def stamp(minute: int) -> str:
    """A server-time tag for T0 + ``minute``."""
    return at(minute).astimezone().isoformat()


@pytest.fixture
def model() -> Model:
    return Model("alice", "srv:6667", clock=lambda: T0)


def msg(model: Model, minute: int, text: str, msgid: str = "", nick: str = "bob") -> Line:
    return model.make_message(nick, text, time=at(minute), msgid=msgid, history=True)


def texts(buf: Buffer) -> list[str]:
    return [line.text for line in buf.lines]


# -- the model ---------------------------------------------------------------------------


def test_a_message_with_a_msgid_already_in_the_buffer_is_not_added_twice(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    first = model.message(lobby, "bob", "hello", msgid="m1")
    again = model.message(lobby, "bob", "hello", msgid="m1")
    assert again is first
    assert texts(lobby) == ["hello"]
    assert lobby.unread == 1
    # Lines without a msgid (a server that has none) are never merged.
    model.message(lobby, "bob", "hello")
    model.message(lobby, "bob", "hello")
    assert texts(lobby) == ["hello", "hello", "hello"]


def test_history_goes_before_newer_lines_in_time_order(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    model.line(lobby, LineKind.JOIN, "You joined #lobby", time=at(10))
    model.message(lobby, "carol", "live", time=at(11), msgid="m9")
    # A batch in any order: the buffer gets it sorted, before the newer lines.
    batch = [msg(model, 3, "third", "m3"), msg(model, 1, "first", "m1"), msg(model, 2, "2nd", "m2")]
    assert model.insert_history(lobby, batch) == 3
    assert texts(lobby) == ["first", "2nd", "third", "You joined #lobby", "live"]
    assert all(line.history for line in list(lobby.lines)[:3])
    assert (lobby.oldest_msgid(), lobby.newest_msgid()) == ("m1", "m9")


def test_history_drops_what_the_buffer_already_has(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    model.message(lobby, "bob", "seen live", time=at(5), msgid="m5")
    added = model.insert_history(
        lobby, [msg(model, 4, "older", "m4"), msg(model, 5, "seen live", "m5")]
    )
    assert added == 1
    assert texts(lobby) == ["older", "seen live"]
    # And a live line (an echo) of a message history already brought is dropped too.
    model.insert_history(lobby, [msg(model, 6, "mine", "m6", nick="alice")])
    model.message(lobby, "alice", "mine", time=at(6), msgid="m6")
    assert texts(lobby) == ["older", "seen live", "mine"]


def test_an_older_page_goes_on_top_and_the_view_stays_still(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    model.switch(lobby)
    for minute in range(10, 20):
        model.message(lobby, "bob", f"line {minute}", time=at(minute), msgid=f"m{minute}")
    lobby.scroll = 4  # reading back: lines 16..19 are below the view
    model.insert_history(lobby, [msg(model, m, f"line {m}", f"m{m}") for m in range(5, 10)])
    assert texts(lobby)[:6] == [f"line {m}" for m in range(5, 11)]
    assert lobby.scroll == 4  # counted from the bottom: the same lines are in view
    assert lobby.unread == 0


def test_missed_lines_below_a_scrolled_view_keep_it_still_and_count_as_unread(
    model: Model,
) -> None:
    bells: list[int] = []
    model.on_bell = lambda: bells.append(1)
    lobby = model.open("#lobby", BufferKind.ROOM)
    model.message(lobby, "bob", "before", time=at(1), msgid="m1")
    model.line(lobby, LineKind.ERROR, "Disconnected: timed out", time=at(2))
    model.message(lobby, "bob", "after rejoin", time=at(9), msgid="m9")
    missed = [msg(model, 3, "alice: you there?", "m3"), msg(model, 4, "alice: hello?", "m4")]
    assert model.insert_history(lobby, missed, missed=True, after="m1") == 2
    assert texts(lobby) == [
        "before",
        "Disconnected: timed out",
        "alice: you there?",
        "alice: hello?",
        "after rejoin",
    ]
    assert (lobby.unread, lobby.highlights) == (4, 2)
    assert bells == [1]  # two mentions, one bell for the whole batch

    # In view and scrolled back: a missed line below the view scrolls it by one.
    model.switch(lobby)
    lobby.scroll = 1
    model.insert_history(lobby, [msg(model, 10, "newest", "m10")], missed=True)
    model.insert_history(lobby, [msg(model, 0, "oldest", "m0")], missed=True)
    assert lobby.scroll == 2
    assert (texts(lobby)[0], texts(lobby)[-1]) == ("oldest", "newest")


def test_a_burst_in_one_millisecond_keeps_the_server_order(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    # Live: b3, b4 (same time as the burst). An older page: b0..b2, same time too.
    model.message(lobby, "bob", "b3", time=at(1), msgid="b3")
    model.message(lobby, "bob", "b4", time=at(1), msgid="b4")
    model.insert_history(lobby, [msg(model, 1, f"b{i}", f"b{i}") for i in range(3)])
    assert texts(lobby) == ["b0", "b1", "b2", "b3", "b4"]
    # A catch-up after b4 of b5, b6 (same time) with b4 repeated: after it, in order.
    batch = [msg(model, 1, f"b{i}", f"b{i}") for i in (4, 5, 6)]
    model.insert_history(lobby, batch, missed=True, after="b4")
    assert texts(lobby) == [f"b{i}" for i in range(7)]
    # Without the repeat, the anchor (what the request followed) still places them.
    model.insert_history(lobby, [msg(model, 1, "b7", "b7")], missed=True, after="b6")
    assert texts(lobby)[-1] == "b7"


def test_older_history_never_counts_as_activity(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    model.insert_history(lobby, [msg(model, 1, "alice: old news", "m1")])
    assert (lobby.unread, lobby.highlights) == (0, 0)


def test_a_full_buffer_keeps_its_newest_lines_and_forgets_evicted_msgids(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    for i in range(MAX_LINES + 1):
        model.message(lobby, "bob", f"n{i}", time=at(100 + i), msgid=f"n{i}")
    assert lobby.full and len(lobby.lines) == MAX_LINES
    assert "n0" not in lobby.msgids and lobby.oldest_msgid() == "n1"
    # Older than everything kept: nowhere to go. Newer: the oldest line makes room.
    assert model.insert_history(lobby, [msg(model, 0, "ancient", "a0")]) == 0
    assert model.insert_history(lobby, [msg(model, 5000, "late", "z")], missed=True) == 1
    assert lobby.oldest_msgid() == "n2" and texts(lobby)[-1] == "late"
    assert len(lobby.msgids) == MAX_LINES


def test_clear_keeps_the_catch_up_point_and_stops_scroll_fetches(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    model.message(lobby, "bob", "x", msgid="m1")
    model.clear(lobby)
    assert list(lobby.lines) == [] and lobby.msgids == {}
    assert lobby.newest_msgid() == "m1"
    assert lobby.history_start


# -- the protocol ------------------------------------------------------------------------


def history_client(rooms: tuple[str, ...] = ("#lobby",), caps: str = HISTORY_CAPS) -> IrcClient:
    """A client registered with the history capabilities, its JOINs not yet answered."""
    client = make_client(rooms=rooms)
    client.connection_made()
    client.pop_outgoing()
    offered = caps + " multi-prefix"
    req = feed(client, f":srv CAP * LS :{offered}")
    assert req[0].startswith("CAP REQ ")
    assert feed(client, f":srv CAP * ACK :{req[0].split(' ', 2)[2].lstrip(':')}") == ["CAP END"]
    feed(client, ":srv 001 alice :Welcome", ":srv 005 alice CHANTYPES=# CHATHISTORY=1000 :ok")
    return client


def join(client: IrcClient, room: str = "#lobby") -> list[str]:
    """What the client sends on joining ``room``, besides the WHO that learns who is away."""
    out = feed(
        client,
        f":alice!~a@h JOIN {room}",
        f":srv 353 alice = {room} :@alice bob",
        f":srv 366 alice {room} :End of /NAMES list",
    )
    return [x for x in out if not x.startswith("WHO ")]


def batch(target: str, *messages: tuple[int, str, str, str], ref: str = "h1") -> list[str]:
    """A chathistory batch: (minute, msgid, nick, text) per message."""
    lines = [f":srv BATCH +{ref} chathistory {target}"]
    for minute, msgid, nick, text in messages:
        tags = f"@batch={ref};time={stamp(minute)};msgid={msgid}"
        lines.append(f"{tags} :{nick}!~{nick}@h PRIVMSG {target} :{text}")
    lines.append(f":srv BATCH -{ref}")
    return lines


def test_the_history_capabilities_are_requested_when_offered() -> None:
    client = make_client()
    client.connection_made()
    client.pop_outgoing()
    out = feed(client, f":srv CAP * LS :{HISTORY_CAPS} draft/event-playback")
    assert out == ["CAP REQ :server-time echo-message batch message-tags draft/chathistory"]


def test_joining_asks_for_the_latest_messages_and_shows_them_before_the_join() -> None:
    client = history_client()
    assert join(client) == ["CHATHISTORY LATEST #lobby * 50"]
    lobby = client.model.find("#lobby")
    assert lobby is not None and lobby.history_pending
    feed(
        client,
        *batch(
            "#lobby",
            (-3, "m1", "bob", "good morning"),
            (-2, "m2", "carol", "\x01ACTION waves\x01"),
            (-1, "m3", "alice", "my own, from earlier"),
        ),
    )
    assert not lobby.history_pending
    kinds = [(line.kind, line.nick, line.text, line.msgid) for line in lobby.lines]
    assert kinds[:3] == [
        (LineKind.MESSAGE, "bob", "good morning", "m1"),
        (LineKind.ACTION, "carol", "waves", "m2"),
        (LineKind.MESSAGE, "alice", "my own, from earlier", "m3"),
    ]
    assert kinds[3][2] == "You joined #lobby"
    assert lobby.lines[0].time == at(-3)  # the original time, from server-time
    assert lobby.lines[2].own
    # Fewer than asked: the server has nothing older, scrolling up asks nothing more.
    assert lobby.history_start
    assert not client.fetch_older(lobby)


def test_scrolling_up_asks_for_the_page_before_the_oldest_message_once() -> None:
    client = history_client()
    join(client)
    page = [(m - 60, f"m{m}", "bob", f"line {m}") for m in range(50)]
    feed(client, *batch("#lobby", *page))
    lobby = client.model.find("#lobby")
    assert lobby is not None and not lobby.history_start  # a full page: maybe more
    assert client.fetch_older(lobby)
    assert client.pop_outgoing() == ["CHATHISTORY BEFORE #lobby msgid=m0 50"]
    # One request in flight per buffer: reaching the top again sends nothing.
    assert not client.fetch_older(lobby)
    assert client.pop_outgoing() == []
    feed(client, *batch("#lobby", (-62, "o2", "bob", "older 2"), (-61, "o1", "bob", "older 1")))
    assert texts(lobby)[:3] == ["Start of the history of #lobby", "older 2", "older 1"]
    assert not client.fetch_older(lobby)


def test_rejoining_after_a_reconnect_asks_only_for_what_was_missed() -> None:
    client = history_client(rooms=("#lobby", "#dev"))
    join(client, "#lobby")
    join(client, "#dev")
    feed(client, *batch("#lobby", (-1, "m1", "bob", "before")))
    feed(client, *batch("#dev", ref="h2"))  # an empty batch: no history
    feed(client, f"@time={stamp(1)};msgid=m2 :bob!~b@h PRIVMSG #lobby :live")
    client.model.open("bob", BufferKind.QUERY)
    feed(client, f"@time={stamp(2)};msgid=p1 :bob!~b@h PRIVMSG alice :psst")

    client.connection_lost("timed out")
    client.connection_made()
    client.pop_outgoing()
    feed(client, f":srv CAP * LS :{HISTORY_CAPS}")
    feed(client, f":srv CAP * ACK :{HISTORY_CAPS}")
    assert feed(client, ":srv 001 alice :Welcome") == [
        "JOIN #lobby,#dev",
        "CHATHISTORY LATEST bob msgid=p1 100",
    ]
    assert join(client, "#lobby") == ["CHATHISTORY LATEST #lobby msgid=m2 100"]
    assert join(client, "#dev") == ["CHATHISTORY LATEST #dev * 50"]

    # The server sends what we missed, plus the message we already have: shown once.
    client.model.switch(client.model.server)
    feed(
        client,
        *batch(
            "#lobby",
            (1, "m2", "bob", "live"),
            (3, "m3", "carol", "while you were away"),
        ),
    )
    lobby = client.model.find("#lobby")
    assert lobby is not None
    shown = texts(lobby)
    assert shown.count("live") == 1
    assert shown.index("live") < shown.index("while you were away")
    assert lobby.unread == 1  # the missed line is news


def test_live_messages_during_a_request_are_not_duplicated_by_its_answer() -> None:
    client = history_client()
    join(client)
    feed(client, f"@time={stamp(1)};msgid=m5 :bob!~b@h PRIVMSG #lobby :just now")
    feed(client, *batch("#lobby", (-1, "m4", "bob", "earlier"), (1, "m5", "bob", "just now")))
    lobby = client.model.find("#lobby")
    assert lobby is not None
    assert texts(lobby)[0] == "earlier"
    assert texts(lobby)[-1] == "just now"
    assert texts(lobby).count("just now") == 1


def test_other_batches_are_handled_as_live_lines() -> None:
    client = history_client()
    join(client)
    feed(
        client,
        ":srv BATCH +n1 netsplit irc.a irc.b",
        "@batch=n1 :bob!~b@h QUIT :irc.a irc.b",
        ":srv BATCH -n1",
    )
    lobby = client.model.find("#lobby")
    assert lobby is not None
    assert "bob quit (irc.a irc.b)" in texts(lobby)


def test_a_history_batch_with_events_and_tagmsg_keeps_only_messages() -> None:
    client = history_client()
    join(client)
    feed(
        client,
        ":srv BATCH +h1 chathistory #lobby",
        f"@batch=h1;time={stamp(-3)};msgid=j1 :bob!~b@h JOIN #lobby",
        f"@batch=h1;time={stamp(-2)};msgid=t1;+draft/react=x :bob!~b@h TAGMSG #lobby",
        f"@batch=h1;time={stamp(-1)};msgid=n1 :bob!~b@h NOTICE #lobby :a notice",
        ":srv BATCH -h1",
    )
    lobby = client.model.find("#lobby")
    assert lobby is not None
    assert lobby.lines[0].kind is LineKind.NOTICE and lobby.lines[0].text == "a notice"
    assert "bob" in lobby.members  # the JOIN in history changed nobody's membership
    assert len(lobby.members) == 2


def test_a_fail_answer_ends_the_request_with_a_line_in_the_server_buffer() -> None:
    client = history_client()
    join(client)
    lobby = client.model.find("#lobby")
    assert lobby is not None
    feed(client, ":srv FAIL CHATHISTORY MESSAGE_ERROR LATEST #lobby :History is unavailable")
    assert not lobby.history_pending
    assert client.model.server.lines[-1].text == "No history of #lobby: History is unavailable"


def test_without_the_capabilities_nothing_is_requested() -> None:
    client = history_client(caps="server-time echo-message")
    assert join(client) == []
    lobby = client.model.find("#lobby")
    assert lobby is not None and not client.fetch_older(lobby)


def test_the_server_limit_caps_the_requests() -> None:
    client = history_client()
    feed(client, ":srv 005 alice CHATHISTORY=20 :ok")
    assert join(client) == ["CHATHISTORY LATEST #lobby * 20"]
