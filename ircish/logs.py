"""Server logging: one line per event, no message contents by default.

rich's colours are for a person watching a terminal; anywhere else (a file,
journald, a pipe) each record is one plain line, or one JSON object with
``[logging] format = "json"``. A rich line costs about ten times a plain
one, which a connection storm would otherwise pay per connection.

Plain and JSON lines are cheap because every registration and quit writes
one: the time is formatted once per second, no record looks up its process,
thread or caller (no line shows them), and lines are written out
together once per pass of the event loop (``flush_logs``), like the
clients' output, instead of one system call each; a warning or worse is
written at once, and what is pending at exit too (``logging.shutdown``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Literal, TextIO

from rich.console import Console
from rich.logging import RichHandler

Format = Literal["auto", "rich", "plain", "json"]


class LineFormatter(logging.Formatter):
    """A ``logging.Formatter`` that formats the time of a record once per second."""

    _stamp: tuple[int, str | None, str] = (-1, None, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        last, fmt, stamp = self._stamp
        if second != last or datefmt != fmt:
            stamp = time.strftime(datefmt or "%Y-%m-%d %H:%M:%S", self.converter(second))
            self._stamp = (second, datefmt, stamp)
        return stamp


class JsonFormatter(LineFormatter):
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


class PassHandler(logging.StreamHandler[TextIO]):
    """Lines kept until ``flush`` (once per loop pass), then written in one call.

    Records of WARNING and above, and a backlog of ``MAX_PENDING`` lines, are
    written at once.
    """

    MAX_PENDING = 256

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._pending.append(self.format(record) + "\n")
        except Exception:
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING or len(self._pending) >= self.MAX_PENDING:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        with self.lock:  # type: ignore[union-attr]  # made by Handler.__init__
            text = "".join(self._pending)
            self._pending.clear()
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):
                pass  # stderr is gone (closed pipe): nothing to tell it


#: The handler ``flush_logs`` writes out (the last ``setup_logging`` made), if any.
_pass_handler: PassHandler | None = None


def flush_logs() -> None:
    """Write out the log lines of this loop pass."""
    if _pass_handler is not None:
        _pass_handler.flush()


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
    handler = PassHandler(sys.stderr)
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            LineFormatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S")
        )
    return handler


def setup_logging(level: str, form: Format = "auto") -> None:
    """Send the ``ircish`` loggers to stderr, formatted as ``form`` says."""
    global _pass_handler
    flush_logs()
    handler = _handler(form)
    _pass_handler = handler if isinstance(handler, PassHandler) else None
    # What no line shows is not looked up per record (logging HOWTO, "Optimization"):
    # the caller's file and line, the thread, the process.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger("ircish")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
