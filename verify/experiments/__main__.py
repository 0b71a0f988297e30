"""``python -m verify.experiments sinusoid ...`` is ``binomgbml experiment sinusoid ...``."""

import sys

import binomgbml

sys.exit(binomgbml.run("experiment", sys.argv[1:]))
