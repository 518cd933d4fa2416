"""The per-op table of a report: one row per op of every layer type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._format import duration, si, table

if TYPE_CHECKING:
    import pandas as pd

#: Columns of the table, in order. FLOPs and parameters are per instance (one layer of
#: that type); ``count`` says how many instances the model has.
COLUMNS = (
    "section", "op", "kind", "count", "params", "active_params", "embedding",
    "flops_forward", "flops_backward", "flops_forward_causal", "flops_backward_causal",
    "elementwise_forward", "elementwise_backward", "flops_recompute", "params_per_device",
    "saved_bytes", "time_forward", "time_backward",
)


class OpTable:
    """Per-op costs from the C++ core, as NumPy columns.

    Rows are ops of one layer type (``section``: embedding, attention, mlp, moe, head);
    values are per instance and ``count`` is the number of instances. ``kind`` is
    "matmul" or "elementwise"; matmul FLOPs are in the ``flops_*`` columns, elementwise
    FLOPs (norms, softmax, activations, residuals, bias adds) in ``elementwise_*``.

    ``saved_bytes`` is what one instance keeps for backward on one device (after tensor
    and sequence parallelism) under the report's recomputation: selective recomputation
    drops the attention core's scores; full recomputation drops everything a layer saves
    but its input, the checkpoint (``2 s b h`` bytes in 16-bit, divided by tp only with
    sequence parallelism), which the ``attn_norm`` row carries because it is that op's
    input. So, with one pipeline stage, ``total("saved_bytes") ==
    report.memory.activations`` exactly (logits included: the ``cross_entropy`` row), in
    every mode; with ``pp`` stages a stage holds ``1/pp`` of the layer rows plus the
    embedding rows (first) or the head rows (last). What is *not* in the table is the
    transient peak ``memory.temporary``: the logits' gradient, or under full
    recomputation one layer's working set if larger.
    """

    __slots__ = ("_columns",)

    def __init__(self, columns: dict[str, Any]) -> None:
        self._columns = {name: np.asarray(columns[name]) for name in COLUMNS}
        for array in self._columns.values():
            array.flags.writeable = False

    def __len__(self) -> int:
        return len(self._columns["op"])

    def __getitem__(self, column: str) -> np.ndarray:
        return self._columns[column]

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names."""
        return COLUMNS

    def row(self, op: str, section: str | None = None) -> dict[str, Any]:
        """The row of ``op`` (in ``section`` when an op name appears in several)."""
        for i in range(len(self)):
            if self["op"][i] == op and section in (None, self["section"][i]):
                return {name: self[name][i].item() for name in COLUMNS}
        msg = f"op={op!r} is invalid: this table has {', '.join(dict.fromkeys(self['op']))}"
        raise KeyError(msg)

    def total(self, column: str) -> float:
        """Sum of ``column`` over the whole model (per-instance values times count)."""
        return float(np.sum(self["count"] * self[column]))

    def to_numpy(self) -> np.ndarray:
        """A NumPy structured array with one field per column."""
        dtype = [(name, self[name].dtype) for name in COLUMNS]
        out = np.empty(len(self), dtype=dtype)
        for name in COLUMNS:
            out[name] = self[name]
        return out

    def to_dict(self) -> dict[str, list[Any]]:
        """Plain Python lists, for JSON."""
        return {name: self[name].tolist() for name in COLUMNS}

    def to_pandas(self) -> pd.DataFrame:
        """A pandas DataFrame (pandas is an optional dependency)."""
        import pandas as pd

        return pd.DataFrame({name: self[name] for name in COLUMNS})

    def __str__(self) -> str:
        header = ["section", "op", "kind", "count", "params", "fwd FLOP", "bwd FLOP",
                  "fwd causal", "elementwise fwd", "saved/GPU", "fwd time/GPU"]
        rows = [
            [self["section"][i], self["op"][i], self["kind"][i], str(self["count"][i]),
             si(self["params"][i]), si(self["flops_forward"][i]), si(self["flops_backward"][i]),
             si(self["flops_forward_causal"][i]), si(self["elementwise_forward"][i]),
             si(self["saved_bytes"][i], "B"), duration(self["time_forward"][i])]
            for i in range(len(self))
        ]
        return table(header, rows)

    def __repr__(self) -> str:
        return f"<OpTable: {len(self)} ops>\n{self}"
