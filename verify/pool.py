"""Worker processes for parallel runs (``verify --jobs``, ``experiment sinusoid --workers``).

:func:`process_pool` is a ``ProcessPoolExecutor`` whose workers leave Ctrl-C to the parent: they
start with SIGINT ignored (an ignored signal stays ignored through fork and exec, so a worker
is never interrupted, not even while it imports), and the parent, on ``KeyboardInterrupt`` or
any other exception, cancels what has not started and terminates the workers at once instead
of waiting for their tasks. No worker prints a traceback.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

__all__ = ["process_pool"]


class _Pool(ProcessPoolExecutor):
    """Workers start in ``submit`` (CPython starts them there): start them with SIGINT ignored.

    Only while workers may still start: once all ``max_workers`` run, ``submit`` leaves SIGINT
    alone, so a Ctrl-C while many tasks are submitted is not lost."""

    def submit(self, fn, /, *args, **kwargs):
        started = len(getattr(self, "_processes", None) or ())  # CPython's worker table
        full = started >= getattr(self, "_max_workers", started + 1)
        if full or threading.current_thread() is not threading.main_thread():
            return super().submit(fn, *args, **kwargs)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C in these ms is lost
        try:
            return super().submit(fn, *args, **kwargs)
        finally:
            signal.signal(signal.SIGINT, previous)


@contextmanager
def process_pool(workers: int, **kwargs: Any) -> Iterator[ProcessPoolExecutor]:
    """``with process_pool(n) as pool:`` a pool of ``n`` processes (``kwargs`` as for
    ``ProcessPoolExecutor``), its workers terminated at once when the block raises."""
    before = set(multiprocessing.active_children())
    pool = _Pool(workers, **kwargs)
    try:
        yield pool
    except BaseException:
        for process in set(multiprocessing.active_children()) - before:  # the pool's workers
            process.terminate()
        pool.shutdown(cancel_futures=True)  # returns at once: the workers are gone
        raise
    pool.shutdown()
