"""Uneven pipeline stages (``layers_per_stage=``) against a hand count.

Llama 3 405B trains 126 layers on 16 pipeline stages with one layer fewer on the first and
the last, which hold the embedding and the output head (Llama 3 paper, §3.3.2); Megatron-
Core's account_for_embedding_in_pipeline_split / account_for_loss_in_pipeline_split count
the embedding and the loss as a layer each and split the rest evenly.
"""

from __future__ import annotations

import math

import pytest
from boundary import result_or_field_error
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp

LLAMA_405B = sp.Architecture(d_model=16384, n_layers=126, n_heads=128, n_kv_heads=8,
                             d_ff=53248, vocab_size=128256, ffn="swiglu", position="rotary",
                             norm="rmsnorm", max_position_embeddings=131072)
QWEN3_235B = sp.Architecture(d_model=4096, n_layers=94, n_heads=64, n_kv_heads=4, head_dim=128,
                             d_ff=12288, ffn="swiglu", position="rotary", norm="rmsnorm",
                             vocab_size=151936, max_position_embeddings=40960, n_experts=128,
                             top_k=8, d_ff_expert=1536)
LLAMA_3_STAGES = [7] + [8] * 14 + [7]
LAYER_SECTIONS = ("attention", "mlp", "moe")


def _per_layer(report: sp.Report, column: str) -> float:
    """One layer's share of a per-instance column of the op table (x count / n_layers)."""
    rows = report.layers.to_dict()
    layers = report.architecture.n_layers
    return sum(value * count / layers
               for section, value, count in zip(rows["section"], rows[column], rows["count"],
                                                strict=True)
               if section in LAYER_SECTIONS)


def test_llama3_405b_on_16_stages_hand_count():
    """The devices between hold 8 layers, the ends 7 and the embedding or head: the slowest
    device is a middle one, and the second device (15 micro-batches in flight, 8 layers) is
    the busiest."""
    r = sp.estimate(LLAMA_405B, 1, 8192, tp=8, pp=16, microbatches=16,
                    layers_per_stage=LLAMA_3_STAGES)
    assert r.time.forward == pytest.approx(8 * _per_layer(r, "time_forward"), rel=1e-12)
    assert r.time.bubble == pytest.approx(15 * r.time.stage, rel=1e-12)
    assert r.memory.pipeline_stage == 1
    assert r.memory.params == pytest.approx(8 * _per_layer(r, "params_per_device"), rel=1e-12)
    assert r.memory.activations_in_flight == pytest.approx(
        15 * 8 * r.memory.activations_per_layer, rel=1e-12)
    assert r.memory.logits == 0  # not on the last stage
    # Even stages of the same depth are impossible; an even split of 128 layers is slower.
    with pytest.raises(ValueError, match=r"^pp=16 is invalid: it must divide n_layers=126"):
        sp.estimate(LLAMA_405B, 1, 8192, tp=8, pp=16)


def test_the_megatron_rule_is_its_list():
    """n_layers + embedding + loss over pp x v virtual stages: 128 / 64 = 2 layers each, so
    [2 x 8 - 1, 16 x 6, 2 x 8 - 1] per device (Megatron-Bridge's Llama 3.1 405B recipe)."""
    options = dict(tp=8, pp=8, interleave=8, microbatches=32, dtype="fp8")
    rule = sp.estimate(LLAMA_405B, 1, 8192, layers_per_stage="embedding+loss", **options)
    listed = sp.estimate(LLAMA_405B, 1, 8192, layers_per_stage=[15] + [16] * 6 + [15],
                         **options)
    assert rule.time.step == listed.time.step
    assert rule.memory.per_gpu == listed.memory.per_gpu
    # Qwen3-235B: 94 + 2 = 96 over 8 x 4 virtual stages of 3: [11, 12 x 6, 11].
    qwen = dict(tp=4, pp=8, interleave=4, ep=8, dp=8, sequence_parallel=True)
    assert sp.estimate(QWEN3_235B, 1, 4096, layers_per_stage="embedding+loss",
                       **qwen).time.step == sp.estimate(
        QWEN3_235B, 1, 4096, layers_per_stage=[11] + [12] * 6 + [11], **qwen).time.step
    # The embedding alone: 94 + 1 = 95 does not split over 32 virtual stages.
    with pytest.raises(ValueError, match=r"^pp \* interleave=32 is invalid: .*: 95$"):
        sp.estimate(QWEN3_235B, 1, 4096, layers_per_stage="embedding", **qwen)


def test_an_even_list_is_the_even_split():
    llama = sp.Architecture.preset("llama-2-7b")
    even = sp.estimate(llama, 2, 4096, pp=4, microbatches=8)
    listed = sp.estimate(llama, 2, 4096, pp=4, microbatches=8, layers_per_stage=[8] * 4)
    assert listed.time.step == pytest.approx(even.time.step, rel=1e-12)
    assert listed.memory.per_gpu == pytest.approx(even.memory.per_gpu, rel=1e-12)


def test_moving_a_layer_to_the_slowest_device_slows_the_step():
    llama = sp.Architecture.preset("llama-2-7b")
    balanced = sp.estimate(llama, 1, 4096, pp=4, layers_per_stage=[7, 9, 9, 7])
    lopsided = sp.estimate(llama, 1, 4096, pp=4, layers_per_stage=[5, 9, 9, 9])
    assert lopsided.time.step > balanced.time.step
    assert lopsided.memory.per_gpu >= balanced.memory.per_gpu


@pytest.mark.parametrize(("value", "options", "message"), [
    ([8, 8, 8], dict(pp=4), r"^layers_per_stage=\[8, 8, 8\] is invalid: .*pp=4"),
    ([7, 9, 8, 8], dict(pp=4), r"^layers_per_stage=.*same number"),
    ([8, 8, 8, 9], dict(pp=4), r"^layers_per_stage=33 is invalid: .*add up to n_layers"),
    ([20, 20], dict(pp=2), r"^layers_per_stage=20 is invalid: .*sum to at most n_layers=32"),
    ([0, 0, 0, 0, 2], dict(pp=5), r"^layers_per_stage=2 is invalid: .*add up to n_layers.*=32"),
    ([-1, 33], dict(pp=2), r"^layers_per_stage=\[-1, 33\] is invalid: counts must be >= 0"),
    ([32], dict(pp=1), r"^layers_per_stage=\[32\] is invalid: .*pp >= 2"),
    ("loss+embedding", dict(pp=4), r"^layers_per_stage='loss\+embedding' is invalid"),
    (b"ab", dict(pp=2), r"^layers_per_stage=b'ab' is invalid"),
    (8, dict(pp=4), r"^layers_per_stage=8 is invalid"),
    ("embedding", dict(pp=4), r"^pp \* interleave=4 is invalid"),
])
def test_bad_layers_per_stage_names_the_field(value, options, message):
    llama = sp.Architecture.preset("llama-2-7b")
    with pytest.raises(ValueError, match=message):
        sp.estimate(llama, 1, 1024, layers_per_stage=value, **options)


@settings(max_examples=60, deadline=None)
@given(layers=st.lists(st.integers(-2, 40), min_size=1, max_size=6),
       pp=st.integers(1, 6), microbatches=st.integers(1, 12))
def test_any_list_is_a_report_or_names_the_field(layers, pp, microbatches):
    llama = sp.Architecture.preset("llama-2-7b")
    report = result_or_field_error(lambda: sp.estimate(
        llama, 1, 256, pp=pp, microbatches=microbatches, layers_per_stage=layers))
    if report is None:
        return
    assert len(layers) == pp
    assert sum(layers) == 32
    assert min(layers) >= 0
    assert math.isfinite(report.time.step)
    assert report.memory.per_gpu > 0
    assert report.time.bubble == pytest.approx((pp - 1) * report.time.stage, rel=1e-12)


def test_a_sweep_with_the_rule_gives_estimates_step_time():
    spec = dict(d_model=1024, n_layers=30, n_heads=16, d_ff=4096, vocab_size=32000)
    grid = sp.Grid(**spec, pp=[2, 4, 8, 5], n_gpus=8 * 5, seq_len=2048, batch=1,
                   layers_per_stage="embedding+loss", global_batch=80)
    result = sp.sweep(grid)
    assert sorted(result.to_pandas()["pp"]) == [2, 4, 8]  # 32 does not split over 5
    for i in range(len(result)):
        row = result.row(i)
        report = sp.estimate(result.architecture(i), 1, 2048, pp=row["pp"], dp=row["dp"],
                             microbatches=row["microbatches"], layers_per_stage="embedding+loss")
        assert row["step_time"] == pytest.approx(report.time.step, rel=1e-12)
        assert result.report(i).time.step == pytest.approx(report.time.step, rel=1e-12)
    with pytest.raises(ValueError, match=r"^layers_per_stage=\[15, 15\] is invalid: .*fixed pp"):
        sp.Grid(**spec, pp=[2, 4], layers_per_stage=[15, 15])
    fixed = sp.sweep(sp.Grid(**spec, pp=2, layers_per_stage=[14, 16], seq_len=2048, batch=1))
    assert fixed.row(0)["step_time"] == pytest.approx(sp.estimate(
        fixed.architecture(0), 1, 2048, pp=2, layers_per_stage=[14, 16]).time.step, rel=1e-12)
