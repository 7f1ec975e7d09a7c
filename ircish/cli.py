"""Command-line entry point: ``ircish-server``."""

from __future__ import annotations

import argparse
import logging
import sys

from ircish import __version__
from ircish.config import ConfigError, load_config
from ircish.logs import setup_logging

log = logging.getLogger("ircish")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ircish-server",
        description="An IRC-like chat server for netcat users and IRC clients, on one port.",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument("--host", help="address to listen on (overrides the config)")
    parser.add_argument("--port", type=int, help="port to listen on (overrides the config)")
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (overrides the config)",
    )
    parser.add_argument("--version", action="version", version=f"ircish {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config).with_overrides(args.host, args.port, args.log_level)
    except ConfigError as exc:
        print(f"ircish-server: configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.logging.level)
    from ircish.net.server import Server  # noqa: PLC0415 - keep --help fast

    server = Server(config)
    try:
        server.bind()
    except OSError as exc:
        log.error("cannot listen: %s", exc.strerror or exc)
        return 1
    server.serve_forever()
    return 0
