"""``python -m verify``: the same as ``binomgbml verify``."""

import sys

from binomgbml import run

if __name__ == "__main__":
    sys.exit(run("verify", sys.argv[1:]))
