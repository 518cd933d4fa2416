"""scalingperf: which transformer to train, what each layer costs, and whether it fits,
before any GPU-hour is spent."""

from __future__ import annotations

try:
    from . import _core  # noqa: F401  (fail early, with a note, if unbuilt)
except ImportError as error:  # pragma: no cover - only without a build
    error.add_note(
        "scalingperf's compiled core is missing: did you build it? "
        "Install with `pip install .` (or `pip install --no-build-isolation -ve .` to develop)."
    )
    raise

from . import abilities, laws, plot, units
from .architecture import Architecture
from .calibrate import calibrate
from .devices import Hardware, hardware
from .estimate import Efficiency, Report, estimate
from .grid import Grid
from .layers import OpTable
from .plan import Plan, plan
from .presets import presets
from .sweep import Skipped, SweepResult, SweepWarning, sweep, sweep_columns
from .validate import validate

__all__ = ["Architecture", "Efficiency", "Grid", "Hardware", "OpTable", "Plan", "Report",
           "Skipped", "SweepResult", "SweepWarning", "abilities", "calibrate", "estimate", "hardware", "laws",
           "plan", "plot", "presets", "sweep", "sweep_columns", "units", "validate"]
__version__ = "0.1.0"
