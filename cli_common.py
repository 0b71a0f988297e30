"""Command-line plumbing shared by every ``binomgbml`` subcommand.

It sits below the subcommands' parsers (``bounds.cli``, ``bounds.plotting.cli``, ``verify.cli``,
``verify.experiments.cli``), which import it, and below the dispatcher ``binomgbml.py``, which
imports them; no package imports the dispatcher.

* a subcommand is a function ``main(argv: list[str]) -> int``;
* bad input is reported by raising :class:`UsageError` (or any ``ValueError``) whose message
  names the offending flag or value and the condition it breaks; :func:`run_command` prints it
  as one line ``binomgbml SUB: error: MESSAGE`` on stderr and returns exit status 2, without a
  traceback;
* :class:`ArgumentParser` is ``argparse.ArgumentParser`` with its errors routed the same way;
* the libraries' errors name parameters (``alpha``), never flags; those that record the
  parameters they are about (``bounds.BoundsInputError``, ``bounds.NotApplicable``) are shown
  with the flags of :data:`FLAGS` instead (:func:`error_message`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

__all__ = ["ArgumentParser", "FLAGS", "UsageError", "error_message", "flag", "run_command"]

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
    """Run subcommand ``func`` (named ``sub`` in messages) on ``argv``; return the exit status:
    its own, or 2 with a one-line message for bad input."""
    try:
        return int(func(list(argv)) or 0)
    except ValueError as exc:  # UsageError and the packages' own input errors
        print(f"binomgbml {sub}: error: {error_message(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `binomgbml bounds | head`
        return 0
