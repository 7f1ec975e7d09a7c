"""End to end: the client application against a real ircish server, with a netcat user.

The server runs in its thread on an ephemeral port (``tests.helpers.RunningServer``);
the netcat-style user is a blocking ``LineClient``, driven from a worker thread
so the client's event loop keeps running while it waits.
"""

from __future__ import annotations

import asyncio

from ircish.client.model import LineKind
from tests.client.conftest import AppHarness, run, running_app, wait_until
from tests.helpers import LineClient, RunningServer

ENTER = "\r"


async def expect(user: LineClient, pattern: str) -> str:
    return await asyncio.to_thread(user.expect, pattern)


async def joined(h: AppHarness, room: str) -> None:
    await wait_until(
        lambda: (buf := h.model.find(room)) is not None and buf.joined, f"{h.model.nick} in {room}"
    )


def test_two_clients_and_a_netcat_user_chat_in_two_rooms_and_privately(
    server: RunningServer,
) -> None:
    async def body() -> None:
        bob = await asyncio.to_thread(server.plain, "bob")
        try:
            async with (
                running_app(server.port, "alice", ("#lobby", "#dev")) as alice,
                running_app(server.port, "carol", ("#lobby",)) as carol,
            ):
                await joined(alice, "#lobby")
                await joined(alice, "#dev")
                await joined(carol, "#lobby")
                assert alice.model.current.name == "#lobby"
                assert "echo-message" in alice.app.client.caps

                # The room: the netcat user and both clients see each other.
                alice.type("hello everyone" + ENTER)
                await expect(bob, r"^\[#lobby\] <alice> hello everyone$")
                await carol.wait_text("<alice> hello everyone")
                bob.send("hi alice and carol")
                await alice.wait_text("<bob> hi alice and carol")
                await carol.wait_text("<bob> hi alice and carol")
                mention = alice.model.current.lines[-1]
                assert mention.mention and not mention.own

                # The own line shows once (the server echoes it; no local copy).
                own = [x for x in alice.model.current.lines if x.text == "hello everyone"]
                assert len(own) == 1 and own[0].own

                # A second room: bob joins #dev, alice switches there with Alt+3.
                bob.send("/join #dev")
                await alice.wait_text("bob (~plain@localhost) joined #dev", "#dev")
                alice.type("\x1b3")
                await wait_until(lambda: alice.model.current.name == "#dev", "Alt+3")
                alice.type("/me waves in dev" + ENTER)
                await expect(bob, r"^\[#dev\] \* alice waves in dev$")

                # Privately, both ways.
                carol.type("/msg bob just between us" + ENTER)
                await expect(bob, r"^\[private\] <carol> just between us$")
                bob.send("/msg carol sure thing")
                await carol.wait_text("<bob> sure thing", "bob")
                assert carol.model.find("bob").highlights == 1  # type: ignore[union-attr]
                bob.send("/msg alice hey")
                await alice.wait_text("<bob> hey", "bob")
                alice.type("/query bob" + ENTER + "back at you" + ENTER)
                await expect(bob, r"^\[private\] <alice> back at you$")

                # Client to client, privately.
                carol.type("/msg alice psst" + ENTER)
                await alice.wait_text("<carol> psst", "carol")
                assert alice.app.bells >= 1

                # Membership follows the room.
                lobby = alice.model.find("#lobby")
                assert lobby is not None
                assert {n for n, _ in lobby.members.values()} == {"alice", "bob", "carol"}
                carol.type("/part" + ENTER)
                await alice.wait_text("carol left #lobby", "#lobby")
                assert "carol" not in lobby.members
        finally:
            bob.close()

    run(body(), timeout=40)


def test_taken_nickname_gets_the_next_variant(server: RunningServer) -> None:
    async def body() -> None:
        async with running_app(server.port, "alice") as first:
            await joined(first, "#lobby")
            async with running_app(server.port, "alice") as second:
                await joined(second, "#lobby")
                assert second.model.nick == "alice_"
                await second.wait_text("The nickname alice is taken; trying alice_", "server")
                assert second.status().startswith(" alice_ │")

    run(body())


def test_tables_and_topic_from_the_real_server(server: RunningServer) -> None:
    async def body() -> None:
        bob = await asyncio.to_thread(server.plain, "bob")
        # bob opens #chat, so he is its operator (#lobby is the server's: nobody's).
        bob.send("/join #chat")
        await asyncio.to_thread(bob.expect, r"^\*\*\* Now talking in #chat$")
        try:
            async with running_app(server.port, "alice", rooms=("#chat",)) as alice:
                await joined(alice, "#chat")
                alice.type("/topic Friendly chat" + ENTER)  # #chat is +t; bob is its operator
                await alice.wait_text("You need to be an operator of #chat for that")
                bob.send("/topic Friendly chat")
                await alice.wait_text("bob changed the topic to: Friendly chat")
                assert alice.title() == " #chat [2 users]: Friendly chat"
                alice.type("/who" + ENTER)
                await wait_until(lambda: alice.model.current.lines[-1].table is not None, "who")
                who = alice.model.current.lines[-1].table
                assert who is not None
                assert {row[0] for row in who.rows} == {"alice", "bob"}
                alice.type("/list" + ENTER)
                await alice.wait_text("/list: 2 rooms")
                alice.type("/whois bob" + ENTER)
                await alice.wait_text("/whois bob")
                table = alice.model.current.lines[-1].table
                assert table is not None
                assert {r[0]: r[1] for r in table.rows}["rooms"] == "#lobby @#chat"
                alice.type("/nosuchcommand" + ENTER)
                await alice.wait_text("Unknown command /nosuchcommand")
                assert alice.input_text == ""  # cleared: the next command is not glued on
                alice.type("\x1b[A")  # Up brings the refused line back to fix
                await wait_until(lambda: alice.input_text == "/nosuchcommand", "in history")
                alice.type("\x15/msg nobody hi" + ENTER)  # Ctrl+U clears it first
                await alice.wait_text("No such nick or room: nobody")
                last = alice.model.current.lines[-1]
                assert last.kind is LineKind.ERROR
                # Echoed where it was typed; no empty buffer left for a nick that is not there.
                assert alice.texts()[-2].endswith("[msg(nobody)] hi")
                assert alice.model.find("nobody") is None
        finally:
            bob.close()

    run(body())


def test_quit_is_seen_by_others(server: RunningServer) -> None:
    async def body() -> None:
        bob = await asyncio.to_thread(server.plain, "bob")
        try:
            async with running_app(server.port, "alice") as alice:
                await joined(alice, "#lobby")
                await expect(bob, r"alice joined #lobby")
                alice.type("\x03\x03")  # Ctrl+C twice
                await expect(bob, r"^\*\*\* alice quit \(Quit: Leaving\)$")
                await alice.exited()
        finally:
            bob.close()

    run(body())


def test_a_refused_join_is_not_retried_after_a_reconnect(server: RunningServer) -> None:
    async def body() -> None:
        async with running_app(server.port, "alice") as alice:
            await joined(alice, "#lobby")
            alice.type("/join #a:b" + ENTER)
            await alice.wait_text("#a:b")
            alice.type("/reconnect" + ENTER)
            await wait_until(lambda: alice.app.connection.connections == 2, "reconnected")
            await wait_until(
                lambda: sum(t.endswith("You joined #lobby") for t in alice.texts("#lobby")) == 2,
                "rejoined",
            )
            # A round trip after the rejoin: every answer to it has arrived.
            alice.type("/topic" + ENTER)
            await alice.wait_text("#lobby has no topic")
            refused = [t for t in alice.texts("1") if "#a:b" in t]
            assert len(refused) == 1, refused
            assert alice.title() == " #lobby [1 users]: (no topic)"

    run(body())


def test_own_ctcp_replies_echoed_by_the_server_are_not_shown(server: RunningServer) -> None:
    async def body() -> None:
        bob = await asyncio.to_thread(server.irc, "bob")
        try:
            async with running_app(server.port, "alice") as alice:
                await joined(alice, "#lobby")
                assert "echo-message" in alice.app.client.caps
                bob.send("PRIVMSG alice :\x01VERSION\x01")
                await expect(bob, r"^:alice!\S+ NOTICE bob :\x01VERSION ircish ")
                bob.send("PRIVMSG alice :\x01PING 42\x01")
                await expect(bob, r"^:alice!\S+ NOTICE bob :\x01PING 42\x01$")
                # A marker through the server's ordering: the echoes came before it.
                bob.send("PRIVMSG alice :marker")
                await alice.wait_text("<bob> marker", "bob")
                shown = [t for b in alice.model.buffers for t in alice.texts(b.name)]
                assert not [t for t in shown if "reply from" in t], shown
                requests = [t for t in alice.texts("1") if "CTCP" in t]
                assert [t.split(" ", 1)[1] for t in requests] == [
                    "--- bob sent a CTCP VERSION request",
                    "--- bob sent a CTCP PING request",
                ]
                assert len(alice.texts("bob")) == 1  # nothing else landed in the conversation
        finally:
            bob.close()

    run(body())
