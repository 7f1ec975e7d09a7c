"""Tab completion: commands, nicknames (by recency), rooms, buffer names; cycling."""

from __future__ import annotations

import pytest

from ircish.client.commands import COMMAND_WORDS
from ircish.client.completion import Completer
from ircish.client.irc import IrcClient
from tests.client.conftest import feed, registered


@pytest.fixture
def completer(client: IrcClient) -> Completer:
    return Completer(client.model, COMMAND_WORDS)


def tab(c: Completer, text: str, cursor: int | None = None, back: bool = False) -> str | None:
    result = c.complete(text, len(text) if cursor is None else cursor, back)
    return None if result is None else result[0]


def test_nick_at_line_start_gets_a_colon(completer: Completer) -> None:
    assert tab(completer, "bo") == "bob: "


def test_nick_inside_a_line_gets_a_space(completer: Completer) -> None:
    assert tab(completer, "thanks ca") == "thanks carol "


def test_completion_is_case_insensitive_and_keeps_the_real_case(client: IrcClient) -> None:
    feed(client, ":Zed!~z@h JOIN #lobby")
    assert tab(Completer(client.model, COMMAND_WORDS), "zE") == "Zed: "


def test_own_nick_is_not_offered(completer: Completer) -> None:
    assert tab(completer, "ali") is None


def test_commands(completer: Completer) -> None:
    assert tab(completer, "/jo") == "/join "
    assert tab(completer, "/wh") == "/who "


def test_rooms_joined_then_listed(client: IrcClient) -> None:
    client.model.known_rooms.update({"#lounge", "#dev"})
    c = Completer(client.model, COMMAND_WORDS)
    assert tab(c, "/join #lo") == "/join #lobby "
    assert c.complete("/join #lobby ", 13) == ("/join #lounge ", 14)


def test_buffer_names_after_switch(client: IrcClient) -> None:
    feed(client, ":bob!~b@h PRIVMSG alice :hi")
    c = Completer(client.model, COMMAND_WORDS)
    assert tab(c, "/switch b") == "/switch bob "


def test_tab_again_cycles_and_shift_tab_goes_back(client: IrcClient) -> None:
    feed(client, ":bart!~b@h JOIN #lobby")
    c = Completer(client.model, COMMAND_WORDS)
    first = c.complete("b", 1)
    assert first == ("bart: ", 6)
    second = c.complete(*first)
    assert second == ("bob: ", 5)
    assert c.complete(*second) == ("bart: ", 6)
    assert c.complete("bart: ", 6, backwards=True) == ("bob: ", 5)


def test_recent_speakers_come_first(client: IrcClient) -> None:
    feed(client, ":bart!~b@h JOIN #lobby", ":bob!~b@h PRIVMSG #lobby :me first")
    c = Completer(client.model, COMMAND_WORDS)
    assert tab(c, "b") == "bob: "


def test_completing_in_the_middle_keeps_the_rest(completer: Completer) -> None:
    assert completer.complete("hi ca how are you", 5) == ("hi carol how are you", 8)


def test_typing_after_a_completion_starts_over(completer: Completer) -> None:
    assert tab(completer, "bo") == "bob: "
    assert tab(completer, "bob: ca") == "bob: carol "


def test_query_buffer_completes_the_peer() -> None:
    client = registered()
    feed(client, ":bob!~b@h PRIVMSG alice :hi")
    client.model.switch(client.model.find("bob"))  # type: ignore[arg-type]
    assert tab(Completer(client.model, COMMAND_WORDS), "b") == "bob: "


def test_nothing_to_complete(completer: Completer) -> None:
    assert tab(completer, "") is None
    assert tab(completer, "zzz") is None
    assert tab(completer, "/zz") is None


def test_away_users_come_after_those_here(client: IrcClient) -> None:
    feed(client, ":bert!~b@h JOIN #lobby", ":bea!~b@h JOIN #lobby")
    feed(client, ":srv 352 alice #lobby ~b h srv bea G :0 Bea", ":srv 315 alice #lobby :End")
    c = Completer(client.model, COMMAND_WORDS)
    assert [tab(c, "b"), tab(c, "bert: "), tab(c, "bob: ")] == ["bert: ", "bob: ", "bea: "]
    # Speaking puts anyone first again, away or not.
    feed(client, ":bea!~b@h PRIVMSG #lobby :still here, sort of")
    assert tab(Completer(client.model, COMMAND_WORDS), "b") == "bea: "
