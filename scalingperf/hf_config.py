"""Reading Hugging Face ``config.json`` files into an Architecture."""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from . import _validate
from .architecture import Architecture

_GPT2_KEYS = ("n_embd", "n_layer", "n_head", "vocab_size", "n_positions")
_LLAMA_KEYS = ("hidden_size", "num_hidden_layers", "num_attention_heads",
               "intermediate_size", "vocab_size", "max_position_embeddings")
_FIELD_KEYS = {
    "d_model": "hidden_size", "n_layers": "num_hidden_layers", "n_heads": "num_attention_heads",
    "n_kv_heads": "num_key_value_heads", "head_dim": "head_dim", "d_ff": "intermediate_size",
    "vocab_size": "vocab_size", "max_position_embeddings": "max_position_embeddings",
    "n_experts": "num_experts", "top_k": "num_experts_per_tok",
    "d_ff_expert": "moe_intermediate_size", "d_ff_shared": "shared_expert_intermediate_size",
    "moe_every": "decoder_sparse_step", "dense_layers": "mlp_only_layers",
}
_GPT2_FIELD_KEYS = {"d_model": "n_embd", "n_layers": "n_layer", "n_heads": "n_head",
                    "d_ff": "n_inner", "vocab_size": "vocab_size",
                    "max_position_embeddings": "n_positions"}
_GELU_NAMES = ("gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "gelu_python", "quick_gelu")
_SILU_NAMES = ("silu", "swish")


def from_hf_config(config: str | PathLike[str] | Mapping[str, Any]) -> Architecture:
    """Architecture of a Hugging Face causal-LM config (a ``config.json`` path or a dict).

    Supported ``model_type`` values: gpt2, llama, mistral, mixtral, qwen2, qwen2_moe. A
    config without ``model_type`` is recognised by its field names.
    """
    data = _load(config)
    model_type = data.get("model_type")
    if model_type is None:
        model_type = _guess_model_type(data)
    readers = {"gpt2": _gpt2, "llama": _llama, "mistral": _mistral, "mixtral": _mixtral,
               "qwen2": _qwen2, "qwen2_moe": _qwen2_moe}
    if not isinstance(model_type, str) or model_type not in readers:
        msg = (f"model_type={model_type!r} is invalid: supported Hugging Face families are "
               f"{', '.join(readers)}")
        raise ValueError(msg)
    fields = readers[model_type](data)
    name = data.get("_name_or_path") or model_type
    if not isinstance(name, str):
        msg = f"_name_or_path={name!r} is invalid: it must be a string"
        raise ValueError(msg)
    try:
        return Architecture(**fields, name=name)
    except ValueError as error:
        # The core names the Architecture field; say which key of the config it came from.
        keys = _GPT2_FIELD_KEYS if model_type == "gpt2" else _FIELD_KEYS
        if model_type == "mixtral":
            keys = {**keys, "n_experts": "num_local_experts", "d_ff_expert": "intermediate_size"}
        field = str(error).partition("=")[0]
        if field in keys and keys[field] in data:
            msg = f"{error} (from the hf_config key {keys[field]!r})"
            raise ValueError(msg) from None
        raise


# Every value is checked under its Hugging Face key, so that an error names the key of the
# config (hidden_size=[4096] rather than d_model=[4096]).
def _int(data: Mapping[str, Any], key: str) -> int:
    """A required integer (whole floats such as 4096.0 accepted)."""
    return _validate.integer(key, data[key])


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    """An integer, or None when the key is absent or null (the field is then derived)."""
    value = data.get(key)
    return None if value is None else _validate.integer(key, value)


def _flag(data: Mapping[str, Any], key: str, default: bool) -> bool:
    """A boolean; ``default`` (transformers' own) only when the key is absent."""
    return _validate.flag(key, data[key]) if key in data else default


def _text(data: Mapping[str, Any], key: str, default: str) -> str:
    return _validate.text(key, data[key]) if key in data else default


def _load(config: str | PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(config, Mapping):
        return dict(config)
    if not isinstance(config, (str, PathLike)):
        msg = (f"hf_config={config!r} is invalid: give a config.json path, its folder, or "
               "the parsed dict")
        raise ValueError(msg)
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
        msg = f"hf_config of family {family!r} is missing {', '.join(missing)} (absent or null)"
        raise ValueError(msg)


def _gpt2(data: Mapping[str, Any]) -> dict[str, Any]:
    _require(data, _GPT2_KEYS, "gpt2")
    act = _text(data, "activation_function", "gelu_new")
    if act in _GELU_NAMES:
        ffn = "gelu"
    elif act == "relu":
        ffn = "relu"
    else:
        msg = f"activation_function={act!r} is invalid: gpt2 configs support gelu variants and relu"
        raise ValueError(msg)
    return dict(
        d_model=_int(data, "n_embd"), n_layers=_int(data, "n_layer"),
        n_heads=_int(data, "n_head"), d_ff=_optional_int(data, "n_inner"), ffn=ffn,
        vocab_size=_int(data, "vocab_size"), max_position_embeddings=_int(data, "n_positions"),
        position="learned", norm="layernorm", qkv_bias=True, out_bias=True, mlp_bias=True,
        tie_embeddings=_flag(data, "tie_word_embeddings", True),
    )


def _gated_ffn(data: Mapping[str, Any]) -> str:
    act = _text(data, "hidden_act", "silu")
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
        d_model=_int(data, "hidden_size"), n_layers=_int(data, "num_hidden_layers"),
        n_heads=_int(data, "num_attention_heads"),
        n_kv_heads=_optional_int(data, "num_key_value_heads"),
        head_dim=_optional_int(data, "head_dim"), d_ff=_int(data, "intermediate_size"),
        ffn=_gated_ffn(data), vocab_size=_int(data, "vocab_size"),
        max_position_embeddings=_int(data, "max_position_embeddings"), position="rotary",
        norm="rmsnorm", qkv_bias=qkv_bias, out_bias=out_bias, mlp_bias=mlp_bias,
        tie_embeddings=_flag(data, "tie_word_embeddings", False),
    )


def _llama(data: Mapping[str, Any]) -> dict[str, Any]:
    bias = _flag(data, "attention_bias", False)
    return _llama_like(data, "llama", qkv_bias=bias, out_bias=bias,
                       mlp_bias=_flag(data, "mlp_bias", False))


def _mistral(data: Mapping[str, Any]) -> dict[str, Any]:
    return _llama_like(data, "mistral", qkv_bias=False, out_bias=False, mlp_bias=False)


def _qwen2(data: Mapping[str, Any]) -> dict[str, Any]:
    # Qwen2 attention always has biases on q, k and v, never on the output projection.
    return _llama_like(data, "qwen2", qkv_bias=True, out_bias=False, mlp_bias=False)


def _mixtral(data: Mapping[str, Any]) -> dict[str, Any]:
    _require(data, ("num_local_experts", "num_experts_per_tok"), "mixtral")
    fields = _llama_like(data, "mixtral", qkv_bias=False, out_bias=False, mlp_bias=False)
    fields.update(n_experts=_int(data, "num_local_experts"),
                  top_k=_int(data, "num_experts_per_tok"), d_ff_expert=fields["d_ff"])
    return fields


def _qwen2_moe(data: Mapping[str, Any]) -> dict[str, Any]:
    _require(data, ("num_experts", "num_experts_per_tok", "moe_intermediate_size"), "qwen2_moe")
    fields = _llama_like(data, "qwen2_moe", qkv_bias=True, out_bias=False, mlp_bias=False)
    # No (or a 0-wide) shared expert when the key is absent, null or 0.
    shared = _optional_int(data, "shared_expert_intermediate_size") or 0
    step = _optional_int(data, "decoder_sparse_step")
    dense = data.get("mlp_only_layers")
    if dense is None:
        dense = []
    if not isinstance(dense, (list, tuple)):
        msg = f"mlp_only_layers={dense!r} is invalid: it must be a list of layer indices"
        raise ValueError(msg)
    fields.update(
        n_experts=_int(data, "num_experts"), top_k=_int(data, "num_experts_per_tok"),
        d_ff_expert=_int(data, "moe_intermediate_size"), n_shared_experts=1 if shared else 0,
        d_ff_shared=shared or None, shared_expert_gate=bool(shared),
        moe_every=1 if step is None else step,  # transformers' default: every layer
        dense_layers=tuple(_validate.integer("mlp_only_layers", i) for i in dense),
    )
    return fields
