"""Server logging through rich: one line per event, no message contents by default."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler


def setup_logging(level: str) -> None:
    """Send the ``ircish`` loggers to stderr via rich."""
    console = Console(stderr=True)
    handler = RichHandler(
        console=console,
        show_path=False,
        markup=False,
        rich_tracebacks=True,
        tracebacks_show_locals=False,
        log_time_format="[%Y-%m-%d %H:%M:%S]",
    )
    root = logging.getLogger("ircish")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
