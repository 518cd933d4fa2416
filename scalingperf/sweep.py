"""Evaluating a grid in the C++ core: NumPy columns, or a top-k or a Pareto front reduced
in the core without keeping the rows."""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from . import _core, _validate
from .architecture import Architecture
from .estimate import Report, estimate
from .grid import CATEGORIES, Grid

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
#: Default points per chunk when materialising: bounds the transient memory. Without
#: bounds the core counts a chunk's rows first and its buffer is exactly their size; with
#: bounds (where=, max_memory, ...) it holds room for every point (~230 MiB per 2^20).
DEFAULT_CHUNK = 1 << 22
DEFAULT_BOUNDED_CHUNK = 1 << 20


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


#: Most rows a top-k may return: each is built as a Python row (about 2 kB).
MAX_TOP = 1_000_000


class SweepWarning(UserWarning):
    """A sweep kept no row; the message says why its points were skipped."""


def _progress(progress: Any) -> Callable[[int, int], Any] | None:
    if progress is not None and not callable(progress):
        msg = f"progress={progress!r} is invalid: give a callable progress(done, total) or None"
        raise ValueError(msg)
    return progress  # type: ignore[no-any-return]


def _pareto_columns(pareto: Any) -> tuple[str, str]:
    if (not isinstance(pareto, (tuple, list)) or len(pareto) != 2
            or not all(isinstance(c, str) and c for c in pareto)):
        msg = (f"pareto={pareto!r} is invalid: give two column names, e.g. "
               "('step_time', 'memory_per_gpu') ('-' prefix: maximise)")
        raise ValueError(msg)
    return pareto[0], pareto[1]


def sweep(grid: Grid, batch: int | None = None, seq_len: int | None = None, *,
          threads: int | None = None, where: Mapping[str, tuple[float | None, float | None]]
          | None = None, top: int | None = None, by: str | None = None,
          pareto: tuple[str, str] | None = None, feasible: bool | None = None,
          chunk: int | None = None, progress: Callable[[int, int], Any] | None = None,
          law: Any = None, tokens: float | np.ndarray | None = None, routed: Any = None,
          **estimate_options: Any) -> SweepResult:
    """Evaluate every point of ``grid`` with the same model as :func:`estimate`.

    Parameters
    ----------
    grid : Grid
    batch, seq_len : int, optional
        Micro-batch and sequence length, if the grid does not fix or sweep them.
    threads : int, optional
        Worker threads (default: all cores; at most 4 per core). Results do not depend on it.
    where : dict, optional
        Bounds on result columns, ``{"memory_per_gpu": (None, 80e9), ...}``, applied in the
        core: rows outside are never kept.
    top, by : int, str
        Keep only the ``top`` best rows by column ``by`` (prefix "-" to maximise), reduced
        in the core as the grid streams by.
    pareto : (str, str)
        Keep only the Pareto front of two columns (each minimised; "-" to maximise).
    feasible : bool, optional
        Keep only rows that fit in the device's memory. The default is True for ``top``
        and ``pareto`` (a ranking of configurations that cannot run misleads) and False
        for a full table, whose boolean ``fits`` column says which rows fit.
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
        NumPy columns (see :data:`COLUMNS`), in grid order; ``.skipped`` says why the
        grid's other points are not rows. A sweep that keeps no row warns with
        :class:`SweepWarning`, saying why.
    """
    result = _sweep(grid, batch, seq_len, threads, where, top, by, pareto, feasible, chunk,
                    _progress(progress), estimate_options)
    if len(result) == 0:
        warnings.warn(SweepWarning(f"the sweep kept no row:\n{result.skipped}"), stacklevel=2)
    return result if law is None else result.with_loss(law, tokens=tokens, routed=routed)


def _sweep(grid: Grid, batch: int | None, seq_len: int | None, threads: int | None,
           where: Mapping[str, tuple[float | None, float | None]] | None, top: int | None,
           by: str | None, pareto: tuple[str, str] | None, feasible: bool | None,
           chunk: int | None, progress: Callable[[int, int], Any] | None,
           estimate_options: dict[str, Any]) -> SweepResult:
    if not isinstance(grid, Grid):
        msg = f"grid={grid!r} is invalid: it must be a scalingperf.Grid"
        raise ValueError(msg)
    changes = dict(estimate_options)
    if batch is not None:
        changes["batch"] = batch
    if seq_len is not None:
        changes["seq_len"] = seq_len
    if changes:
        grid = grid.replace(**changes)
    if top is not None and pareto is not None:
        msg = "top= and pareto= are exclusive: pick one reduction"
        raise ValueError(msg)
    reduces = top is not None or pareto is not None
    keep_feasible = reduces if feasible is None else _validate.flag("feasible", feasible)
    overrides = dict(where=where, feasible=keep_feasible or None)
    core = grid._build(**overrides)
    device, efficiency = grid.hardware, grid.efficiency
    n_threads = 0 if threads is None else _validate.integer("threads", threads)
    if n_threads < 0:
        msg = f"threads={n_threads} is invalid: it must be >= 0 (0: all cores)"
        raise ValueError(msg)
    size = core.size
    args = (core, device._core, efficiency)
    if reduces:
        if top is not None:
            k = _validate.integer("top", top)
            if not 1 <= k <= MAX_TOP:
                msg = (f"top={k} is invalid: allowed range is [1, {MAX_TOP:,}] (for more rows "
                       "sweep the table with where= and call .top())")
                raise ValueError(msg)
            if by is not None and not isinstance(by, str):
                msg = f"by={by!r} is invalid: give a column name ('-' prefix: maximise)"
                raise ValueError(msg)
            column, descending = _direction(by or "step_time")
            indices, left_out = _core.sweep_top(*args, 0, size, k, column, descending,
                                                n_threads, progress)
            reduction = f"top {k} by {by or 'step_time'}"
        else:
            (x, x_desc), (y, y_desc) = (_direction(c) for c in _pareto_columns(pareto))
            indices, left_out = _core.sweep_pareto(*args, 0, size, x, x_desc, y, y_desc,
                                                   n_threads, progress)
            reduction = f"Pareto front of {pareto[0]} and {pareto[1]}"  # type: ignore[index]
        rows = [_core.grid_point(core, i, device._core, efficiency) for i in indices]
        table = {name: np.array([row[c] for row in rows],
                                dtype=np.int64 if name in INTEGER_COLUMNS else np.float64)
                 for c, name in enumerate(COLUMNS)}
        return SweepResult(grid, np.asarray(indices, dtype=np.int64), table,
                           _Origin(core, size, overrides, left_out, reduction, n_threads))
    labels = grid.bound_labels(**overrides)
    default_chunk = DEFAULT_BOUNDED_CHUNK if labels else DEFAULT_CHUNK
    step = default_chunk if chunk is None else _validate.integer("chunk", chunk)
    if step < 1:
        msg = f"chunk={step} is invalid: it must be >= 1"
        raise ValueError(msg)
    step = min(step, max(size, 1))
    needed = step * (len(COLUMNS) + 1) * 8.0
    if not labels and size * (len(COLUMNS) + 1) * 8.0 > _memory_limit():
        msg = (f"grid has {size:,} points; their table would need "
               f"{size * (len(COLUMNS) + 1) * 8 / 1e9:.0f} GB: pass top=, pareto= or where= "
               "to reduce in the core, or sweep fewer axis values")
        raise ValueError(msg)
    if needed > _memory_limit():
        msg = f"chunk={step} is invalid: one chunk would need {needed / 1e9:.0f} GB"
        raise ValueError(msg)
    parts = []
    rejected = [0] * len(labels)
    for begin in range(0, size, step):
        end = min(size, begin + step)
        count, index, columns, left_out = _core.sweep_rows(
            *args, begin, end, n_threads, None if progress is None else _offset(progress, begin, size))
        rejected = [a + b for a, b in zip(rejected, left_out["rejected"], strict=True)]
        if count < len(index):
            # Only the kept rows outlive the chunk: memory is O(chunk + kept rows).
            index = index[:count].copy()
            columns = {name: values[:count].copy() for name, values in columns.items()}
        parts.append((count, index, columns))
    origin = _Origin(core, size, overrides, {"rejected": rejected, "pruned": 0}, None,
                     n_threads)
    if len(parts) == 1:
        count, index, columns = parts[0]
        return SweepResult(grid, index[:count], {k: v[:count] for k, v in columns.items()},
                           origin)
    return SweepResult(grid, np.concatenate([p[1][: p[0]] for p in parts]),
                       {name: np.concatenate([p[2][name][: p[0]] for p in parts])
                        for name in parts[0][2]}, origin)


def _offset(progress: Callable[[int, int], Any], begin: int,
            size: int) -> Callable[[int, int], Any]:
    """A chunk's progress as progress over the whole grid."""
    return lambda done, _total: progress(begin + done, size)


def estimate_seconds(grid: Grid, *, threads: int | None = None, samples: int = 8) -> float:
    """Seconds a materialised sweep of ``grid`` would take here, from ``samples`` short
    slices spread over the grid, timed now (a reduction that prunes is faster)."""
    core = grid._build()
    size = core.size
    n_threads = os.cpu_count() or 1 if threads is None else _validate.integer("threads", threads)
    if n_threads < 1:
        msg = f"threads={n_threads} is invalid: it must be >= 1"
        raise ValueError(msg)
    n_samples = _validate.integer("samples", samples)
    if not 1 <= n_samples <= 1024:
        msg = f"samples={n_samples} is invalid: allowed range is [1, 1024]"
        raise ValueError(msg)
    # Slices shorter than the core's serial threshold run on this thread alone.
    length = max(1, min(4000, size // n_samples))
    starts = sorted({min(size - length, i * size // n_samples) for i in range(n_samples)})
    args = (core, grid.hardware._core, grid.efficiency)
    began = time.perf_counter()
    for start in starts:
        _core.sweep_rows(*args, start, start + length, 1, None)
    per_point = (time.perf_counter() - began) / (len(starts) * length)
    return float(per_point * size / min(n_threads, max(1, size // 4096)))


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


@dataclasses.dataclass(frozen=True)
class _Origin:
    """How a result was swept: what its skip summary is computed from."""

    core: _core.Grid
    size: int
    overrides: dict[str, Any]  # the sweep's options over the grid's (where, feasible)
    left_out: dict[str, Any]
    reduction: str | None
    threads: int


@dataclasses.dataclass(frozen=True)
class Skipped:
    """Why a sweep's grid points are not rows: ``points`` in the grid, each ``reason``
    (a check a point failed, or a bound its costs are outside) with the number of points
    it removed and one full message, how many ``valid`` configurations the checks left
    and how many of them a reduction ``not_costed`` (they could not enter its result)."""

    points: int
    valid: int
    reasons: tuple[tuple[str, int, str], ...]
    not_costed: int
    kept: int
    reduction: str | None

    def as_dict(self) -> dict[str, int]:
        """Points per reason."""
        return {reason: count for reason, count, _ in self.reasons}

    def __str__(self) -> str:
        lines = [f"{self.points:,} grid points: {self.valid:,} valid configurations, "
                 f"{self.kept:,} rows kept"
                 + (f" ({self.reduction})" if self.reduction else "")]
        for reason, count, example in self.reasons:
            share = count / self.points if self.points else 0.0
            detail = "" if example == reason else f" (e.g. {example})"
            lines.append(f"  {count:>14,} ({share:6.1%})  {reason}{detail}")
        if self.not_costed:
            lines.append(f"  {self.not_costed:>14,}           not costed: could not enter the "
                         f"{self.reduction}")
        return "\n".join(lines)

    __repr__ = __str__


class SweepResult:
    """The rows of a sweep as NumPy columns (structure of arrays), in grid order.

    ``res["mfu"]`` is a column, ``res.index`` the rows' flat indices in the grid. Integer
    columns (sizes, degrees, counts) are int64, ``fits`` is boolean, and ``ffn`` and
    ``recompute`` hold names (pandas ``Categorical`` and Arrow dictionary columns in
    :meth:`to_pandas` / :meth:`to_arrow`). The configuration columns are decoded from
    ``index`` (in the core, all together) the first time one of them is asked for: a
    sweep writes only the costs. ``res.skipped`` says why the grid's other points are
    not rows.
    """

    __slots__ = ("_columns", "_origin", "_skipped", "grid", "index")

    def __init__(self, grid: Grid, index: np.ndarray, columns: dict[str, np.ndarray],
                 origin: _Origin | None = None) -> None:
        self.grid = grid
        self.index = index
        self._columns = columns
        self._origin = origin
        self._skipped: Skipped | None = None

    def __len__(self) -> int:
        return len(self.index)

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names: the core's, then any added (such as ``loss``)."""
        return COLUMNS + tuple(name for name in self._columns if name not in _COLUMN_SET)

    def _raw(self, column: str) -> np.ndarray:
        """A column as the core wrote it (category codes, fits as 0/1)."""
        if column not in self._columns:
            if column not in CONFIGURATION_COLUMNS:
                msg = f"column={column!r} is invalid: sweep columns are {', '.join(COLUMNS)}"
                raise KeyError(msg)
            self._columns.update(_core.decode_configurations(self.grid._build(), self.index))
        return self._columns[column]

    def __getitem__(self, column: str) -> np.ndarray:
        values = self._raw(column)
        if column in CATEGORIES:
            names: np.ndarray = np.asarray(CATEGORIES[column])[values]
            return names
        if column == "fits":
            fits: np.ndarray = np.greater(values, 0.5)
            return fits
        return values

    @property
    def swept(self) -> tuple[str, ...]:
        """The grid's axes with more than one value (the columns that tell rows apart)."""
        return self.grid.swept

    @property
    def skipped(self) -> Skipped:
        """Why the grid's other points are not rows (computed on first access: the
        checks run again over the grid, without costing)."""
        if self._skipped is None:
            self._skipped = self._skip_summary()
        return self._skipped

    def _skip_summary(self) -> Skipped:
        origin = self._origin
        if origin is None:
            return Skipped(0, 0, (), 0, len(self), None)
        reasons, valid = _core.skip_reasons(origin.core, 0, origin.size, origin.threads)
        entries = [(reason, int(count), example) for reason, count, example in reasons]
        labels = self.grid.bound_labels(**origin.overrides)  # in words, only when asked
        for label, count in zip(labels, origin.left_out["rejected"], strict=True):
            if count:
                entries.append((label, int(count), label))
        entries.sort(key=lambda entry: -entry[1])
        return Skipped(origin.size, int(valid), tuple(entries),
                       int(origin.left_out["pruned"]), len(self), origin.reduction)

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as a dict of plain Python values (names for categories)."""
        return {name: self[name][i].item() for name in self.columns}

    def _subset(self, rows: np.ndarray) -> SweepResult:
        return SweepResult(self.grid, self.index[rows],
                           {name: values[rows] for name, values in self._columns.items()},
                           self._origin)

    def _feasible_rows(self, feasible: bool) -> np.ndarray:
        rows = np.arange(len(self))
        return rows[self["fits"]] if _validate.flag("feasible", feasible) else rows

    def top(self, k: int, by: str = "step_time", *, feasible: bool = True) -> SweepResult:
        """The ``k`` best rows by ``by`` (prefix "-" to maximise), best first; ties keep
        grid order. Only rows that fit unless ``feasible=False``."""
        count = _validate.integer("k", k)
        if count < 1:
            msg = f"k={count} is invalid: it must be >= 1"
            raise ValueError(msg)
        column, descending = self._direction(by)
        rows = self._feasible_rows(feasible)
        values = self._raw(column)[rows]
        order = np.lexsort((self.index[rows], -values if descending else values))
        return self._subset(rows[order[:count]])

    def pareto(self, x: str, y: str, *, feasible: bool = True) -> SweepResult:
        """The rows no other row beats on both columns (each minimised; "-" to maximise),
        in grid order. Only rows that fit unless ``feasible=False``."""
        (cx, x_desc), (cy, y_desc) = self._direction(x), self._direction(y)
        rows = self._feasible_rows(feasible)
        xs = -self._raw(cx)[rows] if x_desc else self._raw(cx)[rows]
        ys = -self._raw(cy)[rows] if y_desc else self._raw(cy)[rows]
        order = np.lexsort((self.index[rows], ys, xs))
        best = np.minimum.accumulate(ys[order])
        keep = np.ones(len(order), dtype=bool)
        keep[1:] = ys[order][1:] < best[:-1]
        return self._subset(rows[np.sort(order[keep])])

    def where(self, mask: np.ndarray) -> SweepResult:
        """The rows where a boolean mask over the rows is true."""
        array = np.asarray(mask)
        if array.dtype != np.bool_ or array.shape != (len(self),):
            msg = (f"mask is invalid: give a boolean array of one value per row ({len(self)}), "
                   f"not {array.dtype} of shape {array.shape}")
            raise ValueError(msg)
        return self._subset(np.flatnonzero(array))

    def architecture(self, i: int) -> Architecture:
        """Row ``i``'s Architecture, rebuilt from the grid and the row."""
        return self.grid.architecture(self.row(i))

    def report(self, i: int) -> Report:
        """:func:`estimate` of row ``i`` (the sweep and a single estimate share the core)."""
        row = self.row(i)
        spec = {**self.grid.spec}
        options: dict[str, Any] = {name: spec[name] for name in ("dtype", "flash_attention",
                                                 "fused_elementwise", "offload_layers",
                                                 "fp32_gradients", "dropout",
                                                 "implementation", "sequence_parallel",
                                                 "optimizer", "interleave", "efficiency",
                                                 "hardware", "layers_per_stage",
                                                 "recompute_every", "etp", "shard",
                                                 "ep_dispatcher")
                   if name in spec}
        if row["recompute"] == "selective" and spec.get("recompute_modules") is not None:
            options["recompute_modules"] = spec["recompute_modules"]
        return estimate(self.architecture(i), batch=row["batch"], seq_len=row["seq_len"],
                        recompute=row["recompute"], tp=row["tp"], cp=row["cp"], pp=row["pp"],
                        dp=row["dp"],
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
        routed : Ludziejewski2025 or Clark2022, optional
            The law for rows with routed experts. Ludziejewski et al. 2025's joint law
            L(N, D, E) takes the parameters a token uses (``params_active``, embeddings
            included), the row's tokens and the expert count. Clark et al. 2022's L(N, E)
            takes the active non-embedding parameters (the dense base model) and the
            expert count; it was fitted at one token count (130B), so ``tokens`` does not
            enter it. Required when the result has MoE rows.
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
            experts = self["n_experts"][moe].astype(np.float64)
            if isinstance(routed, laws.Ludziejewski2025):
                loss[moe] = routed.loss(self["params_active"][moe].astype(np.float64),
                                        d[moe], experts)
            elif isinstance(routed, laws.Clark2022):
                active = self["params_active"][moe] - self["params_embedding"][moe]
                loss[moe] = routed.loss(active.astype(np.float64), experts)
            else:
                msg = ("routed is missing: rows with routed experts need a routed law, "
                       "e.g. routed=scalingperf.laws.Ludziejewski2025() (with the rows' "
                       "tokens) or scalingperf.laws.Clark2022()")
                raise ValueError(msg)
        return SweepResult(self.grid, self.index, {**self._columns, name: loss},
                           self._origin)

    def with_step_interval(self, level: float = 0.8, *, by: str = "all") -> SweepResult:
        """A copy with ``step_time_lo`` and ``step_time_hi`` columns: ``step_time`` times
        the two factors of :meth:`Report.step_interval` for the grid's device (the
        quantiles of measured / predicted step over the published runs of
        :func:`validate`; see :mod:`scalingperf.intervals`)."""
        from .intervals import step_factors

        lo, hi = step_factors(level, device=self.grid.hardware.name, by=by)
        step = self["step_time"]
        return SweepResult(self.grid, self.index,
                           {**self._columns, "step_time_lo": step * lo,
                            "step_time_hi": step * hi}, self._origin)

    def to_dict(self) -> dict[str, np.ndarray]:
        """The columns as NumPy arrays (cost columns are not copies; categories as names,
        ``fits`` as booleans)."""
        return {name: self[name] for name in self.columns}

    def to_pandas(self) -> pd.DataFrame:
        """A pandas DataFrame (pandas is optional); ``ffn`` and ``recompute`` are
        ``Categorical`` with every allowed name as a category."""
        import pandas as pd

        columns: dict[str, Any] = self.to_dict()
        for name, names in CATEGORIES.items():
            columns[name] = pd.Categorical.from_codes(self._raw(name), categories=list(names))
        return pd.DataFrame(columns, copy=False)

    def to_arrow(self) -> pa.Table:
        """A pyarrow Table from the NumPy columns (pyarrow is optional); ``ffn`` and
        ``recompute`` are dictionary columns."""
        import pyarrow as pa

        columns: dict[str, Any] = self.to_dict()
        for name, names in CATEGORIES.items():
            columns[name] = pa.DictionaryArray.from_arrays(
                pa.array(self._raw(name).astype(np.int32)), pa.array(list(names)))
        return pa.table(columns)

    #: Cost columns a printed result shows after the swept axes, and their headers.
    _SHOWN: ClassVar[tuple[str, ...]] = ("params_total", "memory_per_gpu", "fits", "step_time",
                                         "tokens_per_s", "mfu")
    _HEADERS: ClassVar[dict[str, str]] = {"params_total": "params", "memory_per_gpu": "memory/GPU",
                                          "step_time": "step", "tokens_per_s": "tokens/s",
                                          "mfu": "MFU"}

    def table(self, rows: int = 10) -> str:
        """The first ``rows`` rows as a text table: every swept axis, then parameters,
        memory per GPU (GiB), whether it fits, step time, tokens/s and MFU."""
        from ._format import table

        count = _validate.integer("rows", rows)
        if count < 0:
            msg = f"rows={count} is invalid: it must be >= 0"
            raise ValueError(msg)
        axes = [_AXIS_COLUMN.get(name, name) for name in self.swept]
        shown = list(dict.fromkeys([*axes, *self._SHOWN]))
        body = [[_cell(c, self[c][i].item()) for c in shown]
                for i in range(min(len(self), count))]
        more = f"\n({count:,} of {len(self):,} rows shown)" if len(self) > count else ""
        return table([self._HEADERS.get(c, c) for c in shown], body) + more

    def __str__(self) -> str:
        return f"{self.table()}\n\n{self.skipped}"

    def __repr__(self) -> str:
        return (f"<SweepResult: {len(self):,} rows x {len(self.columns)} columns of "
                f"{self._origin.size if self._origin else len(self):,} grid points; "
                f"swept {', '.join(self.swept) or 'nothing'}>")


#: The column that shows an axis which is not a column itself.
_AXIS_COLUMN = {"gqa_group": "n_kv_heads", "ffn_ratio": "d_ff"}


def _cell(column: str, value: Any) -> str:
    """A table cell with its unit: names and booleans as they are."""
    from ._format import count, duration, gib, si

    if column == "memory_per_gpu":
        return gib(value)
    if column == "step_time":
        return duration(value)
    if column == "mfu":
        return f"{value:.1%}"
    if isinstance(value, (bool, str)):
        return str(value)
    if column in ("params_total", "tokens_per_s"):
        return count(value, "").rstrip()  # 6.74 B: the prefixes of model sizes, as estimate
    if abs(value) >= 1e5:
        return si(value)
    return f"{value:.3g}" if isinstance(value, float) else str(value)
