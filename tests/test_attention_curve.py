"""Attention's efficiency against the tokens one attention call sees: the published
FlashAttention-3 paper curves (Shah et al. 2024, H100 SXM5, forward, causal, head dim 128:
TFLOP/s at 512 ... 16k tokens), each kernel's 4k-token fraction scaled by its curve. A
curve's point is the kernel's measured rate for a causal call of that many tokens, its
masked diagonal blocks included: the model runs such a call at that rate, no slower."""

from __future__ import annotations

import math

import pytest

import scalingperf as sp
from scalingperf.devices import Hardware, get_hardware

LLAMA = sp.Architecture.preset("llama-3-8b")
H100 = get_hardware("H100-SXM")
# The figure's cuDNN and FlashAttention-2 bars, TFLOP/s (flash3_fp16_fwd.png, causal).
CUDNN = {512: 315, 1024: 410, 2048: 484, 4096: 518, 8192: 529, 16384: 539}
FA2 = {512: 191, 1024: 260, 2048: 298, 4096: 319, 8192: 333, 16384: 335}


def _flat(attention: float, kernel_efficiency: sp.Efficiency | None = None) -> sp.Efficiency:
    base = kernel_efficiency or H100.default_efficiency
    return sp.Efficiency(matmul=base.matmul, attention=attention, memory=base.memory,
                         network=base.network, fp8_matmul_ratio=base.fp8_matmul_ratio,
                         gemm_k0=base.gemm_k0)


def _step(seq_len: int, **options: object) -> float:
    return sp.estimate(LLAMA, batch=1, seq_len=seq_len, hardware="H100-SXM", **options).time.step


def _rate(seq_len: int, **options: object) -> float:
    """Attention's forward FLOP/s: its two GEMMs over the causal pairs, as the kernel
    benchmarks count them, over the model's time for them."""
    ops = sp.estimate(LLAMA, batch=1, seq_len=seq_len, hardware="H100-SXM", **options).layers
    seconds = ops.row("attn_scores")["time_forward"] + ops.row("attn_values")["time_forward"]
    pairs = seq_len * (seq_len + 1) / 2
    return 2 * 2 * LLAMA.n_heads * pairs * LLAMA.head_dim / seconds


#: The default's 16-bit peak fraction at 4k tokens: 518 / 989 TFLOP/s, rounded.
AT_4K = H100.default_efficiency.attention * H100.peak_flops["bf16"]


@pytest.mark.parametrize("seq_len", [512, 1024, 2048, 8192, 16384])
def test_the_h100_default_follows_cudnns_published_curve(seq_len):
    assert _rate(seq_len) == pytest.approx(AT_4K * CUDNN[seq_len] / CUDNN[4096], rel=1e-9)


def test_between_points_log_linear_and_flat_beyond():
    tokens = 3000
    t = (math.log2(tokens) - 11) / (12 - 11)
    scale = (CUDNN[2048] + t * (CUDNN[4096] - CUDNN[2048])) / CUDNN[4096]
    assert _rate(tokens) == pytest.approx(AT_4K * scale, rel=1e-9)
    for long in (32768, 131072):
        assert _rate(long) == pytest.approx(AT_4K * CUDNN[16384] / CUDNN[4096], rel=1e-9)


def test_a_flat_fraction_is_a_4k_call_and_shorter_calls_waste_more():
    """Without a curve `attention` is the 4k-token call's measured rate: a 1k call computes
    the diagonal's masked blocks at a larger share (1024 x 1025 / (128^2 x 8 x 9) of its
    work against 4096 x 4097 / (128^2 x 32 x 33)), longer calls no less."""
    flat = _flat(H100.default_efficiency.attention)
    assert _rate(4096, efficiency=flat) == pytest.approx(AT_4K, rel=1e-9)
    assert _rate(16384, efficiency=flat) == pytest.approx(AT_4K, rel=1e-9)
    share = (1024 * 1025 / (128**2 * 8 * 9)) / (4096 * 4097 / (128**2 * 32 * 33))
    assert _rate(1024, efficiency=flat) == pytest.approx(AT_4K * share, rel=1e-9)


def test_context_parallel_ranks_run_shorter_calls():
    # seq_len 65,536 over cp 8: 8,192 tokens per call.
    attention = H100.default_efficiency.attention * CUDNN[8192] / CUDNN[4096]
    assert _step(65536, cp=8) == pytest.approx(
        _step(65536, cp=8, efficiency=_flat(attention)), rel=1e-12)


def test_a_named_kernel_takes_its_own_curve():
    fa2_at_4k = H100.attention_efficiency("fa2") * H100.peak_flops["bf16"]
    assert _rate(1024, attention_kernel="fa2") == pytest.approx(
        fa2_at_4k * FA2[1024] / FA2[4096], rel=1e-9)
    # The curve as the device gives it: each point over the kernel's 4k-token figure.
    assert H100.attention_curve("fa2")[1] == (1024.0, FA2[1024] / FA2[4096])


def test_devices_without_a_published_curve_stay_flat():
    a100 = get_hardware("A100-SXM4-80GB")
    assert a100.attention_curve("fa2") == ()
    for seq_len in (1024, 16384):
        by_kernel = sp.estimate(LLAMA, batch=1, seq_len=seq_len, hardware=a100,
                                attention_kernel="fa2")
        flat = sp.estimate(LLAMA, batch=1, seq_len=seq_len, hardware=a100,
                           efficiency=_flat(0.55, a100.default_efficiency))
        assert by_kernel.time.step == flat.time.step


def test_a_sweep_over_sequence_lengths_gives_what_estimate_gives():
    grid = sp.Grid(d_model=[2048, 4096], n_layers=[16], head_dim=128, seq_len=[1024, 3000, 8192],
                   batch=1, hardware="H100-SXM")
    result = sp.sweep(grid)
    for i in range(len(result)):
        assert result.report(i).time.step == result["step_time"][i]


@pytest.mark.parametrize(("field", "axis"), [("attention_curve", "tokens"),
                                             ("attention_head_curve", "head dimensions")])
@pytest.mark.parametrize(("curve", "match"), [
    ([(4096, 1.0), (2048, 0.9)], "{axis} must rise"),
    ([(0.5, 1.0)], "{axis} must rise"),
    ([(128, 3000.0)], "multiple of attention"),
    ([(128, 0.0)], "multiple of attention"),
    ([(float(2 ** i), 1.0) for i in range(10)], "allowed range is \\[0, 8\\]"),
    ([("a", 1.0)], "{field}"),
    ([1.0], "{field}"),
])
def test_bad_curves_are_refused_by_name(field, axis, curve, match):
    with pytest.raises(ValueError, match=match.format(field=field, axis=axis)):
        sp.Efficiency(attention=0.5, **{field: curve})


@pytest.mark.parametrize(("key", "curves"), [
    ("attention_curves", {"fa2": [[1024, 260], [2048, 298]]}),  # no point at 4,096 tokens
    ("attention_curves", {"fa2": [[4096, 319], [2048, 298]]}),  # tokens fall
    ("attention_curves", {"fa2": [[4096, 0]]}),                 # no throughput
    ("attention_curves", {"fa2": "fast"}),
    ("attention_curves", ["fa2"]),
    ("attention_head_curves", {"cudnn": [[64, 363], [256, 483]]}),  # no point at head dim 128
    ("attention_head_curves", {"cudnn": [[128, 518], [64, 363]]}),  # head dims fall
    ("attention_head_curves", {"cudnn": [[128, 0]]}),               # no throughput
    ("attention_head_curves", {"cudnn": "fast"}),
    ("attention_head_curves", ["cudnn"]),
])
def test_a_device_table_with_a_bad_curve_is_refused(key, curves):
    data = {**H100.__dict__, key: curves}
    fields = {k: data[k] for k in ("peak_flops", "memory", "memory_bandwidth",
                                   "intra_node_bandwidth", "inter_node_bandwidth",
                                   "devices_per_node", "attention_kernels", key)}
    with pytest.raises(ValueError, match=key):
        Hardware.from_dict(fields, name="custom")
