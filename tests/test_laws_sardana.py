"""Sardana et al. 2024's inference-aware optimum against the paper's Figure 1
(tests/data/published_laws.json), the Chinchilla limit, and its input boundary."""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalingperf import laws
from scalingperf.laws import ExtrapolationWarning

FIGURE1 = json.loads((Path(__file__).parent / "data" / "published_laws.json").read_text())[
    "sardana2024"]["figure1"]
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None)


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        return function(*args, **kwargs)


def figure1(law):
    """(N, D, saving, fraction) of Figure 1's 13B example under ``law``."""
    n0, d_inf = FIGURE1["params"], FIGURE1["inference_tokens"]
    d0 = quiet(law.law.tokens_for, n0)
    target = quiet(law.loss, n0, d0)
    n, d = quiet(law.optimal_for_loss, target, d_inf)
    before = law.total_flops(n0, d0, d_inf)
    saving = before - law.total_flops(n, d, d_inf)
    return n, d, saving, saving / before


def test_figure1():
    """A Chinchilla-optimal 13B with 2T tokens of inference: 7B, 1.7e22 FLOPs, 17 %."""
    n, d, saving, fraction = figure1(laws.Sardana2024())
    assert round(n / 1e9) == FIGURE1["optimal_params"] / 1e9
    assert round(saving, -21) == FIGURE1["saving_flops"]
    assert round(fraction, 2) == FIGURE1["saving_fraction"]
    assert n == pytest.approx(6.9686e9, rel=1e-4)
    assert d == pytest.approx(1.2478e12, rel=1e-4)


def test_figure1_needs_three_digit_exponents():
    """Hoffmann et al.'s two-digit exponents give 8.0B and 10 %: not the figure."""
    paper = laws.Sardana2024(laws.Chinchilla2022(approach=3, constants="printed").parametric)
    n, _, _, fraction = figure1(paper)
    assert n == pytest.approx(8.02e9, rel=1e-3)
    assert fraction == pytest.approx(0.101, abs=1e-3)


def test_no_inference_is_chinchilla():
    law = laws.Sardana2024()
    budget = 1e21
    expected = law.law.compute_optimal(budget)
    assert law.compute_optimal(budget) == pytest.approx(expected, rel=1e-9)
    target = law.law.optimal_loss(budget)
    assert law.optimal_for_loss(target, 0.0) == pytest.approx(expected, rel=1e-9)


def test_the_two_problems_agree():
    """The cheapest model for a loss, costed, is the best model for that cost."""
    law = laws.Sardana2024()
    n, d = quiet(law.optimal_for_loss, [2.2, 2.1, 2.05], [1e11, 1e12, 1e13])
    cost = law.total_flops(n, d, [1e11, 1e12, 1e13])
    n2, d2 = quiet(law.compute_optimal, cost, [1e11, 1e12, 1e13])
    np.testing.assert_allclose(n2, n, rtol=1e-8)
    np.testing.assert_allclose(d2, d, rtol=1e-8)
    np.testing.assert_allclose(quiet(law.loss, n, d), [2.2, 2.1, 2.05], rtol=1e-12)


def test_more_inference_smaller_model():
    law = laws.Sardana2024()
    n, d = quiet(law.optimal_for_loss, 2.1, np.geomspace(1e9, 1e16, 8))
    assert np.all(np.diff(n) < 0)
    assert np.all(np.diff(d) > 0)
    n, _ = quiet(law.compute_optimal, 1e23, np.geomspace(1e9, 1e13, 5))
    assert np.all(np.diff(n) < 0)


def test_extrapolation_warns():
    with pytest.warns(ExtrapolationWarning) as record:
        laws.Sardana2024().optimal_for_loss(1.8, 1e12)
    assert any("D_opt=3.68e+13" in str(w.message) for w in record)


@pytest.mark.parametrize(("call", "field"), [
    (lambda s: s.optimal_for_loss(1.69, 1e9), "loss"),
    (lambda s: s.optimal_for_loss(1.5, 1e9), "loss"),
    (lambda s: s.optimal_for_loss(math.nan, 1e9), "loss"),
    (lambda s: s.optimal_for_loss(2.5, -1.0), "inference_tokens"),
    (lambda s: s.optimal_for_loss(2.5, math.inf), "inference_tokens"),
    (lambda s: s.compute_optimal(100.0, 1e3), "C"),
    (lambda s: s.compute_optimal(0.0), "C"),
    (lambda s: s.total_flops(1e9, 0.0, 1.0), "D"),
    (lambda s: s.total_flops(1e9, 1e9, "x"), "inference_tokens"),
])
def test_bad_inputs(call, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        call(laws.Sardana2024())


def test_bad_law():
    with pytest.raises(ValueError, match="law="):
        laws.Sardana2024(laws.Chinchilla2022(approach=1))  # type: ignore[arg-type]


@SETTINGS
@given(loss=st.floats(1.7, 1e3), d_inf=st.one_of(st.just(0.0), st.floats(0, 40).map(
    lambda e: 10.0**e)))
def test_optimum_is_on_the_target_and_minimal(loss, d_inf):
    """Every reachable loss gives finite N, D on the loss curve, no costlier than its
    neighbours along that curve (or a ValueError naming the argument beyond float64)."""
    law = laws.Sardana2024(laws.ParametricLaw(1.69, 406.4, 410.7, 0.336, 0.283))
    try:
        n, d = law.optimal_for_loss(loss, d_inf)
    except ValueError as error:
        message = str(error)
        n = d = math.nan
    else:
        message = ""
    if message:
        assert re.search("loss|inference_tokens", message)
        return
    assert math.isfinite(n)
    assert math.isfinite(d)
    assert n > 0
    assert d > 0
    if 1 <= n <= 1e40 and 1 <= d <= 1e40:
        assert law.loss(n, d) == pytest.approx(loss, rel=1e-9)


def test_convention_is_the_loss_laws():
    assert laws.Sardana2024().params_convention is laws.TOTAL
    fitted = laws.ParametricLaw(1.69, 406.4, 410.7, 0.34, 0.28, params_convention="non_embedding")
    assert laws.Sardana2024(fitted).params_convention is laws.NON_EMBEDDING


def test_compare_lists_it():
    row = laws.compare(compute=1e21)["Sardana2024"]
    assert (row.params, row.tokens) == pytest.approx(laws.Sardana2024().compute_optimal(1e21))
    assert row.loss == pytest.approx(laws.Sardana2024().loss(row.params, row.tokens))
