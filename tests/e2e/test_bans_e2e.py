"""Server bans over real sockets, and across a restart on a real SQLite file.

The banned users connect from other loopback addresses (127.0.0.2,
127.0.0.3: Linux routes all of 127.0.0.0/8 to the loopback interface), so a
D-line can hit them and not the operator on 127.0.0.1. A D-lined address is
refused when its connection is accepted: one ERROR line, then the close,
before the server reads anything.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ircish.config import Config, OperatorConfig, StorageConfig
from ircish.core.cloaks import Cloaks
from tests.helpers import LineClient, RunningServer
from tests.unit.test_operators_config import cheap_hash

pytestmark = pytest.mark.timeout(60)

SERVER = "ircish.local"
PASSWORD = "keys to the castle"
BANNED = "127.0.0.2"
KLINED = "127.0.0.3"


def start(db: Path) -> RunningServer:
    config = replace(
        Config(),
        operators=(OperatorConfig("admin", cheap_hash(PASSWORD)),),
        storage=StorageConfig(path=str(db)),
    )
    return RunningServer(config)


def oper(srv: RunningServer, clients: list[LineClient]) -> LineClient:
    op = srv.irc("op")
    clients.append(op)
    op.send(f"OPER admin :{PASSWORD}")
    op.expect(r" 381 op ")
    return op


def refused_at_accept(srv: RunningServer, source: str) -> str:
    """Connect from ``source``; return the one line before the close."""
    c = srv.client(source)
    try:
        c.expect_closed()
        assert len(c.received) == 1, c.received
        return c.received[0]
    finally:
        c.close()


def test_dline_refuses_at_accept_and_bans_survive_a_restart(
    tmp_path: Path, clients: list[LineClient]
) -> None:
    db = tmp_path / "ircish.db"
    srv = start(db)
    try:
        op = oper(srv, clients)
        victim = srv.irc("victim", source=BANNED)
        watcher = srv.plain("watcher")
        clients += [victim, watcher]
        victim.send("JOIN #lobby")
        watcher.expect(r"^\*\*\* victim joined #lobby$")

        op.send(f"DLINE 1d {BANNED} :testing bans")
        assert op.expect(r" NOTICE ") == (
            f":{SERVER} NOTICE op :Added D-line {BANNED} for 1 day: testing bans (1 disconnected)"
        )
        assert victim.expect(r" 465 ") == (
            f":{SERVER} 465 victim :You are banned from this server: testing bans"
        )
        assert victim.expect(r"^ERROR ") == "ERROR :Closing Link: localhost (D-lined: testing bans)"
        victim.expect_closed()
        watcher.expect(r"^\*\*\* victim quit \(D-lined: testing bans\)$")

        assert (
            refused_at_accept(srv, BANNED) == "ERROR :You are banned from this server: testing bans"
        )
        assert srv.server.metrics.connections_refused["dline"] == 1
        # Others are still welcome.
        clients.append(srv.irc("fine"))

        op.send(f"KLINE 2h *@{KLINED} :k-lined here")
        op.expect(rf"Added K-line \*!\*@{KLINED} for 2 hours: k-lined here$")
        cloak = srv.chat.cloaks.host_for("203.0.113.7")
    finally:
        srv.stop()

    again = start(db)
    try:
        assert refused_at_accept(again, BANNED) == (
            "ERROR :You are banned from this server: testing bans"
        )
        late = again.client(KLINED)
        clients.append(late)
        late.send("NICK late")
        late.send("USER late 0 * :Late")
        assert late.expect(r" 465 ") == (
            f":{SERVER} 465 late :You are banned from this server: k-lined here"
        )
        late.expect(r"^ERROR :Closing Link: localhost \(You are banned from this server")
        late.expect_closed()
        # The generated cloak secret was kept in the file too.
        assert again.chat.cloaks.host_for("203.0.113.7") == cloak

        op = oper(again, clients)
        op.send("STATS k")
        assert op.expect(r" 216 ").startswith(
            f":{SERVER} 216 op K {KLINED} * * :k-lined here (set by op at "
        )
        assert op.expect(r" 219 ") == f":{SERVER} 219 op k :End of /STATS report"
        op.send("STATS d")
        assert op.expect(r" 225 ").startswith(f":{SERVER} 225 op D {BANNED} :testing bans (")
        op.expect(r" 219 op d ")

        op.send(f"UNDLINE {BANNED}")
        assert op.expect(r" NOTICE ") == f":{SERVER} NOTICE op :Removed D-line {BANNED}"
        back = again.irc("back", source=BANNED)
        clients.append(back)
        back.send("PING :still here")
        back.expect(r"PONG \S+ :still here")
    finally:
        again.stop()


def test_rehash_applies_max_bans_and_cloak_settings(clients: list[LineClient]) -> None:
    """REHASH (the real ``Server.reload``) with a new ``max_bans`` and ``cloak_secret``."""
    base = replace(
        Config(),
        operators=(OperatorConfig("admin", cheap_hash(PASSWORD)),),
        limits=replace(Config().limits, max_bans=1),
    )
    srv = RunningServer(base)
    try:
        loaded = [srv.config]
        srv.server.enable_reload("test.toml", lambda: loaded[0])
        op = oper(srv, clients)
        op.send("KLINE *@192.0.2.1 :one")
        op.expect(r"Added K-line")
        op.send("KLINE *@192.0.2.2 :two")
        op.expect(r"FAIL KLINE TOO_MANY_BANS .*There are already 1 server bans")
        before = srv.chat.cloaks.host_for("203.0.113.7")
        secret = "a new secret, long enough"
        loaded[0] = replace(
            srv.config,
            limits=replace(srv.config.limits, max_bans=5),
            server=replace(srv.config.server, cloak_secret=secret),
        )
        op.send("REHASH")
        op.expect(r"NOTICE op :REHASH: configuration reloaded")
        op.send("KLINE *@192.0.2.2 :two")
        op.expect(r"Added K-line \*!\*@192\.0\.2\.2 permanently: two")
        # The next connection takes the new cloak settings; users already here keep theirs.
        clients.append(srv.irc("newcomer"))
        after = srv.chat.cloaks.host_for("203.0.113.7")
        assert after != before
        assert after == Cloaks(True, secret, "ircish").host_for("203.0.113.7")
    finally:
        srv.stop()
