"""calibrate(): efficiencies fitted to measured step times.

The "measured" runs are made with estimate() and a known Efficiency, on layouts chosen so
that every fitted field matters to some runs and not in the same proportion in all of them
(tensor-parallel runs pin network apart from dp_overlap, long contexts pin attention apart
from matmul)."""

from __future__ import annotations

import csv
import math
import re
from typing import Any

import numpy as np
import pytest

import scalingperf as sp
from scalingperf.calibrate import Calibration

DEVICE = "H100-SXM"
FIELDS = ("matmul", "attention", "network", "dp_overlap")
#: The device's attention curves (cuDNN's published shape against sequence length and
#: head dimension) and its GEMMs' falloff at short reductions stay as they are:
#: calibration fits the levels.
CURVE = sp.hardware()[DEVICE].default_efficiency.attention_curve
HEAD_CURVE = sp.hardware()[DEVICE].default_efficiency.attention_head_curve
GEMM_K0 = sp.hardware()[DEVICE].default_efficiency.gemm_k0
TRUE = sp.Efficiency(matmul=0.55, attention=0.4, network=0.6, dp_overlap=0.6,
                     attention_curve=CURVE, attention_head_curve=HEAD_CURVE, gemm_k0=GEMM_K0)

#: (preset, batch, seq_len, layout)
LAYOUTS: list[tuple[str, int, int, dict[str, Any]]] = [
    ("gpt3-xl", 1, 2048, {}),
    ("gpt3-small", 4, 1024, {}),
    ("llama-2-7b", 1, 4096, dict(tp=2)),
    ("llama-3-8b", 1, 32768, dict(tp=8)),
    ("llama-3-8b", 1, 65536, dict(tp=8)),
    ("llama-2-7b", 1, 16384, dict(tp=2)),
    ("mistral-7b", 1, 32768, dict(tp=4, dp=8)),
    ("gpt3-xl", 1, 2048, dict(tp=8)),
    ("gpt3-2.7b", 1, 2048, dict(tp=16)),
    ("gpt3-6.7b", 2, 2048, dict(tp=8, pp=4, microbatches=8)),
    ("gpt3-xl", 4, 2048, dict(tp=2, dp=8)),
    ("gpt3-2.7b", 1, 2048, dict(dp=64)),
    ("gpt3-6.7b", 1, 2048, dict(tp=2, dp=64, zero=1)),
    ("gpt3-xl", 2, 2048, dict(dp=128)),
    ("gpt2-xl", 2, 1024, dict(dp=8, zero=2)),
    ("gpt3-medium", 8, 1024, dict(tp=2, dp=32)),
    ("llama-2-13b", 1, 4096, dict(tp=8, pp=2, dp=8, microbatches=8)),
    ("llama-2-7b", 1, 4096, dict(tp=8, dp=4, sequence_parallel=True, recompute="selective")),
    ("gpt3-6.7b", 1, 2048, dict(tp=8, pp=4, dp=2, microbatches=16, recompute="full")),
    ("gpt3-small", 16, 1024, dict(dp=64)),
    # Gradient reductions longer than the micro-batch they hide behind: what is exposed
    # moves with dp_overlap times that micro-batch's compute, not with the network alone.
    ("gpt3-2.7b", 1, 2048, dict(tp=2, dp=16)),
    ("llama-2-13b", 4, 2048, dict(tp=8, dp=16)),
    ("gpt3-xl", 1, 2048, dict(tp=2, dp=64)),
    ("gpt3-6.7b", 4, 2048, dict(tp=8, dp=64)),
]


def measured(layouts: list[tuple[str, int, int, dict[str, Any]]] = LAYOUTS,
             efficiency: sp.Efficiency = TRUE, noise: float = 0.0,
             rng: np.random.Generator | None = None, device: str = DEVICE
             ) -> list[dict[str, Any]]:
    """Runs as a user would log them, timed by the model with ``efficiency``."""
    runs = []
    for model, batch, seq_len, layout in layouts:
        step = sp.estimate(sp.Architecture.preset(model), batch, seq_len, hardware=device,
                           efficiency=efficiency, **layout).time.step
        if noise:
            assert rng is not None
            step *= 1 + noise * rng.standard_normal()
        runs.append(dict(model=model, batch=batch, seq_len=seq_len, step_time=step, **layout))
    return runs


def test_exact_runs_recover_the_efficiency():
    cal = sp.calibrate(measured(), hardware=DEVICE)
    assert isinstance(cal, Calibration)
    for name in FIELDS:
        assert getattr(cal.efficiency, name) == pytest.approx(getattr(TRUE, name), abs=1e-3)
        assert cal.fitted[name] == pytest.approx(getattr(TRUE, name), abs=1e-3)
    assert not cal.undetermined
    assert cal.efficiency.memory == sp.hardware()[DEVICE].default_efficiency.memory  # not fitted
    assert cal.max_abs_error < 1e-6
    assert cal.mean_abs_error_before > 0.05  # the device's default was off
    assert len(cal.runs) == len(LAYOUTS)


def test_noisy_runs_recover_the_efficiency_within_a_few_percent():
    rng = np.random.default_rng(7)
    # Each layout measured three times, 2 % noise (one standard deviation) on each.
    runs = [run for _ in range(3) for run in measured(noise=0.02, rng=rng)]
    cal = sp.calibrate(runs, hardware=DEVICE)
    for name in FIELDS:
        fitted, true = getattr(cal.efficiency, name), getattr(TRUE, name)
        assert fitted == pytest.approx(true, rel=0.05), name
        # The reported standard error is of the right size.
        assert 0 < cal.uncertainty[name] < 0.05 * true
        assert abs(fitted - true) < 4 * cal.uncertainty[name], name
    assert 0.005 < cal.mean_abs_error < 0.03


def test_calibrated_hardware_and_efficiency_reproduce_the_runs():
    cal = sp.calibrate(measured(), hardware=DEVICE)
    assert cal.hardware.name == DEVICE
    assert cal.hardware.peak_flops == sp.hardware()[DEVICE].peak_flops
    for name in (*FIELDS, "memory", "tile"):
        assert getattr(cal.hardware.default_efficiency, name) == getattr(cal.efficiency, name)
    model, batch, seq_len, layout = LAYOUTS[10]
    arch = sp.Architecture.preset(model)
    by_device = sp.estimate(arch, batch, seq_len, hardware=cal.hardware, **layout).time.step
    by_efficiency = sp.estimate(arch, batch, seq_len, hardware=DEVICE,
                                efficiency=cal.efficiency, **layout).time.step
    assert by_device == by_efficiency == pytest.approx(cal.runs[10].measured, rel=1e-6)


def test_report_lists_runs_before_and_after():
    cal = sp.calibrate(measured(), hardware=DEVICE)
    run = cal.runs[0]
    assert run.label == "run 0"
    assert run.error_before == pytest.approx(run.predicted_before / run.measured - 1)
    assert cal.max_abs_error_before == max(abs(r.error_before) for r in cal.runs)
    text = str(cal)
    assert text.startswith(f"Calibration of {DEVICE} on {len(LAYOUTS)} runs")
    for name in FIELDS:
        assert name in text
    assert "run 19" in text
    assert "fitted: matmul=0.55" in repr(cal)
    frame = cal.to_pandas()
    assert list(frame.columns) == ["run", "measured", "predicted_before", "error_before",
                                   "predicted", "error"]


def test_fields_no_run_depends_on_are_undetermined():
    # No data parallelism: nothing hides or exposes a gradient reduction.
    layouts = [entry for entry in LAYOUTS if entry[3].get("dp", 1) == 1]
    cal = sp.calibrate(measured(layouts), hardware=DEVICE)
    assert set(cal.undetermined) == {"dp_overlap"}
    assert "no run's step time depends on it" in cal.undetermined["dp_overlap"]
    assert cal.efficiency.dp_overlap == sp.hardware()[DEVICE].default_efficiency.dp_overlap
    assert "dp_overlap" not in cal.fitted
    for name in ("matmul", "attention", "network"):
        assert cal.fitted[name] == pytest.approx(getattr(TRUE, name), abs=1e-3)
    assert "undetermined" in str(cal)


def test_fields_that_move_together_are_undetermined():
    # One shape, one context, no tensor parallelism: attention is always the same share of
    # the GEMM time, and the network only carries the gradient reduction, each shorter than
    # the micro-batch it hides behind, so attention moves with matmul and dp_overlap with
    # network.
    layouts = [("gpt3-xl", b, 2048, dict(dp=d))
               for b, d in [(1, 1), (2, 2), (4, 8), (8, 16), (8, 64), (16, 32)]]
    cal = sp.calibrate(measured(layouts), hardware=DEVICE)
    assert set(cal.undetermined) == {"attention", "dp_overlap"}
    assert "cannot tell it apart from matmul" in cal.undetermined["attention"]
    assert re.search(r"cannot tell it apart from (matmul and )?(attention and )?network$",
                     cal.undetermined["dp_overlap"])
    default = sp.hardware()[DEVICE].default_efficiency
    assert cal.efficiency.attention == default.attention  # kept, not made up
    assert cal.max_abs_error < 0.01  # what is determined still reproduces the runs


def test_attention_follows_matmul_on_a_device_without_its_own():
    # MI300X has no attention measurement: its attention is its matmul, and stays so.
    assert "attention" not in (sp.hardware()["MI300X"].efficiency or {})
    runs = measured(efficiency=sp.Efficiency(matmul=0.5), device="MI300X")
    cal = sp.calibrate(runs, hardware="MI300X", fit=["matmul"])
    assert cal.efficiency.matmul == pytest.approx(0.5, abs=1e-3)
    assert cal.efficiency.attention == cal.efficiency.matmul


def test_csv_round_trip(tmp_path):
    runs = measured()
    names = ["model", "batch", "seq_len", "tp", "pp", "dp", "zero", "microbatches",
             "recompute", "sequence_parallel", "step_time", "name"]
    path = tmp_path / "runs.csv"
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=names)
        writer.writeheader()
        for i, run in enumerate(runs):
            writer.writerow({**run, "step_time": repr(run["step_time"]), "name": f"r{i}"})
    from_csv = sp.calibrate(path, hardware=DEVICE)
    from_list = sp.calibrate(runs, hardware=DEVICE)
    for name in FIELDS:
        assert getattr(from_csv.efficiency, name) == pytest.approx(
            getattr(from_list.efficiency, name), rel=1e-9)
    assert from_csv.runs[3].label == "run 3 (r3)"
    assert sp.calibrate(str(path), hardware=DEVICE).runs == from_csv.runs


def test_dataframe_and_explicit_architecture_fields():
    pd = pytest.importorskip("pandas")
    runs = measured()
    arch = sp.Architecture.preset("gpt3-xl")
    explicit = [{k: v for k, v in run.items() if k != "model"}
                | dict(d_model=arch.d_model, n_layers=arch.n_layers, n_heads=arch.n_heads,
                       max_position_embeddings=2048, qkv_bias=True, out_bias=True,
                       mlp_bias=True, tie_embeddings=True)
                for run in runs if run["model"] == "gpt3-xl"]
    others = [run for run in runs if run["model"] != "gpt3-xl"]
    frame = pd.DataFrame(explicit + others)  # NaN where a run leaves a field out
    cal = sp.calibrate(frame, hardware=DEVICE)
    for name in FIELDS:
        assert cal.fitted[name] == pytest.approx(getattr(TRUE, name), abs=1e-3)


def test_too_few_runs():
    with pytest.raises(ValueError, match=r"4 runs cannot fit 4 fields .* at least 5"):
        sp.calibrate(measured()[:4], hardware=DEVICE)
    sp.calibrate(measured()[:2], hardware=DEVICE, fit=["matmul"])  # one field: two runs do


@pytest.mark.parametrize(("step_time", "message"), [
    (None, "run 2 is invalid: step_time .* is missing"),
    (0.0, r"run 2 is invalid: step_time=0.0 must be > 0"),
    (-1.5, r"run 2 is invalid: step_time=-1.5 must be > 0"),
    (math.nan, "run 2 is invalid: step_time=nan .* finite"),
    (math.inf, "run 2 is invalid: step_time=inf .* finite"),
    ("fast", "run 2 is invalid: step_time='fast' .* number"),
])
def test_bad_step_time(step_time, message):
    runs = measured()
    runs[2]["step_time"] = step_time
    with pytest.raises(ValueError, match=message):
        sp.calibrate(runs, hardware=DEVICE)


def test_unknown_fit_field():
    with pytest.raises(ValueError, match="'speed' is not a fittable Efficiency field"):
        sp.calibrate(measured(), hardware=DEVICE, fit=("matmul", "speed"))
    with pytest.raises(ValueError, match=r"'tile' is not a fittable .* integer"):
        sp.calibrate(measured(), hardware=DEVICE, fit=("tile",))


def test_run_the_model_cannot_express_is_named():
    runs = measured()
    runs[5] |= dict(tp=3, name="odd-tp")  # 3 divides no head count
    with pytest.raises(ValueError, match=r"run 5 \(odd-tp\) is invalid: the model cannot "
                                         r"express it: tp=3 is invalid"):
        sp.calibrate(runs, hardware=DEVICE)
    runs = measured()
    runs[1]["model"] = "gpt-5"
    with pytest.raises(ValueError, match=r"run 1 is invalid: .*preset='gpt-5'"):
        sp.calibrate(runs, hardware=DEVICE)
    runs = measured()
    runs[0]["seqlen"] = 2048
    with pytest.raises(ValueError, match="run 0 is invalid: unknown fields 'seqlen'"):
        sp.calibrate(runs, hardware=DEVICE)
    runs = measured()
    runs[0]["hardware"] = "A100-SXM4-80GB"
    with pytest.raises(ValueError, match=r"run 0 is invalid: hardware=.* not the device"):
        sp.calibrate(runs, hardware=DEVICE)


def test_inconsistent_runs_are_refused_listing_the_worst():
    runs = measured()
    runs[4]["step_time"] *= 5  # a step time from another cluster, or a typo
    with pytest.raises(ValueError, match=r"inconsistent with one set of efficiencies.*"
                                         r"worst: run 4: predicted .* measured"):
        sp.calibrate(runs, hardware=DEVICE)


def test_the_tensor_parallel_overlap_is_recovered_too():
    truth = sp.Efficiency(matmul=0.55, attention=0.4, network=0.6, dp_overlap=0.3,
                          tp_overlap=0.6, attention_curve=CURVE, attention_head_curve=HEAD_CURVE,
                          gemm_k0=GEMM_K0)
    fields = ("matmul", "attention", "network", "dp_overlap", "tp_overlap")
    cal = sp.calibrate(measured(efficiency=truth), hardware=DEVICE, fit=fields)
    for name in fields:
        assert getattr(cal.efficiency, name) == pytest.approx(getattr(truth, name), abs=1e-3)
