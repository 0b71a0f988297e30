"""``python -m verify ...`` is ``binomgbml verify ...``; ``python -m verify check-estimator ...``
is ``binomgbml check-estimator ...``."""

import sys

from cli_common import run_command

from .cli import check_estimator_main, verify_main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["check-estimator"]:
        sys.exit(run_command("check-estimator", check_estimator_main, argv[1:]))
    sys.exit(run_command("verify", verify_main, argv))
