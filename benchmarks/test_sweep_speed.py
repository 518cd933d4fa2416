"""Speed of the grid engine, measured against this machine's own memory-write bandwidth.

Run the timings with ``pytest benchmarks/test_sweep_speed.py --benchmark-only``; CI runs
every benchmark once with ``--benchmark-disable`` to keep the assertions. Figures go into
``benchmark.extra_info``: configurations/s (grid points, valid rows), and the sweep's
write rate as a fraction of the time NumPy takes to write the same bytes into fresh
memory, measured in the same test.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

import scalingperf as sp

# A typical search: shapes x GQA x sequence x micro-batch x recomputation x layouts of a
# fixed GPU count, with a fixed global batch (many points are invalid: they are skipped).
SEARCH = dict(d_model=range(1024, 8193, 256), n_layers=range(8, 97, 4), head_dim=128,
              gqa_group=[1, 4, 8], ffn="swiglu", position="rotary", norm="rmsnorm",
              vocab_size=32000, max_position_embeddings=8192, seq_len=[2048, 4096, 8192],
              batch=[1, 2, 4], recompute=["none", "selective", "full"], tp=[1, 2, 4, 8],
              pp=[1, 2, 4], zero=[0, 1], n_gpus=256, global_batch=1024)
# Shapes only: every point a new architecture.
SHAPES = dict(d_model=range(512, 32769, 64), n_layers=range(4, 257), head_dim=128,
              ffn="swiglu", vocab_size=32000, max_position_embeddings=4096, seq_len=4096,
              batch=1)


def _median(benchmark: Any) -> float | None:
    return None if benchmark.stats is None else float(benchmark.stats.stats.median)


def _fresh_write_seconds(nbytes: int, repeats: int = 3) -> float:
    """Best time to write ``nbytes`` into fresh memory, as the sweep's output columns are
    written (first touch included)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = np.empty(max(1, nbytes // 8))
        out.fill(1.0)
        best = min(best, time.perf_counter() - start)
        del out
    return best


@pytest.mark.benchmark(group="bandwidth")
def test_memory_write_bandwidth(benchmark: Any) -> None:
    """Writing fresh memory, as the sweep's output columns are: first touch included."""
    n = 1 << 24  # 128 MB of float64

    def write() -> np.ndarray:
        out = np.empty(n)
        out.fill(1.0)
        return out

    result = benchmark(write)
    assert result[-1] == 1.0
    seconds = _median(benchmark)
    if seconds is not None:
        benchmark.extra_info["write_bytes_per_s"] = n * 8 / seconds


def _written_bytes(result: sp.SweepResult) -> int:
    """Bytes the core wrote: the index and the columns it filled (the configuration
    columns are decoded later, on first use)."""
    return int(result.index.nbytes + sum(v.nbytes for v in result._columns.values()))


@pytest.mark.benchmark(group="sweep")
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", ["search", "shapes"])
def test_sweep_full_columns(benchmark: Any, name: str, threads: int) -> None:
    grid = sp.Grid(**(SEARCH if name == "search" else SHAPES))
    result = benchmark.pedantic(sp.sweep, args=(grid,), kwargs={"threads": threads},
                                rounds=5, iterations=1)
    written = _written_bytes(result)
    assert len(result) > 10_000
    assert np.all(result["mfu"] > 0)
    assert np.all(result["mfu"] < 1)
    seconds = _median(benchmark)
    if seconds is not None:
        benchmark.extra_info["points_per_s"] = len(grid) / seconds
        benchmark.extra_info["rows_per_s"] = len(result) / seconds
        benchmark.extra_info["written_bytes_per_s"] = written / seconds
        # The same bytes written into fresh memory by NumPy, measured now: how close the
        # sweep comes to the machine's write limit.
        benchmark.extra_info["fraction_of_write_bandwidth"] = (
            _fresh_write_seconds(written) / seconds)


@pytest.mark.benchmark(group="sweep")
def test_sweep_all_columns_decoded(benchmark: Any) -> None:
    """The sweep plus every configuration column decoded: the whole table in memory."""
    grid = sp.Grid(**SEARCH)

    def whole_table() -> dict[str, np.ndarray]:
        return sp.sweep(grid).to_dict()

    table = benchmark.pedantic(whole_table, rounds=5, iterations=1)
    assert len(table) == len(sp.sweep_columns())
    assert np.all(table["tp"] * table["pp"] * table["dp"] == 256)
    seconds = _median(benchmark)
    if seconds is not None:
        benchmark.extra_info["points_per_s"] = len(grid) / seconds
        benchmark.extra_info["rows_per_s"] = len(table["mfu"]) / seconds


@pytest.mark.benchmark(group="sweep-reduce")
@pytest.mark.parametrize("reduction", ["top", "pareto"])
def test_sweep_streaming(benchmark: Any, reduction: str) -> None:
    grid = sp.Grid(**SEARCH)
    options = {"top": 10, "by": "-mfu"} if reduction == "top" else {
        "pareto": ("step_time", "memory_per_gpu")}
    result = benchmark.pedantic(sp.sweep, args=(grid,), kwargs=options, rounds=5, iterations=1)
    if reduction == "top":
        assert len(result) == 10
        assert np.all(np.diff(result["mfu"]) <= 0)  # best first
    else:
        assert len(result) >= 1
        # On a front no two rows share x (the one with the lower y dominates).
        assert np.unique(result["step_time"]).size == len(result)
    seconds = _median(benchmark)
    if seconds is not None:
        benchmark.extra_info["points_per_s"] = len(grid) / seconds


def test_streaming_equals_materialised() -> None:
    grid = sp.Grid(**{**SEARCH, "d_model": range(1024, 4097, 512)})
    full = sp.sweep(grid)
    assert np.array_equal(full.top(10, by="-mfu").index, sp.sweep(grid, top=10, by="-mfu").index)
