"""``python -m verify.experiments sinusoid ...`` is ``binomgbml experiment sinusoid ...``."""

import sys

from cli_common import run_command

from .cli import main

sys.exit(run_command("experiment", main, sys.argv[1:]))
