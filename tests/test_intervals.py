"""Step-time intervals from the validation suite's residuals."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import scalingperf as sp
from scalingperf import intervals


@pytest.fixture(scope="module")
def report() -> sp.Report:
    return sp.estimate(sp.Architecture.preset("llama-3-8b"), batch=1, seq_len=8192, tp=2,
                       dp=4)


def test_residuals_are_the_step_ratio_of_every_predicted_run():
    rows = sp.validate().predicted
    runs = intervals.residuals()
    assert len(runs) == len(rows) > 0
    for row, run in zip(rows, runs, strict=True):
        assert run.id == row.id
        assert row.error is not None
        assert row.predicted is not None
        # A step time: measured / predicted. A rate: the step ratio is predicted rate /
        # measured rate = 1 + error.
        ratio = (row.measured / row.predicted if row.quantity == "step_time_s"
                 else 1 + row.error)
        assert run.log_ratio == pytest.approx(math.log(ratio), rel=1e-12, abs=1e-12)
    assert intervals.residuals() is runs  # cached


# Not at 0.5: the model is optimistic on average, so a narrow interval may lie above the
# point estimate (Report.step_interval says so).
@pytest.mark.parametrize("level", [0.8, 0.9, 0.95])
def test_intervals_contain_the_point_estimate(report, level):
    lo, hi = report.step_interval(level)
    assert lo <= report.time.step <= hi
    rate_lo, rate_hi = report.tokens_per_s_interval(level)
    assert rate_lo <= report.time.tokens_per_s <= rate_hi
    days = float(report.training(1e12)["days"])
    days_lo, days_hi = report.training_interval(1e12, level)
    assert days_lo <= days <= days_hi
    assert days_lo / days == pytest.approx(lo / report.time.step)
    assert rate_lo * hi == pytest.approx(report.time.tokens_per_s * report.time.step)


def test_intervals_widen_with_level(report):
    levels = [0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]
    steps = [report.step_interval(level) for level in levels]
    for (lo, hi), (next_lo, next_hi) in itertools.pairwise(steps):
        assert next_lo <= lo
        assert hi <= next_hi
    assert steps[-1][1] - steps[-1][0] > steps[0][1] - steps[0][0]
    for by in ("all", "device"):
        quantiles = [intervals.step_ratio_quantiles(level, by) for level in levels]
        for small, large in itertools.pairwise(quantiles):
            assert set(small) == set(large)
            for group, (lo, hi) in small.items():
                assert large[group][0] <= lo <= hi <= large[group][1]


def test_quantiles_by_device():
    by_device = intervals.step_ratio_quantiles(0.8, by="device")
    overall = intervals.step_ratio_quantiles(0.8)
    assert set(overall) == {"all"}
    # Each grouping at its own calibrated level.
    level = intervals.calibrated_level(0.8, by="device")
    everything = [r.log_ratio for r in intervals.residuals()]
    span = [(1 - level) / 2, (1 + level) / 2]
    assert by_device["all"] == pytest.approx(tuple(np.quantile(everything, span)))
    counts: dict[str, int] = {}
    for run in intervals.residuals():
        counts[run.device] = counts.get(run.device, 0) + 1
    assert set(by_device) - {"all"} == {d for d, n in counts.items()
                                        if n >= intervals.MIN_DEVICE_RUNS}
    device = next(d for d in by_device if d != "all")
    mine = [r.log_ratio for r in intervals.residuals() if r.device == device]
    assert by_device[device] == pytest.approx(tuple(np.quantile(mine, span)))
    # A device with too few runs, or one the suite lacks, falls back to all runs.
    few = next(d for d, n in counts.items() if n < intervals.MIN_DEVICE_RUNS)
    factors = tuple(math.exp(q) for q in by_device["all"])
    assert intervals.step_factors(0.8, device=few, by="device") == pytest.approx(factors)
    assert intervals.step_factors(0.8, device="my-gpu", by="device") == pytest.approx(factors)


def _left_out_coverage(runs, level):
    inside = 0
    for source in {r.source for r in runs}:
        lo, hi = np.quantile([r.log_ratio for r in runs if r.source != source],
                             [(1 - level) / 2, (1 + level) / 2])
        inside += sum(lo <= r.log_ratio <= hi for r in runs if r.source == source)
    return inside / len(runs)


@pytest.mark.parametrize("level", [0.5, 0.8, 0.9])
def test_intervals_cover_a_held_out_source_at_their_stated_level(level):
    # Nested: each source predicted from the others at a level chosen without it.
    assert intervals.held_out_coverage(level)["pooled"].fraction >= level
    assert intervals.calibrated_level(level) >= level


def test_held_out_coverage():
    coverage = intervals.held_out_coverage(0.8)
    print()
    print(intervals.coverage_table(0.8))
    sources = {run.source for run in intervals.residuals()}
    assert set(coverage) == sources | {"pooled"}
    pooled = coverage["pooled"]
    assert pooled.runs == len(intervals.residuals())
    assert pooled.inside == sum(c.inside for s, c in coverage.items() if s != "pooled")
    # Held out by hand for one source: quantiles without its runs, at the level widened
    # without them (the smallest whose leave-one-source-out coverage of the others is 80 %
    # and one binomial standard error more).
    source = "torchtitan"
    level = intervals.calibrated_level(0.8, without=source)
    assert 0.8 <= level < 0.995
    kept = [r for r in intervals.residuals() if r.source != source]
    target = 0.8 + math.sqrt(0.8 * 0.2 / len(kept))
    assert level == 0.8 or _left_out_coverage(kept, level - 0.005) < target
    assert _left_out_coverage(kept, level) >= target
    lo, hi = np.quantile([r.log_ratio for r in kept], [(1 - level) / 2, (1 + level) / 2])
    held = [r.log_ratio for r in intervals.residuals() if r.source == source]
    assert coverage[source].inside == sum(lo <= x <= hi for x in held)
    assert coverage[source].factors == pytest.approx((math.exp(lo), math.exp(hi)))


@pytest.mark.parametrize("level", [0, 1, -0.2, 1.5, float("nan"), "0.8", None, True])
def test_bad_level_refused(report, level):
    for call in (lambda: intervals.step_ratio_quantiles(level),
                 lambda: intervals.held_out_coverage(level),
                 lambda: report.step_interval(level),
                 lambda: report.tokens_per_s_interval(level),
                 lambda: report.training_interval(1e12, level)):
        with pytest.raises(ValueError, match="level="):
            call()


def test_bad_grouping_refused(report):
    with pytest.raises(ValueError, match="by="):
        intervals.step_ratio_quantiles(0.8, by="source")
    with pytest.raises(ValueError, match="by="):
        report.step_interval(0.8, by="gpu")


@pytest.mark.parametrize("by", ["all", "device"])
def test_sweep_columns_equal_report_intervals(by):
    grid = sp.Grid(d_model=[1024, 2048], n_layers=[8, 16], head_dim=128, tp=[1, 2],
                   n_gpus=8, global_batch=64, hardware="A100-SXM4-80GB")
    res = sp.sweep(grid, batch=1, seq_len=2048)
    out = res.with_step_interval(0.8, by=by)
    assert out.columns[-2:] == ("step_time_lo", "step_time_hi")
    assert "step_time_lo" not in res.columns  # a copy
    np.testing.assert_array_equal(out["step_time"], res["step_time"])
    assert np.all(out["step_time_lo"] <= out["step_time_hi"])
    for i in (0, len(res) // 2, len(res) - 1):
        lo, hi = res.report(i).step_interval(0.8, by=by)
        assert out["step_time_lo"][i] == pytest.approx(lo, rel=1e-12)
        assert out["step_time_hi"][i] == pytest.approx(hi, rel=1e-12)
    top = out.top(2)  # the columns follow the rows
    assert top["step_time_lo"][0] == pytest.approx(
        top["step_time"][0] * out["step_time_lo"][0] / out["step_time"][0])
    with pytest.raises(ValueError, match="level="):
        res.with_step_interval(1.0)


def test_readme_quotes_the_held_out_coverage():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### Prediction intervals"):readme.index("## Grids")]
    assert intervals.coverage_table(0.8) in section
    pooled = intervals.held_out_coverage(0.8)["pooled"]
    assert f"{pooled.fraction * 100:.0f} % where 80 % was asked" in section
    low, high = intervals.step_factors(0.8)
    assert f"factors {low:.2f} and {high:.2f}" in section
