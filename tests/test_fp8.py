"""FP8 training (dtype="fp8"): the weight GEMMs of the layers at the FP8 peak, attention's
own GEMMs, the router and the head at the 16-bit peak, everything stored in bf16."""

from __future__ import annotations

import numpy as np
import pytest

import scalingperf as sp

FP8_OPS = {"qkv_proj", "out_proj", "mlp_up", "mlp_gate", "mlp_down", "routed_experts",
           "shared_experts"}


def _times(report: sp.Report) -> dict[str, float]:
    table = report.layers.to_pandas()
    return dict(zip(table["op"], table["time_forward"], strict=True))


@pytest.mark.parametrize("preset", ["llama-3-70b", "mixtral-8x7b"])
def test_weight_gemms_run_at_the_fp8_peak_and_attention_at_bf16(preset):
    arch = sp.Architecture.preset(preset)
    options = dict(batch=4, seq_len=8192, tp=8, hardware="H100-SXM")
    bf16 = sp.estimate(arch, dtype="bf16", **options)
    fp8 = sp.estimate(arch, dtype="fp8", **options)
    device = sp.hardware()["H100-SXM"]
    ratio = device.peak_flops["bf16"] / device.peak_flops["fp8"]
    before, after = _times(bf16), _times(fp8)
    for op, seconds in before.items():
        if op in FP8_OPS:
            # Faster by the ratio of the peaks at most: a small GEMM may hit its memory
            # traffic's floor first.
            assert seconds * ratio * (1 - 1e-12) <= after[op] <= seconds, op
        else:
            assert after[op] == seconds, op
    # The FFN's GEMMs are compute-bound at this size: exactly the ratio of the peaks.
    big = "mlp_up" if "mlp_up" in before else "routed_experts"
    assert after[big] == pytest.approx(before[big] * ratio, rel=1e-12)
    assert fp8.time.step < bf16.time.step
    # Stored in bf16 either way: the same memory, the same FLOPs.
    assert fp8.memory.per_gpu == bf16.memory.per_gpu
    assert fp8.flops.model == bf16.flops.model
    # MFU against the FP8 peak, the format the weight GEMMs run in.
    assert fp8.mfu == pytest.approx(bf16.mfu * bf16.time.step / fp8.time.step * ratio)


def test_fp8_needs_a_device_with_an_fp8_peak():
    arch = sp.Architecture.preset("llama-2-7b")
    with pytest.raises(ValueError, match="dtype='fp8' is invalid: this hardware has no peak"):
        sp.estimate(arch, batch=1, seq_len=4096, dtype="fp8", hardware="A100-SXM4-80GB")


def test_a_sweep_in_fp8_equals_its_estimates():
    grid = sp.Grid(d_model=[2048, 4096], n_layers=[16], head_dim=128, tp=[1, 2],
                   dtype="fp8", seq_len=4096, batch=2)
    result = sp.sweep(grid)
    assert len(result) == 4
    for i in range(len(result)):
        report = result.report(i)
        assert report.time.step == result["step_time"][i]
    bf16 = sp.sweep(grid.replace(dtype="bf16"))
    assert np.all(result["step_time"] < bf16["step_time"])


def test_mxfp8_runs_at_the_fp8_rate_where_the_tensor_cores_take_it():
    arch = sp.Architecture.preset("llama-3-70b")
    options = dict(batch=1, seq_len=8192, tp=8, hardware="B200")
    fp8 = sp.estimate(arch, dtype="fp8", **options)
    mx = sp.estimate(arch, dtype="mxfp8", **options)
    assert mx.time.step == fp8.time.step
    assert mx.memory.per_gpu == fp8.memory.per_gpu
    # Hopper has no block-scaled MMA: refused, not silently run as FP8.
    with pytest.raises(ValueError, match="dtype='mxfp8' is invalid"):
        sp.estimate(arch, dtype="mxfp8", batch=1, seq_len=8192, tp=8, hardware="H100-SXM")
