"""Command-line entry point: ``ircish-server``."""

from __future__ import annotations

import argparse
import gc
import getpass
import logging
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from ircish import __version__
from ircish.config import Config, ConfigError, load_config
from ircish.core.passwords import hash_password
from ircish.errors import StorageError
from ircish.logs import setup_logging
from ircish.net.redis import RedisError

if TYPE_CHECKING:
    from ircish.net.server import Server

log = logging.getLogger("ircish")

#: Most processes ``--workers`` starts.
MAX_WORKERS = 64
#: Seconds between a worker's checks that its ``--workers`` process is still there.
PARENT_CHECK = 1.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ircish-server",
        description="An IRC-like chat server for netcat users and IRC clients, on one port.",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument("--host", help="address to listen on (overrides the config)")
    parser.add_argument("--port", type=int, help="port to listen on (overrides the config)")
    parser.add_argument(
        "--web-port",
        type=int,
        metavar="PORT",
        help="port of the second listener, the built-in one for browsers (8080; 0: any free one)",
    )
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (overrides the config)",
    )
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="read an operator password (one line from standard input, or typed twice on "
        "a terminal), print its argon2 hash for an [[operators]] password_hash, and exit",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="start N server processes on the same ports (SO_REUSEPORT), one network "
        "through [cluster] redis_url, so that N cores are used",
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="listen with SO_REUSEPORT, beside other processes on the same ports "
        "(what each of --workers does)",
    )
    # Set by --workers on its children: stop when that process is gone (even by SIGKILL).
    parser.add_argument("--worker-of", type=int, default=0, help=argparse.SUPPRESS)
    # Set by --workers too: which worker this is (its storage file and node name).
    parser.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"ircish {__version__}")
    return parser


def _fail(message: str) -> int:
    print(f"ircish-server: {message}", file=sys.stderr)
    return 2


def hash_password_command() -> int:
    """``--hash-password``: print the hash of a password read from stdin or the terminal."""
    try:
        if sys.stdin.isatty():
            password = getpass.getpass("Operator password: ")
            if password and getpass.getpass("Again: ") != password:
                return _fail("the two passwords differ; nothing was hashed")
        else:
            # One line, so ``echo secret | ircish-server --hash-password`` works.
            password = sys.stdin.readline().rstrip("\r\n")
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return _fail("no password given")
    if not password:
        return _fail("the password is empty; nothing was hashed")
    print(hash_password(password))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.hash_password:
        return hash_password_command()

    def load() -> Config:
        config = load_config(args.config).with_overrides(
            args.host, args.port, args.log_level, args.web_port
        )
        return config.for_worker(args.worker_index) if args.worker_index else config

    try:
        config = load()
    except ConfigError as exc:
        print(f"ircish-server: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.workers != 1:
        problem = workers_problem(args.workers, config)
        if problem:
            return _fail(problem)
        return run_workers(args.workers, argv if argv is not None else sys.argv[1:])
    setup_logging(config.logging.level, config.logging.format)
    from ircish.net.server import Server  # noqa: PLC0415 - keep --help fast

    try:
        server = Server(config)
    except StorageError as exc:
        print(f"ircish-server: storage error: {exc}", file=sys.stderr)
        return 2
    except RedisError as exc:
        print(f"ircish-server: Redis unreachable at start: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"ircish-server: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.config is not None:
        server.enable_reload(str(args.config), load)
    # Stop cleanly on a signal that arrives between "listening on" and the loop's start
    # (serve_forever installs the same handlers again for its own run).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _signum, _frame: server.request_stop())
    signal.signal(signal.SIGHUP, lambda _signum, _frame: server.call_soon(server.reload_or_log))
    try:
        server.bind(reuse_port=args.reuse_port)
    except OSError as exc:
        log.error("cannot listen: %s", exc.strerror or exc)
        return 1
    if args.worker_of:
        watch_parent(server, args.worker_of)
    tune_gc()
    server.serve_forever()
    return 0


def watch_parent(server: Server, parent: int) -> None:
    """Stop ``server`` (cleanly) once process ``parent`` is no longer this one's parent."""

    def check() -> None:
        if os.getppid() != parent:
            log.warning("the --workers process %d is gone; stopping", parent)
            server.request_stop()
        else:
            server.call_later(PARENT_CHECK, check)

    server.call_later(PARENT_CHECK, check)


def workers_problem(workers: int, config: Config) -> str:
    """Why ``--workers`` cannot be used with this configuration ("" when it can)."""
    if not 1 <= workers <= MAX_WORKERS:
        return f"--workers: expected 1 to {MAX_WORKERS}, got {workers}"
    if not config.cluster.enabled:
        return "--workers needs [cluster] redis_url: the processes share one network through Redis"
    if any(lc.port == 0 for lc in config.listeners):
        return "--workers needs a fixed port (not 0): the processes share it"
    if config.metrics.listen:
        return "--workers cannot share one [metrics] listen address; run the processes apart"
    return ""


def run_workers(workers: int, argv: list[str]) -> int:
    """Start ``workers`` processes with ``--reuse-port`` and wait for them.

    SIGINT, SIGTERM and SIGHUP are passed on to every worker; the exit status
    is the highest of theirs. A worker that dies is not restarted: the others
    serve on, and the network shows its users leaving ("node lost").
    """
    args = _without_workers(argv)
    own = [sys.executable, "-m", "ircish", *args, "--reuse-port", "--worker-of", str(os.getpid())]
    children = [subprocess.Popen([*own, "--worker-index", str(i)]) for i in range(1, workers + 1)]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    codes = [child.wait() for child in children]
    failed = [code for code in codes if code != 0]
    if not failed:
        return 0
    # A worker killed by a signal has a negative status; the parent exits 1 for it.
    return max(failed) if max(failed) > 0 else 1


def _without_workers(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return out


def tune_gc() -> None:
    """Keep the cyclic collector's full passes short.

    What start-up made (modules, Unicode tables, the config) lives as long as
    the process: frozen, no full pass looks at it again. Closed connections
    are freed by reference counting (``Server.close_connection``), so there
    is little left for the collector to find. Measured during a storm of
    5,000 connections: full passes went from 75-234 ms to at most 20 ms
    (docs/benchmarks.md). Larger thresholds were tried and made it worse:
    a young generation of 200,000 objects took 300 ms to collect.
    """
    gc.collect()
    gc.freeze()
