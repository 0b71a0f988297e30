"""``python -m verify``: the same as ``binomgbml verify``."""

import sys

from cli_common import run_command

from .cli import verify_main

if __name__ == "__main__":
    sys.exit(run_command("verify", verify_main, sys.argv[1:]))
