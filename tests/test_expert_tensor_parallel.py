"""Expert-tensor parallelism (``etp=``, Megatron-Core's expert_tensor_parallel_size) against
a hand count: each expert's matrices split over etp ranks, the expert layers regrouping a
stage's tp x cp x dp ranks into etp x ep x expert-data-parallel ones (MoE parallel folding).
"""

from __future__ import annotations

import pytest

import scalingperf as sp

MIXTRAL = sp.Architecture.preset("mixtral-8x7b")  # 32 layers, every one MoE, 8 experts


def test_etp_equal_to_tp_is_the_default():
    options = dict(tp=2, ep=2, dp=2)
    default = sp.estimate(MIXTRAL, 1, 4096, **options)
    same = sp.estimate(MIXTRAL, 1, 4096, etp=2, **options)
    assert same.time.step == default.time.step
    assert same.memory.per_gpu == default.memory.per_gpu


def test_expert_weights_split_over_ep_times_etp():
    r = sp.estimate(MIXTRAL, 1, 4096, tp=4, ep=4, etp=1, dp=1)
    rows = r.layers.to_dict()
    by_op = dict(zip(rows["op"], zip(rows["params"], rows["params_per_device"], strict=True),
                     strict=True))
    params, on_device = by_op["routed_experts"]
    assert on_device == pytest.approx(params / 4, rel=1e-12)  # ep x etp = 4, not ep x tp = 16
    assert r.memory.params == pytest.approx(
        sum(p * c for p, c in zip(rows["params_per_device"], rows["count"], strict=True)),
        rel=1e-12)


def test_etp_1_drops_the_moe_blocks_tensor_parallel_collectives():
    """Every Mixtral layer is MoE: with etp = 1 only the attention blocks' two all-reduces
    per layer remain, (2 L + 1) of (4 L + 1) (the +1: the vocabulary-parallel head)."""
    options = dict(tp=4, ep=4, dp=4)
    default = sp.estimate(MIXTRAL, 1, 4096, **options)
    folded = sp.estimate(MIXTRAL, 1, 4096, etp=1, **options)
    layers = MIXTRAL.n_layers
    assert folded.time.tp_communication == pytest.approx(
        default.time.tp_communication * (2 * layers + 1) / (4 * layers + 1), rel=1e-12)


def test_folding_lets_ep_span_tensor_ranks():
    """Qwen3-235B on H100 (Megatron MoE model zoo): tp 2, dp 16, ep 32, etp 1."""
    qwen = sp.Architecture(d_model=4096, n_layers=96, n_heads=64, n_kv_heads=4, head_dim=128,
                           d_ff=12288, ffn="swiglu", position="rotary", norm="rmsnorm",
                           vocab_size=151936, n_experts=128, top_k=8, d_ff_expert=1536)
    assert sp.estimate(qwen, 1, 4096, tp=2, dp=16, ep=32, etp=1).devices == 32
    with pytest.raises(ValueError, match=r"^ep=32 is invalid: ep x etp must divide .*=32$"):
        sp.estimate(qwen, 1, 4096, tp=2, dp=16, ep=32)


@pytest.mark.parametrize(("arch", "options", "message"), [
    (MIXTRAL, dict(etp=0), r"^etp=0 is invalid: it must be >= 1"),
    (MIXTRAL, dict(etp=-2), r"^etp=-2 is invalid"),
    (MIXTRAL, dict(etp=2.5), r"^etp="),
    (MIXTRAL, dict(etp=3, tp=2, dp=2), r"^etp=3 is invalid: ep x etp must divide"),
    (MIXTRAL, dict(etp=2**21), r"^etp=2097152 is invalid: allowed range"),
    (sp.Architecture.preset("llama-2-7b"), dict(etp=1), r"^etp=1 is invalid: .*routed experts"),
])
def test_bad_etp_names_the_field(arch, options, message):
    with pytest.raises(ValueError, match=message):
        sp.estimate(arch, 1, 1024, **options)


def test_a_sweep_with_etp_gives_estimates_step_time():
    spec = dict(d_model=1024, n_layers=8, n_heads=16, d_ff=2048, n_experts=8, top_k=2,
                vocab_size=32000)
    result = sp.sweep(sp.Grid(**spec, tp=[2, 4], ep=[2, 4], etp=1, n_gpus=8, seq_len=2048,
                              batch=1))
    assert len(result) == 4
    for i in range(len(result)):
        row = result.row(i)
        report = sp.estimate(result.architecture(i), 1, 2048, tp=row["tp"], ep=row["ep"],
                             dp=row["dp"], etp=1)
        assert row["step_time"] == pytest.approx(report.time.step, rel=1e-12)
        assert result.report(i).time.step == pytest.approx(report.time.step, rel=1e-12)
