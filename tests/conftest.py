"""Shared pytest configuration: Hypothesis profiles and device selection.

Profiles (select with the environment variable HYPOTHESIS_PROFILE, default "ci"):
  ci        -- few examples, no deadline: keeps the suite within minutes on 2 cores;
  thorough  -- many examples, for release checks (HYPOTHESIS_PROFILE=thorough pytest).
"""

import os

# pytest -n 2 on 2 cores: one torch intra-op thread per worker. Two threads per worker
# oversubscribe the cores, and each OpenMP parallel region (every batched matmul of a vmapped
# HVP) then costs ~15 ms instead of ~10 us. Must run before torch is imported.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

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
