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
_GEMMA2 = dict(ffn="geglu", position="rotary", norm="rmsnorm", norm_placement="sandwich",
               vocab_size=256000, max_position_embeddings=8192, tie_embeddings=True,
               attention_window=4096, global_every=2)
_QWEN3 = dict(_LLAMA, vocab_size=151936, max_position_embeddings=40960, head_dim=128,
              qk_norm="head")
_GPT_OSS = dict(_LLAMA, d_model=2880, n_heads=64, n_kv_heads=8, head_dim=64, d_ff=2880,
                vocab_size=201088, max_position_embeddings=131072, qkv_bias=True,
                out_bias=True, mlp_bias=True, attention_sinks=True, top_k=4,
                router_bias=True, attention_window=128, global_every=2)
_LLAMA4 = dict(_LLAMA, d_model=5120, n_layers=48, n_heads=40, n_kv_heads=8, head_dim=128,
               d_ff=16384, vocab_size=202048, max_position_embeddings=10485760, top_k=1,
               d_ff_expert=8192, n_shared_experts=1, attention_window=8192,
               window_kind="chunked", global_every=4)
_OLMO2 = dict(_LLAMA, vocab_size=100352, max_position_embeddings=4096,
              norm_placement="post", qk_norm="full")

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
    # Gemma Team 2024 (Gemma 2), Table 1 and the released configs: four RMSNorms per layer
    # (sandwich), GeGLU, tied embeddings, local (4096-token sliding window) and global
    # attention alternating, local first.
    "gemma-2-9b": ("Gemma Team 2024, Gemma 2, Table 1", dict(
        _GEMMA2, d_model=3584, n_layers=42, n_heads=16, n_kv_heads=8, head_dim=256,
        d_ff=14336)),
    "gemma-2-27b": ("Gemma Team 2024, Gemma 2, Table 1", dict(
        _GEMMA2, d_model=4608, n_layers=46, n_heads=32, n_kv_heads=16, head_dim=128,
        d_ff=36864)),
    # Gemma Team 2025 (Gemma 3), §2 and the released text config: QK-norm, 5 local layers
    # (1024-token window) to 1 global; the 417M vision encoder is not part of this model.
    "gemma-3-27b": ("Gemma Team 2025, Gemma 3, Table 1 (text decoder)", dict(
        _GEMMA2, d_model=5376, n_layers=62, n_heads=32, n_kv_heads=16, head_dim=128,
        d_ff=21504, vocab_size=262208, max_position_embeddings=131072, qk_norm="head",
        attention_window=1024, global_every=6)),
    # Qwen Team 2025 (Qwen3 technical report), Tables 1-2 and the released configs:
    # QK-norm (RMSNorm over each head), no QKV bias, untied embeddings from 8B up.
    "qwen3-8b": ("Yang et al. 2025, Qwen3, Table 1", dict(
        _QWEN3, d_model=4096, n_layers=36, n_heads=32, n_kv_heads=8, d_ff=12288)),
    "qwen3-32b": ("Yang et al. 2025, Qwen3, Table 1", dict(
        _QWEN3, d_model=5120, n_layers=64, n_heads=64, n_kv_heads=8, d_ff=25600)),
    "qwen3-235b-a22b": ("Yang et al. 2025, Qwen3, Table 2", dict(
        _QWEN3, d_model=4096, n_layers=94, n_heads=64, n_kv_heads=4, d_ff=12288,
        n_experts=128, top_k=8, d_ff_expert=1536)),
    # DeepSeek-AI 2024 (DeepSeek-V3 technical report), §4.2 hyper-parameters: MLA with
    # d_c = 512, d_c' = 1536, d_h = 128, d_h^R = 64; 256 routed experts of width 2048,
    # top-8, one shared expert; the first 3 layers dense (width 18432). The multi-token
    # prediction module (14B) is not part of the 671B main model.
    "deepseek-v3": ("DeepSeek-AI 2024, DeepSeek-V3, §4.2", dict(
        _LLAMA, d_model=7168, n_layers=61, n_heads=128, d_ff=18432, vocab_size=129280,
        max_position_embeddings=163840, kv_lora_rank=512, q_lora_rank=1536,
        qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, n_experts=256, top_k=8,
        d_ff_expert=2048, n_shared_experts=1, first_dense_layers=3)),
    # OpenAI 2025 (gpt-oss-120b & gpt-oss-20b model card), §2 and Table 1: every layer
    # MoE (experts of width 2880 with biases, router with bias, top-4), attention with
    # biases and a learned sink per head, 128-token banded windows alternating with full
    # attention.
    "gpt-oss-20b": ("OpenAI 2025, gpt-oss model card, Table 1", dict(
        _GPT_OSS, n_layers=24, n_experts=32)),
    "gpt-oss-120b": ("OpenAI 2025, gpt-oss model card, Table 1", dict(
        _GPT_OSS, n_layers=36, n_experts=128)),
    # Meta 2025 (Llama 4 model card, and the released text configs): chunked attention
    # (8192-token chunks) on three layers of four, every fourth global; one routed expert
    # (top-1) and one shared expert of width 8192; Maverick alternates dense layers
    # (width 16384) with MoE layers of 128 experts. The vision encoder is not included.
    "llama-4-scout": ("Meta 2025, Llama 4 model card (text decoder)", dict(
        _LLAMA4, n_experts=16)),
    "llama-4-maverick": ("Meta 2025, Llama 4 model card (text decoder)", dict(
        _LLAMA4, n_experts=128, moe_every=2, max_position_embeddings=1048576)),
    # Qwen Team 2025 (Qwen3-Next-80B-A3B model card and released config): a hybrid of
    # gated DeltaNet (32 value heads and 16 key heads of 128) and gated attention (every
    # fourth layer; 16 heads of 256, 2 KV heads, QK-norm), every layer MoE with 512
    # experts of width 512, top-10, and one gated shared expert.
    "qwen3-next-80b-a3b": ("Qwen3-Next-80B-A3B model card", dict(
        _QWEN3, d_model=2048, n_layers=48, n_heads=16, n_kv_heads=2, head_dim=256,
        d_ff=5120, max_position_embeddings=262144, attention_output_gate=True,
        n_experts=512, top_k=10, d_ff_expert=512, n_shared_experts=1, d_ff_shared=512,
        shared_expert_gate=True, linear_mixer="gated_deltanet", attention_every=4,
        linear_heads=32, linear_head_dim=128, linear_key_heads=16, linear_key_dim=128)),
    # OLMo et al. 2024 (2 OLMo 2 Furious), §3.2 and the released configs: norms after each
    # sub-layer (post), QK-norm over the whole projections.
    "olmo-2-7b": ("OLMo et al. 2024, OLMo 2, Table 1", dict(
        _OLMO2, d_model=4096, n_layers=32, n_heads=32, d_ff=11008)),
    "olmo-2-13b": ("OLMo et al. 2024, OLMo 2, Table 1", dict(
        _OLMO2, d_model=5120, n_layers=40, n_heads=40, d_ff=13824)),
    # Abdin et al. 2024 (Phi-3 technical report), §2 and the released configs.
    "phi-3-mini": ("Abdin et al. 2024, Phi-3, §2", dict(
        _LLAMA, d_model=3072, n_layers=32, n_heads=32, d_ff=8192, vocab_size=32064,
        max_position_embeddings=4096)),
    "phi-3-medium": ("Abdin et al. 2024, Phi-3, §2", dict(
        _LLAMA, d_model=5120, n_layers=40, n_heads=40, n_kv_heads=10, d_ff=17920,
        vocab_size=32064, max_position_embeddings=4096)),
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
