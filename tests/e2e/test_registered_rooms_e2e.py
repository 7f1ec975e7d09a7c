"""A registered room keeps its operators, topic, key and bans across a real server restart.

Two ``python -m ircish`` processes, one after the other, in the same working
directory: the second one reads the first one's default ``ircish.db``. The
accounts are made with ``SqliteStorage`` on that file before the first start
(registering accounts is tested with NickServ); the users log in with
``NickServ IDENTIFY`` and talk to ChanServ as IRC clients do.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

from ircish.core.passwords import hash_password
from ircish.core.storage import Account
from ircish.storage.sqlite import SqliteStorage
from tests.e2e.e2e_support import ServerProcess, register, sync, wait
from tests.helpers import LineClient

PASSWORD = "correct-horse-battery"
#: The default server name (no config file).
SERVER = "ircish.local"


def make_accounts(db: Path, *names: str) -> None:
    store = SqliteStorage(str(db))
    hashed = hash_password(PASSWORD)
    for name in names:
        store.save_account(name.lower(), Account(name, hashed, ""))
    store.close()


def logged_in(proc: ServerProcess, nick: str, clients: list[LineClient]) -> LineClient:
    c = register(proc, nick, clients=clients)  # type: ignore[arg-type]
    c.send(f"PRIVMSG NickServ :IDENTIFY {nick} {PASSWORD}")
    wait(c, "900")
    sync(c)  # and the rest of the login's answer
    return c


def chanserv(c: LineClient, text: str, answer: str) -> None:
    """Tell ChanServ ``text`` and wait for its notice matching ``answer``."""
    c.send(f"PRIVMSG ChanServ :{text}")
    c.expect(rf"^:ChanServ!ChanServ@services\.\S+ NOTICE \S+ :{answer}")


def stop(proc: ServerProcess) -> None:
    proc.signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0, proc.log()


def test_a_registered_room_keeps_its_operators_topic_key_and_bans_across_a_restart(
    tmp_path: Path, procs: list[ServerProcess], clients: list[LineClient]
) -> None:
    make_accounts(tmp_path / "ircish.db", "alice", "bob")

    first = ServerProcess(cwd=tmp_path)
    procs.append(first)
    alice = logged_in(first, "alice", clients)
    alice.send("JOIN #rust")
    wait(alice, "366")
    chanserv(alice, "REGISTER #rust", "Channel #rust successfully registered")
    chanserv(alice, "AMODE #rust +v bob", "Successfully set persistent mode \\+v on bob")
    alice.send("TOPIC #rust :kept across restarts")
    alice.send("MODE #rust +k door")
    alice.send("MODE #rust +b troll!*@*")
    sync(alice)
    stop(first)

    second = ServerProcess(cwd=tmp_path)
    procs.append(second)
    # Nobody is in #rust, yet it keeps its key and its bans.
    carol = register(second, "carol", clients=clients)  # type: ignore[arg-type]
    carol.send("JOIN #rust")
    assert wait(carol, "475").params[1:] == ("#rust", "Cannot join channel (+k)")
    troll = register(second, "troll", clients=clients)  # type: ignore[arg-type]
    troll.send("JOIN #rust door")
    assert wait(troll, "474").params[1] == "#rust"

    # The founder needs no key and gets her operator status back from ChanServ.
    alice = logged_in(second, "alice", clients)
    alice.send("JOIN #rust")
    seen = sync(alice)
    assert seen[0].startswith(":alice!~alice@localhost JOIN #rust")
    server = re.escape(SERVER)
    assert re.fullmatch(rf":ChanServ!ChanServ@services\.{server} MODE #rust \+o alice", seen[1])
    assert any(re.fullmatch(rf":{server} 332 alice #rust :kept across restarts", x) for x in seen)
    assert any(re.fullmatch(rf":{server} 353 alice = #rust :@alice", x) for x in seen)

    bob = logged_in(second, "bob", clients)
    bob.send("JOIN #rust door")
    line = alice.expect(r" MODE #rust ")
    assert re.fullmatch(rf":ChanServ!ChanServ@services\.{server} MODE #rust \+v bob", line)
    carol.send("JOIN #rust door")
    wait(carol, "366")
    carol.send("NAMES #rust")
    assert wait(carol, "353").params[-1] == "@alice +bob carol"
    stop(second)
