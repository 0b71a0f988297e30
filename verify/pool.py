"""Worker processes for parallel runs (``verify --jobs``, ``experiment sinusoid --workers``).

:func:`process_pool` is a ``ProcessPoolExecutor`` whose workers leave Ctrl-C to the parent: they
start with SIGINT ignored, so a worker is never interrupted, not even while it imports; and the
parent, on ``KeyboardInterrupt`` or any other exception, cancels what has not started and
terminates the workers at once instead of waiting for their tasks. No worker prints a traceback.

How a worker starts ignoring SIGINT depends on how it is started:

* forked (the "fork" context, the default on Linux): the child sets SIGINT to ignored in an
  ``os.register_at_fork`` hook, its first Python code after the fork; the parent's own handling of
  Ctrl-C is never changed, so no Ctrl-C is lost while workers start;
* spawned (and forkserver): the new interpreter inherits only an *ignored* disposition through
  exec, so the parent ignores SIGINT while ``submit`` may start workers (about 8 ms per worker
  here): a Ctrl-C in that window is lost.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

__all__ = ["process_pool"]


#: True while a pool's ``submit`` may fork workers: a process forked then is a worker
_forking_workers = False


def _worker_ignores_sigint() -> None:
    """After a fork, in the child: a pool's worker ignores SIGINT from here on."""
    if _forking_workers:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


os.register_at_fork(after_in_child=_worker_ignores_sigint)


class _Pool(ProcessPoolExecutor):
    """Workers start in ``submit`` (CPython starts them there): start them with SIGINT ignored
    (module docstring). Only while workers may still start: once all ``max_workers`` run,
    ``submit`` changes nothing."""

    def submit(self, fn, /, *args, **kwargs):
        global _forking_workers
        started = len(getattr(self, "_processes", None) or ())  # CPython's worker table
        full = started >= getattr(self, "_max_workers", started + 1)
        if full or threading.current_thread() is not threading.main_thread():
            return super().submit(fn, *args, **kwargs)
        context = getattr(self, "_mp_context", None)  # CPython's; None: assume the worst (spawn)
        if context is not None and context.get_start_method() == "fork":
            _forking_workers = True
            try:
                return super().submit(fn, *args, **kwargs)
            finally:
                _forking_workers = False
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
