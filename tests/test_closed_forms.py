"""The core against closed forms published in papers."""

from __future__ import annotations

import pytest

import scalingperf as sp

# GPT-3 shapes whose heads span d_model exactly, as the closed forms assume.
GPT3_SQUARE = ["gpt3-small", "gpt3-medium", "gpt3-large", "gpt3-2.7b", "gpt3-6.7b", "gpt3-175b"]


@pytest.mark.parametrize("name", GPT3_SQUARE)
@pytest.mark.parametrize(("batch", "seq_len"), [(1, 2048), (8, 1024), (512, 2048)])
def test_narayanan_full_recompute(name, batch, seq_len):
    """Narayanan et al. 2021, eq. (3): 96 B s l h^2 (1 + s / 6h + V / 16 l h) FLOPs per
    iteration with full recomputation (the output layer is not recomputed)."""
    arch = sp.Architecture.preset(name)
    report = sp.estimate(arch, batch=batch, seq_len=seq_len, recompute="full")
    b, s, layers, h, v = batch, seq_len, arch.n_layers, arch.d_model, arch.vocab_size
    expected = 96 * b * s * layers * h**2 * (1 + s / (6 * h) + v / (16 * layers * h))
    assert report.flops.hardware == pytest.approx(expected, rel=1e-12)
    # Without recomputation the layers' forward is done once: 72 instead of 96.
    plain = sp.estimate(arch, batch=batch, seq_len=seq_len)
    assert plain.flops.model == pytest.approx(
        72 * b * s * layers * h**2 * (1 + s / (6 * h)) + 6 * b * s * h * v, rel=1e-12)


@pytest.mark.parametrize("name", GPT3_SQUARE)
def test_kaplan_forward_per_token(name):
    """Kaplan et al. 2020, Table 1: C_forward = 2N + 2 n_layer n_ctx d_attn per token,
    with N the non-embedding weights and causal attention (the de-embedding apart)."""
    arch = sp.Architecture.preset(name)
    s = arch.max_position_embeddings
    report = sp.estimate(arch, batch=1, seq_len=s)
    d, f, layers = arch.d_model, arch.d_ff, arch.n_layers
    d_attn = arch.n_heads * arch.head_dim
    n_weights = 2 * d * layers * (2 * d_attn + f)  # Kaplan's N, biases and norms left out
    de_embed = 2 * d * arch.vocab_size
    per_token = report.flops.forward_causal / s - de_embed
    # Our causal count keeps the diagonal: (s + 1) / 2 keys per query on average.
    assert per_token == pytest.approx(2 * n_weights + 2 * layers * (s + 1) * d_attn, rel=1e-12)
    assert per_token == pytest.approx(2 * n_weights + 2 * layers * s * d_attn, rel=1 / s)


@pytest.mark.parametrize("name", GPT3_SQUARE)
def test_six_n_rule(name):
    """Kaplan et al. 2020 §2.1: training costs about 6N per token, with a relative
    attention correction of n_ctx / (12 d_model) for causal attention."""
    arch = sp.Architecture.preset(name)
    s = arch.max_position_embeddings
    report = sp.estimate(arch, batch=1, seq_len=s)
    flops = report.flops
    assert flops.six_n_per_token == 6 * report.params.active_non_embedding
    lm_head = 6 * arch.d_model * arch.vocab_size
    train_causal = (flops.forward_causal + flops.backward_causal) / s - lm_head
    correction = 1 + (s + 1) / (12 * arch.d_model)
    # The rest is N's biases and norms (13 d per layer against 12 d^2 weights), which do
    # no matmul work: a relative 13 / (12 d) < 1.5 / d.
    ratio = train_causal / flops.six_n_per_token
    assert ratio == pytest.approx(correction, rel=1.5 / arch.d_model)
    assert ratio < correction


@pytest.mark.parametrize(("name", "published"), [
    ("gpt3-small", 125e6), ("gpt3-medium", 350e6), ("gpt3-large", 760e6), ("gpt3-xl", 1.3e9),
    ("gpt3-2.7b", 2.7e9), ("gpt3-6.7b", 6.7e9), ("gpt3-13b", 13e9), ("gpt3-175b", 175e9),
])
def test_gpt3_sizes_match_table_2_1(name, published):
    """Brown et al. 2020, Table 2.1 rounds n_params to two or three digits."""
    params = sp.estimate(sp.Architecture.preset(name), batch=1, seq_len=1).params.total
    assert params == pytest.approx(published, rel=0.03)


def test_causal_count_is_about_half_the_attention_core():
    arch = sp.Architecture.preset("llama-2-7b")
    report = sp.estimate(arch, batch=1, seq_len=4096)
    core = report.layers.row("attn_scores")
    assert core["flops_forward_causal"] / core["flops_forward"] == pytest.approx(4097 / 8192)
    assert report.flops.forward_causal < report.flops.forward
    assert report.flops.backward_causal == 2 * report.flops.forward_causal
