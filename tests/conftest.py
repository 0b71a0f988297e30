"""Shared pytest configuration: Hypothesis profiles and device selection.

Profiles (select with the environment variable HYPOTHESIS_PROFILE, default "ci"):
  ci        -- few examples, no deadline: keeps the suite within minutes on 2 cores;
  thorough  -- many examples, for release checks (HYPOTHESIS_PROFILE=thorough pytest).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
