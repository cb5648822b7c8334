"""Shared test set-up: Hypothesis profiles and the ``rule`` marker."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# ci: what CI runs (at least 200 examples per interpretation profile for the stateful machine).
settings.register_profile(
    "ci", max_examples=200, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow], derandomize=True, print_blob=True,
)
# dev: quick local iteration.
settings.register_profile("dev", max_examples=30, stateful_step_count=20, deadline=None)
# thorough: a bigger local campaign.
settings.register_profile(
    "thorough", max_examples=2000, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
