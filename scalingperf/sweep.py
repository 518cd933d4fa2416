"""Evaluating a grid in the C++ core: NumPy columns, or a top-k or a Pareto front reduced
in the core without keeping the rows."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core, _validate
from .architecture import Architecture
from .estimate import Report, estimate
from .grid import FFN_KINDS, RECOMPUTE, Grid

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

COLUMNS: tuple[str, ...] = tuple(_core.SWEEP_COLUMNS)
#: Columns holding integers (configuration, counts); the rest are floats.
INTEGER_COLUMNS = frozenset({
    "d_model", "n_layers", "n_heads", "n_kv_heads", "head_dim", "d_ff", "ffn", "n_experts",
    "top_k", "n_shared_experts", "d_ff_expert", "vocab_size", "seq_len", "batch", "recompute",
    "tp", "pp", "dp", "ep", "zero", "microbatches", "params_total", "params_embedding",
    "params_non_embedding", "params_active", "devices"})
#: Default points per chunk when materialising: bounds the transient memory.
DEFAULT_CHUNK = 1 << 22


def sweep_columns() -> tuple[str, ...]:
    """Names of the result columns of a sweep."""
    return COLUMNS


def _memory_limit() -> float:
    """Half of this machine's physical memory, in bytes."""
    try:
        return 0.5 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8e9


def _direction(column: str) -> tuple[str, bool]:
    """"-mfu" means maximise mfu; anything else is minimised."""
    descending = column.startswith("-")
    name = column[1:] if descending else column
    if name not in COLUMNS:
        msg = f"column={name!r} is invalid: sweep columns are {', '.join(COLUMNS)}"
        raise ValueError(msg)
    return name, descending


def sweep(grid: Grid, batch: int | None = None, seq_len: int | None = None, *,
          threads: int | None = None, where: Mapping[str, tuple[float | None, float | None]]
          | None = None, top: int | None = None, by: str | None = None,
          pareto: tuple[str, str] | None = None, chunk: int | None = None,
          progress: Callable[[int, int], Any] | None = None, **estimate_options: Any,
          ) -> SweepResult:
    """Evaluate every point of ``grid`` with the same model as :func:`estimate`.

    Parameters
    ----------
    grid : Grid
    batch, seq_len : int, optional
        Micro-batch and sequence length, if the grid does not fix or sweep them.
    threads : int, optional
        Worker threads (default: all cores). Results do not depend on it.
    where : dict, optional
        Bounds on result columns, ``{"memory_per_gpu": (None, 80e9), ...}``, applied in the
        core: rows outside are never kept.
    top, by : int, str
        Keep only the ``top`` best rows by column ``by`` (prefix "-" to maximise), reduced
        in the core as the grid streams by.
    pareto : (str, str)
        Keep only the Pareto front of two columns (each minimised; "-" to maximise).
    chunk : int, optional
        Points per chunk when materialising (memory is O(chunk) plus the kept rows).
    progress : callable, optional
        Called as ``progress(done, total)`` from the calling thread a few times a second.
    **estimate_options
        Any grid option or axis to override (``hardware``, ``dtype``, ``tp``, ...).

    Returns
    -------
    SweepResult
        NumPy columns (see :data:`COLUMNS`), in grid order.
    """
    changes = dict(estimate_options)
    if batch is not None:
        changes["batch"] = batch
    if seq_len is not None:
        changes["seq_len"] = seq_len
    if changes:
        grid = grid.replace(**changes)
    core = grid._build(where=where)
    device, efficiency = grid.hardware, grid.efficiency
    n_threads = 0 if threads is None else _validate.integer("threads", threads)
    if n_threads < 0:
        msg = f"threads={n_threads} is invalid: it must be >= 0 (0: all cores)"
        raise ValueError(msg)
    size = core.size
    args = (core, device._core, efficiency)
    if top is not None or pareto is not None:
        if top is not None and pareto is not None:
            msg = "top= and pareto= are exclusive: pick one reduction"
            raise ValueError(msg)
        if top is not None:
            k = _validate.integer("top", top)
            if k < 1:
                msg = f"top={k} is invalid: it must be >= 1"
                raise ValueError(msg)
            column, descending = _direction(by or "step_time")
            indices = _core.sweep_top(*args, 0, size, k, column, descending, n_threads, progress)
        else:
            (x, x_desc), (y, y_desc) = (_direction(c) for c in pareto)  # type: ignore[union-attr]
            indices = _core.sweep_pareto(*args, 0, size, x, x_desc, y, y_desc, n_threads,
                                         progress)
        rows = [_core.grid_point(core, i, device._core, efficiency) for i in indices]
        columns = {name: np.array([row[c] for row in rows], dtype=np.float64)
                   for c, name in enumerate(COLUMNS)}
        return SweepResult(grid, np.asarray(indices, dtype=np.int64), columns)
    step = DEFAULT_CHUNK if chunk is None else _validate.integer("chunk", chunk)
    if step < 1:
        msg = f"chunk={step} is invalid: it must be >= 1"
        raise ValueError(msg)
    step = min(step, max(size, 1))
    needed = step * (len(COLUMNS) + 1) * 8.0
    if not where and size * (len(COLUMNS) + 1) * 8.0 > _memory_limit():
        msg = (f"grid has {size:,} points; their table would need "
               f"{size * (len(COLUMNS) + 1) * 8 / 1e9:.0f} GB: pass top=, pareto= or where= "
               "to reduce in the core, or sweep fewer axis values")
        raise ValueError(msg)
    if needed > _memory_limit():
        msg = f"chunk={step} is invalid: one chunk would need {needed / 1e9:.0f} GB"
        raise ValueError(msg)
    parts = []
    for begin in range(0, size, step):
        end = min(size, begin + step)
        count, index, columns = _core.sweep_rows(*args, begin, end, n_threads, progress)
        parts.append((count, index, columns))
    if len(parts) == 1:
        count, index, columns = parts[0]
        return SweepResult(grid, index[:count], {k: v[:count] for k, v in columns.items()})
    return SweepResult(grid, np.concatenate([p[1][: p[0]] for p in parts]),
                       {name: np.concatenate([p[2][name][: p[0]] for p in parts])
                        for name in COLUMNS})


class SweepResult:
    """The rows of a sweep as NumPy columns (structure of arrays), in grid order.

    ``res["mfu"]`` is a column, ``res.index`` the rows' flat indices in the grid. Integer
    columns (sizes, degrees, counts) are int64; ``ffn`` and ``recompute`` hold indices
    into :data:`scalingperf.grid.FFN_KINDS` and :data:`~scalingperf.grid.RECOMPUTE`.
    """

    __slots__ = ("_columns", "grid", "index")

    def __init__(self, grid: Grid, index: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        self.grid = grid
        self.index = index
        self._columns = columns

    def __len__(self) -> int:
        return len(self.index)

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS

    def __getitem__(self, column: str) -> np.ndarray:
        if column not in self._columns:
            msg = f"column={column!r} is invalid: sweep columns are {', '.join(COLUMNS)}"
            raise KeyError(msg)
        values = self._columns[column]
        if column in INTEGER_COLUMNS and values.dtype != np.int64:
            values = self._columns[column] = values.astype(np.int64)
        return values

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as a dict (``ffn`` and ``recompute`` as names)."""
        out = {name: self[name][i].item() for name in COLUMNS}
        out["ffn"] = FFN_KINDS[out["ffn"]]
        out["recompute"] = RECOMPUTE[out["recompute"]]
        return out

    def _subset(self, rows: np.ndarray) -> SweepResult:
        return SweepResult(self.grid, self.index[rows],
                           {name: values[rows] for name, values in self._columns.items()})

    def top(self, k: int, by: str = "step_time") -> SweepResult:
        """The ``k`` best rows by ``by`` (prefix "-" to maximise), best first; ties keep
        grid order."""
        column, descending = _direction(by)
        values = self._columns[column]
        order = np.lexsort((self.index, -values if descending else values))
        return self._subset(order[: _validate.integer("k", k)])

    def pareto(self, x: str, y: str) -> SweepResult:
        """The rows no other row beats on both columns (each minimised; "-" to maximise),
        in grid order."""
        (cx, x_desc), (cy, y_desc) = _direction(x), _direction(y)
        xs = -self._columns[cx] if x_desc else self._columns[cx]
        ys = -self._columns[cy] if y_desc else self._columns[cy]
        order = np.lexsort((self.index, ys, xs))
        best = np.minimum.accumulate(ys[order])
        keep = np.ones(len(order), dtype=bool)
        keep[1:] = ys[order][1:] < best[:-1]
        return self._subset(np.sort(order[keep]))

    def where(self, mask: np.ndarray) -> SweepResult:
        """The rows where a boolean mask over the rows is true."""
        return self._subset(np.flatnonzero(np.asarray(mask, dtype=bool)))

    def architecture(self, i: int) -> Architecture:
        """Row ``i``'s Architecture, rebuilt from the grid and the row."""
        return self.grid.architecture(self.row(i))

    def report(self, i: int) -> Report:
        """:func:`estimate` of row ``i`` (the sweep and a single estimate share the core)."""
        row = self.row(i)
        spec = {**self.grid.spec}
        options = {name: spec[name] for name in ("dtype", "flash_attention", "dropout",
                                                 "implementation", "sequence_parallel",
                                                 "optimizer", "interleave", "efficiency",
                                                 "hardware") if name in spec}
        return estimate(self.architecture(i), batch=row["batch"], seq_len=row["seq_len"],
                        recompute=row["recompute"], tp=row["tp"], pp=row["pp"], dp=row["dp"],
                        ep=row["ep"], zero=row["zero"], microbatches=row["microbatches"],
                        **options)

    def to_dict(self) -> dict[str, np.ndarray]:
        """The columns (NumPy arrays, not copies)."""
        return {name: self[name] for name in COLUMNS}

    def to_pandas(self) -> pd.DataFrame:
        """A pandas DataFrame (pandas is optional)."""
        import pandas as pd

        return pd.DataFrame(self.to_dict(), copy=False)

    def to_arrow(self) -> pa.Table:
        """A pyarrow Table, zero-copy from the NumPy columns (pyarrow is optional)."""
        import pyarrow as pa

        return pa.table(self.to_dict())

    def __repr__(self) -> str:
        return f"<SweepResult: {len(self):,} rows x {len(COLUMNS)} columns>"
