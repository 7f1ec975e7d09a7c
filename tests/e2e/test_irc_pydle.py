"""pydle (an asyncio IRC client library from PyPI) against a real server.

pydle negotiates capabilities itself (CAP LS 302, REQ, END), tracks channels,
users and modes from what the server sends, and calls ``on_*`` hooks. If a
reply were malformed, its state would be wrong or a hook would not fire.
pydle bots share rooms with netcat-style plain users.

pydle runs in its own event loop in a background thread (``PydleLoop``); the
test thread calls into it and waits for recorded hook calls with a bounded
timeout.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import replace
from typing import Any, TypeVar

import pydle
import pytest

from ircish.config import Config, LimitsConfig
from tests.helpers import LineClient, RunningServer

T = TypeVar("T")
LOCAL = "localhost"  # loopback shows as localhost (cloaks)
SERVER = "ircish.local"
MakeServer = Callable[..., RunningServer]

HOOKS = (
    "on_connect",
    "on_join",
    "on_part",
    "on_kick",
    "on_quit",
    "on_nick_change",
    "on_topic_change",
    "on_channel_message",
    "on_private_message",
    "on_channel_notice",
    "on_private_notice",
    "on_mode_change",
    "on_user_mode_change",
    "on_invite",
    "on_ctcp",
    "on_disconnect",
)


class Bot(pydle.Client):  # type: ignore[misc]
    """A pydle client that records every hook call and every raw message."""

    def __init__(self, nick: str, **kw: Any) -> None:
        super().__init__(nick, **kw)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.raw: list[Any] = []
        self.changed = threading.Condition()
        self._pos = 0

    def _note(self, name: str, args: tuple[Any, ...]) -> None:
        with self.changed:
            self.calls.append((name, args))
            self.changed.notify_all()

    async def on_raw(self, message: Any) -> None:
        with self.changed:
            self.raw.append(message)
            self.changed.notify_all()
        await super().on_raw(message)

    def wait(self, hook: str, *args: Any, timeout: float = 5.0) -> tuple[Any, ...]:
        """The next call of ``hook`` (whose first arguments equal ``args``, if given)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                while self._pos < len(self.calls):
                    name, got = self.calls[self._pos]
                    self._pos += 1
                    if name == hook and got[: len(args)] == args:
                        return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{self.nickname}: no {hook}{args}; last calls: {self.calls[-8:]}"
                    )
                self.changed.wait(left)

    def wait_raw(self, command: str, timeout: float = 5.0) -> Any:
        """The first raw message with this command ("PING", or a numeric such as "001")."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for message in self.raw:
                    # pydle turns numerics into ints.
                    got = message.command
                    if (f"{got:03d}" if isinstance(got, int) else str(got)) == command:
                        self.raw.remove(message)
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.nickname}: no raw {command}")
                self.changed.wait(left)


def _recorder(name: str) -> Callable[..., Coroutine[Any, Any, None]]:
    async def hook(self: Bot, *args: Any) -> None:
        await getattr(pydle.Client, name)(self, *args)
        self._note(name, args)

    hook.__name__ = name
    return hook


for _name in HOOKS:
    setattr(Bot, _name, _recorder(_name))


class PydleLoop:
    """An asyncio loop in a thread, for pydle, driven from the test thread."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.bots: list[Bot] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 5.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def read(self, fn: Callable[[], T]) -> T:
        """Evaluate ``fn`` inside the loop, where pydle's state is consistent."""

        async def get() -> T:
            return fn()

        return self.run(get())

    def connect(self, nick: str, *, wait: bool = True, **kw: Any) -> Bot:
        bot = self.read(lambda: Bot(nick, **kw))
        self.bots.append(bot)
        self.run(bot.connect(self.server.host, self.server.port, tls=False, reconnect=False))
        if wait:
            bot.wait("on_connect")
            # pydle learns its nickname from the 001 just after calling on_connect.
            self.until(lambda: bot.nickname != pydle.client.DEFAULT_NICKNAME)
        return bot

    def until(self, fn: Callable[[], object], timeout: float = 5.0) -> None:
        """Poll pydle's state until ``fn`` is true (bounded)."""
        deadline = time.monotonic() + timeout
        while not self.read(fn):
            if time.monotonic() > deadline:
                raise AssertionError("pydle's state never got there")
            time.sleep(0.01)  # poll interval; pydle updates its state in its own thread

    def stop(self) -> None:
        async def shutdown() -> None:
            for bot in self.bots:
                if bot.connected:
                    await bot.disconnect(expected=True)
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.run(shutdown())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
            self.loop.close()


@pytest.fixture
def pydle_loop(server: RunningServer) -> Iterator[PydleLoop]:
    loop = PydleLoop(server)
    yield loop
    loop.stop()


def plain(server: RunningServer, nick: str, clients: list[LineClient]) -> LineClient:
    c = server.plain(nick)
    clients.append(c)
    return c


# -- tests ----------------------------------------------------------------------------


def test_pydle_negotiates_capabilities_and_registers(pydle_loop: PydleLoop) -> None:
    bot = pydle_loop.connect("pydlebot", realname="Pydle Bot")
    caps = pydle_loop.read(lambda: dict(bot._capabilities))
    for cap in ("echo-message", "away-notify", "multi-prefix", "extended-join"):
        assert caps[cap] is True, cap
    assert caps["userhost-in-names"] is True
    assert pydle_loop.read(lambda: bot.nickname) == "pydlebot"
    assert pydle_loop.read(lambda: bot.network) == "ircish"
    assert pydle_loop.read(lambda: dict(bot._nickname_prefixes)) == {"@": "o", "+": "v"}
    assert pydle_loop.read(lambda: set(bot._channel_prefixes)) == {"#"}
    welcome = bot.wait_raw("001")
    assert list(welcome.params) == [
        "pydlebot",
        f"Welcome to the ircish IRC Network pydlebot!~pydlebot@{LOCAL}",
    ]
    info = pydle_loop.run(bot.whois("pydlebot"))
    assert info["username"] == "~pydlebot"
    assert info["hostname"] == LOCAL
    assert info["realname"] == "Pydle Bot"
    assert info["server"] == SERVER


def test_pydle_and_plain_users_chat(
    server: RunningServer, pydle_loop: PydleLoop, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    bot = pydle_loop.connect("alice", realname="Alice Liddell")
    pydle_loop.run(bot.join("#lobby"))
    assert bot.wait("on_join", "#lobby") == ("#lobby", "alice")
    pat.expect(r"^\*\*\* alice joined #lobby$")
    # pydle handles each line in its own task, and asks for the modes after
    # joining: wait until its view of the room is complete.
    pydle_loop.until(
        lambda: (
            bot.channels["#lobby"]["users"] == {"pat", "alice"}
            and "t" in bot.channels["#lobby"]["modes"]
        )
    )
    lobby = pydle_loop.read(lambda: dict(bot.channels["#lobby"]))
    # The server's room: pat, first in, is not its operator.
    assert "o" not in lobby["modes"]
    assert lobby["modes"]["n"] is True and lobby["modes"]["t"] is True
    # userhost-in-names filled in the other user's identity.
    pat_info = pydle_loop.read(lambda: dict(bot.users["pat"]))
    assert (pat_info["username"], pat_info["hostname"]) == ("~plain", LOCAL)

    pat.send("hello alice")
    assert bot.wait("on_channel_message") == ("#lobby", "pat", "hello alice")
    pydle_loop.run(bot.message("#lobby", "hi pat, nice to meet you"))
    pat.expect(r"^\[#lobby\] <alice> hi pat, nice to meet you$")
    # echo-message: pydle learns of its own message from the server.
    assert bot.wait("on_channel_message") == ("#lobby", "alice", "hi pat, nice to meet you")

    pat.send("/msg alice a secret")
    assert bot.wait("on_private_message") == ("alice", "pat", "a secret")
    pydle_loop.run(bot.message("pat", "my lips are sealed"))
    pat.expect(r"^\[private\] <alice> my lips are sealed$")

    pydle_loop.run(bot.notice("#lobby", "a notice"))
    pat.expect(r"^\[#lobby\] -alice- a notice$")
    pat.send("/notice alice fyi")
    assert bot.wait("on_private_notice") == ("alice", "pat", "fyi")
    pat.send("/me dances")
    assert bot.wait("on_ctcp") == ("pat", "#lobby", "ACTION", "dances")


def test_pydle_nick_topic_modes_whois_away_kick(
    server: RunningServer, pydle_loop: PydleLoop, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    # pat opens #tea, so pat is its operator (#lobby is the server's: nobody's).
    pat.send("/join #tea")
    pat.expect(r"^\*\*\* Now talking in #tea$")
    bot = pydle_loop.connect("alice", realname="Alice Liddell")
    pydle_loop.run(bot.join("#tea"))
    bot.wait("on_join", "#tea")
    pydle_loop.run(bot.join("#py"))
    bot.wait("on_join", "#py")
    pat.send("/join #py")
    assert bot.wait("on_join", "#py") == ("#py", "pat")

    # Nick changes both ways; pydle renames users in its channel lists.
    pydle_loop.run(bot.set_nickname("alicia"))
    assert bot.wait("on_nick_change") == ("alice", "alicia")
    pat.expect(r"^\*\*\* alice is now known as alicia$")
    pat.send("/nick patty")
    assert bot.wait("on_nick_change") == ("pat", "patty")
    pydle_loop.until(lambda: bot.channels["#py"]["users"] == {"alicia", "patty"})

    # Topic.
    pydle_loop.run(bot.set_topic("#py", "Snakes and ladders"))
    assert bot.wait("on_topic_change") == ("#py", "Snakes and ladders", "alicia")
    pat.expect(r"^\*\*\* alicia changed the topic of #py to: Snakes and ladders$")
    pydle_loop.until(lambda: bot.channels["#py"]["topic"] == "Snakes and ladders")

    # Modes set by pydle, and by the plain operator of #tea.
    pydle_loop.run(bot.set_mode("#py", "+v", "patty"))
    assert bot.wait("on_mode_change") == ("#py", ["+v", "patty"], "alicia")
    pat.expect(r"^\*\*\* alicia sets mode \+v patty on #py$")
    pydle_loop.run(bot.set_mode("#py", "+kl", "sekrit", "5"))
    bot.wait("on_mode_change", "#py")
    pydle_loop.until(lambda: "l" in bot.channels["#py"]["modes"])
    modes = pydle_loop.read(lambda: dict(bot.channels["#py"]["modes"]))
    assert modes["v"] == ["patty"]
    assert modes["o"] == ["alicia"]
    assert modes["k"] == ["sekrit"]
    assert modes["l"] == "5"
    pat.send("/mode #tea +v alicia")
    assert bot.wait("on_mode_change") == ("#tea", ["+v", "alicia"], "patty")

    # WHOIS of a plain user.
    info = pydle_loop.run(bot.whois("patty"))
    assert info["username"] == "~plain"
    assert info["hostname"] == LOCAL
    assert info["realname"] == "pat"
    assert info["server"] == SERVER
    assert info["server_info"] == "ircish"
    assert sorted(info["channels"]) == ["#lobby", "+#py", "@#tea"]
    assert info["away"] is False

    # away-notify keeps pydle's view of pat's away state current.
    pat.send("/away making tea")
    pat.expect(r"^\*\*\* You are now marked as away$")
    pydle_loop.until(lambda: bot.users["patty"].get("away"))
    assert pydle_loop.read(lambda: bot.users["patty"]["away_message"]) == "making tea"
    info = pydle_loop.run(bot.whois("patty"))
    assert (info["away"], info["away_message"]) == (True, "making tea")

    # Kicks both ways, and an invitation.
    pydle_loop.run(bot.kick("#py", "patty", "tea break is over"))
    assert bot.wait("on_kick") == ("#py", "patty", "alicia", "tea break is over")
    pat.expect(r"^\*\*\* alicia kicked patty from #py \(tea break is over\)$")
    # Kicked from #py, pat talks in #tea again, the room joined last.
    pat.send("/kick alicia no pydles here")
    assert bot.wait("on_kick") == ("#tea", "alicia", "patty", "no pydles here")
    pydle_loop.until(lambda: set(bot.channels) == {"#py"})
    pat.send("/invite alicia #tea")
    assert bot.wait("on_invite") == ("#tea", "patty")


def test_pydle_part_and_quit(
    server: RunningServer, pydle_loop: PydleLoop, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    alice = pydle_loop.connect("alice")
    bob = pydle_loop.connect("bob")
    for bot in (alice, bob):
        pydle_loop.run(bot.join("#lobby"))
        bot.wait("on_join", "#lobby", bot.nickname)
    # pydle handles each line in its own task: let the names list land first.
    pydle_loop.until(lambda: bob.channels["#lobby"]["users"] == {"pat", "alice", "bob"})

    pydle_loop.run(alice.part("#lobby", "back soon"))
    assert bob.wait("on_part") == ("#lobby", "alice", "back soon")
    pat.expect(r"^\*\*\* alice left #lobby \(back soon\)$")
    pat.send("/quit bye all")
    assert bob.wait("on_quit") == ("pat", "Quit: bye all")
    pydle_loop.until(lambda: bob.channels["#lobby"]["users"] == {"bob"})

    pydle_loop.run(alice.join("#lobby"))
    bob.wait("on_join", "#lobby", "alice")
    pydle_loop.run(alice.quit("off to bed"))
    assert bob.wait("on_quit") == ("alice", "Quit: off to bed")


def test_pydle_falls_back_when_the_nick_is_taken(
    server: RunningServer, pydle_loop: PydleLoop, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)
    bot = pydle_loop.connect("pat", fallback_nicknames=["pat_"])
    assert pydle_loop.read(lambda: bot.nickname) == "pat_"
    assert list(bot.wait_raw("433").params) == ["*", "pat", "Nickname is already in use"]
    pydle_loop.run(bot.message("pat", "I got your name, almost"))
    pat.expect(r"^\[private\] <pat_> I got your name, almost$")


def test_pydle_survives_server_pings(make_server: MakeServer, clients: list[LineClient]) -> None:
    srv = make_server(
        replace(Config(), limits=replace(LimitsConfig(), ping_interval=1, ping_timeout=1))
    )
    pat = plain(srv, "pat", clients)
    loop = PydleLoop(srv)
    try:
        bot = loop.connect("alice")
        loop.run(bot.join("#lobby"))
        bot.wait("on_join", "#lobby")
        for _ in range(2):
            bot.wait_raw("PING")
        loop.run(bot.message("#lobby", "still here"))
        pat.expect(r"^\[#lobby\] <alice> still here$")
        assert loop.read(lambda: bot.connected)
    finally:
        loop.stop()
