"""Logging buffers to disk: one plain text file per buffer, off by default.

Theory of operation: the ``Model`` hands every line it adds to its
``LogBook`` (when enabled); the book appends one line to
``<dir>/<server>/<buffer>.log``::

    2026-12-02T00:51:39+00:00 <alice> hello
    2026-12-02T00:51:40+00:00 * alice waves
    2026-12-02T00:51:41+00:00 -bob- a notice
    2026-12-02T00:51:42+00:00 --> bob (~bob@h) joined #rust

The text comes from the network, so control characters (IRC formatting,
escape sequences, newlines) are removed before writing, and names become file
names only after sanitizing (``../x`` cannot leave the directory). Logs are
private: directories are made 0700 and files 0600. Files stay open (line
buffered) until logging is turned off or the client exits. A failing disk
turns logging off with one error line; the chat goes on.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ircish.client.model import Buffer, BufferKind, Line, LineKind

log = logging.getLogger(__name__)

#: C0 and C1 controls and DEL (IRC formatting codes included).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: mIRC colour codes with their numbers, which would otherwise stay behind as digits.
_COLOUR = re.compile(r"\x03(?:\d{1,2}(?:,\d{1,2})?)?")
_UNSAFE_NAME = re.compile(r"[^\w#&+!.@-]")
MAX_NAME = 100
#: The server buffer's file: its name changes (address, then network), and no room or
#: nick has an ``@``.
SERVER_FILE = "@server"


def clean(text: str) -> str:
    """Text as it may go into a log file: no formatting, no control characters."""
    return _CONTROLS.sub("", _COLOUR.sub("", text.replace("\t", " ")))


def file_name(name: str) -> str:
    """A buffer or server name made safe as one file name component."""
    safe = _UNSAFE_NAME.sub("_", clean(name)).lstrip(".")[:MAX_NAME]
    return safe or "_"


def format_line(line: Line) -> str:
    """One log line: ISO time, then the line as a reader expects it."""
    text = clean(line.text)
    nick = clean(line.nick)
    if line.kind is LineKind.MESSAGE:
        body = f"<{nick}> {text}"
    elif line.kind is LineKind.ACTION:
        body = f"* {nick} {text}"
    elif line.kind is LineKind.NOTICE:
        body = f"-{nick}- {text}"
    elif line.kind is LineKind.TABLE and line.table is not None:
        body = clean(line.table.title)
    elif line.kind is LineKind.JOIN:
        body = f"--> {text}"
    elif line.kind in (LineKind.PART, LineKind.QUIT, LineKind.KICK):
        body = f"<-- {text}"
    elif line.kind is LineKind.ERROR:
        body = f"!!! {text}"
    else:
        body = f"-- {text}"
    return f"{line.time.isoformat(timespec='seconds')} {body}"


def _private_dir(path: Path) -> None:
    """Make ``path`` and missing parents, each new one 0700 (umask or not)."""
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700)
        os.chmod(made, 0o700)


class LogBook:
    """Open log files of one server, by folded buffer name."""

    def __init__(
        self,
        directory: Path,
        server: str,
        *,
        enabled: bool = False,
        fold: Callable[[str], str] = str.casefold,
        on_error: Callable[[str], object] | None = None,
    ) -> None:
        self.directory = directory / file_name(server)
        self.enabled = enabled
        self.fold = fold
        self.on_error = on_error
        self._files: dict[str, TextIO] = {}

    def path(self, buffer_name: str) -> Path:
        return self.directory / f"{file_name(self.fold(buffer_name))}.log"

    def write(self, buf: Buffer, line: Line) -> None:
        if not self.enabled:
            return
        try:
            fh = self._open(SERVER_FILE if buf.kind is BufferKind.SERVER else buf.name)
            fh.write(format_line(line) + "\n")
        except OSError as exc:
            self.enabled = False
            self.close()
            log.warning("logging to %s stopped: %s", self.directory, exc.strerror)
            if self.on_error is not None:
                self.on_error(
                    f"Logging turned off: cannot write to {self.directory}: {exc.strerror}"
                )

    def _open(self, name: str) -> TextIO:
        key = self.fold(name)
        fh = self._files.get(key)
        if fh is None:
            _private_dir(self.directory)
            path = self.path(name)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(path, flags, 0o600)
            os.fchmod(fd, 0o600)
            fh = self._files[key] = open(fd, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        return fh

    def close(self) -> None:
        for fh in self._files.values():
            try:
                fh.close()
            except OSError:
                pass
        self._files.clear()
