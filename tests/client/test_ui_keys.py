"""Keys of the input line: Ctrl+C asks before quitting; formatting keys type mIRC codes."""

from __future__ import annotations

from tests.client.conftest import fake_irc, run, running_app, wait_until
from tests.client.test_ui import CTRL_C, ENTER, in_lobby

CTRL_B = "\x02"
CTRL_K = "\x0b"
CTRL_O = "\x0f"
CTRL_UNDERSCORE = "\x1f"


def test_one_ctrl_c_asks_and_does_not_quit() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type("draft" + CTRL_C)
            await wait_until(lambda: "Press Ctrl+C again to quit" in h.status(), "the question")
            # The question goes away on its own; the next Ctrl+C asks again.
            h.app.ctrl_c_at = (h.app.ctrl_c_at or 0) - 2.5
            assert "Ctrl+C" not in h.status()
            h.type(CTRL_C)
            await wait_until(lambda: "Press Ctrl+C again" in h.status(), "asked again")
            h.type("ed" + ENTER)
            await server.expect_msg("PRIVMSG", "#lobby", "drafted")
            assert h.app.application.is_running
            assert not any(line.startswith("QUIT") for line in server.conn.lines)

    run(body())


def test_formatting_keys_type_mirc_codes_and_show_them_as_letters() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            h.type(CTRL_B + "bold" + CTRL_B + " " + CTRL_K + "4red" + CTRL_O + " ")
            h.type(CTRL_UNDERSCORE + "under")
            want = "\x02bold\x02 \x034red\x0f \x1funder"
            await wait_until(lambda: h.input_text == want, "codes typed")
            content = h.app.input_window.content.create_content(60, 1)
            shown = "".join(t for _, t, *_ in content.get_line(0))
            assert shown.rstrip() == "[#lobby] BboldB C4redO Uunder"
            h.type(ENTER)
            await server.expect_msg("PRIVMSG", "#lobby", want)
            await wait_until(lambda: h.screen()[-1].endswith("<alice> bold red under"), "echo")

    run(body())


def test_windows_lists_the_open_buffers_with_numbers_and_activity() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port, rooms=("#lobby", "#dev")) as h:
            await in_lobby(h)
            await wait_until(lambda: h.model.find("#dev") is not None, "#dev")
            server.send(":bob!~b@h PRIVMSG #dev :news")
            server.send(":bob!~b@h PRIVMSG alice :psst")
            await wait_until(lambda: h.model.find("bob") is not None, "query")
            h.type("/windows" + ENTER)
            await h.wait_text("Open buffers")
            table = h.texts()[-1]
            rows = [" ".join(row.split()) for row in table.split("\n")]
            assert any(row.startswith("1 127.0.0.1:") for row in rows)
            assert "2 #lobby (you are here)" in rows
            assert "3 #dev 1 unread" in rows
            assert "4 bob 1 unread, 1 for you" in rows

    run(body())


def test_lastlog_shows_the_lines_of_this_buffer_that_contain_the_text() -> None:
    async def body() -> None:
        async with fake_irc() as server, running_app(server.port) as h:
            await in_lobby(h)
            server.send(":bob!~b@h PRIVMSG #lobby :the Rust release is out")
            server.send(":carol!~c@h PRIVMSG #lobby :lunch?")
            server.send(":bob!~b@h PRIVMSG #lobby :rust 2.0 notes")
            await h.wait_text("rust 2.0 notes")
            h.type("/lastlog RUST" + ENTER)
            await h.wait_text("/lastlog RUST: 2 lines")
            table = h.texts()[-1]
            assert "the Rust release is out" in table and "rust 2.0 notes" in table
            assert "lunch?" not in table
            h.type("/lastlog nothing-like-this" + ENTER)
            await h.wait_text("No line of #lobby contains 'nothing-like-this'")
            h.type("/lastlog" + ENTER)
            await h.wait_text("Usage: /lastlog TEXT")
            assert h.input_text == ""

    run(body())
