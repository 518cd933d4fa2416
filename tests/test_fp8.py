"""FP8 training (dtype="fp8"): the weight GEMMs of the layers at the FP8 peak, attention's
own GEMMs, the router and the head at the 16-bit peak, everything stored in bf16."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalingperf as sp

FP8_OPS = {"qkv_proj", "out_proj", "mlp_up", "mlp_gate", "mlp_down", "routed_experts",
           "shared_experts"}
# The H100's default without the GEMMs' falloff at short reductions (gemm_k0, whose FP8
# main loop loses twice the elements: tests/test_gemm_k.py), so that the hand counts
# below see the peaks' ratio and the casts alone.
FLAT_K = sp.hardware()["H100-SXM"].default_efficiency.replace(gemm_k0=0)


def _times(report: sp.Report) -> dict[str, float]:
    table = report.layers.to_pandas()
    return dict(zip(table["op"], table["time_forward"], strict=True))


@pytest.mark.parametrize("preset", ["llama-3-70b", "mixtral-8x7b"])
def test_weight_gemms_run_at_the_fp8_peak_and_attention_at_bf16(preset):
    arch = sp.Architecture.preset(preset)
    options = dict(batch=4, seq_len=8192, tp=8, hardware="H100-SXM", efficiency=FLAT_K)
    bf16 = sp.estimate(arch, dtype="bf16", **options)
    fp8 = sp.estimate(arch, dtype="fp8", **options)
    device = sp.hardware()["H100-SXM"]
    # The FP8 peak at the device's measured FP8 matmul fraction (fp8_matmul_ratio x BF16's).
    ratio = (device.peak_flops["bf16"] / device.peak_flops["fp8"]
             / device.default_efficiency.fp8_matmul_ratio)
    before, after = _times(bf16), _times(fp8)
    # Transformer Engine's cast-transpose of a GEMM's input: 2 bytes read, 1 + 1 written
    # per element, at the memory bandwidth the roofline uses.
    per_element = 4 / (device.memory_bandwidth * device.default_efficiency.memory)
    tokens = options["batch"] * options["seq_len"]
    # Each GEMM's input per rank: column-parallel ones read all of d_model, row-parallel
    # ones their 1 / tp of the attention or FFN width.
    tp = options["tp"]
    # The gate shares the up projection's FP8 copy of its input (TE's fused fc1): no cast.
    inputs = {"qkv_proj": arch.d_model, "mlp_up": arch.d_model, "mlp_gate": 0,
              "out_proj": arch.n_heads * arch.head_dim / tp, "mlp_down": arch.d_ff / tp}
    for op, seconds in before.items():
        if op in FP8_OPS:
            # The GEMM faster by the ratio of the peaks at most (a small GEMM may hit its
            # memory traffic's floor first), plus the cast of its input.
            gemm = after[op] - tokens * inputs.get(op, 0) * per_element
            assert seconds * ratio * (1 - 1e-12) <= gemm <= seconds, op
        else:
            assert after[op] == seconds, op
    # The FFN's GEMMs are compute-bound at this size: exactly the ratio of the peaks, and
    # the cast of their input (column-parallel: each rank casts all tokens x d_model).
    if "mlp_up" in before:
        cast = tokens * arch.d_model * per_element
        assert after["mlp_up"] == pytest.approx(before["mlp_up"] * ratio + cast, rel=1e-12)
    else:
        assert after["routed_experts"] > before["routed_experts"] * ratio
    assert fp8.time.step < bf16.time.step
    # Stored in bf16 either way, but for the inputs the weight GEMMs keep for their weight
    # gradient: Transformer Engine keeps the FP8 copy, half the bytes.
    assert fp8.memory.weights == bf16.memory.weights
    for op in ("qkv_proj", "out_proj"):
        assert fp8.layers.row(op)["saved_bytes"] == bf16.layers.row(op)["saved_bytes"] / 2
    for op in ("attn_scores", "attn_softmax", "attn_values"):
        assert fp8.layers.row(op)["saved_bytes"] == bf16.layers.row(op)["saved_bytes"]
    assert fp8.memory.activations < bf16.memory.activations
    assert fp8.flops.model == bf16.flops.model
    # MFU against the FP8 peak, the format the weight GEMMs run in.
    peaks = device.peak_flops["bf16"] / device.peak_flops["fp8"]
    assert fp8.mfu == pytest.approx(bf16.mfu * bf16.time.step / fp8.time.step * peaks)


def test_fp8_needs_a_device_with_an_fp8_peak():
    arch = sp.Architecture.preset("llama-2-7b")
    with pytest.raises(ValueError, match="dtype='fp8' is invalid: this hardware has no peak"):
        sp.estimate(arch, batch=1, seq_len=4096, dtype="fp8", hardware="A100-SXM4-80GB")


def test_a_sweep_in_fp8_equals_its_estimates():
    grid = sp.Grid(d_model=[2048, 4096], n_layers=[16], head_dim=128, tp=[1, 2],
                   dtype="fp8", seq_len=4096, batch=2)
    result = sp.sweep(grid)
    assert len(result) == 4
    for i in range(len(result)):
        report = result.report(i)
        assert report.time.step == result["step_time"][i]
    bf16 = sp.sweep(grid.replace(dtype="bf16"))
    assert np.all(result["step_time"] < bf16["step_time"])


def test_mxfp8_runs_at_the_fp8_rate_where_the_tensor_cores_take_it():
    arch = sp.Architecture.preset("llama-3-70b")
    options = dict(batch=1, seq_len=8192, tp=8, hardware="B200")
    fp8 = sp.estimate(arch, dtype="fp8", **options)
    mx = sp.estimate(arch, dtype="mxfp8", **options)
    # The same GEMM rate; the casts also write a 1-byte scale per 32 elements per copy.
    assert fp8.time.step < mx.time.step < fp8.time.step * 1.01
    # MXFP8 keeps its saved GEMM inputs with their scales: 1 + 1/32 bytes per element.
    assert mx.layers.row("out_proj")["saved_bytes"] == pytest.approx(
        fp8.layers.row("out_proj")["saved_bytes"] * (1 + 1 / 32), rel=1e-12)
    assert mx.memory.activations > fp8.memory.activations
    # Hopper has no block-scaled MMA: refused, not silently run as FP8.
    with pytest.raises(ValueError, match="dtype='mxfp8' is invalid"):
        sp.estimate(arch, dtype="mxfp8", batch=1, seq_len=8192, tp=8, hardware="H100-SXM")


def test_fp8_backward_casts_the_output_gradients_by_hand():
    """Backward casts each weight GEMM's output gradient (m x n), not twice the forward's
    inputs: per GELU layer the forward casts 7 m d elements (Q K V, output and up
    projections read d, the down projection 4 d) and the backward 9 m d (3 d + d + 4 d +
    d), so backward - 2 forward = -5 m d casts per layer. Without flash attention and in
    bf16 every op's backward is twice its forward."""
    arch = sp.Architecture(d_model=1024, n_layers=3, n_heads=8, vocab_size=32000,
                           max_position_embeddings=4096)
    extra, per_element = _backward_beyond_twice_forward(arch)
    tokens = 2 * 2048
    expected = arch.n_layers * (9 - 2 * 7) * tokens * arch.d_model * per_element
    assert extra == pytest.approx(expected, rel=1e-9)


def _backward_beyond_twice_forward(arch):
    """FP8 training's backward less twice its forward (the casts' difference: in bf16 and
    without flash attention backward is twice the forward), and the seconds of one cast."""
    options = dict(batch=2, seq_len=2048, hardware="H100-SXM", flash_attention=False,
                   efficiency=FLAT_K)
    bf16 = sp.estimate(arch, dtype="bf16", **options).time
    fp8 = sp.estimate(arch, dtype="fp8", **options).time
    assert bf16.backward == pytest.approx(2 * bf16.forward, rel=1e-12)
    device = sp.hardware()["H100-SXM"]
    per_element = 4 / (device.memory_bandwidth * device.default_efficiency.memory)
    return fp8.backward - 2 * fp8.forward, per_element


def test_nvfp4_runs_the_weight_gemms_at_the_fp4_peak():
    """NVFP4 (NVIDIA 2025): the layers' weight GEMMs at Blackwell's FP4 rate, twice FP8's
    peak, at the device's measured FP4 fraction (fp4_matmul_ratio, FP8's fp8_matmul_ratio);
    the casts write half a byte per element and a 1-byte scale per 16 in each copy (2 +
    0.5 + 0.5 + 2/16 bytes against FP8's 4); stored in bf16 as with FP8."""
    arch = sp.Architecture.preset("llama-3-70b")
    options = dict(batch=1, seq_len=8192, tp=8, hardware="B200")
    fp8 = sp.estimate(arch, dtype="fp8", **options)
    fp4 = sp.estimate(arch, dtype="nvfp4", **options)
    device = sp.hardware()["B200"]
    assert device.peak_flops["nvfp4"] == 2 * device.peak_flops["fp8"]
    before, after = _times(fp8), _times(fp4)
    per_byte = 1 / (device.memory_bandwidth * device.default_efficiency.memory)
    tokens = options["batch"] * options["seq_len"]
    cast8, cast4 = (tokens * arch.d_model * b * per_byte for b in (4, 2 + 0.5 + 0.5 + 2 / 16))
    # The FFN's up projection is compute-bound: half the FP8 GEMM time at the same
    # fraction of the peak, and its cast.
    e = device.default_efficiency
    assert after["mlp_up"] - cast4 == pytest.approx(
        (before["mlp_up"] - cast8) / 2 * e.fp8_matmul_ratio / e.fp4_matmul_ratio, rel=1e-9)
    assert after["attn_scores"] == before["attn_scores"]  # attention stays in bf16
    assert fp4.time.step < fp8.time.step
    # NVFP4 keeps half a byte and an 8-bit scale per 16 elements of those inputs.
    assert fp4.layers.row("mlp_down")["saved_bytes"] == pytest.approx(
        fp8.layers.row("mlp_down")["saved_bytes"] * (0.5 + 1 / 16), rel=1e-12)
    assert fp4.memory.activations < fp8.memory.activations
    with pytest.raises(ValueError, match="dtype='nvfp4' is invalid"):
        sp.estimate(arch, dtype="nvfp4", batch=1, seq_len=8192, tp=8, hardware="H100-SXM")


def test_fp8_matmul_ratio_scales_only_the_low_precision_gemms():
    arch = sp.Architecture.preset("llama-3-70b")
    options = dict(batch=4, seq_len=8192, tp=8, hardware="H100-SXM")
    base = sp.hardware()["H100-SXM"].default_efficiency
    same = sp.Efficiency(matmul=base.matmul, attention=base.attention, fp8_matmul_ratio=1.0)
    slower = sp.Efficiency(matmul=base.matmul, attention=base.attention, fp8_matmul_ratio=0.5)
    fast, slow = (_times(sp.estimate(arch, dtype="fp8", efficiency=e, **options))
                  for e in (same, slower))
    device = sp.hardware()["H100-SXM"]
    cast = (4 * options["batch"] * options["seq_len"] * arch.d_model
            / (device.memory_bandwidth * same.memory))
    # The compute-bound up projection's GEMM takes twice as long; its cast does not change.
    assert slow["mlp_up"] - cast == pytest.approx(2 * (fast["mlp_up"] - cast), rel=1e-9)
    assert slow["attn_scores"] == fast["attn_scores"]
    bf16 = [sp.estimate(arch, dtype="bf16", efficiency=e, **options).time.step
            for e in (same, slower)]
    assert bf16[0] == bf16[1]  # 16-bit training never reads it


def test_fp4_matmul_ratio_scales_only_the_nvfp4_gemms():
    arch = sp.Architecture.preset("llama-3-70b")
    options = dict(batch=4, seq_len=8192, tp=8, hardware="B200")
    base = sp.hardware()["B200"].default_efficiency.replace(fp8_matmul_ratio=1.0)
    same, slower = base.replace(fp4_matmul_ratio=1.0), base.replace(fp4_matmul_ratio=0.5)
    fast, slow = (_times(sp.estimate(arch, dtype="nvfp4", efficiency=e, **options))
                  for e in (same, slower))
    device = sp.hardware()["B200"]
    # NVFP4's cast writes half a byte and a 1-byte scale per 16 elements, in each copy.
    cast = ((2 + 0.5 + 0.5 + 2 / 16) * options["batch"] * options["seq_len"] * arch.d_model
            / (device.memory_bandwidth * same.memory))
    assert slow["mlp_up"] - cast == pytest.approx(2 * (fast["mlp_up"] - cast), rel=1e-9)
    assert slow["attn_scores"] == fast["attn_scores"]
    for dtype in ("fp8", "mxfp8", "bf16"):  # the other formats never read it
        steps = [sp.estimate(arch, dtype=dtype, efficiency=e, **options).time.step
                 for e in (same, slower)]
        assert steps[0] == steps[1]
    # and NVFP4 never reads the FP8 ratio
    assert (sp.estimate(arch, dtype="nvfp4", efficiency=same.replace(fp8_matmul_ratio=0.5),
                        **options).time.step
            == sp.estimate(arch, dtype="nvfp4", efficiency=same, **options).time.step)


def test_a_sweep_reads_the_fp4_matmul_ratio_as_estimate_does():
    slower = sp.hardware()["B200"].default_efficiency.replace(fp4_matmul_ratio=0.5)
    options = dict(d_model=[4096, 8192], n_layers=[32], head_dim=128, seq_len=[4096],
                   batch=1, hardware="B200", dtype="nvfp4", tp=[1, 2])
    result = sp.sweep(sp.Grid(**options, efficiency=slower))
    default = sp.sweep(sp.Grid(**options))
    for i in range(len(result)):
        assert result.report(i).time.step == result["step_time"][i]
        assert result["step_time"][i] > default["step_time"][i]


@pytest.mark.parametrize("field", ["fp8_matmul_ratio", "fp4_matmul_ratio"])
@pytest.mark.parametrize(("matmul", "ratio"), [(0.75, 1.5), (0.5, 0.0), (0.9, -1.0), (1.0, 1.01)])
def test_low_precision_matmul_ratio_out_of_range_names_the_field(field, matmul, ratio):
    with pytest.raises(ValueError, match=rf"^{field}="):
        sp.Efficiency(matmul=matmul, **{field: ratio})


@given(matmul=st.floats(1e-3, 1), ratio=st.floats(allow_nan=True, allow_infinity=True))
def test_any_fp4_matmul_ratio_is_taken_or_refused_by_name(matmul, ratio):
    valid = math.isfinite(ratio) and ratio >= 1e-3 and matmul * ratio <= 1
    if not valid:
        with pytest.raises(ValueError, match=r"^fp4_matmul_ratio="):
            sp.Efficiency(matmul=matmul, fp4_matmul_ratio=ratio)
        return
    e = sp.Efficiency(matmul=matmul, fp4_matmul_ratio=ratio)
    step = sp.estimate(sp.Architecture.preset("llama-3-8b"), batch=1, seq_len=1024,
                       dtype="nvfp4", hardware="B200", efficiency=e).time.step
    assert math.isfinite(step)
    assert step > 0


def test_fp8_casts_of_the_experts_by_hand():
    """The routed experts run as one op of two GEMMs: forward casts fc1's input (S x d) once
    and fc2's (S x d_ff_expert); backward their output gradients (S x d_ff_expert of the
    non-gated fc1, S x d of fc2). With Q K V and the output projection (forward 2 T d,
    backward 4 T d), backward - 2 forward = -S (d + d_ff_expert) per layer, S = T top_k."""
    arch = sp.Architecture(d_model=1024, n_layers=3, n_heads=8, vocab_size=32000,
                           max_position_embeddings=4096, n_experts=8, top_k=2,
                           d_ff_expert=3072)
    extra, per_element = _backward_beyond_twice_forward(arch)
    slots = 2 * 2048 * 2
    expected = -arch.n_layers * slots * (arch.d_model + 3072) * per_element
    assert extra == pytest.approx(expected, rel=1e-9)
