"""The benchmark of issue 5 at a tiny size, against ircish only, so it cannot rot.

Each scenario runs the real machinery: ircish as its own process on a free
port, forked generator workers speaking IRC and the plain dialect over real
sockets, ``/proc`` CPU and RSS readings, and the report. Sizes are tiny and no
figure is judged against a speed limit (the machine is shared); what must
hold is that every message sent is delivered, latency is measured, and every
connection registers.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import Report
from bench.scenarios import Settings, churn, fanout, idle, rooms
from bench.servers import SERVERS

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        step_seconds=0.5,
        # Generous: a step ends as soon as everything arrived; this only bounds a failure.
        drain_seconds=5.0,
        fanout_sizes=(8,),
        fanout_rates={8: (4,)},
        fanout_ref={8: 4},
        rooms_clients=30,
        room_size=10,
        rooms_rates=(2,),
        rooms_ref=2,
        idle_clients=40,
        idle_hold=0.1,
        churn_loops=4,
        churn_seconds=0.5,
        workers=2,
        refine=False,
        probe=False,
        workdir=tmp_path,
    )


def assert_ladder_delivered(result: dict, clients: int) -> None:
    assert result["setup"]["clients"] == clients
    assert result["steps"], "no step ran"
    for step in result["steps"]:
        assert step["expected"] > 0
        assert step["received"] == step["expected"], step
        assert step["loss"] == 0
        assert step["samples"] > 0, "no latency sample was parsed"
        assert 0 <= step["p50_ms"] <= step["p99_ms"] <= step["max_ms"]
        assert not math.isnan(step["server_cpu"])
        assert step["closed"] == 0


def test_fanout_irc_clients(settings: Settings) -> None:
    out: list[str] = []
    result = fanout(SERVERS["ircish"], 8, settings, out.append, "ircish fanout8")
    assert_ladder_delivered(result, 8)
    assert result["steps"][0]["expected"] == 8 * 7 * 2  # 2 messages each, 7 recipients
    assert any("delivered" in line and "p99" in line for line in out)


def test_fanout_mixed_plain_and_irc_clients(settings: Settings) -> None:
    result = fanout(SERVERS["ircish-mixed"], 8, settings, lambda _: None, "mixed")
    assert_ladder_delivered(result, 8)


def test_rooms(settings: Settings) -> None:
    result = rooms(SERVERS["ircish"], settings, lambda _: None, "ircish rooms")
    assert result["clients"] == 30
    assert_ladder_delivered(result, 30)
    assert result["steps"][0]["expected"] == 30 * 9 * 1
    # The plain variant runs without storage, as the figures before history did.
    assert not list(settings.workdir.glob("*.db*"))


def test_rooms_with_history_stores_every_message(settings: Settings) -> None:
    result = rooms(SERVERS["ircish-history"], settings, lambda _: None, "history rooms")
    assert_ladder_delivered(result, 30)
    [db] = settings.workdir.glob("ircish-history-*.db")
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM events WHERE kind = 'Privmsg'").fetchone()[0]
    conn.close()
    # Every message went to a room of 10: 9 deliveries, one row.
    assert stored * 9 == sum(step["expected"] for step in result["steps"])


def test_idle_connections_are_held(settings: Settings) -> None:
    spec = dataclasses.replace(SERVERS["ircish"], plain_fraction=0.5)
    result = idle(spec, settings, lambda _: None, "ircish idle")
    assert result["registered"] == 40
    assert result["held"] == 40
    assert result["rss1"] > 0
    assert not result["errors"]


def test_churn_registers_and_quits(settings: Settings) -> None:
    spec = dataclasses.replace(SERVERS["ircish"], plain_fraction=0.5)
    result = churn(spec, settings, lambda _: None, "ircish churn")
    assert result["done"] > 0
    assert result["failed"] == 0, result["errors"]
    assert result["alive"]
    assert result["cpu_per_reg_ms"] > 0 or result["done"] < 50


def test_report_renders_every_section(settings: Settings) -> None:
    settings.idle_clients = 10
    out = lambda _: None  # noqa: E731
    results = [
        fanout(SERVERS["ircish"], 8, settings, out, "f"),
        rooms(SERVERS["ircish"], settings, out, "r"),
        idle(SERVERS["ircish"], settings, out, "i"),
        churn(SERVERS["ircish"], settings, out, "c"),
    ]
    for r in results:
        r.update(server="ircish", run=1)
    meta = {
        "date": "today",
        "machine": "test",
        "pinning": "none",
        "quick": True,
        "runs": 1,
        "servers": ["ircish", "ngircd"],
        "missing": {"ngircd": "not installed"},
        "versions": {"ircish": "0"},
        "load_before": "0",
        "command": "pytest",
    }
    text = Report({"meta": meta, "results": results, "errors": []}).markdown(None)
    for heading in ("fanout, one room of 8", "rooms of 10", "idle connections", "churn", "Targets"):
        assert heading in text
    assert "| ircish |" in text
    assert "**ngircd**: MISSING, not installed" in text


def test_core_path_figures_are_printed() -> None:
    """``python -m bench core``: the core's Python cost per command, for every command kind."""
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "bench", "core"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=50,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == f"ircish from {repo / 'ircish' / '__init__.py'}"
    figures = dict(line.rsplit(None, 4)[0:2] for line in lines[1:])
    assert set(figures) == {
        "PING (a reply)",
        "PRIVMSG to a user",
        "PRIVMSG to a room of 10",
        "PRIVMSG to a room of 50",
        "PRIVMSG to a room of 200",
    }
    assert all(0 < float(v) < 10_000 for v in figures.values())
