"""laws.compare: every registered law side by side, and laws.register."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalingperf import laws
from scalingperf.laws import _compare

GOPHER = laws.GOPHER_FLOPS
BUILT_IN = ["Chinchilla2022(approach=1)", "Chinchilla2022(approach=2)",
            "Chinchilla2022(approach=3)", "Besiroglu2024", "Kaplan2020", "Muennighoff2023",
            "TokensPerParameter(20)", "Clark2022('s-base')"]


@pytest.fixture
def registry(monkeypatch):
    """A copy of the registry, so that a test's registrations do not outlive it."""
    monkeypatch.setattr(_compare, "_REGISTRY", dict(_compare._REGISTRY))


def test_compare_at_gopher_budget():
    """Each law's allocation at Gopher's 5.76e23 FLOPs is the law's own compute_optimal,
    in its own parameter convention, with its loss where it has one."""
    table = laws.compare(compute=GOPHER)
    assert table.labels[:len(BUILT_IN)] == BUILT_IN
    assert table.compute == GOPHER
    assert table.params is None
    assert table.tokens is None
    for label in BUILT_IN:
        law, row = laws.registered()[label], table[label]
        assert row.params_convention == law.params_convention.name
        if row.params is None:
            assert row.note
            continue
        n, d = _quiet(law.compute_optimal, GOPHER)
        assert (row.params, row.tokens) == (pytest.approx(n), pytest.approx(d))
        assert row.tokens_per_param == pytest.approx(d / n)
        assert row.compute == GOPHER
    assert table["Kaplan2020"].params_convention == "non_embedding"
    assert table["Chinchilla2022(approach=3)"].loss == pytest.approx(
        _quiet(laws.Chinchilla2022().optimal_loss, GOPHER))
    assert table["Chinchilla2022(approach=1)"].loss is None  # a frontier has no loss
    assert table["Chinchilla2022(approach=1)"].extrapolated  # 68B is beyond its 16B
    assert not table["TokensPerParameter(20)"].extrapolated


def test_compare_at_a_model_size():
    """Given N: the tokens each law recommends, and C = 6 N D."""
    table = laws.compare(params=1e9)
    row = table["Chinchilla2022(approach=1)"]
    assert row.tokens == pytest.approx(laws.Chinchilla2022(approach=1).tokens_for(1e9))
    assert row.compute == pytest.approx(6 * 1e9 * row.tokens)
    assert table["TokensPerParameter(20)"].tokens == pytest.approx(2e10)


@pytest.mark.parametrize(("kwargs", "n", "d"), [
    ({"params": 7e10, "tokens": 1.4e12}, 7e10, 1.4e12),
    ({"compute": 6 * 7e10 * 1.4e12, "params": 7e10}, 7e10, 1.4e12),
    ({"compute": 6 * 7e10 * 1.4e12, "tokens": 1.4e12}, 7e10, 1.4e12)])
def test_compare_at_a_given_run(kwargs, n, d):
    """Two of C, N, D fix the third by C = 6 N D: every law's loss at the same run."""
    table = laws.compare(**kwargs)
    for row in table.rows:
        assert row.params == pytest.approx(n)
        assert row.tokens == pytest.approx(d)
        assert row.compute == pytest.approx(6 * n * d)
    assert table["Chinchilla2022(approach=3)"].loss == pytest.approx(
        _quiet(laws.Chinchilla2022().loss, n, d))
    assert table["Clark2022('s-base')"].loss is None


def test_table_outputs():
    table = laws.compare(compute=1e21)
    text = str(table)
    for label in BUILT_IN:
        assert label in text
    assert "non_embedding" in text
    assert "Hoffmann et al. 2022" in text
    data = table.to_dict()
    assert data["compute"] == 1e21
    assert len(data["rows"]) == len(table.rows)
    assert set(data["rows"][0]) == {"law", "params", "tokens", "tokens_per_param", "compute",
                                    "loss", "params_convention", "extrapolated", "source", "note"}
    frame = table.to_pandas()
    assert list(frame.index) == table.labels
    assert frame.loc["Kaplan2020", "params"] == table["Kaplan2020"].params
    with pytest.raises(KeyError, match="is not in the table"):
        table["Nobody2099"]


def test_register(registry):
    law = laws.ParametricLaw(2.0, 400.0, 400.0, 0.3, 0.3, name="MyRuns")
    laws.register(law, source="our runs, 2026")
    row = laws.compare(compute=1e20)["MyRuns"]
    assert row.source == "our runs, 2026"
    assert row.params == pytest.approx(law.compute_optimal(1e20)[0])
    with pytest.raises(ValueError, match="label='MyRuns' is invalid: a law is registered"):
        laws.register(law)
    laws.register(laws.TokensPerParameter(10), label="MyRuns", replace=True)
    assert laws.compare(compute=1e20)["MyRuns"].tokens_per_param == pytest.approx(10)
    with pytest.raises(ValueError, match="label='' is invalid"):
        laws.register(law, label="")
    with pytest.raises(ValueError, match="params_convention=None is invalid"):
        laws.register(object(), label="no convention")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({}, "compute=None"), ({"tokens": 1e12}, "compute=None"),
    ({"compute": 1e21, "params": 1e9, "tokens": 1e10}, "compute=1e+21"),
    ({"compute": -1.0}, "compute=-1.0"), ({"params": math.nan}, "params=nan"),
    ({"compute": [1e21, 1e22]}, "compute is invalid"), ({"tokens": 1e41, "params": 1}, "tokens"),
    ({"compute": 100.0, "params": 1e3}, "compute=100.0 is invalid with params")])
def test_compare_refuses(kwargs, field):
    with pytest.raises(ValueError, match=field.replace("+", r"\+")):
        laws.compare(**kwargs)


@given(st.floats(min_value=1e12, max_value=1e30))
@settings(max_examples=30, deadline=None)
def test_compare_any_budget(compute):
    """Across budgets, every allocating law gives finite N and D > 0 and no warning."""
    for row in laws.compare(compute=compute).rows:
        if row.params is not None:
            assert row.params > 0
            assert row.tokens > 0
            assert math.isfinite(row.params * row.tokens)


def _quiet(function, *args):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", laws.ExtrapolationWarning)
        return function(*args)


def test_compare_a_model_counts_n_per_law():
    """Given a model, each law takes N as it counts it: GPT-2 small is 85.1M parameters to
    Kaplan et al. (no embedding tables), 124.4M to Hoffmann et al."""
    import scalingperf as sp

    gpt2 = sp.Architecture.preset("gpt2-small")
    table = laws.compare(params=gpt2, tokens=1e10)
    assert table.model == "gpt2-small"
    assert table.to_dict()["model"] == "gpt2-small"
    assert "model=gpt2-small" in str(table)
    kaplan, chinchilla = table["Kaplan2020"], table["Chinchilla2022(approach=3)"]
    assert kaplan.params == laws.Kaplan2020().params_of(gpt2) == laws.NON_EMBEDDING.count(gpt2)
    assert chinchilla.params == laws.TOTAL.count(gpt2)
    assert chinchilla.params - kaplan.params == 50257 * 768 + 1024 * 768
    assert chinchilla.loss == pytest.approx(laws.Chinchilla2022().loss(chinchilla.params, 1e10))
    report = sp.estimate(gpt2, 1, 1)
    assert laws.compare(params=report, compute=1e20)["Kaplan2020"].tokens == pytest.approx(
        1e20 / (6 * kaplan.params))
    with pytest.raises(ValueError, match=r"compute=1000\.0 is invalid with params=124439808\.0"):
        laws.compare(params=gpt2, compute=1e3)
