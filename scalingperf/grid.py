"""Grids of architectures and layouts, and the published families of shapes."""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from . import _core, _validate
from ._stages import stage_split
from .architecture import Architecture
from .devices import Hardware, get_hardware
from .estimate import module_names

#: Fixed architecture fields of the per-layer features (not axes), checked by the core.
_LAYER_FIELDS = ("norm_placement", "qk_norm", "parallel_block", "embedding_norm",
                 "lm_head_bias", "attention_sinks", "attention_output_gate", "window_kind",
                 "global_layers", "kv_lora_rank", "q_lora_rank", "qk_nope_head_dim",
                 "qk_rope_head_dim", "v_head_dim", "router_bias", "linear_mixer",
                 "attention_every", "attention_layers", "ffn_layers", "global_head_dim",
                 "window_kv_heads", "window_sinks",
                 "linear_heads", "linear_head_dim",
                 "linear_key_heads", "linear_key_dim", "linear_conv_kernel", "linear_conv_bias",
                 "activation_saves", "linear_dt_rank", "linear_inner_norms",
                 "attention_gate_bias", "moe_post_norm", "last_out_bias",
                 "sub_norms", "attention_head_gate", "mtp_layers")
#: Axes in the order the core enumerates them: model, then workload, then layout.
AXES = ("d_model", "n_layers", "n_heads", "head_dim", "n_kv_heads", "gqa_group", "d_ff",
        "ffn_ratio", "ffn", "n_experts", "top_k", "n_shared_experts", "d_ff_expert",
        "attention_window", "global_every", "vocab_size", "seq_len", "batch", "recompute",
        "tp", "cp", "pp", "dp", "ep", "zero", "microbatches")
_MODEL_AXES = AXES[:16]
_WORKLOAD_AXES = ("seq_len", "batch", "recompute")
FFN_KINDS = ("gelu", "relu", "swiglu", "geglu", "xielu", "none", "reglu")
RECOMPUTE = ("none", "selective", "full", "per_op")  # the core's order
#: Axes whose values are names (the core numbers them in this order).
CATEGORIES = {"ffn": FFN_KINDS, "recompute": RECOMPUTE}
_ARCH_FIXED = ("n_heads", "head_dim", "n_kv_heads", "d_ff", "ffn", "n_experts", "top_k",
               "n_shared_experts", "d_ff_expert", "vocab_size", "max_position_embeddings",
               "position", "norm", "qkv_bias", "out_bias", "mlp_bias", "tie_embeddings",
               "d_ff_shared", "shared_expert_gate", "moe_every", "first_dense_layers",
               "dense_layers", "capacity_factor", "attention_window", "global_every",
               *_LAYER_FIELDS)
#: What a grid's model is when the spec does not say: a modern decoder (Llama-2 /
#: Mistral: rotary positions, so no table limits the sequence, RMSNorm, SwiGLU, a 32,000
#: token vocabulary). The one place these defaults live; an Architecture's own defaults
#: (GPT-2's) apply only to an Architecture built directly.
GRID_DEFAULTS: dict[str, Any] = dict(ffn="swiglu", position="rotary", norm="rmsnorm",
                                     vocab_size=32000)
_OPTIONS = dict(dtype="bf16", flash_attention=True, fused_elementwise=True, dropout=False,
                implementation="megatron",
                sequence_parallel=False, optimizer="adamw", interleave=1, ffn_multiple=1,
                n_gpus=0, global_batch=0, compute=0.0, hardware="H100-SXM", efficiency=None,
                batch=None, seq_len=None, recompute="none", tp=1, cp=1, pp=1, dp=1, ep=1,
                zero=0, microbatches=None, layers_per_stage=None, recompute_every=None,
                etp=None, shard=None, ep_dispatcher="all_to_all", recompute_modules=None,
                offload_layers=None, fp32_gradients=False)
_RANGE_CONSTRAINTS = {"params": "params_non_embedding", "active_params": "params_active",
                      "aspect": "aspect_ratio"}
#: Most values one axis may list: an axis is materialised as a list of numbers.
MAX_AXIS_VALUES = 10_000_000
#: Ranges of fixed architecture fields that are not axes (the core checks them against
#: each point's depth too).
_FIXED_RANGES = {"max_position_embeddings": (1, 2**24), "moe_every": (1, 2**16),
                 "first_dense_layers": (0, 2**16)}
#: Scalars given for these are one-value axes: the core derives from them per point.
_DERIVED_SCALARS = ("gqa_group", "ffn_ratio")


def _is_axis(value: Any) -> bool:
    return isinstance(value, (list, tuple, range, np.ndarray)) and not isinstance(value, str)


def _bytes(field: str, value: Any) -> float:
    """A positive byte count: a number or a string such as "80GiB" or "80 GB"."""
    if isinstance(value, str):
        text = value.replace(" ", "")
        units = {"TiB": 2**40, "GiB": 2**30, "MiB": 2**20, "TB": 1e12, "GB": 1e9, "MB": 1e6,
                 "B": 1}
        number = None
        for unit, scale in units.items():
            if text.endswith(unit):
                with contextlib.suppress(ValueError):
                    number = float(text[: -len(unit)]) * scale
                break
        if number is None or not math.isfinite(number):
            msg = f"{field}={value!r} is invalid: give bytes or a size such as '80GiB'"
            raise ValueError(msg)
        result = number
    else:
        result = _validate.real(field, value)
    if result <= 0:
        msg = f"{field}={value!r} is invalid: it must be a positive number of bytes"
        raise ValueError(msg)
    return result


def _pair(field: str, value: Any) -> tuple[float, float]:
    """A (lo, hi) bound: numbers or None (no bound on that side), lo <= hi."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        msg = f"{field}={value!r} is invalid: give a (lo, hi) pair (None for no bound)"
        raise ValueError(msg)
    lo, hi = (math.nan if v is None else _validate.real(field, v) for v in value)
    if lo > hi:
        msg = f"{field}={tuple(value)!r} is invalid: its lower end is above its upper end"
        raise ValueError(msg)
    return lo, hi


def _level(name: str) -> int:
    """0 model, 1 workload, 2 layout."""
    return 0 if name in _MODEL_AXES else 1 if name in _WORKLOAD_AXES else 2


def _ordered(spec: Mapping[str, Any], groups: list[list[str]]) -> list[tuple[str, Any, bool]]:
    """The axes of ``spec`` as (name, values, follows the previous axis), in the core's
    order: by AXES, each zip group where its first member would be."""
    leaders = {group[0]: group for group in groups}
    members = {name for group in groups for name in group}
    order: list[tuple[str, Any, bool]] = []
    for name in AXES:
        if name in leaders:
            order.extend((member, spec[member], i > 0)
                         for i, member in enumerate(leaders[name]))
        elif name not in members and _is_axis(spec.get(name)):
            order.append((name, spec[name], False))
    return order


def _expand_shapes(spec: dict[str, Any]) -> dict[str, Any]:
    """``shapes=[{...}, ...]`` as one zip of the axes the dicts name."""
    if "shapes" not in spec:
        return spec
    spec = dict(spec)
    shapes = spec.pop("shapes")
    if (not isinstance(shapes, (list, tuple)) or not shapes
            or not all(isinstance(shape, Mapping) for shape in shapes)):
        msg = f"shapes={shapes!r} is invalid: give a non-empty list of dicts of axis values"
        raise ValueError(msg)
    names = list(shapes[0])
    for shape in shapes:
        if sorted(shape) != sorted(names):
            msg = (f"shapes is invalid: every shape must name the same fields "
                   f"({', '.join(names)}), not {', '.join(shape)}")
            raise ValueError(msg)
    for name in names:
        if name not in AXES:
            msg = f"shapes is invalid: {name!r} is not a grid axis"
            raise ValueError(msg)
        if name in spec:
            msg = f"shapes is invalid: {name} is given both in shapes and as {name}="
            raise ValueError(msg)
        spec[name] = [shape[name] for shape in shapes]
    if len(names) > 1:
        spec["zip"] = [*list(spec.get("zip") or []), tuple(names)]
    return spec


def _stage_split(value: Any, pp: Any) -> tuple[int, int, int] | str | None:
    """A grid's layers_per_stage: a list only with a fixed pp (its middle derives from it)."""
    if value is not None and not isinstance(value, str) and _is_axis(pp):
        msg = (f"layers_per_stage={value!r} is invalid: a list of layers per stage needs a "
               "fixed pp, not an axis (or give a rule such as 'embedding+loss')")
        raise ValueError(msg)
    return stage_split(value, pp)


def _modules(value: Any, recompute: Any) -> tuple[str, ...]:
    """A grid's recompute_modules: names for its selective rows (it must have some)."""
    if value is None:
        return ("core_attn",)
    names = module_names(value)
    modes = [recompute] if isinstance(recompute, str) else list(recompute)
    if "selective" not in modes:
        msg = (f"recompute_modules={value!r} is invalid: the modules are what "
               f"recompute='selective' redoes, and the grid has recompute={recompute!r}")
        raise ValueError(msg)
    return names


def _at_least_one(field: str, value: Any) -> int:
    """A grid's recompute_every, etp or shard: None (0 for the core) or n >= 1."""
    if value is None:
        return 0
    number = _validate.integer(field, value)
    _in_range(field, number, 1, 2**20)
    return number


def _nonnegative(field: str, value: Any) -> float:
    result = _validate.real(field, value)
    if result < 0:
        msg = f"{field}={result} is invalid: it must be >= 0 (0: none)"
        raise ValueError(msg)
    return result


def _interleave(value: Any) -> int:
    stages = _validate.integer("interleave", value)
    _in_range("interleave", stages, 1, 2**16)
    return stages


def _in_range(field: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        msg = f"{field}={value} is invalid: allowed range is [{lo}, {hi}]"
        raise ValueError(msg)


@dataclasses.dataclass(frozen=True)
class Grid:
    """A grid of configurations: every combination of the axes given as sequences.

    Any architecture field, ``seq_len``, ``batch``, ``recompute`` and the layout (``tp``,
    ``cp``, ``pp``, ``dp``, ``ep``, ``zero``, ``microbatches``) can be an axis (a list, range or
    array) or fixed (a scalar). Derived axes: ``head_dim`` without ``n_heads`` gives
    ``n_heads = d_model / head_dim``; ``gqa_group`` gives ``n_kv_heads = n_heads / group``;
    ``ffn_ratio`` (with ``ffn_multiple``) gives ``d_ff = ratio x d_model`` rounded up.

    Paired axes: ``zip=[("d_model", "n_layers")]`` walks the listed axes together (the
    i-th value of each), and ``shapes=[{"d_model": 2048, "n_layers": 16}, ...]`` is a
    zip of the keys the dicts share. Zipped axes are of one kind: model, workload or layout.

    A grid is a description: ``batch`` and ``seq_len`` may be given here or to
    :func:`scalingperf.sweep`. Unless the spec says otherwise the model is a modern
    decoder (:data:`GRID_DEFAULTS`: SwiGLU, rotary, RMSNorm, 32,000 tokens).

    Constraints, evaluated in the core: points whose sizes do not divide are skipped;
    ``n_gpus`` fixes the world size (``dp = n_gpus / (tp cp pp)``); ``global_batch`` (sequences
    per step) sets ``microbatches``; ``params`` and ``active_params`` (non-embedding,
    ``(lo, hi)``), ``aspect`` (``d_model / n_layers``, ``(lo, hi)``) and ``max_memory``
    (bytes per GPU, or ``"device"``) bound the rows; ``compute`` (FLOPs) adds
    ``tokens_at_budget`` and ``train_days``.

    Other options as in :func:`scalingperf.estimate`: ``dtype``, ``hardware``,
    ``flash_attention``, ``fused_elementwise``, ``dropout``, ``implementation``,
    ``sequence_parallel``,
    ``optimizer``, ``interleave``, ``efficiency``, ``recompute_every``, ``etp``, ``shard``,
    ``ep_dispatcher``, ``recompute_modules`` (for the rows with ``recompute="selective"``,
    which the grid must have), ``offload_layers`` (rows with pp > 1, recomputation or
    ``n_layers`` at most it are skipped with the reason), ``fp32_gradients``,
    ``layers_per_stage``
    (a rule such as
    ``"embedding+loss"`` applies to every point; a list needs a fixed ``pp`` of its
    length).
    """

    spec: Mapping[str, Any]
    #: The core's grid, built (and validated) once: sweeps of small grids in AutoML loops
    #: would otherwise spend most of their time rebuilding it. Without a batch or a
    #: sequence length it is built with placeholders, to check every other field now.
    _core_grid: _core.Grid = dataclasses.field(init=False, repr=False, compare=False)
    _missing: tuple[str, ...] = dataclasses.field(init=False, repr=False, compare=False)
    #: The same grid keeping only rows that fit, which reductions sweep by default: built
    #: the first time one asks for it, then kept (an AutoML loop's top-k would otherwise
    #: rebuild it on every call).
    _feasible_grid: _core.Grid | None = dataclasses.field(init=False, repr=False,
                                                          compare=False)

    def __init__(self, **spec: Any) -> None:
        spec = _expand_shapes(spec)
        for name in ("d_model", "n_layers"):
            if name not in spec:
                msg = f"{name} is missing: a grid needs d_model and n_layers (values or axes)"
                raise ValueError(msg)
        if "n_heads" not in spec and "head_dim" not in spec:
            msg = "n_heads is missing: give n_heads or head_dim (values or axes)"
            raise ValueError(msg)
        known = set(AXES) | set(_ARCH_FIXED) | set(_OPTIONS) | set(_RANGE_CONSTRAINTS) | {
            "max_memory", "where", "zip"}
        unknown = sorted(set(spec) - known)
        if unknown:
            msg = f"{unknown[0]}={spec[unknown[0]]!r} is invalid: not a grid axis or option"
            raise ValueError(msg)
        object.__setattr__(self, "spec", dict(spec))
        missing = tuple(n for n in ("batch", "seq_len")
                        if spec.get(n) is None)
        object.__setattr__(self, "_missing", missing)
        object.__setattr__(self, "_core_grid", self._make_core())  # validates now
        object.__setattr__(self, "_feasible_grid", None)
        _ = self.hardware, self.efficiency  # and the device and efficiencies

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its spec (the core's grid does not pickle): grids travel to worker
        # processes (multiprocessing, Ray, Dask) as their spec.
        return (_grid_from_spec, (dict(self.spec),))

    def replace(self, **changes: Any) -> Grid:
        """A copy with some axes or options changed."""
        return Grid(**{**self.spec, **changes})

    @property
    def axes(self) -> dict[str, np.ndarray]:
        """The axes, in enumeration order (the last changes fastest; zipped axes together)."""
        return {name: np.asarray(self.spec[name]) for name, _, _ in _ordered(self.spec, self._zip_groups())}

    @property
    def swept(self) -> tuple[str, ...]:
        """The axes with more than one value."""
        return tuple(name for name, values in self.axes.items() if len(values) > 1)

    @property
    def zipped(self) -> tuple[tuple[str, ...], ...]:
        """The groups of axes walked together."""
        return tuple(tuple(group) for group in self._zip_groups())

    def __len__(self) -> int:
        return int(self._core_grid.size)

    @property
    def hardware(self) -> Hardware:
        return get_hardware(self.spec.get("hardware", _OPTIONS["hardware"]))

    @property
    def efficiency(self) -> _core.Efficiency:
        value = self.spec.get("efficiency")
        if value is None:
            default: _core.Efficiency = self.hardware.default_efficiency
            return default
        if not isinstance(value, _core.Efficiency):
            msg = f"efficiency={value!r} is invalid: it must be a scalingperf.Efficiency"
            raise ValueError(msg)
        return value

    def _zip_groups(self) -> list[list[str]]:
        groups = self.spec.get("zip") or []
        if not isinstance(groups, (list, tuple)):
            msg = f"zip={groups!r} is invalid: give a list of tuples of axis names"
            raise ValueError(msg)
        out: list[list[str]] = []
        seen: set[str] = set()
        for group in groups:
            if isinstance(group, str) or not isinstance(group, (list, tuple)) or len(group) < 2:
                msg = f"zip={groups!r} is invalid: each group is a tuple of two or more axes"
                raise ValueError(msg)
            for name in group:
                if name not in AXES:
                    msg = f"zip={groups!r} is invalid: {name!r} is not a grid axis"
                    raise ValueError(msg)
                if name in seen:
                    msg = f"zip={groups!r} is invalid: {name!r} is in more than one group"
                    raise ValueError(msg)
                if not _is_axis(self.spec.get(name)):
                    msg = f"zip={groups!r} is invalid: {name} is not an axis (give it a list)"
                    raise ValueError(msg)
                seen.add(name)
            levels = {_level(name) for name in group}
            if len(levels) > 1:
                msg = (f"zip={groups!r} is invalid: zip model axes with model axes, workload "
                       "with workload, layout with layout")
                raise ValueError(msg)
            sizes = {len(self.spec[name]) for name in group}
            if len(sizes) > 1:
                msg = (f"zip={groups!r} is invalid: zipped axes need as many values each "
                       f"(got {', '.join(f'{n}: {len(self.spec[n])}' for n in group)})")
                raise ValueError(msg)
            out.append(sorted(group, key=AXES.index))
        return out

    def _axis_values(self, name: str, values: Any) -> list[float]:
        count = len(values)
        if count > MAX_AXIS_VALUES:  # checked before the values are listed
            msg = (f"{name} has {count:,} values: an axis takes at most {MAX_AXIS_VALUES:,} "
                   "(sweep a coarser range, or split the grid)")
            raise ValueError(msg)
        items = list(values)
        if not items:
            msg = f"{name}=[] is invalid: an axis needs at least one value"
            raise ValueError(msg)
        if name in CATEGORIES:
            names = CATEGORIES[name]
            for item in items:
                if not isinstance(item, str) or item not in names:
                    msg = f"{name}={item!r} is invalid: allowed values are {', '.join(names)}"
                    raise ValueError(msg)
            return [float(names.index(item)) for item in items]
        if name == "ffn_ratio":
            numbers = [_validate.real(name, item) for item in items]
        else:
            numbers = [float(_validate.integer(name, item)) for item in items]
        _core.check_axis(name, numbers)
        return numbers

    def _build(self, **overrides: Any) -> _core.Grid:
        """The core's grid, with options (such as ``where``) overridden when given."""
        given = {name: value for name, value in overrides.items() if value is not None}
        missing = [name for name in self._missing if given.get(name) is None]
        if missing:
            msg = (f"{missing[0]} is missing: give {missing[0]}= to the Grid or to "
                   f"sweep(grid, {missing[0]}=...)")
            raise ValueError(msg)
        if not given:
            return self._core_grid
        if given == {"feasible": True}:
            if self._feasible_grid is None:
                object.__setattr__(self, "_feasible_grid", self._make_core(feasible=True))
            assert self._feasible_grid is not None
            return self._feasible_grid
        return self._make_core(**given)

    def _make_core(self, **overrides: Any) -> _core.Grid:
        spec = {**_OPTIONS, **GRID_DEFAULTS, **self.spec, **overrides}
        for name in _DERIVED_SCALARS:
            if name in spec and not _is_axis(spec[name]) and spec[name] is not None:
                spec[name] = [spec[name]]
        axes = [(name, self._axis_values(name, values), follows)
                for name, values, follows in _ordered(spec, self._zip_groups())]
        first = {name: values[0] for name, values, _ in axes}
        base: dict[str, Any] = {}
        for name in ("d_model", "n_layers", *_ARCH_FIXED):
            value = spec.get(name)
            if name in first:
                value = FFN_KINDS[int(first[name])] if name == "ffn" else int(first[name])
            if value is not None:
                base[name] = value
        for name in ("d_model", "n_layers", "n_heads", "vocab_size", "max_position_embeddings",
                     "n_experts", "top_k", "n_shared_experts", "moe_every", "first_dense_layers",
                     "attention_window", "global_every", "kv_lora_rank", "q_lora_rank",
                     "qk_nope_head_dim", "qk_rope_head_dim", "attention_every", "linear_heads",
                     "linear_head_dim", "linear_key_heads", "linear_key_dim",
                     "linear_conv_kernel", "activation_saves", "linear_dt_rank",
                     "mtp_layers"):
            if name in base:
                base[name] = _validate.integer(name, base[name])
                if name in AXES and name not in first:
                    _core.check_axis(name, [float(base[name])])
        for name in ("ffn", "position", "norm", "norm_placement", "qk_norm", "window_kind",
                     "linear_mixer"):
            if name in base:
                base[name] = _validate.text(name, base[name])
        for name in ("qkv_bias", "out_bias", "mlp_bias", "tie_embeddings", "shared_expert_gate",
                     "parallel_block", "embedding_norm", "lm_head_bias", "attention_sinks",
                     "attention_output_gate", "router_bias", "linear_conv_bias",
                     "linear_inner_norms", "attention_gate_bias", "moe_post_norm",
                     "last_out_bias", "sub_norms", "attention_head_gate", "window_sinks"):
            if name in base:
                base[name] = _validate.flag(name, base[name])
        for name, (lo, hi) in _FIXED_RANGES.items():
            if name in base:
                _in_range(name, base[name], lo, hi)
        for list_name in ("dense_layers", "global_layers", "attention_layers", "ffn_layers"):
            layers = base.get(list_name, ())
            if not isinstance(layers, (list, tuple, range)):
                msg = f"{list_name}={layers!r} is invalid: give a list of layer indices"
                raise ValueError(msg)
            for layer in layers:
                _in_range(list_name, _validate.integer(list_name, layer), 0, 2**16 - 1)
            base[list_name] = [int(layer) for layer in layers]
        if "capacity_factor" in base:
            factor = _validate.real("capacity_factor", base["capacity_factor"])
            if not 0 <= factor <= 1024:
                msg = f"capacity_factor={factor} is invalid: allowed range is [0, 1024] (0: dropless)"
                raise ValueError(msg)
            base["capacity_factor"] = factor
        derive_heads = "n_heads" not in spec
        if derive_heads:
            head_dim = _validate.integer("head_dim", first.get("head_dim", spec.get("head_dim")))
            _core.check_axis("head_dim", [float(head_dim)])
            base["n_heads"] = max(1, int(base["d_model"]) // head_dim)
        defaults = {f.name: f.default for f in dataclasses.fields(Architecture)
                    if f.default is not dataclasses.MISSING}
        for name, value in defaults.items():
            if name in _ARCH_FIXED and name not in base and value is not None:
                base[name] = value
        for name in ("n_kv_heads", "head_dim", "d_ff", "d_ff_expert", "d_ff_shared", "v_head_dim"):
            value = base.get(name)
            if value is not None:
                value = _validate.integer(name, value)
                if name in AXES and name not in first:
                    _core.check_axis(name, [float(value)])
            base[name] = 0 if value is None else value
        if "n_kv_heads" in first or "gqa_group" in first:
            base["n_kv_heads"] = 0
        base["dense_layers"] = list(base.get("dense_layers", ()))
        core_base = _core.Architecture(**base)
        bounds = [(column, lo, hi) for _, column, lo, hi in self._bounds(spec)]
        fixed = {name: spec[name] for name in ("batch", "seq_len", "recompute", "tp", "cp", "pp",
                                                "dp", "ep", "zero", "microbatches")}
        for name in ("batch", "seq_len"):
            if name in first:
                fixed[name] = int(first[name])
            elif fixed[name] is None:
                fixed[name] = 1  # a placeholder: _build refuses to sweep without it
        for name in ("batch", "seq_len", "tp", "cp", "pp", "dp", "ep", "zero"):
            if name in first:
                fixed[name] = int(first[name])
            else:
                fixed[name] = _validate.integer(name, fixed[name])
                _core.check_axis(name, [float(fixed[name])])
        if "microbatches" in first:
            fixed["microbatches"] = int(first["microbatches"])
        elif fixed["microbatches"] is not None:
            fixed["microbatches"] = _validate.integer("microbatches", fixed["microbatches"])
            _core.check_axis("microbatches", [float(fixed["microbatches"])])
        if "recompute" in first:
            fixed["recompute"] = RECOMPUTE[int(first["recompute"])]
        split = _stage_split(spec["layers_per_stage"], spec["pp"])
        return _core.Grid(
            base=core_base, axes=axes, batch=fixed["batch"], seq_len=fixed["seq_len"],
            recompute=_validate.text("recompute", fixed["recompute"]),
            dtype=_validate.text("dtype", spec["dtype"]),
            flash_attention=_validate.flag("flash_attention", spec["flash_attention"]),
            dropout=_validate.flag("dropout", spec["dropout"]),
            implementation=_validate.text("implementation", spec["implementation"]),
            tp=fixed["tp"], pp=fixed["pp"], dp=fixed["dp"], ep=fixed["ep"], zero=fixed["zero"],
            microbatches=fixed["microbatches"] or 0,
            interleave=_interleave(spec["interleave"]),
            sequence_parallel=_validate.flag("sequence_parallel", spec["sequence_parallel"]),
            optimizer=_validate.text("optimizer", spec["optimizer"]),
            ffn_multiple=_validate.integer("ffn_multiple", spec["ffn_multiple"]),
            derive_heads=derive_heads, n_gpus=_validate.integer("n_gpus", spec["n_gpus"]),
            global_batch=_validate.integer("global_batch", spec["global_batch"]),
            compute=_nonnegative("compute", spec["compute"]), bounds=bounds, cp=fixed["cp"],
            first_stage_layers=split[0] if isinstance(split, tuple) else -1,
            middle_stage_layers=split[1] if isinstance(split, tuple) else -1,
            last_stage_layers=split[2] if isinstance(split, tuple) else -1,
            embedding_in_split=isinstance(split, str) and split != "loss",
            loss_in_split=isinstance(split, str) and split != "embedding",
            recompute_every=_at_least_one("recompute_every", spec["recompute_every"]),
            etp=_at_least_one("etp", spec["etp"]),
            shard=_at_least_one("shard", spec["shard"]),
            ep_dispatcher=_validate.text("ep_dispatcher", spec["ep_dispatcher"]),
            recompute_modules=list(_modules(spec["recompute_modules"], spec["recompute"])),
            fused_elementwise=_validate.flag("fused_elementwise", spec["fused_elementwise"]),
            offload_layers=self._offload_layers(spec),
            fp32_gradients=_validate.flag("fp32_gradients", spec["fp32_gradients"]))

    def _offload_layers(self, spec: Mapping[str, Any]) -> int:
        """The grid's offload_layers for the core (0: off), refused by name on a device
        whose host link is unknown."""
        value = spec["offload_layers"]
        layers = 0 if value is None else _validate.integer("offload_layers", value)
        _in_range("offload_layers", layers, 0, 2**20)
        if layers and not self.hardware.host_bandwidth:
            msg = (f"offload_layers={layers} is invalid: {self.hardware.name} has no "
                   "host_bandwidth (bytes/s to its host's memory) to offload activations over")
            raise ValueError(msg)
        return layers

    def _bounds(self, spec: Mapping[str, Any]) -> list[tuple[str, str, float, float]]:
        """The bounds on result columns, in the core's order: (what the user asked for,
        column, lo, hi), NaN for no bound."""
        bounds: list[tuple[str, str, float, float]] = []
        for option, column in _RANGE_CONSTRAINTS.items():
            if spec.get(option) is not None:
                lo, hi = _pair(option, spec[option])
                bounds.append((f"{option}={spec[option]!r}", column, lo, hi))
        if spec.get("max_memory") is not None:
            limit = (self.hardware.memory if spec["max_memory"] == "device"
                     else _bytes("max_memory", spec["max_memory"]))
            bounds.append((f"max_memory={spec['max_memory']!r} ({limit / 1e9:.4g} GB per GPU)",
                           "memory_per_gpu", math.nan, limit))
        where = spec.get("where")
        if where is not None:
            if not isinstance(where, Mapping):
                msg = (f"where={where!r} is invalid: give a dict of column bounds, "
                       "{'mfu': (0.4, None)}")
                raise ValueError(msg)
            for column, pair in where.items():
                if not isinstance(column, str) or column not in _core.SWEEP_COLUMNS:
                    msg = (f"where={{{column!r}: ...}} is invalid: bound a result column "
                           f"({', '.join(_core.SWEEP_COLUMNS)})")
                    raise ValueError(msg)
                lo, hi = _pair(f"where[{column!r}]", pair)
                bounds.append((f"where {column} in {tuple(pair)!r}", column, lo, hi))
        if spec.get("feasible"):
            bounds.append((f"does not fit in {self.hardware.name}'s memory (feasible=True)",
                           "fits", 0.5, math.nan))
        return bounds

    def bound_labels(self, **overrides: Any) -> list[str]:
        """What each bound of the grid (with sweep overrides such as ``where``) is, in words."""
        given = {name: value for name, value in overrides.items() if value is not None}
        return [label for label, *_ in self._bounds({**self.spec, **given})]

    def estimate_seconds(self, batch: int | None = None, seq_len: int | None = None, *,
                         threads: int | None = None, samples: int = 8) -> float:
        """About how long a full sweep of this grid takes on this machine, in seconds:
        ``samples`` short slices spread over the grid are swept now and timed (a top-k or
        Pareto reduction that prunes takes less). ``batch`` and ``seq_len`` as in
        :func:`scalingperf.sweep`."""
        from .sweep import estimate_seconds

        changes = {name: value for name, value in (("batch", batch), ("seq_len", seq_len))
                   if value is not None}
        grid = self.replace(**changes) if changes else self
        return estimate_seconds(grid, threads=threads, samples=samples)

    def why_invalid(self, index: int, **overrides: Any) -> str | None:
        """Why grid point ``index`` is not a row (None when it is one): a check it fails,
        or a bound (``max_memory``, ``where``, ...) its costs are outside."""
        i = _validate.integer("index", index)
        if not 0 <= i < len(self):
            msg = f"index={i} is invalid: the grid has {len(self):,} points"
            raise ValueError(msg)
        point = _core.grid_point(self._build(**overrides), i, self.hardware._core,
                                 self.efficiency)
        if isinstance(point, str):
            return point
        given = {name: value for name, value in overrides.items() if value is not None}
        for label, column, lo, hi in self._bounds({**self.spec, **given}):
            value = point[_core.SWEEP_COLUMNS.index(column)]
            if value < lo or value > hi:
                return f"{column}={value:.4g} is outside {label}"
        return None

    def architecture(self, row: Mapping[str, Any]) -> Architecture:
        """The Architecture of a sweep row (a mapping from column names to values)."""
        fields: dict[str, Any] = dict(GRID_DEFAULTS)
        for name in _ARCH_FIXED:
            if name in self.spec and not _is_axis(self.spec[name]):
                fields[name] = self.spec[name]
        for name in ("d_model", "n_layers", "n_heads", "n_kv_heads", "head_dim", "d_ff",
                     "n_experts", "top_k", "n_shared_experts", "d_ff_expert", "vocab_size",
                     "attention_window", "global_every"):
            fields[name] = int(row[name])
        if fields.get("kv_lora_rank"):
            fields["head_dim"] = None  # derived from the latent attention's dimensions
        ffn = row["ffn"]
        fields["ffn"] = ffn if isinstance(ffn, str) else FFN_KINDS[int(ffn)]
        if fields["n_experts"] <= 1:
            fields.pop("d_ff_expert")
        return Architecture(**fields)

    # ---- published families of shapes --------------------------------------------------

    @classmethod
    def _at_size(cls, target_params: float, aspect: tuple[float, float], tolerance: float,
                 head_dim: int, **fixed: Any) -> Grid:
        target = _validate.real("target_params", target_params)
        if target <= 0:
            msg = f"target_params={target} is invalid: it must be positive"
            raise ValueError(msg)
        return cls._shapes(target * (1 - tolerance), target * (1 + tolerance), aspect,
                           head_dim, **fixed)

    @classmethod
    def _shapes(cls, n_lo: float, n_hi: float, aspect: tuple[float, float], head_dim: int,
                **fixed: Any) -> Grid:
        """Shapes with about 12 L d^2 non-embedding parameters in [n_lo, n_hi] (Kaplan et al.
        2020, §2.1) and d_model / n_layers in ``aspect``; the core applies both bounds."""
        lo, hi = aspect
        # 12 L d^2 = N with d = a L gives d = (a N / 12)^(1/3).
        d_min = max(head_dim, int((lo * n_lo / 12) ** (1 / 3) * 0.8) // head_dim * head_dim)
        d_max = int((hi * n_hi / 12) ** (1 / 3) * 1.25) // head_dim * head_dim + head_dim
        l_min = max(1, int(n_lo / (12 * d_max**2) * 0.8))
        l_max = max(l_min + 1, int(n_hi / (12 * d_min**2) * 1.25) + 1)
        return cls(d_model=range(d_min, d_max + 1, head_dim), n_layers=range(l_min, l_max + 1),
                   head_dim=head_dim, aspect=aspect, params=(n_lo, n_hi), **fixed)

    @classmethod
    def deep_narrow(cls, target_params: float, *, tolerance: float = 0.1, head_dim: int = 64,
                    aspect: tuple[float, float] = (8, 48), **fixed: Any) -> Grid:
        """Deep, narrow shapes at a parameter budget: Tay et al. 2021 ("Scale Efficiently")
        find that depth should grow before width (DeepNarrow); d_model / n_layers from 8 to
        48 (T5-Base's is 64), non-embedding parameters within ``tolerance``."""
        return cls._at_size(target_params, aspect, tolerance, head_dim, **fixed)

    @classmethod
    def uniform(cls, target_params: float, *, tolerance: float = 0.1, head_dim: int = 128,
                aspect: tuple[float, float] = (64, 256), **fixed: Any) -> Grid:
        """Shapes that scale depth and width together around the usual aspect ratios
        (GPT-3 175B: 128; Llama-2-7B: 128), parameters within ``tolerance``."""
        return cls._at_size(target_params, aspect, tolerance, head_dim, **fixed)

    @classmethod
    def kaplan_aspect(cls, target_params: float, *, tolerance: float = 0.1,
                      head_dim: int = 64, aspect: tuple[float, float] = (10, 1000),
                      **fixed: Any) -> Grid:
        """Kaplan et al. 2020's sweep of d_model / n_layers at fixed N (Figure 5: loss is
        within a few percent from aspect ratio 20 to 200)."""
        return cls._at_size(target_params, aspect, tolerance, head_dim, **fixed)

    @classmethod
    def moe_experts(cls, base: Architecture,
                    n_experts: Iterable[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
                    top_k: Iterable[int] = (1, 2), **fixed: Any) -> Grid:
        """A dense base model with routed experts in every layer, E from 1 to 512: the
        expert-count sweep of Clark et al. 2022 ("Unified Scaling Laws for Routed
        Language Models")."""
        fields = {name: value for name, value in base.to_dict().items()
                  if name in (*_ARCH_FIXED, "d_model", "n_layers")}
        fields.update(n_experts=list(n_experts), top_k=list(top_k), **fixed)
        return cls(**fields)

    @classmethod
    def isoflop(cls, compute: float, *, min_params: float, max_params: float,
                head_dim: int = 128, aspect: tuple[float, float] = (32, 256),
                **fixed: Any) -> Grid:
        """An isoFLOP family (Hoffmann et al. 2022, approach 2): shapes from ``min_params``
        to ``max_params`` non-embedding parameters for one FLOP budget; each row's
        ``tokens_at_budget`` is what the budget buys at its FLOPs per token."""
        lo, hi = _validate.real("min_params", min_params), _validate.real("max_params", max_params)
        if not 0 < lo < hi:
            msg = f"min_params={lo}, max_params={hi} are invalid: need 0 < min < max"
            raise ValueError(msg)
        return cls._shapes(lo, hi, aspect, head_dim, compute=compute, **fixed)


def _grid_from_spec(spec: dict[str, Any]) -> Grid:
    return Grid(**spec)
