"""``python -m verify ...`` is ``binomgbml verify ...``; ``python -m verify check-estimator ...``
is ``binomgbml check-estimator ...``."""

import sys

from binomgbml import run

if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["check-estimator"]:
        sys.exit(run("check-estimator", argv[1:]))
    sys.exit(run("verify", argv))
