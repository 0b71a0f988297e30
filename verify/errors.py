"""verify's input error: one class, one-line messages.

Every message names the offending argument or witness entry, its value and the condition it
breaks, so that the ``binomgbml`` dispatcher (which catches ``ValueError``) prints it as one line
and exits with status 2.
"""

from __future__ import annotations

__all__ = ["VerifyInputError"]


class VerifyInputError(ValueError):
    """Bad input to verify: an argument of ``check_estimator``, or a witness that is malformed or
    outside its statement (so that replaying it checks nothing)."""
