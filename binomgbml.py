"""The ``binomgbml`` command: a thin dispatcher over the toolkit's subcommands.

Each subcommand lives in its own package and is imported only when it runs, so that
``binomgbml bounds`` never pays for importing torch. What the subcommands share (a subcommand is
``main(argv) -> int``; bad input is one line on stderr and exit status 2; ``ArgumentParser``,
``UsageError``, the table from library parameter names to flags) is in ``cli_common``, below
them; this dispatcher sits above them and no package imports it.
"""

from __future__ import annotations

import importlib
import sys

from cli_common import ArgumentParser, UsageError, run_command

__all__ = ["ArgumentParser", "UsageError", "main"]

#: subcommand -> "module:function" (imported lazily)
SUBCOMMANDS = {
    "bounds": ("bounds.cli:main", "evaluate the paper's error bounds (Theorems 3.6, 3.8, 3.10)"),
    "plot": ("bounds.plotting.cli:main", "plot bounds: Figure 2, bound-vs-parameter plots"),
    "verify": ("verify.cli:verify_main", "check the paper's statements; replay witnesses"),
    "check-estimator": ("verify.cli:check_estimator_main", "property-test an estimator"),
    "experiment": ("verify.experiments.cli:main", "empirical studies (the sinusoid study, Figure 3)"),
}


def _usage() -> str:
    lines = ["usage: binomgbml SUBCOMMAND [options]   (binomgbml SUBCOMMAND --help)", "", "subcommands:"]
    lines += [f"  {name:<16} {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def run(sub: str, argv: list[str]) -> int:
    """Run subcommand ``sub`` with arguments ``argv``; return the exit status."""
    target, _ = SUBCOMMANDS[sub]
    module_name, func_name = target.split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    return run_command(sub, func, argv)


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
