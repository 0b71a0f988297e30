"""``python -m bounds.plotting figure2 ...`` is ``binomgbml plot figure2 ...``."""

import sys

from cli_common import run_command

from .cli import main

sys.exit(run_command("plot", main, sys.argv[1:]))
