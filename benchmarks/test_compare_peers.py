"""``benchmarks/compare_peers.py`` on a handful of configurations: scalingperf (sweep and
estimate loop) equals the NumPy baseline, and, when llm-analysis is installed, agrees with
it where the models are the same and is faster. Nothing here is a timed benchmark; the
speed assertion compares best-of-5 times with a wide margin. Without llm-analysis its
test is skipped and the script's report says so.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest


def _load() -> ModuleType:
    path = Path(__file__).with_name("compare_peers.py")
    spec = importlib.util.spec_from_file_location("compare_peers", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


cp = _load()

# Odd widths (not multiples of 64), one layer, every tp degree: 3 x 3 x 4 = 36 configs.
VARIED = {"d_model": (256, 1000, 1816), "n_layers": (1, 7, 64), "tp": (1, 2, 4, 8)}
# 4 x 4 x 4 = 64 configurations, all within llm-analysis' memory model on one A100-80GB.
SMALL = {"d_model": (512, 768, 1024, 2048), "n_layers": (2, 12, 24, 32), "tp": (1, 2, 4, 8)}


def test_numpy_baseline_equals_scalingperf() -> None:
    configs = cp.enumerate_configs(VARIED)
    swept = cp.sweep_path(VARIED)
    assert len(swept) == configs["d_model"].size == 36
    for name, values in configs.items():
        np.testing.assert_array_equal(swept[name], values)
    np.testing.assert_array_equal(swept["d_ff"], 4 * configs["d_model"])

    baseline = cp.numpy_path(VARIED)
    np.testing.assert_array_equal(swept["params_total"], baseline["params_total"])
    np.testing.assert_allclose(swept["flops_model"], baseline["flops_model"], rtol=1e-12,
                               atol=0)
    for column in ("memory_weights", "memory_gradients", "memory_optimizer"):
        np.testing.assert_allclose(swept[column], baseline[column], rtol=1e-12, atol=0,
                                   err_msg=column)

    triples = list(zip(*(configs[k].tolist() for k in ("d_model", "n_layers", "tp")),
                       strict=True))
    looped = cp.estimate_path(triples)
    for column in cp.COLUMNS:
        np.testing.assert_array_equal(looped[column], swept[column], err_msg=column)

    # One count by hand: d=256, one layer: embedding 50304 d, 4 d^2 + 8 d^2, 3 norms of d.
    d = 256
    assert baseline["params_total"][0] == 50304 * d + 12 * d * d + 3 * d


# 2 widths x 2 depths x micro-batch 1, 2 x every recomputation x tp 1, 2 x pp 1, 2 x ZeRO
# 0, 3 over 64 GPUs: 192 points, of which those with pp dividing the depth are valid.
LAYOUTS = {"d_model": (512, 1024), "n_layers": (2, 3), "batch": (1, 2),
           "recompute": ("none", "selective", "full"), "tp": (1, 2), "pp": (1, 2),
           "zero": (0, 3)}


def test_layout_search_without_llm_analysis() -> None:
    result = cp.compare_layouts(LAYOUTS, repeats=1, llm="not installed (test)")
    assert result.points == 192
    # pp = 2 needs an even depth, so (depth, pp) has 3 valid pairs of 4; ZeRO 3 is valid
    # (dp = 64 / (tp pp) >= 16): widths x (depth, pp) x batch x recompute x tp x ZeRO.
    assert result.configs == 2 * 3 * 2 * 3 * 2 * 2
    assert result.llm_skipped == "not installed (test)"
    assert "llm" not in result.paths
    assert result.paths["top"].configs == result.configs
    text = cp.layout_report(result)
    assert "Layout search: 144 valid configurations of 192 grid points" in text
    assert "not installed (test)" in text


def test_report_without_llm_analysis(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    reason = "llm-analysis is not installed (test); skipped"
    monkeypatch.setattr(cp, "load_llm_analysis", lambda: reason)
    assert cp.main(["--configs", "1", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert reason in out
    assert "256 configurations" in out
    assert "DIFFER" not in out
    assert "identical (bit for bit)" in out
    assert "Layout search:" in out


def test_llm_analysis_agrees_and_is_slower() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fire 0.5 imports `pipes`
        pytest.importorskip("llm_analysis.analysis")
    result = cp.compare(SMALL, repeats=5, llm_sample=64, quirks=False)
    assert result.llm_skipped is None
    assert result.llm_refused == 0
    assert result.numpy_agrees
    assert result.estimate_identical
    for claim, holds, total, _ in result.llm_checks:
        assert holds == total == 64, claim
    assert result.ratio("sweep", "llm") > 1
    assert result.ratio("estimate", "llm") > 1


def test_llm_analysis_agrees_on_layouts_and_is_slower() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fire 0.5 imports `pipes`
        pytest.importorskip("llm_analysis.analysis")
    result = cp.compare_layouts(LAYOUTS, repeats=3, llm_sample=144)
    assert result.llm_skipped is None
    assert result.paths["llm"].configs == 144
    for claim, holds, total, _ in result.llm_checks:
        assert holds == total > 0, claim
    assert result.ratio("top", "llm") > 1
