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
        try:
            async with running_app(server.port, "alice") as alice:
                await joined(alice, "#lobby")
                alice.type("/topic Friendly chat" + ENTER)  # #lobby is +t; bob is its operator
                await alice.wait_text("You need to be an operator of #lobby for that")
                bob.send("/topic Friendly chat")
                await alice.wait_text("bob changed the topic to: Friendly chat")
                assert alice.title() == " #lobby [2 users]: Friendly chat"
                alice.type("/who" + ENTER)
                await wait_until(lambda: alice.model.current.lines[-1].table is not None, "who")
                who = alice.model.current.lines[-1].table
                assert who is not None
                assert {row[0] for row in who.rows} == {"alice", "bob"}
                alice.type("/list" + ENTER)
                await alice.wait_text("/list: 1 room")
                alice.type("/whois bob" + ENTER)
                await alice.wait_text("/whois bob")
                table = alice.model.current.lines[-1].table
                assert table is not None and {r[0]: r[1] for r in table.rows}["rooms"] == "@#lobby"
                alice.type("/nosuchcommand" + ENTER)
                await alice.wait_text("Unknown command /nosuchcommand")
                assert alice.input_text == "/nosuchcommand"  # kept, to fix the typo
                alice.type("\x15/msg nobody hi" + ENTER)  # Ctrl+U clears it first
                await alice.wait_text("No such nick or room: nobody")
                last = alice.model.current.lines[-1]
                assert last.kind is LineKind.ERROR
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
                alice.type("\x03")
                await expect(bob, r"^\*\*\* alice quit \(Quit: Leaving\)$")
                await alice.exited()
        finally:
            bob.close()

    run(body())
