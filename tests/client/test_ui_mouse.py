"""The mouse (``/set mouse``, on by default): the wheel scrolls, clicks switch buffers.

Mouse reports are typed in as a terminal sends them (SGR encoding, 1-based
column and row), through the application's real mouse bindings.
"""

from __future__ import annotations

from ircish.client.app import WHEEL_LINES
from tests.client.conftest import AppHarness, fake_irc, run, running_app, wait_until
from tests.client.test_ui import ENTER, in_lobby


def wheel(up: bool, col: int = 5, row: int = 5) -> str:
    return f"\x1b[<{64 if up else 65};{col};{row}M"


def click(col: int, row: int) -> str:
    """A left-button press and release at 0-based (col, row) of the screen."""
    return f"\x1b[<0;{col + 1};{row + 1}M\x1b[<0;{col + 1};{row + 1}m"


def status_row(h: AppHarness) -> int:
    """The status line's row: under the title line and the scrollback."""
    return 1 + h.app.scrollback.size[1]


def drawn_row(h: AppHarness, row: int) -> str:
    """A row of the screen as last drawn: clicks go to what was drawn, not to the model."""
    screen = h.app.application.renderer._last_screen
    if screen is None:
        return ""
    cells = screen.data_buffer[row]
    return "".join(cells[x].char for x in range(max(cells, default=-1) + 1))


def test_the_wheel_scrolls_the_message_view() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            for i in range(120):
                server.send(f":bob!~b@h PRIVMSG #lobby :line {i}")
            await h.wait_text("line 119")
            assert h.app.application.mouse_support()
            h.type(wheel(up=True) + wheel(up=True))
            await wait_until(lambda: h.model.current.scroll == 2 * WHEEL_LINES, "two notches")
            assert h.screen()[-1].endswith(f"line {119 - 2 * WHEEL_LINES}")
            assert "-- more (" in h.status()
            h.type(wheel(up=False))
            await wait_until(lambda: h.model.current.scroll == WHEEL_LINES, "one back down")
            h.type(wheel(up=False) + wheel(up=False))
            await wait_until(lambda: h.model.current.scroll == 0, "at the bottom again")
            assert h.screen()[-1].endswith("line 119")

    run(body())


def test_a_click_on_a_buffer_in_the_status_line_goes_there() -> None:
    async def body() -> None:
        async with (
            fake_irc() as server,
            running_app(server.port, rooms=("#lobby", "#dev")) as h,
        ):
            await in_lobby(h)
            await wait_until(lambda: h.model.find("#dev") is not None, "#dev open")
            server.send(":bob!~b@h PRIVMSG #dev :over here")
            await wait_until(
                lambda: "3:#dev(1)" in drawn_row(h, status_row(h)),
                "#dev drawn in the activity list",
            )
            col = drawn_row(h, status_row(h)).index("3:#dev(1)") + 2
            h.type(click(col, status_row(h)))
            await wait_until(lambda: h.model.current.name == "#dev", "clicked through to #dev")
            assert "act:" not in h.status()
            # A click elsewhere on the status line does nothing.
            h.type(click(1, status_row(h)))
            h.type("/switch 2" + ENTER)
            await wait_until(lambda: h.model.current.name == "#lobby", "back by command")

    run(body())


def test_set_mouse_off_gives_the_terminal_its_selection_back() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type("/set mouse off" + ENTER)
            await h.wait_text("mouse is off")
            assert not h.app.application.mouse_support()
            h.type("/set mouse on" + ENTER)
            await h.wait_text("mouse is on")
            assert h.app.application.mouse_support()

    run(body())
