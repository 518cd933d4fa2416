"""The GEMMs' falloff at short reduction widths (Efficiency.gemm_k0): a GEMM over K runs at
K / (K + gemm_k0) of `matmul`; forward reduces over the input features, backward's data
gradient over the output features and its weight gradient over the tokens. Hand counts on
the per-op table, the FP8 rate, the fused experts, the bounds; and the routed experts'
weight traffic, a device's own experts only."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp

H100 = sp.hardware()["H100-SXM"]
LLAMA = sp.Architecture.preset("llama-3-8b")


def _rows(report: sp.Report) -> dict[str, tuple[float, float, float]]:
    """op -> (forward FLOPs per instance, forward seconds, backward seconds)."""
    table = report.layers.to_pandas()
    return {op: (f, t, b) for op, f, t, b in zip(table["op"], table["flops_forward"],
                                                  table["time_forward"], table["time_backward"],
                                                  strict=True)}


def test_a_linear_layer_by_hand():
    """Llama 3 8B's up projection on one H100 (4096 tokens: every tile full, compute-bound):
    forward at K = d_model, data gradient at K = d_ff, weight gradient at K = the tokens."""
    tokens = 4096
    report = sp.estimate(LLAMA, batch=1, seq_len=tokens, hardware="H100-SXM")
    flops, forward, backward = _rows(report)["mlp_up"]
    e = H100.default_efficiency
    assert e.gemm_k0 == 360
    large_k = flops / (H100.peak_flops["bf16"] * e.matmul)
    d, f = LLAMA.d_model, LLAMA.d_ff
    assert forward == pytest.approx(large_k * (d + 360) / d, rel=1e-12)
    assert backward == pytest.approx(large_k * ((f + 360) / f + (tokens + 360) / tokens),
                                     rel=1e-12)


def test_tensor_parallelism_shortens_a_row_parallel_reduction():
    """The down projection is row-parallel: each of tp ranks reduces over d_ff / tp."""
    tokens, tp = 4096, 4
    report = sp.estimate(LLAMA, batch=1, seq_len=tokens, hardware="H100-SXM", tp=tp)
    flops, forward, _ = _rows(report)["mlp_down"]
    e = H100.default_efficiency
    k = LLAMA.d_ff / tp
    expected = flops / tp / (H100.peak_flops["bf16"] * e.matmul) * (k + 360) / k
    assert forward == pytest.approx(expected, rel=1e-12)


def test_fp8_loses_twice_the_elements():
    """An FP8 main loop runs twice as fast per element: the same fixed time per tile is
    720 elements of K (the value fitted to DeepGEMM's FP8 table)."""
    tokens = 4096
    flat = H100.default_efficiency.replace(gemm_k0=0)
    timed = {k0: _rows(sp.estimate(LLAMA, batch=1, seq_len=tokens, hardware="H100-SXM",
                                   dtype="fp8", efficiency=flat.replace(gemm_k0=k0)))["mlp_up"]
             for k0 in (0, 360)}
    d = LLAMA.d_model
    # The FP8 casts of the input are the same in both: the GEMM part alone grows, by
    # gemm_k0 times the ratio of the peaks (1979 / 989 TFLOP/s: 720 elements).
    flops = timed[0][0]
    gemm = flops / (H100.peak_flops["fp8"] * flat.matmul * flat.fp8_matmul_ratio)
    k0 = 360 * H100.peak_flops["fp8"] / H100.peak_flops["bf16"]
    assert k0 == pytest.approx(720, abs=0.1)
    assert timed[360][1] - timed[0][1] == pytest.approx(gemm * k0 / d, rel=1e-12)


def test_fused_experts_weigh_their_two_widths():
    """A SwiGLU expert's gate and up GEMMs reduce over d_model, its down GEMM (a third of
    the FLOPs) over d_ff_expert; backward's data gradients the other way round, its weight
    gradients over the tokens the expert gets from the ep ranks."""
    arch = sp.Architecture.preset("qwen3-235b-a22b")
    options = dict(batch=1, seq_len=4096, hardware="H100-SXM", ep=8, dp=8)
    flat = H100.default_efficiency.replace(gemm_k0=0)
    base = _rows(sp.estimate(arch, efficiency=flat, **options))["routed_experts"]
    fall = _rows(sp.estimate(arch, **options))["routed_experts"]
    d, fe = arch.d_model, arch.d_ff_expert
    # The SwiGLU between the GEMMs, a memory-bound kernel of its own: it reads the gate and
    # up outputs and writes the down projection's input for every routed slot (bf16).
    activation = (2 * 3 * 4096 * arch.top_k * fe
                  / (H100.memory_bandwidth * H100.default_efficiency.memory))
    base = (base[0], base[1] - activation, base[2] - 2 * activation)
    fall = (fall[0], fall[1] - activation, fall[2] - 2 * activation)
    on = {k: 1 + 360 / k for k in (d, fe)}
    assert fall[1] == pytest.approx(base[1] * (2 / 3 * on[d] + 1 / 3 * on[fe]), rel=1e-9)
    # Each rank's experts take the tokens ep ranks route to them.
    tokens_per_expert = 4096 * arch.top_k / arch.n_experts * options["ep"]
    data = 2 / 3 * on[fe] + 1 / 3 * on[d]
    weight = 1 + 360 / tokens_per_expert
    # Without the falloff backward is twice the forward (the weight gradient's own tiles
    # are full here): each of its GEMMs is one forward's worth.
    assert base[2] == pytest.approx(2 * base[1], rel=1e-12)
    assert fall[2] == pytest.approx(base[1] * (data + weight), rel=1e-9)


def test_without_falloff_backward_is_twice_forward_outside_attention():
    flat = H100.default_efficiency.replace(gemm_k0=0)
    report = sp.estimate(LLAMA, batch=1, seq_len=4096, hardware="H100-SXM", efficiency=flat,
                         flash_attention=False)
    assert report.time.backward == pytest.approx(2 * report.time.forward, rel=1e-12)
    falling = sp.estimate(LLAMA, batch=1, seq_len=4096, hardware="H100-SXM",
                          flash_attention=False)
    assert falling.time.forward > report.time.forward
    assert falling.time.backward > report.time.backward


def test_devices_without_a_measured_falloff_are_unchanged():
    a100 = sp.hardware()["A100-SXM4-80GB"].default_efficiency
    assert a100.gemm_k0 == 0
    report = sp.estimate(LLAMA, batch=1, seq_len=4096, hardware="A100-SXM4-80GB")
    explicit = sp.estimate(LLAMA, batch=1, seq_len=4096, hardware="A100-SXM4-80GB",
                           efficiency=a100.replace(gemm_k0=0))
    assert report.time.step == explicit.time.step


@settings(max_examples=60, deadline=None)
@given(k0=st.floats(0, 65536), more=st.floats(0, 4096), seq_len=st.sampled_from([1, 7, 4096]),
       tp=st.sampled_from([1, 2, 8]), dtype=st.sampled_from(["bf16", "fp8"]))
def test_a_larger_fixed_cost_never_makes_a_step_faster(k0, more, seq_len, tp, dtype):
    base = H100.default_efficiency
    slow, slower = (sp.estimate(LLAMA, batch=1, seq_len=seq_len, hardware="H100-SXM", tp=tp,
                                dtype=dtype, efficiency=base.replace(gemm_k0=k)).time.step
                    for k in (k0, min(k0 + more, 65536)))
    assert math.isfinite(slow)
    assert slow > 0
    assert slower >= slow * (1 - 1e-12)


@given(value=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=65536.001),
                       st.just(float("nan")), st.just(float("inf"))))
def test_gemm_k0_out_of_range_is_refused_by_name(value):
    with pytest.raises(ValueError, match=r"gemm_k0=.* is invalid"):
        sp.Efficiency(gemm_k0=value)


def test_replace_refuses_an_unknown_field_and_keeps_the_rest():
    e = H100.default_efficiency
    with pytest.raises(ValueError, match=r"gemmk0=1 is invalid: Efficiency has no such field"):
        e.replace(gemmk0=1)
    changed = e.replace(gemm_k0=100)
    assert changed.gemm_k0 == 100
    assert (changed.matmul, changed.attention, changed.attention_curve,
            changed.fp8_matmul_ratio) == (e.matmul, e.attention, e.attention_curve,
                                          e.fp8_matmul_ratio)


def test_a_sweep_times_the_falloff_as_estimate_does():
    grid = sp.Grid(d_model=[1024, 4096], n_layers=4, n_heads=32, tp=[1, 4], seq_len=2048,
                   batch=1, hardware="H100-SXM")
    result = sp.sweep(grid)
    assert len(result) == 4
    for i, step in enumerate(result["step_time"]):
        assert step == pytest.approx(result.report(i).time.step, rel=1e-12)


@pytest.mark.parametrize("ep", [1, 8, 64])
def test_routed_experts_read_only_the_devices_own_weights(ep):
    """With few tokens the routed experts are memory-bound: a device reads its n_experts /
    ep experts' weights (and the routed tokens and hidden activations), not all of them."""
    arch = sp.Architecture.preset("qwen3-235b-a22b")
    seq_len = 16
    report = sp.estimate(arch, batch=1, seq_len=seq_len, hardware="H100-SXM", ep=ep, dp=64)
    _, forward, _ = _rows(report)["routed_experts"]
    d, fe, act = arch.d_model, arch.d_ff_expert, 2
    slots = seq_len * arch.top_k
    weights = arch.n_experts * 3 * d * fe * act / ep
    tokens = slots * fe * 4 * act + 2 * slots * d * act
    activation = slots * fe * 3 * act  # the SwiGLU's own kernel, after the GEMMs' time
    bandwidth = H100.memory_bandwidth * H100.default_efficiency.memory
    assert forward == pytest.approx((weights + tokens + activation) / bandwidth, rel=1e-12)


@pytest.mark.parametrize("fused", [True, False])
def test_the_experts_activation_is_a_kernel_of_its_own(fused):
    """Megatron-Core's grouped MLP runs the experts' activation between its GEMMs as a
    memory-bound kernel: its traffic adds to the routed experts' time even when the GEMMs
    are compute-bound (fused: gate and up read, output written; eager: 5 elements moved),
    twice over in backward; the shared experts' likewise."""
    arch = sp.Architecture.preset("deepseek-v3")
    options = dict(batch=1, seq_len=4096, hardware="H100-SXM", ep=64, dp=64,
                   fused_elementwise=fused)
    slow = H100.default_efficiency.replace(memory=0.4)
    rows = {e: _rows(sp.estimate(arch, efficiency=e, **options))
            for e in (H100.default_efficiency, slow)}
    moved = (3 if fused else 5) * 2  # bytes per hidden channel, bf16
    per_byte = 1 / (H100.memory_bandwidth * H100.default_efficiency.memory)
    routed = moved * 4096 * arch.top_k * arch.d_ff_expert * per_byte
    shared = moved * 4096 * arch.n_shared_experts * arch.d_ff_shared * per_byte
    for op, activation in (("routed_experts", routed), ("shared_experts", shared)):
        fast, halved = rows[H100.default_efficiency][op], rows[slow][op]
        # Halving the bandwidth doubles the activation's time only: the GEMMs, compute-bound
        # here, keep theirs.
        assert halved[1] - fast[1] == pytest.approx(activation, rel=1e-9)
        assert halved[2] - fast[2] == pytest.approx(2 * activation, rel=1e-9)
