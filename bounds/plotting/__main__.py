"""``python -m bounds.plotting figure2 ...`` is ``binomgbml plot figure2 ...``."""

import sys

import binomgbml

sys.exit(binomgbml.run("plot", sys.argv[1:]))
