"""The ``binomgbml`` command: a thin dispatcher over the toolkit's subcommands.

Each subcommand lives in its own package and is imported only when it runs, so that
``binomgbml bounds`` never pays for importing torch.

Conventions shared by every subcommand (see docs/):

* a subcommand is a function ``main(argv: list[str]) -> int``;
* bad input is reported by raising :class:`UsageError` (or any ``ValueError``) whose message
  names the offending flag or value and the condition it breaks; the dispatcher prints it as one
  line ``binomgbml SUB: error: MESSAGE`` on stderr and exits with status 2, without a traceback;
* :class:`ArgumentParser` is ``argparse.ArgumentParser`` with its errors routed the same way.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["ArgumentParser", "UsageError", "main"]

#: subcommand -> "module:function" (imported lazily)
SUBCOMMANDS = {
    "bounds": ("bounds.cli:main", "evaluate the paper's error bounds (Theorems 3.6, 3.8, 3.10)"),
    "plot": ("bounds.plotting.cli:main", "plot bounds: Figure 2, bound-vs-parameter plots"),
    "verify": ("verify.cli:verify_main", "check the paper's statements; replay witnesses"),
    "check-estimator": ("verify.cli:check_estimator_main", "property-test an estimator"),
    "experiment": ("verify.experiments.cli:main", "empirical studies (the sinusoid study, Figure 3)"),
    "tightness": ("verify.tightness_cli:tightness_main", "each bound next to the worst error that can happen"),
    "diagnose": ("verify.tightness_cli:diagnose_main", "bounds with a model's own constants vs actual errors"),
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
    """Run subcommand ``sub`` with arguments ``argv``; return the exit status."""
    target, _ = SUBCOMMANDS[sub]
    module_name, func_name = target.split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    try:
        return int(func(argv) or 0)
    except ValueError as exc:  # UsageError and the packages' own input errors
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"binomgbml {sub}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `binomgbml bounds | head`
        return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``binomgbml`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    sub, rest = argv[0], argv[1:]
    if sub not in SUBCOMMANDS:
        print(f"binomgbml: error: unknown subcommand {sub!r}; choose from {', '.join(SUBCOMMANDS)}",
              file=sys.stderr)
        return 2
    return run(sub, rest)


if __name__ == "__main__":
    sys.exit(main())
