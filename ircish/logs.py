"""Server logging: one line per event, no message contents by default.

rich's colours are for a person watching a terminal; anywhere else (a file,
journald, a pipe) each record is one plain line, or one JSON object with
``[logging] format = "json"``. A rich line costs about ten times a plain
one, which a connection storm would otherwise pay per connection.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Literal

from rich.console import Console
from rich.logging import RichHandler

Format = Literal["auto", "rich", "plain", "json"]


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        item = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            item["traceback"] = self.formatException(record.exc_info)
        return json.dumps(item, ensure_ascii=False)


def _handler(form: Format) -> logging.Handler:
    if form == "auto":
        form = "rich" if sys.stderr.isatty() else "plain"
    if form == "rich":
        return RichHandler(
            console=Console(stderr=True),
            show_path=False,
            markup=False,
            rich_tracebacks=True,
            tracebacks_show_locals=False,
            log_time_format="[%Y-%m-%d %H:%M:%S]",
        )
    handler = logging.StreamHandler(sys.stderr)
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S")
        )
    return handler


def setup_logging(level: str, form: Format = "auto") -> None:
    """Send the ``ircish`` loggers to stderr, formatted as ``form`` says."""
    root = logging.getLogger("ircish")
    root.handlers[:] = [_handler(form)]
    root.setLevel(level.upper())
    root.propagate = False
