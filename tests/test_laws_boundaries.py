"""The boundary of every public entry point of scalingperf.laws, under hypothesis: any
input is either refused with a ValueError whose message names the argument, or gives
finite numbers > 0, shaped like the inputs, that agree with each other."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scalingperf import laws
from scalingperf.laws import ExtrapolationWarning

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True, database=None)

# Values ---------------------------------------------------------------------------------

EDGES = [1.0, 1e40, 0.999, 1.0000001e40, 5e-324, 1e-300, 1e300, 1.7e308, 0.0, -0.0, -1.0,
         math.nan, math.inf, -math.inf, 1e-3, 1e3]
JUNK = [None, True, False, "1e9", "", [1e9, "x"], [[1.0], [1.0, 2.0]], {"N": 1.0}, 1 + 2j,
        np.datetime64("2020-01-01"), object(), np.bool_(True), np.array([]), 10**400,
        np.float32(1e9), np.int64(10**9), [1e9, 2e9]]
with np.errstate(over="ignore"):  # beyond float64; inf where long double is float64
    JUNK.append(np.longdouble(1e300) ** 2)
COUNT = st.floats(0, 40).map(lambda e: 10.0**e)  # inside [1, 1e40]
LOSS = st.floats(-3, 3).map(lambda e: 10.0**e)  # inside Kaplan's [1e-3, 1e3]
EDGE_ARRAYS = hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=3),
                         elements=st.one_of(COUNT, st.sampled_from(EDGES)))
ANYTHING = st.one_of(st.floats(), st.integers(-10**3, 10**45), st.sampled_from(EDGES),
                     st.sampled_from(JUNK), EDGE_ARRAYS, st.lists(COUNT, max_size=3))


def value(kind):
    """Mostly valid values of ``kind`` (scalars or small arrays), else anything."""
    valid = LOSS if kind == "L" else COUNT
    arrays = hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=3), elements=valid)
    return st.one_of(valid, valid, arrays, ANYTHING)


# The entry points -------------------------------------------------------------------------

ND = {"loss": ("N", "D"), "isoflop": ("C", "N_grid"), "compute_optimal": ("C",),
      "tokens_for": ("N",), "budget_for": ("N",)}
FRONTIER = {k: ND[k] for k in ("compute_optimal", "tokens_for", "budget_for")}
LAWS = {
    "kaplan": (laws.Kaplan2020(), {**ND, "loss_params": ("N",), "loss_tokens": ("D",),
                                   "loss_compute": ("C",), "loss_steps": ("N", "S"),
                                   "critical_batch": ("L",), "min_steps": ("S", "B", "L"),
                                   "min_compute": ("C", "B", "L")}),
    "chinchilla1": (laws.Chinchilla2022(approach=1), FRONTIER),
    "chinchilla2": (laws.Chinchilla2022(approach=2), FRONTIER),
    "chinchilla3": (laws.Chinchilla2022(approach=3), {**ND, "optimal_loss": ("C",)}),
    "chinchilla3-tex": (laws.Chinchilla2022(constants="tex"), {**ND, "optimal_loss": ("C",)}),
    "besiroglu": (laws.Besiroglu2024(), {**ND, "optimal_loss": ("C",)}),
    "parametric": (laws.ParametricLaw(0.0, 1e3, 1e4, 0.9, 0.05), {**ND, "optimal_loss": ("C",)}),
    "frontier": (laws.PowerLawFrontier(0.1, 0.5, 1.7, 0.5), FRONTIER),
    "muennighoff": (laws.Muennighoff2023(), {
        **ND, "optimal_loss": ("C",), "effective_data": ("D", "unique_tokens"),
        "effective_params": ("N", "unique_tokens"), "loss(unique_tokens)": ("N", "D", "*U"),
        "compute_optimal(unique_tokens)": ("C", "*U"),
        "isoflop(unique_tokens)": ("C", "N_grid", "*U")}),
    "clark": (laws.Clark2022(), {"loss": ("N", "E"), "effective_params": ("N", "E"),
                                 "expert_saturation": ("E",)}),
    "clark-hash": (laws.Clark2022("hash"), {"loss": ("N", "E")}),
    "tokens-per-parameter": (laws.TokensPerParameter(), {"tokens_for": ("N",),
                                                         "compute_optimal": ("C",)}),
}
ENTRIES = [(law, method) for law, (_, methods) in LAWS.items() for method in methods]


def call(law_id, method, args):
    """``law.method(*args)``, ``*U`` passing ``unique_tokens=`` by keyword."""
    law, methods = LAWS[law_id]
    names = methods[method]
    given = dict(zip(names, args, strict=True))
    keywords = {"unique_tokens": given.pop("*U")} if "*U" in given else {}
    positional = list(given.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        return getattr(law, method.split("(")[0])(*positional, **keywords)


def names_argument(message, names):
    """Whether the subject of ``message`` (up to its first ': ') names one of ``names``."""
    subject = message.split(": ")[0]
    return any(re.search(rf"(?<![\w']){re.escape(n)}(?![\w'])", subject) for n in names)


def result_or_named_error(function, names):
    """``function()``, or None once its ValueError is checked to name one of ``names``
    (the arguments that may be out of range)."""
    try:
        return function()
    except ValueError as error:
        message = str(error)
    names = [n.replace("*U", "unique_tokens") for n in names]
    assert names_argument(message, names), (message, names)
    return None


def refused_or_result(law_id, method, args, fuzzed):
    return result_or_named_error(lambda: call(law_id, method, args), fuzzed)


def check_numbers(result, args):
    """Finite, > 0, a float for scalar inputs, else an array of the broadcast shape."""
    for part in result if isinstance(result, tuple) else (result,):
        if all(np.ndim(a) == 0 for a in args):
            assert type(part) is float
        else:
            assert isinstance(part, np.ndarray)
            assert part.shape == np.broadcast_shapes(*(np.shape(a) for a in args))
        assert np.all(np.isfinite(part))
        assert np.all(np.asarray(part) > 0)


def check_consistent(law_id, method, args, result):
    """What a result implies about the law's other methods."""
    law = LAWS[law_id][0]
    frontier = isinstance(law, laws.PowerLawFrontier) or getattr(law, "approach", 3) != 3
    if method.startswith("compute_optimal") and not frontier:
        n, d = result
        assert np.allclose(6 * np.asarray(n) * d, args[0], rtol=1e-9)
    if method == "budget_for" and np.all((np.asarray(result) >= 1) & (result <= 1e40)):
        n, _ = call(law_id, "compute_optimal", [result])
        assert np.allclose(n, args[0], rtol=1e-6)
    if method == "isoflop":
        c, n = (np.asarray(a, dtype=np.float64) for a in args)
        assert np.allclose(result, call(law_id, "loss", [n, c / (6 * n)]), rtol=1e-12)
    if method == "optimal_loss":
        n, d = call(law_id, "compute_optimal", args)
        if np.all(np.minimum(n, d) >= 1):  # the optimum of a tiny budget is below 1
            assert np.allclose(result, call(law_id, "loss", [n, d]), rtol=1e-12)
    if method == "loss(unique_tokens)":
        assert np.all(np.asarray(result) >= call(law_id, "loss", args[:2]) * (1 - 1e-12))
    if method == "min_steps":
        assert np.all(np.asarray(result) <= args[0])
    if method == "expert_saturation":
        assert np.all((law.e_start <= np.asarray(result) * (1 + 1e-12))
                      & (np.asarray(result) <= law.e_max))


@pytest.mark.parametrize(("law_id", "method"), ENTRIES, ids=[f"{a}.{b}" for a, b in ENTRIES])
@SETTINGS
@given(data=st.data())
def test_every_input_is_refused_by_name_or_gives_finite_numbers(law_id, method, data):
    names = LAWS[law_id][1][method]
    args = [data.draw(value(n), label=n) for n in names]
    result = refused_or_result(law_id, method, args, names)
    if result is not None:
        check_numbers(result, args)
        check_consistent(law_id, method, args, result)


VALID = {"L": 3.0, "S": 1e4, "B": 1e6, "E": 8.0, "*U": 1e10, "C": 1e21, "N_grid": 1e9,
         "D": 2e10}


@pytest.mark.parametrize(("law_id", "method"), ENTRIES, ids=[f"{a}.{b}" for a, b in ENTRIES])
def test_each_edge_and_junk_value_is_refused_by_its_name(law_id, method):
    """One argument at a time takes every edge and junk value, the others valid: a
    refusal must name that argument."""
    names = LAWS[law_id][1][method]
    for i, name in enumerate(names):
        for bad in [*EDGES, *JUNK]:
            args = [bad if j == i else VALID.get(n, 1e9) for j, n in enumerate(names)]
            result = refused_or_result(law_id, method, args, [name])
            if result is not None:
                check_numbers(result, args)
                check_consistent(law_id, method, args, result)


# Constructors -------------------------------------------------------------------------------

PARAMETRIC = ("E", "A", "B", "alpha", "beta")
CONSTRUCTORS = {
    "Kaplan2020": (laws.Kaplan2020, (), (
        "alpha_n", "n_c", "alpha_d", "d_c", "alpha_c", "c_c", "alpha_b", "b_star",
        "nd_alpha_n", "nd_alpha_d", "nd_n_c", "nd_d_c", "alpha_s", "s_c", "n_opt_coeff",
        "n_opt_exponent", "overfit_coeff", "overfit_exponent", "fitted_range"), "kaplan"),
    "Chinchilla2022": (laws.Chinchilla2022, (), (*PARAMETRIC, "approach", "constants",
                                                 "fitted_range"), "chinchilla3"),
    "Chinchilla2022(1)": (laws.Chinchilla2022, (1,), ("n_coeff", "a", "d_coeff", "b"),
                          "chinchilla1"),
    "Besiroglu2024": (laws.Besiroglu2024, (), (*PARAMETRIC, "fitted_range"), "besiroglu"),
    "Muennighoff2023": (laws.Muennighoff2023, (), (*PARAMETRIC, "r_n_star", "r_d_star",
                                                   "fitted_range"), "muennighoff"),
    "ParametricLaw": (laws.ParametricLaw, (1.7, 400.0, 400.0, 0.3, 0.3),
                      (*PARAMETRIC, "name", "fitted_range"), "parametric"),
    "PowerLawFrontier": (laws.PowerLawFrontier, (0.1, 0.5, 1.7, 0.5),
                         ("n_coeff", "a", "d_coeff", "b", "name", "fitted_range"), "frontier"),
    "Clark2022": (laws.Clark2022, (), ("routing", "a", "b", "c", "d", "e_start", "e_max",
                                       "fitted_range"), "clark"),
    "TokensPerParameter": (laws.TokensPerParameter, (), ("ratio",), "tokens-per-parameter"),
}
POSITIONAL = {"ParametricLaw": PARAMETRIC, "PowerLawFrontier": ("n_coeff", "a", "d_coeff", "b")}
RANGES = st.dictionaries(st.sampled_from(["N", "D", "S", "E", "epochs", "n"]),
                         st.one_of(st.tuples(st.floats(), st.floats()), ANYTHING), max_size=2)
CONSTANT = st.one_of(ANYTHING, st.floats(-300, 300).map(lambda e: 10.0**e),
                     st.floats(-2, 3).map(lambda e: 10.0**e), st.floats(-1, 1))


@pytest.mark.parametrize("kind", CONSTRUCTORS)
@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_constructors_refuse_by_name_or_give_a_law_whose_results_are_finite(kind, data):
    """A constant out of range is refused naming it; a law built from constants in range
    (however extreme) gives finite results, or refuses inputs whose results would leave
    float64, naming them."""
    make, args, keywords, law_id = CONSTRUCTORS[kind]
    key = data.draw(st.sampled_from(keywords), label="constant")
    given_value = data.draw(RANGES if key == "fitted_range" else CONSTANT, label=key)
    kwargs = {key: given_value}
    if kind in POSITIONAL and key in POSITIONAL[kind]:
        args = tuple(given_value if n == key else a for n, a in zip(POSITIONAL[kind], args,
                                                                      strict=True))
        kwargs = {}
    law = result_or_named_error(lambda: make(*args, **kwargs), [key])
    if law is None or key == "fitted_range":  # the ranges only warn
        return
    methods = LAWS[law_id][1]
    LAWS["under-test"] = (law, methods)
    try:
        for method, names in methods.items():
            for point in (1.0, 1e20, 1e40):
                args_in = [VALID.get(n, point) if n in ("L", "*U", "E") else point
                           for n in names]
                result = refused_or_result("under-test", method, args_in, names)
                if result is not None:
                    check_numbers(result, args_in)
    finally:
        del LAWS["under-test"]


# Fitting -------------------------------------------------------------------------------------

def _runs():
    """Twenty runs on four isoFLOP profiles of Besiroglu2024, without noise."""
    law = laws.Besiroglu2024(fitted_range={})
    budgets = np.repeat(np.logspace(18, 21, 4), 5)
    n = np.tile(np.logspace(-0.5, 0.5, 5), 4) * law.compute_optimal(budgets)[0]
    d = budgets / (6 * n)
    return n, d, law.loss(n, d)


RUN_N, RUN_D, RUN_LOSS = _runs()
# One starting point, at the law behind the runs: each fit is a few L-BFGS steps.
SMALL_GRID = {"a": [np.log(482.01)], "b": [np.log(2085.43)], "e": [np.log(1.8172)],
              "alpha": [0.3478], "beta": [0.3658]}
SMALL_COUNT = st.one_of(st.integers(-2, 3), st.integers(10**5, 2**70), st.sampled_from(JUNK))
FIT_ARGUMENTS = {
    "N": ANYTHING, "D": ANYTHING, "loss": ANYTHING,
    "delta": CONSTANT, "ci": st.one_of(st.floats(), ANYTHING), "seed": st.one_of(
        st.integers(-3, 2**70), ANYTHING), "n_starts": SMALL_COUNT, "n_bootstrap": SMALL_COUNT,
    "form": st.sampled_from(["chinchilla", "kaplan", None, ["chinchilla"]]),
    "grid": st.one_of(ANYTHING, st.just(SMALL_GRID), st.just({**SMALL_GRID, "a": [np.nan]})),
}


def fitted(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        return function(*args, **kwargs)


def check_fit(result):
    if isinstance(result, laws.ParametricFit):
        law = result.law
        values = [law.E, law.A, law.B, law.alpha, law.beta, result.a, result.b,
                  *(x for pair in result.ci.values() for x in pair), *result.bootstrap.ravel()]
        assert np.isfinite(values).all()
        assert min(law.alpha, law.beta) > 0
    else:
        assert np.isfinite([result.law.n_coeff, result.law.d_coeff, result.a, result.b]).all()
        assert min(result.a, result.b) > 0
        for array in (result.budgets, result.n_opt, result.d_opt, result.loss_opt):
            assert np.isfinite(array).all()
            assert (array > 0).all()


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_fit_refuses_each_argument_by_name_or_gives_finite_constants(data):
    key = data.draw(st.sampled_from(list(FIT_ARGUMENTS)), label="argument")
    kwargs = {"N": RUN_N, "D": RUN_D, "loss": RUN_LOSS, "grid": SMALL_GRID, "n_starts": 1,
              "n_bootstrap": 2}
    kwargs[key] = data.draw(FIT_ARGUMENTS[key], label=key)
    result = result_or_named_error(lambda: fitted(laws.fit, **kwargs), [key])
    if result is not None:
        check_fit(result)


@st.composite
def columns(draw):
    """Two columns of counts (half the time with edge values, else 1e6 to 1e12) and one of
    losses."""
    size = draw(st.integers(0, 24))
    plain = st.floats(6, 12).map(lambda e: 10.0**e)
    counts = st.one_of(COUNT, st.sampled_from(EDGES)) if draw(st.booleans()) else plain
    return (draw(hnp.arrays(np.float64, size, elements=counts)),
            draw(hnp.arrays(np.float64, size, elements=counts)),
            draw(hnp.arrays(np.float64, size, elements=st.floats(0.5, 5.0))))


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(columns=columns(), function=st.sampled_from(["fit", "fit_isoflop", "fit_envelope"]),
       grouped=st.booleans(), lawful=st.booleans())
def test_fits_of_arbitrary_runs_are_refused_by_name_or_finite(columns, function, grouped,
                                                              lawful):
    """Arbitrary runs: a refusal names the data, a fit is finite. Half the time the runs
    share three budgets or sizes (so that isoFLOP profiles and training curves form), and
    half the time their losses follow Besiroglu2024 (with noise from the drawn loss)."""
    first, second, loss = columns
    names = ("C", "N") if function == "fit_isoflop" else ("N", "D")
    if grouped and first.size:
        first = np.resize([1e18, 1e19, 1e20] if names[0] == "C" else [1e8, 1e9, 1e10],
                          first.size)
    if lawful and first.size:
        with np.errstate(all="ignore"):  # edge values; the law refuses what they give
            n, d = (second, first / (6 * second)) if names[0] == "C" else (first, second)
        law = laws.Besiroglu2024(fitted_range={})
        noise = 1 + (loss - 2.75) / 200  # within 1.2 %
        loss = result_or_named_error(lambda: law.loss(n, d) * noise, ["N", "D"])
        if loss is None:  # an isoFLOP run with less than one token
            return
    kwargs = {"grid": SMALL_GRID, "n_starts": 1, "n_bootstrap": 2} if function == "fit" else {}
    result = result_or_named_error(
        lambda: fitted(getattr(laws, function), first, second, loss, **kwargs),
        [*names, "loss"])
    if result is not None:
        check_fit(result)


@pytest.mark.parametrize(("key", "bad"), [("n_budgets", 2**31), ("n_budgets", 1),
                                          ("n_budgets", "1500"), ("min_runs", 0),
                                          ("min_runs", 10**9), ("runs", [None] * 10),
                                          ("runs", np.full(10, np.inf))])
def test_fit_envelope_refuses_its_arguments_by_name(key, bad):
    n = np.repeat([1e8, 1e9], 5)
    d = np.tile(np.logspace(9, 11, 5), 2)
    with pytest.raises(ValueError, match=rf"^{key}\b"):
        laws.fit_envelope(n, d, 3.0 - np.log10(d) / 10, **{key: bad})
