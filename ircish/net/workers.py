"""Worker threads for the few slow, pure jobs the chat core hands off (``Chat.offload``).

Theory of operation: the loop is single-threaded, and checking an argon2
password hash takes tens of milliseconds; a user repeating OPER must not stall
everyone else. ``WorkerPool.offload`` runs the job on a small thread pool and
schedules its ``done`` callback back on the loop thread with the server's
thread-safe ``call_soon``, so chat state is only ever touched by the loop.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger("ircish.net")

#: Threads for offloaded jobs; each argon2 check holds one for its duration.
WORKER_THREADS = 2


class WorkerPool:
    """A thread pool whose results come back through ``call_soon``."""

    def __init__(
        self, call_soon: Callable[[Callable[[], None]], None], threads: int = WORKER_THREADS
    ) -> None:
        self._call_soon = call_soon
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ircish-work")

    def offload(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run ``work()`` on a worker thread, then ``done(result)`` on the loop thread."""
        try:
            future = self._executor.submit(work)
        except RuntimeError:
            log.warning("work offloaded after shutdown was dropped")
            return
        future.add_done_callback(functools.partial(self._finished, done))

    def _finished(self, done: Callable[[Any], None], future: Future[Any]) -> None:
        # Runs on the worker thread (or at once, if the job already finished).
        self._call_soon(functools.partial(self._deliver, done, future))

    @staticmethod
    def _deliver(done: Callable[[Any], None], future: Future[Any]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            log.error("offloaded work failed", exc_info=exc)
            return
        done(future.result())

    def shutdown(self) -> None:
        """Drop queued jobs; a running one finishes, and its result is never delivered."""
        self._executor.shutdown(wait=False, cancel_futures=True)
