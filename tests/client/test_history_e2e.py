"""End to end: the client's history and SASL login against the real ircish server.

The server (``tests.helpers.RunningServer``, storage in SQLite ``:memory:``)
keeps what a netcat user says; the client application fetches it on join,
pages back with PageUp, catches up after a reconnection, and logs in with
SASL PLAIN to an account registered with ``REGISTER``.
"""

from __future__ import annotations

import asyncio

from ircish.client.connection import Backoff
from ircish.client.model import Buffer, LineKind
from tests.client.conftest import AppHarness, run, running_app, wait_until
from tests.e2e.e2e_support import plain_sync
from tests.helpers import RunningServer

ENTER = "\r"
PAGE_UP = "\x1b[5~"


async def joined(h: AppHarness, room: str) -> Buffer:
    await wait_until(
        lambda: (buf := h.model.find(room)) is not None and buf.joined, f"{h.model.nick} in {room}"
    )
    buf = h.model.find(room)
    assert buf is not None
    return buf


def said(buf: Buffer, prefix: str) -> list[str]:
    """The texts of the messages in ``buf`` that start with ``prefix``, in buffer order."""
    return [x.text for x in buf.lines if x.kind is LineKind.MESSAGE and x.text.startswith(prefix)]


def test_history_on_join_paging_up_and_catching_up_after_a_reconnect(
    server: RunningServer,
) -> None:
    async def body() -> None:
        bob = await asyncio.to_thread(server.plain, "bob")
        try:
            for i in range(60):
                bob.send(f"old {i}")
            await asyncio.to_thread(plain_sync, bob)

            # A long first retry delay: the test decides when alice comes back (/reconnect).
            async with running_app(server.port, "alice", backoff=Backoff((60.0,))) as alice:
                lobby = await joined(alice, "#lobby")

                # On join: the latest 50, above the join line, with their original times.
                await wait_until(lambda: said(lobby, "old 59"), "the latest history")
                await wait_until(lambda: not lobby.history_pending, "the history batch")
                assert said(lobby, "old ") == [f"old {i}" for i in range(10, 60)]
                texts = [x.text for x in lobby.lines]
                assert texts.index("old 59") < texts.index("You joined #lobby")
                first = next(x for x in lobby.lines if x.text == "old 10")
                assert first.history and first.nick == "bob" and first.msgid

                # PageUp to the top fetches the ten before, once; then there is no more.
                for _ in range(30):
                    if said(lobby, "old 0"):
                        break
                    alice.type(PAGE_UP)
                    await wait_until(lambda: alice.model.current.scroll or said(lobby, "old 0"))
                    await wait_until(lambda: not lobby.history_pending, "the older page")
                assert said(lobby, "old ") == [f"old {i}" for i in range(60)]
                await alice.wait_text("Start of the history of #lobby", "#lobby")
                assert lobby.history_start

                # Live, echoed: still once.
                alice.type("\x1b[6~" * 30 + "back soon" + ENTER)
                await alice.wait_text("<alice> back soon", "#lobby")

                # Away: the server closes the link; bob talks meanwhile.
                alice.type("/raw QUIT :brb" + ENTER)
                await wait_until(lambda: alice.model.state == "reconnecting", "the link to drop")
                for i in range(3):
                    bob.send(f"missed {i}")
                await asyncio.to_thread(plain_sync, bob)
                alice.type("/reconnect" + ENTER)
                await wait_until(lambda: said(lobby, "missed 2"), "the catch-up")
                await wait_until(lambda: not lobby.history_pending, "the catch-up batch")
                bob.send("live again")
                await alice.wait_text("<bob> live again", "#lobby")

                everything = said(lobby, "")
                expected = [f"old {i}" for i in range(60)] + ["back soon"]
                expected += [f"missed {i}" for i in range(3)] + ["live again"]
                assert everything == expected  # in order, nothing twice
                assert all(x.history for x in lobby.lines if x.text.startswith("missed"))
        finally:
            bob.close()

    run(body(), timeout=60)


def test_sasl_login_and_a_wrong_password(server: RunningServer) -> None:
    async def body() -> None:
        raw = await asyncio.to_thread(server.irc, "alice")
        try:
            raw.send("REGISTER alice * correct-horse-1")
            await asyncio.to_thread(raw.expect, r"REGISTER SUCCESS alice ")
            raw.send("QUIT")
            await asyncio.to_thread(raw.expect_closed)
        finally:
            raw.close()

        async with running_app(
            server.port, "alice", account="alice", password="correct-horse-1"
        ) as alice:
            await joined(alice, "#lobby")
            assert alice.model.account == "alice"
            await alice.wait_text("You are now logged in as alice", "server")
            assert "sasl" in alice.app.client.caps

            async with running_app(
                server.port, "mallory", account="alice", password="wrong-password"
            ) as mallory:
                await joined(mallory, "#lobby")  # connected anyway, without the account
                await mallory.wait_text("Not logged in as alice: ", "server")
                assert mallory.model.account is None
                shown = [x.text for x in mallory.model.server.lines]
                assert not any("wrong-password" in text for text in shown)

    run(body(), timeout=40)
