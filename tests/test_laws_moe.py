"""The joint MoE law of Ludziejewski et al. 2025 against its paper's Tables 1, 3 and 4
(tests/data/published_laws.json), its allocations, and its input boundary."""

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

PAPER = json.loads((Path(__file__).parent / "data" / "published_laws.json").read_text())[
    "ludziejewski2025"]
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None)


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        return function(*args, **kwargs)


def printed(value: float) -> float:
    """Half a unit in the last digit printed of ``value``, relative to it (1.7e9: 0.05e9)."""
    exponent = math.floor(math.log10(value))
    mantissa = f"{value / 10**exponent:.6g}"
    digits = len(mantissa.replace(".", "").lstrip("0"))
    return 0.5 * 10.0 ** (exponent - digits + 1) / value


def test_constants_are_table3():
    law = laws.Ludziejewski2025()
    for name, value in PAPER["table3"].items():
        if name != "where":
            assert getattr(law, name) == value, name


@pytest.mark.parametrize("row", PAPER["table1"]["rows"],
                         ids=lambda r: f"{r['flops']:.0e}-E{r['experts']}")
def test_table1(row):
    """Every compute-optimal N and D of Table 1 within the rounding it prints, or 1.3 %
    where it prints three digits (Table 3's constants are themselves rounded)."""
    n, d = quiet(laws.Ludziejewski2025().compute_optimal, row["flops"], row["experts"])
    assert n == pytest.approx(row["params"], rel=max(0.013, printed(row["params"])))
    assert d == pytest.approx(row["tokens"], rel=max(0.013, printed(row["tokens"])))
    assert 6 * n * d == pytest.approx(row["flops"], rel=1e-12)


def test_table1_broadcasts():
    rows = PAPER["table1"]["rows"]
    flops = np.array([r["flops"] for r in rows]).reshape(3, 6)
    experts = np.array([r["experts"] for r in rows[:6]])
    n, d = quiet(laws.Ludziejewski2025().compute_optimal, flops, experts)
    assert n.shape == d.shape == (3, 6)
    np.testing.assert_allclose(n.ravel(), [r["params"] for r in rows], rtol=0.035)
    # Finding 1: more experts, fewer active parameters and more tokens.
    assert np.all(np.diff(n, axis=1) < 0)
    assert np.all(np.diff(d, axis=1) > 0)


@pytest.mark.parametrize("row", PAPER["table4"]["rows"], ids=lambda r: f"E{r['experts']}")
def test_table4(row):
    """The law reduced to Hoffmann et al.'s form at fixed E: coefficients within 0.3 %,
    exponents within 2e-4 (Table 3's four digits)."""
    reduced = laws.Ludziejewski2025().reduced(row["experts"])
    assert pytest.approx(row["m"], rel=3e-3) == reduced.A
    assert -reduced.alpha == pytest.approx(row["mu"], abs=2e-4)
    assert pytest.approx(row["n"], rel=3e-3) == reduced.B
    assert -reduced.beta == pytest.approx(row["nu"], abs=2e-4)
    assert reduced.E == 1.3637
    assert reduced.params_convention is laws.TOTAL


def test_loss_matches_its_reduction_and_more_experts_help():
    law = laws.Ludziejewski2025()
    n, d = 5e8, 1e10
    for experts in (1, 4, 32):
        assert law.loss(n, d, experts) == pytest.approx(law.reduced(experts).loss(n, d),
                                                        rel=1e-12)
    losses = law.loss(n, d, [1, 2, 4, 8, 16, 32])
    assert np.all(np.diff(losses) < 0)
    assert law.expert_saturation(1) == pytest.approx(law.e_start, rel=1e-12)


def test_learning_rate_eq8():
    law = laws.Ludziejewski2025()
    assert law.learning_rate(1e8) == pytest.approx(math.exp(8.39 - 0.81 * math.log(1e8)))
    assert law.learning_rate(1e8, 8) / law.learning_rate(1e8) == pytest.approx(8**-0.25)


def test_inference_and_memory_optima():
    law = laws.Ludziejewski2025(fitted_range={})
    n_c, _ = law.compute_optimal(5e22, [1, 8])
    n_i, d_i = law.inference_optimal(5e22, 1e11, [1, 8])
    assert np.all(n_i < n_c)
    np.testing.assert_allclose(6 * n_i * d_i + 2 * n_i * 1e11, 5e22, rtol=1e-9)
    np.testing.assert_allclose(law.inference_optimal(5e22, 0.0, [1, 8])[0], n_c, rtol=1e-9)
    # A generous limit leaves the compute optimum; a tight one caps the model.
    assert law.memory_optimal(5e22, 1e13, 8) == pytest.approx(law.compute_optimal(5e22, 8))
    n_m, d_m = law.memory_optimal(5e22, 2e9, [1, 8])
    assert n_m[0] == pytest.approx(2e9, rel=1e-6)  # dense: total = active
    assert n_m[1] < n_m[0]
    np.testing.assert_allclose(6 * n_m * d_m, 5e22, rtol=1e-12)


def test_extrapolation_warns():
    law = laws.Ludziejewski2025()
    with pytest.warns(ExtrapolationWarning, match="E=64"):
        law.loss(1e9, 1e10, 64)


@pytest.mark.parametrize(("call", "field"), [
    (lambda law: law.loss(0.0, 1e9), "N"),
    (lambda law: law.loss(1e9, math.nan), "D"),
    (lambda law: law.loss(1e9, 1e9, 0.5), "E"),
    (lambda law: law.compute_optimal("x"), "C"),
    (lambda law: law.inference_optimal(1e21, -1.0), "inference_tokens"),
    (lambda law: law.inference_optimal(10.0, 1e3), "C"),
    (lambda law: law.memory_optimal(1e21, 1.0), "max_params"),
    (lambda law: law.memory_optimal(1e21, 1e9, vocab_size=0), "vocab_size"),
    (lambda law: law.reduced([1, 2]), "E"),
    (lambda law: law.learning_rate(1e9, None), "E"),
])
def test_bad_inputs(call, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        call(laws.Ludziejewski2025(fitted_range={}))


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"a": 0.0}, "a"), ({"c": -1.0}, "c"), ({"gamma": math.inf}, "gamma"),
    ({"e_start": 0.5}, "e_start"), ({"e_start": 300.0}, "e_start"),
    ({"fitted_range": {"M": (1, 2)}}, "fitted_range"), ({"params_convention": "x"},
                                                        "params_convention"),
])
def test_bad_constants(kwargs, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        laws.Ludziejewski2025(**kwargs)


@SETTINGS
@given(n=st.floats(0, 40), d=st.floats(0, 40), e=st.floats(0, 40))
def test_loss_is_finite_or_refused(n, d, e):
    """Any counts in range give a finite loss above c, or a ValueError naming the inputs
    (where the constants take a term beyond float64)."""
    law = laws.Ludziejewski2025(fitted_range={})
    try:
        value = law.loss(10.0**n, 10.0**d, 10.0**e)
    except ValueError as error:
        message = str(error)
    else:
        message = ""
        assert math.isfinite(value)
        assert value > law.c
    if message:
        assert "N=" in message


# Krajewski et al. 2024 -------------------------------------------------------------------

KRAJEWSKI = json.loads((Path(__file__).parent / "data" / "published_laws.json").read_text())[
    "krajewski2024"]


def test_krajewski_constants_are_table1():
    for model in ("moe", "dense"):
        law = laws.Krajewski2024(model)
        for name, value in KRAJEWSKI["table1"][model].items():
            assert getattr(law, name) == value, (model, name)
    law = laws.Krajewski2024()
    assert (law.expansion, law.c_f, law.c_r) == (64.0, 6.0, 14.0)
    assert law.params_convention.name == "non_embedding+all_experts"


@pytest.mark.parametrize("row", KRAJEWSKI["table2"]["rows"],
                         ids=lambda r: f"{r['active_params']:.0e}")
def test_krajewski_table2(row):
    """From each printed budget, the law picks Table 2's granularity, its active
    parameters and tokens within 3 %; the printed (N, D, G) cost the printed FLOPs within
    0.5 %, and the law's loss is 0.012 to 0.023 below the printed one."""
    law = laws.Krajewski2024(fitted_range={})
    n, d, g = law.compute_optimal(row["flops"])
    assert g == row["granularity"]
    assert law.active_params(n) == pytest.approx(row["active_params"], rel=0.03)
    assert d == pytest.approx(row["tokens"], rel=0.03)
    total = row["active_params"] * (8 * 64 + 4) / 12
    assert law.training_flops(total, row["tokens"], row["granularity"]) == pytest.approx(
        row["flops"], rel=5e-3)
    gap = row["loss"] - law.loss(n, d, g)
    assert 0.011 < gap < 0.024


def test_krajewski_granularity_helps_and_costs():
    law = laws.Krajewski2024(fitted_range={})
    losses = law.loss(1e9, 3e10, [1, 2, 4, 8, 16])
    assert np.all(np.diff(losses) < 0)
    flops = law.training_flops(1e9, 3e10, [1, 16])
    assert flops[1] > flops[0]
    # A small budget does not pay for the router of a fine granularity.
    assert law.compute_optimal(1e17)[2] < law.compute_optimal(1e25)[2]
    dense = laws.Krajewski2024("dense", fitted_range={})
    assert dense.loss(1e9, 3e10, 8) == dense.loss(1e9, 3e10, 1)
    assert dense.compute_optimal(1e21)[2] == 1.0


@pytest.mark.parametrize(("call", "field"), [
    (lambda: laws.Krajewski2024("sparse"), "model"),
    (lambda: laws.Krajewski2024(expansion=0.5), "expansion"),
    (lambda: laws.Krajewski2024(g=-1.0), "g"),
    (lambda: laws.Krajewski2024(alpha=0.0), "alpha"),
    (lambda: laws.Krajewski2024().loss(1e9, 1e10, 0.0), "G"),
    (lambda: laws.Krajewski2024().compute_optimal(1e20, granularities=[]), "granularities"),
    (lambda: laws.Krajewski2024().compute_optimal(1e20, granularities=[0.5]),
     "granularities"),
    (lambda: laws.Krajewski2024().training_flops(1e9, math.inf), "D"),
])
def test_krajewski_bad_inputs(call, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        call()


def test_compare_lists_the_moe_laws():
    table = laws.compare(compute=1e21)
    assert table["Ludziejewski2025"].params == pytest.approx(
        quiet(laws.Ludziejewski2025().compute_optimal, 1e21)[0])
    row = table["Krajewski2024('moe')"]
    n, d, _ = quiet(laws.Krajewski2024().compute_optimal, 1e21)
    assert (row.params, row.tokens) == pytest.approx((n, d))
    assert row.params_convention == "non_embedding+all_experts"


def test_sweep_moe_rows_use_the_joint_law_with_their_tokens():
    """with_loss(routed=Ludziejewski2025()): MoE rows get L(params_active, tokens, E), so
    training longer lowers their loss (Clark et al.'s law has no token term)."""
    import scalingperf as sp

    grid = sp.Grid(d_model=[1024, 2048], n_layers=[8], n_heads=16, ffn_ratio=8 / 3,
                   ffn_multiple=256, n_experts=[1, 8], top_k=1, seq_len=2048, batch=1,
                   dp=8, ep=[1, 8], ffn="swiglu", position="rotary", norm="rmsnorm",
                   vocab_size=32000, max_position_embeddings=8192)
    result = sp.sweep(grid)
    joint = laws.Ludziejewski2025(fitted_range={})
    dense = laws.Chinchilla2022(approach=3, fitted_range={})
    short = result.with_loss(dense, tokens=1e10, routed=joint)
    long = result.with_loss(dense, tokens=1e11, routed=joint)
    moe = result["n_experts"] > 1
    assert moe.any()
    assert (~moe).any()
    expected = joint.loss(result["params_active"][moe].astype(float), 1e10,
                          result["n_experts"][moe].astype(float))
    assert np.array_equal(short["loss"][moe], expected)
    assert np.all(long["loss"][moe] < short["loss"][moe])
    with pytest.raises(ValueError, match="Ludziejewski2025"):
        result.with_loss(dense, tokens=1e10)


@SETTINGS
@given(n=st.floats(0, 40), d=st.floats(0, 40), g=st.floats(0, 40), c=st.floats(0, 40))
def test_krajewski_is_finite_or_refused(n, d, g, c):
    """Counts in range give a finite loss above c and an allocation that spends the
    budget, or a ValueError naming the inputs."""
    law = laws.Krajewski2024(fitted_range={})
    value = law.loss(10.0**n, 10.0**d, 10.0**g)
    assert math.isfinite(value)
    assert value > law.c
    try:
        params, tokens, grain = law.compute_optimal(10.0**c)
    except ValueError as error:
        message = str(error)
    else:
        message = ""
        assert grain in (1, 2, 4, 8, 16, 32, 64, 128)
        if tokens > 1 and params > 1:
            assert law.training_flops(params, tokens, grain) == pytest.approx(10.0**c, rel=1e-6)
    if message:
        assert "C=" in message
