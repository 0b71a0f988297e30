"""``python -m bounds``: the same as ``binomgbml bounds``."""

import sys

from cli_common import run_command

from .cli import main

sys.exit(run_command("bounds", main, sys.argv[1:]))
