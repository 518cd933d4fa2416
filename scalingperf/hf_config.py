"""Reading Hugging Face ``config.json`` files into an Architecture."""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from .architecture import Architecture

_GPT2_KEYS = ("n_embd", "n_layer", "n_head", "vocab_size", "n_positions")
_LLAMA_KEYS = ("hidden_size", "num_hidden_layers", "num_attention_heads",
               "intermediate_size", "vocab_size", "max_position_embeddings")
_GELU_NAMES = ("gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "gelu_python", "quick_gelu")
_SILU_NAMES = ("silu", "swish")


def from_hf_config(config: str | PathLike[str] | Mapping[str, Any]) -> Architecture:
    """Architecture of a Hugging Face causal-LM config (a ``config.json`` path or a dict).

    Supported ``model_type`` values: gpt2, llama, mistral, mixtral, qwen2, qwen2_moe. A
    config without ``model_type`` is recognised by its field names.
    """
    data = _load(config)
    model_type = data.get("model_type") or _guess_model_type(data)
    readers = {"gpt2": _gpt2, "llama": _llama, "mistral": _mistral, "mixtral": _mixtral,
               "qwen2": _qwen2, "qwen2_moe": _qwen2_moe}
    if model_type not in readers:
        msg = (f"model_type={model_type!r} is invalid: supported Hugging Face families are "
               f"{', '.join(readers)}")
        raise ValueError(msg)
    fields = readers[model_type](data)
    name = data.get("_name_or_path") or model_type
    return Architecture(**fields, name=str(name))


def _load(config: str | PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(config, Mapping):
        return dict(config)
    path = Path(config)
    if path.is_dir():
        path = path / "config.json"
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        msg = f"hf_config={str(config)!r} is invalid: cannot read it ({error.strerror})"
        raise ValueError(msg) from None
    except json.JSONDecodeError as error:
        msg = f"hf_config={str(config)!r} is invalid: not JSON ({error})"
        raise ValueError(msg) from None
    if not isinstance(data, dict):
        msg = f"hf_config={str(config)!r} is invalid: expected a JSON object"
        raise ValueError(msg)
    return data


def _guess_model_type(data: Mapping[str, Any]) -> str:
    if all(key in data for key in _GPT2_KEYS):
        return "gpt2"
    if "num_local_experts" in data:
        return "mixtral"
    if "moe_intermediate_size" in data:
        return "qwen2_moe"
    missing = [key for key in _LLAMA_KEYS if key not in data]
    if missing:
        msg = ("hf_config has no model_type and lacks the fields of a known family: "
               f"missing {', '.join(missing)} (Llama-like) or "
               f"{', '.join(k for k in _GPT2_KEYS if k not in data)} (GPT-2)")
        raise ValueError(msg)
    return "llama"


def _require(data: Mapping[str, Any], keys: tuple[str, ...], family: str) -> None:
    missing = [key for key in keys if data.get(key) is None]
    if missing:
        msg = f"hf_config of family {family!r} is missing {', '.join(missing)}"
        raise ValueError(msg)


def _gpt2(data: Mapping[str, Any]) -> dict[str, Any]:
    _require(data, _GPT2_KEYS, "gpt2")
    act = data.get("activation_function", "gelu_new")
    if act in _GELU_NAMES:
        ffn = "gelu"
    elif act == "relu":
        ffn = "relu"
    else:
        msg = f"activation_function={act!r} is invalid: gpt2 configs support gelu variants and relu"
        raise ValueError(msg)
    return dict(
        d_model=data["n_embd"], n_layers=data["n_layer"], n_heads=data["n_head"],
        d_ff=data.get("n_inner"), ffn=ffn, vocab_size=data["vocab_size"],
        max_position_embeddings=data["n_positions"], position="learned", norm="layernorm",
        qkv_bias=True, out_bias=True, mlp_bias=True,
        tie_embeddings=bool(data.get("tie_word_embeddings", True)),
    )


def _gated_ffn(data: Mapping[str, Any]) -> str:
    act = data.get("hidden_act", "silu")
    if act in _SILU_NAMES:
        return "swiglu"
    if act in _GELU_NAMES:
        return "geglu"
    msg = f"hidden_act={act!r} is invalid: gated FFNs support silu (SwiGLU) and gelu (GeGLU)"
    raise ValueError(msg)


def _llama_like(data: Mapping[str, Any], family: str, *, qkv_bias: bool, out_bias: bool,
                mlp_bias: bool) -> dict[str, Any]:
    _require(data, _LLAMA_KEYS, family)
    return dict(
        d_model=data["hidden_size"], n_layers=data["num_hidden_layers"],
        n_heads=data["num_attention_heads"], n_kv_heads=data.get("num_key_value_heads"),
        head_dim=data.get("head_dim"), d_ff=data["intermediate_size"], ffn=_gated_ffn(data),
        vocab_size=data["vocab_size"], max_position_embeddings=data["max_position_embeddings"],
        position="rotary", norm="rmsnorm", qkv_bias=qkv_bias, out_bias=out_bias,
        mlp_bias=mlp_bias, tie_embeddings=bool(data.get("tie_word_embeddings", False)),
    )


def _llama(data: Mapping[str, Any]) -> dict[str, Any]:
    bias = bool(data.get("attention_bias", False))
    return _llama_like(data, "llama", qkv_bias=bias, out_bias=bias,
                       mlp_bias=bool(data.get("mlp_bias", False)))


def _mistral(data: Mapping[str, Any]) -> dict[str, Any]:
    return _llama_like(data, "mistral", qkv_bias=False, out_bias=False, mlp_bias=False)


def _qwen2(data: Mapping[str, Any]) -> dict[str, Any]:
    # Qwen2 attention always has biases on q, k and v, never on the output projection.
    return _llama_like(data, "qwen2", qkv_bias=True, out_bias=False, mlp_bias=False)


def _mixtral(data: Mapping[str, Any]) -> dict[str, Any]:
    _require(data, ("num_local_experts", "num_experts_per_tok"), "mixtral")
    fields = _llama_like(data, "mixtral", qkv_bias=False, out_bias=False, mlp_bias=False)
    fields.update(n_experts=data["num_local_experts"], top_k=data["num_experts_per_tok"],
                  d_ff_expert=data["intermediate_size"])
    return fields


def _qwen2_moe(data: Mapping[str, Any]) -> dict[str, Any]:
    _require(data, ("num_experts", "num_experts_per_tok", "moe_intermediate_size"), "qwen2_moe")
    fields = _llama_like(data, "qwen2_moe", qkv_bias=True, out_bias=False, mlp_bias=False)
    shared = data.get("shared_expert_intermediate_size") or 0
    fields.update(
        n_experts=data["num_experts"], top_k=data["num_experts_per_tok"],
        d_ff_expert=data["moe_intermediate_size"], n_shared_experts=1 if shared else 0,
        d_ff_shared=shared or None, shared_expert_gate=bool(shared),
        moe_every=data.get("decoder_sparse_step", 1) or 1,
        dense_layers=tuple(data.get("mlp_only_layers") or ()),
    )
    return fields
