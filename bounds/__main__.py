"""``python -m bounds``: the same as ``binomgbml bounds``."""

import sys

import binomgbml

sys.exit(binomgbml.run("bounds", sys.argv[1:]))
