"""Fixtures of the cluster tests: real ``redis-server`` processes (``redis_support``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cluster.redis_support import LEASE, LoopDriver, RedisProxy, RedisServer
from tests.e2e.e2e_support import ServerProcess
from tests.helpers import LineClient

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test in this directory is a cluster test (``-m cluster`` selects them).
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.cluster)


@pytest.fixture
def make_redis() -> Iterator[Callable[..., RedisServer]]:
    """Start ``redis-server`` processes (stopped at teardown): ``make_redis(password="")``."""
    started: list[RedisServer] = []

    def start(**kw: str | tuple[str, ...] | bool) -> RedisServer:
        server = RedisServer(**kw)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def make_proxy() -> Iterator[Callable[[RedisServer], RedisProxy]]:
    """Relays to a Redis that the test can cut (``RedisProxy``), closed at teardown."""
    started: list[RedisProxy] = []

    def start(redis: RedisServer) -> RedisProxy:
        proxy = RedisProxy(redis)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.cut()


@pytest.fixture
def redis_server(make_redis: Callable[..., RedisServer]) -> RedisServer:
    return make_redis()


@pytest.fixture
def loop() -> Iterator[LoopDriver]:
    """A real server loop turned by the test (``LoopDriver``), shut down at teardown."""
    driver = LoopDriver()
    yield driver
    driver.close()


@pytest.fixture
def procs() -> Iterator[list[ServerProcess]]:
    """Append server processes here to have them killed at teardown if still running."""
    started: list[ServerProcess] = []
    yield started
    for p in started:
        p.stop_now()


@pytest.fixture
def opened(clients: list[LineClient]) -> list[LineClient]:
    """Clients closed at teardown: the suite's ``clients`` fixture, by the name used here."""
    return clients


@pytest.fixture
def node(tmp_path: Path, procs: list[ServerProcess]) -> Iterator[Callable[..., ServerProcess]]:
    """``node(redis, name, extra, db, lease)``: an ircish-server process of the network
    (``db``: its SQLite file, none by default; ``redis``: a ``RedisServer`` or a
    ``RedisProxy`` in front of one), joined when returned."""
    count = 0

    def start(
        redis: RedisServer | RedisProxy,
        name: str,
        extra: str = "",
        db: str = "",
        lease: float = LEASE,
    ) -> ServerProcess:
        nonlocal count
        count += 1
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f'[storage]\npath = "{db}"\n\n[cluster]\nredis_url = "{redis.url}"\n'
            f'node_name = "{name}"\nlease_seconds = {lease}\n{extra}',
            encoding="utf-8",
        )
        proc = ServerProcess("--config", str(path))
        procs.append(proc)
        assert proc.wait_log("joined the network"), proc.log()
        return proc

    yield start
    for proc in procs:
        assert "Traceback" not in proc.log(), proc.log()
