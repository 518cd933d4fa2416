"""Grids and sweeps: rows equal estimate(), reductions equal their full-table versions,
determinism across thread counts, constraints, presets, and bad grids."""

from __future__ import annotations

import copy
import math
import multiprocessing
import os
import pickle
import signal
import threading
import warnings

import numpy as np
import pytest
from boundary import result_or_field_error
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp

LLAMA_LIKE = dict(ffn="swiglu", position="rotary", norm="rmsnorm", vocab_size=32000,
                  max_position_embeddings=8192)


def dense_grid(**changes):
    spec = dict(d_model=range(1024, 4097, 512), n_layers=[8, 12, 16, 24], head_dim=128,
                gqa_group=[1, 4], seq_len=[2048, 4096], batch=[1, 2],
                recompute=["none", "full"], tp=[1, 2, 4], n_gpus=16, global_batch=64,
                **LLAMA_LIKE)
    spec.update(changes)
    return sp.Grid(**spec)


def moe_grid():
    return sp.Grid(d_model=[1024, 2048], n_layers=[4, 8], n_heads=16, ffn_ratio=[2.0, 8 / 3],
                   ffn_multiple=256, n_experts=[1, 8, 16], top_k=[1, 2], seq_len=2048,
                   batch=1, dp=8, ep=[1, 2, 8], zero=[0, 1], **LLAMA_LIKE)


def _same_as_estimate(result, rows):
    for i in rows:
        report = result.report(i)
        assert report.params.total == result["params_total"][i]
        assert report.flops.model == result["flops_model"][i]
        assert report.memory.per_gpu == result["memory_per_gpu"][i]
        assert report.time.step == result["step_time"][i]
        assert report.mfu == result["mfu"][i]
        assert report.tp_efficiency == result["tp_efficiency"][i]
        assert report.pipeline_bubble == result["pipeline_bubble"][i]


@pytest.mark.parametrize("make", [dense_grid, moe_grid])
def test_rows_equal_estimate(make):
    result = sp.sweep(make())
    assert len(result) > 20
    _same_as_estimate(result, np.linspace(0, len(result) - 1, 15).astype(int))


def test_derived_dimensions_and_layout():
    result = sp.sweep(dense_grid())
    assert np.all(result["n_heads"] * 128 == result["d_model"])
    grouped = result["n_heads"] // result["n_kv_heads"]
    assert set(np.unique(grouped)) == {1, 4}
    assert np.all(result["tp"] * result["pp"] * result["dp"] == 16)
    assert np.all(result["batch"] * result["dp"] * result["microbatches"] == 64)
    moe = sp.sweep(moe_grid())
    # 2 d and 8/3 d rounded up to a multiple of 256, for d = 1024 and 2048.
    assert set(np.unique(moe["d_ff"])) == {2048, 2816, 4096, 5632}
    assert np.all(moe["top_k"] <= np.maximum(moe["n_experts"], 1))
    assert np.all(moe["ep"] <= np.maximum(moe["n_experts"], 1))


def _moe_depths():
    # Every other layer routed after one dense layer: MoE layers are not a fixed share of
    # the depth (2 of 4, 2 of 5, 3 of 7). top_k=6 > 4 experts makes models invalid.
    return sp.Grid(d_model=[512, 768], n_layers=[4, 5, 7], n_heads=8, n_experts=[4, 8],
                   top_k=[1, 6], moe_every=2, first_dense_layers=1, seq_len=256, batch=1,
                   dp=4, ep=[1, 2, 4], **LLAMA_LIKE)


@pytest.mark.parametrize("make", ["dense", "moe"])
def test_every_row_equals_its_single_point_evaluation(make):
    # Depth is an outer axis with model, workload and layout axes inside it, and invalid
    # models between valid ones (gqa_group=3 divides only 12 heads; pp=2 does not split 3
    # layers): a sweep reuses a shape across depths, a single point never does.
    grid = sp.Grid(d_model=[1024, 1536, 2048], n_layers=[2, 3, 4, 6], head_dim=128,
                   gqa_group=[1, 3, 4], seq_len=[256, 512], batch=[1, 2],
                   recompute=["none", "full"], tp=[1, 2], pp=[1, 2], **LLAMA_LIKE,
                   ) if make == "dense" else _moe_depths()
    result = sp.sweep(grid)
    core = grid._build()
    assert 40 < len(result) < len(grid)
    table = np.column_stack([result._raw(c).astype(np.float64) for c in sp.sweep_columns()])
    for j, i in enumerate(result.index):
        point = sp._core.grid_point(core, int(i), grid.hardware._core, grid.efficiency)
        np.testing.assert_array_equal(table[j], np.asarray(point), err_msg=f"row {i}")


def test_grids_pickle_and_copy_as_their_spec():
    grid = dense_grid(compute=1e22)
    for copied in (pickle.loads(pickle.dumps(grid)), copy.deepcopy(grid), copy.copy(grid)):
        assert copied == grid
        assert len(copied) == len(grid)
        assert np.array_equal(sp.sweep(copied, top=5, by="-mfu").index,
                              sp.sweep(grid, top=5, by="-mfu").index)


def test_invalid_points_are_skipped_not_errors():
    grid = sp.Grid(d_model=[1000, 1024], n_layers=[6, 7], n_heads=16, seq_len=1024, batch=1,
                   pp=[1, 2])
    result = sp.sweep(grid)
    # 1000 is not a multiple of 16 heads; 7 layers do not split over 2 stages.
    assert set(zip(result["d_model"], result["n_layers"], result["pp"], strict=True)) == {
        (1024, 6, 1), (1024, 6, 2), (1024, 7, 1)}
    assert len(grid) == 8


def test_threads_do_not_change_results():
    grid = dense_grid()
    one = sp.sweep(grid, threads=1)
    two = sp.sweep(grid, threads=2)
    assert np.array_equal(one.index, two.index)
    for column in sp.sweep_columns():
        assert np.array_equal(one[column], two[column])
    big = sp.Grid(d_model=range(512, 8193, 64), n_layers=range(2, 97), head_dim=64,
                  seq_len=1024, batch=1, tp=[1, 2, 4], **LLAMA_LIKE)
    assert len(big) > 20_000
    a, b = sp.sweep(big, threads=1, chunk=5000), sp.sweep(big, threads=2)
    assert np.array_equal(a.index, b.index)
    assert np.array_equal(a["step_time"], b["step_time"])


def test_layout_axes_larger_than_one_block():
    # pp x dp x zero x microbatches = 262,144 layouts: more than the core checks as one
    # block (65,536), so pp and dp become outer axes while zero and microbatches stay inner.
    # A workload axis between the model and the layouts: each of its points has its own.
    grid = sp.Grid(d_model=256, n_layers=[2, 4], n_heads=4, seq_len=[128, 256], batch=1,
                   pp=[1, 2], dp=range(1, 65), zero=[0, 1], microbatches=range(1, 1025))
    one = sp.sweep(grid, threads=1)
    # Every layout is valid except ZeRO without data parallelism (zero=1, dp=1).
    assert len(one) == 2 * 2 * 2 * 1024 * (64 + 63)
    two = sp.sweep(grid, threads=2, chunk=99_991)
    assert np.array_equal(one.index, two.index)
    assert np.array_equal(one["step_time"], two["step_time"])
    assert np.array_equal(one["dp"] * one["microbatches"] * one["pp"],
                          two["dp"] * two["microbatches"] * two["pp"])
    _same_as_estimate(one, np.linspace(0, len(one) - 1, 9).astype(int))
    skipped = np.setdiff1d(np.arange(len(grid)), one.index)
    assert all(grid.why_invalid(int(i)) for i in skipped[:: max(1, len(skipped) // 5)])


@pytest.mark.parametrize("by", ["step_time", "-mfu", "memory_per_gpu", "-tokens_per_s",
                                "-tp_efficiency", "-hfu", "mfu", "-step_time"])
def test_streaming_top_equals_full_table(by):
    grid = dense_grid()
    full = sp.sweep(grid).top(7, by=by)
    streamed = sp.sweep(grid, top=7, by=by, threads=2)
    assert np.array_equal(full.index, streamed.index)
    # The streamed rows come from single-point evaluations, the full table's configuration
    # columns from decoding its indices: every column agrees, integers as int64.
    for column in sp.sweep_columns():
        assert np.array_equal(full[column], streamed[column]), column
        assert full[column].dtype == streamed[column].dtype, column


def test_configuration_columns_decode_from_the_index():
    grid = dense_grid()
    result = sp.sweep(grid)
    rows = np.linspace(0, len(result) - 1, 25).astype(int)
    for i in rows:
        point = result.row(int(i))
        assert result.architecture(int(i)).d_model == point["d_model"]
        assert grid.why_invalid(int(result.index[i])) is None
    # A subset decodes its own rows. The cost columns are the core's own int64 and float64
    # views of one buffer, handed over without a copy.
    subset = result.where(result["tp"] == 4)
    assert np.all(subset["tp"] == 4)
    assert subset["params_total"].dtype == np.int64
    assert result["params_total"].dtype == np.int64
    assert result["mfu"].dtype == np.float64
    assert result["params_total"].base is not None
    assert result["params_total"].base is result["mfu"].base is result.index.base
    invalid = next(i for i in range(len(grid)) if grid.why_invalid(i))
    with pytest.raises(ValueError, match="not a valid point"):
        sp._core.decode_configurations(grid._build(), np.array([invalid]))
    with pytest.raises(ValueError, match="outside the grid"):
        sp._core.decode_configurations(grid._build(), np.array([len(grid)]))


@pytest.mark.parametrize(("x", "y"), [("step_time", "memory_per_gpu"), ("-mfu", "params_total"),
                                      ("train_days", "params_total")])
def test_streaming_pareto_equals_full_table(x, y):
    grid = dense_grid(compute=1e22)
    full = sp.sweep(grid).pareto(x, y)
    streamed = sp.sweep(grid, pareto=(x, y), threads=2)
    assert np.array_equal(full.index, streamed.index)
    assert len(full) >= 2
    # No kept row is beaten on both columns by any row.
    everything = sp.sweep(grid)
    sign = {c: -1 if c.startswith("-") else 1 for c in (x, y)}
    xs, ys = (sign[c] * everything[c.lstrip("-")] for c in (x, y))
    for i in streamed.index:
        j = np.flatnonzero(everything.index == i)[0]
        assert not np.any((xs < xs[j]) & (ys < ys[j]))


@pytest.fixture(scope="module")
def pruning_grid():
    """Tens of thousands of rows where the pruning bounds are nearly tight: with many
    micro-batches the step bound leaves out only the optimizer's pass and, with data
    parallelism, the gradients of the embedding and head (and ZeRO 3's extra half), so an
    unsound bound would drop winners. With its full table."""
    grid = sp.Grid(d_model=range(1024, 4097, 512), n_layers=range(8, 49, 8), head_dim=128,
                   gqa_group=[1, 4], seq_len=[2048, 4096], batch=[1, 2],
                   recompute=["none", "selective", "full", "per_op"], tp=[1, 2, 4], pp=[1, 2],
                   n_gpus=16, zero=[0, 1, 3], microbatches=[8, 64], **LLAMA_LIKE)
    full = sp.sweep(grid)
    assert len(full) > 10_000
    return grid, full


@pytest.mark.parametrize("by", ["step_time", "-mfu", "-tokens_per_s", "-hfu", "memory_per_gpu",
                                "-memory_per_gpu"])
def test_pruned_top_k_equals_full_table_on_a_large_grid(pruning_grid, by):
    # Layouts whose key bound cannot beat a thread's k-th row are skipped (threads take
    # ranges in any order), and the answer must not change (where= bounds included).
    grid, full = pruning_grid
    for where in (None, {"memory_per_gpu": (None, 60e9)}):
        expected = full if where is None else full.where(full["memory_per_gpu"] <= 60e9)
        for k in (1, 25):
            streamed = sp.sweep(grid, top=k, by=by, where=where, threads=2)
            assert np.array_equal(streamed.index, expected.top(k, by=by).index)


@pytest.mark.parametrize(("x", "y"), [("step_time", "memory_per_gpu"),
                                      ("memory_per_gpu", "-mfu"),
                                      ("-tokens_per_s", "-memory_per_gpu"),
                                      ("-hfu", "step_time")])
def test_pruned_pareto_equals_full_table_on_a_large_grid(pruning_grid, x, y):
    # Layouts whose key bounds a point of the thread's front already dominates are skipped,
    # whatever order the threads take their ranges in; the front must not change.
    grid, full = pruning_grid
    expected = full.pareto(x, y).index
    assert len(expected) >= 2
    for threads in (1, 2):
        assert np.array_equal(sp.sweep(grid, pareto=(x, y), threads=threads).index, expected)


def test_pruned_pareto_with_a_tight_memory_floor():
    # A small vocabulary and deep models: the embedding, head and logits are a sliver of
    # memory, so the floor a Pareto front checks first (the layers' states and saved
    # activations) comes within a few percent of memory per GPU; one too high drops points.
    grid = sp.Grid(d_model=range(512, 2049, 256), n_layers=range(16, 65, 16), head_dim=64,
                   seq_len=[512, 1024], batch=[1, 2, 4], recompute=["none", "selective"],
                   tp=[1, 2, 4], n_gpus=8, zero=[0, 1, 2, 3], microbatches=[4, 32],
                   ffn="swiglu", position="rotary", norm="rmsnorm", vocab_size=256,
                   max_position_embeddings=1024)
    full = sp.sweep(grid)
    for x in ("step_time", "-mfu", "-tokens_per_s"):
        expected = full.pareto(x, "memory_per_gpu").index
        assert len(expected) >= 2
        streamed = sp.sweep(grid, pareto=(x, "memory_per_gpu"), threads=2)
        assert np.array_equal(streamed.index, expected), x


def _sweep_index(grid):
    return sp.sweep(grid, threads=2).index


def test_sweeps_from_python_threads_at_once_and_in_a_forked_child():
    # The core keeps its worker threads between sweeps: sweeps from several Python threads
    # at once each get their own, and a child forked after a sweep (whose parent's threads
    # do not exist in it) starts new ones.
    grid = dense_grid(d_model=range(1024, 8193, 256))
    assert len(grid) >= 4096  # large enough to run on threads
    expected = sp.sweep(grid, threads=1).index
    results = [None] * 4

    def run(i):
        results[i] = sp.sweep(grid, threads=2, top=None).index

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(r, expected) for r in results)
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        child = pool.apply_async(_sweep_index, (grid,)).get(timeout=60)
    assert np.array_equal(child, expected)


def test_streaming_reads_tp_efficiency_only_when_asked():
    # A reduction that neither sorts nor bounds by tp_efficiency skips its tp = 1 baseline;
    # one that bounds by it must still compute it.
    grid = dense_grid()
    full = sp.sweep(grid)
    kept = full.where(full["tp_efficiency"] >= 0.9)
    assert 0 < len(kept) < len(full)
    bounded = sp.sweep(grid, where={"tp_efficiency": (0.9, None)}, top=5, by="-mfu")
    assert np.array_equal(bounded.index, kept.top(5, by="-mfu").index)
    front = sp.sweep(grid, pareto=("-tp_efficiency", "step_time"))
    assert np.array_equal(front.index, full.pareto("-tp_efficiency", "step_time").index)
    assert np.all(np.isfinite(sp.sweep(grid, top=5, by="step_time")["tp_efficiency"]))


def test_where_bounds_equal_filtering():
    grid = dense_grid()
    full = sp.sweep(grid)
    bounded = sp.sweep(grid, where={"memory_per_gpu": (None, 40e9), "mfu": (0.3, None)})
    mask = (full["memory_per_gpu"] <= 40e9) & (full["mfu"] >= 0.3)
    assert np.array_equal(full.index[mask], bounded.index)
    with_limit = sp.sweep(dense_grid(max_memory="40GB"))
    assert np.array_equal(full.index[full["memory_per_gpu"] <= 40e9], with_limit.index)


def test_chunks_do_not_change_results():
    grid = dense_grid()
    whole = sp.sweep(grid)
    pieces = sp.sweep(grid, chunk=37)
    assert np.array_equal(whole.index, pieces.index)
    assert np.array_equal(whole["flops_per_step"], pieces["flops_per_step"])


def test_conversions_are_zero_copy():
    result = sp.sweep(dense_grid())
    frame = result.to_pandas()
    assert len(frame) == len(result)
    table = result.to_arrow()
    assert table.num_rows == len(result)
    column = table.column("step_time").to_numpy()
    assert np.shares_memory(column, result["step_time"])
    arch = result.architecture(3)
    assert arch.d_model == result["d_model"][3]
    assert arch.n_kv_heads == result["n_kv_heads"][3]


def test_progress_and_interrupt():
    # About 29 million points: the better part of a second of work even with pruning (a
    # 3-million-point grid now ends before the first progress report, 50 ms in).
    grid = sp.Grid(d_model=range(256, 16385, 64), n_layers=range(2, 200), head_dim=64,
                   seq_len=[512, 1024, 2048, 4096], batch=[1, 2, 4, 8], tp=[1, 2, 4, 8],
                   pp=[1, 2, 4], recompute=["none", "selective", "full"], **LLAMA_LIKE)
    calls = []

    def stop(done, total):
        calls.append((done, total))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sp.sweep(grid, top=5, progress=stop)
    assert calls[0][0] < calls[0][1] == len(grid)

    # A real Ctrl-C (SIGINT) while the core is busy.
    def sweep_repeatedly():
        for _ in range(100):  # long enough for the signal to arrive mid-sweep
            sp.sweep(grid, top=5)

    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sweep_repeatedly()
    finally:
        timer.cancel()

    seen = []
    sp.sweep(dense_grid(), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(dense_grid()), len(dense_grid()))


def test_presets():
    narrow = sp.sweep(sp.Grid.deep_narrow(1e9, seq_len=2048, batch=1))
    assert len(narrow) > 5
    assert np.all(np.abs(narrow["params_non_embedding"] / 1e9 - 1) <= 0.1)
    assert np.all(narrow["aspect_ratio"] <= 48)
    uniform = sp.sweep(sp.Grid.uniform(1e9, seq_len=2048, batch=1))
    assert np.all(uniform["aspect_ratio"] >= 64)
    assert np.median(uniform["n_layers"]) < np.median(narrow["n_layers"])
    kaplan = sp.sweep(sp.Grid.kaplan_aspect(1e8, seq_len=1024, batch=1))
    assert kaplan["aspect_ratio"].max() / kaplan["aspect_ratio"].min() > 20
    moe = sp.sweep(sp.Grid.moe_experts(sp.Architecture.preset("gpt2-small"), seq_len=1024,
                                       batch=8))
    assert set(np.unique(moe["n_experts"])) == {1, 2, 4, 8, 16, 32, 64, 128, 256, 512}
    iso = sp.sweep(sp.Grid.isoflop(1e21, min_params=1e8, max_params=1e9, seq_len=2048,
                                   batch=1))
    per_token = iso["flops_per_step"] / (iso["batch"] * iso["seq_len"] * iso["microbatches"]
                                         * iso["dp"])
    assert np.allclose(iso["tokens_at_budget"] * per_token, 1e21, rtol=1e-12)
    assert iso["params_non_embedding"].min() >= 1e8
    assert iso["params_non_embedding"].max() <= 1e9


@pytest.mark.parametrize(("make", "message"), [
    (lambda: sp.Grid(d_model=range(1, 2**20), n_layers=range(1, 2**16), head_dim=1,
                     vocab_size=range(1, 2**21), seq_len=range(1, 2**21), batch=1),
     "too large"),
    (lambda: sp.sweep(sp.Grid(d_model=[512], n_layers=[2], n_heads=8)), "batch is missing"),
    (lambda: sp.sweep(sp.Grid(d_model=[512], n_layers=[2], n_heads=8), batch=1),
     "seq_len is missing"),
    (lambda: sp.Grid(d_model=range(1, 10**9 + 1), n_layers=[2], n_heads=8), "at most"),
    (lambda: sp.Grid(d_model=[2**21], n_layers=[2], n_heads=8), "d_model=2097152"),
    (lambda: sp.Grid(d_model=[9.3e18], n_layers=[2], n_heads=8), "d_model=9.3"),
    (lambda: sp.Grid(d_model=[-1024], n_layers=[2], n_heads=8),
     "d_model=-1024 is invalid: axis values must be whole numbers in [1, "),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, batch=[-1, 0]), "batch=-1"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, batch=0), "batch=0"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, tp=[0]), "tp=0"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, tp=0), "tp=0"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, microbatches=0),
     "microbatches=0"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, microbatches=[]),
     "microbatches=[]"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, max_memory=-1), "max_memory=-1"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, max_memory="nanGB"),
     "max_memory='nanGB'"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, where={"mfu": (0.9, 0.1)}),
     "lower end is above"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, where="mfu"), "where='mfu'"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, where=[("mfu", 0, 1)]),
     "where="),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, params=()), "params=()"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, ffn_ratio=[-1, 0]),
     "ffn_ratio=-1"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, ffn_ratio=-1.0), "ffn_ratio=-1"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, gqa_group=0), "gqa_group=0"),
    (lambda: sp.Grid(d_model=[512, 1024], n_layers=[2], n_heads=8,
                     zip=[("d_model", "n_layers")]), "as many values"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, tp=[1],
                     zip=[("d_model", "tp")]), "zip model axes with model axes"),
    (lambda: sp.Grid(shapes=[{"d_model": 512, "n_layers": 2}, {"d_model": 1024}],
                     n_heads=8), "same fields"),
    (lambda: sp.Grid(d_model=[512], n_layers=[4], n_heads=8, capacity_factor=math.nan),
     "capacity_factor=nan"),
    (lambda: sp.Grid(d_model=[512], n_layers=[4], n_heads=8, dense_layers=-1), "dense_layers=-1"),
    (lambda: sp.Grid(d_model=[512], n_layers=[4], n_heads=8, interleave=-1), "interleave=-1"),
    (lambda: sp.Grid(d_model=[512], n_layers=[4], n_heads=8, qkv_bias=[True, False]),
     "qkv_bias=[True, False]"),
    (lambda: sp.Grid(d_model=[512], n_layers=[4], n_heads=8, moe_every=0), "moe_every=0"),
    (lambda: sp.Grid(d_model=[512], n_layers=[4], n_heads=8, params=5), "params=5"),
    (lambda: sp.Grid(d_model=[512], n_layers=[4], n_heads=8, efficiency=""), "efficiency=''"),
    (lambda: sp.Grid(d_model=[512], n_layers=[4], n_heads=8, hardware="Z80"), "hardware="),
    (lambda: sp.Grid(n_layers=[2], n_heads=8, seq_len=8, batch=1), "d_model is missing"),
    (lambda: sp.Grid(d_model=[], n_layers=[2], n_heads=8, seq_len=8, batch=1), "d_model=[]"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, seq_len=8, batch=1,
                     ffn=["swish"]), "ffn='swish'"),
    (lambda: sp.Grid(d_model=[512], n_layers=[2], n_heads=8, seq_len=8, batch=1, colour=3),
     "colour=3"),
    (lambda: sp.Grid(d_model=[512.5], n_layers=[2], n_heads=8, seq_len=8, batch=1), "d_model="),
])
def test_bad_grids(make, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make()


def test_bad_sweeps():
    grid = dense_grid()
    with pytest.raises(ValueError, match="pareto=\\('mfu',\\)"):
        sp.sweep(grid, pareto=("mfu",))
    with pytest.raises(ValueError, match="pareto=''"):
        sp.sweep(grid, pareto="")
    with pytest.raises(ValueError, match="progress=5"):
        sp.sweep(grid, progress=5)
    with pytest.raises(ValueError, match="top=9223372036854775807"):
        sp.sweep(grid, top=2**63 - 1)
    with pytest.raises(ValueError, match="k=-1"):
        sp.sweep(grid).top(-1)
    with pytest.raises(ValueError, match="mask is invalid"):
        sp.sweep(grid).where([True])
    with pytest.raises(ValueError, match="exclusive"):
        sp.sweep(grid, top=3, pareto=("step_time", "mfu"))
    with pytest.raises(ValueError, match="column='speed'"):
        sp.sweep(grid, top=3, by="speed")
    with pytest.raises(ValueError, match="top=0"):
        sp.sweep(grid, top=0)
    huge = sp.Grid(d_model=range(64, 2**20, 64), n_layers=range(1, 2**14), head_dim=64,
                   seq_len=list(range(1, 64)), batch=1)
    with pytest.raises(ValueError, match="pass top=, pareto= or where="):
        sp.sweep(huge)
    assert math.prod(len(v) for v in huge.axes.values()) == len(huge)


def test_predicted_loss_columns():
    from scalingperf import laws

    grid = sp.Grid.isoflop(1e21, min_params=1e8, max_params=1e9, seq_len=2048, batch=1)
    chinchilla = laws.Chinchilla2022(approach=3, fitted_range={})
    result = sp.sweep(grid, law=chinchilla)
    assert np.allclose(result["loss"], chinchilla.loss(result["params_total"].astype(float),
                                                       result["tokens_at_budget"]), rtol=0)
    kaplan = laws.Kaplan2020(fitted_range={})
    with_kaplan = result.with_loss(kaplan, tokens=1e11, name="kaplan_loss")
    assert np.array_equal(with_kaplan["kaplan_loss"],
                          kaplan.loss(result["params_non_embedding"].astype(float), 1e11))
    assert "loss" in with_kaplan.columns
    assert "kaplan_loss" in with_kaplan.columns
    best = result.top(1, by="loss")
    assert best["loss"][0] == result["loss"].min()
    with pytest.raises(ValueError, match="tokens is missing"):
        sp.sweep(dense_grid()).with_loss(chinchilla)
    with pytest.raises(ValueError, match="law='gpt'"):
        result.with_loss("gpt")


def test_moe_rows_go_through_the_routed_law():
    from scalingperf import laws

    moe = sp.sweep(moe_grid())
    chinchilla = laws.Chinchilla2022(approach=3, fitted_range={})
    with pytest.raises(ValueError, match="routed is missing"):
        moe.with_loss(chinchilla, tokens=1e11)
    clark = laws.Clark2022(fitted_range={})
    result = moe.with_loss(chinchilla, tokens=1e11, routed=clark)
    routed = moe["n_experts"] > 1
    active = (moe["params_active"] - moe["params_embedding"])[routed].astype(float)
    assert np.array_equal(result["loss"][routed],
                          clark.loss(active, moe["n_experts"][routed].astype(float)))
    assert np.array_equal(result["loss"][~routed],
                          chinchilla.loss(moe["params_total"][~routed].astype(float), 1e11))


axis_values = st.lists(st.integers(-4, 5000), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(d_model=axis_values, n_layers=st.lists(st.integers(-2, 64), min_size=1, max_size=3),
       n_heads=st.lists(st.integers(-1, 64), min_size=1, max_size=3),
       tp=st.lists(st.integers(-1, 16), min_size=1, max_size=3),
       seq_len=st.lists(st.integers(-1, 5000), min_size=1, max_size=2))
def test_any_grid_is_an_error_or_rows_that_equal_estimate(d_model, n_layers, n_heads, tp,
                                                          seq_len):
    grid = result_or_field_error(
        lambda: sp.Grid(d_model=d_model, n_layers=n_layers, n_heads=n_heads, tp=tp,
                        seq_len=seq_len, batch=1, **LLAMA_LIKE))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sp.SweepWarning)
        result = None if grid is None else result_or_field_error(lambda: sp.sweep(grid))
    if grid is None or result is None:
        return
    # A sweep that keeps nothing says so, with the reasons.
    assert (len(result) == 0) == any(w.category is sp.SweepWarning for w in caught)
    assert len(result) <= len(grid)
    for i in range(min(len(result), 3)):
        report = result.report(i)
        assert report.time.step == result["step_time"][i]
        assert report.memory.per_gpu == result["memory_per_gpu"][i]
    assert np.all(np.isfinite(result["step_time"]))
    assert np.all(result["memory_per_gpu"] > 0)
