"""Efficiencies: attention's own rate, and each device's measured fractions of its peaks
as the default (scalingperf/data/devices.json, each with its source)."""

from __future__ import annotations

import numpy as np
import pytest

import scalingperf as sp

ARCH = sp.Architecture.preset("llama-2-7b")


def _times(report: sp.Report) -> dict[str, float]:
    table = report.layers.to_pandas()
    return dict(zip(table["op"], table["time_forward"], strict=True))


def test_attention_efficiency_changes_only_attentions_own_gemms():
    base = sp.Efficiency()
    slow = sp.Efficiency(attention=base.attention / 2)
    fast, halved = (_times(sp.estimate(ARCH, batch=4, seq_len=8192, efficiency=e))
                    for e in (base, slow))
    for op, seconds in fast.items():
        if op in ("attn_scores", "attn_values"):
            assert halved[op] == pytest.approx(2 * seconds, rel=1e-12)  # compute-bound
        else:
            assert halved[op] == seconds


def test_attention_follows_matmul_unless_given():
    assert sp.Efficiency(matmul=0.6).attention == 0.6
    assert sp.Efficiency(matmul=0.6, attention=0.4).attention == 0.4
    with pytest.raises(ValueError, match="attention"):
        sp.Efficiency(attention=0.0)
    with pytest.raises(ValueError, match="attention"):
        sp.Efficiency(attention="x")


def test_each_device_brings_its_measured_efficiency():
    devices = sp.hardware()
    h100 = devices["H100-SXM"].default_efficiency
    a100 = devices["A100-SXM4-80GB"].default_efficiency
    assert (h100.matmul, h100.attention, h100.gemm_k0) == (0.712, 0.52, 360)
    assert a100.gemm_k0 == 0
    assert (a100.matmul, a100.attention) == (0.75, 0.55)
    # Without a measurement, Efficiency()'s defaults.
    assert devices["MI300X"].default_efficiency.matmul == sp.Efficiency().matmul
    report = sp.estimate(ARCH, batch=1, seq_len=4096, hardware="H100-SXM")
    explicit = sp.estimate(ARCH, batch=1, seq_len=4096, hardware="H100-SXM", efficiency=h100)
    assert report.time.step == explicit.time.step
    generic = sp.estimate(ARCH, batch=1, seq_len=4096, hardware="H100-SXM",
                          efficiency=sp.Efficiency())
    assert generic.time.step < report.time.step


def test_a_grid_uses_the_same_default_as_estimate():
    grid = sp.Grid(d_model=[2048, 4096], n_layers=[16], head_dim=128, seq_len=4096, batch=1,
                   hardware="H100-SXM")
    result = sp.sweep(grid)
    steps = [result.report(i).time.step for i in range(len(result))]
    assert np.array_equal(result["step_time"], steps)


def test_a_device_dict_may_carry_its_efficiency():
    entry = {**{k: v for k, v in vars(sp.hardware()["H100-SXM"]).items()
                if k in ("peak_flops", "memory", "memory_bandwidth", "intra_node_bandwidth",
                         "inter_node_bandwidth", "devices_per_node")},
             "efficiency": {"matmul": 0.5, "source": "our cluster"}}
    device = sp.Hardware.from_dict(entry, name="ours")
    assert device.default_efficiency.matmul == 0.5
    with pytest.raises(ValueError, match="efficiency="):
        sp.Hardware.from_dict({**entry, "efficiency": {"speed": 1}})


def test_tp_overlap_hides_that_share_of_the_tensor_parallel_collectives():
    arch = sp.Architecture.preset("llama-3-70b")
    options = dict(batch=1, seq_len=8192, tp=8, dp=8)
    exposed = sp.estimate(arch, **options)
    half = sp.estimate(arch, tp_overlap=0.5, **options)
    hidden = sp.estimate(arch, tp_overlap=True, **options)
    assert half.time.tp_communication == pytest.approx(exposed.time.tp_communication / 2)
    assert hidden.time.tp_communication == 0
    assert hidden.time.step < half.time.step < exposed.time.step
    assert half.time.forward == exposed.time.forward
    # The estimate's own overrides, on the device's default efficiency.
    device = sp.hardware()["H100-SXM"].default_efficiency
    assert half.hardware.default_efficiency.matmul == device.matmul
    explicit = sp.estimate(arch, efficiency=sp.Efficiency(
        matmul=device.matmul, attention=device.attention, tp_overlap=0.5,
        attention_curve=device.attention_curve, gemm_k0=device.gemm_k0), **options)
    assert explicit.time.step == half.time.step
    assert sp.estimate(arch, efficiency=device.replace(tp_overlap=0.5),
                       **options).time.step == half.time.step
    with pytest.raises(ValueError, match=r"tp_overlap=1.5 is invalid"):
        sp.estimate(arch, tp_overlap=1.5, **options)
    with pytest.raises(ValueError, match="dp_overlap"):
        sp.estimate(arch, dp_overlap="most", **options)


def test_pruned_reductions_stay_exact_with_overlaps():
    # The step bound a top-k prunes with must use the same exposed share as the rows.
    grid = sp.Grid(d_model=range(2048, 8193, 1024), n_layers=[16, 32], head_dim=128,
                   tp=[1, 2, 4, 8], pp=[1, 2], n_gpus=64, global_batch=256, seq_len=4096,
                   batch=1, efficiency=sp.Efficiency(tp_overlap=0.7, dp_overlap=0.5))
    table = sp.sweep(grid)
    for by in ("-mfu", "step_time"):
        assert np.array_equal(sp.sweep(grid, top=7, by=by).index, table.top(7, by=by).index)
