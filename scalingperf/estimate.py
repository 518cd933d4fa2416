"""One configuration's cost: ``estimate()`` and its Report."""

from __future__ import annotations

from typing import Any

from . import _core, _validate
from ._format import si, table
from .architecture import Architecture
from .layers import OpTable

ParamCounts = _core.ParamCounts
FlopCounts = _core.FlopCounts

_PARAM_FIELDS = ("total", "embedding", "non_embedding", "active", "active_non_embedding")
_FLOP_FIELDS = ("forward", "backward", "forward_causal", "backward_causal",
                "elementwise_forward", "elementwise_backward", "recompute", "model",
                "hardware", "per_token", "six_n_per_token")


def estimate(arch: Architecture, batch: int, seq_len: int, *,
             recompute: str = "none") -> Report:
    """Parameters and FLOPs of one training micro-batch of ``arch``.

    Parameters
    ----------
    arch : Architecture
        The model (see :class:`Architecture`, :func:`presets`).
    batch, seq_len : int
        Sequences in the micro-batch and tokens per sequence.
    recompute : {"none", "selective", "full"}
        Activation recomputation, which adds forward matmuls to the hardware FLOPs:
        selective redoes the attention core, full every layer (Korthikanti et al. 2022).

    Returns
    -------
    Report
        ``.params`` and ``.flops`` totals, and the per-op table ``.layers``.
    """
    if not isinstance(arch, Architecture):
        msg = f"arch={arch!r} is invalid: it must be a scalingperf.Architecture"
        raise ValueError(msg)
    if type(batch) is not int:
        batch = _validate.integer("batch", batch)
    if type(seq_len) is not int:
        seq_len = _validate.integer("seq_len", seq_len)
    try:
        totals = _core.estimate(arch._core, batch, seq_len, recompute)
    except TypeError:
        # pybind11 refuses ints beyond 64 bits and non-strings; say which field.
        _validate.integer("batch", batch)
        _validate.integer("seq_len", seq_len)
        _validate.text("recompute", recompute)
        raise
    return Report(arch, batch, seq_len, recompute, totals)


class Report:
    """What :func:`estimate` found for one configuration.

    Attributes
    ----------
    params : ParamCounts
        ``total``, ``embedding`` (token and position tables, untied output projection),
        ``non_embedding``, ``active`` (per token: top_k routed experts) and
        ``active_non_embedding`` (Kaplan's N).
    flops : FlopCounts
        Matmul FLOPs of the micro-batch: ``forward``, ``backward`` (full attention),
        ``forward_causal``, ``backward_causal``, ``model`` (forward + backward),
        ``hardware`` (model + ``recompute``), ``per_token``, ``six_n_per_token``, and
        elementwise FLOPs apart: ``elementwise_forward``, ``elementwise_backward``.
    tokens : float
        ``batch * seq_len``.
    layers : OpTable
        One row per op of every layer type (computed on first access).
    """

    __slots__ = ("_layers", "architecture", "batch", "flops", "params", "recompute",
                 "seq_len", "tokens")

    def __init__(self, arch: Architecture, batch: int, seq_len: int, recompute: str,
                 totals: _core.Totals) -> None:
        self.architecture = arch
        self.batch = batch
        self.seq_len = seq_len
        self.recompute = recompute
        self.params: ParamCounts = totals.params
        self.flops: FlopCounts = totals.flops
        self.tokens: float = totals.tokens
        self._layers: OpTable | None = None

    @property
    def layers(self) -> OpTable:
        """The per-op table."""
        if self._layers is None:
            columns = _core.op_table(self.architecture._core, self.batch, self.seq_len,
                                     self.recompute)
            self._layers = OpTable(columns)
        return self._layers

    def to_dict(self) -> dict[str, Any]:
        """Totals and the per-op table as plain Python values, for JSON."""
        return {
            "architecture": self.architecture.to_dict(),
            "batch": self.batch,
            "seq_len": self.seq_len,
            "recompute": self.recompute,
            "tokens": self.tokens,
            "params": {name: getattr(self.params, name) for name in _PARAM_FIELDS},
            "flops": {name: getattr(self.flops, name) for name in _FLOP_FIELDS},
            "layers": self.layers.to_dict(),
        }

    def summary(self) -> str:
        """The totals as a small table."""
        p, f = self.params, self.flops
        rows = [
            ["params", "total", si(p.total)],
            ["params", "embedding", si(p.embedding)],
            ["params", "non-embedding", si(p.non_embedding)],
            ["params", "active per token", si(p.active)],
            ["FLOPs", "forward", si(f.forward, "FLOP")],
            ["FLOPs", "forward, causal attention", si(f.forward_causal, "FLOP")],
            ["FLOPs", "backward", si(f.backward, "FLOP")],
            ["FLOPs", "model (fwd + bwd)", si(f.model, "FLOP")],
            ["FLOPs", f"hardware (recompute={self.recompute})", si(f.hardware, "FLOP")],
            ["FLOPs", "elementwise fwd + bwd",
             si(f.elementwise_forward + f.elementwise_backward, "FLOP")],
            ["FLOPs", "per token", si(f.per_token, "FLOP")],
            ["FLOPs", "6N per token (Kaplan)", si(f.six_n_per_token, "FLOP")],
        ]
        return table(["", "total", "value"], rows)

    def __str__(self) -> str:
        name = self.architecture.name or "architecture"
        title = f"{name}: batch {self.batch} x seq_len {self.seq_len} = {si(self.tokens)} tokens"
        return f"{title}\n\n{self.layers}\n\n{self.summary()}"

    def __repr__(self) -> str:
        return (f"<Report {self.architecture.name or ''} params={si(self.params.total)} "
                f"flops.model={si(self.flops.model, 'FLOP')}>")
