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
    #: ircish processes on one port (``--workers``) sharing one network through a
    #: redis-server of their own; CPU and memory count every process and Redis.
    workers: int = 1
    #: TOML added to bench/peers/ircish.toml (a setting measured against the plain config).
    extra: str = ""

    def env(self) -> dict[str, str]:
        """The environment a server process starts with."""
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self.source) + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def missing(self) -> str | None:
        """Why this server cannot run here, or None."""
        if self.workers > 1 and shutil.which("redis-server") is None:
            return "`redis-server` is not installed (Debian: apt-get install redis-server)"
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

    def command(self, port: int, workdir: Path, redis_port: int = 0) -> list[str]:
        if self.defaults:
            return readme_command(port)
        if self.workers > 1:
            config = _cluster_config(workdir, port, redis_port)
            return [
                *(sys.executable, "-m", "ircish", "--config", str(config)),
                *("--host", "127.0.0.1", "--port", str(port), "--workers", str(self.workers)),
            ]
        if self.name.startswith("ircish"):
            config = _history_config(workdir, port) if self.history else PEERS / "ircish.toml"
            if self.extra:
                config = _config_with(workdir, f"{self.name}-{port}", self.extra)
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
        ServerSpec(
            "ircish-coalesce",
            "ircish with [limits] write_coalesce = 0.0005 (output held while input is ready)",
            extra="[limits]\nwrite_coalesce = 0.0005\n",
        ),
        ServerSpec(
            "ircish-workers2",
            "ircish --workers 2 on one port, one network through a redis-server (all counted)",
            workers=2,
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


def readme_command(
    port: int, config: Path | None = None, *, own_listeners: bool = False
) -> list[str]:
    """``python -m ircish`` as the README starts it, with only the port chosen (and ``config``).

    The built-in web listener goes on a free port (8080 may be someone else's) unless
    the config file has listeners of its own.
    """
    cmd = [sys.executable, "-m", "ircish", "--port", str(port)]
    if not own_listeners:
        cmd += ["--web-port", "0"]
    if config is not None:
        cmd += ["--config", str(config)]
    return cmd


def _config_with(workdir: Path, name: str, extra: str) -> Path:
    """bench/peers/ircish.toml with ``extra``'s tables merged in, as ``workdir/name.toml``.

    ``extra`` is one table: its keys go under that table's header when the file has
    one (TOML allows each table once), or the table is added at the end.
    """
    text = (PEERS / "ircish.toml").read_text()
    header, _, body = extra.partition("\n")
    lines = text.splitlines()
    if header in lines:
        at = lines.index(header) + 1
        lines[at:at] = body.splitlines()
        text = "\n".join(lines) + "\n"
    else:
        text += "\n" + extra
    out = workdir / f"{name}.toml"
    out.write_text(text)
    return out


def _cluster_config(workdir: Path, port: int, redis_port: int) -> Path:
    """bench/peers/ircish.toml with ``[cluster]`` pointing at the run's own redis-server."""
    cluster = f'[cluster]\nredis_url = "redis://127.0.0.1:{redis_port}/0"\n'
    return _config_with(workdir, f"ircish-workers-{port}", cluster)


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


def _wait_port(
    port: int,
    proc: subprocess.Popen[bytes],
    name: str,
    timeout: float = 20.0,
    tail: Callable[[], str] = lambda: "",
) -> None:
    """Wait until ``proc`` accepts connections on ``port`` (or fail, naming why)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}: {tail()}")
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen within {timeout:.0f} s")


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
        #: The redis-server of a ``workers`` spec, started first and stopped last.
        self.redis: subprocess.Popen[bytes] | None = None
        redis_port = 0
        if spec.workers > 1:
            # More than one process is there to use more than one core: not pinned.
            cpus = None
            redis_port = free_port()
            self.redis = subprocess.Popen(
                [
                    *("redis-server", "--port", str(redis_port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
                ],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=_preexec(cpus),  # noqa: PLW1509 - no threads here at spawn time
            )
            try:
                _wait_port(redis_port, self.redis, "redis-server")
            except BaseException:
                self.redis.kill()
                raise
        if spec.defaults:
            # Its ircish.db is created in the working directory: a fresh one every start.
            cwd = Path(tempfile.mkdtemp(prefix=f"{spec.name}-{self.port}-", dir=workdir))
        self.proc = subprocess.Popen(
            spec.command(self.port, workdir, redis_port),
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
        _wait_port(self.port, self.proc, self.spec.name, timeout, self.log_tail)
        # Every worker must be serving, not only the first to bind.
        while self.spec.workers > 1:
            serving = [p for p in procstat.children(self.pid) if procstat.listens_on(p, self.port)]
            if len(serving) >= self.spec.workers:
                return
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{self.spec.name}: not every worker listens: {self.log_tail()}")
            time.sleep(0.05)

    def _pids(self) -> list[int]:
        """Every process this server is: itself, its workers, its redis-server."""
        pids = [self.pid, *procstat.children(self.pid)]
        if self.redis is not None:
            pids.append(self.redis.pid)
        return pids

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu(self) -> float:
        return sum(procstat.cpu_seconds(pid) for pid in self._pids())

    def cpu_split(self) -> tuple[float, float]:
        splits = [procstat.cpu_split(pid) for pid in self._pids()]
        return sum(u for u, _ in splits), sum(s for _, s in splits)

    def rss(self) -> int:
        return sum(procstat.rss_bytes(pid) for pid in self._pids())

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
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            try:
                self.redis.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.redis.kill()
                self.redis.wait(timeout=5)
        self._log.close()
