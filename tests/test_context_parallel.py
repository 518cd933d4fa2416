"""Context parallelism (``cp=``): ring attention against a hand count.

Each of the cp ranks holds two chunks of every sequence, so every op's work and saved
activations divide by cp while the weights do not; keys and values go around the cp ring
point to point, cp - 1 steps per attention forward and twice that backward (K, V and
their gradients), each step hidden behind the attention of the block it brought
(Megatron-Core / Transformer Engine's ring attention, AttnFuncWithCPAndKVP2P).
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from boundary import result_or_field_error
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp

LLAMA = sp.Architecture.preset("llama-3-8b")
MIXTRAL = sp.Architecture.preset("mixtral-8x7b")
ATTENTION_CORE = ("attn_scores", "attn_softmax", "attn_values")


def test_every_op_and_its_activations_divide_by_cp_but_not_the_weights():
    # 65,536 tokens: 16k per attention call on four ranks, where the published attention
    # curve is flat; on shorter calls cp's attention runs slower per FLOP (below). Without
    # the GEMMs' falloff at short reductions: a rank's weight gradients reduce over its
    # 1 / cp of the tokens, which gemm_k0 makes slower per FLOP (the next test).
    flat_k = sp.hardware()["H100-SXM"].default_efficiency.replace(gemm_k0=0)
    one = sp.estimate(LLAMA, 1, 65536, cp=1, dp=4, efficiency=flat_k)
    four = sp.estimate(LLAMA, 1, 65536, cp=4, dp=1, efficiency=flat_k)
    assert four.devices == one.devices == 4
    assert four.time.tokens_per_step == one.time.tokens_per_step / 4
    assert four.time.forward == pytest.approx(one.time.forward / 4, rel=1e-12)
    assert four.time.backward == pytest.approx(one.time.backward / 4, rel=1e-12)
    assert four.memory.activations == pytest.approx(one.memory.activations / 4, rel=1e-12)
    assert four.memory.weights == one.memory.weights
    assert four.memory.optimizer == one.memory.optimizer
    # The per-op table is per rank too: its saved bytes sum to the activations.
    assert four.layers.total("saved_bytes") == pytest.approx(four.memory.activations, rel=1e-12)
    assert one.time.cp_communication == 0
    shorter = sp.estimate(LLAMA, 1, 32768, cp=4, dp=1)  # 8k tokens per call
    assert shorter.time.forward > sp.estimate(LLAMA, 1, 32768, cp=1, dp=4).time.forward / 4


def test_gradients_are_reduced_over_dp_times_cp():
    """The dp x cp ranks hold one shard: the same ring as dp alone of that size."""
    split = sp.estimate(LLAMA, 1, 8192, cp=2, dp=4, zero=1)
    data = sp.estimate(LLAMA, 1, 8192, cp=1, dp=8, zero=1)
    assert split.time.dp_communication == pytest.approx(data.time.dp_communication, rel=1e-12)
    assert split.memory.optimizer == pytest.approx(data.memory.optimizer, rel=1e-12)
    # ZeRO needs ranks to shard over: cp alone gives them.
    assert sp.estimate(LLAMA, 1, 8192, cp=2, zero=1).memory.optimizer < (
        sp.estimate(LLAMA, 1, 8192, cp=2).memory.optimizer)


def _slow_link(hw: sp.Hardware, bandwidth: float) -> sp.Hardware:
    return dataclasses.replace(hw, name="slow NVLink", intra_node_bandwidth=bandwidth,
                               inter_node_bandwidth=min(bandwidth, hw.inter_node_bandwidth))


@pytest.mark.parametrize(("cp", "tp", "recompute", "bandwidth"), [
    (2, 2, "none", 5e9), (4, 2, "selective", 2e9), (8, 1, "full", 1e9), (4, 2, "none", 450e9)])
def test_ring_attention_hand_count(cp, tp, recompute, bandwidth):
    """cp - 1 steps of max(0, K/V transfer - attention / cp) per layer, x3 (forward, and
    backward's K, V, dK, dV at twice the bytes against twice the work), x4 when
    recomputation redoes attention. tp x cp <= 8: the ring stays in one node."""
    hw = _slow_link(sp.hardware()["H100-SXM"], bandwidth)
    batch, seq_len = 2, 16384
    r = sp.estimate(LLAMA, batch, seq_len, cp=cp, tp=tp, hardware=hw, recompute=recompute)
    e = hw.default_efficiency
    rows = r.layers.to_dict()
    attention = sum(t for op, t in zip(rows["op"], rows["time_forward"], strict=True)
                    if op in ATTENTION_CORE)  # one layer, one rank (the table is per rank)
    kv_bytes = 2 * 2 * batch * seq_len / cp * LLAMA.n_kv_heads * LLAMA.head_dim / tp
    transfer = kv_bytes / (bandwidth * e.network) + hw.intra_node_latency
    per_layer = (cp - 1) * max(0.0, transfer - attention / cp)
    passes = 3 if recompute == "none" else 4
    assert r.time.cp_communication == pytest.approx(passes * per_layer * LLAMA.n_layers,
                                                    rel=1e-9, abs=1e-15)
    if bandwidth == 450e9:
        assert r.time.cp_communication == 0  # NVLink hides it behind 16k-token attention
    else:
        assert r.time.cp_communication > 0
    assert r.time.stage == pytest.approx(
        r.time.forward + r.time.backward + r.time.recompute + r.time.tp_communication
        + r.time.pp_communication + r.time.cp_communication, rel=1e-12)


def test_the_ring_crosses_nodes_when_tp_times_cp_does():
    hw = sp.hardware()["H100-SXM"]  # 8 per node
    inside = sp.estimate(LLAMA, 1, 4096, tp=4, cp=2, hardware=hw)
    across = sp.estimate(LLAMA, 1, 4096, tp=4, cp=4, hardware=hw)
    assert inside.time.cp_communication == 0
    assert across.time.cp_communication > 0


def test_experts_are_carved_out_of_dp_times_cp():
    """Megatron-Core's MoE parallel folding: ep may span the context-parallel ranks."""
    report = sp.estimate(MIXTRAL, 1, 4096, cp=4, dp=2, ep=8)
    assert report.devices == 8
    with pytest.raises(ValueError, match=r"^ep=8 is invalid: ep x etp must divide .*=4"):
        sp.estimate(MIXTRAL, 1, 4096, cp=2, dp=2, ep=8)


@pytest.mark.parametrize(("options", "message"), [
    (dict(cp=0), r"^cp=0 is invalid: allowed range is \[1, 1048576\]"),
    (dict(cp=3), r"^cp=3 is invalid: 2 x cp must divide seq_len .*seq_len=4096"),
    (dict(cp=2**21), r"^cp=2097152 is invalid"),
    (dict(cp=2.5), r"^cp="),
    (dict(cp=2**20, tp=2), r"^tp\*cp=2097152 is invalid"),
])
def test_bad_cp_names_the_field(options, message):
    with pytest.raises(ValueError, match=message):
        sp.estimate(LLAMA, 1, 4096, **options)


@settings(max_examples=60, deadline=None)
@given(cp=st.integers(-2, 70), seq_len=st.integers(1, 4096), dp=st.integers(1, 3))
def test_any_cp_is_a_report_or_names_the_field(cp, seq_len, dp):
    report = result_or_field_error(lambda: sp.estimate(LLAMA, 1, seq_len, cp=cp, dp=dp))
    if report is None:
        assert cp < 1 or seq_len % (2 * cp) != 0
        return
    assert seq_len % (2 * cp) == 0 or cp == 1
    assert report.devices == cp * dp
    assert math.isfinite(report.time.step)
    assert report.time.cp_communication >= 0


SMALL = dict(d_model=1024, n_layers=8, n_heads=16, n_kv_heads=4, d_ff=4096, vocab_size=32000)


def test_a_sweep_over_cp_gives_estimates_step_time():
    grid = sp.Grid(**SMALL, cp=[1, 2, 4, 8], tp=[1, 2], n_gpus=16, seq_len=32768, batch=1,
                   recompute="full")
    result = sp.sweep(grid)
    assert len(result) == 8
    for i in range(len(result)):
        row = result.row(i)
        report = sp.estimate(result.architecture(i), 1, 32768, tp=row["tp"], cp=row["cp"],
                             dp=row["dp"], recompute="full")
        assert row["cp"] * row["tp"] * row["dp"] == 16
        assert row["step_time"] == pytest.approx(report.time.step, rel=1e-12)
        assert result.report(i).time.step == pytest.approx(report.time.step, rel=1e-12)


def test_a_sweep_skips_cp_that_does_not_split_the_sequence():
    grid = sp.Grid(**SMALL, cp=[1, 3], seq_len=4100, batch=1)
    assert list(sp.sweep(grid).to_pandas()["cp"]) == [1]
