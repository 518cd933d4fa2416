"""Reading Hugging Face ``config.json`` files into an Architecture.

The reader follows what the config says, through the table of families in
:mod:`scalingperf.hf_families`: each key of the config is either read into a field, known
to change no count, or refused by name. A family the table does not list is read with
Llama's naming when every one of its keys is understood, with an
:class:`UnknownFamilyWarning` saying what was assumed.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from . import _validate
from .architecture import Architecture
from .hf_families import (
    FAMILIES,
    LLAMA_KEYS,
    NEUTRAL_KEYS,
    NEUTRAL_SUFFIXES,
    OFF_KEYS,
    Family,
)

_GPT2_KEYS = ("n_embd", "n_layer", "n_head", "vocab_size", "n_positions")
_REQUIRED = ("d_model", "n_layers", "n_heads", "vocab_size", "max_position_embeddings")
_GELU_NAMES = ("gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "gelu_python",
               "quick_gelu", "gelu_accurate")
_SILU_NAMES = ("silu", "swish")
#: Squared ReLU has ReLU's matrices; read as relu (its elementwise square is not counted).
_RELU_NAMES = ("relu", "relu2")
#: Tensors of the FFN's hidden width transformers' module for each activation name saves
#: for the backward pass (measured with saved-tensor hooks by
#: tools/make_golden_activation_saves.py; xIELU also saves a one-byte sign mask).
_HF_ACTIVATION_SAVES = {"gelu": 1, "gelu_new": 4, "gelu_fast": 7, "gelu_pytorch_tanh": 1,
                        "gelu_python": 3, "quick_gelu": 2, "gelu_accurate": 4, "relu": 1,
                        "relu2": 1, "silu": 1, "swish": 1, "xielu": 4}
#: Attention kinds of ``layer_types`` an Architecture expresses.
_ATTENTION_LAYER_TYPES = ("full_attention", "sliding_attention", "chunked_attention")
#: What an unknown family is assumed to be: Llama's layout.
#: Keys read by :func:`_windows` for every family.
_WINDOW_KEYS = ("layer_types", "sliding_window", "use_sliding_window", "max_window_layers",
                "attention_chunk_size")
_UNKNOWN_FAMILY = Family(fixed={"position": "rotary", "norm": "rmsnorm"},
                         flags={"qkv_bias": ("attention_bias", False),
                                "out_bias": ("attention_bias", False),
                                "mlp_bias": ("mlp_bias", False)})


class UnknownFamilyWarning(UserWarning):
    """A config of a ``model_type`` the family table does not list was read with Llama's
    naming and layout (rotary positions, RMSNorm, pre-norm blocks, biases only where
    ``attention_bias``/``mlp_bias`` say), because every key it has is understood."""


def from_hf_config(config: str | PathLike[str] | Mapping[str, Any]) -> Architecture:
    """Architecture of a Hugging Face causal-LM config (a ``config.json`` path, its folder,
    or the parsed dict).

    The families of :data:`scalingperf.hf_families.FAMILIES` are read by name; a config
    without ``model_type`` is recognised by its keys. Another ``model_type`` is read with
    Llama's naming, with an :class:`UnknownFamilyWarning`, when every key is understood.
    A key that may change a count and is not understood, a family with a feature no
    Architecture field expresses, or a bad value is a ValueError naming it.

    The model read is the one transformers builds from the config, which the golden tests
    compare against parameter for parameter: multi-token prediction modules
    (DeepSeek-V3's ``num_nextn_predict_layers``, MiMo's, GLM-4.5's) are not built by
    transformers (their checkpoint layers are dropped on load), so ``mtp_layers`` is 0.
    To cost training with them, ``arch.replace(mtp_layers=config["num_nextn_predict_layers"])``.
    """
    data = _load(config)
    model_type = data.get("model_type")
    if model_type is None:
        model_type = _guess_model_type(data)
    if not isinstance(model_type, str) or not model_type:
        msg = f"model_type={model_type!r} is invalid: it must be a non-empty string"
        raise ValueError(msg)
    family = FAMILIES.get(model_type)
    if family is None:
        _check_unknown_family(data, model_type)
        family = _UNKNOWN_FAMILY
    data = _flatten(data, family.nested)
    if family.needs:
        msg = (f"model_type={model_type!r} is refused: the family has "
               f"{'; '.join(family.needs)}, which no Architecture field expresses yet")
        raise ValueError(msg)
    _check_keys(data, model_type, family)
    fields, sources = _read(data, model_type, family)
    name = data.get("_name_or_path") or model_type
    if not isinstance(name, str):
        msg = f"_name_or_path={name!r} is invalid: it must be a string"
        raise ValueError(msg)
    try:
        arch = Architecture(**fields, name=name)
    except ValueError as error:
        # The core names the Architecture field; say which key of the config it came from.
        field = str(error).partition("=")[0]
        if field in sources:
            msg = f"{error} (from the hf_config key {sources[field]!r})"
            raise ValueError(msg) from None
        raise
    if model_type not in FAMILIES:
        warnings.warn(f"model_type={model_type!r} is not in the family table: read with "
                      "Llama's naming and layout (rotary positions, RMSNorm, pre-norm, "
                      "biases only as attention_bias/mlp_bias say), every key understood",
                      UnknownFamilyWarning, stacklevel=2)
    return arch


def _flatten(data: dict[str, Any], nested: tuple[str, ...]) -> dict[str, Any]:
    """The keys of nested config dicts (DBRX's attn_config, ffn_config) moved up; their
    bookkeeping keys are dropped, and a key given twice must agree."""
    flat = dict(data)
    for outer in nested:
        inner = flat.get(outer)
        if inner is None:
            continue
        if not isinstance(inner, Mapping):
            msg = f"{outer}={inner!r} is invalid: it must be a dict of config keys"
            raise ValueError(msg)
        for key, value in inner.items():
            if key in NEUTRAL_KEYS:
                continue
            if key in flat and flat[key] != value:
                msg = (f"{outer}.{key}={value!r} is invalid: it disagrees with {key}="
                       f"{flat[key]!r} given elsewhere in the config")
                raise ValueError(msg)
            flat[key] = value
    return flat


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
    llama = [_key_name(LLAMA_KEYS[f]) for f in _REQUIRED]
    missing = [key for key in llama if key not in data]
    if missing:
        msg = ("hf_config has no model_type and lacks the fields of a known family: "
               f"missing {', '.join(missing)} (Llama-like) or "
               f"{', '.join(k for k in _GPT2_KEYS if k not in data)} (GPT-2)")
        raise ValueError(msg)
    return "llama"


def _key_name(keys: str | tuple[str, ...]) -> str:
    return keys if isinstance(keys, str) else " or ".join(keys)


def _alternatives(keys: str | tuple[str, ...]) -> tuple[str, ...]:
    return (keys,) if isinstance(keys, str) else keys


def _field_keys(family: Family) -> dict[str, tuple[str, ...]]:
    """Every Architecture field the family reads, with its config key alternatives."""
    keys = {f: _alternatives(k) for f, k in {**LLAMA_KEYS, **family.keys}.items()}
    for f, k in family.moe.items():
        if f not in ("shared", "moe_range", "moe_period"):
            keys[f] = _alternatives(k)
    for f in family.fixed_moe:
        keys.pop(f, None)
    for f in family.fixed:
        keys.pop(f, None)
    for f, (key, _) in family.flags.items():
        keys[f] = (key,)
    return keys


def _understood(family: Family) -> set[str]:
    keys = {k for alts in _field_keys(family).values() for k in alts}
    extra = {k for k in (family.multi_query, family.d_ff_multiple, family.attention_layers_key,
                         family.linear_expand, family.linear_channels_expand)
             if k is not None}
    extra |= set(family.d_ff_adjust or ())
    extra |= {k for k in (family.block_types, family.heads_per_layer, family.gate_granularity,
                          family.per_layer_config) if k is not None}
    extra |= set(family.attention_period or ())
    extra |= set(_alternatives(family.moe.get("moe_period", ())))
    extra |= {key for key, *_ in family.switches.values()} | set(family.equal_to)
    extra |= set(_alternatives(family.moe.get("moe_range", ())))
    return keys | NEUTRAL_KEYS | family.neutral | set(family.requires) | set(
        family.activation[0]) | set(_WINDOW_KEYS) | set(OFF_KEYS) | extra


def _check_unknown_family(data: Mapping[str, Any], model_type: str) -> None:
    missing = [_key_name(LLAMA_KEYS[f]) for f in _REQUIRED
               if data.get(_key_name(LLAMA_KEYS[f])) is None]
    if missing:
        msg = (f"model_type={model_type!r} is invalid: not a family of the table "
               f"({', '.join(FAMILIES)}), and it lacks the Llama-named keys another family "
               f"is read by: missing {', '.join(missing)}")
        raise ValueError(msg)


def _is_off(value: Any) -> bool:
    return value is None or value is False or value == 0 or value in ([], {}, "")


def _check_keys(data: Mapping[str, Any], model_type: str, family: Family) -> None:
    """Every key is read, neutral, or refused by name."""
    understood = _understood(family)
    for key, value in data.items():
        if key not in understood and not key.endswith(NEUTRAL_SUFFIXES):
            msg = (f"hf_config key {key}={value!r} is not understood for model_type "
                   f"{model_type!r}: it may change the parameters or FLOPs, so the config "
                   "is refused rather than read without it")
            raise ValueError(msg)
    for key, feature in OFF_KEYS.items():
        if not _is_off(data.get(key)):
            msg = (f"{key}={data[key]!r} is refused: {feature} is not expressible as an "
                   "Architecture")
            raise ValueError(msg)
    for key, wanted in family.requires.items():
        if key in data and data[key] != wanted:
            msg = (f"{key}={data[key]!r} is refused for model_type {model_type!r}: only "
                   f"{wanted!r} is read")
            raise ValueError(msg)


def _value(data: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for key in keys:
        if key in data:
            return key, data[key]
    return None, None


def _read(data: Mapping[str, Any], model_type: str,
          family: Family) -> tuple[dict[str, Any], dict[str, str]]:
    """The Architecture fields, and the config key each was read from."""
    fields: dict[str, Any] = dict(family.fixed)
    sources: dict[str, str] = {}
    missing = []
    if family.block_types is not None:
        fields.update(_blocks(family.block_types, data.get(family.block_types)))
        sources["n_layers"] = family.block_types
    for name, keys in _field_keys(family).items():
        key, value = _value(data, keys)
        if name in family.flags:
            flag_key, default = family.flags[name]
            fields[name] = _validate.flag(flag_key, value) if key else default
            continue
        if key is not None:
            sources[name] = key
        if name in _REQUIRED and value is None and name not in fields:
            missing.append(_key_name(keys))
        elif name == "dense_layers":
            fields[name] = _dense_layers(key, value)
        elif name == "moe_layers":
            # Every layer not listed is dense.
            moe_layers = set(_dense_layers(key, value))
            fields["dense_layers"] = tuple(i for i in range(_validate.integer(
                "num_hidden_layers", data.get("num_hidden_layers", 0))) if i not in moe_layers)
        elif name == "tie_embeddings":
            fields[name] = False if key is None else _validate.flag(key, value)
        elif value is not None and key is not None:
            fields[name] = _validate.integer(key, value)
    if missing:
        msg = f"hf_config of family {model_type!r} is missing {', '.join(missing)} (absent or null)"
        raise ValueError(msg)
    if family.mlp:
        fields["ffn"], activation = _ffn(data, family)
        # What the activation saves, where it differs from the kind's default (GPT-2's
        # gelu_new for gelu, a fused one otherwise): the huggingface memory profile reads it.
        saves = _HF_ACTIVATION_SAVES[family.activation_names.get(activation, activation)]
        if saves != (4 if fields["ffn"] in ("gelu", "xielu") else 1):
            fields["activation_saves"] = saves
    else:
        fields["ffn"] = "none"
    for name, (key, on, off, default) in family.switches.items():
        fields[name] = on if (_validate.flag(key, data[key]) if key in data else default) else off
    fields.update(_windows(data, fields["n_layers"], model_type, family))
    if fields.get("attention_window") and family.window_kv_factor:
        fields["window_kv_heads"] = family.window_kv_factor * fields.get(
            "n_kv_heads", fields["n_heads"])
    if fields.get("attention_window"):
        fields.update(family.window_fields)
    if family.per_layer_config is not None and data.get(family.per_layer_config):
        fields.update(_per_layer_overrides(family.per_layer_config, data[family.per_layer_config],
                                           data.get("layer_types"), fields))
    if family.linear_mixer is not None:
        _linear_mixer(data, family, fields)
    if family.multi_query and _validate.flag(family.multi_query,
                                             data.get(family.multi_query, False)):
        fields["n_kv_heads"] = 1
    if family.d_ff_multiple and data.get(family.d_ff_multiple) is not None:
        multiple = _validate.integer(family.d_ff_multiple, data[family.d_ff_multiple])
        fields["d_ff"] = multiple * fields["d_model"]
        sources["d_ff"] = family.d_ff_multiple
    if family.d_ff_adjust is not None:
        fields["d_ff"] = _adjusted_d_ff(data, family.d_ff_adjust, fields["d_ff"])
    if family.heads_per_layer is not None and data.get(family.heads_per_layer) is not None:
        fields["n_heads"] = _uniform_heads(family.heads_per_layer,
                                           data[family.heads_per_layer], fields["n_layers"])
        sources["n_heads"] = family.heads_per_layer
    if family.gate_granularity is not None:
        fields.update(_gate(family.gate_granularity, data.get(family.gate_granularity, True)))
    if family.moe:
        _moe(data, model_type, family, fields)
    fields["max_position_embeddings"] += family.position_offset
    for key, name in family.equal_to.items():
        if data.get(key) is not None and data[key] != fields[name]:
            msg = (f"{key}={data[key]!r} is refused for model_type {model_type!r}: only "
                   f"{fields[name]!r} (equal to {sources.get(name, name)}) is read; another "
                   "value is a layout no Architecture field expresses")
            raise ValueError(msg)
    return fields, sources


def _linear_mixer(data: Mapping[str, Any], family: Family, fields: dict[str, Any]) -> None:
    """A hybrid's linear mixer, and its attention layers when ``layer_types`` did not say
    (the list under ``attention_layers_key``, or every ``attention_every``-th layer)."""
    fields["linear_mixer"] = family.linear_mixer
    if "attention_layers" in fields:  # from layer_types, which the modelling code follows
        fields["attention_every"] = 0
    elif family.attention_period is not None:
        fields["attention_layers"] = _periodic(data, family.attention_period, fields["n_layers"])
    elif family.attention_layers_key is not None:
        key = family.attention_layers_key
        value = data.get(key)
        fields["attention_layers"] = () if value is None else tuple(
            _validate.integer(key, i) for i in _list(key, value))
    if family.linear_channels_expand is not None:
        key = family.linear_channels_expand
        fields["linear_heads"] = _validate.integer(key, data.get(key, 2)) * fields["d_model"]
    if family.linear_expand is not None and data.get(family.linear_expand) is not None:
        key = family.linear_expand
        expand = data[key]
        inner = fields.get("linear_heads", 0) * fields.get("linear_head_dim", 0)
        if not isinstance(expand, (int, float)) or expand * fields["d_model"] != inner:
            msg = (f"{key}={expand!r} is refused: the Mamba-2 inner width {key} x hidden_size "
                   f"must equal heads x head dim ({inner}), the layout transformers builds")
            raise ValueError(msg)


def _per_layer_overrides(key: str, value: Any, kinds: Any,
                         fields: Mapping[str, Any]) -> dict[str, Any]:
    """Gemma 4's per-layer overrides of the layers the model has: one head_dim on its
    full-attention layers (global_head_dim), with their key/value head count unchanged."""
    if not isinstance(value, Mapping):
        msg = f"{key}={value!r} is invalid: it must map layer indices to overrides"
        raise ValueError(msg)
    n_layers = fields["n_layers"]
    kinds = _list("layer_types", kinds) if kinds is not None else []
    widths = set()
    for index, override in value.items():
        layer = _validate.integer(f"{key} index", int(index) if isinstance(index, str)
                                  and index.isdigit() else index)
        if layer >= n_layers:
            continue  # transformers builds only num_hidden_layers layers
        if not isinstance(override, Mapping) or set(override) - {"head_dim",
                                                                  "num_key_value_heads"}:
            msg = (f"{key}[{index!r}]={override!r} is refused: only head_dim and "
                   "num_key_value_heads overrides are read")
            raise ValueError(msg)
        heads = override.get("num_key_value_heads", fields.get("n_kv_heads"))
        if heads != fields.get("n_kv_heads"):
            msg = (f"{key}[{index!r}] num_key_value_heads={heads!r} is refused: a key/value "
                   "head count that differs by layer is not expressible as an Architecture")
            raise ValueError(msg)
        if "head_dim" in override:
            if layer >= len(kinds) or kinds[layer] != "full_attention":
                msg = (f"{key}[{index!r}] head_dim is refused: only the full-attention layers' "
                       "heads may have a width of their own")
                raise ValueError(msg)
            widths.add(_validate.integer(f"{key}[{index!r}].head_dim", override["head_dim"]))
    if len(widths) > 1:
        msg = f"{key} is refused: its full-attention layers have head_dims {sorted(widths)}"
        raise ValueError(msg)
    return {"global_head_dim": widths.pop()} if widths else {}


def _uniform_heads(key: str, value: Any, n_layers: int) -> int:
    """The one head count of every layer (Laguna builds layer i with entry i)."""
    counts = [_validate.integer(key, v) for v in _list(key, value)]
    if len(counts) < n_layers:
        msg = f"{key}={counts!r} is invalid: it must have an entry per layer ({n_layers})"
        raise ValueError(msg)
    if len(set(counts[:n_layers])) > 1:
        msg = (f"{key}={counts[:n_layers]!r} is refused: a head count that differs by layer "
               "is not expressible as an Architecture")
        raise ValueError(msg)
    return counts[0]


def _gate(key: str, value: Any) -> dict[str, bool]:
    """Laguna's gating: one gate per head (True, "per-head") or per channel (False,
    "per-element"), from its own projection of the layer input."""
    if value is True or value == "per-head":
        return {"attention_head_gate": True}
    if value is False or value == "per-element":
        return {"attention_output_gate": True}
    msg = f"{key}={value!r} is invalid: it must be true, false, 'per-head' or 'per-element'"
    raise ValueError(msg)


#: Nemotron-H's block kinds (``configuration_nemotron_h.py``'s valid types).
_BLOCK_KINDS = ("linear_attention", "full_attention", "mlp", "moe")


def _blocks(key: str, value: Any) -> dict[str, Any]:
    """Fields of a model whose layers are each one block (Nemotron-H): the layer count,
    the FFN blocks (``ffn_layers``, the dense ones also ``dense_layers``) and the
    attention blocks; the other layers run the linear mixer."""
    kinds = _list(key, value)
    for kind in kinds:
        if kind not in _BLOCK_KINDS:
            msg = (f"{key} entry {kind!r} is invalid: the block kinds are "
                   f"{', '.join(_BLOCK_KINDS)}")
            raise ValueError(msg)
    if not kinds:
        msg = f"{key}=[] is invalid: it must list at least one layer"
        raise ValueError(msg)
    return {"n_layers": len(kinds),
            "ffn_layers": tuple(i for i, k in enumerate(kinds) if k in ("mlp", "moe")),
            "dense_layers": tuple(i for i, k in enumerate(kinds) if k == "mlp"),
            "attention_layers": tuple(i for i, k in enumerate(kinds) if k == "full_attention")}


def _adjusted_d_ff(data: Mapping[str, Any], keys: tuple[str, str, str], d_ff: int) -> int:
    """The MLP width LFM2's modelling code builds (``Lfm2MLP``): two thirds of the
    configured one, then scaled by the multiplier and rounded up to the multiple."""
    switch, multiplier_key, multiple_key = keys
    if not _validate.flag(switch, data.get(switch, True)):
        return d_ff
    width = int(2 * d_ff / 3)
    multiplier = data.get(multiplier_key, 1.0)
    if multiplier is None:
        return width
    if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or (
            not 0 < multiplier <= 1024):
        msg = f"{multiplier_key}={multiplier!r} is invalid: it must be a number in (0, 1024]"
        raise ValueError(msg)
    multiple = _validate.integer(multiple_key, data.get(multiple_key, 256))
    if multiple < 1:
        msg = f"{multiple_key}={multiple!r} is invalid: it must be a whole number >= 1"
        raise ValueError(msg)
    width = int(multiplier * width)
    return multiple * ((width + multiple - 1) // multiple)


def _periodic(data: Mapping[str, Any], keys: tuple[str, ...], n_layers: int) -> tuple[int, ...]:
    """The layers ``i`` with ``i % period == offset`` (Jamba's attention and expert layers,
    ``configuration_jamba.py``; the offset must be below the period, as there)."""
    period_key, offset_key = keys
    period = _validate.integer(period_key, data.get(period_key))
    offset = _validate.integer(offset_key, data.get(offset_key))
    if not 0 <= offset < period:
        msg = (f"{offset_key}={offset!r} is invalid: it must be at least 0 and below "
               f"{period_key}={period!r}")
        raise ValueError(msg)
    return tuple(i for i in range(n_layers) if i % period == offset)


def _dense_layers(key: str | None, value: Any) -> tuple[int, ...]:
    """Dense layers from a list of their indices, or from a per-layer list of kinds
    (``"dense"``, ``"sparse"``/``"moe"``)."""
    if value is None or key is None:
        return ()
    if not isinstance(value, (list, tuple)):
        msg = f"{key}={value!r} is invalid: it must be a list of layer indices"
        raise ValueError(msg)
    if value and all(isinstance(kind, str) for kind in value):
        for kind in value:
            if kind not in ("dense", "sparse", "moe"):
                msg = (f"{key} entry {kind!r} is refused: only dense and sparse (MoE) "
                       "MLP layers are expressible as an Architecture")
                raise ValueError(msg)
        return tuple(i for i, kind in enumerate(value) if kind == "dense")
    return tuple(_validate.integer(key, i) for i in value)


def _dense_outside_range(data: Mapping[str, Any], keys: tuple[str, ...],
                         n_layers: int) -> tuple[int, ...]:
    """Dense layers of a family whose MoE layers are ``start <= i <= end`` with
    ``(i + 1) % interval == 0`` (Ernie 4.5's rule, ``modeling_ernie4_5_moe.py``; the
    defaults and ``end = -1`` meaning the last layer are its config class's)."""
    start_key, end_key, interval_key = keys

    def read(key: str, default: int) -> int:
        value = data.get(key)
        return default if value is None else _validate.integer(key, value)

    start = read(start_key, 1)
    end = read(end_key, -1)
    if end == -1:  # transformers' "up to the last layer"
        end = n_layers - 1
    interval = read(interval_key, 1)
    if interval < 1:
        msg = f"{interval_key}={interval!r} is invalid: it must be at least 1"
        raise ValueError(msg)
    return tuple(i for i in range(n_layers)
                 if not (start <= i <= end and (i + 1) % interval == 0))


def _windows(data: Mapping[str, Any], n_layers: int, model_type: str,
             family: Family) -> dict[str, Any]:
    """Sliding-window or chunked attention, and which layers keep full attention.

    From ``layer_types`` when the config has it (transformers 5's per-layer list), else
    GPT-Neo's ``attention_layers``, else the family's pattern (Gemma-2: full attention on
    every 2nd layer), else ``sliding_window`` on every layer (Mistral) or, with
    ``use_sliding_window``, on the layers from ``max_window_layers`` on (Qwen2); any other
    family with a window and no ``layer_types`` is refused.
    """
    kinds = data.get("layer_types")
    key = "layer_types"
    if kinds is None and data.get("attention_layers") is not None:
        key = "attention_layers"
        local = {"local": "sliding_attention", "global": "full_attention"}
        # GPT-Neo reads the first num_layers entries of the list.
        kinds = [local.get(k, k) for k in _list(key, data[key])][:n_layers]
    if kinds is None:
        window = data.get("sliding_window")
        if window is None or data.get("use_sliding_window") is False:
            return {}
        if family.window_pattern is not None:
            pattern_key, every = family.window_pattern
            if pattern_key is not None and data.get(pattern_key) is not None:
                every = _validate.integer(pattern_key, data[pattern_key])
            return {"attention_window": _validate.integer("sliding_window", window),
                    "global_every": every}
        if not family.uniform_window:
            msg = (f"sliding_window={window!r} without layer_types is refused for model_type "
                   f"{model_type!r}: which layers are windowed is not known; give layer_types")
            raise ValueError(msg)
        first = 0
        if data.get("use_sliding_window") is True and data.get("max_window_layers") is not None:
            first = _validate.integer("max_window_layers", data["max_window_layers"])
        kinds = ["full_attention" if i < first else "sliding_attention"
                 for i in range(n_layers)]
    kinds = _list(key, kinds)
    allowed: tuple[str, ...] = _ATTENTION_LAYER_TYPES
    linear: dict[str, Any] = {}
    linear_type = family.linear_layer_type
    if family.linear_mixer is not None and key == "layer_types":
        # A hybrid: "linear_attention" (LFM: "conv") layers run the family's linear mixer.
        allowed += (linear_type,)
        linear["attention_layers"] = tuple(
            i for i, k in enumerate(kinds) if k != linear_type)
    for kind in kinds:
        if kind not in allowed:
            msg = (f"{key} entry {kind!r} is refused: only layers of the kinds "
                   f"{', '.join(allowed)} are expressible as an Architecture of model_type "
                   f"{model_type!r}")
            raise ValueError(msg)
    if len(kinds) != n_layers:
        msg = f"{key}={kinds!r} is invalid: it must have one entry per layer ({n_layers})"
        raise ValueError(msg)
    windowed = {k for k in kinds if k not in ("full_attention", linear_type)}
    if not windowed:
        return linear
    if len(windowed) > 1:
        msg = f"{key}={kinds!r} is refused: sliding and chunked layers in one model"
        raise ValueError(msg)
    chunked = windowed == {"chunked_attention"}
    window_key = "attention_chunk_size" if chunked else next(
        (k for k in ("sliding_window", "window_size") if data.get(k) is not None),
        "sliding_window")
    if data.get(window_key) is None:
        msg = f"{key} has windowed layers but {window_key} is absent or null"
        raise ValueError(msg)
    return {"attention_window": _validate.integer(window_key, data[window_key]),
            "window_kind": "chunked" if chunked else "sliding",
            "global_layers": tuple(i for i, k in enumerate(kinds) if k == "full_attention"),
            **linear}


def _list(key: str, value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        msg = f"{key}={value!r} is invalid: it must be a list with one entry per layer"
        raise ValueError(msg)
    return list(value)


def _ffn(data: Mapping[str, Any], family: Family) -> tuple[str, str]:
    """The FFN kind, and the activation's name in transformers."""
    keys, default = family.activation
    key = next((k for k in keys if k in data), keys[0] if keys else "activation")
    value = data.get(key, default)
    if isinstance(value, Mapping):  # DBRX's ffn_act_fn: {"name": "silu"}
        key, value = f"{key}.name", value.get("name", default)
    act = _validate.text(key, value)
    if family.gated:
        if act in _SILU_NAMES:
            return "swiglu", act
        if act in _GELU_NAMES:
            return "geglu", act
        if act in _RELU_NAMES:
            return "reglu", act
        msg = (f"{key}={act!r} is invalid: gated FFNs support silu (SwiGLU), gelu (GeGLU) "
               "and relu or relu2 (ReGLU)")
        raise ValueError(msg)
    if act in _GELU_NAMES:
        return "gelu", act
    if act in _RELU_NAMES:
        return "relu", act
    if act == "xielu":
        return "xielu", act
    msg = f"{key}={act!r} is invalid: ungated FFNs support gelu variants, relu, relu2 and xielu"
    raise ValueError(msg)


def _moe(data: Mapping[str, Any], model_type: str, family: Family,
         fields: dict[str, Any]) -> None:
    moe = family.moe
    need = [_key_name(moe[f]) for f in ("n_experts", "top_k")
            if _value(data, _alternatives(moe[f]))[1] is None]
    if need:
        msg = f"hf_config of family {model_type!r} is missing {', '.join(need)}"
        raise ValueError(msg)
    if "d_ff_expert" not in fields:
        fields["d_ff_expert"] = fields.get("d_ff")
    fields.setdefault("moe_every", 1)
    fields.update(family.fixed_moe)
    if "moe_period" in moe:
        moe_layers = set(_periodic(data, _alternatives(moe["moe_period"]), fields["n_layers"]))
        fields["dense_layers"] = tuple(i for i in range(fields["n_layers"]) if i not in moe_layers)
    if "moe_range" in moe:
        fields["dense_layers"] = _dense_outside_range(data, _alternatives(moe["moe_range"]),
                                                      fields["n_layers"])
    shared = moe.get("shared")
    if shared == "gated_width":
        # One sigmoid-gated shared expert of that width; none when absent, null or 0.
        width = fields.pop("d_ff_shared", None) or 0
        fields.update(n_shared_experts=1 if width else 0, d_ff_shared=width or None,
                      shared_expert_gate=bool(width))
    elif shared == "width":
        # One ungated shared expert of that width; none when absent, null or 0.
        width = fields.pop("d_ff_shared", None) or 0
        fields.update(n_shared_experts=1 if width else 0, d_ff_shared=width or None)
    elif shared == "count":
        fields.setdefault("n_shared_experts", 0)
