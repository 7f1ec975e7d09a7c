"""The Python cost of one command through the core, without sockets.

Runs real sessions on one ``Chat`` with sinks that drop what they are given,
so what is timed is framing, parsing, dispatch, the handler and delivery
(the pipeline's stamping and rendering included), and nothing of the kernel.
This is the part of a server's CPU that ircish's own code decides; the
socket benchmark (``python -m bench run``) measures the whole.

Usage: ``python -m bench core [--ircish-path DIR]`` (it runs this file with
DIR first on ``PYTHONPATH``), or ``python bench/corepath.py`` directly. The
figure is the best of several rounds, in microseconds per command; the
machine's noise shows in how far apart two runs are, so compare trees in
alternation.
"""

from __future__ import annotations

import gc
import importlib
import time
from dataclasses import replace
from typing import Any

import ircish
from ircish.config import Config
from ircish.core.chat import Chat
from ircish.dialects import Dialects

ROUNDS = 12
PER_ROUND = 2000


class _Drop:
    """A sink that drops its bytes (the kernel's share is not measured here)."""

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def _session_class() -> Any:
    for name in ("ircish.session", "ircish.core.session"):
        try:
            return importlib.import_module(name).Session
        except ImportError:
            continue
    raise ImportError("no ircish Session found")


def _network(members: int) -> list[Any]:
    config = Config()
    if hasattr(config.limits, "flood_burst"):
        # Flood control would hold one session's thousands of commands back (and then
        # disconnect it): what is measured is the path of a command, not the bucket.
        config = replace(config, limits=replace(config.limits, flood_burst=0))
    chat = Chat(config, clock=time.time)
    dialects = Dialects.from_config(config)
    session = _session_class()
    sessions = []
    for i in range(members):
        s = session(chat, dialects, _Drop(), "127.0.0.1", "irc", now=time.time())
        s.receive_data(f"NICK u{i}\r\nUSER u{i} 0 * :u{i}\r\nJOIN #r\r\n".encode())
        sessions.append(s)
    return sessions


def _best(session: Any, line: bytes) -> float:
    for _ in range(PER_ROUND // 4):
        session.receive_data(line)
    best = float("inf")
    gc.disable()
    try:
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(PER_ROUND):
                session.receive_data(line)
            best = min(best, (time.perf_counter() - start) / PER_ROUND)
    finally:
        gc.enable()
    if getattr(session, "closed", False):
        raise RuntimeError("the measured session was disconnected: the figure would be wrong")
    return best * 1e6


def measure() -> dict[str, float]:
    """Microseconds per command for a few typical commands."""
    figures: dict[str, float] = {}
    small = _network(10)
    figures["PING (a reply)"] = _best(small[0], b"PING :x\r\n")
    figures["PRIVMSG to a user"] = _best(small[0], b"PRIVMSG u1 :hello there\r\n")
    for members in (10, 50, 200):
        room = small if members == 10 else _network(members)
        figures[f"PRIVMSG to a room of {members}"] = _best(
            room[0], b"PRIVMSG #r :hello world, this is a message\r\n"
        )
    return figures


def main() -> int:
    print(f"ircish from {ircish.__file__}")
    for name, value in measure().items():
        print(f"{name:<28} {value:7.2f} us per command")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
