"""Kumar et al. 2024's precision-aware law against what the paper prints
(tests/data/published_laws.json), its ties to the time model's dtypes, its fit, and its
input boundary."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf import laws
from scalingperf.laws import ExtrapolationWarning

PAPER = json.loads((Path(__file__).parent / "data" / "published_laws.json").read_text())[
    "kumar2024"]
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None)
INSIDE = {"N": 1e8, "D": 1e10}


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        return function(*args, **kwargs)


def test_constants_are_table_2():
    law = laws.Kumar2024()
    for name, value in PAPER["table2"].items():
        if name != "where":
            assert getattr(law, name) == value, name
    assert law.beta == law.alpha  # tied, as Appendix K fits them
    assert law.params_convention.name == "non_embedding"


def test_compute_optimal_precision_is_the_papers_7_to_8_bits():
    printed = PAPER["compute_optimal_precision"]
    p_star = laws.Kumar2024().compute_optimal_precision()
    assert printed["low_bits"] <= p_star <= printed["high_bits"]
    assert p_star == pytest.approx(7.002, abs=1e-3)
    # It is the maximum of f(P) / P (eq. 7 with alpha = beta): the budget drops out.
    law = laws.Kumar2024(fitted_range={})
    grid = np.linspace(5, 10, 5001)
    gains = law.effective_params(1e8, grid) / 1e8 / grid
    assert grid[np.argmax(gains)] == pytest.approx(p_star, abs=1e-3)


def test_the_optimum_over_n_d_and_p_does_not_depend_on_the_budget():
    law = laws.Kumar2024(fitted_range={})
    bits = np.linspace(4, 16, 241)
    for budget in (1e19, 1e23):
        n, d = law.compute_optimal(budget, bits)
        best = bits[np.argmin(law.loss(n, d, bits))]
        assert best == pytest.approx(law.compute_optimal_precision(), abs=0.05)


def test_four_bits_need_more_than_four_times_the_parameters():
    printed = PAPER["four_bit_size"]
    law = laws.Kumar2024()
    kept = law.effective_params(1e8, printed["bits"]) / 1e8
    assert 1 / kept > printed["more_than"]
    # By hand: prod over parts of 1 - exp(-4 / gamma + n).
    table = PAPER["table2"]
    by_hand = math.prod(1 - math.exp(-4 / table[f"gamma_{x}"] + table[f"n_{x}"])
                        for x in ("w", "a", "kv"))
    assert kept == pytest.approx(by_hand, rel=1e-12)
    assert 1 / kept == pytest.approx(5.236, abs=1e-3)


def test_three_bit_activations_keep_no_parameters_as_those_runs_diverged():
    law = laws.Kumar2024()
    bits = PAPER["unstable_activations"]["bits"]
    with pytest.raises(ValueError, match=r"P_a=3\.0.*keeps no effective parameters"):
        law.effective_params(1e8, 16, bits, 16)
    # The KV cache's factor is still positive at 3 bits (0.51) and vanishes below 2.5.
    assert law.effective_params(1e8, 16, 16, bits) / 1e8 == pytest.approx(0.507, abs=1e-3)
    with pytest.raises(ValueError, match="keeps no effective parameters"):
        quiet(law.effective_params, 1e8, 16, 16, 2)
    # Weights alone train at 3 bits (Appendix L): 56 % of the parameters kept.
    assert law.effective_params(1e8, bits, 16, 16) / 1e8 == pytest.approx(0.557, abs=1e-3)


def test_dtype_names_are_their_bits():
    law = laws.Kumar2024()
    assert laws.DTYPE_BITS == {"fp32": 32.0, "tf32": 19.0, "bf16": 16.0, "fp16": 16.0,
                               "fp8": 8.0, "mxfp8": 8.0, "nvfp4": 4.0}
    for dtype in ("bf16", "fp8", "fp16"):
        bits = laws.DTYPE_BITS[dtype]
        assert law.loss(1e8, 1e10, dtype) == law.loss(1e8, 1e10, bits)
    # Every format the time model has (a device's peak_flops keys) has its bits.
    assert set(sp.devices.get_hardware("H100-SXM").peak_flops) <= set(laws.DTYPE_BITS)
    # FP8 keeps less than BF16, and per part as given.
    assert law.effective_params(1e8, "fp8") < law.effective_params(1e8, "bf16") < 1e8
    assert law.effective_params(1e8, "fp8", "bf16", "bf16") == pytest.approx(
        law.effective_params(1e8, 8, 16, 16))


def test_loss_is_chinchilla_in_the_effective_parameters():
    law = laws.Kumar2024()
    t = PAPER["table2"]
    n_eff = law.effective_params(1e8, 6, 8, 5)
    expected = t["A"] * n_eff ** -t["alpha"] + t["B"] * 1e10 ** -t["alpha"] + t["E"]
    assert law.loss(1e8, 1e10, 6, 8, 5) == pytest.approx(expected, rel=1e-12)
    # More bits, lower loss, saturating: BF16 within 1 % of the 32-bit loss.
    losses = law.loss(1e8, 1e10, np.array([4, 6, 8, 12, 16]))
    assert np.all(np.diff(losses) < 0)
    assert quiet(law.loss, 1e8, 1e10, 32) == pytest.approx(losses[-1], rel=0.01)


def test_ptq_degradation_is_eq_2():
    law = laws.Kumar2024()
    t = PAPER["table2"]
    n, d, bits = 1e8, 1.2e10, 4
    expected = (t["C_T"] * d ** t["gamma_D"] / n ** t["gamma_N"]
                * math.exp(-bits / t["gamma_post"] + t["b"]))
    assert law.ptq_degradation(n, d, bits) == pytest.approx(expected, rel=1e-12)
    # Finding 1: it grows with data and shrinks with parameters and bits.
    assert law.ptq_degradation(n, 2 * d, bits) > law.ptq_degradation(n, d, bits)
    assert law.ptq_degradation(2 * n, d, bits) < law.ptq_degradation(n, d, bits)
    assert law.ptq_degradation(n, d, "fp8") < law.ptq_degradation(n, d, bits)


def test_compute_optimal_spends_the_budget_at_its_precision():
    law = laws.Kumar2024(fitted_range={})
    for bits in (16.0, 8.0, 5.0):
        n, d = law.compute_optimal(1e20, bits)
        assert 6 / 16 * n * d * bits == pytest.approx(1e20, rel=1e-12)
        # A minimum along the isoFLOP line.
        for step in (0.98, 1.02):
            assert law.loss(n * step, d / step, bits) > law.loss(n, d, bits)
        assert law.tokens_for(n, bits) == pytest.approx(d, rel=1e-9)
    # Eq. 6: at lower precision, more parameters, and fewer tokens per parameter (D / N
    # goes as f(P) with alpha = beta; N as (f(P) P)^-1/2).
    n16, d16 = law.compute_optimal(1e20, 16)
    n6, d6 = law.compute_optimal(1e20, 6)
    assert n6 > n16
    assert d6 / n6 < d16 / n16
    f6, f16 = (law.effective_params(1e8, bits) / 1e8 for bits in (6, 16))
    assert (d6 / n6) / (d16 / n16) == pytest.approx(f6 / f16, rel=1e-9)
    assert n6 / n16 == pytest.approx(math.sqrt(f16 * 16 / (f6 * 6)), rel=1e-9)


def test_broadcasting():
    law = laws.Kumar2024(fitted_range={})
    out = law.loss(np.array([[1e8], [2e8]]), np.array([1e10, 2e10, 4e10]), 8)
    assert out.shape == (2, 3)
    assert out[1, 2] == law.loss(2e8, 4e10, 8)
    n, d = law.compute_optimal(np.array([1e19, 1e20]), np.array([8, 16]))
    assert n.shape == d.shape == (2,)
    assert isinstance(law.loss(1e8, 1e10), float)


def test_extrapolation_warns_and_inside_does_not():
    law = laws.Kumar2024()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtrapolationWarning)
        law.loss(INSIDE["N"], INSIDE["D"], 8)
        law.ptq_degradation(INSIDE["N"], INSIDE["D"], 4)
    with pytest.warns(ExtrapolationWarning, match="Kumar2024: N=7e\\+10"):
        law.loss(7e10, 1e10)
    with pytest.warns(ExtrapolationWarning, match="P_w=32"):
        law.loss(1e8, 1e10, "fp32")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"N": 0.5}, "N"), ({"D": math.nan}, "D"), ({"P_w": 0.5}, "P_w"), ({"P_w": 65}, "P_w"),
    ({"P_w": "int4"}, "P_w"), ({"P_a": math.inf}, "P_a"), ({"P_kv": True}, "P_kv"),
])
def test_bad_input_names_the_field(kwargs, field):
    args = {"N": 1e8, "D": 1e10, "P_w": 8, **kwargs}
    with pytest.raises(ValueError, match=rf"^{field}="):
        laws.Kumar2024().loss(**args)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"A": 0}, "A"), ({"gamma_w": -1}, "gamma_w"), ({"n_kv": math.nan}, "n_kv"),
    ({"E": -0.1}, "E"), ({"fitted_range": {"Q": (1, 2)}}, r"fitted_range\['Q'\]"),
])
def test_bad_constants_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=rf"^{field}"):
        laws.Kumar2024(**kwargs)


def test_untied_exponents_have_no_budget_free_precision():
    with pytest.raises(ValueError, match=r"alpha=.*beta=.*differ"):
        laws.Kumar2024(beta=0.3).compute_optimal_precision()


@SETTINGS
@given(st.floats(1, 1e30), st.floats(1, 1e30), st.floats(4, 64))
def test_loss_is_finite_and_above_e_everywhere(n, d, bits):
    law = laws.Kumar2024(fitted_range={})
    assert law.E < law.loss(n, d, bits) < math.inf


def test_fit_recovers_a_known_law_from_runs_in_several_formats():
    truth = laws.Kumar2024(A=3000.0, alpha=0.45, B=12000.0, beta=0.4, E=2.5, gamma_w=2.0,
                           n_w=0.5, gamma_a=2.0, n_a=0.5, gamma_kv=2.0, n_kv=0.5,
                           fitted_range={})
    n, d, p = (a.ravel() for a in np.meshgrid([3e7, 6e7, 1.1e8, 2.2e8], [1.5e9, 6e9, 2.6e10],
                                             [4, 6, 8, 12, 16], indexing="ij"))
    result = laws.fit(n, d, truth.loss(n, d, p), form="kumar", P=p)
    expected = {"a": 3000.0, "alpha": 0.45, "b": 12000.0, "beta": 0.4, "gamma": 2.0,
                "bias": 0.5, "c": 2.5}
    assert result.constants == pytest.approx(expected, rel=1e-6)
    assert result.law.loss(1e8, 1e10, 7) == pytest.approx(truth.loss(1e8, 1e10, 7))
    assert result.law.fitted_range == {"N": (3e7, 2.2e8), "D": (1.5e9, 2.6e10),
                                       "P": (4.0, 16.0)}
    with pytest.raises(ValueError, match=r"^P is missing"):
        laws.fit(n, d, truth.loss(n, d, p), form="kumar")


def test_compare_lists_it_at_bf16():
    row = quiet(laws.compare, compute=1e21)["Kumar2024"]
    law = laws.Kumar2024()
    n, d = quiet(law.compute_optimal, 1e21)
    assert (row.params, row.tokens) == pytest.approx((n, d))
    assert row.loss == pytest.approx(quiet(law.loss, n, d))
    assert row.params_convention == "non_embedding"
