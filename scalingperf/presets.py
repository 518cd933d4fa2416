"""Published architectures, with the paper or released config each shape comes from."""

from __future__ import annotations

from typing import Any

from .architecture import Architecture

_GPT2 = dict(vocab_size=50257, max_position_embeddings=1024, ffn="gelu", position="learned",
             norm="layernorm", qkv_bias=True, out_bias=True, mlp_bias=True, tie_embeddings=True)
_GPT3 = dict(_GPT2, max_position_embeddings=2048)
# Rae et al. 2021 (Gopher) and Hoffmann et al. 2022 (Chinchilla) use RMSNorm and
# Transformer-XL relative positions; the relative-position terms are not modelled here.
_DEEPMIND = dict(vocab_size=32000, max_position_embeddings=2048, ffn="gelu", position="none",
                 norm="rmsnorm")
_LLAMA = dict(ffn="swiglu", position="rotary", norm="rmsnorm")

_PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    # Radford et al. 2019, Table 2 (layers, width); heads and sizes from the released configs.
    "gpt2-small": ("Radford et al. 2019", dict(_GPT2, d_model=768, n_layers=12, n_heads=12)),
    "gpt2-medium": ("Radford et al. 2019", dict(_GPT2, d_model=1024, n_layers=24, n_heads=16)),
    "gpt2-large": ("Radford et al. 2019", dict(_GPT2, d_model=1280, n_layers=36, n_heads=20)),
    "gpt2-xl": ("Radford et al. 2019", dict(_GPT2, d_model=1600, n_layers=48, n_heads=25)),
    # Brown et al. 2020, Table 2.1: n_layers, d_model, n_heads, d_head; d_ff = 4 d_model.
    "gpt3-small": ("Brown et al. 2020, Table 2.1",
                   dict(_GPT3, d_model=768, n_layers=12, n_heads=12, head_dim=64)),
    "gpt3-medium": ("Brown et al. 2020, Table 2.1",
                    dict(_GPT3, d_model=1024, n_layers=24, n_heads=16, head_dim=64)),
    "gpt3-large": ("Brown et al. 2020, Table 2.1",
                   dict(_GPT3, d_model=1536, n_layers=24, n_heads=16, head_dim=96)),
    # Table 2.1 prints 24 heads of 128 for XL, which would make 1.52B parameters, not the
    # 1.3B it also prints; the 1.3B needs n_heads * d_head = d_model = 2048, as in every
    # other row. FLOPs and parameters depend only on that product, so we take 16 x 128.
    "gpt3-xl": ("Brown et al. 2020, Table 2.1 (see note on heads)",
                dict(_GPT3, d_model=2048, n_layers=24, n_heads=16, head_dim=128)),
    "gpt3-2.7b": ("Brown et al. 2020, Table 2.1",
                  dict(_GPT3, d_model=2560, n_layers=32, n_heads=32, head_dim=80)),
    "gpt3-6.7b": ("Brown et al. 2020, Table 2.1",
                  dict(_GPT3, d_model=4096, n_layers=32, n_heads=32, head_dim=128)),
    "gpt3-13b": ("Brown et al. 2020, Table 2.1",
                 dict(_GPT3, d_model=5140, n_layers=40, n_heads=40, head_dim=128)),
    "gpt3-175b": ("Brown et al. 2020, Table 2.1",
                  dict(_GPT3, d_model=12288, n_layers=96, n_heads=96, head_dim=128)),
    # Rae et al. 2021, Table 1; Hoffmann et al. 2022, Table 4 (key/value size 128).
    "gopher-280b": ("Rae et al. 2021, Table 1",
                    dict(_DEEPMIND, d_model=16384, n_layers=80, n_heads=128, head_dim=128)),
    "chinchilla-70b": ("Hoffmann et al. 2022, Table 4",
                       dict(_DEEPMIND, d_model=8192, n_layers=80, n_heads=64, head_dim=128)),
    # Touvron et al. 2023 (Llama 2), Table 1 and the released configs.
    "llama-2-7b": ("Touvron et al. 2023, Llama 2", dict(
        _LLAMA, d_model=4096, n_layers=32, n_heads=32, d_ff=11008, vocab_size=32000,
        max_position_embeddings=4096)),
    "llama-2-13b": ("Touvron et al. 2023, Llama 2", dict(
        _LLAMA, d_model=5120, n_layers=40, n_heads=40, d_ff=13824, vocab_size=32000,
        max_position_embeddings=4096)),
    "llama-2-70b": ("Touvron et al. 2023, Llama 2", dict(
        _LLAMA, d_model=8192, n_layers=80, n_heads=64, n_kv_heads=8, d_ff=28672,
        vocab_size=32000, max_position_embeddings=4096)),
    # Dubey et al. 2024 (The Llama 3 Herd of Models), Table 3.
    "llama-3-8b": ("Dubey et al. 2024, Table 3", dict(
        _LLAMA, d_model=4096, n_layers=32, n_heads=32, n_kv_heads=8, d_ff=14336,
        vocab_size=128256, max_position_embeddings=8192)),
    "llama-3-70b": ("Dubey et al. 2024, Table 3", dict(
        _LLAMA, d_model=8192, n_layers=80, n_heads=64, n_kv_heads=8, d_ff=28672,
        vocab_size=128256, max_position_embeddings=8192)),
    # Jiang et al. 2023 (Mistral 7B), Table 1.
    "mistral-7b": ("Jiang et al. 2023, Table 1", dict(
        _LLAMA, d_model=4096, n_layers=32, n_heads=32, n_kv_heads=8, d_ff=14336,
        vocab_size=32000, max_position_embeddings=32768)),
    # Jiang et al. 2024 (Mixtral of Experts), Table 1.
    "mixtral-8x7b": ("Jiang et al. 2024, Table 1", dict(
        _LLAMA, d_model=4096, n_layers=32, n_heads=32, n_kv_heads=8, d_ff=14336,
        vocab_size=32000, max_position_embeddings=32768, n_experts=8, top_k=2)),
    # Qwen team 2024, Qwen1.5-MoE-A2.7B released config: 60 routed experts of width 1408,
    # top-4, one gated shared expert of width 5632.
    "qwen1.5-moe-a2.7b": ("Qwen1.5-MoE-A2.7B config", dict(
        _LLAMA, d_model=2048, n_layers=24, n_heads=16, d_ff=5632, vocab_size=151936,
        max_position_embeddings=8192, qkv_bias=True, n_experts=60, top_k=4,
        d_ff_expert=1408, n_shared_experts=1, d_ff_shared=5632, shared_expert_gate=True)),
    # Dai et al. 2024 (DeepSeekMoE), Table 1 / released config: 64 fine-grained experts of
    # width 1408, top-6, two shared experts, first layer dense.
    "deepseek-moe-16b": ("Dai et al. 2024, DeepSeekMoE 16B", dict(
        _LLAMA, d_model=2048, n_layers=28, n_heads=16, d_ff=10944, vocab_size=102400,
        max_position_embeddings=4096, n_experts=64, top_k=6, d_ff_expert=1408,
        n_shared_experts=2, first_dense_layers=1)),
}


def presets() -> dict[str, str]:
    """Names of the built-in architectures, each with the source of its shape."""
    return {name: source for name, (source, _) in _PRESETS.items()}


def preset(name: str) -> Architecture:
    """The built-in architecture ``name`` (see :func:`presets`)."""
    try:
        _, fields = _PRESETS[name]
    except KeyError:
        known = ", ".join(_PRESETS)
        msg = f"preset={name!r} is invalid: known presets are {known}"
        raise ValueError(msg) from None
    return Architecture(**fields, name=name)
