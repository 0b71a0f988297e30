"""The ``binomgbml`` command: a thin dispatcher over the toolkit's subcommands.

Each subcommand lives in its own package and is imported only when it runs, so that
``binomgbml bounds`` never pays for importing torch.

Conventions shared by every subcommand (see docs/):

* a subcommand is a function ``main(argv: list[str]) -> int``;
* bad input is reported by raising :class:`UsageError` (or any ``ValueError``) whose message
  names the offending flag or value and the condition it breaks; the dispatcher prints it as one
  line ``binomgbml SUB: error: MESSAGE`` on stderr and exits with status 2, without a traceback;
* Ctrl-C prints ``binomgbml SUB: interrupted`` and exits with status 130; output into a closed
  pipe (``binomgbml bounds | head``) ends quietly with status 0;
* :class:`ArgumentParser` is ``argparse.ArgumentParser`` with its errors routed the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import signal
import sys
import threading

__all__ = ["ArgumentParser", "UsageError", "main"]

#: subcommand -> "module:function" (imported lazily)
SUBCOMMANDS = {
    "bounds": ("bounds.cli:main", "evaluate the paper's error bounds (Theorems 3.6, 3.8, 3.10)"),
    "plot": ("bounds.plotting.cli:main", "plot bounds: Figure 2, bound-vs-parameter plots"),
    "verify": ("verify.cli:verify_main", "check the paper's statements; replay witnesses"),
    "check-estimator": ("verify.cli:check_estimator_main", "property-test an estimator"),
    "experiment": ("verify.experiments.cli:main", "empirical studies (the sinusoid study, Figure 3)"),
}


class UsageError(ValueError):
    """Bad command-line input: reported as one line, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors raise :class:`UsageError` instead of exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


def _usage() -> str:
    lines = ["usage: binomgbml SUBCOMMAND [options]   (binomgbml SUBCOMMAND --help)", "", "subcommands:"]
    lines += [f"  {name:<16} {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def run(sub: str, argv: list[str]) -> int:
    """Run subcommand ``sub`` with arguments ``argv``; return the exit status.

    Input errors (``ValueError``) print one line and give 2; Ctrl-C prints one line and gives
    130; output into a closed pipe (``binomgbml bounds | head``) ends quietly with 0.
    """
    target, _ = SUBCOMMANDS[sub]
    module_name, func_name = target.split(":")
    try:
        with _interrupts_delivered():
            func = getattr(importlib.import_module(module_name), func_name)
            try:
                status = func(argv)
            except SystemExit as exc:  # argparse after --help
                status = exc.code
        return _flushed(int(status or 0))
    except ValueError as exc:  # UsageError and the packages' own input errors
        message = " ".join(str(exc).split()) or type(exc).__name__
        _say(f"binomgbml {sub}: error: {message}")
        return 2
    except KeyboardInterrupt:
        return _interrupted(f"binomgbml {sub}")
    except BrokenPipeError:
        return _pipe_closed()


@contextlib.contextmanager
def _interrupts_delivered():
    """Meanwhile, Ctrl-C raises KeyboardInterrupt as usual, except inside code that the garbage
    collector runs (a gc callback such as Hypothesis' timer, a ``__del__``), which would swallow
    it ("Exception ignored"): there, SIGINT is sent again a moment later."""
    def handler(signum, frame):
        callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
        while frame is not None:
            if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
                threading.Timer(0.01, os.kill, (os.getpid(), signal.SIGINT)).start()
                return
            frame = frame.f_back
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def _flushed(status: int) -> int:
    """Flush stdout now, so that a closed pipe raises here rather than at interpreter exit."""
    sys.stdout.flush()
    return status


def _say(line: str) -> None:
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
    _say(f"{prog}: interrupted")
    return 130


def _pipe_closed() -> int:
    """The reader of stdout has gone: point stdout at /dev/null so that the flush at exit is quiet."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``binomgbml`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SUBCOMMANDS:
        return run(argv[0], argv[1:])
    if argv and argv[0] not in ("-h", "--help"):
        _say(f"binomgbml: error: unknown subcommand {argv[0]!r}; choose from {', '.join(SUBCOMMANDS)}")
        return 2
    try:
        print(_usage())
        return _flushed(0 if argv else 2)
    except BrokenPipeError:  # `binomgbml --help | true`
        return _pipe_closed()


if __name__ == "__main__":
    sys.exit(main())
