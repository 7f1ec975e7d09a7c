"""``[cluster]`` from the command line: ``python -m ircish --config`` with a real Redis.

At start the server checks Redis (a clear error naming the URL and exit
status 2 when it cannot be used), then keeps a link open and logs when it
goes down and comes back, while local chat goes on regardless.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cluster.redis_support import RedisServer
from tests.e2e.e2e_support import ServerProcess, free_port, run_cli
from tests.helpers import LineClient


def config_file(tmp_path: Path, redis_url: str, extra: str = "") -> Path:
    path = tmp_path / "ircish.toml"
    path.write_text(
        f'[storage]\npath = ""\n\n[cluster]\nredis_url = "{redis_url}"\n{extra}', encoding="utf-8"
    )
    return path


def test_unreachable_redis_at_start_exits_2_naming_the_url(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = run_cli("--config", str(config_file(tmp_path, url)), "--port", "0")
    assert result.returncode == 2
    assert f"ircish-server: Redis unreachable at start: {url}: Connection refused" in result.stderr
    assert "listening on" not in result.stderr


def test_wrong_password_at_start_exits_2_without_showing_it(
    tmp_path: Path, make_redis: Callable[..., RedisServer]
) -> None:
    redis = make_redis(password="right-one")
    url = f"redis://:wrong-one@127.0.0.1:{redis.port}/0"
    result = run_cli("--config", str(config_file(tmp_path, url)), "--port", "0")
    assert result.returncode == 2
    assert (
        f"Redis unreachable at start: redis://:***@127.0.0.1:{redis.port}/0: AUTH refused: "
        in result.stderr
    )
    assert "wrong-one" not in result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:6379", "cluster.redis_url: expected redis://"),
        ("rediss://127.0.0.1:6379", "TLS to Redis (rediss://) is not supported"),
        ("redis://127.0.0.1:6379/zero", "expected a database number"),
        ("redis://hunter2@127.0.0.1", "'redis://***@127.0.0.1'"),
    ],
)
def test_bad_url_is_a_configuration_error(tmp_path: Path, url: str, message: str) -> None:
    result = run_cli("--config", str(config_file(tmp_path, url)), "--port", "0")
    assert result.returncode == 2
    assert "ircish-server: configuration error: cluster.redis_url: " in result.stderr
    assert message in result.stderr
    assert "hunter2" not in result.stderr


def test_unknown_cluster_key_is_refused(tmp_path: Path, redis_server: RedisServer) -> None:
    path = config_file(tmp_path, redis_server.url, "workers = 2\n")
    result = run_cli("--config", str(path), "--port", "0")
    assert result.returncode == 2
    assert "cluster.workers: unknown key" in result.stderr


def test_the_link_is_logged_down_and_up_while_chat_goes_on(
    tmp_path: Path, redis_server: RedisServer, procs: list[ServerProcess]
) -> None:
    path = config_file(tmp_path, redis_server.url, 'node_name = "node-a"\n')
    proc = ServerProcess("--config", str(path))
    procs.append(proc)
    assert proc.wait_log(f"cluster node node-a; Redis at {redis_server.url}")
    assert proc.wait_log(f"redis main: connected to {redis_server.url}")
    assert b"name=ircish:node-a" in redis_server.command("CLIENT", "LIST")
    clients: list[LineClient] = []
    try:
        alice, bob = proc.client(), proc.client()
        clients += [alice, bob]
        for conn, nick in ((alice, "alice"), (bob, "bob")):
            conn.send(nick)
            conn.expect(rf"Welcome to .*, {nick}!")
        redis_server.kill()
        assert proc.wait_log(f"redis main: lost the connection to {redis_server.url}: ")
        alice.send("still here without Redis")
        bob.expect(r"^\[#lobby\] <alice> still here without Redis$")
        redis_server.restart()
        assert proc.wait_log("s without it)", timeout=15)
        alice.send("and with it")
        bob.expect(r"^\[#lobby\] <alice> and with it$")
    finally:
        for c in clients:
            c.close()
    proc.signal(signal.SIGTERM)
    assert proc.wait() == 0
    assert "Traceback" not in proc.log()
