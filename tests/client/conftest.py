"""Client test helpers: a sans-IO client fed by hand, a scripted IRC server, a UI harness.

``FakeIrcServer`` is a real asyncio TCP server on an ephemeral port that
registers clients the simplest way a server can (no CAP, welcome on USER),
echoes their JOINs with a NAMES answer and records every line they send.
``AppHarness`` runs a ``ChatApp`` with prompt_toolkit's pipe input and
``DummyOutput``, as prompt_toolkit's own tests do, and reads what the
scrollback, status line and input line would draw.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from ircish.client.app import ChatApp, build
from ircish.client.connection import Backoff
from ircish.client.irc import IrcClient
from ircish.client.model import Model
from ircish.client.render import plain_rows
from ircish.protocol.message import Message, MessageParseError

TIMEOUT = 5.0
T0 = datetime(2024, 5, 1, 12, 30).astimezone()


def run(coro: Coroutine[Any, Any, Any], timeout: float = 20.0) -> Any:
    """Run an async test body with an overall bound."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_until(cond: Callable[[], object], what: str = "", timeout: float = TIMEOUT) -> None:
    """Poll ``cond`` (bounded); the loop keeps running the app in between."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.01)


@pytest.fixture(autouse=True)
def _no_user_files(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's client.toml or writes to their logs."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


# -- sans IO ---------------------------------------------------------------------------


def make_client(nick: str = "alice", rooms: tuple[str, ...] = ("#lobby",), **kw: Any) -> IrcClient:
    model = Model(nick, "test:6667", clock=lambda: T0)
    return IrcClient(model, autojoin=rooms, **kw)


def feed(client: IrcClient, *lines: str) -> list[str]:
    """Give the client server lines; return what it wants to send."""
    for line in lines:
        client.line_received(line)
    return client.pop_outgoing()


def registered(
    nick: str = "alice", rooms: tuple[str, ...] = ("#lobby",), members: str = "", **kw: Any
) -> IrcClient:
    """A client past registration, in ``rooms`` (each with ``members`` besides itself)."""
    client = make_client(nick, rooms, **kw)
    client.connection_made()
    feed(
        client,
        f":srv 001 {nick} :Welcome {nick}",
        f":srv 005 {nick} CHANTYPES=# PREFIX=(ov)@+ CASEMAPPING=rfc8265 NETWORK=testnet :ok",
    )
    for room in rooms:
        feed(
            client,
            f":{nick}!~{nick}@h JOIN {room}",
            f":srv 353 {nick} = {room} :@{nick} {members}".rstrip(),
            f":srv 366 {nick} {room} :End of /NAMES list",
            # The end of the WHO the client sends on joining (to learn who is away).
            f":srv 315 {nick} {room} :End of /WHO list",
        )
    return client


@pytest.fixture
def client() -> IrcClient:
    return registered(members="bob +carol")


# -- a scripted server -------------------------------------------------------------------


class FakeConn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.lines: list[str] = []
        self.nick = "*"
        self.closed = False

    def send(self, line: str) -> None:
        self.writer.write((line + "\r\n").encode())

    def close(self) -> None:
        self.closed = True
        self.writer.close()


class FakeIrcServer:
    """Just enough of an IRC server to drive the client, on an ephemeral port."""

    def __init__(self) -> None:
        self.conns: list[FakeConn] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._seen = 0
        #: Answer registration with ERR_PASSWDMISMATCH and close, as a server with a password does.
        self.refuse_password = False

    async def start(self) -> FakeIrcServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for conn in self.conns:
            if not conn.closed:
                conn.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def conn(self) -> FakeConn:
        return self.conns[-1]

    def send(self, line: str) -> None:
        self.conn.send(line)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = FakeConn(reader, writer)
        self.conns.append(conn)
        try:
            while raw := await reader.readline():
                line = raw.decode().rstrip("\r\n")
                conn.lines.append(line)
                self._answer(conn, line)
        except (ConnectionError, OSError):
            pass  # the client hung up: this connection is over, as on a real server
        finally:
            conn.closed = True
            writer.close()

    def _answer(self, conn: FakeConn, line: str) -> None:
        verb, _, rest = line.partition(" ")
        if verb == "NICK":
            conn.nick = rest
        elif verb == "USER" and self.refuse_password:
            conn.send(f":fake 464 {conn.nick} :Password incorrect")
            conn.send("ERROR :Bad password")
            conn.close()
        elif verb == "USER":
            conn.send(f":fake 001 {conn.nick} :Welcome {conn.nick}")
            conn.send(f":fake 005 {conn.nick} CHANTYPES=# PREFIX=(ov)@+ :are supported")
        elif verb == "JOIN":
            for room in rest.split(" ")[0].split(","):
                conn.send(f":{conn.nick}!~u@h JOIN {room}")
                conn.send(f":fake 353 {conn.nick} = {room} :@{conn.nick} bob carol")
                conn.send(f":fake 366 {conn.nick} {room} :End of /NAMES list")
        elif verb == "QUIT":
            conn.send("ERROR :Closing link")
            conn.close()

    async def expect_msg(self, verb: str, *params: str, timeout: float = TIMEOUT) -> Message:
        """The next message the client sent with this verb and these parameters."""
        wanted = (verb, params)

        def match(line: str) -> bool:
            try:
                msg = Message.parse(line)
            except MessageParseError:
                return False
            return (msg.verb, msg.params) == wanted

        return Message.parse(await self.expect(match, timeout, what=f"{verb} {params}"))

    async def expect(
        self,
        pattern: str | Callable[[str], bool],
        timeout: float = TIMEOUT,
        conn: int = -1,
        what: str = "",
    ) -> str:
        """The next line (after those already matched) the client sent that matches."""
        match: Callable[[str], bool]
        if isinstance(pattern, str):
            rx = re.compile(pattern)

            def match(line: str) -> bool:
                return rx.search(line) is not None
        else:
            match = pattern
        found: list[str] = []

        def check() -> bool:
            lines = self.conns[conn].lines if self.conns else []
            while self._seen < len(lines):
                line = lines[self._seen]
                self._seen += 1
                if match(line):
                    found.append(line)
                    return True
            return False

        try:
            await wait_until(check, f"client line {pattern!r}", timeout)
        except AssertionError:
            got = self.conns[conn].lines[-8:] if self.conns else []
            wanted = what or repr(pattern)
            raise AssertionError(f"client never sent {wanted}; last lines: {got}") from None
        return found[0]

    def next_connection(self) -> None:
        """Start matching from the beginning of the next connection's lines."""
        self._seen = 0


# -- the UI ---------------------------------------------------------------------------


class AppHarness:
    """A running ``ChatApp`` with pipe input and dummy output."""

    def __init__(self, app: ChatApp, inp: PipeInput) -> None:
        self.app = app
        self.inp = inp
        self.model = app.model

    def type(self, text: str) -> None:
        self.inp.send_text(text)

    def screen(self) -> list[str]:
        """The scrollback rows as drawn (at the size of the last draw), without styles."""
        content = self.app.scrollback.create_content(*self.app.scrollback.size)
        return ["".join(t for _, t, *_ in content.get_line(i)) for i in range(content.line_count)]

    def status(self) -> str:
        return "".join(t for _, t, *_ in self.app._status())

    def title(self) -> str:
        return "".join(t for _, t, *_ in self.app._title())

    @property
    def input_text(self) -> str:
        return self.app.input.text

    def texts(self, name: str | None = None) -> list[str]:
        """Plain text of every line of a buffer (default: the current one)."""
        buf = self.model.find(name) if name else self.model.current
        if buf is None:
            return []
        return ["\n".join(plain_rows(self.app.renderer, line, 200)) for line in buf.lines]

    async def exited(self) -> None:
        await wait_until(lambda: not self.app.application.is_running, "the app to exit")

    async def wait_text(self, needle: str, name: str | None = None) -> None:
        await wait_until(
            lambda: any(needle in t for t in self.texts(name)), f"{needle!r} in {name or 'view'}"
        )


@asynccontextmanager
async def running_app(
    port: int,
    nick: str = "alice",
    rooms: tuple[str, ...] = ("#lobby",),
    **kw: Any,
) -> AsyncIterator[AppHarness]:
    """Run the client app against ``127.0.0.1:port``; quit and wait for it at the end."""
    kw.setdefault("backoff", Backoff((0.05, 0.1, 0.2)))
    with create_pipe_input() as inp:
        output = DummyOutput()
        app = build("127.0.0.1", port, nick, rooms, input=inp, output=output, **kw)

        async def run_app() -> None:
            # prompt_toolkit keeps "the running app" in a session object; give each app its
            # own, or two apps in one event loop receive each other's keys.
            with create_app_session(input=inp, output=output):
                await app.run()

        task = asyncio.ensure_future(run_app())
        harness = AppHarness(app, inp)
        try:
            yield harness
        finally:
            if not task.done():
                app.quit("test over")
                try:
                    await asyncio.wait_for(asyncio.shield(task), TIMEOUT)
                except TimeoutError:
                    task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]


@asynccontextmanager
async def fake_irc() -> AsyncIterator[FakeIrcServer]:
    server = await FakeIrcServer().start()
    try:
        yield server
    finally:
        await server.stop()
