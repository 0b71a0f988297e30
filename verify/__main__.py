"""``python -m verify ...`` is ``binomgbml verify ...``; ``python -m verify check-estimator ...``,
``python -m verify tightness ...`` and ``python -m verify diagnose ...`` are ``binomgbml
check-estimator ...``, ``binomgbml tightness ...`` and ``binomgbml diagnose ...``."""

import sys

from cli_common import run_command

from .cli import check_estimator_main, verify_main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["check-estimator"]:
        sys.exit(run_command("check-estimator", check_estimator_main, argv[1:]))
    if argv[:1] in (["tightness"], ["diagnose"]):
        from .tightness_cli import diagnose_main, tightness_main

        main = tightness_main if argv[0] == "tightness" else diagnose_main
        sys.exit(run_command(argv[0], main, argv[1:]))
    sys.exit(run_command("verify", verify_main, argv))
