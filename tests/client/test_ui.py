"""The full-screen UI driven like prompt_toolkit's tests: pipe input, dummy output.

The app talks to a scripted IRC server over a real socket; keys go in through
the pipe; assertions read what the server received and what the scrollback,
status line and input line would draw.
"""

from __future__ import annotations

import re

from ircish.client.connection import Backoff
from tests.client.conftest import AppHarness, fake_irc, run, running_app, wait_until

ENTER = "\r"
TAB = "\t"
SHIFT_TAB = "\x1b[Z"
UP = "\x1b[A"
DOWN = "\x1b[B"
PAGE_UP = "\x1b[5~"
PAGE_DOWN = "\x1b[6~"
CTRL_C = "\x03"
CTRL_D = "\x04"
CTRL_N = "\x0e"
CTRL_P = "\x10"


def paste(text: str) -> str:
    return f"\x1b[200~{text}\x1b[201~"


async def in_lobby(h: AppHarness) -> None:
    await wait_until(lambda: h.model.current.name == "#lobby" and h.model.current.joined, "#lobby")


def test_typing_a_message_sends_a_privmsg_and_shows_it() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type("hello world" + ENTER)
            await server.expect_msg("PRIVMSG", "#lobby", "hello world")
            await wait_until(lambda: h.input_text == "", "input cleared")
            assert h.screen()[-1].endswith("<alice> hello world")

    run(body())


def test_incoming_message_leaves_the_half_typed_line_alone() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type("half-typ")
            await wait_until(lambda: h.input_text == "half-typ", "typed")
            for i in range(5):
                server.send(f":bob!~b@h PRIVMSG #lobby :interruption {i}")
            await h.wait_text("interruption 4")
            assert h.input_text == "half-typ"
            assert h.app.input.cursor_position == len("half-typ")
            assert h.screen()[-1].endswith("<bob> interruption 4")
            h.type("ed" + ENTER)
            await server.expect_msg("PRIVMSG", "#lobby", "half-typed")

    run(body())


def test_private_message_and_buffer_switching_keys() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port, rooms=("#lobby", "#dev")) as h:
            await in_lobby(h)
            await wait_until(lambda: h.model.find("#dev") is not None, "#dev")
            server.send(":bob!~b@h PRIVMSG alice :psst, alice")
            await wait_until(lambda: h.model.find("bob") is not None, "query buffer")
            assert "4:bob(1!)" in h.status()
            assert h.app.bells == 1
            assert h.model.current.name == "#lobby"

            h.type("\x1b4")  # Alt+4
            await wait_until(lambda: h.model.current.name == "bob", "Alt+4")
            assert "act:" not in h.status()
            assert h.title() == " Private conversation with bob"
            h.type("hi bob" + ENTER)
            await server.expect_msg("PRIVMSG", "bob", "hi bob")

            h.type("\x1b1")
            await wait_until(lambda: h.model.current is h.model.server, "Alt+1")
            h.type(CTRL_N)
            await wait_until(lambda: h.model.current.name == "#lobby", "Ctrl+N")
            h.type(CTRL_P + CTRL_P)
            await wait_until(lambda: h.model.current.name == "bob", "Ctrl+P twice")
            h.type("/switch dev" + ENTER)
            await wait_until(lambda: h.model.current.name == "#dev", "/switch")
            assert h.title().startswith(" #dev [3 users]")

    run(body())


def test_tab_completes_nicks_and_commands() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type("ca" + TAB)
            await wait_until(lambda: h.input_text == "carol: ", "nick completion")
            h.type("see b" + TAB)
            await wait_until(lambda: h.input_text == "carol: see bob ", "mid-line")
            h.type(ENTER)
            await server.expect_msg("PRIVMSG", "#lobby", "carol: see bob ")
            h.type("/wh" + TAB)
            await wait_until(lambda: h.input_text == "/who ", "command")
            h.type(TAB)
            await wait_until(lambda: h.input_text == "/whois ", "cycle")
            h.type(SHIFT_TAB)
            await wait_until(lambda: h.input_text == "/who ", "back")

    run(body())


def test_history_with_up_and_down_keeps_the_draft() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type("first" + ENTER + "second" + ENTER)
            await server.expect_msg("PRIVMSG", "#lobby", "second")
            h.type("draft" + UP)
            await wait_until(lambda: h.input_text == "second", "up")
            h.type(UP)
            await wait_until(lambda: h.input_text == "first", "up again")
            h.type(DOWN + DOWN)
            await wait_until(lambda: h.input_text == "draft", "back to the draft")

    run(body())


def test_a_refused_command_clears_the_line_and_goes_to_history() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port, rooms=("#lobby", "#dev")) as h:
            await in_lobby(h)
            await wait_until(lambda: h.model.find("#dev") is not None, "#dev")
            h.type("/msg bob" + ENTER)
            await h.wait_text("Usage: /msg NICK|#room TEXT")
            assert h.input_text == ""
            h.type("/frobnicate" + ENTER)
            await h.wait_text("Unknown command /frobnicate")
            assert h.input_text == ""
            # The next command is not glued to the refused one.
            h.type("/switch #dev" + ENTER)
            await wait_until(lambda: h.model.current.name == "#dev", "/switch ran")
            assert h.input_text == ""
            # The refused lines are in the history, to fix.
            h.type(UP + UP)
            await wait_until(lambda: h.input_text == "/frobnicate", "Up")
            h.type(UP)
            await wait_until(lambda: h.input_text == "/msg bob", "Up again")
            h.type(" hi there" + ENTER)
            await server.expect_msg("PRIVMSG", "bob", "hi there")

    run(body())


def test_page_up_stops_with_the_first_line_at_the_top_and_a_full_screen() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            for i in range(50):  # more than one screen, less than two
                server.send(f":bob!~b@h PRIVMSG #lobby :line {i}")
            await h.wait_text("line 49")
            rows = h.app.scrollback.size[1]
            first = h.texts()[0]
            for _ in range(4):
                h.type(PAGE_UP)
            await wait_until(lambda: h.screen()[0].endswith(first), "the first line on top")
            screen = h.screen()
            assert len(screen) == rows
            assert all(row.strip() for row in screen), screen  # no blank rows
            assert h.model.current.scroll > 0 and "-- more (" in h.status()
            h.type(PAGE_UP + "x")  # already at the top: nothing moves
            await wait_until(lambda: h.input_text == "x", "the keys after PageUp")
            assert h.screen() == screen
            h.type(PAGE_DOWN + PAGE_DOWN + PAGE_DOWN)
            await wait_until(lambda: h.model.current.scroll == 0, "bottom")
            assert h.screen()[-1].endswith("line 49")

    run(body())


def test_page_up_and_down_scroll_the_current_buffer() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            for i in range(120):  # several screens: one page back is not the top
                server.send(f":bob!~b@h PRIVMSG #lobby :line {i}")
            await h.wait_text("line 119")
            top = h.screen()[0]
            h.type(PAGE_UP)
            await wait_until(lambda: h.model.current.scroll > 0, "scrolled")
            shown = h.screen()
            assert shown[-1] == top  # the old top line is now at the bottom
            assert "-- more (" in h.status()
            server.send(":bob!~b@h PRIVMSG #lobby :line 120")
            await h.wait_text("line 120")
            assert h.screen() == shown  # reading back is not disturbed
            h.type(PAGE_DOWN + PAGE_DOWN)
            await wait_until(lambda: h.model.current.scroll == 0, "bottom")
            assert h.screen()[-1].endswith("line 120")

    run(body())


def test_page_up_right_after_switching_pages_the_new_buffer() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port, rooms=("#lobby", "#dev")) as h:
            await in_lobby(h)
            for i in range(80):
                server.send(f":bob!~b@h PRIVMSG #dev :dev line {i}")
            await h.wait_text("dev line 79", "#dev")
            h.type("\x1b3" + PAGE_UP)  # Alt+3 and PageUp in one go
            await wait_until(lambda: h.model.current.name == "#dev", "#dev")
            await wait_until(lambda: h.model.current.scroll > 0, "scrolled")
            rows = h.app.scrollback.size[1]
            assert h.model.current.scroll < 2 * rows  # one page, not to the very top

    run(body())


def test_small_paste_sends_each_line() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type(paste("one\ntwo\r\n\nthree\n"))
            for word in ("one", "two", "three"):
                await server.expect_msg("PRIVMSG", "#lobby", f"{word}")
            assert h.input_text == ""

    run(body())


def test_single_line_paste_goes_into_the_input() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type("say " + paste("pasted words"))
            await wait_until(lambda: h.input_text == "say pasted words", "inserted")

    run(body())


def test_big_paste_asks_first() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            lines = [f"row {i}" for i in range(8)]
            h.type(paste("\n".join(lines)))
            await wait_until(lambda: h.app.pending_paste is not None, "confirmation")
            h.type("x" + ENTER)  # other keys do nothing while asked
            h.type("n")
            await wait_until(lambda: h.app.pending_paste is None, "cancelled")
            await h.wait_text("Paste of 8 lines cancelled")
            assert h.input_text == ""
            h.type(paste("\n".join(lines)) + "y")
            for i in range(8):
                await server.expect_msg("PRIVMSG", "#lobby", f"row {i}")

    run(body())


def test_ctrl_c_twice_quits_politely() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type("unsent draft" + CTRL_C + CTRL_C)
            await server.expect_msg("QUIT", "Leaving")
            await h.exited()

    run(body())


def test_ctrl_d_on_an_empty_line_quits() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type("ab" + "\x1b[D" + CTRL_D)  # Left, then Ctrl+D deletes the "b"
            await wait_until(lambda: h.input_text == "a", "deleted a char")
            h.type("\x08" + CTRL_D)
            await server.expect_msg("QUIT", "Leaving")

    run(body())


def test_status_line_counts_down_to_the_next_attempt() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port, backoff=Backoff((30,))) as h:
            await in_lobby(h)
            server.conn.close()
            await wait_until(lambda: "reconnecting in" in h.status(), "countdown")
            assert re.search(r"│ reconnecting in (30|29)s$", h.status()), h.status()
            h.type("/reconnect" + ENTER)
            await wait_until(lambda: len(server.conns) == 2, "reconnected at once")
            await wait_until(lambda: h.status().endswith("│ connected"), "connected")

    run(body())


def test_status_line_shows_nick_buffer_state_and_away() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            assert h.status() == " alice │ 2:#lobby │ connected"
            h.type("/away lunch" + ENTER)
            await server.expect_msg("AWAY", "lunch")
            server.send(":fake 306 alice :You have been marked as being away")
            await wait_until(lambda: "(away: lunch)" in h.status(), "away shown")

    run(body())


def test_connection_loss_is_shown_and_input_survives() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type("still typing")
            await wait_until(lambda: h.input_text == "still typing", "typed")
            server.conn.close()
            await h.wait_text("Disconnected: the server closed the connection")
            assert h.input_text == "still typing"
            await wait_until(lambda: "reconnecting in" in h.status() or len(server.conns) == 2)
            await wait_until(lambda: len(server.conns) == 2, "reconnected")
            server.next_connection()
            await server.expect_msg("JOIN", "#lobby")
            await wait_until(lambda: h.status().endswith("connected"), "connected again")
            # Enter before the server confirmed the rejoin would race it: wait for the room.
            await in_lobby(h)
            h.type(ENTER)
            await server.expect_msg("PRIVMSG", "#lobby", "still typing")

    run(body())


def test_a_kick_from_a_room_not_in_view_is_one_highlight_in_the_status_line() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port, rooms=("#lobby", "#rust")) as h:
            await in_lobby(h)
            await wait_until(lambda: h.model.find("#rust") is not None, "#rust")
            server.send(":bob!~b@h KICK #rust alice :bye")
            await h.wait_text("You were kicked from #rust by bob (bye)", "#rust")
            assert h.status().endswith("│ act: 3:#rust(1!)"), h.status()
            assert "(0!)" not in h.status()
            assert h.app.bells == 1
            h.type("\x1ba")  # Alt+A goes there
            await wait_until(lambda: h.model.current.name == "#rust", "Alt+A")
            assert "act:" not in h.status()

    run(body())


def test_the_title_forgets_a_topic_that_is_gone() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            server.send(":fake 332 alice #lobby :Old news")
            await wait_until(lambda: h.title().endswith(": Old news"), "topic in the title")
            server.send(":fake 331 alice #lobby :No topic is set")
            await wait_until(lambda: h.title().endswith(": (no topic)"), "331 clears it")
            server.send(":fake 332 alice #lobby :Old news")
            await wait_until(lambda: h.title().endswith(": Old news"), "topic again")
            # Reconnect: the scripted server's rejoin sends no 332 (the topic is gone).
            server.conn.close()
            await wait_until(lambda: len(server.conns) == 2, "reconnected")
            server.next_connection()
            await server.expect_msg("JOIN", "#lobby")
            await wait_until(lambda: h.title().startswith(" #lobby [3 users]"), "rejoined")
            assert h.title() == " #lobby [3 users]: (no topic)"

    run(body())
