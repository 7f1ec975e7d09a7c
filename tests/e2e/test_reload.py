"""Reloading the configuration of a running server: SIGHUP and REHASH.

The real ``ircish-server`` with a config file; users stay connected while
the file changes under them.
"""

from __future__ import annotations

import signal
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from ircish.core.passwords import hash_password
from tests.e2e.e2e_support import ServerProcess, free_port
from tests.e2e.test_tls import make_certs
from tests.helpers import LineClient

OPER_PASSWORD = "hunter2-but-longer"


@pytest.fixture(scope="module")
def oper_hash() -> str:
    return hash_password(OPER_PASSWORD)


def config_text(motd: str, oper_hash: str, extra: str = "") -> str:
    return (
        f'[server]\nmotd = "{motd}"\n\n'
        "[[listeners]]\nport = 0\n\n"
        f'[[operators]]\nname = "admin"\npassword_hash = "{oper_hash}"\n'
        f"{extra}"
    )


@pytest.fixture
def opened() -> Iterator[list[LineClient]]:
    clients: list[LineClient] = []
    yield clients
    for c in clients:
        c.close()


def netcat(proc: ServerProcess, nick: str, opened: list[LineClient]) -> LineClient:
    c = proc.client()
    opened.append(c)
    c.expect(r"Type a nickname")
    c.send(nick)
    c.expect(r"^\*\*\* Users in #lobby: ")
    return c


def irc(proc: ServerProcess, nick: str, opened: list[LineClient]) -> LineClient:
    c = proc.client()
    opened.append(c)
    c.send(f"NICK {nick}")
    c.send(f"USER {nick} 0 * :{nick}")
    c.expect(r"^:\S+ (376|422) ")
    return c


def test_sighup_reloads_the_motd_and_keeps_everyone(
    tmp_path: Path, oper_hash: str, opened: list[LineClient]
) -> None:
    path = tmp_path / "ircish.toml"
    path.write_text(config_text("first message of the day", oper_hash))
    proc = ServerProcess("--config", str(path), cwd=tmp_path)
    try:
        alice = netcat(proc, "alice", opened)
        bob = irc(proc, "bob", opened)
        bob.send("JOIN #lobby")
        bob.expect(r" 366 bob #lobby ")

        # a broken file first: logged, nothing changes
        path.write_text("[server\nmotd = ")
        proc.signal(signal.SIGHUP)
        assert proc.wait_log("reload on SIGHUP failed, nothing changed")
        late = irc(proc, "late", opened)
        assert any("first message of the day" in line for line in late.received)

        path.write_text(config_text("second message of the day", oper_hash))
        proc.signal(signal.SIGHUP)
        assert proc.wait_log("configuration reloaded")
        carol = irc(proc, "carol", opened)
        assert any("second message of the day" in line for line in carol.received)
        assert not any("first message" in line for line in carol.received)

        # nobody was dropped
        alice.send("still here after two reloads")
        bob.expect(r"PRIVMSG #lobby :still here after two reloads$")
        assert proc.proc.poll() is None
    finally:
        proc.stop_now()
    assert "Traceback" not in proc.log()


def test_rehash_by_an_operator(tmp_path: Path, oper_hash: str, opened: list[LineClient]) -> None:
    path = tmp_path / "ircish.toml"
    path.write_text(config_text("before", oper_hash))
    proc = ServerProcess("--config", str(path), cwd=tmp_path)
    try:
        op = irc(proc, "op", opened)
        user = irc(proc, "user", opened)
        user.send("REHASH")
        user.expect(r" 481 user :")

        op.send(f"OPER admin {OPER_PASSWORD}")
        op.expect(r" 381 op ")
        # what cannot change while running is named and kept; the rest applies
        path.write_text(
            config_text("after", oper_hash).replace("port = 0", 'port = 0\ndialect = "irc"')
            + '\n[storage]\npath = "other.db"\n'
        )
        op.send("REHASH")
        op.expect(rf" 382 op {path} :Rehashing$")
        notice = op.expect(r"NOTICE op :REHASH: ")
        assert "configuration reloaded" in notice
        assert "listeners, storage changed but need a restart" in notice
        # the listener did not change: netcat users still get in
        newcomer = netcat(proc, "newcomer", opened)
        assert any("after" in line for line in newcomer.received)

        # an invalid file: the operator is told why, and nothing changes
        path.write_text(config_text("never", oper_hash) + "\n[limits]\nflood_burst = -1\n")
        op.send("REHASH")
        failed = op.expect(r"NOTICE op :REHASH failed, nothing changed: ")
        assert "limits.flood_burst" in failed
        again = irc(proc, "again", opened)
        assert any(":- after" in line for line in again.received)

        # netcat operators have the same command
        nc = netcat(proc, "ncop", opened)
        nc.send(f"/oper admin {OPER_PASSWORD}")
        nc.expect(r"You are now an IRC operator")
        path.write_text(config_text("after", oper_hash))
        nc.send("/rehash")
        nc.expect(rf"^\*\*\* Reloading {path}$")
        nc.expect(r"REHASH: configuration reloaded")
    finally:
        proc.stop_now()
    assert "Traceback" not in proc.log()


def test_sighup_gives_new_connections_a_renewed_certificate(
    tmp_path: Path, oper_hash: str, opened: list[LineClient]
) -> None:
    certs = make_certs(tmp_path)
    tls_port = free_port()
    path = tmp_path / "ircish.toml"
    path.write_text(
        config_text("tls", oper_hash) + f'\n[[listeners]]\nhost = "127.0.0.1"\nport = {tls_port}\n'
        f'tls_cert = "{certs.cert}"\ntls_key = "{certs.key}"\n'
    )
    proc = ServerProcess("--config", str(path), cwd=tmp_path)
    try:
        assert proc.wait_log(f"127.0.0.1:{tls_port} (dialect auto, TLS)")
        before = LineClient("127.0.0.1", tls_port, tls=certs.context())
        opened.append(before)
        before.expect(r"Type a nickname")
        before.send("before")
        before.expect(r"^\*\*\* Users in #lobby: ")

        renewed = trustme.CA()
        issued = renewed.issue_cert("localhost", "127.0.0.1")
        issued.private_key_pem.write_to_path(str(certs.key))
        certs.cert.write_bytes(b"".join(b.bytes() for b in issued.cert_chain_pems))
        proc.signal(signal.SIGHUP)
        assert proc.wait_log("configuration reloaded")

        ca_file = tmp_path / "renewed-ca.pem"
        renewed.cert_pem.write_to_path(str(ca_file))
        after = LineClient(
            "127.0.0.1", tls_port, tls=ssl.create_default_context(cafile=str(ca_file))
        )
        opened.append(after)
        after.expect(r"Type a nickname")
        after.send("after")
        after.expect(r"^\*\*\* Users in #lobby: ")
        before.send("the old connection kept its session")
        after.expect(r"^\[#lobby\] <before> the old connection kept its session$")
    finally:
        proc.stop_now()
    assert "Traceback" not in proc.log()


def test_an_operator_removed_from_the_file_loses_operator_status(
    tmp_path: Path, oper_hash: str, opened: list[LineClient]
) -> None:
    path = tmp_path / "ircish.toml"
    second = f'\n[[operators]]\nname = "bob"\npassword_hash = "{oper_hash}"\n'
    path.write_text(config_text("motd", oper_hash) + second)
    proc = ServerProcess("--config", str(path), cwd=tmp_path)
    try:
        admin = irc(proc, "admin", opened)
        bob = irc(proc, "bob", opened)
        admin.send(f"OPER admin {OPER_PASSWORD}")
        admin.expect(r" 381 admin ")
        bob.send(f"OPER bob {OPER_PASSWORD}")
        bob.expect(r" 381 bob ")

        path.write_text(config_text("motd", oper_hash))  # bob's entry is gone
        admin.send("REHASH")
        notice = admin.expect(r"NOTICE admin :REHASH: ")
        assert "1 operator removed from the file lost +o" in notice
        bob.expect(r"NOTICE bob :You are no longer an IRC operator")
        bob.expect(r":bob!\S+ MODE bob :?-o$")
        bob.send("KILL admin :nope")
        bob.expect(r" 481 bob ")
        admin.send("WHOIS admin")
        admin.expect(r" 313 admin admin ")  # admin keeps it
    finally:
        proc.stop_now()
    assert "Traceback" not in proc.log()
