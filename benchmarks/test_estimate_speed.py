"""Speed of scalingperf: one ``estimate()`` call, its per-layer table, and a sweep
over many shapes against a pure-NumPy baseline of the same formulas.

Run the timings (from the repository root; ``testpaths`` only names ``tests``, so pass
the directory)::

    pytest benchmarks --benchmark-only

CI runs ``pytest benchmarks --benchmark-disable``: every benchmarked function then runs
once, untimed, so the correctness checks below (known parameter counts, the NumPy
baseline equal to the core, one thread equal to all threads) still run, in a few seconds.

No test asserts on time: this runs on small, noisy machines. The measured figures go
into ``benchmark.extra_info`` (``median_us``, ``configurations_per_s``), which
``--benchmark-json`` keeps. The target for one ``estimate()`` call is a median of at
most 5 microseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import scalingperf
from scalingperf import Architecture

BATCH = 8
SEQ_LEN = 4096
ESTIMATE_TARGET_US = 5.0

# Published totals: Llama 3 8B has 8,030,261,248 parameters (its Hugging Face card);
# Mixtral 8x7B's 46.7 B total and 12.9 B active follow from Jiang et al. 2024, Table 1.
PRESETS = {
    "llama-3-8b": {"total": 8_030_261_248, "active": 8_030_261_248},
    "mixtral-8x7b": {"total": 46_702_792_704, "active": 12_879_925_248},
}

COLUMNS = ("params_total", "params_active", "flops_forward", "flops_model", "flops_hardware")
PARAM_COLUMNS = ("params_total", "params_active")
FLOP_RTOL = 1e-12


def _median_s(benchmark: Any) -> float | None:
    """The measured median in seconds, or None when benchmarks are disabled."""
    if benchmark.stats is None:
        return None
    return float(benchmark.stats.stats.median)


# --------------------------------------------------------------------------------------
# 1. One estimate() call from Python, totals only.
# --------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="estimate", warmup=True)
@pytest.mark.parametrize("name", list(PRESETS))
def test_estimate_totals(benchmark: Any, name: str) -> None:
    arch = Architecture.preset(name)
    report = benchmark(scalingperf.estimate, arch, batch=BATCH, seq_len=SEQ_LEN)

    expected = PRESETS[name]
    assert report.params.total == expected["total"]
    assert report.params.active == expected["active"]
    assert report.flops.model > 0
    assert report.flops.model == report.flops.forward + report.flops.backward
    assert report.tokens == BATCH * SEQ_LEN
    if not arch.is_moe:
        # The same formulas, written independently in NumPy below.
        one = np.array([0], dtype=np.int64)
        ref = numpy_dense_totals(arch, one + arch.d_model, one + arch.n_layers,
                                 one + arch.n_heads, one + arch.d_ff, BATCH, SEQ_LEN)
        assert report.params.total == ref["params_total"][0]
        np.testing.assert_allclose(report.flops.forward, ref["flops_forward"][0],
                                   rtol=FLOP_RTOL)
        np.testing.assert_allclose(report.flops.model, ref["flops_model"][0], rtol=FLOP_RTOL)

    median = _median_s(benchmark)
    benchmark.extra_info["target_median_us"] = ESTIMATE_TARGET_US
    if median is not None:
        benchmark.extra_info["median_us"] = median * 1e6
        benchmark.extra_info["meets_target"] = median * 1e6 <= ESTIMATE_TARGET_US


# --------------------------------------------------------------------------------------
# 2. The per-layer table of a fresh report.
# --------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="layers")
@pytest.mark.parametrize("name", list(PRESETS))
def test_estimate_layers(benchmark: Any, name: str) -> None:
    arch = Architecture.preset(name)

    def fresh_report() -> tuple[tuple[scalingperf.Report], dict[str, Any]]:
        # The table is cached on the report: each round needs a new one. Building it is
        # outside the timed call.
        return (scalingperf.estimate(arch, batch=BATCH, seq_len=SEQ_LEN),), {}

    def layers(report: scalingperf.Report) -> scalingperf.OpTable:
        return report.layers

    table = benchmark.pedantic(layers, setup=fresh_report, rounds=2000, warmup_rounds=50)

    report = scalingperf.estimate(arch, batch=BATCH, seq_len=SEQ_LEN)
    assert len(table) > 0
    assert table.total("params") == report.params.total
    np.testing.assert_allclose(table.total("flops_forward"), report.flops.forward,
                               rtol=FLOP_RTOL)

    median = _median_s(benchmark)
    benchmark.extra_info["rows"] = len(table)
    if median is not None:
        benchmark.extra_info["median_us"] = median * 1e6


# --------------------------------------------------------------------------------------
# 3. Many shapes: a sweep against a NumPy baseline of the same formulas.
# --------------------------------------------------------------------------------------


def numpy_dense_totals(base: Architecture, d_model: np.ndarray, n_layers: np.ndarray,
                       n_heads: np.ndarray, d_ff: np.ndarray, batch: int, seq_len: int,
                       recompute: str = "none") -> dict[str, np.ndarray]:
    """Parameters and matmul FLOPs of dense decoders, vectorised over shapes.

    Every field but the four columns comes from ``base`` (which must be dense and have an
    explicit ``head_dim`` and ``n_kv_heads``). The conventions are the core's: 2 FLOPs per
    multiply-add, backward twice the forward, attention over the full square.
    """
    if base.is_moe:
        msg = "the NumPy baseline covers dense architectures only"
        raise ValueError(msg)
    d = np.asarray(d_model, dtype=np.int64)
    n_l = np.asarray(n_layers, dtype=np.int64)
    h = np.asarray(n_heads, dtype=np.int64)
    f = np.asarray(d_ff, dtype=np.int64)
    kv, dh, vocab = base.n_kv_heads, base.head_dim, base.vocab_size
    matrices = 3 if base.ffn in ("swiglu", "geglu") else 2

    # Parameters, exactly, in 64-bit integers.
    norm = 2 * d if base.norm == "layernorm" else d
    qkv_width = (h + 2 * kv) * dh
    q_width = h * dh
    layer = norm + d * qkv_width + q_width * d + norm + matrices * d * f
    if base.qkv_bias:
        layer = layer + qkv_width
    if base.out_bias:
        layer = layer + d
    if base.mlp_bias:
        layer = layer + (matrices - 1) * f + d
    total = vocab * d + n_l * layer + norm
    if base.position == "learned":
        total = total + base.max_position_embeddings * d
    if not base.tie_embeddings:
        total = total + vocab * d

    # Matmul FLOPs, in doubles.
    b, s = float(batch), float(seq_len)
    tokens = b * s
    df, hf, ff, lf = (x.astype(np.float64) for x in (d, h, f, n_l))
    attention_core = 2 * (2 * b * hf * s * s * dh)       # Q K^T and softmax(.) V
    layer_forward = (2 * tokens * df * qkv_width.astype(np.float64)    # QKV projection
                     + attention_core
                     + 2 * tokens * q_width.astype(np.float64) * df    # output projection
                     + matrices * 2 * tokens * df * ff)                # up (gate) down
    forward = lf * layer_forward + 2 * tokens * df * vocab            # + LM head
    model = 3 * forward                                               # backward = 2 fwd
    if recompute == "none":
        hardware = model
    elif recompute == "selective":
        hardware = model + lf * attention_core
    elif recompute == "full":
        hardware = model + lf * layer_forward
    else:
        msg = f"recompute={recompute!r} is invalid"
        raise ValueError(msg)
    return {"params_total": total, "params_active": total, "flops_forward": forward,
            "flops_model": model, "flops_hardware": hardware}


def core_totals(base: Architecture, axes: dict[str, list[int]], recompute: str = "none",
                threads: int = 0) -> dict[str, np.ndarray]:
    """The core's answer for every shape of the grid: a sweep, one row per shape."""
    fixed = {k: v for k, v in base.to_dict().items()
             if k not in ("d_model", "n_layers", "n_heads", "d_ff", "d_ff_expert",
                          "d_ff_shared", "name")}
    grid = scalingperf.Grid(**fixed, d_model=axes["d_model"], n_layers=axes["n_layers"],
                            n_heads=axes["n_heads"],
                            ffn_ratio=[h / 2 for h in axes["d_ff_halves"]],
                            seq_len=SEQ_LEN, batch=BATCH, recompute=recompute)
    result = scalingperf.sweep(grid, threads=threads)
    assert len(result) == len(grid), "every shape of these grids is valid"
    return {c: result[c] for c in (*COLUMNS, "d_model", "n_layers", "n_heads", "d_ff")}


def baseline_totals(base: Architecture, shapes: dict[str, np.ndarray],
                    recompute: str = "none") -> dict[str, np.ndarray]:
    return numpy_dense_totals(base, shapes["d_model"], shapes["n_layers"], shapes["n_heads"],
                              shapes["d_ff"], BATCH, SEQ_LEN, recompute)


def assert_same_totals(core: dict[str, np.ndarray], ref: dict[str, np.ndarray],
                       grid: dict[str, np.ndarray]) -> None:
    """Parameters exactly, FLOPs to FLOP_RTOL; a failure names the first bad shape."""
    for column in COLUMNS:
        got, want = np.asarray(core[column]), np.asarray(ref[column])
        assert got.shape == want.shape, column
        if column in PARAM_COLUMNS:
            bad = np.flatnonzero(got != want)
        else:
            bad = np.flatnonzero(~np.isclose(got, want, rtol=FLOP_RTOL, atol=0))
        if bad.size:
            i = int(bad[0])
            shape = {name: int(grid[name][i]) for name in ("d_model", "n_layers", "n_heads",
                                                           "d_ff")}
            pytest.fail(f"{column}: {bad.size} of {got.size} shapes differ; first at index "
                        f"{i} {shape}: core {got[i]!r}, NumPy {want[i]!r}")


def assert_identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    for column in COLUMNS:
        np.testing.assert_array_equal(a[column], b[column], err_msg=column)


def make_grid(d_model: Any, n_layers: Any, n_heads: Any, d_ff_halves: Any) -> dict[str, list[int]]:
    """Axes of a grid of shapes; ``d_ff = ceil(d_model * d_ff_halves / 2)``."""
    return {"d_model": list(d_model), "n_layers": list(n_layers), "n_heads": list(n_heads),
            "d_ff_halves": list(d_ff_halves)}


# Llama-like base: head_dim and n_kv_heads are fixed by the base, so they are explicit
# and n_kv_heads = 8 divides every n_heads of the grid.
SWEEP_BASE = Architecture(d_model=4096, n_layers=32, n_heads=32, n_kv_heads=8, head_dim=128,
                          d_ff=14336, ffn="swiglu", vocab_size=128256, position="rotary",
                          max_position_embeddings=8192, norm="rmsnorm", name="sweep-base")


@pytest.fixture(scope="module")
def sweep_grid() -> dict[str, list[int]]:
    # 121 widths x 61 depths x 16 head counts x 9 FFN ratios (2x to 6x) = 1,062,864.
    return make_grid(range(1024, 16385, 128), range(8, 129, 2), range(8, 129, 8),
                     range(4, 13))


@pytest.fixture(scope="module")
def sweep_serial(sweep_grid: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The core's answer with one thread, computed once as the reference."""
    return core_totals(SWEEP_BASE, sweep_grid, threads=1)


def _record_rate(benchmark: Any, n: int, **info: Any) -> None:
    benchmark.extra_info["configurations"] = n
    benchmark.extra_info.update(info)
    median = _median_s(benchmark)
    if median is not None:
        benchmark.extra_info["median_ms"] = median * 1e3
        benchmark.extra_info["configurations_per_s"] = n / median


@pytest.mark.benchmark(group="sweep")
@pytest.mark.parametrize("threads", [1, 0], ids=["threads=1", "threads=all"])
def test_sweep_core(benchmark: Any, sweep_grid: dict[str, list[int]],
                    sweep_serial: dict[str, np.ndarray], threads: int) -> None:
    out = benchmark(core_totals, SWEEP_BASE, sweep_grid, "none", threads)
    # Each shape is written by one thread, nothing is reduced across threads: the answer
    # must not depend on the thread count, to the bit.
    assert_identical(out, sweep_serial)
    _record_rate(benchmark, len(sweep_serial["d_model"]), threads=threads)


@pytest.mark.benchmark(group="sweep")
def test_sweep_numpy(benchmark: Any, sweep_serial: dict[str, np.ndarray]) -> None:
    out = benchmark(baseline_totals, SWEEP_BASE, sweep_serial)
    assert_same_totals(sweep_serial, out, sweep_serial)
    _record_rate(benchmark, len(sweep_serial["d_model"]), baseline="numpy")


# The cross-check on more kinds of base and every recompute mode, on a small grid (not
# timed; skipped by --benchmark-only, run by --benchmark-disable).
VARIANT_BASES = {
    "llama-like": SWEEP_BASE,
    "gpt-like": Architecture(d_model=1024, n_layers=24, n_heads=16, n_kv_heads=1, head_dim=64,
                             d_ff=4096, ffn="gelu", vocab_size=50257, position="learned",
                             max_position_embeddings=SEQ_LEN, norm="layernorm",
                             qkv_bias=True, out_bias=True, mlp_bias=True,
                             tie_embeddings=True),
    "geglu-biased": Architecture(d_model=2048, n_layers=16, n_heads=16, n_kv_heads=4,
                                 head_dim=96, ffn="geglu", vocab_size=32000,
                                 position="none", norm="rmsnorm", mlp_bias=True,
                                 out_bias=True),
    "relu": Architecture(d_model=2048, n_layers=16, n_heads=16, n_kv_heads=2, head_dim=80,
                         ffn="relu", vocab_size=65536, position="rotary",
                         norm="layernorm", qkv_bias=True),
}


@pytest.mark.parametrize("recompute", ["none", "selective", "full"])
@pytest.mark.parametrize("base_name", list(VARIANT_BASES))
def test_numpy_baseline_matches_core(base_name: str, recompute: str) -> None:
    base = VARIANT_BASES[base_name]
    grid = make_grid([1000, 1024, 4095, 8192, 16384], [1, 7, 32, 128], [16, 64, 128],
                     [3, 8, 11])
    core = core_totals(base, grid, recompute, threads=1)
    assert_same_totals(core, baseline_totals(base, core, recompute), core)
    if recompute == "none":
        np.testing.assert_array_equal(core["flops_hardware"], core["flops_model"])
