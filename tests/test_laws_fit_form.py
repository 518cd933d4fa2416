"""fit_form: the hyper-parameter laws' power-law forms fitted to runs."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalingperf import laws

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None)
BUDGETS = np.geomspace(1e17, 3e20, 8)


def test_deepseek_recovers_its_constants():
    """Noiseless runs drawn from the published law give back its constants."""
    law = laws.DeepSeek2024()
    m, d = law.compute_optimal(BUDGETS)
    result = laws.fit_form("deepseek", C=BUDGETS, learning_rate=law.learning_rate(BUDGETS),
                           batch_size=law.batch_size(BUDGETS), model_scale=m, tokens=d)
    fitted = result.law
    for name in ("lr_coeff", "lr_exponent", "batch_coeff", "batch_exponent", "m_coeff",
                 "m_exponent", "d_coeff", "d_exponent"):
        assert getattr(fitted, name) == pytest.approx(getattr(law, name), rel=1e-9)
    assert fitted.fitted_range == {"C": (1e17, 3e20)}
    assert result.fits["learning_rate"].rms_log_residual < 1e-12
    assert result.fits["batch_size"].n_runs == 8


def test_untouched_targets_keep_the_papers_constants():
    result = laws.fit_form("deepseek", C=BUDGETS, learning_rate=1e-3 * (BUDGETS / 1e17) ** -0.2)
    assert result.law.lr_exponent == pytest.approx(-0.2, rel=1e-12)
    assert result.law.lr_coeff == pytest.approx(1e-3 * 1e17**0.2, rel=1e-9)
    assert result.law.batch_coeff == laws.DeepSeek2024().batch_coeff
    assert set(result.fits) == {"learning_rate"}


def test_steplaw_with_noise_has_errors_that_cover_the_truth():
    rng = np.random.default_rng(1)
    n = np.repeat(np.geomspace(2.2e8, 1e9, 4), 4)
    d = np.tile(np.geomspace(4e9, 1e11, 4), 4)
    truth = laws.StepLaw2025()
    lr = truth.learning_rate(n, d) * np.exp(rng.normal(0.0, 0.05, n.size))
    result = laws.fit_form("steplaw", N=n, D=d, learning_rate=lr, batch_size=truth.batch_size(d))
    fit = result.fits["learning_rate"]
    assert fit.exponents["N"] == pytest.approx(-0.713, abs=4 * fit.stderr["N"])
    assert fit.exponents["D"] == pytest.approx(0.307, abs=4 * fit.stderr["D"])
    assert 0.02 < fit.rms_log_residual < 0.08
    assert result.law.batch_exponent == pytest.approx(0.571, rel=1e-9)
    assert result.law.fitted_range["N"] == pytest.approx((2.2e8, 1e9))


def test_power_law_exact_fit_has_infinite_errors():
    fit = laws.fit_power_law("y", [2.0, 8.0], {"x": [1.0, 4.0]})
    assert fit.coeff == pytest.approx(2.0)
    assert fit.exponents["x"] == pytest.approx(1.0)
    assert math.isinf(fit.stderr["x"])


@pytest.mark.parametrize(("call", "field"), [
    (lambda: laws.fit_form("kaplan", C=BUDGETS, learning_rate=BUDGETS), "form"),
    (lambda: laws.fit_form("deepseek", learning_rate=BUDGETS), "C is missing"),
    (lambda: laws.fit_form("deepseek", C=BUDGETS), "at least one of"),
    (lambda: laws.fit_form("deepseek", C=BUDGETS, lr=BUDGETS), "lr is invalid"),
    (lambda: laws.fit_form("steplaw", N=BUDGETS, D=BUDGETS, learning_rate=BUDGETS), "degenerate"),
    (lambda: laws.fit_form("steplaw", N=[1e9] * 4, D=[1e9, 2e9, 3e9, 4e9],
                           learning_rate=[1.0] * 4), "degenerate"),
    (lambda: laws.fit_form("deepseek", C=BUDGETS[:2], learning_rate=[1.0, 2.0, 3.0]),
     "equally long"),
    (lambda: laws.fit_form("deepseek", C=[1e18], learning_rate=[1.0]), "at least 2"),
    (lambda: laws.fit_form("deepseek", C=BUDGETS, learning_rate=-BUDGETS), "learning_rate"),
    (lambda: laws.fit_form("deepseek", C=[[1e18, 1e19]], learning_rate=[[1.0, 2.0]]), "1-D"),
    (lambda: laws.fit_form("deepseek", C=BUDGETS * 0, learning_rate=BUDGETS), "C="),
])
def test_bad_runs(call, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        call()


@SETTINGS
@given(coeff=st.floats(-20, 20), exponent=st.floats(-2, 2), runs=st.integers(3, 12))
def test_recovers_any_power_law(coeff, exponent, runs):
    x = np.geomspace(1e10, 1e20, runs)
    y = np.exp(coeff + exponent * np.log(x))
    fit = laws.fit_power_law("y", y, {"x": x})
    assert math.log(fit.coeff) == pytest.approx(coeff, abs=1e-6)
    assert fit.exponents["x"] == pytest.approx(exponent, abs=1e-8)


# Loss laws with an input besides N and D ---------------------------------------------------

def grid_runs(sizes, tokens, extra):
    n, d, x = np.meshgrid(sizes, tokens, extra, indexing="ij")
    return n.ravel(), d.ravel(), x.ravel()


def test_ludziejewski_recovers_table3():
    """Noiseless runs from the published joint MoE law give back its nine free constants."""
    law = laws.Ludziejewski2025(fitted_range={})
    n, d, e = grid_runs(np.geomspace(8e7, 2.7e9, 4), np.geomspace(5e8, 8e10, 4), [1, 4, 16, 32])
    result = laws.fit_loss_form("ludziejewski", n, d, law.loss(n, d, e), E=e, n_starts=2)
    for name in ("a", "alpha", "delta", "gamma", "b", "beta", "omega", "zeta", "c"):
        assert result.constants[name] == pytest.approx(getattr(law, name), rel=1e-6), name
    assert result.law.fitted_range["E"] == (1.0, 32.0)
    assert result.rms_log_residual < 1e-9
    assert result.n_runs == 64


def test_krajewski_recovers_table1_with_noise_close():
    law = laws.Krajewski2024(fitted_range={})
    n, d, g = grid_runs(np.geomspace(1.3e8, 3.7e9, 4), np.geomspace(1.6e10, 1.3e11, 4),
                        [1, 2, 4, 8, 16])
    exact = laws.fit_loss_form("krajewski", n, d, law.loss(n, d, g), G=g, n_starts=2)
    for name in ("a", "alpha", "b", "beta", "g", "gamma", "c"):
        assert exact.constants[name] == pytest.approx(getattr(law, name), rel=1e-6), name
    rng = np.random.default_rng(3)
    noisy = law.loss(n, d, g) * np.exp(rng.normal(0.0, 0.003, n.size))
    result = laws.fit_loss_form("krajewski", n, d, noisy, G=g, n_starts=2)
    assert 0.001 < result.rms_log_residual < 0.006
    np.testing.assert_allclose(result.law.loss(n, d, g), law.loss(n, d, g), rtol=0.01)


@pytest.mark.parametrize(("call", "field"), [
    (lambda n, d, x, y: laws.fit_loss_form("clark", n, d, y, E=x), "form"),
    (lambda n, d, x, y: laws.fit_loss_form("krajewski", n, d, y), "G is missing"),
    (lambda n, d, x, y: laws.fit_loss_form("krajewski", n, d, y, E=x), "E is invalid"),
    (lambda n, d, x, y: laws.fit_loss_form("krajewski", n[:5], d[:5], y[:5], G=x[:5]),
     "too few"),
    (lambda n, d, x, y: laws.fit_loss_form("krajewski", n, d, y, G=np.ones_like(x)),
     "G takes fewer than 3"),
    (lambda n, d, x, y: laws.fit_loss_form("krajewski", n, d, -y, G=x), "loss"),
    (lambda n, d, x, y: laws.fit_loss_form("krajewski", n, d[:-1], y, G=x), "equally long"),
    (lambda n, d, x, y: laws.fit_loss_form("krajewski", n, d, y, G=x, n_starts=0),
     "n_starts"),
    (lambda n, d, x, y: laws.fit_loss_form("krajewski", n, d, y, G=x, delta=0.0), "delta"),
])
def test_loss_form_bad_runs(call, field):
    law = laws.Krajewski2024(fitted_range={})
    n, d, g = grid_runs(np.geomspace(1.3e8, 3.7e9, 4), np.geomspace(1.6e10, 1.3e11, 3),
                        [1, 4, 16])
    with pytest.raises(ValueError, match=re.escape(field)):
        call(n, d, g, law.loss(n, d, g))


def test_fit_dispatches_to_the_loss_forms():
    """laws.fit(N, D, loss, form=..., E= or G=) fits the MoE laws; the Chinchilla form
    refuses an extra input and the MoE forms approach 3's grid."""
    law = laws.Krajewski2024(fitted_range={})
    n, d, g = grid_runs(np.geomspace(1.3e8, 3.7e9, 4), np.geomspace(1.6e10, 1.3e11, 3),
                        [1, 4, 16])
    result = laws.fit(n, d, law.loss(n, d, g), form="krajewski", G=g, n_starts=2)
    assert isinstance(result, laws.LossFormFit)
    assert result.constants["gamma"] == pytest.approx(law.gamma, rel=1e-6)
    with pytest.raises(ValueError, match="G is invalid with form='chinchilla'"):
        laws.fit(n, d, law.loss(n, d, g), G=g)
    with pytest.raises(ValueError, match="grid is invalid"):
        laws.fit(n, d, law.loss(n, d, g), form="krajewski", G=g, grid={})
    with pytest.raises(ValueError, match="form='kaplan' is invalid"):
        laws.fit(n, d, law.loss(n, d, g), form="kaplan")
