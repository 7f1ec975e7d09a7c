"""``ircish-server --workers N``: N processes on one port (SO_REUSEPORT), one network."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.cluster.redis_support import RedisServer
from tests.e2e.e2e_support import ServerProcess, run_cli
from tests.helpers import LineClient


def _config(tmp_path: Path, redis: RedisServer, extra: str = "", db: str = "") -> Path:
    path = tmp_path / "ircish.toml"
    # One listener (the --port of the test): the workers share it.
    path.write_text(
        f'[storage]\npath = "{db}"\n\n[cluster]\nredis_url = "{redis.url}"\n{extra}\n'
        "[[listeners]]\nport = 6667\n",
        encoding="utf-8",
    )
    return path


def test_two_workers_serve_one_port_as_one_network(
    tmp_path: Path,
    redis_server: RedisServer,
    procs: list[ServerProcess],
    opened: list[LineClient],
) -> None:
    config = _config(tmp_path, redis_server, 'node_name = "w"\n', db=str(tmp_path / "chat.db"))
    proc = ServerProcess("--config", str(config), "--workers", "2")
    procs.append(proc)
    deadline = time.monotonic() + 15
    while proc.log().count("joined the network") < 2:
        assert time.monotonic() < deadline, proc.log()
        proc.wait_log("joined the network", timeout=0.2)
    # Each worker has its own storage file and node name.
    assert (tmp_path / "chat.1.db").exists() and (tmp_path / "chat.2.db").exists()
    assert not (tmp_path / "chat.db").exists()
    names = sorted(n.split(b"/")[0] for n in redis_server.command("SMEMBERS", "ircish:nodes"))
    assert names == [b"w-1", b"w-2"]
    people = []
    for i in range(20):
        conn = proc.client()
        opened.append(conn)
        conn.send(f"user{i}")
        conn.expect(r"^\*\*\* Now talking in #lobby")
        people.append(conn)
    # The kernel spread them over both processes (all 20 on one: odds of 2 in a million).
    nodes = redis_server.command("SMEMBERS", "ircish:nodes")
    assert len(nodes) == 2
    counts = [int(redis_server.command("SCARD", b"ircish:node-users:" + node)) for node in nodes]
    assert sorted(counts)[0] > 0 and sum(counts) == 20, counts
    people[0].send("hello, everyone on both")
    for conn in people[1:]:
        conn.expect(r"^\[#lobby\] <user0> hello, everyone on both$")
    proc.signal(signal.SIGTERM)
    assert proc.wait() == 0
    assert "Traceback" not in proc.log()


@pytest.mark.parametrize(
    ("extra", "args", "message"),
    [
        (None, ("--workers", "2"), "--workers needs [cluster] redis_url"),
        ("", ("--workers", "2", "--port", "0"), "--workers needs a fixed port"),
        ("", ("--workers", "0"), "--workers: expected 1 to 64, got 0"),
    ],
)
def test_workers_that_cannot_work_are_refused(
    tmp_path: Path,
    redis_server: RedisServer,
    extra: str | None,
    args: tuple[str, ...],
    message: str,
) -> None:
    if extra is None:
        path = tmp_path / "plain.toml"
        path.write_text('[storage]\npath = ""\n', encoding="utf-8")
    else:
        path = _config(tmp_path, redis_server, extra)
    result = run_cli("--config", str(path), *args)
    assert result.returncode == 2
    assert f"ircish-server: {message}" in result.stderr


def test_workers_stop_when_their_parent_is_killed(
    tmp_path: Path, redis_server: RedisServer, procs: list[ServerProcess]
) -> None:
    proc = ServerProcess("--config", str(_config(tmp_path, redis_server)), "--workers", "2")
    procs.append(proc)
    deadline = time.monotonic() + 15
    while proc.log().count("joined the network") < 2:
        assert time.monotonic() < deadline, proc.log()
        proc.wait_log("joined the network", timeout=0.2)
    proc.signal(signal.SIGKILL)
    proc.wait()
    # The orphans notice within a second or so, stop cleanly and give up their leases.
    deadline = time.monotonic() + 10
    while redis_server.command("SCARD", "ircish:nodes") != 0:
        assert time.monotonic() < deadline, "the workers outlived their parent"
        time.sleep(0.05)  # polling Redis, bounded by the deadline
