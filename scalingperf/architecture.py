"""The description of a decoder-only transformer."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from . import _core, _validate

_INTEGER_FIELDS = (
    "d_model", "n_layers", "vocab_size", "max_position_embeddings",
    "n_experts", "top_k", "n_shared_experts", "moe_every", "first_dense_layers",
)
_DERIVED_FIELDS = ("n_kv_heads", "head_dim", "d_ff", "d_ff_expert", "d_ff_shared")
_FLAG_FIELDS = ("qkv_bias", "out_bias", "mlp_bias", "tie_embeddings", "shared_expert_gate")
_TEXT_FIELDS = ("ffn", "position", "norm")


def _heads_from_head_dim(d_model: int, head_dim: int) -> int:
    """n_heads = d_model / head_dim, or a ValueError saying why it cannot be derived."""
    if head_dim == 0:
        msg = ("n_heads=None is invalid: give n_heads, or head_dim to derive "
               "n_heads = d_model / head_dim")
        raise ValueError(msg)
    if head_dim < 0:
        msg = f"head_dim={head_dim} is invalid: allowed range is >= 1"
        raise ValueError(msg)
    if d_model < 1:
        return 1  # the core refuses d_model, naming it
    if d_model % head_dim != 0:
        msg = (f"head_dim={head_dim} is invalid: to derive n_heads = d_model / head_dim it "
               f"must divide d_model={d_model} (or give n_heads)")
        raise ValueError(msg)
    return d_model // head_dim


@dataclass(frozen=True)
class Architecture:
    """A decoder-only transformer, dense or mixture-of-experts.

    Fields left as None (and only None: 0 is refused) are derived: ``n_heads =
    d_model / head_dim`` when only ``head_dim`` is given, ``n_kv_heads = n_heads``
    (multi-head attention), ``head_dim = d_model / n_heads``, ``d_ff = 4 d_model`` (or
    8/3 d_model rounded up to 256 for gated FFNs, as in Llama), ``d_ff_expert = d_ff``,
    ``d_ff_shared = d_ff_expert``. The instance holds the derived values. Every field is
    validated by the C++ core; an invalid one raises ValueError naming the field, its value
    and the allowed range.

    Parameters
    ----------
    d_model, n_layers : int
        Width of the residual stream and number of layers.
    n_heads : int, optional
        Attention heads. Give it, or ``head_dim`` alone: then ``n_heads = d_model /
        head_dim``, which must divide.
    n_kv_heads : int, optional
        Key/value heads (grouped-query attention when fewer than ``n_heads``; 1 is
        multi-query attention). Must divide ``n_heads``.
    head_dim : int, optional
        Width of one head; ``n_heads * head_dim`` may differ from ``d_model``.
    d_ff : int, optional
        Hidden width of the dense feed-forward block.
    ffn : {"gelu", "relu", "swiglu", "geglu"}
        Feed-forward kind; the gated kinds have three weight matrices.
    vocab_size, max_position_embeddings : int
        Vocabulary size and context length (rows of a learned position table).
    position : {"learned", "rotary", "none"}
    norm : {"layernorm", "rmsnorm"}
        LayerNorm has a weight and a bias per feature, RMSNorm a weight.
    qkv_bias, out_bias, mlp_bias : bool
        Biases on the query/key/value projections, the attention output projection, and
        the feed-forward (and expert) matrices.
    tie_embeddings : bool
        Whether the output projection shares the token embedding matrix.
    n_experts, top_k : int
        Routed experts per MoE layer and experts per token (dense when ``n_experts <= 1``).
    n_shared_experts, d_ff_shared : int
        Experts every token goes through, and the hidden width of each.
    d_ff_expert : int, optional
        Hidden width of one routed expert.
    shared_expert_gate : bool
        A sigmoid gate (a d_model x 1 projection) on the shared experts (Qwen2-MoE).
    moe_every, first_dense_layers, dense_layers
        Layer ``i`` (from 0) is an MoE layer when ``(i + 1) % moe_every == 0``,
        ``i >= first_dense_layers`` and ``i`` is not in ``dense_layers``.
    capacity_factor : float
        0 for dropless routing; otherwise each expert computes ``ceil(c k T / E)`` token
        slots, padding included.
    name : str, optional
        A label, not part of the model.
    """

    d_model: int
    n_layers: int
    n_heads: int | None = None
    n_kv_heads: int | None = None
    head_dim: int | None = None
    d_ff: int | None = None
    ffn: str = "gelu"
    vocab_size: int = 50257
    max_position_embeddings: int = 2048
    position: str = "learned"
    norm: str = "layernorm"
    qkv_bias: bool = False
    out_bias: bool = False
    mlp_bias: bool = False
    tie_embeddings: bool = False
    n_experts: int = 0
    top_k: int = 1
    n_shared_experts: int = 0
    d_ff_expert: int | None = None
    d_ff_shared: int | None = None
    shared_expert_gate: bool = False
    moe_every: int = 1
    first_dense_layers: int = 0
    dense_layers: tuple[int, ...] = ()
    capacity_factor: float = 0.0
    name: str | None = field(default=None, compare=False)
    _core: _core.Architecture = field(init=False, repr=False, compare=False)
    _derived: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.name is not None and not isinstance(self.name, str):
            msg = f"name={self.name!r} is invalid: it must be a string or None"
            raise ValueError(msg)
        values: dict[str, Any] = {}
        for name in _INTEGER_FIELDS:
            values[name] = _validate.integer(name, getattr(self, name))
        for name in _DERIVED_FIELDS:
            values[name] = _validate.derived_integer(name, getattr(self, name))
        heads_derived = self.n_heads is None
        if heads_derived:
            values["n_heads"] = _heads_from_head_dim(values["d_model"], values["head_dim"])
        else:
            values["n_heads"] = _validate.integer("n_heads", self.n_heads)
        for name in _FLAG_FIELDS:
            values[name] = _validate.flag(name, getattr(self, name))
        for name in _TEXT_FIELDS:
            values[name] = _validate.text(name, getattr(self, name))
        try:
            layers = tuple(self.dense_layers)
        except TypeError:
            msg = f"dense_layers={self.dense_layers!r} is invalid: it must be a sequence of layer indices"
            raise ValueError(msg) from None
        values["dense_layers"] = [_validate.integer("dense_layers", i) for i in layers]
        values["capacity_factor"] = _validate.real("capacity_factor", self.capacity_factor)
        core = _core.Architecture(**values).resolved()
        for name in ("n_heads", *_INTEGER_FIELDS, *_DERIVED_FIELDS, *_FLAG_FIELDS,
                     *_TEXT_FIELDS):
            object.__setattr__(self, name, getattr(core, name))
        object.__setattr__(self, "dense_layers", tuple(core.dense_layers))
        object.__setattr__(self, "capacity_factor", core.capacity_factor)
        object.__setattr__(self, "_core", core)
        derived = tuple(n for n in _DERIVED_FIELDS if values[n] == 0)
        if heads_derived:
            derived = ("n_heads", *derived)
        object.__setattr__(self, "_derived", derived)

    @property
    def n_moe_layers(self) -> int:
        """Number of layers with routed experts."""
        return int(self._core.n_moe_layers)

    @property
    def is_moe(self) -> bool:
        """True when at least one layer has routed experts."""
        return self.n_moe_layers > 0

    def replace(self, **changes: Any) -> Architecture:
        """A copy with some fields changed; fields that were derived are derived again."""
        rederive: dict[str, Any] = {n: None for n in self._derived if n not in changes}
        return dataclasses.replace(self, **rederive, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python values."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        out["dense_layers"] = list(self.dense_layers)
        return out

    @classmethod
    def preset(cls, name: str) -> Architecture:
        """A built-in published architecture; see :func:`scalingperf.presets`."""
        from .presets import preset

        return preset(name)

    @classmethod
    def from_hf_config(cls, config: str | PathLike[str] | dict[str, Any]) -> Architecture:
        """Read a Hugging Face ``config.json`` (a path or the parsed dict).

        Supports the GPT-2, Llama, Mistral, Mixtral, Qwen2 and Qwen2-MoE families, and
        other Llama-like configs that name the same fields.
        """
        from .hf_config import from_hf_config

        return from_hf_config(config)

    def to_hf_config(self, family: str = "llama") -> dict[str, Any]:
        """This architecture as a Hugging Face config dict of ``family`` (gpt2, llama,
        mistral, mixtral, qwen2, qwen2_moe), which :meth:`from_hf_config` reads back; see
        :func:`scalingperf.hf_write.to_hf_config`."""
        from .hf_write import to_hf_config

        return to_hf_config(self, family)
