"""The ``binomgbml`` command: a thin dispatcher over the toolkit's subcommands.

Each subcommand lives in its own package and is imported only when it runs, so that
``binomgbml bounds`` never pays for importing torch. What the subcommands share (a subcommand is
``main(argv) -> int``; bad input is one line on stderr and exit status 2; Ctrl-C is one line and
status 130; a closed output pipe ends quietly with status 0; ``ArgumentParser``, ``UsageError``,
the table from library parameter names to flags) is in ``cli_common``, below them; this
dispatcher sits above them and no package imports it.
"""

from __future__ import annotations

import importlib
import sys

from cli_common import ArgumentParser, UsageError, flushed, pipe_closed, run_command, say

__all__ = ["ArgumentParser", "UsageError", "main", "run"]

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


def _usage() -> str:
    lines = ["usage: binomgbml SUBCOMMAND [options]   (binomgbml SUBCOMMAND --help)", "", "subcommands:"]
    lines += [f"  {name:<16} {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def run(sub: str, argv: list[str]) -> int:
    """Run subcommand ``sub`` with arguments ``argv``; return the exit status (see
    :func:`cli_common.run_command`: the import of its module is covered too)."""
    target, _ = SUBCOMMANDS[sub]
    module_name, func_name = target.split(":")

    def subcommand(args: list[str]) -> int | None:
        return getattr(importlib.import_module(module_name), func_name)(args)

    return run_command(sub, subcommand, argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``binomgbml`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SUBCOMMANDS:
        return run(argv[0], argv[1:])
    if argv and argv[0] not in ("-h", "--help"):
        say(f"binomgbml: error: unknown subcommand {argv[0]!r}; choose from {', '.join(SUBCOMMANDS)}")
        return 2
    try:
        print(_usage())
        return flushed(0 if argv else 2)
    except BrokenPipeError:  # `binomgbml --help | true`
        return pipe_closed()


if __name__ == "__main__":
    sys.exit(main())
