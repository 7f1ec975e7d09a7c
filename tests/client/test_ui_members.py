"""The member list pane: toggled by F7, Alt+N and /names; follows the room's changes."""

from __future__ import annotations

import asyncio

from ircish.client.app import ChatApp
from ircish.client.render import NICK_COLORS_16, nick_color
from tests.client.conftest import fake_irc, run, running_app, wait_until
from tests.client.test_ui import ENTER, in_lobby
from tests.helpers import RunningServer

F7 = "\x1b[18~"
ALT_N = "\x1bn"


def pane(app: ChatApp) -> list[str]:
    """The pane's rows as drawn, without styles."""
    text = "".join(t for _, t, *_ in app._members_text())
    return text.split("\n")


def styles(app: ChatApp) -> dict[str, str]:
    """Nick -> the style it is drawn with."""
    return {t: s for s, t, *_ in app._members_text()}


def test_member_pane_toggles_and_follows_the_room() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            assert not h.app.members_shown()
            h.type(F7)
            await wait_until(h.app.members_shown, "F7 shows the pane")
            assert pane(h.app) == ["3 users", "@alice", " bob", " carol"]
            server.send(":fake MODE #lobby +v carol")
            server.send(":dave!~d@h JOIN #lobby")
            server.send(":erin!~e@h JOIN #lobby")
            server.send(":bob!~b@h NICK zed")
            server.send(":erin!~e@h PART #lobby :bye")
            server.send(":dave!~d@h AWAY :lunch")
            await wait_until(lambda: "dave" in pane(h.app) or " dave" in pane(h.app), "dave")
            await wait_until(lambda: "erin" not in "".join(pane(h.app)), "erin gone")
            await wait_until(lambda: styles(h.app).get("dave") == "class:members.away", "away")
            assert pane(h.app) == ["4 users", "@alice", "+carol", " dave", " zed"]
            # The test output has no colours to speak of: the 16-colour palette is used.
            assert h.app.renderer.palette == NICK_COLORS_16
            assert styles(h.app)["zed"] == f"fg:{nick_color('zed', NICK_COLORS_16)}"
            server.send(":dave!~d@h AWAY")
            await wait_until(lambda: styles(h.app)["dave"] != "class:members.away", "back")
            server.send(":carol!~c@h QUIT :gone")
            await wait_until(lambda: pane(h.app) == ["3 users", "@alice", " dave", " zed"], "q")
            h.type(ALT_N)
            await wait_until(lambda: not h.app.members_shown(), "Alt+N hides the pane")
            h.type("/names" + ENTER)
            await wait_until(h.app.members_shown, "/names shows the pane")
            await server.expect_msg("NAMES", "#lobby")
            h.type("\x1b1")  # the server buffer has no members: no pane there
            await wait_until(lambda: not h.app.members_shown(), "no pane in buffer 1")

    run(body())


def test_someone_away_before_we_join_is_greyed_from_the_start(server: RunningServer) -> None:
    """The real server: bob went away before alice came; the join's WHO tells her client."""

    async def body() -> None:
        bob = await asyncio.to_thread(server.plain, "bob")
        try:
            bob.send("/away lunch")
            await asyncio.to_thread(bob.expect, r"You are now marked as away")
            async with running_app(server.port, "alice") as h:
                await wait_until(lambda: h.model.is_away("bob"), "bob known as away")
                h.type(F7)
                await wait_until(
                    lambda: styles(h.app).get("bob") == "class:members.away", "bob greyed"
                )
                assert not [x for x in h.model.current.lines if x.table is not None]
                bob.send("/away")
                await wait_until(lambda: not h.model.is_away("bob"), "bob back (away-notify)")
                await wait_until(
                    lambda: styles(h.app).get("bob") != "class:members.away", "bob not greyed"
                )
        finally:
            bob.close()

    run(body())
