"""Writing an Architecture as a Hugging Face ``config.json`` dict, so that a planned model
can be handed to a training stack.

The keys are those of the ``transformers`` configuration classes of each family
(``GPT2Config``, ``LlamaConfig``, ``MistralConfig``, ``MixtralConfig``, ``Qwen2Config``,
``Qwen2MoeConfig``), and only those that describe the architecture: training settings
(dropout, initialisation, norm epsilon, RoPE base) are left to the library's defaults. An
architecture a family cannot express (a bias Llama does not have, experts in a dense
family, ...) is a ValueError naming the field, its value and what the family allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .architecture import Architecture

#: Families written, with the class name ``architectures`` lists for each.
FAMILIES = {"gpt2": "GPT2LMHeadModel", "llama": "LlamaForCausalLM",
            "mistral": "MistralForCausalLM", "mixtral": "MixtralForCausalLM",
            "qwen2": "Qwen2ForCausalLM", "qwen2_moe": "Qwen2MoeForCausalLM"}
#: hidden_act of a gated FFN: SwiGLU is SiLU-gated, GeGLU GELU-gated.
_GATED_ACT = {"swiglu": "silu", "geglu": "gelu"}


def _require(arch: Architecture, family: str, field: str, allowed: tuple[Any, ...]) -> None:
    value = getattr(arch, field)
    if value not in allowed:
        shown = " or ".join(repr(v) for v in allowed)
        msg = f"{field}={value!r} is invalid for a {family} config: it must be {shown}"
        raise ValueError(msg)


def _dense(arch: Architecture, family: str) -> None:
    if arch.is_moe:
        msg = (f"n_experts={arch.n_experts} is invalid for a {family} config: the family is "
               "dense; write mixtral or qwen2_moe for routed experts")
        raise ValueError(msg)


#: Layer features none of these families' configs has a key for, with the only value each
#: writes: a different value would be dropped from the written config without a word.
_UNWRITTEN: dict[str, Any] = {
    "norm_placement": "pre", "qk_norm": "none", "parallel_block": False,
    "embedding_norm": False, "lm_head_bias": False, "attention_sinks": False,
    "attention_output_gate": False, "router_bias": False, "kv_lora_rank": 0,
    "q_lora_rank": 0, "qk_nope_head_dim": 0, "qk_rope_head_dim": 0, "linear_mixer": "none",
    "activation_saves": 0, "attention_gate_bias": False, "linear_inner_norms": False,
    "moe_post_norm": False, "last_out_bias": False, "sub_norms": False,
    "attention_head_gate": False, "ffn_layers": (),
    "global_head_dim": 0, "window_kv_heads": 0, "window_sinks": False,
    # DeepSeek-V3's key is num_nextn_predict_layers, in no family written here (and
    # from_hf_config reads it as 0: transformers does not build the module).
    "mtp_layers": 0}


def _expressible(arch: Architecture, family: str) -> None:
    """Refuse what the family's config would silently drop: the layer features above,
    and an attention window in every family but Mistral (whose sliding_window is it)."""
    for field, only in _UNWRITTEN.items():
        _require(arch, family, field, (only,))
    if family != "mistral" and arch.attention_window:
        msg = (f"attention_window={arch.attention_window} is invalid for a {family} "
               "config: the writer has no window key for it; it must be 0 (write mistral "
               "for a sliding window on every layer)")
        raise ValueError(msg)


def _header(arch: Architecture, family: str) -> dict[str, Any]:
    return {"architectures": [FAMILIES[family]], "model_type": family,
            "_name_or_path": arch.name or family}


def _gpt2(arch: Architecture) -> dict[str, Any]:
    _dense(arch, "gpt2")
    _require(arch, "gpt2", "ffn", ("gelu", "relu"))
    _require(arch, "gpt2", "position", ("learned",))
    _require(arch, "gpt2", "norm", ("layernorm",))
    for field in ("qkv_bias", "out_bias", "mlp_bias"):
        _require(arch, "gpt2", field, (True,))
    _require(arch, "gpt2", "n_kv_heads", (arch.n_heads,))
    _require(arch, "gpt2", "head_dim", (arch.d_model // arch.n_heads,))  # type: ignore[operator]
    return {"n_embd": arch.d_model, "n_layer": arch.n_layers, "n_head": arch.n_heads,
            "n_inner": arch.d_ff, "vocab_size": arch.vocab_size,
            "n_positions": arch.max_position_embeddings,
            "activation_function": "gelu_new" if arch.ffn == "gelu" else "relu",
            "tie_word_embeddings": arch.tie_embeddings}


def _llama_like(arch: Architecture, family: str) -> dict[str, Any]:
    _require(arch, family, "ffn", tuple(_GATED_ACT))
    _require(arch, family, "position", ("rotary",))
    _require(arch, family, "norm", ("rmsnorm",))
    if arch.capacity_factor:
        _require(arch, family, "capacity_factor", (0.0,))
    return {"hidden_size": arch.d_model, "num_hidden_layers": arch.n_layers,
            "num_attention_heads": arch.n_heads, "num_key_value_heads": arch.n_kv_heads,
            "head_dim": arch.head_dim, "intermediate_size": arch.d_ff,
            "hidden_act": _GATED_ACT[arch.ffn], "vocab_size": arch.vocab_size,
            "max_position_embeddings": arch.max_position_embeddings,
            "tie_word_embeddings": arch.tie_embeddings}


def _biases(arch: Architecture, family: str, qkv: tuple[bool, ...], out: tuple[bool, ...],
            mlp: tuple[bool, ...]) -> None:
    _require(arch, family, "qkv_bias", qkv)
    _require(arch, family, "out_bias", out)
    _require(arch, family, "mlp_bias", mlp)


def _llama(arch: Architecture) -> dict[str, Any]:
    _dense(arch, "llama")
    # LlamaConfig has one attention_bias for q, k, v and o, and mlp_bias for the MLP.
    _require(arch, "llama", "out_bias", (arch.qkv_bias,))
    return {**_llama_like(arch, "llama"), "attention_bias": arch.qkv_bias,
            "mlp_bias": arch.mlp_bias}


def _mistral(arch: Architecture) -> dict[str, Any]:
    _dense(arch, "mistral")
    _biases(arch, "mistral", (False,), (False,), (False,))
    # Mistral's sliding_window applies to every layer (None: full attention).
    _require(arch, "mistral", "window_kind", ("sliding",))
    _require(arch, "mistral", "global_every", (0,))
    _require(arch, "mistral", "global_layers", ((),))
    return {**_llama_like(arch, "mistral"), "sliding_window": arch.attention_window or None}


def _qwen2(arch: Architecture) -> dict[str, Any]:
    _dense(arch, "qwen2")
    _biases(arch, "qwen2", (True,), (False,), (False,))
    return _llama_like(arch, "qwen2")


def _moe_layout(arch: Architecture, family: str) -> None:
    if not arch.is_moe:
        msg = (f"n_experts={arch.n_experts} is invalid for a {family} config: give routed "
               "experts (n_experts >= 2), or write a dense family")
        raise ValueError(msg)
    _require(arch, family, "first_dense_layers", (0,))


def _mixtral(arch: Architecture) -> dict[str, Any]:
    _moe_layout(arch, "mixtral")
    _biases(arch, "mixtral", (False,), (False,), (False,))
    _require(arch, "mixtral", "n_shared_experts", (0,))
    _require(arch, "mixtral", "moe_every", (1,))
    _require(arch, "mixtral", "dense_layers", ((),))
    # Mixtral's experts are as wide as its intermediate_size; it has no separate key.
    _require(arch, "mixtral", "d_ff_expert", (arch.d_ff,))
    return {**_llama_like(arch, "mixtral"), "num_local_experts": arch.n_experts,
            "num_experts_per_tok": arch.top_k, "sliding_window": None}


def _qwen2_moe(arch: Architecture) -> dict[str, Any]:
    _moe_layout(arch, "qwen2_moe")
    _biases(arch, "qwen2_moe", (True,), (False,), (False,))
    _require(arch, "qwen2_moe", "n_shared_experts", (0, 1))
    shared = arch.d_ff_shared if arch.n_shared_experts else 0
    # Qwen2-MoE gates its one shared expert; without one there is no gate.
    _require(arch, "qwen2_moe", "shared_expert_gate", (bool(shared),))
    return {**_llama_like(arch, "qwen2_moe"), "num_experts": arch.n_experts,
            "num_experts_per_tok": arch.top_k, "moe_intermediate_size": arch.d_ff_expert,
            "shared_expert_intermediate_size": shared, "decoder_sparse_step": arch.moe_every,
            "mlp_only_layers": list(arch.dense_layers)}


_WRITERS: dict[str, Callable[[Architecture], dict[str, Any]]] = {
    "gpt2": _gpt2, "llama": _llama, "mistral": _mistral, "mixtral": _mixtral,
    "qwen2": _qwen2, "qwen2_moe": _qwen2_moe}


def to_hf_config(arch: Architecture, family: str = "llama") -> dict[str, Any]:
    """``arch`` as a Hugging Face config dict of ``family`` (``json.dump`` it to write a
    ``config.json``); :func:`scalingperf.hf_config.from_hf_config` reads it back to an
    equal Architecture.

    Parameters
    ----------
    arch : Architecture
    family : {"gpt2", "llama", "mistral", "mixtral", "qwen2", "qwen2_moe"}

    Raises
    ------
    ValueError
        For another family, or a field the family cannot express, named with its value
        and what the family allows.
    """
    if family not in _WRITERS:
        msg = f"family={family!r} is invalid: give one of {', '.join(_WRITERS)}"
        raise ValueError(msg)
    _expressible(arch, family)
    return {**_header(arch, family), **_WRITERS[family](arch)}
