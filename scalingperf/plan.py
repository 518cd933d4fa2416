"""The compute-optimal planner: for a FLOP budget, or GPUs x days, or a fixed dataset, which
transformer to train, on which layout, and how long it takes.

It joins what the package already has: the laws give the loss-optimal size, the grid
families give concrete shapes around it, the core sweeps them over every parallel layout
of the devices, and the laws rank what fits by the loss it reaches with the tokens its
layout can process. No cost is computed here.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _validate, laws
from ._plan_hyper import HyperParameters, predict
from ._plan_search import FAMILIES, Shape, layout_grid, propose_shapes, sweep_layouts
from .devices import Hardware, get_hardware
from .estimate import Report
from .intervals import check_level
from .sweep import SweepResult

__all__ = ["DAY", "DEFAULT_COMPUTE", "DEFAULT_GLOBAL_BATCH", "DEFAULT_GPUS", "DEFAULT_SEQ_LEN",
           "FAMILIES", "HyperParameters", "Plan", "plan"]

#: Seconds in a day.
DAY = 86400.0
#: The default budget: Gopher's 5.76e23 FLOPs (Rae et al. 2021; Hoffmann et al. 2022
#: Table 3 ask what Gopher should have been at it).
DEFAULT_COMPUTE = laws.GOPHER_FLOPS
DEFAULT_GPUS = 1024
#: Tokens per sequence and sequences per step: Chinchilla and Gopher trained on 2,048-token
#: sequences with batches of 1.5M to 3M tokens (Hoffmann et al. 2022, Table 4, and §4.1);
#: 1,024 x 2,048 = 2.1M tokens lies in that range.
DEFAULT_SEQ_LEN = 2048
DEFAULT_GLOBAL_BATCH = 1024
_LAYOUT = ("tp", "pp", "dp", "ep", "zero", "batch", "microbatches", "recompute")
_LAW_NAMES = ("chinchilla", "besiroglu", "kaplan", "muennighoff")


def _resolve_law(law: Any) -> laws.ParametricLaw | laws.Chinchilla2022 | laws.Kaplan2020:
    if isinstance(law, str):
        known: dict[str, Any] = {"chinchilla": laws.Chinchilla2022,
                                 "besiroglu": laws.Besiroglu2024, "kaplan": laws.Kaplan2020,
                                 "muennighoff": laws.Muennighoff2023}
        if law not in known:
            msg = f"law={law!r} is invalid: give a law object or one of {', '.join(known)}"
            raise ValueError(msg)
        resolved = known[law]()
    elif isinstance(law, (laws.ParametricLaw, laws.Kaplan2020)) or (
            isinstance(law, laws.Chinchilla2022) and law.approach == 3):
        resolved = law
    else:
        msg = (f"law={law!r} is invalid: the planner ranks by loss, so it needs a law with a "
               f"loss surface ({', '.join(_LAW_NAMES)}, or such an object)")
        raise ValueError(msg)
    return resolved  # type: ignore[no-any-return]


def _optimum(law: Any, compute: float, unique: float | None) -> tuple[float, float]:
    if isinstance(law, laws.Muennighoff2023):
        n, d = law.compute_optimal(compute, unique_tokens=unique)
    else:
        n, d = law.compute_optimal(compute)
    return float(n), float(d)


@dataclass
class Plan:
    """What :func:`plan` found.

    Attributes
    ----------
    laws : scalingperf.laws.LawTable
        Every registered law's optimal (N, D) and its loss there at :attr:`compute`,
        side by side (:func:`scalingperf.laws.compare`).
    candidates : SweepResult
        Every (shape, layout) that fits, best first: the sweep's columns plus ``loss``
        (the ranking law at the row's ``tokens``), ``tokens`` (what the run processes
        within the budget), ``days`` and ``family`` (the name of the family of shapes
        that proposed the row, one of :data:`FAMILIES`).
    best : Report
        :func:`scalingperf.estimate` of the winner on its layout (:attr:`layout`).
    hyperparameters : tuple of HyperParameters
        The winner's peak learning rate and batch (tokens per step) by Bi et al. 2024
        (DeepSeek LLM, eq. 1: from the compute ``C = M D``) first, then by Li et al. 2025
        (the Step Law: from the non-embedding parameters and the tokens), each with how
        the plan's own batch compares (:attr:`learning_rate`, :attr:`optimal_batch_tokens`).
    """

    compute: float
    gpus: int
    days_limit: float | None
    compute_limit: float | None
    unique_tokens: float | None
    hardware: Hardware
    dtype: str
    seq_len: int
    global_batch: int
    law: Any
    target_params: float
    assumed_mfu: float | None
    laws: laws.LawTable
    candidates: SweepResult
    best: Report
    shapes: int
    layouts_tried: int
    caveats: list[str] = field(default_factory=list)
    level: float = 0.8
    inference_tokens: float | None = None
    tolerance: float = 0.05
    slack: float = 0.0
    hyperparameters: tuple[HyperParameters, ...] = ()

    @property
    def tokens(self) -> float:
        """Tokens the winner trains on."""
        return float(self.candidates["tokens"][0])

    @property
    def days(self) -> float:
        """Days the winner trains."""
        return float(self.candidates["days"][0])

    @property
    def loss(self) -> float:
        """The winner's predicted loss under the ranking law."""
        return float(self.candidates["loss"][0])

    @property
    def family(self) -> str:
        """The family of shapes the winner comes from (one of :data:`FAMILIES`)."""
        return str(self.candidates["family"][0])

    @property
    def learning_rate(self) -> float:
        """The winner's peak learning rate by Bi et al. 2024, eq. 1 (the first of
        :attr:`hyperparameters`)."""
        return self.hyperparameters[0].learning_rate

    @property
    def optimal_batch_tokens(self) -> float:
        """The winner's batch in tokens per step by Bi et al. 2024, eq. 1; the plan itself
        steps with ``seq_len x global_batch`` tokens."""
        return self.hyperparameters[0].batch_tokens

    @property
    def layout(self) -> dict[str, Any]:
        """The winner's layout: ``tp``, ``pp``, ``dp``, ``ep``, ``zero``, ``batch`` (the
        micro-batch), ``microbatches`` per step and ``recompute``, as :func:`estimate`
        takes them."""
        row = self.candidates.row(0)
        return {name: row[name] for name in _LAYOUT}

    def days_interval(self) -> tuple[float, float]:
        """The winner's training time over the step-time interval of
        :meth:`Report.training_interval` (from the validation residuals), at :attr:`level`."""
        return self.best.training_interval(self.tokens, self.level)

    def tokens_interval(self) -> tuple[float, float]:
        """The tokens the winner processes in :attr:`days` over the tokens/s interval of
        :meth:`Report.tokens_per_s_interval`, at :attr:`level`: what a run of fixed
        length may get through."""
        low, high = self.best.tokens_per_s_interval(self.level)
        seconds = self.days * DAY
        return low * seconds, high * seconds

    def explain(self) -> str:
        """Why the winner won, in words and numbers."""
        from ._plan_explain import explain

        return explain(self)

    def to_dict(self) -> dict[str, Any]:
        """The question, the laws, the winner and the best candidates as plain values."""
        from ._plan_explain import plan_dict

        return plan_dict(self)

    def table(self, rows: int = 10) -> str:
        """The best ``rows`` candidates as a text table with units."""
        from ._plan_explain import candidates_table

        return candidates_table(self, rows)

    def __str__(self) -> str:
        return self.explain()

    def __repr__(self) -> str:
        arch = self.best.architecture
        return (f"<Plan: {arch.d_model} x {arch.n_layers} ({self.family}), "
                f"{self.tokens:.3g} tokens in {self.days:.3g} days on {self.gpus} x "
                f"{self.hardware.name}; {len(self.candidates):,} candidates>")


def _positive(name: str, value: Any) -> float:
    number = _validate.real(name, value)
    if not math.isfinite(number) or not 1 <= number <= 1e40:
        msg = f"{name}={value!r} is invalid: give a number from 1 to 1e40"
        raise ValueError(msg)
    return number


def _days(value: Any) -> float:
    number = _validate.real("days", value)
    if not math.isfinite(number) or not 0 < number <= 1e6:
        msg = f"days={value!r} is invalid: give a number of days above 0, at most 1e6"
        raise ValueError(msg)
    return number


def _count(name: str, value: Any, hi: int) -> int:
    number = _validate.integer(name, value)
    if not 1 <= number <= hi:
        msg = f"{name}={value!r} is invalid: allowed range is [1, {hi:,}]"
        raise ValueError(msg)
    return number


def _with_columns(result: SweepResult, columns: Mapping[str, np.ndarray],
                  order: np.ndarray) -> SweepResult:
    """``result`` with extra columns, its rows in ``order``."""
    extended = SweepResult(result.grid, result.index,
                           {**result._columns, **columns}, result._origin)
    return extended._subset(order)


def _row_loss(result: SweepResult, law: Any, tokens: np.ndarray,
              unique: float | None) -> np.ndarray:
    """The ranking law's loss per row. A routed row counts as the dense model of Clark et
    al. 2022's effective parameter count (eq. 1 solved for N̄, :meth:`Clark2022.
    effective_params`), so that dense and routed rows are ranked by one law at their tokens."""
    embedding = result["params_embedding"].astype(np.float64)
    body = result["params_active"].astype(np.float64) - embedding
    moe = result["n_experts"] > 1
    if np.any(moe):
        body[moe] = laws.Clark2022().effective_params(
            body[moe], result["n_experts"][moe].astype(np.float64))
    params = body if isinstance(law, laws.Kaplan2020) else body + embedding
    if isinstance(law, laws.Muennighoff2023):
        return np.asarray(law.loss(params, tokens, unique_tokens=unique), dtype=np.float64)
    return np.asarray(law.loss(params, tokens), dtype=np.float64)


@dataclass(frozen=True)
class _Search:
    result: SweepResult
    shapes: list[Shape]
    layouts: int
    slack: float


def _search(target: float, *, gpus: int, device: Hardware, seq_len: int, global_batch: int,
            dtype: str, law: Any, compute: float | None, seconds: float | None,
            unique: float | None, moe: bool, serving: Any, slack: float) -> _Search:
    shapes = propose_shapes(target, seq_len, moe=moe)
    if not shapes:
        msg = (f"no transformer shape near {target:.3g} parameters: the planner's families "
               "start at one layer of d_model = head_dim")
        raise ValueError(msg)
    grid = layout_grid(shapes, gpus=gpus, devices_per_node=device.devices_per_node,
                       global_batch=global_batch, seq_len=seq_len, hardware=device,
                       dtype=dtype, **({"compute": compute} if compute else {}))
    rows = sweep_layouts(grid)
    if len(rows) == 0:
        reasons = rows.skipped.reasons
        why = reasons[0][0] if reasons else "no valid layout"
        msg = (f"nothing fits: none of {len(shapes)} shapes near {target:.3g} parameters fits "
               f"on {gpus:,} x {device.name} in any layout ({why}); give more GPUs or a "
               "smaller budget")
        raise ValueError(msg)
    rate = rows["tokens_per_s"]
    limits = []
    if compute:
        limits.append(rows["tokens_at_budget"] * _training_share(rows, compute, serving))
    if seconds:
        limits.append(rate * seconds)
    tokens = np.minimum.reduce(limits) if len(limits) > 1 else limits[0]
    trains = tokens >= 1  # serving may leave a large model nothing to train with
    if not trains.any():
        msg = (f"inference_tokens={serving[1]:.3g} is invalid with compute={compute:.3g}: "
               "serving them leaves no FLOPs to train any candidate; raise compute")
        raise ValueError(msg)
    if not trains.all():
        rows, tokens, rate = rows.where(trains), tokens[trains], rate[trains]
    keys = {(s.d_model, s.n_layers, s.head_dim, s.n_experts, s.top_k): s.family
            for s in shapes}
    family = np.array([keys[(int(a), int(b), int(c), int(e), int(k))] for a, b, c, e, k in zip(
        rows["d_model"], rows["n_layers"], rows["head_dim"], rows["n_experts"], rows["top_k"],
        strict=True)])
    loss = _row_loss(rows, law, tokens, unique)
    days = tokens / rate / DAY
    # Within ``slack`` of the best loss, the shorter run first; then by loss.
    tied = loss <= loss.min() + slack
    order = np.lexsort((rows.index, days, loss, days * tied, ~tied))
    ranked = _with_columns(rows, {"loss": loss, "tokens": tokens, "days": days,
                                  "family": family}, order)
    return _Search(ranked, shapes, len(grid), slack)


def _training_share(rows: SweepResult, compute: float, serving: Any) -> np.ndarray:
    """The share of a lifetime budget left to train each row, once it has served its
    inference tokens: Sardana et al. 2024 (§2) count ``2 N`` FLOPs per token served, N
    the parameters a token uses (``total_flops`` of the law says how)."""
    if serving is None:
        return np.ones(len(rows))
    law, served = serving
    active = rows["params_active"].astype(np.float64)
    inference = law.total_flops(active, 1.0, served) - law.total_flops(active, 1.0, 0.0)
    share: np.ndarray = np.clip(1.0 - inference / compute, 0.0, 1.0)
    return share


def plan(compute: float | None = None, gpus: int | None = None, days: float | None = None,
         hardware: str | Hardware | Mapping[str, Any] = "H100-SXM", tokens: float | None = None,
         law: Any = "chinchilla", *, seq_len: int = DEFAULT_SEQ_LEN,
         global_batch: int = DEFAULT_GLOBAL_BATCH, dtype: str = "bf16", moe: bool = False,
         inference_tokens: float | None = None, tolerance: float = 0.05,
         level: float = 0.8) -> Plan:
    """Which transformer to train for a budget, on which layout, and for how long.

    Parameters
    ----------
    compute : float, optional
        Training FLOPs: the model FLOPs the kernels execute (causal attention, no
        recomputation; the sweep's ``flops_per_step``) over all steps. Without ``compute``
        and ``days``: Gopher's 5.76e23.
    gpus : int, optional
        Devices (default 1,024).
    days : float, optional
        Wall-clock days: each layout trains on the tokens it processes in that time (the
        inverse question). With ``compute`` too, whichever ends the run first.
    hardware : str, Hardware or dict
        The device (default "H100-SXM").
    tokens : float, optional
        Unique tokens available: candidates are ranked by Muennighoff et al. 2023's
        data-constrained law (repeated epochs are worth less).
    law : str or law object
        The law that sizes and ranks: "chinchilla" (approach 3, default), "besiroglu",
        "kaplan", "muennighoff", or a law object with a loss surface.
    seq_len, global_batch : int
        Tokens per sequence and sequences per optimizer step (defaults 2,048 and 1,024,
        as Chinchilla trained).
    dtype : str
        Number format of the matmuls (default "bf16").
    moe : bool
        Try routed (mixture-of-experts) variants too (default False). They are ranked as
        the dense model of Clark et al. 2022's effective parameter count, a law fitted on
        dense bases up to 1.3B parameters and 130B tokens: at today's sizes an
        extrapolation of one to two decades, so they are asked for, not assumed.
    inference_tokens : float, optional
        Tokens the model will serve over its life (Sardana et al. 2024): ``compute`` is
        then the lifetime budget, training plus ``2 N`` FLOPs per token served, the size
        comes from :class:`scalingperf.laws.Sardana2024` and each candidate trains on what
        its serving leaves. Needs ``compute``, and a Chinchilla-form ranking law.
    tolerance : float
        Candidates whose loss is within what ``tolerance`` more compute buys at the
        optimum are ties, and the shorter run wins them; 0 ranks by loss alone. The
        default, 0.05, is a choice, not a published figure: a loss that 5 % more compute
        would make up is below what the laws resolve (their fits scatter by more).
    level : float
        Coverage of the training-time interval in :meth:`Plan.explain` (default 0.8).

    Returns
    -------
    Plan
        ``.laws``, ``.candidates``, ``.best``, ``.explain()``, ``.to_dict()``.

    How
    ---
    1. The ranking law's loss-optimal size for the budget (for ``days``: the FLOPs the
       GPUs deliver in that time at the device's default matmul efficiency, then again at
       the MFU the first search's winner reaches).
    2. Shapes around it, from 0.5x to 2x the size: standard, DeepNarrow (Tay et al.
       2021), Kaplan et al. 2020's aspect ratios, and routed variants (Clark et al. 2022).
    3. Every layout of the GPUs (tensor parallel within a node, pipeline, expert and data
       parallel, ZeRO 0/1, recomputation, micro-batch) swept in the core; what does not fit
       in memory is dropped.
    4. Each survivor's loss at the tokens it processes within the budget. Losses within
       what ``tolerance`` more compute would buy are ties, and the shorter run wins.
    """
    device = get_hardware(hardware)
    n_gpus = _count("gpus", DEFAULT_GPUS if gpus is None else gpus, 1 << 20)
    seq = _count("seq_len", seq_len, 1 << 24)
    batch = _count("global_batch", global_batch, 1 << 30)
    compute_limit = None if compute is None else _positive("compute", compute)
    day_limit = None if days is None else _days(days)
    unique = None if tokens is None else _positive("tokens", tokens)
    if compute_limit is None and day_limit is None:
        compute_limit = DEFAULT_COMPUTE
    ranking = laws.Muennighoff2023() if unique is not None else _resolve_law(law)
    serving = _serving(inference_tokens, ranking, compute_limit if compute is not None else None)
    peak = device.peak_flops.get(dtype)
    if not peak:
        msg = (f"dtype={dtype!r} is invalid on {device.name}: it has "
               f"{', '.join(f for f, v in device.peak_flops.items() if v)}")
        raise ValueError(msg)
    level = check_level(level)
    tolerance = _validate.real("tolerance", tolerance)
    if not 0 <= tolerance <= 1:
        msg = f"tolerance={tolerance!r} is invalid: give a fraction of the budget from 0 to 1"
        raise ValueError(msg)
    seconds = None if day_limit is None else day_limit * DAY
    caveats: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", laws.ExtrapolationWarning)
        # GPUs x days: first at the device's default matmul efficiency (an upper bound
        # on MFU), then at the MFU that search's winner reaches.
        assumed_mfu = None if seconds is None else device.default_efficiency.matmul
        options: dict[str, Any] = dict(
            gpus=n_gpus, device=device, seq_len=seq, global_batch=batch, dtype=dtype,
            law=ranking, compute=compute_limit, seconds=seconds, unique=unique,
            moe=_validate.flag("moe", moe), serving=serving)

        def search(mfu: float | None) -> tuple[float, float, _Search]:
            budget = _budget(compute_limit, n_gpus, peak, seconds, mfu)
            target = (_optimum(ranking, budget, unique)[0] if serving is None
                      else float(serving[0].compute_optimal(budget, serving[1])[0]))
            slack = _slack(ranking, budget, unique, tolerance, compute_limit is not None)
            return budget, target, _search(target, slack=slack, **options)

        budget, target, found = search(assumed_mfu)
        if seconds is not None:
            assumed_mfu = float(found.result["mfu"][0])
            budget, target, found = search(assumed_mfu)
        table = laws.compare(compute=budget)
    best = found.result.report(0)
    hyper, notes = _hyperparameters(best, float(found.result["tokens"][0]), seq, batch)
    for warning in caught:
        if issubclass(warning.category, laws.ExtrapolationWarning):
            text = str(warning.message)
            if text not in caveats:
                caveats.append(text)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    caveats.extend(text for text in notes if text not in caveats)
    return Plan(compute=budget, gpus=n_gpus, days_limit=day_limit, compute_limit=compute_limit,
                unique_tokens=unique, hardware=device, dtype=dtype, seq_len=seq,
                global_batch=batch, law=ranking, target_params=target, assumed_mfu=assumed_mfu,
                laws=table, candidates=found.result, best=best,
                shapes=len(found.shapes), layouts_tried=found.layouts, caveats=caveats,
                level=level, inference_tokens=None if serving is None else serving[1],
                tolerance=tolerance, slack=found.slack, hyperparameters=hyper)


def _hyperparameters(best: Report, tokens: float, seq_len: int, global_batch: int
                     ) -> tuple[tuple[HyperParameters, ...], list[str]]:
    """The winner's learning rate and batch by DeepSeek2024 and StepLaw2025, at its active
    non-embedding parameters (Kaplan's N, what both papers count) and its tokens."""
    arch = best.architecture
    width = int(arch.n_heads or 0) * int(arch.head_dim or 0)  # resolved: never None here
    return predict(best.params.active_non_embedding, arch.n_layers, width, seq_len, tokens,
                   global_batch)


def _serving(inference_tokens: Any, ranking: Any, compute: float | None
             ) -> tuple[laws.Sardana2024, float] | None:
    """Sardana et al. 2024 on the ranking law, and the tokens to serve; None without."""
    if inference_tokens is None:
        return None
    served = _validate.real("inference_tokens", inference_tokens)
    if not math.isfinite(served) or not 0 <= served <= 1e40:
        msg = (f"inference_tokens={inference_tokens!r} is invalid: give a number of tokens "
               "from 0 to 1e40")
        raise ValueError(msg)
    if compute is None:
        msg = (f"inference_tokens={inference_tokens!r} needs compute: the lifetime FLOPs "
               "that training and serving share")
        raise ValueError(msg)
    parametric = ranking.parametric if isinstance(ranking, laws.Chinchilla2022) else ranking
    if not isinstance(parametric, laws.ParametricLaw) or isinstance(
            parametric, laws.Muennighoff2023):
        msg = (f"inference_tokens={inference_tokens!r} is invalid with law={ranking!r}: "
               "Sardana et al. 2024 take a Chinchilla-form law (chinchilla or besiroglu)")
        raise ValueError(msg)
    return laws.Sardana2024(parametric), served


def _slack(law: Any, compute: float, unique: float | None, tolerance: float,
           timed_by_compute: bool) -> float:
    """The loss ``tolerance`` more compute buys at the optimum: losses closer than this to
    the best are ties, which the shorter run wins (0 when every run takes the same days)."""
    if tolerance == 0 or not timed_by_compute:
        return 0.0

    def best(c: float) -> float:
        n, d = _optimum(law, c, unique)
        if isinstance(law, laws.Muennighoff2023):
            return float(law.loss(n, d, unique_tokens=unique))
        return float(law.loss(n, d))

    return max(0.0, best(compute) - best(compute * (1 + tolerance)))


def _budget(compute: float | None, gpus: int, peak: float, seconds: float | None,
            mfu: float | None) -> float:
    """The FLOPs the run gets: the given budget, or what the GPUs deliver in the time at
    ``mfu``, whichever is smaller."""
    limits = [] if compute is None else [compute]
    if seconds is not None and mfu is not None:
        limits.append(gpus * peak * mfu * seconds)
    return min(limits)
