"""Command-line plumbing shared by every ``binomgbml`` subcommand.

It sits below the subcommands' parsers (``bounds.cli``, ``bounds.plotting.cli``, ``verify.cli``,
``verify.experiments.cli``), which import it, and below the dispatcher ``binomgbml.py``, which
imports them; no package imports the dispatcher.

* a subcommand is a function ``main(argv: list[str]) -> int``;
* bad input is reported by raising :class:`UsageError` (or any ``ValueError``) whose message
  names the offending flag or value and the condition it breaks; :func:`run_command` prints it
  as one line ``binomgbml SUB: error: MESSAGE`` on stderr and returns exit status 2, without a
  traceback;
* Ctrl-C prints ``binomgbml SUB: interrupted`` and exits with status 130; output into a closed
  pipe (``binomgbml bounds | head``) ends quietly with status 0;
* :class:`ArgumentParser` is ``argparse.ArgumentParser`` with its errors routed the same way;
* the libraries' errors name parameters (``alpha``), never flags; those that record the
  parameters they are about (``bounds.BoundsInputError``, ``bounds.NotApplicable``) are shown
  with the flags of :data:`FLAGS` instead (:func:`error_message`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import NoReturn

__all__ = [
    "ArgumentParser", "FLAGS", "UsageError", "error_message", "flag", "flushed", "pipe_closed",
    "run_command", "say",
]

#: library parameter or option name -> command-line flag (one table for every subcommand)
FLAGS = {
    "K": "--K", "L": "--L", "alpha": "--alpha", "H": "--H", "h": "--h", "M": "--M",
    "exact": "--exact", "normalize": "--normalize", "theorem": "--theorem", "variant": "--variant",
}


class UsageError(ValueError):
    """Bad command-line input: reported as one line, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors raise :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def flag(name: str) -> str:
    """The command-line flag of a library parameter: ``--alpha`` for ``alpha``."""
    return FLAGS.get(name, f"--{name}")


def error_message(exc: BaseException) -> str:
    """The one-line message of an input error, with parameter names shown as flags where the
    error records them (``exc.render``)."""
    render = getattr(exc, "render", None)
    text = render(flag) if callable(render) else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def run_command(sub: str, func: Callable[[list[str]], int | None], argv: Sequence[str]) -> int:
    """Run subcommand ``func`` (named ``sub`` in messages) on ``argv``; return the exit status.

    Its own status, or: 2 with one line ``binomgbml SUB: error: MESSAGE`` for bad input (any
    ``ValueError``); 130 with ``binomgbml SUB: interrupted`` on Ctrl-C; 0, quietly, when the
    reader of stdout has gone (``binomgbml bounds | head``). ``func`` may import its module
    lazily: errors and interrupts while importing are handled the same way.
    """
    try:
        with _interrupts_delivered():
            try:
                status = func(list(argv))
            except SystemExit as exc:  # argparse after --help
                status = exc.code if exc.code is None or isinstance(exc.code, int) else 1
        return flushed(int(status or 0))
    except ValueError as exc:  # UsageError and the packages' own input errors
        say(f"binomgbml {sub}: error: {error_message(exc)}")
        return 2
    except KeyboardInterrupt:
        return _interrupted(f"binomgbml {sub}")
    except BrokenPipeError:
        return pipe_closed()


#: how many times in a row a Ctrl-C inside code run by exec/eval is put off (10 ms apart) before
#: it is raised there
_MAX_DEFERRALS = 100


@contextlib.contextmanager
def _interrupts_delivered():
    """Meanwhile, Ctrl-C raises KeyboardInterrupt as usual, and is delivered again where that
    would go wrong:

    * a KeyboardInterrupt that CPython swallows, because it was raised inside a ``__del__``, a
      gc callback (such as Hypothesis' timer) or a weakref callback (such as importlib's module
      locks'), reaches ``sys.unraisablehook`` instead of the program ("Exception ignored in
      ..."): SIGINT is sent again 10 ms later, and nothing is printed;
    * inside the top-level code that ``exec`` or ``eval`` runs from a string (``dataclasses`` and
      ``collections.namedtuple`` build their methods so, as a lazily imported module is loaded),
      CPython records a KeyboardInterrupt that leaves it as unhandled, and a program run with
      ``python -m`` then ends by SIGINT even though :func:`run_command` caught it and returned
      130: there the interrupt is put off (SIGINT sent again 10 ms later) at most
      :data:`_MAX_DEFERRALS` times in a row, then raised. Functions that such code defines (like
      Hypothesis' test wrappers) run outside it.
    """
    deferred = 0

    def handler(signum, frame):
        nonlocal deferred
        if deferred < _MAX_DEFERRALS and _inside_exec(frame):
            deferred += 1
            _send_again()
            return
        deferred = 0
        raise KeyboardInterrupt

    def unraisable(info):
        if isinstance(info.exc_value, KeyboardInterrupt):
            _send_again()  # swallowed: deliver it again
            return
        hook(info)

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    previous, hook = signal.signal(signal.SIGINT, handler), sys.unraisablehook
    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        sys.unraisablehook = hook
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def _send_again() -> None:
    """SIGINT to this process 10 ms from now (from a daemon thread, which never holds up the exit)."""
    resend = threading.Timer(0.01, os.kill, (os.getpid(), signal.SIGINT))
    resend.daemon = True
    resend.start()


def _inside_exec(frame) -> bool:
    """Whether ``frame`` or a caller below :func:`run_command` is the top-level code of
    ``exec``/``eval`` of a string (``<module>`` in file ``<string>``)."""
    while frame is not None and frame.f_code is not run_command.__code__:
        if frame.f_code.co_filename == "<string>" and frame.f_code.co_name == "<module>":
            return True
        frame = frame.f_back
    return False


def flushed(status: int) -> int:
    """Flush stdout now, so that a closed pipe raises here rather than at interpreter exit."""
    sys.stdout.flush()
    return status


def say(line: str) -> None:
    """One line on stderr; nothing when stderr itself is a closed pipe."""
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        pass


def _interrupted(prog: str) -> int:
    """Ctrl-C: one line, status 130 (128 + SIGINT); a second Ctrl-C during exit ends at once."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    except ValueError:  # not the main thread: nothing to restore
        pass
    say(f"{prog}: interrupted")
    return 130


def pipe_closed() -> int:
    """The reader of stdout has gone: point stdout at /dev/null so that the flush at exit is quiet."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor
        pass
    return 0
