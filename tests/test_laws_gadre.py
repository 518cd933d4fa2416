"""Gadre et al. 2024's over-training and downstream-error laws against the predictions
the authors' notebook prints for Figure 1 (tests/data/published_laws.json), the paper's
L(C, M) form against the N, D form, and the input boundary."""

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

PRINTED = json.loads((Path(__file__).parent / "data" / "published_laws.json").read_text())[
    "gadre2024"]["figure1_predictions"]["runs"]
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None)


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        return function(*args, **kwargs)


@pytest.mark.parametrize("run", PRINTED, ids=[run["model"] for run in PRINTED])
def test_figure1_loss_prediction(run):
    """The held-out 1.4B (M = 640) and 6.9B (M = 20) runs: 0.7103 % and 0.7320 %."""
    law = laws.Gadre2024()
    predicted = quiet(law.loss, run["params"], run["tokens"])
    relative = abs(predicted - run["measured_loss"]) / run["measured_loss"]
    assert round(100 * relative, 4) == run["loss_relative_error_percent"]


@pytest.mark.parametrize("run", PRINTED, ids=[run["model"] for run in PRINTED])
def test_figure1_error_prediction(run):
    """The 17-task top-1 error chained from the predicted loss: 3.6365 % and 0.0464 %."""
    law = laws.Gadre2024()
    predicted = quiet(law.downstream_error, run["params"], run["tokens"])
    relative = abs(predicted - run["measured_error"]) / run["measured_error"]
    assert round(100 * relative, 4) == run["error_relative_error_percent"]


def test_the_runs_are_the_abstracts():
    """The abstract's "1.4B parameter, 900B token run (32x over-trained)" and "6.9B
    parameter, 138B token run"."""
    small, large = PRINTED
    assert (round(small["params"] / 1e8) / 10, round(small["tokens"] / 1e11) * 100) == (1.4, 900)
    assert small["tokens_per_param"] == 32 * 20
    assert (round(large["params"] / 1e8) / 10, round(large["tokens"] / 1e9)) == (6.9, 138)


@pytest.mark.parametrize("dataset", ["rpj", "c4", "rw"])
def test_paper_form_equals_n_d_form(dataset):
    law = laws.Gadre2024(dataset)
    n = np.array([2e7, 1e8, 4e8])
    m = np.array([[20.0], [80.0], [320.0]])
    d = m * n
    np.testing.assert_allclose(quiet(law.loss_at, 6 * n * d, m), quiet(law.loss, n, d),
                               rtol=1e-12)


def test_compute_optimal_keeps_tokens_per_parameter():
    """Equal exponents: every budget's optimum has M = (b / a)^(1 / (2 eta))."""
    law = laws.Gadre2024()
    n, d = quiet(law.compute_optimal, np.array([1e18, 1e21, 1e24]))
    np.testing.assert_allclose(d / n, law.optimal_tokens_per_param, rtol=1e-10)
    assert law.optimal_tokens_per_param == pytest.approx(7.419, abs=1e-3)
    # the optimum is the least loss on the isoFLOP line
    budget = 1e18
    n_opt, d_opt = law.compute_optimal(budget)
    grid = n_opt * np.array([0.8, 0.9, 1.1, 1.25])
    assert (law.isoflop(budget, grid) > law.loss(n_opt, d_opt)).all()
    assert law.budget_for(n_opt) == pytest.approx(budget, rel=1e-10)


def test_over_training_costs_the_same_at_every_budget():
    """Reducible loss at fixed M is a power law in C with exponent -eta (parallel lines)."""
    law = laws.Gadre2024()
    c = np.array([1e17, 1e18, 1e19])
    reducible = quiet(law.loss_at, c, 640.0) - law.E
    np.testing.assert_allclose(reducible[1:] / reducible[:-1], 10 ** -law.eta, rtol=1e-12)


def test_error_falls_with_loss_and_stays_below_epsilon():
    law = laws.Gadre2024(tasks=46)
    errors = law.error(np.linspace(2.8, 5.3, 20))
    assert (np.diff(errors) > 0).all()
    assert (errors < law.epsilon).all()


def test_constants_override_and_repr():
    law = laws.Gadre2024("c4", 46, eta=0.15)
    assert (law.eta, law.dataset, law.tasks) == (0.15, "c4", 46)
    assert "dataset='c4'" in repr(law)
    assert law.parametric.alpha == law.parametric.beta == pytest.approx(0.3)
    assert law.params_convention.name == "total"


def test_extrapolation_warns():
    law = laws.Gadre2024()
    with pytest.warns(ExtrapolationWarning) as caught:
        law.loss(1.44e9, 9.2e11)
    messages = " ".join(str(w.message) for w in caught)
    assert "N=1.44e+09 is 3.5x" in messages
    assert "D=9.2e+11 is 112x" in messages
    with pytest.warns(ExtrapolationWarning, match="loss=2"):
        law.error(2.0)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"dataset": "pile"}, "dataset"), ({"tasks": 18}, "tasks"), ({"tasks": True}, "tasks"),
    ({"eta": 0.0}, "eta"), ({"a": -1.0}, "a"), ({"k": math.nan}, "k"),
    ({"E": -0.1}, "E"), ({"fitted_range": {"M": (1, 2)}}, "fitted_range")])
def test_bad_constants(kwargs, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        laws.Gadre2024(**kwargs)


@SETTINGS
@given(st.one_of(st.floats(max_value=1.0, exclude_max=True),
                 st.floats(min_value=1e40, exclude_min=True), st.just(math.nan)))
def test_bad_budget(c):
    with pytest.raises(ValueError, match=r"^C="):
        laws.Gadre2024().loss_at(c, 20.0)


def test_bad_tokens_per_parameter():
    law = laws.Gadre2024()
    with pytest.raises(ValueError, match=r"^M=0\.0 is invalid"):
        law.loss_at(1e20, 0.0)
    with pytest.raises(ValueError, match=r"^M=1e\+20 is invalid with C=1e\+20"):
        law.loss_at(1e20, 1e20)


@SETTINGS
@given(st.floats(min_value=-1e3, max_value=1.32))
def test_loss_below_the_error_floor(loss):
    """Below ln(k / epsilon) / gamma = 1.32 the predicted error would be negative."""
    with pytest.raises(ValueError, match=r"^loss="):
        laws.Gadre2024().error(loss)


def test_broadcasting():
    law = laws.Gadre2024()
    out = quiet(law.loss, np.array([[1e8], [2e8]]), np.array([1e9, 2e9, 4e9]))
    assert out.shape == (2, 3)
    assert isinstance(law.error(3.0), float)
    assert quiet(law.downstream_error, [1e8, 2e8], 4e9).shape == (2,)


def test_registered_in_compare():
    row = laws.compare(compute=5.76e23)["Gadre2024"]
    assert row.tokens_per_param == pytest.approx(7.419, abs=1e-3)
    assert row.extrapolated
