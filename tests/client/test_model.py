"""The model alone: buffers, activity counts, members, history."""

from __future__ import annotations

import pytest

from ircish.client.irc import IrcClient
from ircish.client.model import BufferKind, History, LineKind, Model, casefolder
from ircish.client.networks import Networks
from tests.client.conftest import T0


def alone(model: Model) -> Networks:
    """The buffer list of the model's network, open alone."""
    return Networks.single(IrcClient(model))


@pytest.fixture
def model() -> Model:
    bells: list[int] = []
    m = Model("alice", "srv:6667", clock=lambda: T0, on_bell=lambda: bells.append(1))
    m.bells = bells  # type: ignore[attr-defined]
    return m


def test_server_buffer_is_first_and_current(model: Model) -> None:
    assert model.buffers == [model.server]
    assert model.current is model.server
    assert model.find("1") is model.server
    assert model.find("server") is model.server


def test_buffers_are_numbered_in_opening_order_and_found_case_insensitively(model: Model) -> None:
    lobby = model.open("#Lobby", BufferKind.ROOM)
    bob = model.open("bob", BufferKind.QUERY)
    nets = alone(model)
    assert nets.number(nets.current, lobby) == 2
    assert nets.number(nets.current, bob) == 3
    assert model.find("#lobby") is lobby
    assert model.find("BOB") is bob
    assert model.open("#LOBBY", BufferKind.ROOM) is lobby
    assert model.find("3") is bob
    assert model.find("9") is None


def test_unread_counts_only_messages_in_buffers_not_in_view(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    model.message(lobby, "bob", "hello")
    model.line(lobby, LineKind.JOIN, "carol joined", "carol")
    assert (lobby.unread, lobby.highlights) == (1, 0)
    model.switch(lobby)
    assert (lobby.unread, lobby.highlights) == (0, 0)
    model.message(lobby, "bob", "again")
    assert lobby.unread == 0


def test_a_mention_elsewhere_is_a_highlight_and_rings_the_bell(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    line = model.message(lobby, "bob", "Alice: are you there?")
    assert line.mention
    assert (lobby.unread, lobby.highlights) == (1, 1)
    assert model.bells == [1]  # type: ignore[attr-defined]


def test_mentions_match_whole_nicknames_only(model: Model) -> None:
    assert model.mentions_me("hi alice!")
    assert model.mentions_me("ALICE")
    assert not model.mentions_me("malice aforethought")
    assert not model.mentions_me("alice_ is someone else")
    model.set_nick("alice_")
    assert model.mentions_me("alice_: hi")


def test_a_mention_in_the_buffer_in_view_does_not_ring(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    model.switch(lobby)
    assert model.message(lobby, "bob", "alice: hi").mention
    assert model.bells == []  # type: ignore[attr-defined]


def test_private_messages_are_highlights(model: Model) -> None:
    bob = model.open("bob", BufferKind.QUERY)
    model.message(bob, "bob", "psst")
    assert (bob.unread, bob.highlights) == (1, 1)


def test_own_lines_are_marked_and_never_count(model: Model) -> None:
    lobby = model.open("#lobby", BufferKind.ROOM)
    line = model.message(lobby, "alice", "talking about alice")
    assert line.own and not line.mention
    assert lobby.unread == 0


def test_being_kicked_elsewhere_is_one_unread_highlight(model: Model) -> None:
    rust = model.open("#rust", BufferKind.ROOM)
    model.line(rust, LineKind.KICK, "You were kicked from #rust by bob", "bob", mention=True)
    assert (rust.unread, rust.highlights) == (1, 1)
    assert model.bells == [1]  # type: ignore[attr-defined]
    model.line(rust, LineKind.KICK, "bob kicked carol from #rust", "bob")
    assert (rust.unread, rust.highlights) == (1, 1)  # someone else's kick is noise


@pytest.mark.parametrize("kind", list(LineKind))
@pytest.mark.parametrize("where", [BufferKind.ROOM, BufferKind.QUERY])
def test_a_highlight_is_always_one_of_the_unread_lines(
    model: Model, kind: LineKind, where: BufferKind
) -> None:
    buf = model.open("#rust" if where is BufferKind.ROOM else "bob", where)
    for own in (False, True):
        model.line(buf, kind, "alice: look", "bob", own=own, mention=not own)
    assert buf.highlights <= buf.unread
    counted = {LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE, LineKind.KICK}
    assert buf.unread == (1 if kind in counted else 0)


def test_activity_lists_buffers_with_unread_lines(model: Model) -> None:
    a = model.open("#a", BufferKind.ROOM)
    b = model.open("#b", BufferKind.ROOM)
    model.message(b, "bob", "x")
    nets = alone(model)
    assert nets.activity() == [(3, nets.current, b)]
    assert nets.to_activity()
    assert model.current is b
    assert not nets.to_activity()
    assert a.unread == 0


def test_switch_to_activity_prefers_highlights(model: Model) -> None:
    model.open("#a", BufferKind.ROOM)
    model.message(model.find("#a"), "bob", "noise")  # type: ignore[arg-type]
    b = model.open("#b", BufferKind.ROOM)
    model.message(b, "bob", "alice: look")
    alone(model).to_activity()
    assert model.current is b


def test_switch_relative_wraps_around(model: Model) -> None:
    a = model.open("#a", BufferKind.ROOM)
    nets = alone(model)
    nets.step(-1)
    assert model.current is a
    nets.step(1)
    assert model.current is model.server


def test_closing_the_current_buffer_goes_to_the_previous_one(model: Model) -> None:
    a = model.open("#a", BufferKind.ROOM)
    b = model.open("#b", BufferKind.ROOM)
    model.switch(b)
    model.close(b)
    assert model.current is a
    assert model.buffers.index(a) == 1
    with pytest.raises(ValueError):
        model.close(model.server)


def test_scrolled_back_view_stays_still_when_lines_arrive(model: Model) -> None:
    a = model.open("#a", BufferKind.ROOM)
    model.switch(a)
    a.scroll = 3
    model.message(a, "bob", "new")
    assert a.scroll == 4


def test_members_keep_prefixes_by_rank(model: Model) -> None:
    a = model.open("#a", BufferKind.ROOM)
    model.add_member(a, "zed")
    model.add_member(a, "bob", "+")
    model.add_member(a, "carol")
    model.set_prefix(a, "carol", "@", True)
    model.set_prefix(a, "bob", "@", True)
    assert a.members["bob"] == ("bob", "@+")
    assert model.sorted_members(a) == ["@bob", "@carol", "zed"]
    model.set_prefix(a, "bob", "@", False)
    assert model.sorted_members(a) == ["@carol", "+bob", "zed"]
    model.rename_member(a, "ZED", "Zoe")
    assert "zoe" in a.members
    assert model.remove_member(a, "zoe")
    assert not model.remove_member(a, "zoe")


def test_history_walks_back_and_returns_to_the_draft() -> None:
    h = History()
    for text in ("one", "two", "two", "  "):
        h.add(text)
    assert h.entries == ["one", "two"]
    assert h.up("draft") == "two"
    assert h.up("two") == "one"
    assert h.up("one") is None
    assert h.down("one") == "two"
    assert h.down("two") == "draft"
    assert h.down("draft") is None


def test_history_is_bounded() -> None:
    h = History(limit=3)
    for i in range(10):
        h.add(str(i))
    assert h.entries == ["7", "8", "9"]


@pytest.mark.parametrize(
    ("mapping", "a", "b", "same"),
    [
        ("ascii", "Alice", "ALICE", True),
        ("ascii", "a[b]", "a{b}", False),
        ("rfc1459", "a[b]~", "A{B}^", True),
        ("strict-rfc1459", "a~", "a^", False),
        ("rfc8265", "Вася", "ВАСЯ", True),
    ],
)
def test_casemappings(mapping: str, a: str, b: str, same: bool) -> None:
    fold = casefolder(mapping)
    assert (fold(a) == fold(b)) is same
