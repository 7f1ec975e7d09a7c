"""Server operators over real sockets: raw IRC, jaraco's ``irc`` library, netcat users.

Also proves the point of ``Chat.offload``: while an OPER password check is
held on the worker thread (its job waits on an Event), the single-threaded
loop keeps serving everyone else; and the whole path from
``ircish-server --hash-password`` to a configured, running server.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ircish.config import Config, OperatorConfig
from ircish.core import passwords
from tests.e2e.e2e_support import REPO, ServerProcess
from tests.e2e.test_irc_clients import Library
from tests.helpers import LineClient, RunningServer
from tests.unit.test_operators_config import cheap_hash

SERVER = "ircish.local"
PASSWORD = "open sesame"
MakeServer = Callable[..., RunningServer]


def oper_config(*operators: OperatorConfig) -> Config:
    return replace(
        Config(), operators=operators or (OperatorConfig("admin", cheap_hash(PASSWORD)),)
    )


@pytest.fixture
def opers(make_server: MakeServer) -> RunningServer:
    return make_server(oper_config())


def track(clients: list[LineClient], client: LineClient) -> LineClient:
    clients.append(client)
    return client


def test_irc_and_netcat_operators(opers: RunningServer, clients: list[LineClient]) -> None:
    alice = track(clients, opers.irc("alice"))
    bob = track(clients, opers.plain("bob"))
    carol = track(clients, opers.irc("carol"))
    alice.send("JOIN #lobby")
    alice.expect(r" 366 alice #lobby ")
    bob.expect(r"^\*\*\* alice joined #lobby$")
    carol.send("JOIN #lobby")
    carol.expect(r" 366 carol #lobby ")

    # OPER over IRC: 381 then MODE +o; a wrong password first.
    alice.send("OPER admin :not it")
    assert alice.expect(r" 464 ") == f":{SERVER} 464 alice :Password incorrect"
    alice.send(f"OPER admin :{PASSWORD}")
    assert alice.expect(r" 381 ") == f":{SERVER} 381 alice :You are now an IRC operator"
    assert alice.expect(r" MODE ") == ":alice!~alice@localhost MODE alice +o"

    # Everyone can see it.
    bob.send("/whois alice")
    bob.expect(r"^\*\*\* alice is an IRC operator$")
    carol.send("WHO #lobby")
    assert carol.expect(r" 352 carol #lobby ~alice ").endswith(" alice H* :0 alice")
    carol.send("LUSERS")
    assert carol.expect(r" 252 ") == f":{SERVER} 252 carol 1 :operator(s) online"

    # WALLOPS reaches users with +w: the netcat user asks for it, carol does not.
    bob.send("/mode bob +w")
    bob.expect(r"^\*\*\* bob sets mode \+w on bob$")
    alice.send("WALLOPS :restart in 5 minutes")
    bob.expect(r"^\*\*\* Wallops from alice: restart in 5 minutes$")
    assert alice.expect(r" WALLOPS ") == ":alice!~alice@localhost WALLOPS :restart in 5 minutes"
    carol.send("PING :after-wallops")
    carol.expect(r"PONG \S+ :after-wallops")
    assert not any("WALLOPS" in x for x in carol.received)

    # The netcat user becomes an operator too and KILLs carol.
    bob.send("/oper admin wrong")
    bob.expect(r"^! Wrong operator name or password$")
    bob.send(f"/oper admin {PASSWORD}")
    bob.expect(r"^\*\*\* You are now an IRC operator$")
    bob.send("/kill carol enough now")
    assert carol.expect(r" KILL ") == ":bob!~plain@localhost KILL carol :enough now"
    assert carol.expect(r"^ERROR ") == "ERROR :Closing Link: localhost (Killed (bob (enough now)))"
    carol.expect_closed()
    assert alice.expect(r" QUIT ") == ":carol!~carol@localhost QUIT :Killed (bob (enough now))"
    bob.expect(r"^\*\*\* carol quit \(Killed \(bob \(enough now\)\)\)$")
    bob.expect(r"^\*\*\* Killed carol \(enough now\)$")

    # MODE -o gives it up; KILL is refused afterwards.
    alice.send("MODE alice -o")
    assert alice.expect(r" MODE ") == ":alice!~alice@localhost MODE alice -o"
    alice.send("KILL bob :bye")
    assert alice.expect(r" 481 ") == (
        f":{SERVER} 481 alice :Permission Denied- You're not an IRC operator"
    )
    bob.send("/msg alice still here")
    alice.expect(r"PRIVMSG alice :still here$")


def test_irc_library_opers_kills_and_sends_wallops(
    opers: RunningServer, clients: list[LineClient]
) -> None:
    library = Library(opers)
    try:
        pat = track(clients, opers.plain("pat"))
        alice = library.connect("alice")
        bob = library.connect("bob")
        bob.conn.mode("bob", "+w")
        assert bob.wait("umode").arguments == ["+w"]
        alice.conn.oper("admin", "wrong")
        assert alice.wait("464").arguments == ["Password incorrect"]
        alice.conn.send_raw(f"OPER admin :{PASSWORD}")
        assert alice.wait("381").arguments == ["You are now an IRC operator"]
        assert alice.wait("umode").arguments == ["+o"]
        pat.send("/mode pat +w")
        pat.expect(r"^\*\*\* pat sets mode \+w on pat$")
        alice.conn.wallops("all hands")
        wallops = bob.wait("wallops")
        # The library files a command's first parameter as the event's target.
        assert (wallops.source, wallops.target) == ("alice!~alice@localhost", "all hands")
        pat.expect(r"^\*\*\* Wallops from alice: all hands$")
        # alice has no +w, so she gets her own copy.
        assert alice.wait("wallops").target == "all hands"
        alice.conn.whois("alice")
        assert alice.wait("313").arguments == ["alice", "is an IRC operator"]
        alice.conn.send_raw("KILL pat :off you go")
        pat.expect(r"^\*\*\* Closing connection: Killed \(alice \(off you go\)\)$")
        pat.expect_closed()
        notice = alice.wait("privnotice")
        assert notice.arguments == ["Killed pat (off you go)"]
        alice.conn.send_raw("KILL bob :you too")
        kill = bob.wait("kill")
        assert (kill.source.nick, kill.target, kill.arguments) == ("alice", "bob", ["you too"])
        bob.wait("disconnect")
    finally:
        library.close()


# -- the loop keeps serving while a password is checked ----------------------------------


class Gate:
    """Wraps the server's offloader so that each job waits for ``release`` first."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.open = threading.Event()
        self.started = threading.Event()
        self.finished = threading.Event()
        self.work_threads: list[int] = []
        self.done_threads: list[int] = []
        inner = server.chat.offloader
        assert inner is not None, "the server must install a threaded offloader"
        self.inner = inner
        server.chat.offloader = self._offload

    def _offload(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        def held() -> Any:
            self.work_threads.append(threading.get_ident())
            self.started.set()
            assert self.open.wait(10), "the test never opened the gate"
            return work()

        def recorded(result: Any) -> None:
            self.done_threads.append(threading.get_ident())
            done(result)
            self.finished.set()

        self.inner(held, recorded)


def test_loop_keeps_serving_while_an_oper_is_checked(
    opers: RunningServer, clients: list[LineClient]
) -> None:
    gate = Gate(opers)
    alice = track(clients, opers.irc("alice"))
    bob = track(clients, opers.plain("bob"))
    carol = track(clients, opers.plain("carol"))
    alice.send(f"OPER admin :{PASSWORD}")
    assert gate.started.wait(5), "the password check did not start"
    # The check is running (held) on a worker thread; the loop serves everyone else.
    for i in range(3):
        bob.send(f"message {i} while alice waits")
        carol.expect(rf"^\[#lobby\] <bob> message {i} while alice waits$")
    carol.send("/msg alice are you there?")
    assert alice.expect(r"PRIVMSG alice") == ":carol!~plain@localhost PRIVMSG alice :are you there?"
    # A second OPER while the first is pending is refused at once.
    alice.send(f"OPER admin :{PASSWORD}")
    assert alice.expect(r" 491 ") == (
        f":{SERVER} 491 alice :An OPER attempt is already being checked; wait for its answer"
    )
    assert not any(" 381 " in x for x in alice.received)
    gate.open.set()
    assert alice.expect(r" 381 ") == f":{SERVER} 381 alice :You are now an IRC operator"
    alice.expect(r" MODE alice \+o$")
    loop_thread = opers.thread.ident
    assert gate.work_threads and all(t != loop_thread for t in gate.work_threads)
    assert gate.done_threads == [loop_thread]


def test_client_that_leaves_during_the_check_gets_nothing(
    opers: RunningServer, clients: list[LineClient]
) -> None:
    gate = Gate(opers)
    alice = track(clients, opers.irc("alice"))
    bob = track(clients, opers.irc("bob"))
    alice.send(f"OPER admin :{PASSWORD}")
    assert gate.started.wait(5)
    alice.send("QUIT :gone")
    alice.expect_closed()
    gate.open.set()
    assert gate.finished.wait(5), "the answer never came back to the loop"
    # The answer came back to the loop and was dropped: nobody became an operator.
    bob.send("LUSERS")
    assert bob.expect(r" 252 ") == f":{SERVER} 252 bob 0 :operator(s) online"
    assert gate.done_threads == [opers.thread.ident]


def test_real_argon2_parameters(make_server: MakeServer, clients: list[LineClient]) -> None:
    # A hash with argon2-cffi's default (slow) parameters, as --hash-password makes.
    srv = make_server(oper_config(OperatorConfig("root", passwords.hash_password("t0ugh"))))
    root = track(clients, srv.plain("root"))
    root.send("/oper root t0ugh")
    root.expect(r"^\*\*\* You are now an IRC operator$", timeout=10)


# -- from --hash-password to a running server -------------------------------------------------


def test_hash_password_then_oper_on_a_server_process(
    tmp_path: Path, procs: list[ServerProcess], clients: list[LineClient]
) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "ircish", "--hash-password"],
        input="from the cli\n",
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        check=True,
    )
    hashed = made.stdout.strip()
    config = tmp_path / "ircish.toml"
    config.write_text(
        f'[[operators]]\nname = "admin"\npassword_hash = "{hashed}"\nhost = "~plain@127.0.0.1"\n',
        encoding="utf-8",
    )
    proc = ServerProcess("--config", str(config))
    procs.append(proc)
    c = track(clients, proc.client())
    c.send("sam")
    c.expect(r"^\*\*\* Welcome to ircish, sam! ")
    c.send("/oper admin wrong guess")
    c.expect(r"^! Wrong operator name or password$", timeout=10)
    c.send("/oper admin from the cli")
    c.expect(r"^\*\*\* You are now an IRC operator$", timeout=10)
    assert proc.wait_log("is now an IRC operator")
    log = proc.log()
    # The log names the real address (others are shown "localhost").
    assert re.search(r"failed OPER as 'admin' by sam!~plain@127\.0\.0\.1", log)
    assert "sam!~plain@127.0.0.1 is now an IRC operator (OPER as 'admin')" in log
    assert "WARNING" in log
    assert "wrong guess" not in log
    assert "from the cli" not in log
