"""IRCv3 user state over real sockets: setname, chghost, MONITOR, extended-monitor,
invite-notify, bot mode, no-implicit-names and WHOX.

Raw IRC clients (lines as any client library sends them), netcat-style plain
users and pydle share rooms on a real server; each test checks the exact lines
every one of them receives. To know that something did *not* arrive, a client
sends ``PING :sync`` and collects what came before the ``PONG`` (the server
answers in order); a netcat user does the same with ``/help nick``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pydle
import pytest

from ircish.config import Config, OperatorConfig
from ircish.core.caps import CAPABILITIES
from ircish.core.passwords import hash_password
from tests.e2e.e2e_support import parse, plain_sync, register, sync, wait
from tests.helpers import LineClient, RunningServer

SERVER = "ircish.local"
LOCAL = "localhost"  # loopback shows as localhost (cloaks)
NO_NAMES = next(c for c in CAPABILITIES if c.endswith("no-implicit-names"))
OPER_PASSWORD = "correct horse battery staple"

MakeServer = Callable[..., RunningServer]


# -- helpers -----------------------------------------------------------------------------


def plain(server: RunningServer, nick: str, clients: list[LineClient]) -> LineClient:
    c = server.plain(nick)
    clients.append(c)
    return c


def oper_server(make_server: MakeServer) -> RunningServer:
    """A server where ``OPER oz <OPER_PASSWORD>`` makes an operator."""
    return make_server(
        replace(Config(), operators=(OperatorConfig("oz", hash_password(OPER_PASSWORD)),))
    )


def become_oper(client: LineClient) -> None:
    client.send(f"OPER oz :{OPER_PASSWORD}")
    wait(client, "381")


# -- setname, MONITOR and extended-monitor -------------------------------------------------


def test_setname_monitor_and_extended_monitor(
    server: RunningServer, clients: list[LineClient]
) -> None:
    pat = plain(server, "pat", clients)  # in #lobby
    watcher = register(
        server, "watcher", "extended-monitor setname away-notify chghost", clients=clients
    )
    watcher.send("MONITOR + bob,pat,ghost")
    assert wait(watcher, "730").params == ("watcher", f"pat!~plain@{LOCAL}")
    assert wait(watcher, "731").params == ("watcher", "bob,ghost")

    bob = register(server, "bob", "setname", realname="Bob", clients=clients)
    assert wait(watcher, "730").params == ("watcher", f"bob!~bob@{LOCAL}")
    bob.send("JOIN #lobby")
    pat.expect(r"^\*\*\* bob joined #lobby$")

    bob.send("SETNAME :Bob the Builder")
    line = f":bob!~bob@{LOCAL} SETNAME :Bob the Builder"
    assert bob.expect(r"SETNAME") == line
    assert pat.expect(r"realname") == "*** bob changed their realname to: Bob the Builder"
    # The watcher shares no room with bob: extended-monitor brings it.
    assert watcher.expect(r"SETNAME") == line
    bob.send("AWAY :lunch")
    assert watcher.expect(r" AWAY ") == f":bob!~bob@{LOCAL} AWAY :lunch"
    assert plain_sync(pat) == [], "netcat users do not see away changes"

    bob.send("SETNAME :" + "x" * 101)
    assert bob.expect(r"FAIL") == (
        f":{SERVER} FAIL SETNAME INVALID_REALNAME :Realname is not valid (1 to 100 characters)"
    )
    assert not [x for x in sync(watcher) if "SETNAME" in x]

    bob.send("NICK robert")
    assert wait(watcher, "731").params == ("watcher", "bob")
    bob.send("QUIT :bye")
    pat.expect(r"^\*\*\* robert quit \(Quit: bye\)$")
    watcher.send("MONITOR L")
    assert wait(watcher, "732").params == ("watcher", "bob,ghost,pat")
    assert wait(watcher, "733").params == ("watcher", "End of MONITOR list")


def test_plain_user_monitors(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    pat.send("/monitor +alice")
    assert pat.expect(r".") == "*** alice is offline"
    alice = register(server, "alice", clients=clients)
    assert pat.expect(r".") == "*** alice is online"
    pat.send("/notify")
    assert pat.expect(r".") == "*** You are monitoring: alice"
    assert pat.expect(r".") == "*** End of your monitor list"
    alice.send("QUIT")
    assert pat.expect(r".") == "*** alice is offline"
    pat.send("/monitor -alice")
    pat.send("/monitor")
    assert pat.expect(r".") == "*** End of your monitor list"


# -- chghost, invite-notify --------------------------------------------------------------------


def test_chghost_by_an_operator(make_server: MakeServer, clients: list[LineClient]) -> None:
    server = oper_server(make_server)
    pat = plain(server, "pat", clients)
    bob = register(server, "bob", "chghost", clients=clients)
    ann = register(server, "ann", "chghost", clients=clients)
    carl = register(server, "carl", clients=clients)
    oz = register(server, "oz", clients=clients)
    for c in (bob, ann, carl):
        c.send("JOIN #lobby")
        wait(c, "366")

    oz.send("CHGHOST bob ~b cloak/bob")
    assert wait(oz, "481").params == ("oz", "Permission Denied- You're not an IRC operator")
    become_oper(oz)
    oz.send("CHGHOST bob ~b cloak/bob")
    assert wait(oz, "NOTICE").params == ("oz", "Changed the host of bob to bob!~b@cloak/bob")
    line = f":bob!~bob@{LOCAL} CHGHOST ~b cloak/bob"
    assert bob.expect(r"CHGHOST") == line
    assert ann.expect(r"CHGHOST") == line
    assert pat.expect(r"is now") == "*** bob is now bob!~b@cloak/bob"
    assert not [x for x in sync(carl) if "CHGHOST" in x or "QUIT" in x]
    bob.send("PRIVMSG #lobby :new me")
    assert carl.expect(r"PRIVMSG") == ":bob!~b@cloak/bob PRIVMSG #lobby :new me"
    assert pat.expect(r"new me") == "[#lobby] <bob> new me"

    oz.send("CHGHOST bob ~b bad*host")
    assert oz.expect(r"FAIL").startswith(f":{SERVER} FAIL CHGHOST INVALID_HOST bad*host :")


def test_invite_notify(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    pat.send("/join #tea")  # creates #tea: its operator
    pat.expect(r"^\*\*\* Now talking in #tea$")
    op = register(server, "op", "invite-notify", clients=clients)
    member = register(server, "member", "invite-notify", clients=clients)
    guest = register(server, "guest", clients=clients)
    for c in (op, member):
        c.send("JOIN #tea")
        wait(c, "366")
    pat.send("/mode +o op")
    wait(op, "MODE")
    pat.send("/invite guest")
    assert pat.expect(r"Invited") == "*** Invited guest to #tea"
    line = f":pat!~plain@{LOCAL} INVITE guest #tea"
    assert guest.expect(r"INVITE") == line
    assert op.expect(r"INVITE") == line
    assert not [x for x in sync(member) if "INVITE" in x], "not an operator"


# -- bot mode, no-implicit-names -----------------------------------------------------------------


def test_bot_mode(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    robo = register(server, "robo", clients=clients)
    tagged = register(server, "tagged", "message-tags", clients=clients)
    for c in (robo, tagged):
        c.send("JOIN #lobby")
        wait(c, "366")
    robo.send("MODE robo +B")
    assert robo.expect(r"MODE") == f":robo!~robo@{LOCAL} MODE robo +B"
    robo.send("PRIVMSG #lobby :beep boop")
    msg = wait(tagged, "PRIVMSG")
    assert msg.tags["bot"] == "" and msg.params == ("#lobby", "beep boop")
    assert pat.expect(r"beep") == "[#lobby] <robo> beep boop"
    tagged.send("WHOIS robo")
    assert wait(tagged, "335").params == ("tagged", "robo", "is a Bot on ircish")
    tagged.send("WHO robo")
    assert wait(tagged, "352").params[6] == "HB"
    pat.send("/whois robo")
    assert pat.expect(r"bot") == "*** robo is a bot"
    pat.send("/mode +B")
    assert pat.expect(r"mode") == "*** pat sets mode +B on pat"
    pat.send("/who #lobby")
    # #lobby is the server's room: pat, first in, is not its operator.
    assert pat.expect(r"pat \(") == f"*** #lobby: pat (~plain@{LOCAL}) [bot]"


def test_no_implicit_names(server: RunningServer, clients: list[LineClient]) -> None:
    plain(server, "pat", clients)
    quiet = register(server, "quiet", NO_NAMES, clients=clients)
    quiet.send("JOIN #lobby")
    assert wait(quiet, "JOIN").params == ("#lobby",)
    assert not [x for x in sync(quiet) if " 353 " in x or " 366 " in x]
    quiet.send("NAMES #lobby")
    assert wait(quiet, "353").params == ("quiet", "=", "#lobby", "pat quiet")


# -- WHOX ----------------------------------------------------------------------------------------


def test_whox(server: RunningServer, clients: list[LineClient]) -> None:
    pat = plain(server, "pat", clients)
    me = register(server, "me", clients=clients)
    shy = register(server, "shy", realname="Shy One", clients=clients)
    shy.send("MODE shy +i")
    wait(shy, "MODE")
    burst = [m for m in map(parse, me.received) if m is not None and m.verb == "005"]
    assert "WHOX" in [token for m in burst for token in m.params[1:-1]]
    me.send("JOIN #lobby")
    wait(me, "366")
    pat.send("/setname Pat Smith")
    pat.expect(r"realname")

    me.send("WHO #lobby %tcuhnfar,152")
    assert me.expect(r" 354 ") == (f":{SERVER} 354 me 152 #lobby ~plain {LOCAL} pat H 0 :Pat Smith")
    assert me.expect(r" 354 ") == f":{SERVER} 354 me 152 #lobby ~me {LOCAL} me H 0 me"
    assert me.expect(r" 315 ") == f":{SERVER} 315 me #lobby :End of /WHO list"
    # An invisible user outside my rooms stays hidden from a mask, as in plain WHO.
    me.send("WHO * %n")
    seen = []
    while True:
        line = me.expect(r" (354|315) ")
        if " 315 " in line:
            break
        seen.append(line)
    assert seen == [f":{SERVER} 354 me pat", f":{SERVER} 354 me me"]
    me.send("WHO shy %nr")
    assert me.expect(r" 354 ") == f":{SERVER} 354 me shy :Shy One"


# -- pydle -----------------------------------------------------------------------------------


class Watcher(pydle.Client):  # type: ignore[misc]
    """A pydle client that records MONITOR notifications."""

    def __init__(self, nick: str, **kw: Any) -> None:
        super().__init__(nick, **kw)
        self.events: list[tuple[str, str]] = []
        self.changed = threading.Condition()

    async def on_user_online(self, nickname: str) -> None:
        with self.changed:
            self.events.append(("online", nickname))
            self.changed.notify_all()

    async def on_user_offline(self, nickname: str) -> None:
        with self.changed:
            self.events.append(("offline", nickname))
            self.changed.notify_all()

    def wait_event(self, event: tuple[str, str], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while event not in self.events:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event}; got {self.events}")
                self.changed.wait(left)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop in a thread, for pydle."""
    ev_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=ev_loop.run_forever, daemon=True)
    thread.start()
    yield ev_loop

    async def cancel_pending() -> None:
        # pydle leaves a task per line it was handling; end them before the loop stops.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(cancel_pending(), ev_loop).result(5)
    ev_loop.call_soon_threadsafe(ev_loop.stop)
    thread.join(timeout=5)
    ev_loop.close()


def test_pydle_monitor_whox_and_chghost(
    make_server: MakeServer, loop: asyncio.AbstractEventLoop, clients: list[LineClient]
) -> None:
    server = oper_server(make_server)

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(5)

    async def make() -> Watcher:
        return Watcher("watcher", realname="Watcher")

    def until(fn: Callable[[], object]) -> None:
        async def get() -> object:
            return fn()

        deadline = time.monotonic() + 5
        while not run(get()):
            assert time.monotonic() < deadline, "pydle's state never got there"
            time.sleep(0.01)  # poll interval; pydle updates its state in its own thread

    bot: Watcher = run(make())
    run(bot.connect(server.host, server.port, tls=False, reconnect=False))
    try:
        until(lambda: bot.registered and "WHOX" in bot._isupport)
        caps = bot._capabilities
        assert caps.get("chghost") is True and caps.get("invite-notify") is True
        assert run(bot.monitor("pat")) is True
        bot.wait_event(("offline", "pat"))
        pat = plain(server, "pat", clients)
        bot.wait_event(("online", "pat"))
        # pydle asks WHO #lobby %tnurha,542 on joining: WHOX fills in pat's realname.
        pat.send("/setname Pat Smith")
        pat.expect(r"realname")
        run(bot.join("#lobby"))
        until(lambda: bot.users.get("pat", {}).get("realname") == "Pat Smith")
        until(
            lambda: (
                (bot.users["pat"]["username"], bot.users["pat"]["hostname"]) == ("~plain", LOCAL)
            )
        )
        # chghost updates pydle's view of pat without a rejoin.
        oz = register(server, "oz", clients=clients)
        become_oper(oz)
        oz.send("CHGHOST pat ~pat home.example")
        until(
            lambda: (
                (bot.users["pat"]["username"], bot.users["pat"]["hostname"])
                == ("~pat", "home.example")
            )
        )
        pat.send("/quit")
        bot.wait_event(("offline", "pat"))
    finally:
        run(bot.disconnect(expected=True))
