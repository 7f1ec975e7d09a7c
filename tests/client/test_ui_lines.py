"""What the scrollback draws between and instead of lines: day changes, the read
marker, hidden and folded joins, parts and quits."""

from __future__ import annotations

from datetime import datetime, timedelta

from ircish.client.app import ScrollbackControl
from ircish.client.model import BufferKind, LineKind, Model
from ircish.client.render import Renderer

DAY1 = datetime(2026, 12, 1, 23, 58).astimezone()


def screen(model: Model, width: int = 60, height: int = 12) -> list[str]:
    control = ScrollbackControl(lambda: model, Renderer())
    content = control.create_content(width, height)
    rows = ["".join(t for _, t, *_ in content.get_line(i)) for i in range(content.line_count)]
    return [r.rstrip() for r in rows if r.strip()]


def test_a_day_change_line_between_lines_of_different_local_dates() -> None:
    now = [DAY1]
    model = Model("alice", "srv", clock=lambda: now[0])
    buf = model.open("#lobby", BufferKind.ROOM)
    model.switch(buf)
    model.message(buf, "bob", "late")
    model.message(buf, "bob", "still today")
    now[0] = DAY1 + timedelta(minutes=3)
    model.message(buf, "bob", "tomorrow")
    assert screen(model) == [
        "23:58 <bob> late",
        "23:58 <bob> still today",
        "--- Day changed to Wednesday, 2 December 2026",
        "00:01 <bob> tomorrow",
    ]


def test_the_read_marker_stands_above_what_arrived_out_of_view_until_one_leaves() -> None:
    model = Model("alice", "srv", clock=lambda: DAY1)
    lobby = model.open("#lobby", BufferKind.ROOM)
    dev = model.open("#dev", BufferKind.ROOM)
    model.switch(lobby)
    model.message(lobby, "bob", "seen")
    model.switch(dev)
    model.message(lobby, "bob", "unseen 1")
    model.message(lobby, "carol", "unseen 2")
    model.switch(lobby)
    shown = screen(model, width=40)
    assert shown == [
        "23:58 <bob> seen",
        "--- new messages " + "-" * 23,
        "23:58 <bob> unseen 1",
        "23:58 <carol> unseen 2",
    ]
    model.message(lobby, "bob", "seen live")
    assert screen(model, width=40)[-1] == "23:58 <bob> seen live"
    assert len(screen(model, width=40)) == 5  # one marker, still above "unseen 1"
    model.switch(dev)
    model.switch(lobby)
    assert not any("new messages" in r for r in screen(model))


def test_a_buffer_opened_out_of_view_has_no_marker_above_its_first_line() -> None:
    model = Model("alice", "srv", clock=lambda: DAY1)
    query = model.open("bob", BufferKind.QUERY)
    model.message(query, "bob", "hi")
    model.switch(query)
    assert screen(model) == ["23:58 <bob> hi"]


def noisy(model: Model) -> None:
    buf = model.open("#lobby", BufferKind.ROOM)
    model.switch(buf)
    model.line(buf, LineKind.JOIN, "You joined #lobby", "alice", own=True)
    model.line(buf, LineKind.JOIN, "bob (~b@h) joined #lobby", "bob")
    model.line(buf, LineKind.JOIN, "dave (~d@h) joined #lobby", "dave")
    model.line(buf, LineKind.QUIT, "carol quit (Quit: bye)", "carol")
    model.message(buf, "bob", "hello")
    model.line(buf, LineKind.PART, "erin left #lobby", "erin")


def test_joins_parts_and_quits_are_shown_by_default() -> None:
    model = Model("alice", "srv", clock=lambda: DAY1)
    noisy(model)
    assert model.show_joins and not model.fold_joins
    assert screen(model) == [
        "23:58 --> You joined #lobby",
        "23:58 --> bob (~b@h) joined #lobby",
        "23:58 --> dave (~d@h) joined #lobby",
        "23:58 <-- carol quit (Quit: bye)",
        "23:58 <bob> hello",
        "23:58 <-- erin left #lobby",
    ]


def test_show_joins_off_hides_others_joins_parts_and_quits() -> None:
    model = Model("alice", "srv", clock=lambda: DAY1)
    noisy(model)
    model.show_joins = False
    assert screen(model) == ["23:58 --> You joined #lobby", "23:58 <bob> hello"]


def test_fold_joins_draws_each_run_as_one_line() -> None:
    model = Model("alice", "srv", clock=lambda: DAY1)
    noisy(model)
    model.fold_joins = True
    assert screen(model) == [
        "23:58 --> You joined #lobby",
        "23:58 --> bob, dave joined; <-- carol quit",
        "23:58 <bob> hello",
        "23:58 <-- erin left #lobby",
    ]
    buf = model.current
    model.line(buf, LineKind.JOIN, "frank (~f@h) joined #lobby", "frank")
    assert screen(model)[-1] == "23:58 <-- erin left; --> frank joined"


def test_missed_history_after_a_reconnect_is_below_the_read_marker() -> None:
    model = Model("alice", "srv", clock=lambda: DAY1)
    lobby = model.open("#lobby", BufferKind.ROOM)
    model.message(lobby, "bob", "before", msgid="m1")
    missed = [
        model.make_message("bob", "while away 1", msgid="m2"),
        model.make_message("carol", "while away 2", msgid="m3"),
    ]
    assert model.insert_history(lobby, missed, missed=True, after="m1") == 2
    model.switch(lobby)
    assert screen(model, width=30) == [
        "23:58 <bob> before",
        "--- new messages " + "-" * 13,
        "23:58 <bob> while away 1",
        "23:58 <carol> while away 2",
    ]
