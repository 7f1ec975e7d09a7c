"""The servers under test: how to find, configure, start and stop each one.

Every server runs as its own process on 127.0.0.1 and a free high port, pinned
to the server CPU, with its open-file limit raised for the idle scenario, its
output going to a log file in a scratch directory. A server that is not
installed is reported as missing with the reason, never silently dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import procstat

PEERS = Path(__file__).resolve().parent / "peers"
REPO = Path(__file__).resolve().parent.parent
#: The open-file limit servers and generators ask for (the idle scenario holds 10,000).
NOFILE = 65536


@dataclass(frozen=True)
class ServerSpec:
    """One server the benchmark can run."""

    name: str
    #: Short description for the report.
    what: str
    #: Part of the clients that speak ircish's plain (netcat) dialect instead of IRC.
    plain_fraction: float = 0.0
    #: Most connections the server can hold (miniircd uses select(), so < FD_SETSIZE).
    max_clients: int | None = None
    #: Registrations in flight per generator worker: miniircd listens with a backlog of 5
    #: and ngIRCd with 10; beyond that the kernel drops handshakes (1 s retransmits).
    setup_concurrency: int | None = None
    #: The source tree whose ``ircish`` package an ircish server runs: it goes first on
    #: the server's PYTHONPATH (``run --ircish-path`` measures another checkout).
    source: Path = REPO
    #: ircish with storage and history on, in a fresh SQLite file in the scratch directory.
    history: bool = False
    #: ircish as the README starts it: no config file, only ``--port``, every built-in
    #: default (flood control, history in ``ircish.db``, INFO log lines), in an empty
    #: directory of its own.
    defaults: bool = False

    def env(self) -> dict[str, str]:
        """The environment a server process starts with."""
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self.source) + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def missing(self) -> str | None:
        """Why this server cannot run here, or None."""
        if self.name in ("ngircd", "inspircd") and shutil.which(self.name) is None:
            return f"`{self.name}` is not installed (Debian: apt-get install {self.name})"
        if self.name == "miniircd" and _miniircd_command() is None:
            return "miniircd is not installed (pip install -e '.[bench]')"
        return None

    def version(self) -> str:
        try:
            if self.name.startswith("ircish"):
                # Asked in the server's environment (and away from any checkout in the
                # working directory), so it names the package the server will import.
                ask = "import ircish; print(ircish.__version__, ircish.__file__)"
                done = subprocess.run(
                    [sys.executable, "-c", ask],
                    capture_output=True,
                    text=True,
                    timeout=10,
                    check=True,
                    env=self.env(),
                    cwd="/",
                )
                version, _, path = done.stdout.strip().partition(" ")
                where = Path(path).parent
                return f"ircish {version} (Python {sys.version.split()[0]}) from {where}"
            if self.name == "threaded":
                return f"bench/peers/threaded_ircd.py (Python {sys.version.split()[0]})"
            if self.name == "miniircd":
                cmd = _miniircd_command()
                assert cmd is not None
                out = _output([*cmd, "--version"])
                return f"miniircd {out} (Python {sys.version.split()[0]})"
            if self.name == "ngircd":
                return _output(["ngircd", "--version"]).splitlines()[0].split("-")[0]
            if self.name == "inspircd":
                return _output(["inspircd", "--version"]).strip()
        except (OSError, subprocess.SubprocessError, IndexError, AssertionError):
            pass
        return "?"

    def command(self, port: int, workdir: Path) -> list[str]:
        if self.defaults:
            return [sys.executable, "-m", "ircish", "--port", str(port)]
        if self.name.startswith("ircish"):
            config = _history_config(workdir, port) if self.history else PEERS / "ircish.toml"
            return [
                sys.executable,
                "-m",
                "ircish",
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        if self.name == "threaded":
            return [sys.executable, str(PEERS / "threaded_ircd.py"), "--port", str(port)]
        if self.name == "miniircd":
            cmd = _miniircd_command()
            assert cmd is not None
            extra = ["--setuid", "root"] if os.geteuid() == 0 else []
            return [*cmd, "--listen", "127.0.0.1", "--ports", str(port), *extra]
        if self.name == "ngircd":
            conf = _render(PEERS / "ngircd.conf", workdir, port)
            return ["ngircd", "--nodaemon", "--passive", "--config", str(conf)]
        if self.name == "inspircd":
            conf = _render(PEERS / "inspircd.conf", workdir, port)
            return ["inspircd", "--nofork", "--runasroot", "--config", str(conf)]
        raise ValueError(self.name)


SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec("ircish", "this project: one thread, selectors (epoll)"),
        ServerSpec(
            "ircish-mixed",
            "ircish with half of the clients on the plain (netcat) dialect",
            plain_fraction=0.5,
        ),
        ServerSpec(
            "ircish-history",
            "ircish storing every event in SQLite (WAL, synchronous=normal)",
            history=True,
        ),
        ServerSpec(
            "ircish-defaults",
            "ircish with no config file: every built-in default, as the README starts it",
            defaults=True,
        ),
        ServerSpec("threaded", "classic thread per client, blocking send to each member"),
        ServerSpec(
            "miniircd",
            "miniircd from PyPI: Python, select()",
            max_clients=900,
            setup_concurrency=2,
        ),
        ServerSpec("ngircd", "ngIRCd from Debian: C, epoll", setup_concurrency=4),
        ServerSpec("inspircd", "InspIRCd 3 from Debian: C++, epoll"),
    )
}


def _miniircd_command() -> list[str] | None:
    exe = shutil.which("miniircd")
    if exe:
        return [exe]
    with contextlib.suppress(ImportError):
        import miniircd  # type: ignore[import-not-found]  # noqa: F401, PLC0415

        return [sys.executable, "-c", "import sys, miniircd; miniircd.main(sys.argv)"]
    return None


def _output(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    return (done.stdout or done.stderr).strip()


def _render(template: Path, workdir: Path, port: int) -> Path:
    text = template.read_text()
    text = text.replace("{port}", str(port)).replace("{workdir}", str(workdir))
    out = workdir / template.name
    out.write_text(text)
    # ngIRCd drops root for "nobody" and then writes its PID file here.
    workdir.chmod(0o777)
    return out


def _history_config(workdir: Path, port: int) -> Path:
    """ircish.toml with storage on, in a database of its own (a fresh one every start)."""
    db = workdir / f"ircish-history-{port}.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    text = (PEERS / "ircish.toml").read_text()
    off = '\npath = ""\n'
    assert text.count(off) == 1, "bench/peers/ircish.toml has no [storage] path to replace"
    # A JSON string is a TOML basic string.
    text = text.replace(off, f"\npath = {json.dumps(str(db))}\n")
    out = workdir / f"ircish-history-{port}.toml"
    out.write_text(text)
    return out


def free_port() -> int:
    """A free TCP port on 127.0.0.1 below the ephemeral range the clients use."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found")


def _preexec(cpus: set[int] | None) -> Callable[[], None]:
    def setup() -> None:
        os.setsid()
        procstat.pin(cpus)
        procstat.raise_nofile(NOFILE)

    return setup


class RunningServer:
    """A started server process: ``pid``, ``port``; stop it with ``stop()``."""

    def __init__(self, spec: ServerSpec, workdir: Path, cpus: set[int] | None) -> None:
        self.spec = spec
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / f"{spec.name}.log"
        env = spec.env()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        cwd = workdir
        if spec.defaults:
            # Its ircish.db is created in the working directory: a fresh one every start.
            cwd = Path(tempfile.mkdtemp(prefix=f"{spec.name}-{self.port}-", dir=workdir))
        self.proc = subprocess.Popen(
            spec.command(self.port, workdir),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_preexec(cpus),  # noqa: PLW1509 - no threads here at spawn time
            cwd=cwd,
            env=env,
        )
        self.pid = self.proc.pid
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.spec.name} exited with {self.proc.returncode}: {self.log_tail()}"
                )
            with socket.socket() as probe:
                probe.settimeout(0.5)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.spec.name} did not listen within {timeout:.0f} s")

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu(self) -> float:
        return procstat.cpu_seconds(self.pid)

    def cpu_split(self) -> tuple[float, float]:
        return procstat.cpu_split(self.pid)

    def rss(self) -> int:
        return procstat.rss_bytes(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()
