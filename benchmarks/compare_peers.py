"""The same configurations through scalingperf, a pure-NumPy version of its formulas and
the ``llm-analysis`` package, side by side: configurations per second and agreement.

Run from the repository root::

    python benchmarks/compare_peers.py [--configs N] [--repeats R]

The configurations are a grid ``d_model x n_layers x tp`` of dense GPT-style decoders
(8 heads, FFN 4 d with GELU, RMSNorm, rotary positions, tied embeddings, no biases,
vocabulary 50304), one 2048-token sequence per micro-batch, bf16 with mixed-precision
AdamW on an A100-SXM4-80GB. ``N`` is rounded up to a multiple of 256: each width comes
with 64 depths (1 to 64 layers) and 4 tensor-parallel degrees (1, 2, 4, 8); widths start
at 256 in steps of 8. Up to N = 57,600 (widths up to 2048) every configuration fits in
llm-analysis' own memory model at that micro-batch; it refuses the others.

That architecture is the one llm-analysis' parameter formula describes exactly: two
weight vectors of ``d`` per layer for the norms and one at the end, one shared embedding,
no position table, no biases, two FFN matrices. Both tools then count the same model.

Paths, each timed end to end from the axes or the configuration list, best of R runs:

- ``scalingperf.sweep`` over a ``scalingperf.Grid`` whose rows are the configurations
  (all cores, and one thread);
- one ``scalingperf.estimate`` call per configuration in a Python loop (building its
  ``Architecture`` included);
- ``numpy_columns``: the same formulas vectorised in NumPy (parameters, training FLOPs,
  weight, gradient and optimizer bytes per GPU with tensor-parallel sharding), checked
  against the sweep: parameters and bytes exactly, FLOPs to a relative 1e-12;
- llm-analysis (``pip install llm-analysis``; optional: skipped with a message when it is
  not installed): a ``ModelConfig`` and an ``LLMAnalysis`` per configuration and its
  ``training()`` analysis, on an evenly spaced sample (default 200), extrapolated to
  configurations per second. Its outputs are compared with ours on that sample.

A second set, a layout search, is what the grid engine is for: the same model family
(``d_model x n_layers``) under every layout of 64 GPUs (tp x pp, dp = 64 / (tp pp), ZeRO
0-3), micro-batch and recomputation, with a global batch of 512 sequences. llm-analysis
takes each of these configurations too (``ParallelismConfig``, ``ds_zero``,
``activation_recomputation``, ``global_batch_size``); the sweep and the streaming top-k
are timed over the grid, whose invalid points they skip (configurations/s counts valid
ones), and llm-analysis on a sample. Parameters and FLOPs are compared on the sample.
There is no NumPy path for this set (pipeline stages and ZeRO sharding are not in its
closed form).

The module is importable: ``compare(axes)`` and ``compare_layouts(axes)`` return the
figures, ``main(argv)`` prints them (``benchmarks/test_compare_peers.py`` runs them on a
handful of configurations).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np

import scalingperf as sp
from scalingperf.grid import RECOMPUTE  # the modes in the order of the recompute column

HARDWARE = "A100-SXM4-80GB"
DTYPE = "bf16"
SEQ_LEN = 2048
BATCH = 1
N_HEADS = 8
VOCAB = 50304  # GPT-2's 50257 padded to a multiple of 128, as Megatron-LM does
FIXED: dict[str, Any] = dict(n_heads=N_HEADS, ffn="gelu", vocab_size=VOCAB, max_position_embeddings=SEQ_LEN,
             position="rotary", norm="rmsnorm", tie_embeddings=True)
# Bytes per parameter of mixed-precision AdamW: bf16 weights and gradients, float32
# master copy, momentum and variance (Rajbhandari et al. 2020).
WEIGHT_BYTES, GRADIENT_BYTES, OPTIMIZER_BYTES = 2.0, 2.0, 12.0

# The layout search: every layout of N_GPUS with a global batch of GLOBAL_BATCH sequences.
N_GPUS = 64
GLOBAL_BATCH = 512
LAYOUT_AXES: dict[str, tuple[Any, ...]] = {
    "d_model": tuple(range(1024, 8193, 128)), "n_layers": tuple(range(8, 65, 8)),
    "batch": (1, 2, 4), "recompute": ("none", "selective", "full"), "tp": (1, 2, 4, 8),
    "pp": (1, 2, 4, 8), "zero": (0, 1, 2, 3)}

D_MIN, D_STEP = 256, 8
LAYERS = tuple(range(1, 65))
TPS = (1, 2, 4, 8)
DEFAULT_CONFIGS = 50_000
DEFAULT_REPEATS = 5
DEFAULT_LLM_SAMPLE = 200
FLOP_RTOL = 1e-12
# Columns compared between the sweep, the estimate loop and NumPy.
COLUMNS = ("params_total", "flops_model", "memory_weights", "memory_gradients",
           "memory_optimizer")
INSTALL_HINT = ("pip install llm-analysis==0.2.2 (best in a virtual environment made with "
                "--system-site-packages: it pins transformers<5 and huggingface-hub<0.15)")

T = TypeVar("T")
Axes = dict[str, tuple[int, ...]]
Columns = dict[str, np.ndarray]


# --------------------------------------------------------------------------------------
# The configurations
# --------------------------------------------------------------------------------------


def config_axes(n: int) -> Axes:
    """Axes of at least ``n`` configurations: ``ceil(n / 256)`` widths x 64 depths x 4
    tensor-parallel degrees."""
    per_width = len(LAYERS) * len(TPS)
    widths = max(1, math.ceil(n / per_width))
    return {"d_model": tuple(D_MIN + D_STEP * k for k in range(widths)),
            "n_layers": LAYERS, "tp": TPS}


def make_grid(axes: Axes) -> sp.Grid:
    """The Grid whose rows are the configurations (every point is valid)."""
    return sp.Grid(d_model=list(axes["d_model"]), n_layers=list(axes["n_layers"]),
                   tp=list(axes["tp"]), seq_len=SEQ_LEN, batch=BATCH, hardware=HARDWARE,
                   dtype=DTYPE, **FIXED)


def enumerate_configs(axes: Axes) -> Columns:
    """The configurations in the grid's order (the last axis changes fastest)."""
    mesh = np.meshgrid(*(np.asarray(axes[name], dtype=np.int64)
                         for name in ("d_model", "n_layers", "tp")), indexing="ij")
    d, n_layers, tp = (np.ascontiguousarray(a.ravel()) for a in mesh)
    return {"d_model": d, "n_layers": n_layers, "tp": tp}


# --------------------------------------------------------------------------------------
# Path (a): scalingperf
# --------------------------------------------------------------------------------------


def sweep_path(axes: Axes, threads: int | None = None) -> sp.SweepResult:
    return sp.sweep(make_grid(axes), threads=threads)


def estimate_path(configs: Sequence[tuple[int, int, int]]) -> Columns:
    """One ``estimate()`` per configuration, from Python."""
    rows = []
    for d, n_layers, tp in configs:
        arch = sp.Architecture(d_model=d, n_layers=n_layers, **FIXED)
        r = sp.estimate(arch, batch=BATCH, seq_len=SEQ_LEN, hardware=HARDWARE, dtype=DTYPE,
                        tp=tp)
        m = r.memory
        rows.append((r.params.total, r.flops.model, m.weights, m.gradients, m.optimizer))
    values = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    return {name: np.asarray(v, dtype=np.int64 if name == "params_total" else np.float64)
            for name, v in zip(COLUMNS, values, strict=True)}


# --------------------------------------------------------------------------------------
# Path (b): the same formulas in NumPy
# --------------------------------------------------------------------------------------


def numpy_columns(d_model: np.ndarray, n_layers: np.ndarray, tp: np.ndarray) -> Columns:
    """Parameters, training FLOPs and per-GPU state bytes of the configurations, vectorised.

    Conventions (scalingperf's): 2 FLOPs per multiply-add, backward twice the forward,
    attention over the full ``s x s`` square, matmuls only. Tensor parallelism splits the
    vocabulary-parallel embedding (tied: the head is the same matrix) and the QKV, output
    and FFN matrices; the RMSNorm weights stay whole on every GPU.
    """
    d = np.asarray(d_model, dtype=np.int64)
    layers = np.asarray(n_layers, dtype=np.int64)
    t = np.asarray(tp, dtype=np.float64)
    h = kv = N_HEADS
    dh = d // h
    f = 4 * d

    # Parameters, exactly, in 64-bit integers.
    norm = d                                              # RMSNorm: one weight vector
    qkv = d * (h + 2 * kv) * dh
    out = h * dh * d
    ffn = 2 * d * f
    split = VOCAB * d + layers * (qkv + out + ffn)        # sharded over tp
    replicated = layers * 2 * norm + norm                 # two norms per layer, final norm
    total = split + replicated

    # Bytes on one GPU (one pipeline stage, no ZeRO): the split part over tp.
    per_gpu = replicated.astype(np.float64) + split.astype(np.float64) / t

    # Matmul FLOPs of one micro-batch, in doubles.
    b, s = float(BATCH), float(SEQ_LEN)
    tokens = b * s
    df, lf, dhf = d.astype(np.float64), layers.astype(np.float64), dh.astype(np.float64)
    layer_forward = (2 * tokens * qkv.astype(np.float64)          # Q, K, V projections
                     + 2 * (2 * b * h * s * s * dhf)              # Q K^T, softmax(.) V
                     + 2 * tokens * out.astype(np.float64)        # output projection
                     + 2 * tokens * ffn.astype(np.float64))       # up, down
    forward = lf * layer_forward + 2 * tokens * df * VOCAB         # + LM head
    return {"params_total": total, "flops_model": 3 * forward,
            "memory_weights": WEIGHT_BYTES * per_gpu,
            "memory_gradients": GRADIENT_BYTES * per_gpu,
            "memory_optimizer": OPTIMIZER_BYTES * per_gpu}


def numpy_path(axes: Axes) -> Columns:
    c = enumerate_configs(axes)
    return numpy_columns(c["d_model"], c["n_layers"], c["tp"])


# --------------------------------------------------------------------------------------
# Path (c): llm-analysis
# --------------------------------------------------------------------------------------


def load_llm_analysis() -> SimpleNamespace | str:
    """llm-analysis' API, or why it cannot be used here."""
    try:
        with warnings.catch_warnings():
            # fire 0.5 (its dependency) imports the deprecated `pipes` module.
            warnings.simplefilter("ignore", DeprecationWarning)
            from llm_analysis.analysis import ActivationRecomputation, DSZeRO, LLMAnalysis
            from llm_analysis.config import (
                ModelConfig,
                ParallelismConfig,
                get_dtype_config_by_name,
                get_gpu_config_by_name,
            )
            from llm_analysis.logger import logger
    except ImportError as error:
        return f"llm-analysis is not installed ({error}); skipped. To include it: {INSTALL_HINT}"
    try:
        from importlib.metadata import version

        la_version = version("llm-analysis")
    except ImportError:  # pragma: no cover - metadata missing
        la_version = "?"
    return SimpleNamespace(
        LLMAnalysis=LLMAnalysis, ModelConfig=ModelConfig, ParallelismConfig=ParallelismConfig,
        ActivationRecomputation=ActivationRecomputation, DSZeRO=DSZeRO,
        gpu=get_gpu_config_by_name("a100-sxm-80gb"), dtype=get_dtype_config_by_name("w16a16e16"),
        logger=logger, version=la_version)


@contextmanager
def _quiet(la: SimpleNamespace) -> Iterator[None]:
    """llm-analysis warns on every call without ZeRO; printing would dominate its time.
    (It still builds every log message: they are f-strings.)"""
    level = la.logger.level
    la.logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        la.logger.setLevel(level)


LLM_KEYS = ("num_params_total", "num_flops_total_per_micro_batch", "weight_memory_per_gpu",
            "gradient_memory_per_gpu", "optimizer_state_memory_per_gpu",
            "latency_per_micro_batch")


def llm_analysis_path(la: SimpleNamespace, configs: Sequence[tuple[int, int, int]]) -> Columns:
    """One ModelConfig + LLMAnalysis + training() per configuration. A configuration
    llm-analysis refuses (it asserts that the micro-batch fits) gives NaNs."""
    rows = []
    for d, n_layers, tp in configs:
        model = la.ModelConfig(name=f"d{d}-l{n_layers}", num_layers=n_layers, n_head=N_HEADS,
                               num_key_value_heads=N_HEADS, hidden_dim=d, vocab_size=VOCAB,
                               max_seq_len=SEQ_LEN, ffn_embed_dim=4 * d)
        # sp_size=1: no sequence parallelism, as in our configurations (its default is tp).
        analysis = la.LLMAnalysis(model, la.gpu, la.dtype,
                                  la.ParallelismConfig(tp_size=tp, sp_size=1))
        try:
            summary = analysis.training(batch_size_per_gpu=BATCH, seq_len=SEQ_LEN)
        except AssertionError:
            rows.append((math.nan,) * len(LLM_KEYS))
            continue
        rows.append(tuple(float(summary[key]) for key in LLM_KEYS))
    values = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(LLM_KEYS))
    return {key: values[:, i] for i, key in enumerate(LLM_KEYS)}


# --------------------------------------------------------------------------------------
# Timing and agreement
# --------------------------------------------------------------------------------------


def best_of(fn: Callable[[], T], repeats: int) -> tuple[float, T]:
    """The shortest wall time of ``repeats`` runs (this machine is noisy), and the result."""
    best, result = math.inf, None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result  # type: ignore[return-value]


def evenly_spaced(n: int, k: int) -> np.ndarray:
    """``min(n, k)`` indices spread over ``range(n)``, first and last included."""
    if k >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))


@dataclasses.dataclass
class Path:
    name: str
    configs: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.configs / self.seconds if self.seconds > 0 else math.inf


@dataclasses.dataclass
class Agreement:
    """How one column of one path compares with the reference."""
    column: str
    compared: int
    mismatches: int
    max_rel: float
    rule: str


@dataclasses.dataclass
class Comparison:
    axes: Axes
    configs: int
    repeats: int
    threads: int
    paths: dict[str, Path]
    numpy: list[Agreement]
    estimate_identical: bool
    llm_skipped: str | None = None
    llm_version: str = ""
    llm_refused: int = 0
    llm_checks: list[tuple[str, int, int, str]] = dataclasses.field(default_factory=list)
    llm_quirks: list[str] = dataclasses.field(default_factory=list)

    def ratio(self, faster: str, slower: str) -> float:
        if faster not in self.paths or slower not in self.paths:
            return math.nan
        return self.paths[faster].rate / self.paths[slower].rate

    @property
    def numpy_agrees(self) -> bool:
        return all(a.mismatches == 0 for a in self.numpy)


def _rel(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = np.maximum(np.abs(want), np.finfo(np.float64).tiny)
    return np.asarray(np.abs(got - want) / scale)


def agree(ours: Columns, theirs: Columns) -> list[Agreement]:
    """Parameters exactly (integers); FLOPs and bytes to ``FLOP_RTOL``."""
    out = []
    for column in COLUMNS:
        got, want = np.asarray(ours[column]), np.asarray(theirs[column])
        if got.shape != want.shape:
            out.append(Agreement(column, want.size, want.size, math.inf, "shape"))
            continue
        rel = _rel(got, want)
        if column == "params_total":
            bad = int(np.count_nonzero(got != want))
            rule = "exact"
        else:
            bad = int(np.count_nonzero(~(rel <= FLOP_RTOL)))
            rule = f"rtol {FLOP_RTOL:g}"
        out.append(Agreement(column, got.size, bad, float(rel.max(initial=0.0)), rule))
    return out


def _check(name: str, holds: np.ndarray, why: str) -> tuple[str, int, int, str]:
    holds = np.asarray(holds, dtype=bool)
    return name, int(np.count_nonzero(holds)), int(holds.size), why


def llm_checks(ours: Columns, theirs: Columns, d: np.ndarray, n_layers: np.ndarray,
               tp: np.ndarray, peak: float) -> list[tuple[str, int, int, str]]:
    """What llm-analysis' numbers are, in terms of ours, on the configurations it
    accepted: each line is (claim, configurations where it holds, compared, reason)."""
    ok = ~np.isnan(theirs["num_params_total"])
    o = {k: np.asarray(v, dtype=np.float64)[ok] for k, v in ours.items()}
    th = {k: v[ok] for k, v in theirs.items()}
    d, n_layers, t = (np.asarray(x, dtype=np.float64)[ok] for x in (d, n_layers, tp))
    n = o["params_total"]

    def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return _rel(a, b) <= FLOP_RTOL

    norms = (2 * n_layers + 1) * d  # RMSNorm weights: whole on every GPU in ours
    return [
        _check("parameters: theirs == ours", th["num_params_total"] == n,
               "same model: 2d norm weights per layer + d final, tied embedding, no biases"),
        _check("training FLOPs (fwd + bwd): theirs == ours",
               close(th["num_flops_total_per_micro_batch"], o["flops_model"]),
               "same matmuls, full s x s attention, backward = 2 x forward"),
        _check("weights/GPU: theirs == 2 B x N / tp", close(th["weight_memory_per_gpu"],
                                                           2 * n / t),
               "it splits every weight over tp, norms included"),
        _check("weights/GPU: ours - theirs == 2 B x (2L+1) d (1 - 1/tp)",
               close(o["memory_weights"] - th["weight_memory_per_gpu"],
                     WEIGHT_BYTES * norms * (1 - 1 / t)) | (t == 1),
               "ours keep the norm weights whole on each GPU (Megatron replicates them)"),
        _check("gradients/GPU: theirs == 4 B x N / tp",
               close(th["gradient_memory_per_gpu"], 4 * n / t),
               "it keeps float32 gradients (master_weights_dtype_bytes=4); ours are bf16, 2 B"),
        _check("optimizer/GPU: theirs == 12 B x N / tp",
               close(th["optimizer_state_memory_per_gpu"], 12 * n / t),
               "same 12 B/param (fp32 master, momentum, variance); norms split as above"),
        _check("step time: theirs == FLOPs / (tp x 312 TFLOP/s)",
               close(th["latency_per_micro_batch"], th["num_flops_total_per_micro_batch"]
                     / (t * peak)),
               "flops_efficiency defaults to 1.0; no memory-bound op, no communication"),
    ]


def llm_quirks(la: SimpleNamespace) -> list[str]:
    """Two probes of llm-analysis outside the common configurations."""
    def run(d: int, n_layers: int, ffn: int, kv: int, tp: int) -> dict[str, Any]:
        model = la.ModelConfig(name="probe", num_layers=n_layers, n_head=N_HEADS,
                               num_key_value_heads=kv, hidden_dim=d, vocab_size=VOCAB,
                               max_seq_len=SEQ_LEN, ffn_embed_dim=ffn)
        analysis = la.LLMAnalysis(model, la.gpu, la.dtype,
                                  la.ParallelismConfig(tp_size=tp, sp_size=1))
        return analysis.training(batch_size_per_gpu=BATCH, seq_len=SEQ_LEN)  # type: ignore[no-any-return]

    d, n_layers = 1024, 12
    lines = []
    with _quiet(la):
        wide = run(d, n_layers, 8 * d, N_HEADS, 1)
        narrow = run(d, n_layers, 4 * d, N_HEADS, 1)
        ours = sp.estimate(sp.Architecture(d_model=d, n_layers=n_layers, d_ff=8 * d, **FIXED),
                           batch=BATCH, seq_len=SEQ_LEN, hardware=HARDWARE, dtype=DTYPE)
        lines.append(
            f"FFN width is ignored in its FLOPs (MLP = 16 b s d^2, hard-coded): d={d}, "
            f"L={n_layers}, d_ff=8d gives {wide['num_flops_total_per_micro_batch']:.4e} "
            f"FLOPs, the same as d_ff=4d ({narrow['num_flops_total_per_micro_batch']:.4e}); "
            f"ours {ours.flops.model:.4e}; its parameter count does use d_ff "
            f"({wide['num_params_total']:,.0f}, ours {ours.params.total:,})")
        gqa = {tp: run(d, n_layers, 4 * d, 2, tp)["num_params_total"] for tp in (1, 8)}
        lines.append(
            f"With GQA, K/V heads replicated over tp are counted as parameters: 2 KV heads, "
            f"total {gqa[1]:,.0f} at tp=1 but {gqa[8]:,.0f} at tp=8 (scalingperf refuses "
            f"tp > n_kv_heads)")
    return lines


# --------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------


def compare(axes: Axes, *, repeats: int = DEFAULT_REPEATS, llm_sample: int = DEFAULT_LLM_SAMPLE,
            estimate_sample: int | None = None, llm: SimpleNamespace | str | None = None,
            quirks: bool = True) -> Comparison:
    """Time every path on the configurations of ``axes`` and check that they agree.

    ``llm`` is llm-analysis' API (default: imported here), or a reason to skip it.
    ``estimate_sample`` limits the estimate loop to an evenly spaced sample (default all).
    """
    configs = enumerate_configs(axes)
    n = configs["d_model"].size
    triples = list(zip(*(configs[k].tolist() for k in ("d_model", "n_layers", "tp")),
                       strict=True))
    threads = os.cpu_count() or 1
    paths: dict[str, Path] = {}

    seconds, swept = best_of(lambda: sweep_path(axes), repeats)
    if len(swept) != n or any(not np.array_equal(swept[k], configs[k]) for k in configs):
        msg = "the sweep's rows are not the configurations"
        raise RuntimeError(msg)
    paths["sweep"] = Path(f"scalingperf.sweep(grid), {threads} threads", n, seconds)
    seconds, _ = best_of(lambda: sweep_path(axes, threads=1), repeats)
    paths["sweep1"] = Path("scalingperf.sweep(grid, threads=1)", n, seconds)
    seconds, _ = best_of(lambda: sweep_path(axes).to_dict(), repeats)
    paths["sweep_all"] = Path("  ... + configuration columns decoded", n, seconds)
    seconds, _ = best_of(lambda: sp.sweep(make_grid(axes), top=10, by="-mfu"), repeats)
    paths["top"] = Path("scalingperf.sweep(grid, top=10, by=-mfu)", n, seconds)
    ours = {k: swept[k] for k in COLUMNS}

    loop_index = evenly_spaced(n, n if estimate_sample is None else estimate_sample)
    loop_configs = [triples[i] for i in loop_index]
    seconds, looped = best_of(lambda: estimate_path(loop_configs), repeats)
    note = "" if loop_index.size == n else "sample, extrapolated"
    paths["estimate"] = Path("scalingperf.estimate() loop", loop_index.size, seconds, note)
    identical = all(np.array_equal(looped[k], ours[k][loop_index]) for k in COLUMNS)

    seconds, baseline = best_of(lambda: numpy_path(axes), repeats)
    paths["numpy"] = Path("NumPy, vectorised", n, seconds)

    result = Comparison(axes=axes, configs=n, repeats=repeats, threads=threads, paths=paths,
                        numpy=agree(ours, baseline), estimate_identical=identical)

    la = load_llm_analysis() if llm is None else llm
    if isinstance(la, str):
        result.llm_skipped = la
        return result
    result.llm_version = la.version
    index = evenly_spaced(n, llm_sample)
    sample = [triples[i] for i in index]
    with _quiet(la):
        seconds, theirs = best_of(lambda: llm_analysis_path(la, sample), repeats)
    result.llm_refused = int(np.count_nonzero(np.isnan(theirs["num_params_total"])))
    paths["llm"] = Path(f"llm-analysis {la.version} training()", index.size, seconds,
                        "sample, extrapolated" if index.size < n else "")
    peak = float(la.gpu.peak_fp16_TFLOPS) * 1e12 * 1.0  # its default flops_efficiency
    result.llm_checks = llm_checks({k: v[index] for k, v in ours.items()}, theirs,
                                   configs["d_model"][index], configs["n_layers"][index],
                                   configs["tp"][index], peak)
    ratio = swept["step_time"][index] / theirs["latency_per_micro_batch"]
    ratio = ratio[~np.isnan(ratio)]
    if ratio.size:
        claim = (f"step time: ours / theirs = {np.median(ratio):.2f} median "
                 f"({ratio.min():.2f} to {ratio.max():.2f})")
        result.llm_checks.append((
            claim, ratio.size, ratio.size,
            "ours: roofline per op at 75 % of peak, tile quantisation, TP all-reduces"))
    if quirks:
        result.llm_quirks = llm_quirks(la)
    return result


# --------------------------------------------------------------------------------------
# The layout search
# --------------------------------------------------------------------------------------


def make_layout_grid(axes: dict[str, tuple[Any, ...]]) -> sp.Grid:
    return sp.Grid(**{k: list(v) for k, v in axes.items()}, seq_len=SEQ_LEN,
                   n_gpus=N_GPUS, global_batch=GLOBAL_BATCH, hardware=HARDWARE, dtype=DTYPE,
                   **FIXED)


LAYOUT_KEYS = ("d_model", "n_layers", "batch", "recompute", "tp", "pp", "dp", "zero")


def llm_analysis_layouts(la: SimpleNamespace, configs: Sequence[tuple[int, ...]]) -> Columns:
    """llm-analysis on (d_model, n_layers, micro-batch, recompute index, tp, pp, dp, zero)
    configurations; NaNs where it refuses one."""
    rows = []
    for d, n_layers, batch, recompute, tp, pp, dp, zero in configs:
        model = la.ModelConfig(name=f"d{d}-l{n_layers}", num_layers=n_layers, n_head=N_HEADS,
                               num_key_value_heads=N_HEADS, hidden_dim=d, vocab_size=VOCAB,
                               max_seq_len=SEQ_LEN, ffn_embed_dim=4 * d)
        analysis = la.LLMAnalysis(model, la.gpu, la.dtype,
                                  la.ParallelismConfig(tp_size=tp, pp_size=pp, dp_size=dp,
                                                       sp_size=1))
        try:
            summary = analysis.training(
                batch_size_per_gpu=batch, global_batch_size=GLOBAL_BATCH, seq_len=SEQ_LEN,
                ds_zero=la.DSZeRO(zero),
                activation_recomputation=la.ActivationRecomputation(recompute))
        except AssertionError:
            rows.append((math.nan, math.nan))
            continue
        rows.append((float(summary["num_params_total"]),
                     float(summary["num_flops_total_per_micro_batch"])))
    values = np.asarray(rows, dtype=np.float64).reshape(len(rows), 2)
    return {"num_params_total": values[:, 0], "num_flops_total_per_micro_batch": values[:, 1]}


@dataclasses.dataclass
class LayoutComparison:
    axes: dict[str, tuple[Any, ...]]
    points: int
    configs: int
    repeats: int
    paths: dict[str, Path]
    llm_skipped: str | None = None
    llm_refused: int = 0
    llm_checks: list[tuple[str, int, int, str]] = dataclasses.field(default_factory=list)

    def ratio(self, faster: str, slower: str) -> float:
        if faster not in self.paths or slower not in self.paths:
            return math.nan
        return self.paths[faster].rate / self.paths[slower].rate


def compare_layouts(axes: dict[str, tuple[Any, ...]] = LAYOUT_AXES, *,
                    repeats: int = DEFAULT_REPEATS, llm_sample: int = DEFAULT_LLM_SAMPLE,
                    llm: SimpleNamespace | str | None = None) -> LayoutComparison:
    """Time the sweep, the streaming top-k and llm-analysis on the valid configurations
    of a layout search, and compare parameters and FLOPs on llm-analysis' sample."""
    grid = make_layout_grid(axes)
    seconds, swept = best_of(lambda: sp.sweep(make_layout_grid(axes)), repeats)
    n = len(swept)
    paths = {"sweep": Path(f"scalingperf.sweep(grid), {os.cpu_count() or 1} threads", n,
                           seconds)}
    seconds, _ = best_of(lambda: sp.sweep(make_layout_grid(axes), top=10, by="-mfu"), repeats)
    paths["top"] = Path("scalingperf.sweep(grid, top=10, by=-mfu)", n, seconds)
    result = LayoutComparison(axes=axes, points=len(grid), configs=n, repeats=repeats,
                              paths=paths)
    la = load_llm_analysis() if llm is None else llm
    if isinstance(la, str):
        result.llm_skipped = la
        return result
    index = evenly_spaced(n, llm_sample)
    columns = {k: np.asarray(swept[k])[index] for k in LAYOUT_KEYS}
    recompute = columns["recompute"]  # the configuration column holds the mode's index
    sample = list(zip(*(columns[k].tolist() for k in LAYOUT_KEYS), strict=True))
    with _quiet(la):
        seconds, theirs = best_of(lambda: llm_analysis_layouts(la, sample), repeats)
    paths["llm"] = Path(f"llm-analysis {la.version} training()", index.size, seconds,
                        "sample, extrapolated" if index.size < n else "")
    ok = ~np.isnan(theirs["num_params_total"])
    result.llm_refused = int(np.count_nonzero(~ok))
    params = np.asarray(swept["params_total"], dtype=np.float64)[index][ok]
    flops = {name: np.asarray(swept[name])[index][ok]
             for name in ("flops_model", "flops_hardware", "flops_forward")}
    their_flops = theirs["num_flops_total_per_micro_batch"][ok]
    mode = recompute[ok]

    def holds(recompute: str, ours: np.ndarray) -> np.ndarray:
        chosen = mode == RECOMPUTE.index(recompute)
        return _rel(their_flops[chosen], ours[chosen]) <= FLOP_RTOL

    result.llm_checks = [
        _check("parameters: theirs == ours", theirs["num_params_total"][ok] == params,
               "the same model whatever the layout"),
        _check("FLOPs/micro-batch, no recomputation: theirs == ours",
               holds("none", flops["flops_model"]),
               "forward + backward of the whole model"),
        _check("FLOPs/micro-batch, selective: theirs == ours with recomputation",
               holds("selective", flops["flops_hardware"]),
               "plus the attention core's forward again (Korthikanti et al. 2022)"),
        _check("FLOPs/micro-batch, full: theirs == ours + whole forward",
               holds("full", flops["flops_model"] + flops["flops_forward"]),
               "it redoes the LM head's forward too; ours, as Megatron, only the layers'"),
    ]
    return result


def layout_report(c: LayoutComparison) -> str:
    a = c.axes
    lines = [
        (f"Layout search: {c.configs:,} valid configurations of {c.points:,} grid points: "
         f"d_model {a['d_model'][0]}..{a['d_model'][-1]} ({len(a['d_model'])}) x n_layers "
         f"{a['n_layers'][0]}..{a['n_layers'][-1]} ({len(a['n_layers'])}) x micro-batch "
         f"{list(a['batch'])} x recompute {list(a['recompute'])} x tp {list(a['tp'])} x pp "
         f"{list(a['pp'])} x ZeRO {list(a['zero'])}; {N_GPUS} GPUs (dp = {N_GPUS} / (tp pp)), "
         f"global batch {GLOBAL_BATCH}; model family and hardware as above"),
        "",
    ]
    lines += path_table(c.paths, ("sweep", "top", "llm"))
    if c.llm_skipped:
        lines += [f"{'llm-analysis':<40} {'skipped':>9}", "", c.llm_skipped]
        return "\n".join(lines)
    lines += [
        "* timed on an evenly spaced sample; configs/s extrapolated",
        "",
        f"sweep vs llm-analysis:          {_fmt_ratio(c.ratio('sweep', 'llm'))}",
        f"streaming top-k vs llm-analysis: {_fmt_ratio(c.ratio('top', 'llm'))}",
        "",
        f"llm-analysis vs scalingperf on its {c.paths['llm'].configs} configurations"
        + (f" ({c.llm_refused} refused: they do not fit in its memory model; refused calls "
           "stop early, so its rate above is optimistic)" if c.llm_refused else "") + ":",
    ]
    for claim, holds, total, why in c.llm_checks:
        lines.append(f"  {claim:<66} {holds:>4}/{total:<4}  {why}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def _fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if math.isfinite(x) else "n/a"


def _fmt_ratio(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:,.0f}x" if x >= 100 else f"{x:,.1f}x" if x >= 10 else f"{x:,.2f}x"


def path_table(paths: dict[str, Path], keys: Sequence[str], *, vs_numpy: bool = False
               ) -> list[str]:
    """One line per path (those of `keys` that ran): its rate, and the ratio to
    llm-analysis' (and to NumPy's)."""
    header = f"{'path':<40} {'configs':>9} {'best s':>10} {'configs/s':>13} {'vs llm-an.':>11}"
    header += f" {'vs NumPy':>9}" if vs_numpy else ""
    lines = [header, "-" * len(header)]
    llm = paths.get("llm")
    for key in keys:
        p = paths.get(key)
        if p is None:
            continue
        vs_llm = _fmt_ratio(p.rate / llm.rate) if llm else "n/a"
        name = p.name + (" *" if p.note else "")
        line = (f"{name:<40} {p.configs:>9,} {p.seconds:>10.4f} {_fmt_rate(p.rate):>13} "
                f"{vs_llm:>11}")
        if vs_numpy:
            line += f" {_fmt_ratio(p.rate / paths['numpy'].rate):>9}"
        lines.append(line)
    return lines


def report(c: Comparison, command: str = "") -> str:
    axes = c.axes
    lines = []
    if command:
        lines.append(f"$ {command}")
    d = axes["d_model"]
    layers = axes["n_layers"]
    lines += [
        (f"{c.configs:,} configurations: d_model {d[0]}..{d[-1]} step {D_STEP} ({len(d)}) "
         f"x n_layers {layers[0]}..{layers[-1]} ({len(layers)}) x tp {list(axes['tp'])}; "
         f"{N_HEADS} heads, d_ff 4d GELU, RMSNorm, rotary, tied, vocab {VOCAB}; "
         f"seq_len {SEQ_LEN}, batch {BATCH}, {HARDWARE}, {DTYPE}"),
        (f"best of {c.repeats} runs each; {c.threads} cores; numpy {np.__version__}, "
         f"python {sys.version.split()[0]}"),
        "",
    ]
    lines += path_table(c.paths, ("sweep", "sweep1", "sweep_all", "top", "estimate", "numpy",
                                  "llm"), vs_numpy=True)
    if c.llm_skipped:
        lines.append(f"{'llm-analysis':<40} {'skipped':>9}")
    if any(p.note for p in c.paths.values()):
        lines.append("* timed on an evenly spaced sample; configs/s extrapolated")
    lines += [
        "",
        f"sweep vs llm-analysis:          {_fmt_ratio(c.ratio('sweep', 'llm'))}",
        f"streaming top-k vs llm-analysis: {_fmt_ratio(c.ratio('top', 'llm'))}",
        (f"sweep vs NumPy:                 {_fmt_ratio(c.ratio('sweep', 'numpy'))} "
         f"(one thread: {_fmt_ratio(c.ratio('sweep1', 'numpy'))})"),
        f"estimate loop vs llm-analysis:  {_fmt_ratio(c.ratio('estimate', 'llm'))}",
        (f"(the sweep computes all {len(sp.sweep_columns())} result columns: activations, "
         "per-op roofline step time, TP efficiency, MFU, ...; it writes the cost columns and"
         " decodes the configuration columns from the row index when first asked for;"),
        f" NumPy computes the {len(COLUMNS)} compared columns in closed form)",
        "",
        "NumPy baseline vs scalingperf.sweep:",
    ]
    for a in c.numpy:
        status = "OK" if a.mismatches == 0 else f"{a.mismatches} DIFFER"
        lines.append(f"  {a.column:<18} {a.rule:<11} {status:<10} max rel diff {a.max_rel:.1e}")
    lines.append("estimate() loop vs sweep: "
                 + ("identical (bit for bit)" if c.estimate_identical else "DIFFERENT"))
    lines.append("")
    if c.llm_skipped:
        lines.append(c.llm_skipped)
        return "\n".join(lines)
    sample = c.paths["llm"].configs
    lines.append(f"llm-analysis {c.llm_version} vs scalingperf on its {sample} configurations"
                 + (f" ({c.llm_refused} refused: the micro-batch does not fit in its memory "
                    "model; refused calls stop early, so its rate above is optimistic)"
                    if c.llm_refused else "") + ":")
    for claim, holds, total, why in c.llm_checks:
        lines.append(f"  {claim:<58} {holds:>4}/{total:<4}  {why}")
    if c.llm_quirks:
        lines += ["", "llm-analysis, probed outside these configurations:"]
        lines += [f"  - {q}" for q in c.llm_quirks]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", type=int, default=DEFAULT_CONFIGS, metavar="N",
                        help="configurations (rounded up to a multiple of 256; "
                             f"default {DEFAULT_CONFIGS:,})")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS,
                        help=f"runs per path, the best is kept (default {DEFAULT_REPEATS})")
    parser.add_argument("--llm-configs", type=int, default=DEFAULT_LLM_SAMPLE, metavar="K",
                        help="llm-analysis sample size (default "
                             f"{DEFAULT_LLM_SAMPLE}; rate extrapolated)")
    parser.add_argument("--estimate-configs", type=int, default=None, metavar="K",
                        help="limit the estimate() loop to a sample of K (default: all)")
    parser.add_argument("--no-probes", action="store_true",
                        help="skip the llm-analysis probes outside the configurations")
    parser.add_argument("--no-layouts", action="store_true",
                        help="skip the layout search (the second set)")
    args = parser.parse_args(argv)
    if args.configs < 1 or args.repeats < 1 or args.llm_configs < 1:
        parser.error("--configs, --repeats and --llm-configs must be >= 1")
    result = compare(config_axes(args.configs), repeats=args.repeats,
                     llm_sample=args.llm_configs, estimate_sample=args.estimate_configs,
                     quirks=not args.no_probes)
    command = " ".join(["python", "benchmarks/compare_peers.py",
                        *(sys.argv[1:] if argv is None else argv)])
    print(report(result, command))
    layouts = None
    if not args.no_layouts:
        layouts = compare_layouts(repeats=args.repeats, llm_sample=args.llm_configs)
        print("\n" + layout_report(layouts))
    agrees = layouts is None or all(holds == total for _, holds, total, _ in layouts.llm_checks)
    return 0 if result.numpy_agrees and result.estimate_identical and agrees else 1


if __name__ == "__main__":
    sys.exit(main())
