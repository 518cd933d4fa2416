"""Fitting laws to runs: known constants recovered from synthetic data, and bad data
refused."""

from __future__ import annotations

import importlib.util
import tracemalloc

import numpy as np
import pytest

from scalingperf import laws
from scalingperf.laws import PAPER_GRID, ExtrapolationWarning, _fit

TRUE = laws.Besiroglu2024(fitted_range={})
# laws.fit runs SciPy's L-BFGS; SciPy is not (yet) a dependency of the package.
needs_scipy = pytest.mark.skipif(importlib.util.find_spec("scipy") is None,
                                 reason="laws.fit needs scipy, which is not installed")


BUDGETS = np.logspace(18, 21, 7)
SIZES = np.logspace(7.5, 10.5, 25)


def isoflop_runs(law=TRUE, budgets=BUDGETS, spread=1.0, sizes=9, centre=1.0):
    """Runs on isoFLOP profiles: ``sizes`` models log-spaced ``spread`` decades either
    side of ``centre`` times the law's optimum at each budget."""
    c, n = [], []
    for budget in budgets:
        n_opt, _ = law.compute_optimal(budget)
        for factor in np.logspace(-spread, spread, sizes):
            c.append(budget)
            n.append(centre * n_opt * factor)
    c, n = np.array(c), np.array(n)
    d = c / (6 * n)
    return c, n, d, law.loss(n, d)


@needs_scipy
def test_fit_recovers_constants_exactly_without_noise():
    _, n, d, loss = isoflop_runs()
    result = laws.fit(n, d, loss, n_bootstrap=0)
    fitted = result.law
    assert (fitted.E, fitted.A, fitted.B, fitted.alpha, fitted.beta) == pytest.approx(
        (TRUE.E, TRUE.A, TRUE.B, TRUE.alpha, TRUE.beta), rel=1e-6)
    assert result.a == pytest.approx(TRUE.a, rel=1e-6)
    assert result.a + result.b == pytest.approx(1.0)
    assert result.converged
    assert result.ci == {}
    assert result.n_runs == n.size
    assert fitted.fitted_range == {"N": (n.min(), n.max()), "D": (d.min(), d.max())}


@needs_scipy
def test_fit_with_noise_and_bootstrap():
    """1 % multiplicative noise on 63 runs: exponents within 0.03, and the 80 % bootstrap
    intervals cover the true exponents and irreducible loss."""
    rng = np.random.default_rng(7)
    _, n, d, loss = isoflop_runs()
    noisy = loss * np.exp(0.01 * rng.standard_normal(loss.size))
    result = laws.fit(n, d, noisy, n_bootstrap=40, seed=3)
    assert result.law.alpha == pytest.approx(TRUE.alpha, abs=0.03)
    assert result.law.beta == pytest.approx(TRUE.beta, abs=0.03)
    assert abs(result.law.E - TRUE.E) < 0.1
    assert result.a == pytest.approx(TRUE.a, abs=0.03)
    for name in ("alpha", "beta", "E"):
        low, high = result.ci[name]
        assert low < getattr(TRUE, name) < high, name
    assert result.bootstrap.shape == (40, 7)
    assert result.ci["a"][0] <= result.a <= result.ci["a"][1]
    # The same seed gives the same intervals.
    again = laws.fit(n, d, noisy, n_bootstrap=40, seed=3)
    assert again.ci == result.ci


@needs_scipy
def test_fit_recovers_chinchilla_from_other_designs():
    """Runs on a grid of sizes and token counts (not isoFLOP), from Hoffmann's law."""
    law = laws.Chinchilla2022(approach=3, constants="tex", fitted_range={}).parametric
    n, d = (g.ravel() for g in np.meshgrid(np.logspace(7.5, 10, 8), np.logspace(9, 11.5, 8)))
    result = laws.fit(n, d, law.loss(n, d), n_bootstrap=0)
    assert result.a == pytest.approx(0.4565, abs=1e-4)
    assert abs(result.law.E / 1.6934 - 1) < 1e-5


@needs_scipy
def test_fit_small_grid():
    _, n, d, loss = isoflop_runs()
    grid = {"a": [5.0], "b": [5.0], "e": [0.5], "alpha": [0.5], "beta": [0.5]}
    result = laws.fit(n, d, loss, grid=grid, n_starts=1, n_bootstrap=0)
    assert result.law.alpha == pytest.approx(TRUE.alpha, rel=1e-5)


def test_fit_refuses_too_few_or_degenerate_data():
    _, n, d, loss = isoflop_runs()
    with pytest.raises(ValueError, match=r"at least 10 runs .* got 9: too few points"):
        laws.fit(n[:9], d[:9], loss[:9])
    with pytest.raises(ValueError, match=r"N takes fewer than 3 distinct values: .*degenerate"):
        laws.fit(np.full(20, 1e9), np.logspace(9, 11, 20), np.linspace(3, 2, 20))
    sizes = np.logspace(8, 10, 20)
    with pytest.raises(ValueError, match="fixed tokens-per-parameter ratio"):
        laws.fit(sizes, 20 * sizes, TRUE.loss(sizes, 20 * sizes))
    with pytest.raises(ValueError, match="loss is the same for every run"):
        laws.fit(n, d, np.full(n.size, 2.5))
    with pytest.raises(ValueError, match=r"^loss=nan is invalid"):
        laws.fit(n, d, np.where(np.arange(n.size) == 3, np.nan, loss))
    with pytest.raises(ValueError, match="equally long"):
        laws.fit(n, d[:-1], loss)
    with pytest.raises(ValueError, match="form='kaplan' is invalid"):
        laws.fit(n, d, loss, form="kaplan")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_bootstrap=-1 is invalid"):
        laws.fit(n, d, loss, n_bootstrap=-1)
    with pytest.raises(ValueError, match="grid"):
        laws.fit(n, d, loss, grid={"a": [1.0]})


@needs_scipy
def test_fit_says_the_data_do_not_support_a_negative_exponent():
    """The fuzzer's fit reported "alpha=-0.13 is invalid" (ParametricLaw's check on its own
    result): a loss that grows with N is data the law does not support."""
    n, d = (g.ravel() for g in np.meshgrid(np.logspace(8, 10, 4), np.logspace(9, 11, 4)))
    loss = 1.7 + 410.7 / d**0.28 + 1e-3 * n**0.3
    with pytest.raises(ValueError, match=r"^N, D and loss do not support the law: its best fit "
                                         r"has alpha=-0\.3, a loss that does not fall as N grows "
                                         r"\(alpha must be > 0\); the data do not determine alpha$"):
        laws.fit(n, d, loss, n_bootstrap=0, n_starts=2)


def structureless(seed):
    """Runs whose losses are uniform noise, unrelated to N and D."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(10, 80))
    return 10 ** rng.uniform(7, 10, m), 10 ** rng.uniform(9, 12, m), rng.uniform(2, 4, m)


@needs_scipy
@pytest.mark.parametrize("seed", [22, 32, 33])
def test_fit_refuses_structureless_data(seed):
    """On noise the fuzzer's fit reported converged=True, B = 1.9e31 and a bootstrap
    interval (inf, nan): the runs do not determine the law, and fit says which constant."""
    with pytest.raises(ValueError, match=r"^N, D and loss do not (support the law|determine "
                                         r"(alpha|beta)): .*(alpha|beta)"):
        laws.fit(*structureless(seed), n_bootstrap=100)


@needs_scipy
def test_fit_says_which_exponent_is_within_two_standard_errors():
    _, n, d, loss = isoflop_runs()
    noisy = loss * np.exp(0.2 * np.random.default_rng(7).standard_normal(loss.size))
    with pytest.raises(ValueError, match=r"^N, D and loss do not determine (alpha|beta): the best "
                                         r"fit's \w+=\S+ has a standard error of \S+, so it is "
                                         "not 2 standard errors above 0"):
        laws.fit(n, d, noisy, n_bootstrap=0)


@needs_scipy
def test_fit_refuses_a_bootstrap_that_leaves_float64(monkeypatch):
    """A refit on resampled runs that takes B = e^b beyond float64 would make B's
    interval (x, inf) and a's NaN: fit names B instead of returning them."""
    _, n, d, loss = isoflop_runs()
    minimise = _fit._minimise
    calls = []

    def diverging(objective, starts, minimize):
        theta, value, converged = minimise(objective, starts, minimize)
        calls.append(theta)
        if len(calls) == 3:  # the second bootstrap refit
            theta = theta.copy()
            theta[1] = 800.0
        return theta, value, converged

    monkeypatch.setattr(_fit, "_minimise", diverging)
    with pytest.raises(ValueError, match=r"^N, D and loss do not determine B: 1 of 5 bootstrap "
                                         "refits on resampled runs find no finite B$"):
        laws.fit(n, d, loss, n_bootstrap=5, n_starts=1)


@pytest.mark.parametrize("law", [TRUE, laws.Chinchilla2022(constants="tex", fitted_range={})],
                         ids=["besiroglu", "chinchilla-tex"])
def test_fit_isoflop_recovers_exponent(law):
    """Approach 2 on noise-free profiles sampled symmetrically around the optimum
    recovers a = beta / (alpha + beta) (parabola bias is the same at every budget)."""
    c, n, _, loss = isoflop_runs(law, spread=0.5)
    result = laws.fit_isoflop(c, n, loss)
    assert result.a == pytest.approx(law.a, abs=2e-3)
    assert result.a + result.b == pytest.approx(1.0)
    assert result.n_opt.shape == (7,)
    n_opt, _ = law.compute_optimal(result.budgets)
    assert result.n_opt == pytest.approx(n_opt, rel=0.02)
    n_fit, d_fit = result.law.compute_optimal(1e20)
    assert 6 * n_fit * d_fit == pytest.approx(1e20, rel=1e-9)


def test_fit_isoflop_warns_and_refuses():
    c, n, _, loss = isoflop_runs(spread=0.3, centre=5.0)
    with pytest.warns(ExtrapolationWarning, match="outside the sampled sizes"):
        laws.fit_isoflop(c, n, loss)
    c, n, _, loss = isoflop_runs()
    with pytest.raises(ValueError, match=r"at least 2 compute budgets \(distinct values of C\), "
                                         "got 1"):
        laws.fit_isoflop(c[:9], n[:9], loss[:9])
    keep = np.arange(c.size) % 9 < 2
    with pytest.raises(ValueError, match="has 2 distinct model sizes"):
        laws.fit_isoflop(c[keep], n[keep], loss[keep])
    with pytest.raises(ValueError, match="not convex"):
        laws.fit_isoflop(c, n, -loss + 10)


def test_fit_isoflop_names_its_own_arguments():
    """fit_isoflop(C, N, loss) called a bad N "D" (the names of fit's arguments)."""
    c, n, _, loss = isoflop_runs()
    with pytest.raises(ValueError, match=r"^N=-1\.0 is invalid: it must be a finite number from 1 "
                                         r"to 1e\+40 \(1 of 63 values\)$"):
        laws.fit_isoflop(c, np.where(np.arange(n.size) == 3, -1.0, n), loss)
    with pytest.raises(ValueError, match=r"^C=0\.0 is invalid"):
        laws.fit_isoflop(np.where(np.arange(c.size) == 3, 0.0, c), n, loss)
    with pytest.raises(ValueError, match=r"^C, N, loss are invalid together: they must be "
                                         "equally long, one entry per run, not of 63, 62, 63 "):
        laws.fit_isoflop(c, n[:-1], loss)
    with pytest.raises(ValueError, match=r"^loss is invalid: it must be a 1-D array .* \(63, 1\)"):
        laws.fit_isoflop(c, n, loss[:, None])
    with pytest.raises(ValueError, match=r"^C is invalid: it must be a 1-D array .* shape \(\)"):
        laws.fit_isoflop(1e20, n, loss)
    with pytest.raises(ValueError, match=r"^N, D, loss are invalid together: .* 63, 62, 63 "):
        laws.fit_envelope(n, np.ones(62), loss)


def training_curves(law=TRUE, sizes=SIZES):
    """Checkpoints of runs of each size, from 1e8 to 1e13 tokens."""
    n, d = (g.ravel() for g in np.meshgrid(sizes, np.logspace(8, 13, 60)))
    return n, d, law.loss(n, d)


def test_fit_envelope_recovers_exponent():
    """Approach 1: the envelope over 25 sizes finds N_opt ∝ C^a within 0.02."""
    n, d, loss = training_curves()
    result = laws.fit_envelope(n, d, loss)
    assert result.a == pytest.approx(TRUE.a, abs=0.02)
    assert result.a + result.b == pytest.approx(1.0)
    labelled = laws.fit_envelope(n, d, loss, runs=np.log10(n).round(3), n_budgets=300)
    assert labelled.a == pytest.approx(result.a, abs=0.01)


def test_fit_envelope_refuses():
    n, d, loss = training_curves()
    one = n == n[0]
    with pytest.raises(ValueError, match="at least 2 runs, got 1"):
        laws.fit_envelope(n[one], d[one], loss[one])
    first = np.unique(n, return_index=True)[1]
    with pytest.raises(ValueError, match="single checkpoint"):
        laws.fit_envelope(n[first], d[first], loss[first])
    two = n >= np.sort(np.unique(n))[-2]
    with pytest.raises(ValueError, match="do not bracket the compute-optimal size"):
        laws.fit_envelope(n[two], d[two], loss[two])
    with pytest.raises(ValueError, match=r"^runs is invalid: it must have one label per checkpoint"):
        laws.fit_envelope(n, d, loss, runs=[1, 2])


def test_fit_envelope_refuses_n_budgets_beyond_the_limit_before_allocating():
    """n_budgets=2**31 reached the OOM killer: it is refused before anything is allocated
    (the envelope is also built one run at a time, not as a runs x budgets matrix)."""
    n, d, loss = training_curves()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"^n_budgets=2147483648 is invalid: it must be an "
                                             r"integer from 2 to 100000: finer than any"):
            laws.fit_envelope(n, d, loss, n_budgets=2**31)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    assert laws.fit_envelope(n, d, loss, n_budgets=_fit.MAX_BUDGETS).n_opt.size > 1000
    with pytest.raises(ValueError, match=r"^min_runs=26 is invalid: it must be an integer from 1 "
                                         r"to 25 \(the number of runs\)"):
        laws.fit_envelope(n, d, loss, min_runs=26)
    with pytest.raises(ValueError, match=r"^n_budgets=100\.0 is invalid"):
        laws.fit_envelope(n, d, loss, n_budgets=100.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("runs", [np.full(1500, None), np.full(1500, np.nan), "run"],
                         ids=["None", "nan", "str"])
def test_fit_envelope_refuses_bad_labels(runs):
    n, d, loss = training_curves()
    with pytest.raises(ValueError, match=r"^runs is invalid"):
        laws.fit_envelope(n, d, loss, runs=runs)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n_bootstrap": 10**9}, r"^n_bootstrap=1000000000 is invalid: .* from 0 to 10000: "),
    ({"n_bootstrap": True}, r"^n_bootstrap=True is invalid"),
    ({"n_starts": 0}, r"^n_starts=0 is invalid: it must be an integer from 1 to 100000"),
    ({"grid": {k: np.arange(100.0) for k in PAPER_GRID}}, r"^grid is invalid: it has 10{10} "),
    ({"grid": 5}, r"^grid=5 is invalid: it must be a dict"),
    ({"grid": {**PAPER_GRID, "a": ["x"]}}, r"^grid\['a'\]=\['x'\] is invalid"),
    ({"seed": -1}, r"^seed=-1 is invalid: it must be None or an integer >= 0"),
    ({"seed": 1.5}, r"^seed=1\.5 is invalid"),
    ({"ci": np.array([0.5, 0.6])}, r"^ci is invalid: it must be a single number"),
    ({"ci": "0.8"}, r"^ci='0\.8' is invalid"),
    ({"ci": float("nan")}, r"^ci=nan is invalid: it must be a number in \(0, 1\)"),
    ({"delta": [1e-3]}, r"^delta is invalid: it must be a single number"),
    ({"form": np.array(["chinchilla"])}, r"^form=array\(\['chinchilla'\].* is invalid"),
], ids=lambda x: "" if isinstance(x, str) else str(x)[:30])
def test_fit_refuses_bad_arguments_before_fitting(kwargs, match):
    """Bounded counts and checked types, before any allocation or L-BFGS run."""
    _, n, d, loss = isoflop_runs()
    with pytest.raises(ValueError, match=match):
        laws.fit(n, d, loss, **kwargs)


def test_fit_isoflop_refuses_optima_it_cannot_place():
    c, n, _, _ = isoflop_runs()
    # A nearly flat profile, its vertex at log N = 500: far beyond D = C / (6 N) >= 1.
    flat = 3.0 + 1e-6 * np.log(n) ** 2 - 1e-3 * np.log(n)
    with pytest.raises(ValueError, match=r"^the isoFLOP profile at C=1e\+18 has its minimum at "
                                         r"N=10\^217 and loss=2\.75, where N or D"):
        laws.fit_isoflop(c, n, flat)
    # Sizes whose logs are one ulp apart still give a well-posed parabola (np.polyfit
    # raised RankWarning), with its vertex at the middle size.
    c3 = np.repeat([1e20, 1e21], 3)
    n3 = np.repeat([1e9, 2e9], 3) * np.tile(1 + np.arange(3) * 4e-15, 2)
    result = laws.fit_isoflop(c3, n3, np.tile([3.0, 2.0, 3.0], 2))
    assert result.n_opt == pytest.approx([1e9, 2e9], rel=1e-14)
    assert result.loss_opt == pytest.approx([2.0, 2.0])


def test_fits_carry_the_parameter_convention_of_the_runs():
    """Every fit says which parameters the runs' N counted: total by default (as Hoffmann
    et al.), or what the caller says; a bad convention is refused before fitting."""
    c, n, d, loss = isoflop_runs(spread=0.5)
    assert laws.fit_isoflop(c, n, loss).law.params_convention is laws.TOTAL
    kaplan_style = laws.fit_isoflop(c, n, loss, params_convention="non_embedding")
    assert kaplan_style.law.params_convention is laws.NON_EMBEDDING
    curves = training_curves()
    assert laws.fit_envelope(*curves, params_convention=laws.NON_EMBEDDING).law \
        .params_convention is laws.NON_EMBEDDING
    for fit, args in ((laws.fit_isoflop, (c, n, loss)), (laws.fit_envelope, curves),
                      (laws.fit, (n, d, loss))):
        with pytest.raises(ValueError, match="params_convention='kaplan' is invalid"):
            fit(*args, params_convention="kaplan")


@needs_scipy
def test_fit_carries_the_parameter_convention():
    _, n, d, loss = isoflop_runs()
    result = laws.fit(n, d, loss, n_bootstrap=0, params_convention="non_embedding")
    assert result.law.params_convention is laws.NON_EMBEDDING
