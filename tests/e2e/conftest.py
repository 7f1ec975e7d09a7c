"""Fixtures of the end-to-end tests that run ``python -m ircish`` processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.e2e_support import ServerProcess


@pytest.fixture
def procs() -> Iterator[list[ServerProcess]]:
    """Append server processes here to have them killed at teardown if still running."""
    started: list[ServerProcess] = []
    yield started
    for p in started:
        p.stop_now()
