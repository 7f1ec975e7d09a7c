"""``python -m bench attack`` at a tiny size, so the attack benchmark cannot rot.

The real command against the real default server: a baseline, the flooder,
a baseline, a small connection storm, a baseline. No latency figure is judged
(the machine is shared); what must hold is that every phase prints a line
that parses, the bystanders lose nothing, and the flooder is disconnected.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.attack import LINE

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[2]


def test_flooder_is_disconnected_and_every_phase_reports(tmp_path: Path) -> None:
    out = tmp_path / "attack.json"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench", "attack", "--quick", "--phase-seconds", "1"),
            *("--attacks", "flood,storm", "--no-limited", "--storm-held", "20"),
            *("--storm-cycles", "100", "--json", str(out)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=55,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [m for line in done.stdout.splitlines() if (m := LINE.match(line))]
    assert [m["phase"] for m in lines] == ["baseline", "flood", "baseline", "storm", "baseline"]
    for m in lines:
        assert m["session"] == "defaults"
        assert int(m["expected"]) > 0
        assert int(m["lost"]) == 0, m.string
        assert 0 <= float(m["p50"]) <= float(m["p99"]) <= float(m["max"])
    assert "flooder disconnected" in done.stdout
    data = json.loads(out.read_text())
    assert not data["errors"]
    by_phase = {p["phase"]: p for p in data["phases"]}
    flood = by_phase["flood"]["attack_result"]
    assert flood["disconnected"]
    assert flood["quit_reason"] == "Excess Flood"
    # Slowed first: the room saw the burst, not the thousands of lines written.
    assert flood["relayed"] < 50 < flood["lines_written"]
    storm = by_phase["storm"]["attack_result"]
    assert storm["held_connected"] == 20
    assert storm["held_state"] == {"open": 20}
    assert storm["cycles"] == 100
    for phase in data["phases"]:
        assert phase["newcomers"]["welcomed"] == phase["newcomers"]["tried"] > 0
