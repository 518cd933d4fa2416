"""Which parameters each law's N counts, and the reconciliation of Kaplan et al. 2020 with
Hoffmann et al. 2022 through that choice (Pearce & Song 2024; Porian et al. 2024)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf import laws


def test_the_laws_say_what_their_n_counts():
    """Kaplan et al. 2020 §2.1 count non-embedding parameters; Hoffmann et al. 2022 all
    of them (and the laws that follow their method)."""
    assert laws.Kaplan2020().params_convention is laws.NON_EMBEDDING
    for law in (laws.Chinchilla2022(approach=a) for a in (1, 2, 3)):
        assert law.params_convention is laws.TOTAL
    assert laws.Besiroglu2024().params_convention is laws.TOTAL
    assert laws.TokensPerParameter().params_convention is laws.TOTAL
    assert str(laws.TOTAL) == "total"
    assert str(laws.NON_EMBEDDING) == "non_embedding"


def test_params_of_a_tied_model():
    """GPT-2 small ties its head to the 50257 x 768 token table, and learns 1024 x 768
    positions: the conventions differ by exactly those tables."""
    arch = sp.Architecture.preset("gpt2-small")
    report = sp.estimate(arch, 1, 1)
    tables = 50257 * 768 + 1024 * 768
    total = laws.Chinchilla2022().params_of(arch)
    non_embedding = laws.Kaplan2020().params_of(report)
    assert total == report.params.total
    assert total - non_embedding == tables
    assert laws.param_convention("total_without_head").count(arch) == total
    assert laws.param_convention("non_embedding_with_head").count(arch) == (
        non_embedding + 50257 * 768)


def test_params_of_an_untied_model():
    """An untied head is a second vocab x d_model matrix, counted with the head."""
    arch = sp.Architecture.preset("chinchilla-70b")
    assert not arch.tie_embeddings
    matrix = arch.vocab_size * arch.d_model
    total = laws.TOTAL.count(arch)
    non_embedding = laws.NON_EMBEDDING.count(arch)
    assert total - non_embedding == 2 * matrix
    assert laws.param_convention("non_embedding_with_head").count(arch) == non_embedding + matrix
    assert laws.param_convention("total_without_head").count(arch) == total - matrix


def test_params_of_a_mixture_of_experts():
    """Active parameters by default (what a token passes through), or every expert."""
    arch = sp.Architecture.preset("mixtral-8x7b")
    report = sp.estimate(arch, 1, 1)
    assert laws.TOTAL.count(arch) == report.params.active
    every = laws.ParamConvention(embeddings=True, head=True, experts="all")
    assert every.count(arch) == report.params.total > report.params.active
    assert every.name == "total+all_experts"


def test_fitted_forms_take_a_convention():
    law = laws.ParametricLaw(1.69, 406.4, 410.7, 0.34, 0.28, params_convention="non_embedding")
    assert law.params_convention is laws.NON_EMBEDDING
    frontier = laws.PowerLawFrontier(0.1, 0.5, 1.7, 0.5)
    assert frontier.params_convention is laws.TOTAL


@pytest.mark.parametrize("value", ["embedding", "", None, 3, ("total",)])
def test_bad_convention(value):
    with pytest.raises(ValueError, match=r"params_convention=.* is invalid: .*'total'"):
        laws.param_convention(value)


@pytest.mark.parametrize("model", [None, 7e9, "gpt2-small", {"d_model": 768}])
def test_bad_model(model):
    with pytest.raises(ValueError, match=r"model=.* is invalid: it must be a scalingperf"):
        laws.Kaplan2020().params_of(model)


def test_laws_without_a_separate_import(tmp_path):
    """``import scalingperf as sp; sp.laws.X`` works in a fresh interpreter."""
    code = ("import scalingperf as sp; "
            "n, d = sp.laws.Chinchilla2022(approach=1).budget_for(1e9), 0; "
            "print(type(sp.laws.Kaplan2020()).__name__, round(n / 1e20, 1))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, check=True)
    assert done.stdout.split() == ["Kaplan2020", "1.2"]


# The reconciliation --------------------------------------------------------------------

def _non_embedding_optimum(law, budget):
    """The non-embedding size that minimises ``law``'s loss at ``budget`` FLOPs counted
    as Kaplan et al. count them, ``C = 6 N_\\E D``, for the family of shapes of Pearce &
    Song 2024 (``N_T = N_\\E + 47491 N_\\E^(1/3)``): a fine grid, 2000 points a decade."""
    grid = np.logspace(1, 13, 24001)
    grid = grid[6 * grid <= budget]
    losses = law.loss(laws.total_from_non_embedding(grid), budget / (6 * grid))
    return float(grid[np.argmin(losses)])


def test_kaplan_and_chinchilla_reconciled():
    """Pearce & Song 2024: Chinchilla's law, counted in Kaplan's non-embedding parameters
    and compute, over the sizes Kaplan et al. trained (768 to 1.5e9 non-embedding
    parameters, §1), has Kaplan's exponent N_opt ∝ C^0.73 (eq. 1.7); in total parameters,
    or at scale, it has Chinchilla's a = 0.46 (Table 2)."""
    chinchilla = laws.Chinchilla2022(approach=3, fitted_range={})
    kaplan = laws.Kaplan2020()
    low, high = kaplan.fitted_range["N"]
    assert (low, high) == (768.0, 1.5e9)
    assert laws.PEARCE_SONG_GAMMA == 47491
    budgets = np.logspace(12.5, 21.5, 73)
    optima = np.array([_non_embedding_optimum(chinchilla, c) for c in budgets])
    inside = (optima >= low) & (optima <= high)
    assert inside.sum() > 50  # the budgets span Kaplan's sizes
    slope = np.polyfit(np.log(budgets[inside]), np.log(optima[inside]), 1)[0]
    assert slope == pytest.approx(kaplan.n_opt_exponent, abs=0.02)  # 0.738 against 0.73
    # The same law in total parameters: a = beta / (alpha + beta) = 0.456 at every scale.
    assert round(chinchilla.a, 2) == 0.46
    large = np.logspace(24, 27, 13)
    at_scale = np.array([_non_embedding_optimum(chinchilla, c) for c in large])
    assert np.polyfit(np.log(large), np.log(at_scale), 1)[0] == pytest.approx(
        chinchilla.a, abs=0.005)


def test_total_from_non_embedding():
    assert laws.total_from_non_embedding(1e9) == pytest.approx(1e9 + 47491 * 1e3)
    assert laws.total_from_non_embedding([8.0, 27.0], gamma=1.0).tolist() == [10.0, 30.0]
    with pytest.raises(ValueError, match=r"n_non_embedding=0\.0 is invalid"):
        laws.total_from_non_embedding(0.0)
    with pytest.raises(ValueError, match=r"gamma=-1\.0 is invalid"):
        laws.total_from_non_embedding(1e9, gamma=-1.0)


@given(st.sampled_from(sorted(sp.presets())), st.booleans())
@settings(max_examples=25, deadline=None)
def test_conventions_are_ordered(name, every_expert):
    """On every preset: the non-embedding count is the least, the total the most, and
    adding the head or the tables lands between; all experts count at least the active."""
    arch = sp.Architecture.preset(name)
    experts = "all" if every_expert else "active"
    count = {key: laws.ParamConvention(*flags, experts=experts).count(arch)
             for key, flags in (("none", (False, False)), ("head", (False, True)),
                                ("tables", (True, False)), ("all", (True, True)))}
    assert count["none"] < count["head"] <= count["all"]
    assert count["none"] < count["tables"] <= count["all"]
    assert count["all"] == pytest.approx(count["head"] + count["tables"] - count["none"]
                                         - (arch.vocab_size * arch.d_model
                                            if arch.tie_embeddings else 0))
    assert laws.ParamConvention(True, True, "all").count(arch) >= laws.TOTAL.count(arch)
