"""The IRC protocol layer, sans I/O: server lines in, model changes and client lines out."""

from __future__ import annotations

import pytest

from ircish.client.commands import execute
from ircish.client.irc import IrcClient, nick_variant, parse_time, split_text
from ircish.client.model import BufferKind, LineKind
from tests.client.conftest import feed, make_client, registered

# -- registration ---------------------------------------------------------------------


def test_registration_starts_with_cap_ls_then_nick_and_user() -> None:
    client = make_client(password="s3cret")
    client.connection_made()
    assert client.pop_outgoing() == [
        "CAP LS 302",
        "PASS s3cret",
        "NICK alice",
        "USER alice 0 * alice",
    ]
    assert client.model.state == "registering"


def test_cap_negotiation_requests_what_the_server_offers_then_ends() -> None:
    client = make_client()
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, ":srv CAP * LS * :away-notify echo-message sasl=PLAIN") == []
    out = feed(client, ":srv CAP * LS :multi-prefix server-time")
    assert out == ["CAP REQ :server-time echo-message multi-prefix away-notify"]
    acked = ":srv CAP * ACK :server-time echo-message multi-prefix away-notify"
    assert feed(client, acked) == ["CAP END"]
    assert client.caps == {"server-time", "echo-message", "multi-prefix", "away-notify"}


def test_cap_nak_still_ends_negotiation() -> None:
    client = make_client()
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, ":srv CAP * LS :multi-prefix") == ["CAP REQ multi-prefix"]
    assert feed(client, ":srv CAP * NAK :multi-prefix") == ["CAP END"]
    assert client.caps == set()


def test_cap_ls_without_anything_wanted_ends_at_once() -> None:
    client = make_client()
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, ":srv CAP * LS :sasl") == ["CAP END"]


def test_welcome_joins_the_wanted_rooms_and_switches_to_the_first() -> None:
    client = make_client(rooms=("#lobby", "#dev"))
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, ":srv 001 alice :Welcome to testnet alice") == ["JOIN #lobby,#dev"]
    assert client.registered
    assert client.model.state == "connected"
    feed(client, ":alice!~a@h JOIN #lobby", ":alice!~a@h JOIN #dev")
    assert client.model.current.name == "#lobby"
    assert [b.name for b in client.model.buffers] == ["test:6667", "#lobby", "#dev"]


def test_taken_nickname_tries_the_next_variants() -> None:
    client = make_client()
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, ":srv 433 * alice :Nickname is already in use") == ["NICK alice_"]
    assert feed(client, ":srv 433 * alice_ :Nickname is already in use") == ["NICK alice2"]
    feed(client, ":srv 001 alice2 :Welcome")
    assert client.model.nick == "alice2"
    shown = [line.text for line in client.model.server.lines]
    assert "The nickname alice is taken; trying alice_" in shown


def test_taken_nickname_after_registration_is_only_reported(client: IrcClient) -> None:
    assert feed(client, ":srv 433 alice bob :Nickname is already in use") == []
    assert client.model.nick == "alice"
    assert client.model.current.lines[-1].text == "The nickname bob is taken; pick another"


def test_too_long_nickname_is_shortened_once() -> None:
    client = make_client(nick="christopher")
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, ":srv 432 * christopher :Erroneous nickname") == ["NICK christoph"]
    assert feed(client, ":srv 432 * christoph :Erroneous nickname") == []
    assert "try /nick NAME" in client.model.server.lines[-1].text


def test_nick_variants() -> None:
    assert [nick_variant("bob", i) for i in (1, 2, 3)] == ["bob_", "bob2", "bob3"]


def test_ping_is_answered_even_before_registration() -> None:
    client = make_client()
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, "PING :abc def") == ["PONG :abc def"]


def test_isupport_sets_casemapping_chantypes_prefixes_and_network() -> None:
    client = make_client()
    client.connection_made()
    feed(
        client,
        ":srv 001 alice :hi",
        ":srv 005 alice CASEMAPPING=rfc1459 CHANTYPES=#& PREFIX=(qov)~@+ NETWORK=Net :ok",
    )
    model = client.model
    assert model.fold("A[]") == model.fold("a{}")
    assert model.is_room_name("&local")
    assert model.prefix_modes == {"q": "~", "o": "@", "v": "+"}
    assert model.server.name == "Net"


def test_wrong_password_is_fatal() -> None:
    client = make_client(password="x")
    client.connection_made()
    feed(client, ":srv 464 * :Password incorrect", "ERROR :Closing link")
    assert client.fatal
    assert any("Wrong server password" in line.text for line in client.model.server.lines)


# -- messages -------------------------------------------------------------------------


def test_room_message_goes_to_the_room_buffer(client: IrcClient) -> None:
    feed(client, ":bob!~b@h PRIVMSG #lobby :hello alice")
    line = client.model.find("#lobby").lines[-1]  # type: ignore[union-attr]
    assert (line.kind, line.nick, line.text, line.mention) == (
        LineKind.MESSAGE,
        "bob",
        "hello alice",
        True,
    )


def test_private_message_opens_a_query_buffer_without_switching(client: IrcClient) -> None:
    feed(client, ":Bob!~b@h PRIVMSG alice :psst")
    bob = client.model.find("bob")
    assert bob is not None and bob.kind is BufferKind.QUERY
    assert bob.name == "Bob"
    assert client.model.current.name == "#lobby"
    assert bob.highlights == 1


def test_echoed_own_private_message_lands_in_the_peer_buffer(client: IrcClient) -> None:
    client.caps.add("echo-message")
    feed(client, ":alice!~a@h PRIVMSG bob :hi bob")
    line = client.model.find("bob").lines[-1]  # type: ignore[union-attr]
    assert line.own and line.text == "hi bob"


def test_server_time_tag_sets_the_line_time(client: IrcClient) -> None:
    feed(client, "@time=2020-02-03T04:05:06.000Z :bob!~b@h PRIVMSG #lobby :old news")
    line = client.model.current.lines[-1]
    assert line.time == parse_time("2020-02-03T04:05:06.000Z")
    assert line.time.utcoffset() is not None


def test_action_and_notice(client: IrcClient) -> None:
    feed(client, ":bob!~b@h PRIVMSG #lobby :\x01ACTION waves\x01")
    feed(client, ":bob!~b@h NOTICE #lobby :heads up")
    lines = list(client.model.current.lines)[-2:]
    assert [(x.kind, x.text) for x in lines] == [
        (LineKind.ACTION, "waves"),
        (LineKind.NOTICE, "heads up"),
    ]


def test_server_notices_go_to_the_server_buffer(client: IrcClient) -> None:
    feed(client, ":srv NOTICE alice :*** maintenance at noon")
    assert client.model.server.lines[-1].text == "*** maintenance at noon"


def test_ctcp_version_is_answered(client: IrcClient) -> None:
    out = feed(client, ":bob!~b@h PRIVMSG alice :\x01VERSION\x01")
    assert len(out) == 1 and out[0].startswith("NOTICE bob :\x01VERSION ircish ")


def all_texts(client: IrcClient) -> list[str]:
    return [line.text for buf in client.model.buffers for line in buf.lines]


def test_own_ctcp_reply_echoed_back_is_not_shown_as_someone_elses(client: IrcClient) -> None:
    client.caps.add("echo-message")
    (reply,) = feed(client, ":bob!~b@h PRIVMSG alice :\x01VERSION\x01")
    feed(client, ":bob!~b@h PRIVMSG alice :\x01PING 123\x01")
    before = all_texts(client)
    # The server echoes our auto-replies (echo-message), with our own nick as the source.
    echoed = feed(
        client,
        ":alice!~a@h " + reply,
        ":alice!~a@h NOTICE bob :\x01PING 123\x01",
        ":alice!~a@h PRIVMSG bob :\x01VERSION\x01",  # our own request (/raw), echoed
    )
    assert echoed == []  # never answered either
    assert all_texts(client) == before
    assert not any("reply from" in text for text in all_texts(client))
    assert "bob sent a CTCP VERSION request" in all_texts(client)
    assert client.model.find("bob") is None  # CTCP opens no private buffer


def test_others_ctcp_reply_is_shown(client: IrcClient) -> None:
    feed(client, ":bob!~b@h NOTICE alice :\x01VERSION irssi 1.4\x01")
    assert client.model.current.lines[-1].text == "CTCP VERSION reply from bob: irssi 1.4"
    assert client.model.find("bob") is None


# -- membership -------------------------------------------------------------------------


def names(client: IrcClient, room: str = "#lobby") -> list[str]:
    buf = client.model.find(room)
    assert buf is not None
    return client.model.sorted_members(buf)


def test_names_reply_fills_the_member_list(client: IrcClient) -> None:
    assert names(client) == ["@alice", "+carol", "bob"]
    assert client.model.current.lines[-1].text == "Users in #lobby (3): @alice +carol bob"


def test_join_part_quit_nick_kick_update_members(client: IrcClient) -> None:
    feed(client, ":dave!~d@h JOIN #lobby")
    assert "dave" in names(client)
    feed(client, ":dave!~d@h PART #lobby :bye")
    assert "dave" not in names(client)
    feed(client, ":bob!~b@h NICK robert")
    assert "robert" in names(client)
    feed(client, ":robert!~b@h QUIT :Quit: gone")
    assert "robert" not in names(client)
    feed(client, ":alice!~a@h KICK #lobby carol :behave")
    assert names(client) == ["@alice"]
    texts = [line.text for line in client.model.current.lines][-5:]
    assert texts == [
        "dave (~d@h) joined #lobby",
        "dave left #lobby (bye)",
        "bob is now known as robert",
        "robert quit (Quit: gone)",
        "alice kicked carol from #lobby (behave)",
    ]


def test_nick_change_renames_the_query_buffer(client: IrcClient) -> None:
    feed(client, ":bob!~b@h PRIVMSG alice :hi")
    feed(client, ":bob!~b@h NICK robert")
    assert client.model.find("bob") is None
    query = client.model.find("robert")
    assert query is not None and query.lines[-1].text == "bob is now known as robert"


def test_own_nick_change(client: IrcClient) -> None:
    feed(client, ":alice!~a@h NICK alicia")
    assert client.model.nick == "alicia"
    assert client.model.current.lines[-1].text == "You are now known as alicia"
    assert "alicia" in [m for m, _ in client.model.current.members.values()]


def test_own_part_closes_the_room_buffer(client: IrcClient) -> None:
    feed(client, ":alice!~a@h PART #lobby")
    assert client.model.find("#lobby") is None
    assert client.model.current is client.model.server
    assert "#lobby" not in [name for name, _ in client.channels.values()]


def test_being_kicked_keeps_the_buffer_and_says_so(client: IrcClient) -> None:
    feed(client, ":bob!~b@h KICK #lobby alice :out")
    buf = client.model.find("#lobby")
    assert buf is not None and not buf.joined
    assert buf.lines[-1].text == "You were kicked from #lobby by bob (out)"
    assert client.channels == {}


def test_mode_changes_update_prefixes(client: IrcClient) -> None:
    feed(client, ":alice!~a@h MODE #lobby +ov-v bob bob carol")
    assert names(client) == ["@alice", "@bob", "carol"]
    assert client.model.current.members["bob"] == ("bob", "@+")
    feed(client, ":alice!~a@h MODE #lobby +k-o secret bob")
    assert names(client) == ["@alice", "+bob", "carol"]


def test_no_topic_reply_clears_a_stale_topic(client: IrcClient) -> None:
    feed(client, ":srv 332 alice #lobby :Old news")
    assert client.model.current.topic == "Old news"
    feed(client, ":srv 331 alice #lobby :No topic is set")
    assert client.model.current.topic == ""
    assert client.model.current.lines[-1].text == "#lobby has no topic"


def test_a_topic_cleared_with_empty_text_is_gone(client: IrcClient) -> None:
    feed(client, ":srv 332 alice #lobby :Old news")
    feed(client, ":bob!~b@h TOPIC #lobby :")
    assert client.model.current.topic == ""
    assert client.model.current.lines[-1].text == "bob cleared the topic"


def test_rejoin_without_a_topic_forgets_the_old_one(client: IrcClient) -> None:
    feed(client, ":srv 332 alice #lobby :Old news")
    client.connection_lost("gone")
    client.connection_made()
    feed(client, ":srv 001 alice :Welcome back")
    # The topic was removed while we were away: the rejoin brings no 332.
    feed(client, ":alice!~a@h JOIN #lobby", ":srv 366 alice #lobby :End of /NAMES list")
    assert client.model.current.topic == ""
    feed(client, ":bob!~b@h KICK #lobby alice", ":alice!~a@h JOIN #lobby")
    feed(client, ":srv 332 alice #lobby :Fresh")
    assert client.model.current.topic == "Fresh"


def test_topic(client: IrcClient) -> None:
    feed(client, ":srv 332 alice #lobby :Welcome all", ":srv 333 alice #lobby bob 1700000000")
    assert client.model.current.topic == "Welcome all"
    feed(client, ":bob!~b@h TOPIC #lobby :New topic")
    assert client.model.current.topic == "New topic"
    assert client.model.current.lines[-1].text == "bob changed the topic to: New topic"


# -- collected answers -------------------------------------------------------------------


def test_who_answer_becomes_one_table(client: IrcClient) -> None:
    feed(
        client,
        ":srv 352 alice #lobby ~b h srv bob H@ :0 Bob B",
        ":srv 352 alice #lobby ~c h srv carol G :0 Carol",
        ":srv 315 alice #lobby :End of /WHO list",
    )
    line = client.model.current.lines[-1]
    assert line.kind is LineKind.TABLE and line.table is not None
    assert line.table.rows == (
        ("bob", "~b@h", "#lobby", "here @", "Bob B"),
        ("carol", "~c@h", "#lobby", "away", "Carol"),
    )


def test_a_who_answer_with_nobody_is_one_sentence(client: IrcClient) -> None:
    """Any server's empty answer (ngircd's text here), read as netcat users read it."""
    feed(client, ":srv 315 alice #nowhere :End of WHO list")
    line = client.model.current.lines[-1]
    assert line.kind is LineKind.INFO and line.table is None
    assert line.text == (
        "Nobody to show in #nowhere: there is no such room, or nobody in it you can see"
    )
    feed(client, ":srv 315 alice zed :End of WHO list")
    assert client.model.current.lines[-1].text == "Nobody online matches zed"


def test_list_answer_is_sorted_by_size_and_feeds_completion(client: IrcClient) -> None:
    feed(
        client,
        ":srv 321 alice Channel :Users Name",
        ":srv 322 alice #small 1 :",
        ":srv 322 alice #big 9 :busy place",
        ":srv 323 alice :End of /LIST",
    )
    table = client.model.current.lines[-1].table
    assert table is not None
    assert table.rows == (("#big", "9", "busy place"), ("#small", "1", ""))
    assert client.model.known_rooms == {"#big", "#small"}


def test_whois_answer_becomes_one_table(client: IrcClient) -> None:
    feed(
        client,
        ":srv 311 alice bob ~b h * :Bob B",
        ":srv 319 alice bob :@#lobby",
        ":srv 312 alice bob srv :testnet",
        ":srv 301 alice bob :lunch",
        ":srv 313 alice bob :is an IRC operator",
        ":srv 330 alice bob bobby :is logged in as",
        ":srv 671 alice bob :is using a secure connection",
        ":srv 317 alice bob 75 1700000000 :seconds idle, signon time",
        ":srv 318 alice bob :End of /WHOIS list",
    )
    table = client.model.current.lines[-1].table
    assert table is not None
    rows = {row[0]: row[1] for row in table.rows}
    assert rows["user"] == "bob!~b@h"
    assert rows["rooms"] == "@#lobby"
    assert rows["away"] == "lunch"
    assert rows["idle"] == "1m 15s"
    assert rows["operator"] == "yes"
    assert rows["account"] == "bobby"
    assert rows["connection"] == "TLS"


def test_errors_are_shown_in_the_current_buffer(client: IrcClient) -> None:
    feed(client, ":srv 401 alice zed :No such nick/channel")
    feed(client, ":srv 482 alice #lobby :You're not channel operator")
    feed(client, ":srv 499 alice x y :Something odd")
    texts = [(x.kind, x.text) for x in client.model.current.lines][-3:]
    assert texts == [
        (LineKind.ERROR, "No such nick or room: zed"),
        (LineKind.ERROR, "You need to be an operator of #lobby for that"),
        (LineKind.ERROR, "Something odd: x y"),
    ]
    assert client.model.server.lines[-1].text == "Something odd: x y"


def test_a_refused_room_name_says_why_in_the_words_of_netcat(client: IrcClient) -> None:
    # ircish-server's 403 for a name it will not create: the reason, with "room".
    feed(client, ":srv 403 alice #a:b :Invalid channel name: it may not contain ':'")
    assert client.model.current.lines[-1].text == (
        "#a:b is not a valid room name: it may not contain ':'"
    )
    feed(client, ":srv 403 alice #gone :No such channel")
    assert client.model.current.lines[-1].text == "No such room: #gone"


def test_another_servers_own_error_text_names_its_subject(client: IrcClient) -> None:
    feed(client, ":srv 401 alice zed :No such nick or channel name")
    assert client.model.current.lines[-1].text == "zed: No such nick or channel name"
    feed(client, ":srv 461 alice KICK :Usage: KICK #room NICK")
    assert client.model.current.lines[-1].text == "Usage: KICK #room NICK"  # names it
    feed(client, ":srv 475 alice #k :Cannot join channel (+k)")
    assert client.model.current.lines[-1].text == "#k needs a key: /join #k key=KEY"


def test_a_refused_oper_is_not_a_wrong_server_password(client: IrcClient) -> None:
    feed(client, ":srv 464 alice :Password incorrect")
    assert client.fatal is None
    assert client.model.current.lines[-1].text == "Wrong operator name or password"


def test_replies_read_as_on_netcat(client: IrcClient) -> None:
    feed(client, ":srv 367 alice #lobby bob!*@* carol!~c@h 1714566600")
    feed(client, ":srv 730 alice :bob!~b@h,carol")
    feed(client, ":srv 381 alice :You are now an IRC operator")
    texts = [x.text for x in client.model.server.lines][-3:]
    assert texts == [
        "Ban in #lobby: bob!*@* (set by carol on 2024-05-01 12:30 UTC)",
        "bob, carol are online",
        "You are now an IRC operator",
    ]


def test_whowas_is_one_table(client: IrcClient) -> None:
    execute(client, "/whowas bob")
    assert client.pop_outgoing() == ["WHOWAS bob"]
    feed(
        client,
        ":srv 314 alice bob ~b cloak.ircish * :Bob B",
        ":srv 312 alice bob irc.local :Wed May 01 12:30:00 2024 UTC",
        ":srv 369 alice bob :End of WHOWAS",
        ":srv 301 alice bob :lunch",
    )
    tables = [x.table for x in client.model.current.lines if x.table is not None]
    assert tables[-1].title == "/whowas bob"
    assert tables[-1].rows[:2] == (("user", "bob!~b@cloak.ircish"), ("real name", "Bob B"))
    # Nothing of the answer is left waiting: a later away reply is shown, not collected.
    assert client.model.current.lines[-1].text == "bob is away: lunch"


def test_a_standard_reply_shows_its_description(client: IrcClient) -> None:
    feed(client, ":srv FAIL KLINE INVALID_DURATION 10x :Invalid duration '10x'")
    assert client.model.current.lines[-1].text == "Invalid duration '10x'"


def test_away_state_follows_the_server(client: IrcClient) -> None:
    execute(client, "/away lunch")
    assert client.pop_outgoing() == ["AWAY lunch"]
    feed(client, ":srv 306 alice :You have been marked as being away")
    assert client.model.away == "lunch"
    execute(client, "/away")
    feed(client, ":srv 305 alice :You are no longer marked as being away")
    assert client.model.away is None


def test_malformed_lines_do_not_break_anything(client: IrcClient) -> None:
    feed(client, "", ":only-a-source", ":srv 353 alice", ":bob!~b@h PRIVMSG")
    assert client.registered


# -- reconnecting (the client's half) -------------------------------------------------------


def test_lost_connection_remembers_rooms_and_keeps_typed_lines() -> None:
    client = registered(rooms=("#lobby", "#dev"), members="bob")
    client.connection_lost("connection reset")
    assert not any(b.joined for b in client.model.rooms())
    assert "Disconnected: connection reset" in client.model.current.lines[-1].text
    execute(client, "typed while away")
    assert client.pop_outgoing() == []
    client.connection_made()
    assert client.pop_outgoing()[-2:] == ["NICK alice", "USER alice 0 * alice"]
    out = feed(client, ":srv 001 alice :Welcome back")
    assert out == ["JOIN #lobby,#dev", "PRIVMSG #lobby :typed while away"]
    feed(client, ":alice!~a@h JOIN #dev")
    assert client.model.current.name == "#lobby"  # rejoining does not steal the view


def test_rooms_with_keys_are_joined_first_with_their_keys() -> None:
    client = registered(rooms=("#open",))
    execute(client, "/join #secret key=hunter2")
    assert client.pop_outgoing() == ["JOIN #secret hunter2"]
    feed(client, ":alice!~a@h JOIN #secret")
    client.connection_lost("gone")
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, ":srv 001 alice :hi") == ["JOIN #secret,#open hunter2"]


def reconnect(client: IrcClient) -> list[str]:
    """Lose the link, connect again and be welcomed; what the client sends after 001."""
    client.connection_lost("gone")
    client.connection_made()
    client.pop_outgoing()
    return feed(client, ":srv 001 alice :Welcome back")


def test_a_refused_join_is_not_retried_on_reconnect() -> None:
    client = registered()
    execute(client, "/join #a:b")
    execute(client, "/join #")
    assert client.pop_outgoing() == ["JOIN #a:b", "JOIN #"]
    feed(
        client,
        ":srv 403 alice #a:b :Invalid channel name",
        ":srv 403 alice # :Invalid channel name",
    )
    assert reconnect(client) == ["JOIN #lobby"]
    feed(client, ":alice!~a@h JOIN #lobby")
    assert reconnect(client) == ["JOIN #lobby"]
    errors = [x.text for x in client.model.server.lines if x.kind is LineKind.ERROR]
    assert sum("#a:b" in text for text in errors) == 1  # said once, not after every reconnect


def test_a_wrong_key_says_how_to_give_one(client: IrcClient) -> None:
    feed(client, ":srv 475 alice #secret :Cannot join channel (+k)")
    assert client.model.current.lines[-1].text == "#secret needs a key: /join #secret key=KEY"


def test_a_refused_autojoin_room_is_not_retried() -> None:
    client = make_client(rooms=("#lobby", "#a:b"))
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, ":srv 001 alice :Welcome") == ["JOIN #lobby,#a:b"]
    feed(client, ":alice!~a@h JOIN #lobby", ":srv 403 alice #a:b :Invalid channel name")
    assert reconnect(client) == ["JOIN #lobby"]


def test_a_mistyped_key_is_not_replayed_the_key_that_worked_is() -> None:
    client = registered()
    execute(client, "/join #secret key=wrong")
    assert client.pop_outgoing() == ["JOIN #secret wrong"]
    feed(client, ":srv 475 alice #secret :Cannot join channel (+k)")
    assert reconnect(client) == ["JOIN #lobby"]
    feed(client, ":alice!~a@h JOIN #lobby")
    execute(client, "/join #secret key=right")
    assert client.pop_outgoing() == ["JOIN #secret right"]
    feed(client, ":alice!~a@h JOIN #secret")
    assert reconnect(client) == ["JOIN #secret,#lobby right"]


def test_a_join_without_an_answer_is_asked_again_after_a_reconnect() -> None:
    client = registered()
    execute(client, "/join #dev")
    assert client.pop_outgoing() == ["JOIN #dev"]
    assert reconnect(client) == ["JOIN #lobby,#dev"]  # the link dropped before the answer


def test_a_join_typed_while_disconnected_is_sent_once_after_welcome() -> None:
    client = registered()
    client.connection_lost("gone")
    execute(client, "/join #dev")
    client.connection_made()
    client.pop_outgoing()
    assert feed(client, ":srv 001 alice :Welcome back") == ["JOIN #lobby,#dev"]


def test_a_refused_rejoin_is_not_tried_again() -> None:
    client = registered()
    execute(client, "/join #secret key=hunter2")
    feed(client, ":alice!~a@h JOIN #secret")
    client.pop_outgoing()
    assert reconnect(client) == ["JOIN #secret,#lobby hunter2"]
    # The key changed while we were away.
    feed(client, ":alice!~a@h JOIN #lobby", ":srv 475 alice #secret :Cannot join channel (+k)")
    assert reconnect(client) == ["JOIN #lobby"]


def test_a_key_set_while_we_are_in_the_room_is_used_to_rejoin() -> None:
    client = registered()
    feed(client, ":bob!~b@h MODE #lobby +k newkey")
    assert reconnect(client) == ["JOIN #lobby newkey"]
    feed(client, ":alice!~a@h JOIN #lobby", ":bob!~b@h MODE #lobby -k newkey")
    assert reconnect(client) == ["JOIN #lobby"]


# -- away ------------------------------------------------------------------------------


def away_lines(client: IrcClient, buf: str = "bob") -> list[str]:
    found = client.model.find(buf)
    assert found is not None
    return [x.text for x in found.lines if "away" in x.text or "back" in x.text]


def test_an_away_reply_is_shown_once_per_conversation_until_it_changes(
    client: IrcClient,
) -> None:
    execute(client, "/query bob")
    for text in ("one", "two", "three"):
        execute(client, text)
        feed(client, ":srv 301 alice bob :at lunch")
    assert away_lines(client) == ["bob is away: at lunch"]
    execute(client, "four")
    feed(client, ":srv 301 alice bob :in a meeting")
    feed(client, ":srv 301 alice bob :in a meeting")
    assert away_lines(client) == ["bob is away: at lunch", "bob is away: in a meeting"]
    assert client.model.is_away("bob")


def test_away_notify_tracks_others_and_tells_the_private_conversation(
    client: IrcClient,
) -> None:
    client.caps.add("away-notify")
    feed(client, ":carol!~c@h AWAY :gone fishing")
    assert client.model.away_users == {"carol": "gone fishing"}
    assert client.model.find("carol") is None  # no buffer of its own, rooms not flooded
    feed(client, ":bob!~b@h PRIVMSG alice :brb")
    feed(client, ":bob!~b@h AWAY :lunch")
    feed(client, ":srv 301 alice bob :lunch")  # already said: not again
    feed(client, ":bob!~b@h AWAY")
    assert not client.model.is_away("bob")
    feed(client, ":bob!~b@h AWAY :lunch")  # away again: news again
    assert away_lines(client) == ["bob is away: lunch", "bob is back", "bob is away: lunch"]
    feed(client, ":bob!~b@h NICK robert")
    assert client.model.away_users == {"carol": "gone fishing", "robert": "lunch"}
    feed(client, ":carol!~c@h QUIT :bye")
    assert client.model.away_users == {"robert": "lunch"}


def test_away_users_are_grey_in_the_names_list(client: IrcClient) -> None:
    feed(client, ":bob!~b@h AWAY :lunch")
    feed(client, ":srv 353 alice = #lobby :@alice bob +carol", ":srv 366 alice #lobby :End")
    assert client.model.current.lines[-1].text == (
        "Users in #lobby (3): @alice +carol \x0314bob\x03"
    )


def test_who_flags_tell_who_is_away(client: IrcClient) -> None:
    feed(
        client,
        ":srv 352 alice #lobby ~b h srv bob G :0 Bob",
        ":srv 352 alice #lobby ~c h srv carol H :0 Carol",
        ":srv 315 alice #lobby :End of /WHO list",
    )
    assert client.model.is_away("bob") and not client.model.is_away("carol")


def test_joining_asks_who_is_away_quietly() -> None:
    """NAMES does not say who is away: the join's own WHO does, and is not shown."""
    client = make_client(rooms=())
    client.connection_made()
    feed(client, ":srv 001 alice :Welcome", ":srv 005 alice WHOX PREFIX=(ov)@+ :are supported")
    out = feed(client, ":alice!~a@h JOIN #rust", ":srv 353 alice = #rust :@alice bob carol")
    assert "WHO #rust %tnf,742" in out
    before = len(client.model.current.lines)
    feed(
        client,
        ":srv 366 alice #rust :End of /NAMES list",
        ":srv 354 alice 742 bob G",
        ":srv 354 alice 742 carol H",
        ":srv 315 alice #rust :End of /WHO list",
    )
    assert client.model.is_away("bob") and not client.model.is_away("carol")
    buf = client.model.current
    assert not [x for x in list(buf.lines)[before:] if x.table is not None or "WHO" in x.text]
    # The user's own /who afterwards is a table as usual.
    execute(client, "/who #rust")
    assert client.pop_outgoing() == ["WHO #rust"]
    feed(
        client,
        ":srv 352 alice #rust ~b h srv bob G :0 Bob",
        ":srv 315 alice #rust :End of /WHO list",
    )
    assert buf.lines[-1].table is not None and buf.lines[-1].table.rows[0][0] == "bob"


def test_the_join_whos_go_one_at_a_time() -> None:
    """A rejoin of many rooms does not queue many WHOs before what the user types."""
    client = registered(rooms=())
    out = feed(client, ":alice!~a@h JOIN #a", ":alice!~a@h JOIN #b", ":alice!~a@h JOIN #c")
    assert [x for x in out if x.startswith("WHO")] == ["WHO #a"]
    feed(client, ":alice!~a@h PART #b")  # left before its turn: skipped
    assert [x for x in feed(client, ":srv 315 alice #a :End") if x.startswith("WHO")] == ["WHO #c"]
    assert feed(client, ":srv 315 alice #c :End") == []
    assert not [x for x in client.model.current.lines if x.table is not None]


def test_without_whox_the_join_asks_a_plain_who() -> None:
    client = registered(rooms=())
    out = feed(client, ":alice!~a@h JOIN #go")
    assert "WHO #go" in out
    feed(client, ":srv 352 alice #go ~b h srv bob G :0 Bob", ":srv 315 alice #go :End")
    assert client.model.is_away("bob")
    assert not [x for x in client.model.current.lines if x.table is not None]


# -- /msg from elsewhere -------------------------------------------------------------------


def test_msg_from_a_room_is_echoed_here(client: IrcClient) -> None:
    execute(client, "/msg bob see you in private")
    execute(client, "/notice carol heads up")
    here = client.model.current
    assert here.name == "#lobby"
    assert [(x.kind, x.nick, x.text, x.own) for x in list(here.lines)[-2:]] == [
        (LineKind.SENT, "bob", "see you in private", True),
        (LineKind.SENT_NOTICE, "carol", "heads up", True),
    ]
    assert (here.unread, here.highlights) == (0, 0)


def test_msg_in_the_buffer_it_goes_to_is_not_echoed_twice(client: IrcClient) -> None:
    execute(client, "/msg #lobby hi all")
    assert [x.kind for x in client.model.current.lines].count(LineKind.SENT) == 0


@pytest.mark.parametrize("echo", [True, False])
def test_msg_to_a_nick_that_does_not_exist_leaves_no_buffer(client: IrcClient, echo: bool) -> None:
    if echo:
        client.caps.add("echo-message")
    execute(client, "/msg nobody hello?")
    assert client.model.find("nobody") is not None
    feed(client, ":srv 401 alice nobody :No such nick/channel")
    assert client.model.find("nobody") is None
    assert client.model.current.lines[-1].text == "No such nick or room: nobody"
    assert client.model.current.lines[-2].text == "hello?"  # the [msg(nobody)] echo


def test_a_401_keeps_a_conversation_that_had_answers(client: IrcClient) -> None:
    feed(client, ":bob!~b@h PRIVMSG alice :hi")
    feed(client, ":bob!~b@h QUIT :gone")
    execute(client, "/msg bob still there?")
    feed(client, ":srv 401 alice bob :No such nick/channel")
    assert client.model.find("bob") is not None


def test_a_401_keeps_a_buffer_opened_with_query(client: IrcClient) -> None:
    execute(client, "/query nobody hello?")
    feed(client, ":srv 401 alice nobody :No such nick/channel")
    assert client.model.current.name == "nobody"


# -- splitting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "pieces"),
    [
        ("short", 10, ["short"]),
        ("one two three four", 9, ["one two", "three", "four"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
        ("ПриветМир", 7, ["При", "вет", "Мир"]),
    ],
)
def test_split_text(text: str, limit: int, pieces: list[str]) -> None:
    assert split_text(text, limit) == pieces
    assert all(len(p.encode()) <= limit for p in pieces)


def test_long_messages_are_split_to_fit_a_line(client: IrcClient) -> None:
    execute(client, "word " * 200)
    out = client.pop_outgoing()
    assert len(out) > 1
    # Relayed with a full source (a 63-byte host is the longest) it still fits 512 bytes.
    source = ":alice!~alice@" + "h" * 63 + " "
    assert all(len((source + line + "\r\n").encode()) <= 512 for line in out)
    assert " ".join(line.split(" :", 1)[1] for line in out).strip() == ("word " * 200).strip()


def test_every_room_is_told_why_the_server_closed_the_link(client: IrcClient) -> None:
    feed(client, "ERROR :Closing Link: localhost (Server shutting down)")
    client.connection_lost("the server closed the connection")
    expected = "Disconnected: closed by the server: Server shutting down"
    assert client.model.current.lines[-1].text == expected
    assert client.model.server.lines[-1].text == expected
    # The next connection's drop has its own reason.
    client.connection_made()
    client.connection_lost("the server closed the connection")
    assert client.model.server.lines[-1].text == (
        "Connection closed: the server closed the connection"
    )
