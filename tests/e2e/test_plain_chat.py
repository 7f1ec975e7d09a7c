"""End to end over real TCP: netcat-style users chatting, as they would see it.

Every assertion is on the exact lines a user's terminal shows. "Did not see"
is proven with a barrier (``heard``): a private marker sent after the action,
which the server must deliver after anything the action caused.
"""

from __future__ import annotations

import re
import socket

from ircish.core.caps import CAPABILITIES
from tests.e2e.e2e_support import Person, collect_until, heard, person, settle
from tests.helpers import DEFAULT_TIMEOUT, LineClient, RunningServer

LOCAL = "~plain@localhost"


def test_three_users_two_rooms_see_only_their_rooms(
    server: RunningServer, clients: list[LineClient]
) -> None:
    alice, bob, carol = (person(server, nick, clients) for nick in ("alice", "bob", "carol"))
    everyone = [alice, bob, carol]
    settle(carol, everyone)

    bob.send("/join #dev")
    assert heard(bob, everyone) == {
        "alice": [],
        "bob": ["*** bob joined #dev", "*** Users in #dev: @bob", "*** Now talking in #dev"],
        "carol": [],
    }
    carol.send("/join #dev")
    assert heard(carol, everyone) == {
        "alice": [],
        "bob": ["*** carol joined #dev"],
        "carol": [
            "*** carol joined #dev",
            "*** Users in #dev: @bob carol",
            "*** Now talking in #dev",
        ],
    }

    # Each sees their own line too (netcat's echo), where it went.
    alice.send("hello lobby")
    assert heard(alice, everyone) == {
        "alice": ["[#lobby] <alice> hello lobby"],
        "bob": ["[#lobby] <alice> hello lobby"],
        "carol": ["[#lobby] <alice> hello lobby"],
    }

    # Joining made #dev bob's current room: a bare line goes there, not to #lobby.
    bob.send("hi dev")
    assert heard(bob, everyone) == {
        "alice": [],
        "bob": ["[#dev] <bob> hi dev"],
        "carol": ["[#dev] <bob> hi dev"],
    }

    carol.send("/msg #lobby back in the lobby")
    assert heard(carol, everyone) == {
        "alice": ["[#lobby] <carol> back in the lobby"],
        "bob": ["[#lobby] <carol> back in the lobby"],
        "carol": ["[#lobby] <carol> back in the lobby"],
    }

    bob.send("/join #lobby")
    bob.send("lobby again")
    assert heard(bob, everyone) == {
        "alice": ["[#lobby] <bob> lobby again"],
        "bob": ["*** Now talking in #lobby", "[#lobby] <bob> lobby again"],
        "carol": ["[#lobby] <bob> lobby again"],
    }

    carol.send("/msg #dev dev only")
    assert heard(carol, everyone) == {
        "alice": [],
        "bob": ["[#dev] <carol> dev only"],
        "carol": ["[#dev] <carol> dev only"],
    }


def test_private_messages_and_actions(server: RunningServer, clients: list[LineClient]) -> None:
    alice, bob, carol = (person(server, nick, clients) for nick in ("alice", "bob", "carol"))
    everyone = [alice, bob, carol]
    settle(carol, everyone)

    alice.send("/msg bob psst, a secret")
    assert heard(alice, everyone) == {
        "alice": ["[to bob] <alice> psst, a secret"],
        "bob": ["[private] <alice> psst, a secret"],
        "carol": [],
    }
    bob.send("/msg alice got it")
    assert heard(bob, everyone)["alice"] == ["[private] <bob> got it"]

    bob.send("/me waves")
    assert heard(bob, everyone) == {
        "alice": ["[#lobby] * bob waves"],
        "bob": ["[#lobby] * bob waves"],
        "carol": ["[#lobby] * bob waves"],
    }

    alice.send("/msg nobody hello?")
    assert heard(alice, [alice])["alice"] == ["! No such nick or room: nobody"]


def test_who_whois_names_list(server: RunningServer, clients: list[LineClient]) -> None:
    alice, bob = person(server, "alice", clients), person(server, "bob", clients)
    settle(bob, [alice, bob])
    bob.send("/join #dev")
    bob.send("/join #lobby")
    settle(bob, [alice, bob])

    # #lobby is the server's room: alice, first in, is not its operator.
    room_who = [
        f"*** #lobby: alice ({LOCAL})",
        f"*** #lobby: bob ({LOCAL})",
        "*** End of /who",
    ]
    alice.send("/who #lobby")
    assert heard(alice, [alice])["alice"] == room_who
    alice.send("/who")
    assert heard(alice, [alice])["alice"] == room_who, "/who means the current room"

    alice.send("/whois bob")
    whois = heard(alice, [alice])["alice"]
    assert whois[:3] == [
        f"*** bob is {LOCAL} (bob)",
        "*** bob is in #lobby @#dev",
        "*** bob is connected to ircish.local",
    ]
    assert len(whois) == 4
    assert re.fullmatch(
        r"\*\*\* bob has been idle \d+s, online since \d{4}-\d\d-\d\d .+ UTC", whois[3]
    )

    alice.send("/names")
    assert heard(alice, [alice])["alice"] == ["*** Users in #lobby: alice bob"]
    alice.send("/names #dev")
    assert heard(alice, [alice])["alice"] == ["*** Users in #dev: @bob"]

    alice.send("/list")
    assert heard(alice, [alice])["alice"] == [
        "*** Rooms:",
        "***   #dev (1 user)",
        "***   #lobby (2 users)",
        "*** End of /list",
    ]

    # Outside every room, /who lists everyone, each with the room they talk in.
    alice.send("/part")
    alice.send("/who")
    lines = heard(alice, [alice])["alice"]
    assert lines[0] == "*** alice left #lobby"
    assert lines[-1] == "*** End of /who"
    assert sorted(lines[1:-1]) == [f"*** #lobby: bob ({LOCAL})", f"*** alice ({LOCAL})"]


def test_topic_set_and_seen_by_the_room(server: RunningServer, clients: list[LineClient]) -> None:
    alice, bob = person(server, "alice", clients), person(server, "bob", clients)
    # alice opens #rust, so she is its operator (#lobby is the server's: see test_netcat_ux_e2e).
    alice.send("/join #rust")
    alice.expect(r"^\*\*\* Now talking in #rust$")
    bob.send("/join #rust")
    settle(bob, [alice, bob])

    alice.send("/topic Be excellent to each other")
    changed = "*** alice changed the topic of #rust to: Be excellent to each other"
    assert heard(alice, [alice, bob]) == {"alice": [changed], "bob": [changed]}

    bob.send("/topic")
    shown = heard(bob, [bob])["bob"]
    assert shown[0] == "*** Topic of #rust: Be excellent to each other"
    assert re.fullmatch(r"\*\*\* Topic set by alice at \d{4}-\d\d-\d\d \d\d:\d\d UTC", shown[1])
    assert len(shown) == 2

    # Someone arriving later is told the topic as they join.
    carol = person(server, "carol", clients)
    carol.send("/join #rust")
    carol.expect(r"^\*\*\* carol joined #rust$")
    assert carol.expect(r"^\*\*\* ") == "*** Topic of #rust: Be excellent to each other"

    alice.send("/list")
    assert "***   #rust (3 users): Be excellent to each other" in heard(alice, [alice])["alice"]


def test_away_answers_messages_with_301(server: RunningServer, clients: list[LineClient]) -> None:
    alice, bob = person(server, "alice", clients), person(server, "bob", clients)
    settle(bob, [alice, bob])

    bob.send("/away at lunch")
    assert bob.expect(r".") == "*** You are now marked as away"

    alice.send("/msg bob are you there?")
    # The away reply goes to alice after her message was delivered to bob (and echoed).
    assert alice.expect(r"^\[to bob\] ") == "[to bob] <alice> are you there?"
    assert alice.expect(r"^\*\*\* ") == "*** bob is away: at lunch"
    assert heard(alice, [bob])["bob"] == ["[private] <alice> are you there?"]
    alice.expect(r"^\*\*\* bob is away: at lunch$")  # the reply to the barrier itself

    alice.send("/who bob")
    assert heard(alice, [alice])["alice"] == [
        f"*** #lobby: bob ({LOCAL}) [away]",
        "*** End of /who",
    ]

    bob.send("/away")
    assert bob.expect(r".") == "*** You are no longer marked as away"
    alice.send("/msg bob back?")
    assert heard(alice, [alice, bob]) == {
        "alice": ["[to bob] <alice> back?"],
        "bob": ["[private] <alice> back?"],
    }


def test_quit_with_reason_and_dropped_connection(
    server: RunningServer, clients: list[LineClient]
) -> None:
    alice, bob, carol = (person(server, nick, clients) for nick in ("alice", "bob", "carol"))
    settle(alice, [alice, bob, carol])

    bob.send("/quit see you tomorrow")
    assert bob.expect(r".") == "*** Closing connection: Quit: see you tomorrow"
    bob.conn.expect_closed()
    alice.expect(r"^\*\*\* bob quit \(Quit: see you tomorrow\)$")
    carol.expect(r"^\*\*\* bob quit \(Quit: see you tomorrow\)$")

    # No /quit: the socket just closes.
    carol.close()
    alice.expect(r"^\*\*\* carol quit \(Connection closed\)$")

    alice.send("/whois bob")
    assert heard(alice, [alice])["alice"][0] == "! No such nick or room: bob"


def test_user_in_no_room_can_still_message(
    server: RunningServer, clients: list[LineClient]
) -> None:
    alice, dave = person(server, "alice", clients), person(server, "dave", clients)
    settle(alice, [alice, dave])

    dave.send("/part")
    assert heard(dave, [alice, dave]) == {
        "alice": ["*** dave left #lobby"],
        "dave": ["*** dave left #lobby"],
    }
    dave.send("anyone here?")
    assert heard(dave, [dave])["dave"] == ["! You are not in a room: /join #room first"]

    dave.send("/msg alice hello from nowhere")
    assert heard(dave, [alice])["alice"] == ["[private] <dave> hello from nowhere"]
    alice.send("/msg dave hi dave")
    assert heard(alice, [dave])["dave"] == [
        "[to alice] <dave> hello from nowhere",  # his own line, echoed
        "[private] <alice> hi dave",
    ]

    # Sharing no room, alice is not told when dave leaves; he is just gone.
    dave.send("/quit")
    dave.conn.expect_closed()
    alice.send("/msg dave still there?")
    assert heard(alice, [alice])["alice"] == [
        "[to dave] <alice> hi dave",
        "! No such nick or room: dave",
    ]


def _raw_client(server: RunningServer, nick: str) -> tuple[socket.socket, bytes]:
    """A netcat user on a bare socket; returns it and the bytes read while registering."""
    sock = socket.create_connection((server.host, server.port), timeout=DEFAULT_TIMEOUT)
    sock.sendall(nick.encode() + b"\r\n")
    data = _read_until(sock, b"*** Users in #lobby")
    return sock, data


def _read_until(sock: socket.socket, needle: bytes, already: bytes = b"") -> bytes:
    data = already
    while needle not in data:
        chunk = sock.recv(65536)  # bounded by the socket timeout
        assert chunk, f"closed before {needle!r}; got {data[-300:]!r}"
        data += chunk
    return data


def test_cyrillic_nick_and_text_end_to_end(
    server: RunningServer, clients: list[LineClient]
) -> None:
    alice = person(server, "alice", clients)
    vasya = person(server, "Вася", clients)
    settle(alice, [alice, vasya])

    vasya.send("Привет, мир! Как дела?")
    assert heard(vasya, [alice])["alice"] == ["[#lobby] <Вася> Привет, мир! Как дела?"]

    # Nicknames compare case-insensitively in any script (CASEMAPPING=rfc8265).
    alice.send("/msg вася здравствуй, Вася")
    assert heard(alice, [vasya])["Вася"] == [
        "[#lobby] <Вася> Привет, мир! Как дела?",  # his own line, echoed
        "[private] <alice> здравствуй, Вася",
    ]

    alice.send("/names")
    assert heard(alice, [alice])["alice"] == [
        "[to Вася] <alice> здравствуй, Вася",
        "*** Users in #lobby: alice Вася",
    ]

    vasya.send("/nick Петя")
    expected = ["*** Вася is now known as Петя"]
    assert heard(Person("Петя", vasya.conn), [alice]) == {"alice": expected}


def test_invalid_utf8_is_replaced_not_fatal(
    server: RunningServer, clients: list[LineClient]
) -> None:
    alice = person(server, "alice", clients)
    sock, _ = _raw_client(server, "bob")
    try:
        alice.expect(r"^\*\*\* bob joined #lobby$")
        alice.conn.send_raw(b"caf\xe9 au lait \xff\xfe!\r\n")
        data = _read_until(sock, b"!\r\n")
        # The server sends valid UTF-8: each bad byte became U+FFFD.
        assert data.endswith("[#lobby] <alice> caf\ufffd au lait \ufffd\ufffd!\r\n".encode())
        alice.send("still here")
        assert _read_until(sock, b"still here\r\n").endswith(b"[#lobby] <alice> still here\r\n")

        # Bad bytes from the other direction too.
        sock.sendall(b"\xc3\x28 ok\r\n")
        alice.expect(r"^\[#lobby\] <bob> \ufffd\( ok$")
    finally:
        sock.close()


def test_taken_and_invalid_nicks_get_one_line_and_another_chance(
    server: RunningServer, clients: list[LineClient]
) -> None:
    person(server, "alice", clients)
    newcomer = server.client()
    clients.append(newcomer)
    newcomer.expect(r"Type a nickname")

    def attempt(nick: str) -> list[str]:
        newcomer.send(nick)
        # /help works before registration and its answer follows the reply to the nick.
        newcomer.send("/help nick")
        return collect_until(newcomer, r"^\*\*\* /nick NAME: ")[:-1]

    assert attempt("alice") == ["! The nickname alice is taken; pick another"]
    assert attempt("ALICE") == ["! The nickname ALICE is taken; pick another"]
    assert attempt("9lives") == [
        "! '9lives' is not a valid nickname: use up to 30 letters, digits or "
        "[]\\`_^{|}-, not starting with a digit or '-'"
    ]
    assert attempt("two words") == ["! A nickname is one word; type just the name"]
    assert attempt("/nick a!b") == [
        "! 'a!b' is not a valid nickname: use up to 30 letters, digits or "
        "[]\\`_^{|}-, not starting with a digit or '-'"
    ]
    newcomer.send("bob")
    newcomer.expect(r"^\*\*\* Welcome to ircish, bob! Type /help for the commands\.$")
    newcomer.expect(r"^\*\*\* bob joined #lobby$")


def test_irc_client_detected_by_its_first_line(
    server: RunningServer, clients: list[LineClient]
) -> None:
    irc = server.client()
    clients.append(irc)
    irc.send("NICK ircer")
    irc.send("USER ircer 0 * :An IRC client")
    lines = collect_until(irc, r"^:ircish\.local 376 ircer ")
    assert (
        lines[0]
        == ":ircish.local 001 ircer :Welcome to the ircish IRC Network ircer!~ircer@localhost"
    )
    assert all(line.startswith(":ircish.local ") for line in lines)
    assert not any("Type a nickname" in line for line in lines)


def test_cap_negotiating_client_is_irc(server: RunningServer, clients: list[LineClient]) -> None:
    irc = server.client()
    clients.append(irc)
    irc.send("CAP LS 302")
    caps = " ".join(f"{k}={v}" if v else k for k, v in CAPABILITIES.items())
    assert irc.expect(r".") == f":ircish.local CAP * LS :{caps}"
    irc.send("NICK capper")
    irc.send("USER capper 0 * :x")
    irc.send("CAP END")
    irc.expect(r"^:ircish\.local 001 capper ")


def test_silent_client_is_greeted_as_a_human(
    server: RunningServer, clients: list[LineClient]
) -> None:
    human = server.client()
    clients.append(human)
    assert human.expect(r".") == (
        "*** This is ircish.local. Type a nickname and press Enter "
        "(or /nick NAME). /help lists the commands."
    )
    human.send("zoe")
    assert human.expect(r".") == "*** Welcome to ircish, zoe! Type /help for the commands."
