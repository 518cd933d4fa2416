"""Checkpointing every n-th layer (``recompute_every=n``) against a hand count.

torchtitan's ``selective_ac_option = "n"`` wraps a device's transformer blocks counted from
1 and checkpoints block k when k % n == 0 (torchtitan ``_apply_ac_to_transformer_block``):
floor(layers / n) layers of each pipeline device keep only their input (the 2sbh
checkpoint of Korthikanti et al. 2022 §4.3) and redo their forward in backward; the others
save everything. n = 1 is full recomputation.
"""

from __future__ import annotations

import math

import pytest
from boundary import result_or_field_error
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp

LLAMA = sp.Architecture.preset("llama-2-7b")  # 32 layers
LAYER_SECTIONS = ("attention", "mlp", "moe")


def _layers_total(report: sp.Report, column: str) -> float:
    """A per-instance column of the op table summed over all the layers."""
    rows = report.layers.to_dict()
    return sum(value * count
               for section, value, count in zip(rows["section"], rows[column], rows["count"],
                                                strict=True)
               if section in LAYER_SECTIONS)


@pytest.mark.parametrize("options", [dict(), dict(tp=2, sequence_parallel=True),
                                     dict(pp=4, microbatches=8), dict(cp=2, dp=2)])
def test_every_layer_is_full_recomputation(options):
    every = sp.estimate(LLAMA, 2, 4096, recompute_every=1, **options)
    full = sp.estimate(LLAMA, 2, 4096, recompute="full", **options)
    assert every.time.step == pytest.approx(full.time.step, rel=1e-12)
    assert every.time.recompute == pytest.approx(full.time.recompute, rel=1e-12)
    assert every.memory.per_gpu == pytest.approx(full.memory.per_gpu, rel=1e-12)
    assert every.memory.activations == pytest.approx(full.memory.activations, rel=1e-12)
    assert every.flops.hardware == pytest.approx(full.flops.hardware, rel=1e-12)
    assert every.hfu == pytest.approx(full.hfu, rel=1e-12)


def test_every_fourth_layer_hand_count():
    """32 layers, n = 4: layers 4, 8, ..., 32 (8 of them) keep 2 s b h bytes and are redone."""
    batch, seq_len = 2, 4096
    none = sp.estimate(LLAMA, batch, seq_len)
    every = sp.estimate(LLAMA, batch, seq_len, recompute_every=4)
    checkpoint = 2 * batch * seq_len * LLAMA.d_model
    per_layer = none.memory.activations_per_layer
    assert every.memory.activations == pytest.approx(
        none.memory.activations - 8 * (per_layer - checkpoint), rel=1e-12)
    assert every.time.recompute == pytest.approx(
        8 / 32 * _layers_total(none, "time_forward"), rel=1e-12)
    assert every.flops.recompute == pytest.approx(
        8 / 32 * _layers_total(none, "flops_forward"), rel=1e-12)
    assert none.time.step < every.time.step < sp.estimate(
        LLAMA, batch, seq_len, recompute="full").time.step


def test_each_pipeline_device_counts_its_own_layers():
    """pp = 4: 8 layers per device, n = 3 checkpoints blocks 3 and 6 of each: 8 of 32."""
    pipelined = sp.estimate(LLAMA, 1, 4096, pp=4, recompute_every=3)
    none = sp.estimate(LLAMA, 1, 4096, pp=4)
    assert pipelined.flops.recompute == pytest.approx(
        8 / 32 * _layers_total(none, "flops_forward"), rel=1e-12)
    assert pipelined.time.recompute == pytest.approx(
        2 / 32 * _layers_total(none, "time_forward"), rel=1e-12)
    # n above a device's layers checkpoints none of them.
    beyond = sp.estimate(LLAMA, 1, 4096, pp=4, recompute_every=9)
    assert beyond.time.step == pytest.approx(none.time.step, rel=1e-12)
    assert beyond.memory.per_gpu == pytest.approx(none.memory.per_gpu, rel=1e-12)


@pytest.mark.parametrize(("options", "message"), [
    (dict(recompute_every=0), r"^recompute_every=0 is invalid: it must be >= 1"),
    (dict(recompute_every=-3), r"^recompute_every=-3 is invalid"),
    (dict(recompute_every=2, recompute="full"), r"^recompute_every=2 is invalid: .*'none'"),
    (dict(recompute_every=2**21), r"^recompute_every=2097152 is invalid: allowed range"),
    (dict(recompute_every=2.5), r"^recompute_every="),
    (dict(recompute_every="2"), r"^recompute_every="),
])
def test_bad_recompute_every_names_the_field(options, message):
    with pytest.raises(ValueError, match=message):
        sp.estimate(LLAMA, 1, 1024, **options)


@settings(max_examples=50, deadline=None)
@given(every=st.integers(-1, 40), pp=st.sampled_from([1, 2, 4]))
def test_any_recompute_every_is_a_report_or_names_the_field(every, pp):
    report = result_or_field_error(lambda: sp.estimate(LLAMA, 1, 512, pp=pp,
                                                       recompute_every=every))
    if report is None:
        assert every < 1
        return
    assert math.isfinite(report.time.step)
    assert 0 <= report.flops.recompute <= report.flops.forward


def test_a_sweep_with_recompute_every_gives_estimates_step_time():
    spec = dict(d_model=1024, n_layers=[8, 12], n_heads=16, d_ff=4096, vocab_size=32000)
    result = sp.sweep(sp.Grid(**spec, pp=[1, 2], recompute_every=3, seq_len=2048, batch=1))
    assert len(result) == 4
    for i in range(len(result)):
        row = result.row(i)
        report = sp.estimate(result.architecture(i), 1, 2048, pp=row["pp"], recompute_every=3)
        assert row["step_time"] == pytest.approx(report.time.step, rel=1e-12)
        assert row["hfu"] == pytest.approx(report.hfu, rel=1e-12)
        assert result.report(i).time.step == pytest.approx(report.time.step, rel=1e-12)
