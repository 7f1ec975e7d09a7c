"""Shared fixtures: an in-memory network and a real server on an ephemeral port."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ircish.config import Config
from tests.helpers import LineClient, MemoryNetwork, RunningServer


@pytest.fixture
def net() -> MemoryNetwork:
    return MemoryNetwork()


@pytest.fixture
def make_server() -> Iterator[Callable[..., RunningServer]]:
    """Start real servers (stopped at teardown): ``make_server(config, flood=False)``."""
    servers: list[RunningServer] = []

    def start(config: Config | None = None, *, flood: bool = False) -> RunningServer:
        srv = RunningServer(config, flood=flood)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


@pytest.fixture
def server(make_server: Callable[..., RunningServer]) -> RunningServer:
    return make_server()


@pytest.fixture
def clients() -> Iterator[list[LineClient]]:
    """Append clients here to have them closed at teardown."""
    opened: list[LineClient] = []
    yield opened
    for c in opened:
        c.close()
