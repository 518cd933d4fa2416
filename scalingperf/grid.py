"""Grids of architectures and layouts, and the published families of shapes."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from . import _core, _validate
from .architecture import Architecture
from .devices import Hardware, get_hardware

#: Axes in the order the core enumerates them: model, then workload, then layout.
AXES = ("d_model", "n_layers", "n_heads", "head_dim", "n_kv_heads", "gqa_group", "d_ff",
        "ffn_ratio", "ffn", "n_experts", "top_k", "n_shared_experts", "d_ff_expert",
        "vocab_size", "seq_len", "batch", "recompute", "tp", "pp", "dp", "ep", "zero",
        "microbatches")
FFN_KINDS = ("gelu", "relu", "swiglu", "geglu")
RECOMPUTE = ("none", "selective", "full")
_ARCH_FIXED = ("n_heads", "head_dim", "n_kv_heads", "d_ff", "ffn", "n_experts", "top_k",
               "n_shared_experts", "d_ff_expert", "vocab_size", "max_position_embeddings",
               "position", "norm", "qkv_bias", "out_bias", "mlp_bias", "tie_embeddings",
               "d_ff_shared", "shared_expert_gate", "moe_every", "first_dense_layers",
               "dense_layers", "capacity_factor")
_OPTIONS = dict(dtype="bf16", flash_attention=True, dropout=False, implementation="megatron",
                sequence_parallel=False, optimizer="adamw", interleave=1, ffn_multiple=1,
                n_gpus=0, global_batch=0, compute=0.0, hardware="H100-SXM", efficiency=None,
                batch=None, seq_len=None, recompute="none", tp=1, pp=1, dp=1, ep=1, zero=0,
                microbatches=0)
_RANGE_CONSTRAINTS = {"params": "params_non_embedding", "active_params": "params_active",
                      "aspect": "aspect_ratio"}


def _is_axis(value: Any) -> bool:
    return isinstance(value, (list, tuple, range, np.ndarray)) and not isinstance(value, str)


def _bytes(field: str, value: Any) -> float:
    """A byte count: a number or a string such as "80GiB" or "80 GB"."""
    if isinstance(value, str):
        text = value.replace(" ", "")
        units = {"TiB": 2**40, "GiB": 2**30, "MiB": 2**20, "TB": 1e12, "GB": 1e9, "MB": 1e6,
                 "B": 1}
        for unit, scale in units.items():
            if text.endswith(unit):
                try:
                    return float(text[: -len(unit)]) * scale
                except ValueError:
                    break
        msg = f"{field}={value!r} is invalid: give bytes or a size such as '80GiB'"
        raise ValueError(msg)
    return _validate.real(field, value)


@dataclasses.dataclass(frozen=True)
class Grid:
    """A grid of configurations: every combination of the axes given as sequences.

    Any architecture field, ``seq_len``, ``batch``, ``recompute`` and the layout (``tp``,
    ``pp``, ``dp``, ``ep``, ``zero``, ``microbatches``) can be an axis (a list, range or
    array) or fixed (a scalar). Derived axes: ``head_dim`` without ``n_heads`` gives
    ``n_heads = d_model / head_dim``; ``gqa_group`` gives ``n_kv_heads = n_heads / group``;
    ``ffn_ratio`` (with ``ffn_multiple``) gives ``d_ff = ratio x d_model`` rounded up.

    Constraints, evaluated in the core: points whose sizes do not divide are skipped;
    ``n_gpus`` fixes the world size (``dp = n_gpus / (tp pp)``); ``global_batch`` (sequences
    per step) sets ``microbatches``; ``params`` and ``active_params`` (non-embedding,
    ``(lo, hi)``), ``aspect`` (``d_model / n_layers``, ``(lo, hi)``) and ``max_memory``
    (bytes per GPU, or ``"device"``) bound the rows; ``compute`` (FLOPs) adds
    ``tokens_at_budget`` and ``train_days``.

    Other options as in :func:`scalingperf.estimate`: ``dtype``, ``hardware``,
    ``flash_attention``, ``dropout``, ``implementation``, ``sequence_parallel``,
    ``optimizer``, ``interleave``, ``efficiency``.
    """

    spec: Mapping[str, Any]
    #: The core's grid, built (and validated) once: sweeps of small grids in AutoML loops
    #: would otherwise spend most of their time rebuilding it.
    _core_grid: _core.Grid = dataclasses.field(init=False, repr=False, compare=False)

    def __init__(self, **spec: Any) -> None:
        for name in ("d_model", "n_layers"):
            if name not in spec:
                msg = f"{name} is missing: a grid needs d_model and n_layers (values or axes)"
                raise ValueError(msg)
        if "n_heads" not in spec and "head_dim" not in spec:
            msg = "n_heads is missing: give n_heads or head_dim (values or axes)"
            raise ValueError(msg)
        known = set(AXES) | set(_ARCH_FIXED) | set(_OPTIONS) | set(_RANGE_CONSTRAINTS) | {
            "max_memory", "where"}
        unknown = sorted(set(spec) - known)
        if unknown:
            msg = f"{unknown[0]}={spec[unknown[0]]!r} is invalid: not a grid axis or option"
            raise ValueError(msg)
        object.__setattr__(self, "spec", dict(spec))
        object.__setattr__(self, "_core_grid", self._make_core())  # validates now

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its spec (the core's grid does not pickle): grids travel to worker
        # processes (multiprocessing, Ray, Dask) as their spec.
        return (_grid_from_spec, (dict(self.spec),))

    def replace(self, **changes: Any) -> Grid:
        """A copy with some axes or options changed."""
        return Grid(**{**self.spec, **changes})

    @property
    def axes(self) -> dict[str, np.ndarray]:
        """The axes, in enumeration order (the last changes fastest)."""
        return {name: np.asarray(self.spec[name]) for name in AXES
                if name in self.spec and _is_axis(self.spec[name])}

    def __len__(self) -> int:
        return math.prod(len(values) for values in self.axes.values())

    @property
    def hardware(self) -> Hardware:
        return get_hardware(self.spec.get("hardware", _OPTIONS["hardware"]))

    @property
    def efficiency(self) -> _core.Efficiency:
        value = self.spec.get("efficiency")
        if value is None:
            return _core.Efficiency()
        if not isinstance(value, _core.Efficiency):
            msg = f"efficiency={value!r} is invalid: it must be a scalingperf.Efficiency"
            raise ValueError(msg)
        return value

    def _axis_values(self, name: str, values: Iterable[Any]) -> list[float]:
        items = list(values)
        if not items:
            msg = f"{name}=[] is invalid: an axis needs at least one value"
            raise ValueError(msg)
        if name in ("ffn", "recompute"):
            names = FFN_KINDS if name == "ffn" else RECOMPUTE
            for item in items:
                if item not in names:
                    msg = f"{name}={item!r} is invalid: allowed values are {', '.join(names)}"
                    raise ValueError(msg)
            return [float(names.index(item)) for item in items]
        if name == "ffn_ratio":
            return [_validate.real(name, item) for item in items]
        return [float(_validate.integer(name, item)) for item in items]

    def _build(self, **overrides: Any) -> _core.Grid:
        """The core's grid, with options (such as ``where``) overridden when given."""
        given = {name: value for name, value in overrides.items() if value is not None}
        return self._make_core(**given) if given else self._core_grid

    def _make_core(self, **overrides: Any) -> _core.Grid:
        spec = {**_OPTIONS, **self.spec, **overrides}
        axes = [(name, self._axis_values(name, spec[name])) for name in AXES
                if name in spec and _is_axis(spec[name])]
        first = {name: values[0] for name, values in axes}
        base: dict[str, Any] = {}
        for name in ("d_model", "n_layers", *_ARCH_FIXED):
            if name in ("ffn_ratio", "gqa_group"):
                continue
            value = spec.get(name)
            if name in first:
                value = FFN_KINDS[int(first[name])] if name == "ffn" else int(first[name])
            if value is not None:
                base[name] = value
        for name in ("d_model", "n_layers", "n_heads", "vocab_size", "max_position_embeddings",
                     "n_experts", "top_k", "n_shared_experts", "moe_every", "first_dense_layers"):
            if name in base:
                base[name] = _validate.integer(name, base[name])
        for name in ("ffn", "position", "norm"):
            if name in base:
                base[name] = _validate.text(name, base[name])
        derive_heads = "n_heads" not in spec
        if derive_heads:
            head_dim = _validate.integer("head_dim", first.get("head_dim", spec.get("head_dim")))
            base["n_heads"] = max(1, int(base["d_model"]) // max(1, head_dim))
        defaults = {f.name: f.default for f in dataclasses.fields(Architecture)
                    if f.default is not dataclasses.MISSING}
        for name, value in defaults.items():
            if name in _ARCH_FIXED and name not in base and value is not None:
                base[name] = value
        for name in ("n_kv_heads", "head_dim", "d_ff", "d_ff_expert", "d_ff_shared"):
            base[name] = _validate.optional_integer(name, base.get(name))
        if "n_kv_heads" in first or "gqa_group" in first:
            base["n_kv_heads"] = 0
        base["dense_layers"] = list(base.get("dense_layers", ()))
        core_base = _core.Architecture(**base)
        bounds = []
        for option, column in _RANGE_CONSTRAINTS.items():
            if spec.get(option) is not None:
                lo, hi = spec[option]
                bounds.append((column, math.nan if lo is None else float(lo),
                               math.nan if hi is None else float(hi)))
        if spec.get("max_memory") is not None:
            limit = (self.hardware.memory if spec["max_memory"] == "device"
                     else _bytes("max_memory", spec["max_memory"]))
            bounds.append(("memory_per_gpu", math.nan, limit))
        for column, (lo, hi) in (spec.get("where") or {}).items():
            bounds.append((column, math.nan if lo is None else float(lo),
                           math.nan if hi is None else float(hi)))
        fixed = {name: spec[name] for name in ("batch", "seq_len", "recompute", "tp", "pp", "dp",
                                                "ep", "zero", "microbatches")}
        for name in ("batch", "seq_len"):
            if name in first:
                fixed[name] = int(first[name])
            elif fixed[name] is None:
                msg = f"{name} is missing: give it to the Grid or to sweep()"
                raise ValueError(msg)
        for name in ("tp", "pp", "dp", "ep", "zero", "microbatches"):
            if name in first:
                fixed[name] = int(first[name])
        if "recompute" in first:
            fixed["recompute"] = RECOMPUTE[int(first["recompute"])]
        return _core.Grid(
            base=core_base, axes=axes, batch=_validate.integer("batch", fixed["batch"]),
            seq_len=_validate.integer("seq_len", fixed["seq_len"]),
            recompute=_validate.text("recompute", fixed["recompute"]),
            dtype=_validate.text("dtype", spec["dtype"]),
            flash_attention=_validate.flag("flash_attention", spec["flash_attention"]),
            dropout=_validate.flag("dropout", spec["dropout"]),
            implementation=_validate.text("implementation", spec["implementation"]),
            tp=_validate.integer("tp", fixed["tp"]), pp=_validate.integer("pp", fixed["pp"]),
            dp=_validate.integer("dp", fixed["dp"]), ep=_validate.integer("ep", fixed["ep"]),
            zero=_validate.integer("zero", fixed["zero"]),
            microbatches=_validate.integer("microbatches", fixed["microbatches"] or 0),
            interleave=_validate.integer("interleave", spec["interleave"]),
            sequence_parallel=_validate.flag("sequence_parallel", spec["sequence_parallel"]),
            optimizer=_validate.text("optimizer", spec["optimizer"]),
            ffn_multiple=_validate.integer("ffn_multiple", spec["ffn_multiple"]),
            derive_heads=derive_heads, n_gpus=_validate.integer("n_gpus", spec["n_gpus"]),
            global_batch=_validate.integer("global_batch", spec["global_batch"]),
            compute=_validate.real("compute", spec["compute"]), bounds=bounds)

    def why_invalid(self, index: int) -> str | None:
        """Why grid point ``index`` is skipped (None when it is a valid point)."""
        point = _core.grid_point(self._build(), _validate.integer("index", index),
                                 self.hardware._core, self.efficiency)
        return point if isinstance(point, str) else None

    def architecture(self, row: Mapping[str, Any]) -> Architecture:
        """The Architecture of a sweep row (a mapping from column names to values)."""
        fields: dict[str, Any] = {}
        for name in _ARCH_FIXED:
            if name in self.spec and not _is_axis(self.spec[name]):
                fields[name] = self.spec[name]
        for name in ("d_model", "n_layers", "n_heads", "n_kv_heads", "head_dim", "d_ff",
                     "n_experts", "top_k", "n_shared_experts", "d_ff_expert", "vocab_size"):
            fields[name] = int(row[name])
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
