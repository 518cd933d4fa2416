"""Attention's efficiency against the head dimension its kernel runs at, the published
figures behind it, and the flash kernel's softmax, whose time its measured rate holds.

H100: FlashAttention-3 paper (Shah et al. 2024), forward, causal, 4k tokens, TFLOP/s at
head dim 64 / 128 / 256 (Dao-AILab/flash-attention assets/flash3_fp16_fwd.png, panels b, d,
f). A100: FlashAttention-2 paper, forward + backward, causal, 4k tokens, head dim 64 / 128.
Blackwell: FlashAttention-4 paper's B200 figure and NVIDIA cudnn-frontend's training
benchmark (GB200, GB300), cuDNN forward at 4k tokens, causal, head dim 128."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf.devices import Hardware, get_hardware

H100 = get_hardware("H100-SXM")
A100 = get_hardware("A100-SXM4-80GB")
# cuDNN's and FlashAttention-2's bars on H100, TFLOP/s at 4k tokens, by head dimension.
CUDNN = {64: 363, 128: 518, 256: 483}
FA2 = {64: 284, 128: 319, 256: 293}
# d_model 4096 in 64 heads of 64: every attention GEMM runs at head dim 64.
NARROW = sp.Architecture.preset("llama-3-8b").replace(n_heads=64, n_kv_heads=16, head_dim=64)


def _flat(device: Hardware, attention: float) -> sp.Efficiency:
    """The device's default with a flat head-dimension curve at ``attention``."""
    return device.default_efficiency.replace(attention=attention, attention_head_curve=())


def _step(arch: sp.Architecture, device: Hardware | str = "H100-SXM", **options: object) -> float:
    return sp.estimate(arch, batch=1, seq_len=4096, hardware=device, **options).time.step


def test_the_h100_default_runs_head_dim_64_at_cudnns_published_rate():
    attention = H100.default_efficiency.attention * CUDNN[64] / CUDNN[128]
    assert _step(NARROW) == pytest.approx(_step(NARROW, efficiency=_flat(H100, attention)),
                                          rel=1e-12)
    # ... and slower than a flat fraction says: 518 / 363 as long per attention FLOP.
    assert _step(NARROW) > _step(NARROW, efficiency=_flat(H100, H100.default_efficiency.attention))


def test_a_named_kernel_takes_its_own_head_curve():
    attention = H100.attention_efficiency("fa2") * FA2[64] / FA2[128]
    flat = _flat(H100, attention).replace(attention_curve=H100.attention_curve("fa2"))
    assert _step(NARROW, attention_kernel="fa2") == pytest.approx(
        _step(NARROW, efficiency=flat), rel=1e-12)
    assert H100.attention_head_curve("fa2") == (
        (64.0, FA2[64] / FA2[128]), (128.0, 1.0), (256.0, FA2[256] / FA2[128]))


def test_between_points_log_linear_and_flat_beyond():
    t = (math.log2(96) - 6) / (7 - 6)
    scale = (CUDNN[64] + t * (CUDNN[128] - CUDNN[64])) / CUDNN[128]
    arch = NARROW.replace(head_dim=96)
    attention = H100.default_efficiency.attention
    assert _step(arch) == pytest.approx(_step(arch, efficiency=_flat(H100, attention * scale)),
                                        rel=1e-12)
    wide = NARROW.replace(n_heads=8, n_kv_heads=8, head_dim=512)
    beyond = attention * CUDNN[256] / CUDNN[128]
    assert _step(wide) == pytest.approx(_step(wide, efficiency=_flat(H100, beyond)), rel=1e-12)


def test_scores_and_values_each_run_at_their_own_width():
    # DeepSeek-V3's latent attention: Q K^T reduces over 192 (128 + 64 RoPE), P V over 128.
    arch = sp.Architecture.preset("deepseek-v3")
    assert (arch.head_dim, arch.v_head_dim) == (192, 128)
    ops = sp.estimate(arch, batch=1, seq_len=4096, hardware="H100-SXM").layers
    flat = sp.estimate(arch, batch=1, seq_len=4096, hardware="H100-SXM",
                       efficiency=_flat(H100, H100.default_efficiency.attention)).layers
    t = (math.log2(192) - 7) / (8 - 7)
    at_192 = (CUDNN[128] + t * (CUDNN[256] - CUDNN[128])) / CUDNN[128]
    assert ops.row("attn_scores")["time_forward"] == pytest.approx(
        flat.row("attn_scores")["time_forward"] / at_192, rel=1e-9)
    assert ops.row("attn_values")["time_forward"] == pytest.approx(
        flat.row("attn_values")["time_forward"], rel=1e-12)


def test_the_a100_default_follows_flashattention_2s_head_curve():
    attention = A100.default_efficiency.attention * 156 / 173
    assert _step(NARROW, A100) == pytest.approx(
        _step(NARROW, A100, efficiency=_flat(A100, attention)), rel=1e-12)


def test_a_sweep_at_head_dim_64_gives_what_estimate_gives():
    grid = sp.Grid(d_model=[2048, 4096], n_layers=[8], head_dim=[64, 128], seq_len=4096,
                   batch=1, hardware="H100-SXM")
    result = sp.sweep(grid)
    for i in range(len(result)):
        assert result.report(i).time.step == result["step_time"][i]


def test_the_softmax_of_a_flash_kernel_takes_no_time_of_its_own():
    """Its time is inside the kernel's measured rate (the FlashAttention papers count the two
    GEMMs' FLOPs over the whole kernel time); unfused, it reads and writes the b h s^2
    scores in bf16: 2 x 2 x 32 x 4096^2 bytes at 0.8 of the H100's 3.35 TB/s."""
    arch = sp.Architecture.preset("llama-3-8b")
    fused = sp.estimate(arch, batch=1, seq_len=4096, hardware="H100-SXM")
    row = fused.layers.row("attn_softmax")
    assert row["elementwise_forward"] > 0  # its work is still counted
    assert row["time_forward"] == 0
    assert row["time_backward"] == 0
    unfused = sp.estimate(arch, batch=1, seq_len=4096, hardware="H100-SXM",
                          flash_attention=False).layers.row("attn_softmax")
    assert unfused["time_forward"] == pytest.approx(2 * 2 * 32 * 4096**2 / (3.35e12 * 0.8),
                                                    rel=1e-9)


@pytest.mark.parametrize(("device", "attention", "published"), [
    ("B200", 0.576, 1295 / 2250),   # cuDNN 9.19.1, FlashAttention-4 paper
    ("GB200", 0.563, 1408 / 2500),  # cuDNN 9.22, cudnn-frontend llama3.1 benchmark
    ("GB300", 0.681, 1703 / 2500),
    ("B300", 0.681, 1703 / 2500),   # the GB300's: the same Blackwell Ultra GPU
])
def test_blackwell_attention_is_cudnns_published_rate(device, attention, published):
    hw = get_hardware(device)
    assert hw.default_efficiency.attention == attention
    assert attention == pytest.approx(published, abs=5e-4)
    assert hw.attention_efficiency("cudnn") == attention
    curve = dict(hw.attention_curve("cudnn"))
    assert curve[4096.0] == 1.0
    assert curve[32768.0] > 1.0
    assert hw.default_efficiency.attention_curve == hw.attention_curve("cudnn")


@given(st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True),
                          st.floats(allow_nan=True, allow_infinity=True)), max_size=9))
def test_any_head_curve_is_taken_or_refused_by_name(points):
    dims = [d for d, _ in points]
    valid = (len(points) <= 8 and all(1 <= d <= 65536 for d in dims)
             and all(a < b for a, b in itertools.pairwise(dims))
             and all(0 < m <= 1000 for _, m in points))
    if not valid:
        with pytest.raises(ValueError, match="attention_head_curve"):
            sp.Efficiency(attention=0.5, attention_head_curve=points)
        return
    e = sp.Efficiency(attention=0.5, attention_head_curve=points)
    assert e.attention_head_curve == tuple(points)
    step = sp.estimate(NARROW, batch=1, seq_len=1024, efficiency=e).time.step
    assert math.isfinite(step)
    assert step > 0
