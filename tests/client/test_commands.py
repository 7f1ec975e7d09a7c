"""Slash commands -> IRC lines and local actions, table-driven."""

from __future__ import annotations

import pytest

from ircish.client.commands import LANGUAGE, UsageError, execute
from ircish.client.irc import IrcClient
from ircish.client.model import BufferKind, LineKind
from tests.client.conftest import feed, registered


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("hello room", ["PRIVMSG #lobby :hello room"]),
        ("  spaced  ", ["PRIVMSG #lobby :  spaced  "]),
        ("//slash is text", ["PRIVMSG #lobby :/slash is text"]),
        ("/join #dev", ["JOIN #dev"]),
        ("/join dev", ["JOIN #dev"]),
        ("/j #a, #b", ["JOIN #a,#b"]),
        ("/join #secret key=hunter2", ["JOIN #secret hunter2"]),
        ("/join #a #b key=k2", ["JOIN #b,#a k2"]),
        ("/part", ["PART #lobby"]),
        ("/part see you", ["PART #lobby :see you"]),
        ("/part #dev", ["PART #dev"]),
        ("/msg bob hi there", ["PRIVMSG bob :hi there"]),
        ("/msg #dev hi", ["PRIVMSG #dev hi"]),
        ("/me waves", ["PRIVMSG #lobby :\x01ACTION waves\x01"]),
        ("/notice bob ping", ["NOTICE bob ping"]),
        ("/nick alicia", ["NICK alicia"]),
        ("/topic", ["TOPIC #lobby"]),
        ("/topic new topic", ["TOPIC #lobby :new topic"]),
        ("/topic #dev x", ["TOPIC #dev x"]),
        ("/topic -delete", ["TOPIC #lobby :"]),
        ("/topic #dev -delete", ["TOPIC #dev :"]),
        ("/who", ["WHO #lobby"]),
        ("/who bob", ["WHO bob"]),
        ("/whois bob", ["WHOIS bob"]),
        ("/names", ["NAMES #lobby"]),
        ("/names dev", ["NAMES #dev"]),
        ("/list", ["LIST"]),
        ("/list #d*", ["LIST #d*"]),
        ("/away gone fishing", ["AWAY :gone fishing"]),
        ("/away", ["AWAY"]),
        ("/kick bob", ["KICK #lobby bob"]),
        ("/kick #dev bob spam", ["KICK #dev bob spam"]),
        ("/mode", ["MODE #lobby"]),
        ("/mode +o bob", ["MODE #lobby +o bob"]),
        ("/mode alice +i", ["MODE alice +i"]),
        ("/mode +B", ["MODE alice +B"]),
        ("/list dev", ["LIST *dev*"]),
        ("/ban bob", ["MODE #lobby +b bob!*@*"]),
        ("/oper admin pw", ["OPER admin pw"]),
        ("/kline 1h bob spam", ["KLINE 1h bob spam"]),
        ("/whowas bob", ["WHOWAS bob"]),
        ("/ns help", ["NS help"]),
        ("/invite bob", ["INVITE bob #lobby"]),
        ("/invite bob dev", ["INVITE bob #dev"]),
        ("/quit", ["QUIT Leaving"]),
        ("/quit gotta go", ["QUIT :gotta go"]),
        ("/raw PRIVMSG bob :raw line", ["PRIVMSG bob :raw line"]),
        ("/JOIN #Caps", ["JOIN #Caps"]),
    ],
)
def test_translation(client: IrcClient, typed: str, sent: list[str]) -> None:
    execute(client, typed)
    assert client.pop_outgoing() == sent


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("/msg bob", "Usage: /msg NICK|#room TEXT"),
        ("/join", "Usage: /join"),
        ("/nick a b", "Usage: /nick NAME"),
        ("/frobnicate", "Unknown command /frobnicate"),
        ("/kick", "Usage: /kick"),
        ("/invite", "Usage: /invite"),
        ("/raw", "Usage: /raw LINE"),
        ("/switch nowhere", "No buffer called nowhere"),
        ("/me", "Usage: /me ACTION"),
        ("/join #help newbies", "To join #help with the key newbies, type /join #help key=newbies"),
        ("/jion #a", r"Unknown command /jion \(did you mean /join\?\)"),
    ],
)
def test_usage_errors(client: IrcClient, typed: str, error: str) -> None:
    with pytest.raises(UsageError, match=error.replace("|", r"\|")):
        execute(client, typed)
    assert client.pop_outgoing() == []


def test_plain_text_in_the_server_buffer_is_refused(client: IrcClient) -> None:
    client.model.switch(client.model.server)
    with pytest.raises(UsageError, match="Nobody to talk to here"):
        execute(client, "hello?")
    with pytest.raises(UsageError, match="not a room"):
        execute(client, "/topic")


def test_blank_lines_send_nothing(client: IrcClient) -> None:
    execute(client, "   ")
    assert client.pop_outgoing() == []


def test_local_echo_without_echo_message(client: IrcClient) -> None:
    execute(client, "hi all")
    line = client.model.current.lines[-1]
    assert (line.kind, line.nick, line.text, line.own) == (
        LineKind.MESSAGE,
        "alice",
        "hi all",
        True,
    )


def test_no_local_echo_when_the_server_echoes(client: IrcClient) -> None:
    client.caps.add("echo-message")
    before = len(client.model.current.lines)
    execute(client, "hi all")
    assert len(client.model.current.lines) == before


def test_msg_opens_a_private_buffer_but_stays_here(client: IrcClient) -> None:
    execute(client, "/msg bob psst")
    bob = client.model.find("bob")
    assert bob is not None and bob.kind is BufferKind.QUERY
    assert bob.lines[-1].text == "psst"
    assert client.model.current.name == "#lobby"


def test_query_opens_and_switches(client: IrcClient) -> None:
    execute(client, "/query carol hello")
    assert client.model.current.name == "carol"
    assert client.pop_outgoing() == ["PRIVMSG carol hello"]
    execute(client, "plain text goes to carol")
    assert client.pop_outgoing() == ["PRIVMSG carol :plain text goes to carol"]
    execute(client, "/me nods")
    assert client.pop_outgoing() == ["PRIVMSG carol :\x01ACTION nods\x01"]
    execute(client, "/whois")
    assert client.pop_outgoing() == ["WHOIS carol"]


def test_join_of_a_joined_room_switches_without_sending(client: IrcClient) -> None:
    client.model.switch(client.model.server)
    execute(client, "/join lobby")
    assert client.pop_outgoing() == []
    assert client.model.current.name == "#lobby"


def test_join_switches_when_the_server_confirms(client: IrcClient) -> None:
    execute(client, "/join #dev")
    assert client.model.current.name == "#lobby"
    feed(client, ":alice!~a@h JOIN #dev")
    assert client.model.current.name == "#dev"


def test_part_in_a_query_closes_it(client: IrcClient) -> None:
    execute(client, "/query bob")
    execute(client, "/part")
    assert client.pop_outgoing() == []
    assert client.model.find("bob") is None


def test_switch_close_and_clear(client: IrcClient) -> None:
    execute(client, "/query bob")
    execute(client, "/switch 2")
    assert client.model.current.name == "#lobby"
    execute(client, "/switch lobby")
    assert client.model.current.name == "#lobby"
    execute(client, "/window BOB")
    assert client.model.current.name == "bob"
    execute(client, "/close")
    assert client.model.find("bob") is None
    execute(client, "/clear")
    assert len(client.model.current.lines) == 0
    with pytest.raises(UsageError, match="server buffer stays open"):
        execute(client, "/close 1")


def test_close_of_a_joined_room_parts_it(client: IrcClient) -> None:
    execute(client, "/close #lobby")
    assert client.pop_outgoing() == ["PART #lobby"]
    feed(client, ":alice!~a@h PART #lobby")
    assert client.model.find("#lobby") is None


def test_help_is_a_table_of_every_command(client: IrcClient) -> None:
    execute(client, "/help")
    table = client.model.current.lines[-2].table
    assert table is not None
    # Every command but /pass (the client gives the server password itself, --password).
    assert len(table.rows) == len(LANGUAGE.commands) - 1
    usages = [usage for usage, _ in table.rows]
    assert "/pass PASSWORD" not in usages
    assert {"/switch NAME|NUMBER", "/kline [DURATION] MASK|NICK [reason]"} <= set(usages)
    # Aliases are shown with their command.
    assert dict(table.rows)["/join #room [key=KEY] [#room2 ...]"].endswith("(also /j)")
    assert client.model.current.lines[-1].text.startswith("Keys: Enter send")
    execute(client, "/help /msg")
    assert client.model.current.lines[-1].text.startswith("/msg NICK|#room TEXT: ")


def test_nick_while_disconnected_changes_the_nick_to_register_with() -> None:
    client = registered()
    client.connection_lost("gone")
    execute(client, "/nick zelda")
    client.connection_made()
    assert "NICK zelda" in client.pop_outgoing()


def test_reconnect_sets_the_flag(client: IrcClient) -> None:
    execute(client, "/reconnect")
    assert client.reconnect_requested
