"""The hyper-parameter laws (DeepSeek LLM 2024, Step Law 2025) against the numbers their
papers and data print (tests/data/published_laws.json), and their input boundary."""

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

PUBLISHED = json.loads((Path(__file__).parent / "data" / "published_laws.json").read_text())
DEEPSEEK = PUBLISHED["bi2024"]
STEP = PUBLISHED["li2025"]
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None)


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        return function(*args, **kwargs)


# DeepSeek LLM ----------------------------------------------------------------------------

def test_deepseek_constants_are_the_papers():
    law = laws.DeepSeek2024()
    eq1, eq4 = DEEPSEEK["eq1"], DEEPSEEK["eq4"]
    assert (law.lr_coeff, law.lr_exponent) == (eq1["lr_coeff"], eq1["lr_exponent"])
    assert (law.batch_coeff, law.batch_exponent) == (eq1["batch_coeff"], eq1["batch_exponent"])
    assert (law.m_coeff, law.a, law.d_coeff, law.b) == (
        eq4["m_coeff"], eq4["m_exponent"], eq4["d_coeff"], eq4["d_exponent"])
    # C = M D: the exponents sum to 1 and the coefficients multiply to 1.
    assert law.a + law.b == pytest.approx(1.0, abs=1e-12)
    assert law.m_coeff * law.d_coeff == pytest.approx(1.0, abs=2e-4)
    m, d = law.compute_optimal(1e19)
    assert m * d == pytest.approx(1e19, rel=2e-4)


@pytest.mark.parametrize("row", DEEPSEEK["table2"]["rows"], ids=lambda r: r["name"])
def test_deepseek_table2(row):
    """Table 2's learning rates within 3 % and batch sizes within 10 % of eq. 1 at C = M D,
    with M from eq. 2 and the model's shape (both runs lie beyond the fitted budgets)."""
    law = laws.DeepSeek2024()
    m = law.flops_per_token(row["layers"], row["d_model"], row["context"])
    budget = m * row["tokens"]
    with pytest.warns(ExtrapolationWarning, match="above the largest compute budget"):
        lr = law.learning_rate(budget)
    batch = quiet(law.batch_size, budget)
    assert lr == pytest.approx(row["lr"], rel=0.03)
    assert batch == pytest.approx(row["batch_sequences"] * row["context"], rel=0.10)


def test_deepseek_7b_values():
    """The exact values the constants give for the 7B (documented in the docstring)."""
    law = laws.DeepSeek2024()
    m = law.flops_per_token(30, 4096, 4096)
    assert m == 72 * 30 * 4096**2 + 12 * 30 * 4096 * 4096
    assert quiet(law.learning_rate, m * 2e12) == pytest.approx(4.246e-4, rel=1e-3)
    assert quiet(law.batch_size, m * 2e12) == pytest.approx(9.2226e6, rel=1e-3)


def test_deepseek_broadcasts_and_overrides():
    law = laws.DeepSeek2024(lr_coeff=1.0, lr_exponent=-0.5, fitted_range={})
    out = law.learning_rate(np.array([[1.0, 4.0], [16.0, 100.0]]))
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, [[1.0, 0.5], [0.25, 0.1]])
    m, d = law.compute_optimal([1e18, 1e20])
    assert m.shape == d.shape == (2,)
    assert law.flops_per_token([1, 2], 10, [[1], [2]]).shape == (2, 2)
    assert "DeepSeek2024" in repr(law)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"lr_coeff": 0.0}, "lr_coeff"), ({"batch_coeff": -1.0}, "batch_coeff"),
    ({"m_exponent": math.nan}, "m_exponent"), ({"d_exponent": math.inf}, "d_exponent"),
    ({"fitted_range": {"N": (1, 2)}}, "fitted_range"),
])
def test_deepseek_bad_constants(kwargs, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        laws.DeepSeek2024(**kwargs)


# Step Law --------------------------------------------------------------------------------

def test_steplaw_constants_round_the_authors_bootstrap():
    """The printed constants are the authors' bootstrap means to three digits."""
    law, means = laws.StepLaw2025(), STEP["bootstrap_means"]
    for name in ("lr_coeff", "lr_n_exponent", "lr_d_exponent", "batch_coeff",
                 "batch_exponent"):
        assert getattr(law, name) == STEP["law"][name]
        assert getattr(law, name) == pytest.approx(means[name], abs=0.0075)


@pytest.mark.parametrize("row", STEP["grid_optima"]["rows"],
                         ids=lambda r: f"{r['params']:.3g}-{r['tokens']:.3g}")
def test_steplaw_grid_optima(row):
    """Each grid optimum of the authors' dense runs lies within a factor 2 of the law (a
    flat optimum sampled on a sqrt(2) learning-rate grid)."""
    law = laws.StepLaw2025()
    lr = law.learning_rate(row["params"], row["tokens"])
    batch = law.batch_size(row["tokens"]) / STEP["grid_optima"]["sequence_length"]
    assert 0.5 < row["lr"] / lr < 2.0
    assert 0.5 < row["batch_sequences"] / batch < 2.0


def test_steplaw_values_and_broadcast():
    law = laws.StepLaw2025()
    assert law.learning_rate(1e9, 1e11) == pytest.approx(
        1.79 * 1e9**-0.713 * 1e11**0.307, rel=1e-12)
    assert law.batch_size(1e10) == pytest.approx(0.58 * 1e10**0.571, rel=1e-12)
    out = law.learning_rate([[3e8], [6e8]], [5e9, 5e10, 9e10])
    assert out.shape == (2, 3)
    assert np.all(np.diff(out, axis=0) < 0)
    assert np.all(np.diff(out, axis=1) > 0)
    with pytest.warns(ExtrapolationWarning, match="above the largest model"):
        law.learning_rate(7e10, 1e11)
    assert "StepLaw2025" in repr(law)


# Boundaries ------------------------------------------------------------------------------

JUNK = [0.0, -1.0, math.nan, math.inf, 1e41, None, "1e9", True, [1.0, "x"]]
ENTRY = [
    (laws.DeepSeek2024(fitted_range={}), "learning_rate", ("C",)),
    (laws.DeepSeek2024(fitted_range={}), "batch_size", ("C",)),
    (laws.DeepSeek2024(fitted_range={}), "compute_optimal", ("C",)),
    (laws.DeepSeek2024, "flops_per_token", ("n_layer", "d_model", "seq_len")),
    (laws.StepLaw2025(fitted_range={}), "learning_rate", ("N", "D")),
    (laws.StepLaw2025(fitted_range={}), "batch_size", ("D",)),
]


@SETTINGS
@given(entry=st.sampled_from(ENTRY), bad=st.sampled_from(JUNK), where=st.integers(0, 2),
       good=st.floats(0, 40).map(lambda e: 10.0**e))
def test_hyper_boundaries(entry, bad, where, good):
    """One bad argument among good ones raises a ValueError naming it; good ones alone give
    finite numbers > 0."""
    law, method, names = entry
    args = [good] * len(names)
    values = getattr(law, method)(*args)
    for value in np.atleast_1d(np.asarray(values, dtype=float)).ravel():
        assert math.isfinite(value)
        assert value > 0
    i = where % len(names)
    args[i] = bad
    with pytest.raises(ValueError, match=re.escape(names[i])):
        getattr(law, method)(*args)


def test_conventions():
    """Both papers count non-embedding parameters (DeepSeek through M, FLOPs per token)."""
    assert laws.StepLaw2025().params_convention is laws.NON_EMBEDDING
    assert laws.DeepSeek2024().params_convention is laws.NON_EMBEDDING
    assert laws.StepLaw2025(params_convention="total").params_convention is laws.TOTAL
    with pytest.raises(ValueError, match="params_convention="):
        laws.StepLaw2025(params_convention="heads")


def test_compare_lists_them():
    """compare() shows DeepSeek's eq. 4 with N = M_opt / 6 (so C = 6 N D) and Step Law
    without an allocation."""
    table = laws.compare(compute=1e20)
    row = table["DeepSeek2024"]
    m, d = laws.DeepSeek2024().compute_optimal(1e20)
    assert (row.params, row.tokens) == pytest.approx((m / 6, d))
    assert row.compute == 1e20
    assert row.params_convention == "non_embedding"
    assert table["StepLaw2025"].params is None
    assert "hyper-parameters only" in str(table)
