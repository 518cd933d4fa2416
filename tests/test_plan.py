"""The compute-optimal planner, from Python: the forward question (a FLOP budget), the
inverse ones (GPUs x days, a fixed dataset), and its refusals."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf import laws
from scalingperf.plan import DAY, FAMILIES, plan

GOPHER = 5.76e23


def _quiet(law: object, *args: object, **kwargs: object) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", laws.ExtrapolationWarning)
        return np.asarray(law.loss(*args, **kwargs))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def gopher() -> sp.Plan:
    return plan()


@pytest.fixture(scope="module")
def routed() -> sp.Plan:
    return plan(compute=1e22, gpus=64, moe=True)


@pytest.fixture(scope="module")
def month() -> sp.Plan:
    return plan(days=30, gpus=512)


def test_defaults_are_the_gopher_budget_on_1024_h100(gopher):
    assert gopher.compute == GOPHER
    assert gopher.gpus == 1024
    assert gopher.hardware.name == "H100-SXM"


def test_laws_side_by_side_reproduce_the_published_gopher_allocations(gopher):
    table = gopher.laws
    # Hoffmann et al. 2022, Table 3 (approach 1): 67B parameters at 5.76e23 FLOPs;
    # Figure 3 (approach 2, isoFLOP profiles): 63B.
    assert table["Chinchilla2022(approach=1)"].params == pytest.approx(67e9, rel=0.02)
    assert table["Chinchilla2022(approach=2)"].params == pytest.approx(63e9, rel=0.02)
    # The rule of thumb: 20 tokens per parameter and C = 6 N D.
    rule = table["TokensPerParameter(20)"]
    assert rule.tokens == pytest.approx(20 * rule.params)
    assert 6 * rule.params * rule.tokens == pytest.approx(GOPHER)
    # Frontiers have no loss surface; the parametric law's loss is its loss at (N, D).
    assert table["Chinchilla2022(approach=1)"].loss is None
    three = table["Chinchilla2022(approach=3)"]
    assert three.loss == pytest.approx(float(_quiet(laws.Chinchilla2022(), three.params,
                                                    three.tokens)))


def test_every_candidate_fits_and_spends_the_budget(gopher):
    c = gopher.candidates
    assert len(c) > 0
    assert c["fits"].all()
    assert (c["memory_per_gpu"] <= gopher.hardware.memory).all()
    assert (c["devices"] == 1024).all()
    # A FLOP budget: tokens x the model FLOPs a step executes per token is the budget.
    per_token = c["flops_per_step"] / (gopher.global_batch * gopher.seq_len)
    np.testing.assert_allclose(c["tokens"] * per_token, GOPHER, rtol=1e-9)
    np.testing.assert_allclose(c["days"], c["tokens"] / c["tokens_per_s"] / DAY, rtol=1e-12)


def test_candidates_are_ranked_by_the_law_at_their_tokens(gopher):
    c = gopher.candidates
    loss = c["loss"]
    dense = c["n_experts"] <= 1
    expected = _quiet(laws.Chinchilla2022(), c["params_total"][dense].astype(float),
                      c["tokens"][dense])
    np.testing.assert_allclose(loss[dense], expected, rtol=1e-12)
    assert dense.all()  # routed variants only when asked for


def test_routed_variants_rank_by_clarks_effective_size(routed):
    c = routed.candidates
    moe = c["n_experts"] > 1
    assert moe.any()
    assert set(c["family"][moe].tolist()) == {"moe"}
    assert set(c["n_experts"][moe].tolist()) <= {8, 64}
    # The dense law at Clark et al. 2022's effective size of the active body.
    body = (c["params_active"][moe] - c["params_embedding"][moe]).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", laws.ExtrapolationWarning)
        effective = laws.Clark2022().effective_params(body, c["n_experts"][moe].astype(float))
    expected = _quiet(laws.Chinchilla2022(), effective + c["params_embedding"][moe],
                      c["tokens"][moe])
    np.testing.assert_allclose(c["loss"][moe], expected, rtol=1e-12)
    # Their experts are copies of the base FFN (Clark et al.'s setup), spread over ep.
    assert (c["d_ff_expert"][moe] == c["d_ff"][moe]).all()
    assert (c["devices"] == 64).all()


def test_losses_within_the_tolerance_are_ties_won_by_the_shorter_run(gopher):
    c = gopher.candidates
    loss, days = c["loss"], c["days"]
    # The slack is what 5 % more compute buys at the optimum, under the ranking law.
    law = laws.Chinchilla2022()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", laws.ExtrapolationWarning)
        at = [float(law.loss(*law.compute_optimal(GOPHER * f))) for f in (1.0, 1.05)]
    assert gopher.slack == pytest.approx(at[0] - at[1], rel=1e-9)
    assert gopher.slack > 0
    tied = loss <= loss.min() + gopher.slack
    k = int(tied.sum())
    assert tied[:k].all()  # the ties first, shortest run first
    assert np.all(np.diff(days[:k]) >= 0)
    assert np.all(np.diff(loss[k:]) >= 0)  # then by loss
    assert days[0] == days[tied].min()


def test_tolerance_zero_ranks_by_loss_alone():
    p = plan(compute=1e22, gpus=64, tolerance=0)
    loss = p.candidates["loss"]
    assert np.all(np.diff(loss) >= 0)
    assert p.slack == 0
    same = np.flatnonzero(loss == loss[0])
    assert p.candidates["days"][0] == p.candidates["days"][same].min()


def test_best_is_the_estimate_of_the_first_candidate(gopher):
    row = gopher.candidates.row(0)
    best = gopher.best
    assert best.memory.fits
    assert best.params.total == row["params_total"]
    assert best.time.step == pytest.approx(row["step_time"], rel=1e-12)
    assert best.devices == 1024
    layout = gopher.layout
    assert layout["tp"] * layout["pp"] * layout["dp"] == 1024
    again = sp.estimate(best.architecture, seq_len=gopher.seq_len, **layout)
    assert again.time.step == best.time.step
    assert gopher.days == pytest.approx(float(best.training(gopher.tokens)["days"]), rel=1e-9)
    lo, hi = gopher.days_interval()
    assert 0 < lo < hi


def test_families_cover_the_published_shapes(gopher):
    c = gopher.candidates
    names = set(c["family"].tolist())
    assert names <= set(FAMILIES)
    assert names == {"standard", "deep-narrow", "kaplan-aspect"}
    # Tay et al. 2021's DeepNarrow shapes keep d_model / n_layers between 8 and 48.
    narrow = c["family"] == "deep-narrow"
    assert ((c["aspect_ratio"][narrow] >= 8) & (c["aspect_ratio"][narrow] <= 48)).all()
    assert (c["n_experts"] <= 1).all()


def test_sizes_span_the_laws_optimum(gopher):
    params = gopher.candidates["params_non_embedding"][gopher.candidates["n_experts"] <= 1]
    assert params.min() < 0.7 * gopher.target_params < gopher.target_params < params.max()


def test_explain_says_what_won_and_why(gopher):
    text = gopher.explain()
    for heading in ("Plan for 5.76e23 FLOPs on 1,024 x H100-SXM", "Loss-optimal size by law",
                    "Answer", "Why this one", "Assumptions"):
        assert heading in text
    assert f"{gopher.days:.3g} days" in text
    for word in ("headroom", "MFU", "TP efficiency"):
        assert word in text
    lo, hi = gopher.days_interval()
    assert f"{lo:.3g}-{hi:.3g} days" in text
    assert str(gopher) == text


def test_to_dict_is_json(gopher):
    data = json.loads(json.dumps(gopher.to_dict()))
    assert data["compute"] == GOPHER
    assert data["best"]["days"] == pytest.approx(gopher.days)
    assert data["best"]["architecture"] == gopher.best.architecture.to_dict()
    assert len(data["laws"]) == len(gopher.laws.rows)
    assert data["candidates"]["count"] == len(gopher.candidates)


def test_days_trains_each_layout_for_the_time_given(month):
    c = month.candidates
    np.testing.assert_allclose(c["days"], 30, rtol=1e-12)
    np.testing.assert_allclose(c["tokens"], c["tokens_per_s"] * 30 * DAY, rtol=1e-12)
    peak = month.hardware.peak_flops["bf16"]
    assert month.assumed_mfu is not None
    assert month.compute == pytest.approx(512 * peak * month.assumed_mfu * 30 * DAY)
    # The size was chosen at the MFU the first search's winner reached.
    assert 0 < month.assumed_mfu < 1
    # A fixed time: the interval is on the tokens it buys in those 30 days.
    low, high = month.tokens_interval()
    rate_low, rate_high = month.best.tokens_per_s_interval(0.8)
    assert (low, high) == pytest.approx((rate_low * 30 * DAY, rate_high * 30 * DAY))
    assert low < high
    assert f"{low / 1e9:.3g} B" in month.explain() or f"{low / 1e12:.3g} T" in month.explain()
    # Every run takes the 30 days: the lowest loss wins, no tolerance applies.
    assert month.slack == 0
    assert np.all(np.diff(c["loss"]) >= 0)


def test_days_and_compute_stop_at_whichever_comes_first():
    p = plan(compute=1e22, days=30, gpus=256)
    c = p.candidates
    assert (c["tokens"] <= c["tokens_per_s"] * 30 * DAY * (1 + 1e-12)).all()
    per_token = c["flops_per_step"] / (p.global_batch * p.seq_len)
    assert (c["tokens"] * per_token <= 1e22 * (1 + 1e-9)).all()
    assert p.compute <= 1e22


def test_unique_tokens_rank_by_the_data_constrained_law():
    unique = 2e11
    p = plan(compute=1e23, tokens=unique, gpus=512)
    assert isinstance(p.law, laws.Muennighoff2023)
    c = p.candidates
    expected = _quiet(laws.Muennighoff2023(), c["params_total"].astype(float), c["tokens"],
                      unique_tokens=unique)
    np.testing.assert_allclose(c["loss"], expected, rtol=1e-12)
    # Repeated data is worth less: the same model on unlimited data reaches a lower loss.
    free = _quiet(laws.Muennighoff2023(), float(c["params_total"][0]), float(c["tokens"][0]))
    assert c["loss"][0] > free


def test_dense_only_and_another_law():
    p = plan(compute=1e22, gpus=64, law="besiroglu")
    assert (p.candidates["n_experts"] <= 1).all()
    assert isinstance(p.law, laws.Besiroglu2024)
    assert p.target_params == pytest.approx(
        laws.Besiroglu2024(fitted_range={}).compute_optimal(1e22)[0])


def test_inference_tokens_size_by_sardana_and_leave_less_to_train():
    served = 5e12
    p = plan(compute=1e23, gpus=512, inference_tokens=served)
    sardana = laws.Sardana2024(laws.Chinchilla2022().parametric)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", laws.ExtrapolationWarning)
        n_serving = sardana.compute_optimal(1e23, served)[0]
        n_training = laws.Chinchilla2022().compute_optimal(1e23)[0]
    assert p.target_params == pytest.approx(n_serving)
    # Sardana et al. 2024 (Figure 1): a model that will serve many tokens should be smaller.
    assert n_serving < n_training
    c = p.candidates
    # Each row trains on the budget its 2 N D_inf serving FLOPs leave.
    active = c["params_active"].astype(float)
    inference = 2 * active * served
    per_token = c["flops_per_step"] / (p.global_batch * p.seq_len)
    np.testing.assert_allclose(c["tokens"] * per_token + inference, 1e23, rtol=1e-9)
    assert "serving 5 T tokens" in p.explain()


def test_inference_tokens_need_a_budget_and_a_chinchilla_law():
    with pytest.raises(ValueError, match=r"inference_tokens=.*needs compute"):
        plan(days=10, inference_tokens=1e12)
    with pytest.raises(ValueError, match=r"inference_tokens=.*Chinchilla-form"):
        plan(compute=1e22, law="kaplan", inference_tokens=1e12)
    with pytest.raises(ValueError, match="inference_tokens="):
        plan(compute=1e22, inference_tokens=-1)


def test_nothing_fits_is_a_clear_error():
    with pytest.raises(ValueError, match=r"nothing fits.*give more GPUs"):
        plan(compute=GOPHER, gpus=1)


@pytest.mark.parametrize(("kwargs", "field"), [
    (dict(compute=-1.0), "compute"), (dict(compute=math.inf), "compute"),
    (dict(gpus=0), "gpus"), (dict(days=0.0), "days"), (dict(tokens=0.5), "tokens"),
    (dict(law="gpt"), "law"), (dict(law=laws.Chinchilla2022(approach=1)), "law"),
    (dict(seq_len=0), "seq_len"), (dict(global_batch=0), "global_batch"),
    (dict(hardware="no-such-gpu"), "hardware"), (dict(level=1.5), "level"),
    (dict(moe="yes"), "moe"), (dict(tolerance=-0.1), "tolerance"), (dict(dtype="fp8", hardware="A100-SXM4-40GB"), "dtype"),
])
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        plan(**kwargs)


@settings(max_examples=30, deadline=None)
@given(days=st.one_of(st.floats(max_value=0.0), st.floats(min_value=1e6, exclude_min=True),
                      st.just(math.nan)))
def test_days_outside_the_range_are_refused(days):
    with pytest.raises(ValueError, match="days="):
        plan(days=days)


@settings(max_examples=30, deadline=None)
@given(gpus=st.one_of(st.integers(max_value=0), st.integers(min_value=(1 << 20) + 1)))
def test_gpus_outside_the_range_are_refused(gpus):
    with pytest.raises(ValueError, match="gpus="):
        plan(gpus=gpus)


@settings(max_examples=30, deadline=None)
@given(value=st.one_of(st.floats(max_value=1.0, exclude_max=True),
                       st.floats(min_value=1e40, exclude_min=True), st.just(math.nan)),
       field=st.sampled_from(["compute", "tokens"]))
def test_counts_outside_the_range_are_refused(value, field):
    with pytest.raises(ValueError, match=f"{field}="):
        plan(**{field: value})


def test_hyperparameters_at_a_hand_computed_point():
    from scalingperf._plan_hyper import flops_per_token, predict

    # DeepSeek LLM 7B (Bi et al. 2024, Table 2): 30 layers of d_model 4096, 4096-token
    # sequences, 2T tokens, 2304 sequences per step. With N = 12 n_layer d^2 the model
    # scale is eq. 2's 72 n d^2 + 12 n d l = 4.2278e10 FLOPs per token, C = M D = 8.4557e22.
    n = 12 * 30 * 4096**2
    assert flops_per_token(n, 30, 4096, 4096) == laws.DeepSeek2024.flops_per_token(
        30, 4096, 4096) == 72 * 30 * 4096**2 + 12 * 30 * 4096 * 4096
    with warnings.catch_warnings():
        warnings.simplefilter("error", laws.ExtrapolationWarning)  # returned, not raised
        (deepseek, steplaw), notes = predict(n, 30, 4096, 4096, 2e12, 2304)
    assert deepseek.law == "DeepSeek2024"
    assert steplaw.law == "StepLaw2025"
    assert deepseek.inputs["C"] == pytest.approx(8.455716864e22, rel=1e-12)
    # eq. 1 by hand: 0.3118 x 8.4557e22^-0.1250 and 0.2920 x 8.4557e22^0.3271.
    assert deepseek.learning_rate == pytest.approx(4.2460e-4, rel=1e-4)
    assert deepseek.batch_tokens == pytest.approx(9.2226e6, rel=1e-4)
    # Against what Table 2 prints: 4.2e-4 and 9.4M tokens (2304 x 4096, rounded to whole
    # sequences per device).
    assert deepseek.learning_rate == pytest.approx(4.2e-4, rel=0.03)
    assert deepseek.batch_tokens == pytest.approx(2304 * 4096, rel=0.03)
    assert deepseek.batch_sequences == pytest.approx(9.2226e6 / 4096, rel=1e-4)
    assert deepseek.plan_batch_ratio == pytest.approx(2304 * 4096 / 9.2226e6, rel=1e-4)
    assert deepseek.extrapolated
    assert any("DeepSeek2024" in text for text in notes)
    # The Step Law by hand at N = 6.04e9, D = 2e12: 1.79 N^-0.713 D^0.307, 0.58 D^0.571.
    assert steplaw.inputs == {"N": n, "D": 2e12}
    assert steplaw.learning_rate == pytest.approx(1.79 * n**-0.713 * 2e12**0.307, rel=1e-12)
    assert steplaw.learning_rate == pytest.approx(1.1361e-3, rel=1e-4)
    assert steplaw.batch_tokens == pytest.approx(0.58 * 2e12**0.571, rel=1e-12)
    assert steplaw.batch_tokens == pytest.approx(6.1280e6, rel=1e-4)
    # Inside the Step Law's runs (N 1e9, D 1e11) nothing is extrapolated.
    _, step = predict(1e9, 24, 2048, 2048, 1e11, 512)[0]
    assert not step.extrapolated
    assert step.learning_rate == pytest.approx(1.6325e-3, rel=1e-4)
    assert step.batch_tokens == pytest.approx(1.1077e6, rel=1e-4)


def test_the_pick_comes_with_a_learning_rate_and_batch(gopher):
    deepseek, steplaw = gopher.hyperparameters
    arch, tokens = gopher.best.architecture, gopher.tokens
    n = gopher.best.params.active_non_embedding
    m = 6 * n + 12 * arch.n_layers * arch.n_heads * arch.head_dim * gopher.seq_len
    assert deepseek.inputs == pytest.approx({"M": m, "D": tokens, "C": m * tokens})
    assert gopher.learning_rate == deepseek.learning_rate == pytest.approx(
        0.3118 * (m * tokens) ** -0.1250)
    assert gopher.optimal_batch_tokens == deepseek.batch_tokens == pytest.approx(
        0.2920 * (m * tokens) ** 0.3271)
    assert steplaw.learning_rate == pytest.approx(1.79 * n**-0.713 * tokens**0.307)
    assert steplaw.batch_tokens == pytest.approx(0.58 * tokens**0.571)
    for h in gopher.hyperparameters:
        assert h.batch_sequences == pytest.approx(h.batch_tokens / 2048)
        assert h.plan_batch_ratio == pytest.approx(2048 * 1024 / h.batch_tokens)
        assert h.extrapolated  # 5.9e23 FLOPs and 56B parameters: beyond both fits
    assert any(c.startswith("DeepSeek2024") for c in gopher.caveats)
    assert any(c.startswith("StepLaw2025") for c in gopher.caveats)
    text = gopher.explain()
    answer = text.split("Answer\n")[1].split("\n\n")[0]
    mantissa, exponent = f"{deepseek.learning_rate:.2e}".split("e")
    assert f"lr        {mantissa}e{int(exponent)} peak by DeepSeek 2024*" in answer
    assert "Step Law 2025*" in answer
    assert f"({deepseek.batch_sequences:,.0f} sequences) by DeepSeek 2024*" in answer
    assert f"{deepseek.plan_batch_ratio:.2g}x and {steplaw.plan_batch_ratio:.2g}x" in answer
    data = json.loads(json.dumps(gopher.to_dict()))
    assert [h["law"] for h in data["best"]["hyperparameters"]] == ["DeepSeek2024",
                                                                   "StepLaw2025"]
    assert data["best"]["hyperparameters"][0]["learning_rate"] == deepseek.learning_rate
