"""Plain log lines: the time formatted once per second, written once per loop pass."""

from __future__ import annotations

import io
import logging

from ircish.logs import JsonFormatter, LineFormatter, PassHandler

FORMAT = "%(asctime)s %(levelname)-7s %(message)s"
DATES = "%Y-%m-%d %H:%M:%S"


def _record(message: str, created: float, level: int = logging.INFO) -> logging.LogRecord:
    record = logging.LogRecord("ircish.core", level, __file__, 1, message, (), None)
    record.created = created
    return record


def test_line_formatter_formats_as_logging_does_across_seconds() -> None:
    ours, theirs = LineFormatter(FORMAT, DATES), logging.Formatter(FORMAT, DATES)
    for created in (1_700_000_000.1, 1_700_000_000.9, 1_700_000_001.0, 1_700_000_061.5):
        record = _record("bob registered", created)
        assert ours.format(record) == theirs.format(record)


def test_json_formatter_times_are_iso_seconds() -> None:
    record = _record("hi", 1_700_000_000.5)
    expected = logging.Formatter().formatTime(record, "%Y-%m-%dT%H:%M:%S")
    assert f'"time": "{expected}"' in JsonFormatter().format(record)


def _handler() -> tuple[PassHandler, io.StringIO]:
    stream = io.StringIO()
    handler = PassHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    return handler, stream


def test_info_lines_wait_for_the_flush_of_the_pass() -> None:
    handler, stream = _handler()
    handler.handle(_record("alice registered", 1.0))
    handler.handle(_record("alice quit", 1.0))
    assert stream.getvalue() == ""
    handler.flush()
    assert stream.getvalue() == "INFO alice registered\nINFO alice quit\n"
    handler.flush()
    assert stream.getvalue() == "INFO alice registered\nINFO alice quit\n", "written once"


def test_a_warning_is_written_at_once_after_what_came_before() -> None:
    handler, stream = _handler()
    handler.handle(_record("alice registered", 1.0))
    handler.handle(_record("cannot accept", 1.0, logging.WARNING))
    assert stream.getvalue() == "INFO alice registered\nWARNING cannot accept\n"


def test_a_backlog_is_written_without_waiting() -> None:
    handler, stream = _handler()
    for i in range(PassHandler.MAX_PENDING):
        handler.handle(_record(f"u{i} registered", 1.0))
    assert stream.getvalue().count("\n") == PassHandler.MAX_PENDING
