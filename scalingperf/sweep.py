"""Evaluating a grid in the C++ core: NumPy columns, or a top-k or a Pareto front reduced
in the core without keeping the rows."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
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
#: Columns holding integers (configuration, counts), int64; the rest are float64.
INTEGER_COLUMNS = frozenset(_core.SWEEP_INTEGER_COLUMNS)
#: The configuration columns (the first ones): a materialised sweep decodes them from the
#: rows' grid indices, in the core, the first time one is asked for.
CONFIGURATION_COLUMNS: tuple[str, ...] = tuple(_core.SWEEP_CONFIGURATION_COLUMNS)
_COLUMN_SET = frozenset(COLUMNS)
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


def _direction(column: str, names: Iterable[str] = COLUMNS) -> tuple[str, bool]:
    """"-mfu" means maximise mfu; anything else is minimised."""
    descending = column.startswith("-")
    name = column[1:] if descending else column
    if name not in names:
        msg = f"column={name!r} is invalid: the columns are {', '.join(names)}"
        raise ValueError(msg)
    return name, descending


def sweep(grid: Grid, batch: int | None = None, seq_len: int | None = None, *,
          threads: int | None = None, where: Mapping[str, tuple[float | None, float | None]]
          | None = None, top: int | None = None, by: str | None = None,
          pareto: tuple[str, str] | None = None, chunk: int | None = None,
          progress: Callable[[int, int], Any] | None = None, law: Any = None,
          tokens: float | np.ndarray | None = None, routed: Any = None,
          **estimate_options: Any) -> SweepResult:
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
    law, tokens, routed : optional
        Add a predicted ``loss`` column (see :meth:`SweepResult.with_loss`): a law object
        or "kaplan", "chinchilla", "besiroglu"; tokens trained (default: each row's
        ``tokens_at_budget``); a routed law for MoE rows.
    **estimate_options
        Any grid option or axis to override (``hardware``, ``dtype``, ``tp``, ...).

    Returns
    -------
    SweepResult
        NumPy columns (see :data:`COLUMNS`), in grid order.
    """
    result = _sweep(grid, batch, seq_len, threads, where, top, by, pareto, chunk, progress,
                    estimate_options)
    return result if law is None else result.with_loss(law, tokens=tokens, routed=routed)


def _sweep(grid: Grid, batch: int | None, seq_len: int | None, threads: int | None,
           where: Mapping[str, tuple[float | None, float | None]] | None, top: int | None,
           by: str | None, pareto: tuple[str, str] | None, chunk: int | None,
           progress: Callable[[int, int], Any] | None,
           estimate_options: dict[str, Any]) -> SweepResult:
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
        table = {name: np.array([row[c] for row in rows],
                                dtype=np.int64 if name in INTEGER_COLUMNS else np.float64)
                 for c, name in enumerate(COLUMNS)}
        return SweepResult(grid, np.asarray(indices, dtype=np.int64), table)
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
                        for name in parts[0][2]})


def _law(law: Any) -> Any:
    from . import laws

    if isinstance(law, str):
        known = {"kaplan": laws.Kaplan2020, "chinchilla": laws.Chinchilla2022,
                 "besiroglu": laws.Besiroglu2024}
        if law not in known:
            msg = f"law={law!r} is invalid: give a law object or one of {', '.join(known)}"
            raise ValueError(msg)
        return known[law]()
    if not isinstance(law, laws.ScalingLaw):
        msg = f"law={law!r} is invalid: it must be a scalingperf.laws law"
        raise ValueError(msg)
    return law


class SweepResult:
    """The rows of a sweep as NumPy columns (structure of arrays), in grid order.

    ``res["mfu"]`` is a column, ``res.index`` the rows' flat indices in the grid. Integer
    columns (sizes, degrees, counts) are int64; ``ffn`` and ``recompute`` hold indices
    into :data:`scalingperf.grid.FFN_KINDS` and :data:`~scalingperf.grid.RECOMPUTE`.
    The configuration columns are decoded from ``index`` (in the core, all together) the
    first time one of them is asked for: a sweep writes only the costs.
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
        """Column names: the core's, then any added (such as ``loss``)."""
        return COLUMNS + tuple(name for name in self._columns if name not in _COLUMN_SET)

    def __getitem__(self, column: str) -> np.ndarray:
        if column not in self._columns:
            if column not in CONFIGURATION_COLUMNS:
                msg = f"column={column!r} is invalid: sweep columns are {', '.join(COLUMNS)}"
                raise KeyError(msg)
            self._columns.update(_core.decode_configurations(self.grid._build(), self.index))
        return self._columns[column]

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as a dict (``ffn`` and ``recompute`` as names)."""
        out = {name: self[name][i].item() for name in self.columns}
        out["ffn"] = FFN_KINDS[out["ffn"]]
        out["recompute"] = RECOMPUTE[out["recompute"]]
        return out

    def _subset(self, rows: np.ndarray) -> SweepResult:
        return SweepResult(self.grid, self.index[rows],
                           {name: values[rows] for name, values in self._columns.items()})

    def top(self, k: int, by: str = "step_time") -> SweepResult:
        """The ``k`` best rows by ``by`` (prefix "-" to maximise), best first; ties keep
        grid order."""
        column, descending = self._direction(by)
        values = self[column]
        order = np.lexsort((self.index, -values if descending else values))
        return self._subset(order[: _validate.integer("k", k)])

    def pareto(self, x: str, y: str) -> SweepResult:
        """The rows no other row beats on both columns (each minimised; "-" to maximise),
        in grid order."""
        (cx, x_desc), (cy, y_desc) = self._direction(x), self._direction(y)
        xs = -self[cx] if x_desc else self[cx]
        ys = -self[cy] if y_desc else self[cy]
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

    def _direction(self, column: str) -> tuple[str, bool]:
        return _direction(column, self.columns)

    def with_loss(self, law: Any, *, tokens: float | np.ndarray | None = None,
                  routed: Any = None, name: str = "loss") -> SweepResult:
        """A copy with a predicted-loss column.

        Parameters
        ----------
        law : ScalingLaw or {"kaplan", "chinchilla", "besiroglu"}
            The law for dense rows. Kaplan et al. 2020 count non-embedding parameters,
            Hoffmann et al. 2022 and its refits all parameters; each row gives the law
            the count it was fitted on.
        tokens : float or array, optional
            Training tokens per row (default: ``tokens_at_budget``, from the grid's
            ``compute``).
        routed : Clark2022, optional
            The law for rows with routed experts: Clark et al. 2022's L(N, E), with N the
            parameters a token uses (active, non-embedding: the dense base model) and E
            the expert count. Their law was fitted at one token count (130B), so
            ``tokens`` does not enter it. Required when the result has MoE rows.
        """
        from . import laws

        dense_law = _law(law)
        if tokens is None:
            d = self["tokens_at_budget"].astype(np.float64)
            if len(d) and not np.all(d > 0):
                msg = "tokens is missing: pass tokens= or give the grid a compute budget"
                raise ValueError(msg)
        else:
            d = np.broadcast_to(np.asarray(tokens, dtype=np.float64), (len(self),))
        moe = self["n_experts"] > 1
        loss = np.empty(len(self))
        dense = ~moe
        if np.any(dense):
            counts = ("params_non_embedding" if isinstance(dense_law, laws.Kaplan2020)
                      else "params_total")
            loss[dense] = dense_law.loss(self[counts][dense].astype(np.float64), d[dense])
        if np.any(moe):
            if not isinstance(routed, laws.Clark2022):
                msg = ("routed is missing: rows with routed experts need a routed law, "
                       "e.g. routed=scalingperf.laws.Clark2022()")
                raise ValueError(msg)
            active = self["params_active"][moe] - self["params_embedding"][moe]
            loss[moe] = routed.loss(active.astype(np.float64),
                                    self["n_experts"][moe].astype(np.float64))
        return SweepResult(self.grid, self.index, {**self._columns, name: loss})

    def to_dict(self) -> dict[str, np.ndarray]:
        """The columns (NumPy arrays, not copies)."""
        return {name: self[name] for name in self.columns}

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
