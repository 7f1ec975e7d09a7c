"""The ``ircish-server`` command line, run as a real process (``python -m ircish``).

Covers starting from the example configuration, refusing bad configurations
with exit status 2 and one line naming the key, graceful shutdown on SIGTERM
and SIGINT (every user told why, exit status 0), and what the log holds.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest

from tests.e2e.e2e_support import REPO, ServerProcess, run_cli
from tests.helpers import LineClient

EXAMPLE = REPO / "config.example.toml"


def register_plain(proc: ServerProcess, nick: str, opened: list[LineClient]) -> LineClient:
    c = proc.client()
    opened.append(c)
    c.send(nick)
    c.expect(rf"^\*\*\* Welcome to ircish, {re.escape(nick)}! ")
    c.expect(r"^\*\*\* Now talking in #lobby$")
    return c


def register_irc(proc: ServerProcess, nick: str, opened: list[LineClient]) -> LineClient:
    c = proc.client()
    opened.append(c)
    c.send(f"NICK {nick}")
    c.send(f"USER {nick} 0 * :{nick}")
    c.expect(rf"^:\S+ 001 {re.escape(nick)} ")
    c.expect(rf"^:\S+ 376 {re.escape(nick)} ")
    return c


def test_starts_with_the_example_config(
    procs: list[ServerProcess], clients: list[LineClient]
) -> None:
    proc = ServerProcess("--config", str(EXAMPLE))
    procs.append(proc)
    assert re.search(r"listening on 127\.0\.0\.1:\d+ \(dialect auto\)", proc.log())
    alice = register_plain(proc, "alice", clients)
    alice.send("/who")
    # The example's default room is the server's: alice, first in, is not its operator.
    alice.expect(r"^\*\*\* #lobby: alice \(~plain@localhost\)$")


# -- bad configurations ---------------------------------------------------------------


def _fails_with(tmp_path: Path, toml: str | None, *expected: str) -> None:
    """Run with a config file holding ``toml`` (None: no such file); expect exit 2."""
    path = tmp_path / "bad.toml"
    if toml is not None:
        path.write_text(toml, encoding="utf-8")
    result = run_cli("--config", str(path), "--port", "0")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ircish-server: configuration error: "), lines[0]
    for text in expected:
        assert text in lines[0], lines[0]
    assert result.stdout == ""


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    _fails_with(tmp_path, "[limits]\nmax_line_byts = 600\n", "limits.max_line_byts: unknown key")


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    _fails_with(tmp_path, "[limit]\nmax_line_bytes = 600\n", "limit: unknown key")


def test_wrong_type_is_refused(tmp_path: Path) -> None:
    _fails_with(
        tmp_path,
        '[limits]\nmax_line_bytes = "600"\n',
        "limits.max_line_bytes: expected an integer, got '600'",
    )


def test_out_of_range_is_refused(tmp_path: Path) -> None:
    _fails_with(
        tmp_path,
        "[limits]\nmax_line_bytes = 10\n",
        "limits.max_line_bytes: expected a value between 64 and 65536, got 10",
    )


def test_invalid_listener_value_is_refused(tmp_path: Path) -> None:
    _fails_with(
        tmp_path, '[[listeners]]\ndialect = "telnet"\n', "listeners[0].dialect: expected one of"
    )


def test_invalid_toml_is_refused(tmp_path: Path) -> None:
    _fails_with(tmp_path, "[limits\nmax_line_bytes = 600\n", "bad.toml", "not valid TOML")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    _fails_with(tmp_path, None, "cannot read", "bad.toml")


def test_out_of_range_port_option_is_refused() -> None:
    result = run_cli("--port", "70000")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "ircish-server: configuration error: "
        "listeners[0].port: expected a value between 0 and 65535, got 70000"
    ]


# -- shutdown ---------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_shuts_down_gracefully(
    sig: signal.Signals, procs: list[ServerProcess], clients: list[LineClient]
) -> None:
    proc = ServerProcess()
    procs.append(proc)
    alice = register_plain(proc, "alice", clients)
    bob = register_irc(proc, "bob", clients)

    proc.signal(sig)
    assert alice.expect(r"^\*\*\* Closing") == "*** Closing connection: Server shutting down"
    assert bob.expect(r"^ERROR ") == "ERROR :Closing Link: localhost (Server shutting down)"
    alice.expect_closed()
    bob.expect_closed()
    assert proc.wait(timeout=10) == 0, proc.log()
    assert f"received {sig.name}; shutting down" in proc.log()
    assert "Traceback" not in proc.log()


# -- the log --------------------------------------------------------------------------------


def test_log_has_registrations_but_not_message_contents(
    procs: list[ServerProcess], clients: list[LineClient]
) -> None:
    proc = ServerProcess()
    procs.append(proc)
    alice = register_plain(proc, "alice", clients)
    bob = register_plain(proc, "bob", clients)
    secret = "the-cake-is-a-lie-7f3a9c"
    alice.send(f"{secret} in the room")
    bob.expect(rf"^\[#lobby\] <alice> {secret} in the room$")
    bob.send(f"/msg alice {secret} in private")
    alice.expect(rf"^\[private\] <bob> {secret} in private$")
    alice.send("/join #cake")  # her own room, whose topic she may set
    alice.send(f"/topic {secret} as a topic")
    alice.expect(r"changed the topic")
    bob.send(f"/quit {secret} as a goodbye")
    alice.expect(rf"bob quit \(Quit: {secret} as a goodbye\)")

    proc.signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    log = proc.log()
    assert "alice registered from 127.0.0.1 (plain)" in log
    assert "bob registered from 127.0.0.1 (plain)" in log
    assert "bob (127.0.0.1) quit: 'Quit'" in log
    assert secret not in log


def test_logs_are_plain_lines_off_a_terminal_and_json_when_asked(
    tmp_path: Path, procs: list[ServerProcess]
) -> None:
    # The server's stderr is a pipe here: "auto" means plain lines, no rich layout.
    plain = ServerProcess()
    procs.append(plain)
    line = next(x for x in plain.log().splitlines() if "listening on" in x)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO    listening on .+", line), line
    config = tmp_path / "json.toml"
    config.write_text('[logging]\nformat = "json"\n', encoding="utf-8")
    as_json = ServerProcess("--config", str(config))
    procs.append(as_json)
    records = [json.loads(x) for x in as_json.log().splitlines() if x.startswith("{")]
    listening = next(r for r in records if r["message"].startswith("listening on"))
    assert (listening["level"], listening["logger"]) == ("info", "ircish.net")
