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
    assert (h100.matmul, h100.attention) == (0.693, 0.52)
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
