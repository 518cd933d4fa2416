"""Layers that differ: windowed attention patterns, multi-head latent attention, norms and
biases that change the counts; through FLOPs, the KV cache, the time and the op table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf.validate import megatron_core_moe

from .boundary import result_or_field_error

BASE = dict(d_model=256, n_layers=6, n_heads=8, n_kv_heads=2, d_ff=512, ffn="swiglu",
            vocab_size=1000, max_position_embeddings=4096, position="rotary", norm="rmsnorm")


def _pairs_by_mask(s: int, window: int, kind: str) -> int:
    """Query-key pairs a mask keeps, counted entry by entry (transformers' mask rules)."""
    q = np.arange(s)[:, None]
    k = np.arange(s)[None, :]
    keep = k <= q
    if kind == "sliding":
        keep &= k > q - window
    else:
        keep &= (k // window) == (q // window)
    return int(keep.sum())


@settings(max_examples=40, deadline=None)
@given(s=st.integers(1, 300), window=st.integers(1, 400),
       kind=st.sampled_from(["sliding", "chunked"]))
def test_window_causal_flops_count_the_masked_pairs(s: int, window: int, kind: str) -> None:
    arch = sp.Architecture(**BASE, attention_window=window, window_kind=kind)
    row = sp.estimate(arch, batch=2, seq_len=s).layers.row("attn_scores", "window_attention")
    pairs = _pairs_by_mask(s, window, kind)
    assert row["flops_forward_causal"] == 2 * 2 * 8 * pairs * 32
    assert row["flops_forward"] == 2 * 2 * 8 * s * s * 32  # the eager square, unchanged


def test_pattern_counts_and_unchanged_parameters() -> None:
    full = sp.estimate(sp.Architecture(**BASE), batch=1, seq_len=2048)
    # Gemma-2's pattern: layers 1, 3, 5 global, the rest a 512-token window.
    arch = sp.Architecture(**BASE, attention_window=512, global_every=2)
    assert arch.n_window_layers == 3
    report = sp.estimate(arch, batch=1, seq_len=2048)
    assert report.params.total == full.params.total
    assert report.flops.forward == full.flops.forward
    table = report.layers
    assert table.row("attn_scores", "attention")["count"] == 3
    assert table.row("attn_scores", "window_attention")["count"] == 3
    s, w = 2048, 512
    saved_pairs = s * (s + 1) / 2 - (w * (w + 1) / 2 + (s - w) * w)
    assert full.flops.forward_causal - report.flops.forward_causal == pytest.approx(
        3 * 2 * 2 * 8 * 32 * saved_pairs)
    # KV cache: 3 layers of 2048 positions and 3 of 512 (2 x h_kv x d_h x 2 bytes each).
    assert report.memory.kv_cache == 2 * 2 * 32 * 2 * (3 * 2048 + 3 * 512)
    assert full.memory.kv_cache == 2 * 2 * 32 * 2 * 6 * 2048
    assert report.time.step < full.time.step


def test_global_layers_list_and_all_windowed() -> None:
    listed = sp.Architecture(**BASE, attention_window=64, global_layers=(0, 5))
    assert listed.n_window_layers == 4
    mistral = sp.Architecture(**BASE, attention_window=64)
    assert mistral.n_window_layers == 6
    table = sp.estimate(mistral, batch=1, seq_len=128).layers
    assert "attention" not in set(table["section"])
    # Full recomputation keeps each layer's input, on its first op, for every layer.
    report = sp.estimate(mistral, batch=1, seq_len=128, recompute="full")
    assert report.layers.total("saved_bytes") == pytest.approx(report.memory.activations)


def test_mla_counts_and_compressed_cache() -> None:
    """DeepSeek-V2 §2.1.2: the cache holds (d_c + d_h^R) elements per token and layer."""
    arch = sp.Architecture(**BASE | dict(n_kv_heads=None), kv_lora_rank=64, q_lora_rank=96,
                           qk_nope_head_dim=32, qk_rope_head_dim=16, v_head_dim=24)
    assert (arch.head_dim, arch.n_kv_heads) == (48, 8)
    report = sp.estimate(arch, batch=3, seq_len=100)
    assert report.memory.kv_cache == 6 * (64 + 16) * 100 * 3 * 2
    d, h = 256, 8
    per_layer = (d * 96 + 96 + 96 * h * 48 + d * (64 + 16) + 64 + 64 * h * (32 + 24)
                 + h * 24 * d + 2 * d + 3 * d * 512)
    assert report.params.total == 6 * per_layer + 2 * 1000 * d + d
    table = report.layers
    tokens = 300
    assert table.row("attn_scores")["flops_forward"] == 2 * 3 * h * 100 * 100 * 48
    assert table.row("attn_values")["flops_forward"] == 2 * 3 * h * 100 * 100 * 24
    assert table.row("mla_kv_up")["flops_forward"] == 2 * tokens * 64 * h * (32 + 24)
    # Selective and full recomputation still balance the table against the memory.
    for recompute in ("none", "selective", "full", "per_op"):
        r = sp.estimate(arch, batch=1, seq_len=64, recompute=recompute, tp=2)
        assert r.layers.total("saved_bytes") == pytest.approx(r.memory.activations)


def test_norms_and_biases_change_parameters_as_documented() -> None:
    base = sp.estimate(sp.Architecture(**BASE), batch=1, seq_len=8).params.total
    d, layers, v, h, hkv, dh = 256, 6, 1000, 8, 2, 32

    def params(**changes: object) -> int:
        return sp.estimate(sp.Architecture(**BASE | changes), batch=1, seq_len=8).params.total

    assert params(norm_placement="sandwich") - base == layers * 2 * d
    assert params(norm_placement="post") == base
    assert params(norm_placement="post_residual") - base == -d  # no norm before the head
    assert params(qk_norm="head") - base == layers * 2 * dh
    assert params(qk_norm="full") - base == layers * (h + hkv) * dh
    assert params(parallel_block=True) - base == -layers * d
    assert params(lm_head_bias=True) - base == v
    assert params(embedding_norm=True) - base == d
    assert params(attention_sinks=True) - base == layers * h
    assert params(attention_output_gate=True) - base == layers * d * h * dh
    assert params(attention_output_gate=True, attention_gate_bias=True) - base == layers * (
        d * h * dh + h)
    assert params(norm="layernorm") - base == (2 * layers + 1) * d
    assert params(norm="layernorm_nobias") == base
    assert params(norm="weightless") - base == -(2 * layers + 1) * d
    moe = dict(n_experts=4, top_k=2)
    assert params(**moe, router_bias=True) - params(**moe) == layers * 4
    assert params(**moe, moe_post_norm=True) - params(**moe) == layers * d
    assert params(last_out_bias=True) - base == d  # one layer's bias
    assert params(sub_norms=True) - base == layers * (h * dh + 512)  # attention out, MLP hidden
    assert params(ffn="reglu") == base
    assert params(attention_head_gate=True) - base == layers * d * h  # g_proj


@pytest.mark.parametrize(("changes", "field"), [
    (dict(global_every=2), "global_every"),
    (dict(global_layers=(1,)), "global_every"),
    (dict(attention_window=-1), "attention_window"),
    (dict(attention_window=8, global_every=7), "global_every"),
    (dict(attention_window=8, global_layers=(6,)), "global_layers"),
    (dict(window_kind="banded"), "window_kind"),
    (dict(norm_placement="middle"), "norm_placement"),
    (dict(qk_norm="yes"), "qk_norm"),
    (dict(norm="scalenorm"), "norm"),
    (dict(q_lora_rank=16), "q_lora_rank"),
    (dict(qk_rope_head_dim=16), "qk_rope_head_dim"),
    (dict(kv_lora_rank=16, qk_nope_head_dim=0, qk_rope_head_dim=0), "qk_nope_head_dim"),
    (dict(kv_lora_rank=16, qk_nope_head_dim=16, head_dim=8), "head_dim"),
    (dict(kv_lora_rank=16, qk_nope_head_dim=16, qk_norm="head"), "kv_lora_rank"),
    (dict(kv_lora_rank=-1), "kv_lora_rank"),
    (dict(v_head_dim=0), "v_head_dim"),
    (dict(norm_placement="post_residual", parallel_block=True), "parallel_block"),
    (dict(ffn="xielu", n_experts=4, top_k=2), "n_experts"),
    (dict(ffn="xielu2"), "ffn"),
    (dict(activation_saves=17), "activation_saves"),
    (dict(attention_gate_bias=True), "attention_gate_bias"),
    (dict(moe_post_norm=True, norm_placement="sandwich"), "moe_post_norm"),
    (dict(last_out_bias=True, out_bias=True), "last_out_bias"),
    (dict(sub_norms=True, n_experts=4, top_k=2), "sub_norms"),
    (dict(ffn="reglu2"), "ffn"),
    (dict(attention_head_gate=True, attention_output_gate=True), "attention_head_gate"),
    (dict(ffn_layers=(6,)), "ffn_layers"),
    (dict(global_head_dim=64), "global_head_dim"),
    (dict(window_kv_heads=4), "window_kv_heads"),
    (dict(window_sinks=True), "window_sinks"),
    (dict(window_kv_heads=3, attention_window=8), "window_kv_heads"),
    (dict(window_sinks=True, attention_sinks=True, attention_window=8), "window_sinks"),
    (dict(global_head_dim=-1, attention_window=8), "global_head_dim"),
    (dict(ffn_layers=(1,), ffn="none", d_ff=None), "ffn_layers"),
    (dict(ffn_layers=(1,), linear_mixer="short_conv", attention_layers=(1,)),
     "attention_layers"),
    (dict(linear_mixer="short_conv", attention_every=2, linear_heads=4), "linear_heads"),
    (dict(linear_mixer="short_conv", attention_every=2, linear_conv_kernel=0),
     "linear_conv_kernel"),
    (dict(last_out_bias=True, attention_window=8), "last_out_bias"),
    (dict(ffn="none"), "d_ff"),
    (dict(ffn="none", d_ff=None, n_experts=4, top_k=2), "n_experts"),
    (dict(activation_saves=-1), "activation_saves"),
])
def test_invalid_fields_are_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}="):
        sp.Architecture(**BASE | dict(n_kv_heads=None) | changes)


@settings(max_examples=60, deadline=None)
@given(window=st.integers(-2, 2**24 + 2), every=st.integers(-2, 9),
       rank=st.integers(-2, 2**24 + 2), nope=st.integers(-1, 70000), rope=st.integers(-1, 70000))
def test_boundaries_refuse_with_the_field(window: int, every: int, rank: int, nope: int,
                                          rope: int) -> None:
    arch = result_or_field_error(lambda: sp.Architecture(
        **BASE | dict(n_kv_heads=None), attention_window=window, global_every=every,
        kv_lora_rank=rank, qk_nope_head_dim=nope, qk_rope_head_dim=rope))
    if arch is not None:
        assert 0 <= arch.n_window_layers <= arch.n_layers
        assert arch.head_dim == (nope + rope if rank > 0 else 32)


def test_sweep_rows_equal_estimates_with_layer_kinds() -> None:
    arch = sp.Architecture.preset("gemma-2-9b")
    grid = sp.Grid(**{k: v for k, v in arch.to_dict().items() if k != "name"},
                   seq_len=8192, batch=1, tp=[1, 2, 4], hardware="H100-SXM")
    result = sp.sweep(grid)
    for i in range(len(result)):
        tp = int(result["tp"][i])
        report = sp.estimate(arch, batch=1, seq_len=8192, tp=tp, hardware="H100-SXM")
        assert result["step_time"][i] == pytest.approx(report.time.step, rel=1e-12)
        assert result["params_total"][i] == report.params.total


def test_layer_pattern_axes_sweep_and_rebuild() -> None:
    """attention_window and global_every are model axes: each row's architecture,
    rebuilt from the row, estimates exactly as the sweep costed it."""
    grid = sp.Grid(d_model=1024, n_layers=[12, 24], n_heads=8, n_kv_heads=2,
                   attention_window=[256, 1024, 8192], global_every=[0, 2, 6],
                   qk_norm="head", norm_placement="sandwich", seq_len=4096, batch=1,
                   tp=[1, 2], hardware="H100-SXM")
    result = sp.sweep(grid)
    assert len(result) == 2 * 3 * 3 * 2
    causal = {}
    for i in range(len(result)):
        row = {name: result[name][i] for name in result.columns}
        arch = grid.architecture(row)
        report = sp.estimate(arch, batch=1, seq_len=4096, tp=int(row["tp"]), hardware="H100-SXM")
        assert row["step_time"] == pytest.approx(report.time.step, rel=1e-12)
        assert row["flops_forward_causal"] == pytest.approx(report.flops.forward_causal, rel=1e-12)
        causal[(arch.n_layers, arch.attention_window, arch.global_every)] = report.flops.forward_causal
    # A window at least as long as the sequence costs what full attention does; smaller
    # windows and fewer global layers cost less.
    assert causal[(12, 8192, 0)] == pytest.approx(causal[(12, 8192, 2)])
    assert causal[(12, 256, 0)] < causal[(12, 256, 6)] < causal[(12, 256, 2)] < causal[(12, 8192, 2)]


HYBRID = dict(BASE, linear_heads=4, linear_head_dim=16, linear_key_heads=2, linear_key_dim=8)


@pytest.mark.parametrize("mixer", ["gated_deltanet", "mamba2"])
def test_hybrid_layers_counts_state_and_memory(mixer: str) -> None:
    """Qwen3-Next's pattern (every 4th layer attention) with gated DeltaNet or Mamba-2:
    parameters by hand, the recurrent state in place of the KV cache, and the table
    balanced against the memory in every recomputation mode."""
    arch = sp.Architecture(**HYBRID, linear_mixer=mixer, attention_every=3,
                           linear_conv_bias=mixer == "mamba2")
    assert arch.n_linear_layers == 4
    report = sp.estimate(arch, batch=2, seq_len=64)
    d, hv, dv, hk, dk, k = 256, 4, 16, 2, 8, 4
    if mixer == "gated_deltanet":
        conv = 2 * hk * dk + hv * dv
        mixer_params = d * (2 * hk * dk + 2 * hv * dv + 2 * hv) + conv * k + 2 * hv + dv
        state = hv * dk * dv
    else:
        conv = hv * dv + 2 * hk * dk
        mixer_params = d * (2 * hv * dv + 2 * hk * dk + hv) + conv * (k + 1) + 3 * hv + hv * dv
        state = hv * dv * dk
    mixer_params += hv * dv * d + d  # out_proj and the layer's norm
    full = sp.estimate(sp.Architecture(**BASE), batch=2, seq_len=64)
    attention_params = full.layers.row("qkv_proj")["params"] + full.layers.row("out_proj")["params"] + d
    assert report.params.total == full.params.total + 4 * (mixer_params - attention_params)
    # KV cache: 2 attention layers of 64 positions; 4 layers of state and K - 1 inputs.
    assert report.memory.kv_cache == 2 * 2 * (2 * 2 * 2 * 32 * 64 + 4 * (state + (k - 1) * conv))
    for recompute in ("none", "selective", "full", "per_op"):
        r = sp.estimate(arch, batch=1, seq_len=64, recompute=recompute, tp=2)
        assert r.layers.total("saved_bytes") == pytest.approx(r.memory.activations)
    # The scan is elementwise work; the convolution is counted with the matmuls.
    assert report.layers.row("linear_scan")["kind"] == "elementwise"
    assert report.layers.row("linear_conv")["flops_forward"] == 2 * 128 * conv * k


@pytest.mark.parametrize(("changes", "field"), [
    (dict(attention_every=2), "attention_every"),
    (dict(attention_layers=(1,)), "attention_every"),
    (dict(linear_mixer="mamba3"), "linear_mixer"),
    (dict(linear_mixer="mamba2", linear_heads=0), "linear_heads"),
    (dict(linear_mixer="mamba2", linear_key_heads=3), "linear_key_heads"),
    (dict(linear_mixer="mamba2", linear_key_heads=8), "linear_key_heads"),
    (dict(linear_mixer="gated_deltanet", attention_every=7), "attention_every"),
    (dict(linear_mixer="gated_deltanet", attention_layers=(6,)), "attention_layers"),
    (dict(linear_mixer="gated_deltanet", linear_conv_kernel=0), "linear_conv_kernel"),
    (dict(linear_mixer="mamba2", linear_dt_rank=8), "linear_dt_rank"),
    (dict(linear_mixer="mamba", linear_head_dim=1, linear_key_heads=1), "linear_dt_rank"),
    (dict(linear_mixer="mamba", linear_dt_rank=8), "linear_head_dim"),
    (dict(linear_mixer="mamba", linear_head_dim=1, linear_dt_rank=8), "linear_key_heads"),
    (dict(linear_mixer="mamba2", linear_inner_norms=True), "linear_inner_norms"),
])
def test_invalid_hybrid_fields_are_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}="):
        sp.Architecture(**HYBRID | changes)


def test_hybrid_sweep_rows_equal_estimates() -> None:
    fixed = dict(linear_mixer="gated_deltanet", attention_every=4, linear_heads=8,
                 linear_head_dim=64, linear_key_heads=4, linear_key_dim=64,
                 attention_window=512, global_every=2)
    grid = sp.Grid(d_model=[512, 1024], n_layers=[8, 16], n_heads=8, seq_len=2048, batch=1,
                   tp=[1, 2], hardware="H100-SXM", **fixed)
    result = sp.sweep(grid)
    assert len(result) == 8
    for i in range(len(result)):
        row = {name: result[name][i] for name in result.columns}
        arch = grid.architecture(row)
        assert arch.n_linear_layers == arch.n_layers * 3 // 4
        report = sp.estimate(arch, batch=1, seq_len=2048, tp=int(row["tp"]),
                             hardware="H100-SXM")
        assert row["step_time"] == pytest.approx(report.time.step, rel=1e-12)
        assert row["params_total"] == report.params.total


@settings(max_examples=80, deadline=None)
@given(d=st.integers(1, 2**20), layers=st.integers(1, 2**16), experts=st.integers(0, 4096),
       ff=st.integers(1, 2**24), kind=st.sampled_from(["plain", "mla", "hybrid", "sandwich"]))
def test_accepted_shapes_are_within_the_parameter_limit(d: int, layers: int, experts: int,
                                                        ff: int, kind: str) -> None:
    """Resolve refuses a shape over 1e15 parameters whichever way it decides (a quick
    bound, or the exact sum when the bound is over): what it accepts is under the limit."""
    extra: dict[str, object] = {
        "plain": {}, "sandwich": dict(norm_placement="sandwich", qk_norm="full"),
        "mla": dict(kv_lora_rank=512, q_lora_rank=1536, qk_nope_head_dim=128,
                    qk_rope_head_dim=64, n_kv_heads=None, head_dim=None),
        "hybrid": dict(linear_mixer="mamba2", linear_heads=64, linear_head_dim=64,
                       linear_key_heads=8, linear_key_dim=128, attention_every=4),
    }[kind]
    fields = dict(BASE, d_model=d, n_layers=layers, n_heads=8, n_kv_heads=8, head_dim=128,
                  d_ff=ff, n_experts=experts, top_k=1) | extra
    arch = result_or_field_error(lambda: sp.Architecture(**fields))
    if arch is not None:
        assert sp.estimate(arch, batch=1, seq_len=1).params.total <= 1e15


def test_post_residual_norms_follow_each_add_and_flow_through_memory_and_sweeps() -> None:
    """Post-LN (Vaswani et al. 2017 §3.1): a norm after each of the two residual adds per
    layer and none before the head; the same norm work per layer as pre-norm, one norm
    fewer in all, and each layer's first op is its QKV projection (what full
    recomputation keeps)."""
    pre = sp.estimate(sp.Architecture(**BASE), batch=2, seq_len=64)
    arch = sp.Architecture(**BASE, norm_placement="post_residual")
    post = sp.estimate(arch, batch=2, seq_len=64)
    table = post.layers
    assert "final_norm" not in set(table["op"])
    assert "attn_norm" not in set(table["op"])
    assert "mlp_norm" not in set(table["op"])
    assert table.row("attn_post_norm", "attention")["count"] == 6
    assert table.row("mlp_post_norm", "mlp")["count"] == 6
    assert post.flops.forward == pre.flops.forward
    full = sp.estimate(arch, batch=2, seq_len=64, recompute="full")
    assert full.layers.total("saved_bytes") == pytest.approx(full.memory.activations)
    grid = sp.Grid(**BASE, norm_placement="post_residual", seq_len=64, batch=[1, 2],
                   hardware="H100-SXM")
    rows = sp.sweep(grid)
    one = sp.estimate(arch, batch=2, seq_len=64, hardware="H100-SXM")
    row = rows.to_pandas().query("batch == 2").iloc[0]
    assert row["params_total"] == one.params.total
    assert row["memory_activations"] == pytest.approx(one.memory.activations)


def test_last_layer_output_bias_is_one_bias_once_in_estimates_and_sweeps() -> None:
    """GPT-NeoX Japanese: a bias on the last layer's attention output alone; d_model
    parameters and one add per element of the stream, once, in an estimate and a sweep."""
    arch = sp.Architecture(**BASE, last_out_bias=True)
    plain = sp.estimate(sp.Architecture(**BASE), batch=2, seq_len=64, hardware="H100-SXM")
    one = sp.estimate(arch, batch=2, seq_len=64, hardware="H100-SXM")
    row = one.layers.row("last_out_bias", "head")
    assert (row["count"], row["params"]) == (1, 256)
    assert row["elementwise_forward"] == 2 * 64 * 256
    assert one.flops.forward == plain.flops.forward
    assert one.flops.elementwise_forward - plain.flops.elementwise_forward == 2 * 64 * 256
    grid = sp.Grid(**BASE | dict(n_layers=[2, 6]), last_out_bias=True, seq_len=64, batch=2,
                   hardware="H100-SXM")
    rows = sp.sweep(grid).to_pandas().query("n_layers == 6").iloc[0]
    assert rows["params_total"] == one.params.total
    assert rows["memory_activations"] == pytest.approx(one.memory.activations)


def test_bitnet_sub_norms_and_reglu_in_estimates_tensor_parallel_and_sweeps() -> None:
    """BitNet b1.58 (Ma et al. 2024): a norm over the attention output and one over the
    MLP hidden, each split with its sub-layer over tp; ReGLU (Shazeer 2020) has SwiGLU's
    matrices and a ReLU (1 FLOP per element) before the gate's product."""
    fields = BASE | dict(ffn="reglu", sub_norms=True)
    one = sp.estimate(sp.Architecture(**fields), batch=2, seq_len=64, hardware="H100-SXM")
    swiglu = sp.estimate(sp.Architecture(**BASE), batch=2, seq_len=64)
    assert one.flops.forward == swiglu.flops.forward
    assert one.layers.row("mlp_act", "mlp")["elementwise_forward"] == 2 * 128 * 512
    attn = one.layers.row("attn_sub_norm", "attention")
    mlp = one.layers.row("mlp_sub_norm", "mlp")
    assert (attn["count"], attn["params"], mlp["count"], mlp["params"]) == (6, 256, 6, 512)
    assert mlp["elementwise_forward"] == 4 * 128 * 512  # RMSNorm: 4 per element
    tp2 = sp.estimate(sp.Architecture(**fields), batch=2, seq_len=64, tp=2)
    assert tp2.layers.row("mlp_sub_norm", "mlp")["params_per_device"] == 256
    grid = sp.Grid(**BASE | dict(ffn="reglu", n_layers=[2, 6]), sub_norms=True, seq_len=64,
                   batch=2, hardware="H100-SXM")
    row = sp.sweep(grid).to_pandas().query("n_layers == 6").iloc[0]
    assert row["params_total"] == one.params.total
    assert row["memory_activations"] == pytest.approx(one.memory.activations)


def test_short_convolution_layers_of_lfm2_in_estimates_and_sweeps() -> None:
    """LFM2's gated short convolution (transformers' Lfm2ShortConv): in_proj to B, C and x
    of d_model each, a depthwise causal convolution of K taps, out_proj; with conv_bias a
    bias on all three. Three of six layers here, the others attention."""
    d, k = 256, 4
    hybrid = BASE | dict(linear_mixer="short_conv", attention_every=2)
    plain = sp.estimate(sp.Architecture(**BASE), batch=2, seq_len=64)
    one = sp.estimate(sp.Architecture(**hybrid), batch=2, seq_len=64, hardware="H100-SXM")
    attention = 256 * 256 + 2 * 256 * 64 + 256 * 256
    mixer = 3 * d * d + d * k + d * d
    assert one.params.total - plain.params.total == 3 * (mixer - attention)
    biased = sp.estimate(sp.Architecture(**hybrid, linear_conv_bias=True), batch=2, seq_len=64)
    assert biased.params.total - one.params.total == 3 * (3 * d + d + d)
    conv = one.layers.row("linear_conv", "linear_mixer")
    assert conv["count"] == 3
    assert conv["flops_forward"] == 2 * 128 * d * k
    assert conv["elementwise_forward"] == 2 * 128 * d  # B x and C y
    assert "linear_scan" not in set(one.layers["op"])
    grid = sp.Grid(**hybrid | dict(n_layers=[4, 6]), seq_len=64, batch=2, hardware="H100-SXM")
    row = sp.sweep(grid).to_pandas().query("n_layers == 6").iloc[0]
    assert row["params_total"] == one.params.total
    assert row["memory_activations"] == pytest.approx(one.memory.activations)


def test_blocks_of_one_kind_each_of_nemotron_h_in_estimates_and_sweeps() -> None:
    """Nemotron-H: every layer one block, a mixer or an FFN alone. Of six layers here,
    1, 3 and 5 are FFN blocks (5 of experts), 2 attention, 0 and 4 the linear mixer: each
    section counts its own blocks, and the parameters are those blocks' alone."""
    fields = BASE | dict(linear_mixer="short_conv", attention_layers=(2,), ffn_layers=(1, 3, 5),
                         n_experts=4, top_k=2, d_ff_expert=128, dense_layers=(1, 3))
    one = sp.estimate(sp.Architecture(**fields), batch=2, seq_len=64, hardware="H100-SXM")
    table = one.layers
    assert table.row("qkv_proj", "attention")["count"] == 1
    assert table.row("linear_in_proj", "linear_mixer")["count"] == 2
    assert table.row("mlp_up", "mlp")["count"] == 2
    assert table.row("routed_experts", "moe")["count"] == 1
    d, k = 256, 4
    attention = d + 256 * 256 + 2 * 256 * 64 + 256 * 256
    mixer = d + 3 * d * d + d * k + d * d
    mlp = d + 3 * d * 512
    moe = d + d * 4 + 4 * 3 * d * 128
    assert one.params.total == attention + 2 * mixer + 2 * mlp + moe + 1000 * d * 2 + d
    grid = sp.Grid(**fields, seq_len=64, batch=[1, 2], hardware="H100-SXM")
    row = sp.sweep(grid).to_pandas().query("batch == 2").iloc[0]
    assert row["params_total"] == one.params.total
    assert row["memory_activations"] == pytest.approx(one.memory.activations)
    assert row["memory_per_gpu"] == pytest.approx(one.memory.per_gpu)
    # The KV cache: one attention block's keys and values (2 kv heads of 32) per position,
    # and the two mixers' convolution states (K - 1 inputs of d_model).
    assert one.memory.kv_cache == pytest.approx(2 * (64 * 2 * 2 * 32 + 2 * 3 * d) * 2)


def test_global_head_dim_widens_the_full_attention_layers_alone() -> None:
    """Gemma 4: the full-attention layers' heads have a width of their own. Layers 2 and 5
    of six are global here (global_every=3), with heads of 64 instead of 32: their
    projections, scores and cached keys and values double, the windowed ones' do not."""
    windowed = BASE | dict(attention_window=16, global_every=3)
    plain = sp.estimate(sp.Architecture(**windowed), batch=2, seq_len=64, hardware="H100-SXM")
    wide = sp.estimate(sp.Architecture(**windowed, global_head_dim=64), batch=2, seq_len=64,
                       hardware="H100-SXM")
    q_kv_o = 256 * (8 + 2 * 2) * 32 + 8 * 32 * 256
    assert wide.params.total - plain.params.total == 2 * q_kv_o
    scores = wide.layers.row("attn_scores", "attention")
    assert scores["flops_forward"] == 2 * plain.layers.row("attn_scores", "attention")[
        "flops_forward"]
    assert wide.layers.row("attn_scores", "window_attention") == plain.layers.row(
        "attn_scores", "window_attention")
    # Two global layers, batch 2 x 64 positions, keys and values of 2 kv heads 32 wider,
    # 2 bytes each.
    extra = 2 * (2 * 64) * 2 * 2 * (64 - 32) * 2
    assert wide.memory.kv_cache - plain.memory.kv_cache == pytest.approx(extra)
    grid = sp.Grid(**windowed | dict(n_layers=[3, 6]), global_head_dim=64, seq_len=64, batch=2,
                   hardware="H100-SXM")
    row = sp.sweep(grid).to_pandas().query("n_layers == 6").iloc[0]
    assert row["params_total"] == wide.params.total
    assert row["memory_activations"] == pytest.approx(wide.memory.activations)


def test_windowed_layers_with_their_own_kv_heads_and_sinks() -> None:
    """MiMo-V2-Flash: its sliding layers have twice the KV heads and a sink per head; the
    full layers neither. Four of six layers are windowed here (global_every=3)."""
    windowed = BASE | dict(attention_window=16, global_every=3)
    plain = sp.estimate(sp.Architecture(**windowed), batch=2, seq_len=64, hardware="H100-SXM")
    mimo = sp.estimate(sp.Architecture(**windowed, window_kv_heads=4, window_sinks=True),
                       batch=2, seq_len=64, hardware="H100-SXM")
    assert mimo.params.total - plain.params.total == 4 * (2 * 256 * 2 * 32 + 8)
    assert mimo.layers.row("attn_softmax", "window_attention")["params"] == 8
    assert mimo.layers.row("attn_softmax", "attention")["params"] == 0
    # Four windowed layers cache min(16, 64) positions of 2 more kv heads (keys and
    # values of 32, 2 bytes, batch 2).
    extra = 4 * (2 * 16) * 2 * 2 * 32 * 2
    assert mimo.memory.kv_cache - plain.memory.kv_cache == pytest.approx(extra)
    grid = sp.Grid(**windowed | dict(n_layers=[3, 6]), window_kv_heads=4, window_sinks=True,
                   seq_len=64, batch=2, hardware="H100-SXM")
    row = sp.sweep(grid).to_pandas().query("n_layers == 6").iloc[0]
    assert row["params_total"] == mimo.params.total
    assert row["memory_activations"] == pytest.approx(mimo.memory.activations)


def test_xielu_mlp_counts_its_scalars_and_elementwise_work() -> None:
    """xIELU (Huang et al. 2024): an ungated MLP whose activation learns two scalars."""
    gelu = sp.estimate(sp.Architecture(**BASE | dict(ffn="gelu")), batch=1, seq_len=32)
    xielu = sp.estimate(sp.Architecture(**BASE | dict(ffn="xielu")), batch=1, seq_len=32)
    assert xielu.params.total - gelu.params.total == 6 * 2
    assert xielu.flops.forward == gelu.flops.forward
    act = xielu.layers.row("mlp_act", "mlp")
    assert act["elementwise_forward"] == 10 * 32 * 512  # per layer: 32 tokens, d_ff 512


def test_activation_saves_sets_the_huggingface_mlp_memory() -> None:
    """What the activation keeps (transformers' module for the config's name) changes the
    huggingface profile's saved bytes, and only its; gated FFNs add the up output and the
    activation's output."""
    def act_saved(implementation: str, **changes: object) -> float:
        arch = sp.Architecture(**BASE | changes)
        row = sp.estimate(arch, batch=1, seq_len=32, implementation=implementation,
                          dtype="bf16").layers.row("mlp_act", "mlp")
        return row["saved_bytes"]

    hidden = 2 * 32 * 512  # bf16 bytes of one tensor of the hidden width
    assert act_saved("huggingface", ffn="gelu") == 4 * hidden  # gelu_new, the default
    assert act_saved("huggingface", ffn="gelu", activation_saves=1) == hidden
    assert act_saved("huggingface", ffn="gelu", activation_saves=2) == 2 * hidden
    assert act_saved("huggingface") == 3 * hidden  # SwiGLU: silu's input, its output, up
    assert act_saved("huggingface", activation_saves=4) == 6 * hidden
    assert act_saved("megatron", ffn="gelu", activation_saves=7) == hidden
    grid = sp.Grid(**BASE | dict(ffn="gelu", activation_saves=1), seq_len=32, batch=[1, 2],
                   implementation="huggingface", dtype="bf16", hardware="H100-SXM")
    row = sp.sweep(grid).to_pandas().query("batch == 1").iloc[0]
    one = sp.estimate(sp.Architecture(**BASE | dict(ffn="gelu", activation_saves=1)),
                      batch=1, seq_len=32, implementation="huggingface", dtype="bf16",
                      hardware="H100-SXM")
    assert row["memory_activations"] == pytest.approx(one.memory.activations)


def test_layers_without_an_mlp() -> None:
    """ffn "none": each layer a norm, its mixer and a residual (Mamba's blocks); the MLP's
    matrices, norm and residual are gone from the counts, the memory and the sweep."""
    with_mlp = sp.estimate(sp.Architecture(**BASE), batch=1, seq_len=32)
    arch = sp.Architecture(**BASE | dict(ffn="none", d_ff=None))
    assert arch.d_ff is None
    assert sp.Architecture(**arch.to_dict()) == arch
    report = sp.estimate(arch, batch=1, seq_len=32)
    d, layers, f = 256, 6, 512
    assert with_mlp.params.total - report.params.total == layers * (3 * d * f + d)
    assert with_mlp.flops.forward - report.flops.forward == layers * 3 * 2 * 32 * d * f
    assert "mlp" not in set(report.layers["section"])
    assert report.memory.activations < with_mlp.memory.activations
    grid = sp.Grid(**BASE | dict(ffn="none", d_ff=None), seq_len=32, batch=[1, 2],
                   hardware="H100-SXM")
    row = sp.sweep(grid).to_pandas().query("batch == 1").iloc[0]
    assert row["params_total"] == report.params.total
    assert row["memory_activations"] == pytest.approx(report.memory.activations)
    # Megatron's closed form has an MLP in every layer: refused, naming ffn.
    with pytest.raises(ValueError, match=r"^ffn='none' is invalid"):
        megatron_core_moe(arch, 1, 32)


def test_mamba1_layers_by_hand() -> None:
    """Mamba-1 (Gu & Dao 2023, Algorithm 2; transformers' MambaMixer), no MLP: in_proj to x
    and z, a depthwise convolution with bias, x_proj to the step's rank and B, C, dt_proj
    back with a bias, A and D per channel, out_proj; the state is N per channel."""
    d, inner, n, rank, k, layers, v = 64, 128, 16, 4, 4, 3, 100
    arch = sp.Architecture(d_model=d, n_layers=layers, n_heads=1, ffn="none",
                           vocab_size=v, max_position_embeddings=1024, position="none",
                           norm="rmsnorm", linear_mixer="mamba", linear_heads=inner,
                           linear_key_dim=n, linear_dt_rank=rank, linear_conv_kernel=k,
                           linear_conv_bias=True)
    assert arch.n_linear_layers == 3
    report = sp.estimate(arch, batch=2, seq_len=32)
    mixer = (d * 2 * inner + inner * (k + 1) + inner * (rank + 2 * n) + rank * inner + inner
             + inner * n + inner + inner * d)
    assert report.params.total == v * d * 2 + layers * (mixer + d) + d
    tokens = 64
    matmuls = 2 * tokens * (d * 2 * inner + inner * k + inner * (rank + 2 * n)
                            + rank * inner + inner * d)
    assert report.flops.forward == layers * matmuls + 2 * tokens * d * v
    assert report.memory.kv_cache == 2 * 2 * layers * (inner * n + (k - 1) * inner)
    for recompute in ("none", "selective", "full", "per_op"):
        r = sp.estimate(arch, batch=1, seq_len=32, recompute=recompute)
        assert r.layers.total("saved_bytes") == pytest.approx(r.memory.activations)
    # Jamba's RMS norms on dt, B and C: a weight each, R + 2 N per mixer.
    jamba = sp.Architecture(**arch.to_dict() | dict(linear_inner_norms=True))
    normed = sp.estimate(jamba, batch=2, seq_len=32)
    assert normed.params.total - report.params.total == layers * (rank + 2 * n)
    assert normed.flops.forward == report.flops.forward
