"""Pictures of the package's answers: isoFLOP profiles, loss frontiers, a sweep's Pareto
front, the per-op costs of one architecture, tensor-parallel efficiency and the
validation suite.

Each function returns a :class:`matplotlib.figure.Figure` built without pyplot (no
global figure state, no GUI backend: ``fig.savefig("x.png")`` renders with Agg). Every
number drawn comes from the package's own results (``estimate``, ``sweep``, the laws,
``validate``); this module only arranges them. matplotlib is an optional dependency:
``pip install 'scalingperf[plot]'``. It is imported on the first call, so ``import
scalingperf`` does not pay for it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import _validate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .estimate import Report
    from .layers import OpTable
    from .sweep import SweepResult
    from .validate import ValidationResult

__all__ = ["frontier", "isoflop", "layers", "pareto", "tp_efficiency", "validation"]

#: The laws drawn when none are given, by the names ``sweep(law=...)`` accepts.
DEFAULT_LAWS = ("chinchilla", "besiroglu", "kaplan")
#: IsoFLOP budgets drawn when none are given: the span of Hoffmann et al. 2022's
#: Figure 3 profiles (6e18 to 3e21 FLOPs), extended to Gopher's 5.76e23.
DEFAULT_BUDGETS = (1e19, 1e20, 1e21, 1e22, 1e23)

#: Axis labels (with units) and display scale of the sweep columns a picture may show.
_COLUMNS: dict[str, tuple[str, float]] = {
    "loss": ("predicted loss (nats/token)", 1.0),
    "train_days": ("training time (days)", 1.0),
    "days": ("training time (days)", 1.0),
    "tokens": ("training tokens (billions)", 1e-9),
    "step_time": ("step time (s)", 1.0),
    "memory_per_gpu": ("memory per GPU (GiB)", 2.0**-30),
    "memory_activations": ("activations per GPU (GiB)", 2.0**-30),
    "params_total": ("parameters (billions)", 1e-9),
    "params_active": ("active parameters (billions)", 1e-9),
    "params_non_embedding": ("non-embedding parameters (billions)", 1e-9),
    "tokens_per_s": ("throughput (tokens/s)", 1.0),
    "tokens_at_budget": ("training tokens (billions)", 1e-9),
    "mfu": ("MFU (fraction of peak)", 1.0),
    "hfu": ("HFU (fraction of peak)", 1.0),
    "tp_efficiency": ("tensor-parallel efficiency", 1.0),
    "pipeline_bubble": ("pipeline bubble (fraction of step)", 1.0),
    "devices": ("GPUs", 1.0),
    "aspect_ratio": ("aspect ratio d_model / n_layers", 1.0),
    "d_model": ("width d_model", 1.0),
    "n_layers": ("depth n_layers", 1.0),
}
_EXTRA = "pip install 'scalingperf[plot]'"


def _figure(width: float, height: float, columns: int = 1,
            sharey: bool = False) -> tuple[Figure, list[Axes]]:
    """A new Agg-rendered figure with ``columns`` panels side by side."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        msg = f"scalingperf.plot needs matplotlib, which is not installed: {_EXTRA}"
        raise ImportError(msg, name="matplotlib") from error
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, columns, sharey=sharey, squeeze=False)[0]
    return fig, list(axes)


def _laws(laws: Any) -> list[Any]:
    """Law objects from objects or names: ``sweep``'s names, and "chinchilla-1",
    "chinchilla-2" for Hoffmann et al.'s approaches 1 and 2."""
    from .laws import Chinchilla2022
    from .sweep import _law

    chosen = [laws] if isinstance(laws, str) or not isinstance(laws, Iterable) else list(laws)
    if not chosen:
        msg = "laws=[] is invalid: give at least one law"
        raise ValueError(msg)
    frontiers: dict[str, Literal[1, 2]] = {"chinchilla-1": 1, "chinchilla-2": 2}
    return [Chinchilla2022(approach=frontiers[law]) if isinstance(law, str) and law in frontiers
            else _law(law) for law in chosen]


def _budgets(name: str, values: Any) -> np.ndarray:
    array = np.atleast_1d(np.asarray(values, dtype=object))
    budgets = np.array([_validate.real(name, v) for v in array], dtype=np.float64)
    if budgets.size == 0 or not np.all((budgets >= 1) & (budgets <= 1e40)):
        msg = f"{name}={values!r} is invalid: give FLOP budgets from 1 to 1e40"
        raise ValueError(msg)
    return budgets


def _has_loss(law: Any) -> bool:
    """Whether ``law`` has a loss surface (frontier-only laws raise on ``loss``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            law.loss(1e9, 2e10)
    except NotImplementedError:
        return False
    return True


def _within(law: Any, key: str, values: np.ndarray) -> np.ndarray:
    """Where ``values`` lie inside the data ``law`` was fitted on (all True without one)."""
    low, high = getattr(law, "fitted_range", {}).get(key, (0.0, np.inf))
    inside: np.ndarray = (values >= low) & (values <= high)
    return inside


def _quiet(function: Any, *args: Any) -> Any:
    """``function(*args)`` without ExtrapolationWarning: pictures show the fitted range
    by line style instead."""
    from .laws import ExtrapolationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        return function(*args)


def _split_line(ax: Axes, x: np.ndarray, y: np.ndarray, inside: np.ndarray,
                **style: Any) -> None:
    """One line, solid where ``inside`` (the law's fitted data) and dashed beyond it."""
    solid = np.where(inside, y, np.nan)
    dashed = np.where(inside, np.nan, y)
    # Dashed segments reach into the neighbouring solid points so the line is unbroken.
    edges = np.flatnonzero(np.diff(inside.astype(int)) != 0)
    for i in edges:
        dashed[i] = y[i]
        dashed[i + 1] = y[i + 1]
    ax.plot(x, solid, "-", **style)
    ax.plot(x, dashed, "--", **{k: v for k, v in style.items() if k != "label"})


def _sci(value: float) -> str:
    mantissa, exponent = f"{value:.1e}".split("e")
    mantissa = mantissa.removesuffix(".0")
    power = f"10^{{{int(exponent)}}}"
    return f"${power}$" if mantissa == "1" else rf"${mantissa} \times {power}$"


def isoflop(budgets: Iterable[float] = DEFAULT_BUDGETS, laws: Any = DEFAULT_LAWS, *,
            span: float = 1.5, points: int = 120) -> Figure:
    """IsoFLOP profiles: each law's predicted loss against model size at fixed training
    budgets (``law.isoflop(C, N)``, tokens ``C / 6N``), one panel per law, with the law's
    own compute-optimal size (``law.compute_optimal(C)``) marked on each profile.

    Parameters
    ----------
    budgets : iterable of float
        Training budgets in FLOPs (default 1e19 to 1e23).
    laws : law, name or iterable of them
        Laws with a loss surface: ``"chinchilla"``, ``"besiroglu"``, ``"kaplan"`` or law
        objects (approaches 1 and 2 of Hoffmann et al. have none; see :func:`frontier`).
    span : float
        Decades of model size drawn either side of the laws' optima (0.25 to 4).
    points : int
        Points per profile (10 to 10,000).

    Lines are solid inside the data each law was fitted on and dashed beyond it.
    """
    chosen = _laws(laws)
    for law in chosen:
        if not _has_loss(law):
            msg = (f"laws={law.name!r} is invalid for isoflop: it has no loss surface; use a "
                   "parametric law such as Chinchilla2022(approach=3)")
            raise ValueError(msg)
    budget = _budgets("budgets", budgets)
    half = _validate.real("span", span)
    if not 0.25 <= half <= 4:
        msg = f"span={span!r} is invalid: give decades from 0.25 to 4"
        raise ValueError(msg)
    count = _points(points)
    optima = {law.name: _quiet(law.compute_optimal, budget)[0] for law in chosen}
    fig, axes = _figure(4.2 * len(chosen) + 0.8, 4.4, len(chosen), sharey=True)
    colors = _colormap(len(budget))
    for ax, law in zip(axes, chosen, strict=True):
        for i, c in enumerate(budget):
            centre = np.exp(np.mean([np.log(optima[other.name][i]) for other in chosen]))
            high = min(centre * 10**half, c / 60)  # D = C / 6N >= 10 tokens
            low = min(centre / 10**half, high / 10)
            n = np.geomspace(low, high, count)
            loss = _quiet(law.isoflop, c, n)
            inside = _within(law, "N", n) & _within(law, "D", c / (6 * n))
            _split_line(ax, n, loss, inside, color=colors[i], label=f"{_sci(c)} FLOPs")
            n_opt = optima[law.name][i]
            ax.plot([n_opt], [_quiet(law.isoflop, c, n_opt)], "*", color=colors[i],
                    markersize=13, markeredgecolor="black", markeredgewidth=0.6)
        ax.set_xscale("log")
        ax.set_title(law.name)
        ax.set_xlabel(_size_label(law))
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("predicted loss (nats/token)")
    axes[0].plot([], [], "*", color="grey", markersize=13, markeredgecolor="black",
                 label="law's compute-optimal size")
    axes[0].plot([], [], "--", color="grey", label="beyond the fitted data")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper",
               fontsize="small", title="training budget")
    fig.suptitle("IsoFLOP profiles: loss against model size at fixed training compute")
    return fig


def _size_label(law: Any) -> str:
    from .laws import Kaplan2020

    noun = "non-embedding parameters" if isinstance(law, Kaplan2020) else "parameters"
    return f"model size N ({noun})"


def _points(points: int) -> int:
    count = _validate.integer("points", points)
    if not 10 <= count <= 10_000:
        msg = f"points={points!r} is invalid: give 10 to 10000"
        raise ValueError(msg)
    return count


def _colormap(n: int) -> list[Any]:
    from matplotlib import colormaps

    return [colormaps["viridis"](x) for x in np.linspace(0.0, 0.9, n)]


def frontier(laws: Any = (*DEFAULT_LAWS, "chinchilla-1", "chinchilla-2"),
             compute: tuple[float, float] = (1e18, 1e26), *, mark: float | None = None,
             points: int = 100) -> Figure:
    """Compute frontiers of the laws: the least predicted loss against training compute
    (left: ``law.loss`` at ``law.compute_optimal(C)``), and the compute-optimal model
    size (right). Laws without a loss surface (Hoffmann et al.'s approaches 1 and 2)
    appear on the right only.

    Parameters
    ----------
    laws : law, name or iterable of them
        Law objects or ``"chinchilla"``, ``"besiroglu"``, ``"kaplan"``,
        ``"chinchilla-1"``, ``"chinchilla-2"`` (approaches 1 and 2).
    compute : (float, float)
        The range of training FLOPs drawn.
    mark : float, optional
        A budget to mark with a vertical line (e.g. your own).
    points : int
        Points per line (10 to 10,000).

    Lines are solid inside the data each law was fitted on and dashed beyond it.
    """
    chosen = _laws(laws)
    low, high = _budgets("compute", compute) if len(tuple(compute)) == 2 else (0.0, 0.0)
    if not 1 <= low < high:
        msg = f"compute={compute!r} is invalid: give (low, high) FLOPs with low < high"
        raise ValueError(msg)
    c = np.geomspace(low, high, _points(points))
    fig, (ax_loss, ax_size) = _figure(10.5, 4.4, 2)
    for i, law in enumerate(chosen):
        color = f"C{i}"
        n, d = _quiet(law.compute_optimal, c)
        inside = _within(law, "N", n) & _within(law, "D", d)
        if _has_loss(law):
            _split_line(ax_loss, c, _quiet(law.loss, n, d), inside, color=color,
                        label=law.name)
        _split_line(ax_size, c, n, inside, color=color, label=law.name)
    for ax in (ax_loss, ax_size):
        ax.set_xscale("log")
        ax.set_xlabel("training compute C (FLOPs)")
        ax.grid(True, which="major", alpha=0.3)
        if mark is not None:
            budget = float(_budgets("mark", mark)[0])
            ax.axvline(budget, color="black", linewidth=0.8, linestyle=":",
                       label=f"{_sci(budget)} FLOPs")
    ax_loss.set_ylabel("least predicted loss (nats/token)")
    ax_loss.set_title("Loss at the compute-optimal allocation")
    ax_size.set_yscale("log")
    ax_size.set_ylabel("compute-optimal model size N (parameters)")
    ax_size.set_title("Compute-optimal model size")
    ax_size.plot([], [], "--", color="grey", label="beyond the fitted data")
    ax_size.legend(fontsize="small")
    ax_loss.legend(fontsize="small")
    fig.suptitle("Scaling-law frontiers: what each law predicts for a training budget")
    return fig


def _column(result: SweepResult, name: str) -> tuple[np.ndarray, str]:
    """A result's column in display units, and its axis label."""
    column = name.removeprefix("-")
    if column not in result.columns:
        msg = (f"column={column!r} is invalid: the result has {', '.join(result.columns)}"
               + ("; add a loss with result.with_loss(law)" if column == "loss" else ""))
        raise ValueError(msg)
    label, scale = _COLUMNS.get(column, (column, 1.0))
    return np.asarray(result[column], dtype=np.float64) * scale, label


def _log_if_wide(ax: Axes, axis: str, values: np.ndarray) -> None:
    positive = values[values > 0]
    if positive.size and positive.max() > 30 * positive.min():
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def pareto(result: Any, x: str | None = None, y: str = "loss", *, pick: int | None = None,
           feasible: bool = True, title: str | None = None) -> Figure:
    """A sweep's rows and their Pareto front in two columns, e.g. predicted loss against
    training days, or step time against memory per GPU.

    Parameters
    ----------
    result : SweepResult or Plan
        The rows; a :func:`scalingperf.plan` result draws its ``candidates`` and marks its
        ``best`` (their first row: candidates are ranked best first).
    x, y : str
        Columns of ``result``, each minimised ("-" in front to maximise), as in
        :meth:`SweepResult.pareto`; ``x`` defaults to ``"train_days"`` (a plan's
        ``"days"``, the time each layout trains for). ``"loss"`` needs a loss column
        (``sweep(..., law=)`` or :meth:`SweepResult.with_loss`; a plan has one).
    pick : int, optional
        A row of ``result`` to highlight (e.g. the one you chose; a plan's best by
        default).
    feasible : bool
        The front over the rows that fit only (default), as ``SweepResult.pareto``.
    title : str, optional
        The figure's title (default: says what is drawn).
    """
    rows, pick, planned = _rows_and_pick(result, pick)
    x = x or ("days" if planned else "train_days")
    xs, x_label = _column(rows, x)
    ys, y_label = _column(rows, y)
    front = rows.pareto(x, y, feasible=feasible)
    fx, _ = _column(front, x)
    fy, _ = _column(front, y)
    order = np.argsort(fx)
    fig, (ax,) = _figure(6.4, 4.6)
    fits = np.asarray(rows["fits"], dtype=bool)
    # Rasterised: a sweep has many thousands of points, which would bloat an SVG.
    if not fits.all():
        ax.scatter(xs[~fits], ys[~fits], s=6, marker="x", color="tab:red", alpha=0.25,
                   linewidths=0.6, rasterized=True,
                   label=f"does not fit in memory ({int((~fits).sum())})")
    ax.scatter(xs[fits], ys[fits], s=8, color="0.55", rasterized=True,
               label=f"fits ({int(fits.sum())})")
    ax.plot(fx[order], fy[order], "o-", color="tab:blue", markersize=5,
            label=f"Pareto front ({len(front)})")
    if pick is not None:
        ax.plot([xs[pick]], [ys[pick]], "*", color="gold", markersize=18,
                markeredgecolor="black",
                label=("plan's " if planned else "") + _pick_label(rows, pick))
    _log_if_wide(ax, "x", xs)
    _log_if_wide(ax, "y", ys)
    ax.set_xlabel(x_label + (" (higher is better)" if x.startswith("-") else ""))
    ax.set_ylabel(y_label + (" (higher is better)" if y.startswith("-") else ""))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")
    what = f"{y_label.split(' (')[0]} against {x_label.split(' (')[0]}"
    if title is None and planned:
        title = (f"Plan for {_sci(result.compute)} FLOPs on {result.gpus:,} "
                 f"{result.hardware.name}\n{len(rows):,} candidates that fit")
    ax.set_title(title or f"{len(rows)} configurations: {what}")
    return fig


def _rows_and_pick(result: Any, pick: int | None) -> tuple[SweepResult, int | None, bool]:
    """The rows to draw, the row to mark, and whether ``result`` is a plan."""
    from .sweep import SweepResult

    planned = not isinstance(result, SweepResult) and hasattr(result, "candidates")
    rows = result.candidates if planned else result
    if not isinstance(rows, SweepResult):
        msg = f"result={type(result).__name__} is invalid: give a SweepResult or a plan"
        raise ValueError(msg)
    if len(rows) == 0:
        msg = "result is invalid: it has no rows to draw"
        raise ValueError(msg)
    if planned and pick is None:
        pick = 0  # the plan's best: its candidates are ranked best first
    if pick is not None:
        pick = _validate.integer("pick", pick)
        if not 0 <= pick < len(rows):
            msg = f"pick={pick} is invalid: give a row from 0 to {len(rows) - 1}"
            raise ValueError(msg)
    return rows, pick, planned


def _pick_label(rows: SweepResult, i: int) -> str:
    row = rows.row(i)
    layout = "/".join(f"{k}{row[k]}" for k in ("tp", "pp", "dp") if k in row)
    experts = f", {row['n_experts']} experts" if row.get("n_experts", 0) > 1 else ""
    return f"pick: d_model {row['d_model']}, {row['n_layers']} layers{experts}, {layout}"


def layers(report: Report, *, per: str = "model") -> Figure:
    """Where one configuration's FLOPs, activation memory and time go, op by op: three
    panels of stacked horizontal bars from ``report.layers`` (see :class:`OpTable`).

    Parameters
    ----------
    report : Report
        An :func:`estimate` result.
    per : {"model", "layer"}
        The whole model (each op times its count, default) or one instance of each layer
        type. Values are for one micro-batch, as in ``report.layers``: FLOPs of the model,
        saved activations and compute time (no communication, bubble or optimizer) on one
        GPU.
    """
    from .estimate import Report

    if not isinstance(report, Report):
        msg = f"report={type(report).__name__} is invalid: give an estimate() Report"
        raise ValueError(msg)
    if per not in ("model", "layer"):
        msg = f"per={per!r} is invalid: give 'model' or 'layer'"
        raise ValueError(msg)
    table: OpTable = report.layers
    times = np.asarray(table["count"], dtype=np.float64) if per == "model" else 1.0

    def col(*names: str) -> np.ndarray:
        return sum((np.asarray(table[n], dtype=np.float64) for n in names),
                   np.zeros(len(table))) * times

    labels = [f"{s} · {o}" for s, o in zip(table["section"], table["op"], strict=True)]
    panels: Sequence[tuple[str, str, float, Mapping[str, np.ndarray]]] = (
        ("FLOPs", "FLOPs of one micro-batch (TFLOP)", 1e-12, {"forward": col("flops_forward", "elementwise_forward"),
                 "backward": col("flops_backward", "elementwise_backward"),
                 "recompute": col("flops_recompute")}),
        ("Activation memory", "saved for backward per GPU (GiB)", 2.0**-30,
         {"saved activations": col("saved_bytes")}),
        ("Time", "compute time per GPU, one micro-batch (ms)", 1e3,
         {"forward": col("time_forward"), "backward": col("time_backward")}),
    )
    fig, axes = _figure(13.5, 0.26 * len(table) + 1.8, 3, sharey=True)
    positions = np.arange(len(table))[::-1]
    colors = {"forward": "tab:blue", "backward": "tab:orange", "recompute": "tab:green",
              "saved activations": "tab:purple"}
    for ax, (name, unit, scale, parts) in zip(axes, panels, strict=True):
        left = np.zeros(len(table))
        for part, values in parts.items():
            if part == "recompute" and not values.any():
                continue
            ax.barh(positions, values * scale, left=left, color=colors[part], label=part)
            left += values * scale
        ax.set_title(name)
        ax.set_xlabel(unit)
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(fontsize="small", loc="lower right")
    axes[0].set_yticks(positions, labels, fontsize="small")
    arch = report.architecture
    name = getattr(arch, "name", None) or "model"
    scope = "whole model" if per == "model" else "one layer of each type"
    fig.suptitle(f"{name}: {scope}, micro-batch of {report.batch} x {report.seq_len} tokens "
                 f"on {report.hardware.name}")
    return fig


def tp_efficiency(result: SweepResult, *, title: str | None = None) -> Figure:
    """Tensor-parallel efficiency against width and depth: a sweep's ``tp_efficiency``
    column over ``d_model`` (left) and ``n_layers`` (right), one series per TP degree.
    A layer's tensor-parallel all-reduces (Shoeybi et al. 2019, Megatron-LM) move about
    ``b s d`` values against ``b s d^2`` GEMM FLOPs, so the share of the step spent
    communicating falls with width; at a fixed parameter count the deeper, narrower
    shapes that Tay et al. 2021 favour for quality (DeepNarrow) pay for it here.

    Parameters
    ----------
    result : SweepResult
        Rows that vary the shape and ``tp`` (e.g. ``Grid.kaplan_aspect(N, tp=[2, 4, 8])``);
        rows with ``tp == 1`` (efficiency 1 by definition) are left out.
    title : str, optional
    """
    from .sweep import SweepResult

    if not isinstance(result, SweepResult):
        msg = f"result={type(result).__name__} is invalid: give a SweepResult"
        raise ValueError(msg)
    tp = np.asarray(result["tp"])
    degrees = sorted(int(t) for t in np.unique(tp) if t > 1)
    if not degrees:
        msg = "result is invalid: it has no rows with tp > 1 (sweep tp=[2, 4, 8], say)"
        raise ValueError(msg)
    efficiency = np.asarray(result["tp_efficiency"], dtype=np.float64)
    fig, axes = _figure(10.5, 4.4, 2, sharey=True)
    for ax, column in zip(axes, ("d_model", "n_layers"), strict=True):
        values = np.asarray(result[column], dtype=np.float64)
        for i, degree in enumerate(degrees):
            rows = np.flatnonzero(tp == degree)
            order = rows[np.argsort(values[rows], kind="stable")]
            ax.plot(values[order], efficiency[order], "o-", color=f"C{i}", markersize=3,
                    linewidth=1, label=f"TP = {degree}")
        _log_if_wide(ax, "x", values)
        ax.set_xlabel(_COLUMNS[column][0])
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("tensor-parallel efficiency (1 = no communication cost)")
    axes[0].set_title("Against width")
    axes[1].set_title("Against depth (deeper is narrower at one size)")
    axes[1].legend(fontsize="small")
    fig.suptitle(title or f"Tensor-parallel efficiency against width and depth "
                 f"({len(result)} configurations, {result.grid.hardware.name})")
    return fig


def validation(result: ValidationResult | None = None, *, by: str = "source") -> Figure:
    """Predicted against measured for the published runs of :func:`validate`: one panel
    per measured quantity, log-log, the diagonal and a ±20 % band drawn, points coloured
    by ``by``.

    Parameters
    ----------
    result : ValidationResult, optional
        ``validate()``'s result (default: the whole suite).
    by : {"source", "device"}
        What the colours distinguish.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from .validate import QUANTITIES, ValidationResult, validate

    if by not in ("source", "device"):
        msg = f"by={by!r} is invalid: give 'source' or 'device'"
        raise ValueError(msg)
    data = validate() if result is None else result
    if not isinstance(data, ValidationResult):
        msg = f"result={type(data).__name__} is invalid: give a validate() result"
        raise ValueError(msg)
    rows = data.predicted
    if not rows:
        msg = "result is invalid: it has no predicted runs to draw"
        raise ValueError(msg)
    quantities = [q for q in QUANTITIES if any(r.quantity == q for r in rows)]
    groups = sorted({r.source if by == "source" else r.hardware for r in rows})
    fig, axes = _figure(4.3 * len(quantities) + 1.5, 4.6, len(quantities))
    for ax, quantity in zip(axes, quantities, strict=True):
        chosen = [r for r in rows if r.quantity == quantity]
        for i, group in enumerate(groups):
            mine = [r for r in chosen if (r.source if by == "source" else r.hardware) == group]
            ax.scatter([r.measured for r in mine], [r.predicted or 0.0 for r in mine], s=22,
                       color=f"C{i % 10}", marker="os^Dv<>p"[i // 10 % 8], label=group)
        values = np.array([v for r in chosen for v in (r.measured, r.predicted or 0.0)])
        low, high = values.min() / 1.3, values.max() * 1.3
        line = np.geomspace(low, high, 2)
        ax.plot(line, line, color="black", linewidth=0.8)
        ax.fill_between(line, line / 1.2, line * 1.2, color="0.85", zorder=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(low, high)
        ax.set_ylim(low, high)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            axis.set_minor_formatter(NullFormatter())
        label = _QUANTITY_LABELS.get(quantity, QUANTITIES[quantity])
        ax.set_xlabel(f"measured {label}")
        ax.set_ylabel(f"predicted {label}")
        ax.set_title(f"{QUANTITIES[quantity]}: {len(chosen)} runs")
        ax.grid(True, which="major", alpha=0.3)
    axes[-1].plot([], [], color="black", linewidth=0.8, label="predicted = measured")
    axes[-1].fill_between([], [], [], color="0.85", label="within ±20 %")
    legend: dict[str, Any] = {}
    for ax in axes:  # a group may appear in some panels only
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    fig.legend(legend.values(), legend.keys(), loc="outside right upper", fontsize="small",
               title=by)
    overall = data.summary()[-1]
    fig.suptitle(f"Predicted against measured: {overall.predicted} published training runs, "
                 f"mean |error| {overall.mean:.1%}, median {overall.median:.1%}")
    return fig


_QUANTITY_LABELS = {"step_time_s": "step time (s)",
                    "tokens_per_s_per_gpu": "throughput (tokens/s per GPU)",
                    "tflops_per_gpu": "throughput (TFLOP/s per GPU)",
                    "mfu": "MFU (fraction of peak)"}
