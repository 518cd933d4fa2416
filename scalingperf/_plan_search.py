"""The planner's search: concrete shapes around a target size, every parallel layout of the
devices, swept in the core; Python only chooses which points to ask for and ranks them."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .grid import Grid
from .sweep import SweepResult, SweepWarning, sweep

#: The families of shapes the planner tries, in the order a shared shape is credited.
#: "standard": depth and width together (Grid.uniform); "deep-narrow": Tay et al. 2021;
#: "kaplan-aspect": Kaplan et al. 2020's aspect ratios (Figure 5), head_dim 64;
#: "moe": routed experts on a standard base (Clark et al. 2022).
FAMILIES = ("standard", "deep-narrow", "kaplan-aspect", "moe")
_FAMILY_GRIDS: tuple[tuple[str, Any], ...] = (
    ("standard", Grid.uniform), ("deep-narrow", Grid.deep_narrow),
    # Kaplan et al. 2020 (§3.1, Figure 5): the loss stays within a few percent of its best
    # from d_model / n_layers = 20 to 200 at fixed N; the laws cannot see a shape outside.
    ("kaplan-aspect", functools.partial(Grid.kaplan_aspect, aspect=(20, 200))))
#: Sizes tried, as multiples of the law's optimal size: the ranking (loss at the tokens a
#: layout can process) may then prefer a smaller, faster model or a larger one.
SIZE_STEPS = (0.5, 0.7, 1.0, 1.4, 2.0)
#: A shape counts as "at" a size when its non-embedding parameters are this close.
_SIZE_MATCH = 0.05
#: Routed variants of standard shapes (Clark et al. 2022 sweep E up to 512; Mixtral uses
#: 8 experts, top-2), each expert as wide as the base's FFN, as in Clark et al.: on bases
#: of these multiples of the optimal size (E copies of a full-size base rarely fit).
MOE_EXPERTS = (8, 64)
MOE_TOP_K = (1, 2)
MOE_BASE_SIZES = (0.5, 1.0)
#: Layout axes: tensor parallel within a node, pipeline stages, ZeRO stages 0 and 1
#: (Megatron's distributed optimizer), the three recomputation modes and micro-batches.
PIPELINE = (1, 2, 4, 8, 16, 32)
ZERO = (0, 1)
RECOMPUTE = ("none", "selective", "full")
MICRO_BATCH = (1, 2, 4)


@dataclass(frozen=True)
class Shape:
    """One concrete architecture the planner tries, and the family that proposed it."""

    family: str
    d_model: int
    n_layers: int
    head_dim: int
    d_ff: int
    params: float  # non-embedding parameters of the dense shape, from the core
    n_experts: int = 1
    top_k: int = 1

    def axes(self) -> dict[str, int]:
        return dict(d_model=self.d_model, n_layers=self.n_layers, head_dim=self.head_dim,
                    d_ff=self.d_ff, n_experts=self.n_experts, top_k=self.top_k,
                    d_ff_expert=self.d_ff)


def _quiet_sweep(grid: Grid, **options: Any) -> SweepResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SweepWarning)  # an empty family is simply absent
        return sweep(grid, **options)


def _family_shapes(family: str, make: Any, target: float, workload: dict[str, Any]
                   ) -> list[Shape]:
    """Valid shapes of one family within :data:`_SIZE_MATCH` of each of :data:`SIZE_STEPS`
    times ``target`` non-embedding parameters: the narrowest, middle and widest aspect."""
    shapes: list[Shape] = []
    for step in SIZE_STEPS:
        rows = _quiet_sweep(make(step * target, tolerance=_SIZE_MATCH, **workload))
        if len(rows) == 0:
            continue
        by_aspect = np.argsort(rows["aspect_ratio"], kind="stable")
        picks = sorted({by_aspect[0], by_aspect[len(by_aspect) // 2], by_aspect[-1]})
        shapes.extend(Shape(family, int(rows["d_model"][i]), int(rows["n_layers"][i]),
                            int(rows["head_dim"][i]), int(rows["d_ff"][i]),
                            float(rows["params_non_embedding"][i])) for i in picks)
    return shapes


def propose_shapes(target: float, seq_len: int, *, moe: bool = False) -> list[Shape]:
    """Dense shapes of every family around ``target`` parameters, then (``moe``) routed
    variants of the standard shapes nearest to it; each shape once (the first family to
    propose it)."""
    workload = dict(seq_len=seq_len, batch=1)
    seen: set[tuple[int, int, int]] = set()
    shapes: list[Shape] = []
    for family, make in _FAMILY_GRIDS:
        for shape in _family_shapes(family, make, target, workload):
            key = (shape.d_model, shape.n_layers, shape.head_dim)
            if key not in seen:
                seen.add(key)
                shapes.append(shape)
    standard = [s for s in shapes if s.family == "standard"]
    bases = {min(standard, key=lambda s: abs(math.log(s.params / (size * target))))
             for size in MOE_BASE_SIZES} if moe and standard else set()
    for base in sorted(bases, key=lambda s: s.params):
        shapes.extend(Shape("moe", base.d_model, base.n_layers, base.head_dim, base.d_ff,
                            base.params, n_experts=experts, top_k=k)
                      for experts in MOE_EXPERTS for k in MOE_TOP_K)
    return shapes


def _divisors_up_to(n: int, limit: int) -> list[int]:
    return [d for d in range(1, min(n, limit) + 1) if n % d == 0]


def layout_grid(shapes: Sequence[Shape], *, gpus: int, devices_per_node: int,
                global_batch: int, seq_len: int, **options: Any) -> Grid:
    """Every shape on every layout of ``gpus`` devices: tensor parallel within a node,
    pipeline, expert parallel for routed shapes, data parallel over the rest."""
    expert = sorted({1, *(s.n_experts for s in shapes if s.n_experts > 1)})
    return Grid(shapes=[s.axes() for s in shapes],
                tp=_divisors_up_to(gpus, devices_per_node),
                pp=[p for p in PIPELINE if gpus % p == 0],
                ep=[e for e in expert if gpus % e == 0],
                zero=list(ZERO), recompute=list(RECOMPUTE), batch=list(MICRO_BATCH),
                n_gpus=gpus, global_batch=global_batch, seq_len=seq_len, **options)


def sweep_layouts(grid: Grid) -> SweepResult:
    """The grid's points that fit in memory (the core drops the rest)."""
    return _quiet_sweep(grid, feasible=True)
