"""Hypothesis budgets: the default, and a small one for the sanitizer run
(``HYPOTHESIS_PROFILE=sanitize``, tools/sanitize.sh), where the core runs ~10x slower."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("sanitize", max_examples=15, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
