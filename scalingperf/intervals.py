"""Prediction intervals for step times, from the residuals of the validation suite.

:func:`scalingperf.validate` estimates the published, measured training runs shipped with
the package. For every run the model expresses, the ratio of the measured step time to the
predicted one is ``1 + speed_error`` (:attr:`ValidationRow.speed_error`): a source that
measured the step time gives ``measured / predicted``; one that measured a rate (tokens/s,
TFLOP/s, MFU), all inversely proportional to the step time, gives ``predicted rate /
measured rate``, which is the same ratio of step times. The empirical quantiles of
``log(measured step / predicted step)`` over those runs scale a new prediction into an
interval.

These are the residuals of the shipped validation suite, nothing more: the interval says
how far the published runs fell from the model with each device's default efficiency, not
a statistical guarantee for your run. No constant is fitted to the runs (the point estimate
is left as the model gives it; the interval need not be centred on it, because the model
is biased, optimistic on average), and the runs are few, clustered by source, and mostly
on A100s and H100s.

Runs of one source are alike and sources differ, so the plain ``level`` quantiles cover a
source they were not computed from less often than ``level`` (77 % where 80 % was asked,
before this widening). The quantiles are therefore taken at :func:`calibrated_level`: the
smallest level, from ``level`` up in steps of 0.005, whose intervals cover at least
``level`` of the runs when each source in turn is left out and predicted from the others
(cross-validation over sources). :func:`held_out_coverage` checks the result nested: the
level a held-out source is predicted with is chosen without its runs. For your own
cluster, :func:`scalingperf.calibrate` is the better tool.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np

from . import _validate
from ._format import table

#: Runs a device needs in the validation suite for ``by="device"`` to use its own
#: residuals; devices with fewer use every run's.
MIN_DEVICE_RUNS = 5
_GROUPINGS = ("all", "device")


@dataclass(frozen=True)
class Residual:
    """One predicted validation run: its source, device and ``log(measured step /
    predicted step)`` (positive: the run was slower than predicted)."""

    source: str
    id: str
    device: str
    log_ratio: float


@cache
def residuals() -> tuple[Residual, ...]:
    """The log step-time ratios of every run :func:`scalingperf.validate` predicts
    (computed once, then cached)."""
    from .validate import validate

    out = []
    for row in validate().predicted:
        speed = row.speed_error
        if speed is None:  # pragma: no cover - predicted rows have an error
            continue
        out.append(Residual(row.source, row.id, row.hardware, math.log1p(speed)))
    return tuple(out)


def check_level(level: float) -> float:
    """``level`` as a float, or a ValueError naming it unless it is a number in (0, 1)."""
    value = _validate.real("level", level)
    if not 0 < value < 1:
        msg = f"level={level!r} is invalid: it must be in (0, 1), e.g. 0.8"
        raise ValueError(msg)
    return value


def _check_by(by: str) -> str:
    if by not in _GROUPINGS:
        msg = f"by={by!r} is invalid: it must be one of {', '.join(map(repr, _GROUPINGS))}"
        raise ValueError(msg)
    return by


def _quantiles(values: Iterable[float], level: float) -> tuple[float, float]:
    """The central ``level`` interval of ``values``: their (1 - level) / 2 and
    (1 + level) / 2 empirical quantiles (linear interpolation)."""
    array = np.fromiter(values, dtype=np.float64)
    if array.size == 0:  # pragma: no cover - the suite has predicted runs
        msg = "no validation runs to compute quantiles from"
        raise ValueError(msg)
    lo, hi = np.quantile(array, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


#: The step of the levels calibrated_level tries, and the widest it goes.
_LEVEL_STEP = 0.005
_WIDEST = 0.995


def _covered(runs: list[Residual], level: float, by: str) -> float:
    """The fraction of ``runs`` inside the ``level`` intervals computed without their
    source's runs (leave one source out)."""
    inside = 0
    for source in {r.source for r in runs}:
        quantiles = _grouped((r for r in runs if r.source != source), level, by)
        inside += sum(1 for r in runs if r.source == source and _inside(r, quantiles))
    return inside / len(runs)


def plain_held_out_coverage(level: float = 0.8) -> float:
    """Leave-one-source-out coverage of the plain ``level`` quantiles, before
    :func:`calibrated_level` widens them (what the widening is for)."""
    return _covered(list(residuals()), check_level(level), "all")


def _calibrated(runs: list[Residual], level: float, by: str) -> float:
    # The level is chosen on these runs, so their coverage is an estimate of a new
    # source's: it must clear `level` by one binomial standard error, or a held-out source
    # lands inside only about as often as `level`, half the time below it.
    target = min(1.0, level + math.sqrt(level * (1 - level) / len(runs)))
    steps = 0
    while (candidate := level + steps * _LEVEL_STEP) < _WIDEST:
        if _covered(runs, candidate, by) >= target:
            return candidate
        steps += 1
    return max(level, _WIDEST)


@cache
def calibrated_level(level: float = 0.8, by: str = "all", without: str | None = None) -> float:
    """The quantile level whose step intervals cover ``level`` of the validation runs of a
    source left out: the smallest, from ``level`` up in steps of 0.005 (at most 0.995),
    at which leave-one-source-out coverage reaches ``level`` and one binomial standard
    error, ``sqrt(level (1 - level) / runs)``, more. ``without``: computed with
    that source's runs left out too (what :func:`held_out_coverage` predicts it with)."""
    value, grouping = check_level(level), _check_by(by)
    runs = [r for r in residuals() if r.source != without]
    return _calibrated(runs, value, grouping)


def _grouped(runs: Iterable[Residual], level: float, by: str) -> dict[str, tuple[float, float]]:
    runs = list(runs)
    out = {"all": _quantiles((r.log_ratio for r in runs), level)}
    if by == "device":
        for device in sorted({r.device for r in runs}):
            mine = [r.log_ratio for r in runs if r.device == device]
            if len(mine) >= MIN_DEVICE_RUNS:
                out[device] = _quantiles(mine, level)
    return out


def step_ratio_quantiles(level: float = 0.8, by: str = "all") -> dict[str, tuple[float, float]]:
    """Empirical quantiles of ``log(measured step / predicted step)`` over the predicted
    runs of the validation suite.

    Parameters
    ----------
    level : float
        Central fraction in (0, 1): the ``(1 - level) / 2`` and ``(1 + level) / 2``
        quantiles.
    by : {"all", "device"}
        "all": every run together, under the key ``"all"``. "device": that, and also one
        entry per device with at least :data:`MIN_DEVICE_RUNS` runs (by its name in
        ``devices.json``).

    Returns
    -------
    dict of str to (float, float)
        ``(lo, hi)`` log ratios per group; ``exp`` of them multiplies a predicted step.

    The quantiles are at :func:`calibrated_level` (``level`` widened until a source left
    out is covered at ``level``). These are residuals of the shipped validation suite: how
    far published runs fell from the model, not a statistical guarantee.
    """
    value, grouping = check_level(level), _check_by(by)
    return _grouped(residuals(), calibrated_level(value, grouping), grouping)


def step_factors(level: float = 0.8, *, device: str | None = None,
                 by: str = "all") -> tuple[float, float]:
    """``(lo, hi)`` factors that multiply a predicted step time into the interval:
    ``exp`` of :func:`step_ratio_quantiles`. With ``by="device"``, the quantiles of
    ``device``'s runs when the suite has at least :data:`MIN_DEVICE_RUNS` of them, else of
    all runs."""
    quantiles = step_ratio_quantiles(level, by)
    return _factors(quantiles.get(device, quantiles["all"]) if device else quantiles["all"])


def _factors(quantiles: tuple[float, float]) -> tuple[float, float]:
    """``(lo, hi)`` log ratios as the factors that multiply a predicted step."""
    lo, hi = quantiles
    return math.exp(lo), math.exp(hi)


@dataclass(frozen=True)
class Coverage:
    """How many of a held-out source's ``runs`` fell ``inside`` the interval computed
    without them, and the ``(lo, hi)`` step factors of all the other sources' runs (with
    ``by="device"``, a run of a device with enough runs used that device's instead)."""

    source: str
    runs: int
    inside: int
    factors: tuple[float, float]

    @property
    def fraction(self) -> float:
        """``inside / runs``."""
        return self.inside / self.runs if self.runs else math.nan


def held_out_coverage(level: float = 0.8, by: str = "all") -> dict[str, Coverage]:
    """Leave-one-source-out coverage of the step intervals.

    For each source, the quantiles are computed without that source's runs, at the level
    calibrated without them too (:func:`calibrated_level` with ``without``), and its runs
    counted whose measured step falls inside ``[lo, hi] x predicted step`` (bounds
    included); with ``by="device"`` each run uses its device's quantiles where that device
    still has enough runs. The entry ``"pooled"`` sums every source's runs (its ``factors``
    are those of all runs). A source far from the others (a framework, a device the rest
    do not have) shows here as low coverage.
    """
    value, grouping = check_level(level), _check_by(by)
    runs = residuals()
    out: dict[str, Coverage] = {}
    for source in sorted({r.source for r in runs}):
        kept = [r for r in runs if r.source != source]
        held = [r for r in runs if r.source == source]
        quantiles = _grouped(kept, calibrated_level(value, grouping, source), grouping)
        inside = sum(1 for r in held if _inside(r, quantiles))
        out[source] = Coverage(source, len(held), inside, _factors(quantiles["all"]))
    out["pooled"] = Coverage("pooled", sum(c.runs for c in out.values()),
                             sum(c.inside for c in out.values()),
                             _factors(step_ratio_quantiles(value)["all"]))
    return out


def _inside(run: Residual, quantiles: Mapping[str, tuple[float, float]]) -> bool:
    lo, hi = quantiles.get(run.device, quantiles["all"])
    return lo <= run.log_ratio <= hi


def coverage_table(level: float = 0.8, by: str = "all") -> str:
    """:func:`held_out_coverage` as a text table."""
    body = [[c.source, str(c.runs), str(c.inside), f"{c.fraction:.0%}",
             f"{c.factors[0]:.2f} - {c.factors[1]:.2f}"]
            for c in held_out_coverage(level, by).values()]
    return table(["held-out source", "runs", "inside", "coverage", "step factors"], body,
                 left=1)
