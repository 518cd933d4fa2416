"""Float32 gradients under 16-bit weights (``fp32_gradients``) against Megatron-LM's own
count and a hand count of the reduction's bytes.

Megatron-LM's README (core_r0.8.0, the distributed optimizer's table; today's
``docs/user-guide/features/dist_optimizer.md``) counts the bytes per parameter of bf16
weights with fp32 gradients as 18 without the distributed optimizer and 6 + 12 / d with it
(d data-parallel ranks): 2 (weights) + 4 (gradients) + 12 (fp32 master weights, momentum,
variance), the last sharded. Its arguments set fp32 gradients for bf16 unless
``--grad-reduce-in-bf16``.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp

LLAMA = sp.Architecture.preset("llama-2-7b")


def _states(report: sp.Report) -> float:
    m = report.memory
    return m.weights + m.gradients + m.optimizer


@pytest.mark.parametrize(("zero", "per_param"), [(0, 18.0), (1, 6 + 12 / 8)])
def test_megatron_lms_bytes_per_parameter(zero, per_param):
    report = sp.estimate(LLAMA, 1, 2048, dp=8, zero=zero, fp32_gradients=True)
    assert _states(report) == pytest.approx(per_param * report.params.total, rel=1e-12)


@pytest.mark.parametrize("zero", [0, 1, 2, 3])
def test_only_the_gradients_double(zero):
    bf16 = sp.estimate(LLAMA, 1, 2048, dp=8, zero=zero)
    fp32 = sp.estimate(LLAMA, 1, 2048, dp=8, zero=zero, fp32_gradients=True)
    assert fp32.memory.gradients == pytest.approx(2 * bf16.memory.gradients, rel=1e-12)
    assert fp32.memory.weights == bf16.memory.weights
    assert fp32.memory.optimizer == bf16.memory.optimizer
    assert fp32.memory.activations == bf16.memory.activations
    assert fp32.time.forward == bf16.time.forward


@pytest.mark.parametrize(("zero", "ratio"), [(0, 2.0), (1, 1.5), (2, 1.5), (3, 4 / 3)])
def test_the_reduction_moves_float32_gradients_and_16_bit_weights(zero, ratio):
    """Latency-free links make the ring's time its bytes: an all-reduce moves the gradients
    twice (2 -> 4 bytes each way); ZeRO 1/2 reduce-scatters fp32 gradients and gathers bf16
    weights (2 + 2 -> 4 + 2); ZeRO 3 gathers the weights twice (2 + 2 + 2 -> 2 + 2 + 4)."""
    h100 = sp.hardware()["H100-SXM"]
    hw = sp.Hardware(name="H100, latency-free links", peak_flops=h100.peak_flops,
                     memory=h100.memory, memory_bandwidth=h100.memory_bandwidth,
                     intra_node_bandwidth=h100.intra_node_bandwidth,
                     inter_node_bandwidth=h100.inter_node_bandwidth,
                     devices_per_node=h100.devices_per_node, intra_node_latency=0.0,
                     inter_node_latency=0.0)
    bf16 = sp.estimate(LLAMA, 1, 2048, dp=64, zero=zero, hardware=hw)
    fp32 = sp.estimate(LLAMA, 1, 2048, dp=64, zero=zero, hardware=hw, fp32_gradients=True)
    assert fp32.time.dp_communication == pytest.approx(ratio * bf16.time.dp_communication,
                                                       rel=1e-12)


def test_float32_weights_are_unchanged():
    fp32 = sp.estimate(LLAMA, 1, 2048, dp=8, zero=1, dtype="fp32")
    both = sp.estimate(LLAMA, 1, 2048, dp=8, zero=1, dtype="fp32", fp32_gradients=True)
    assert _states(both) == _states(fp32)
    assert both.time.step == fp32.time.step


@settings(max_examples=30, deadline=None)
@given(value=st.one_of(st.booleans(), st.integers(-2, 2), st.text(max_size=3), st.none()))
def test_fp32_gradients_takes_booleans_only(value):
    if isinstance(value, bool):
        report = sp.estimate(LLAMA, 1, 512, fp32_gradients=value)
        assert report.memory.gradients > 0
        return
    with pytest.raises(ValueError, match=r"^fp32_gradients="):
        sp.estimate(LLAMA, 1, 512, fp32_gradients=value)


def test_a_sweep_with_fp32_gradients_gives_estimates_numbers():
    spec = dict(d_model=1024, n_layers=[8, 12], n_heads=16, d_ff=4096, vocab_size=32000)
    result = sp.sweep(sp.Grid(**spec, zero=1, dp=8, fp32_gradients=True, seq_len=2048, batch=1))
    for i in range(len(result)):
        report = sp.estimate(result.architecture(i), 1, 2048, zero=1, dp=8, fp32_gradients=True)
        assert result.row(i)["step_time"] == pytest.approx(report.time.step, rel=1e-12)
        assert result.row(i)["memory_per_gpu"] == pytest.approx(report.memory.per_gpu, rel=1e-12)
    with pytest.raises(ValueError, match=r"^fp32_gradients="):
        sp.Grid(**spec, fp32_gradients="yes", seq_len=2048, batch=1)


def test_the_cli_takes_fp32_gradients_and_says_so():
    run = ["scalingperf", "estimate", "--preset", "llama-2-7b", "--dp", "8", "--zero", "1"]
    text = subprocess.run([*run, "--fp32-gradients"], capture_output=True, text=True,
                          check=True).stdout
    assert "gradients kept and reduced in fp32" in text
    as_json = json.loads(subprocess.run([*run, "--fp32-gradients", "--json"],
                                        capture_output=True, text=True, check=True).stdout)
    plain = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True,
                                      check=True).stdout)
    assert as_json["assumptions"]["fp32_gradients"] is True
    assert plain["assumptions"]["fp32_gradients"] is False
    assert as_json["memory"]["gradients"] == pytest.approx(2 * plain["memory"]["gradients"])


def test_the_precision_aware_optimizer_with_float32_gradients():
    """The MoE Model Zoo's FP8 runs: bf16 weights, fp32 gradients, fp32 master weights and
    bf16 moments, the last two sharded by the distributed optimizer: 2 + 4 + 8 / d."""
    report = sp.estimate(LLAMA, 1, 2048, dp=8, zero=1, fp32_gradients=True,
                         optimizer="adamw-bf16-moments")
    assert _states(report) == pytest.approx((6 + 8 / 8) * report.params.total, rel=1e-12)


def test_the_cli_names_the_precision_aware_optimizer():
    run = ["scalingperf", "estimate", "--preset", "llama-2-7b", "--optimizer",
           "adamw-bf16-moments", "--fp32-gradients"]
    text = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert ("optimizer        adamw-bf16-moments: AdamW, bf16 momentum and variance, fp32 "
            "master weights") in text
    as_json = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True,
                                        check=True).stdout)
    params = as_json["params"]["total"]
    states = sum(as_json["memory"][k] for k in ("weights", "gradients", "optimizer"))
    assert states == pytest.approx(14 * params, rel=1e-12)
