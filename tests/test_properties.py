"""Invariants of the cost model, and the validation boundary, under hypothesis."""

from __future__ import annotations

import math

import pytest
from boundary import result_or_field_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scalingperf as sp

FFNS = ("gelu", "relu", "swiglu", "geglu")


@st.composite
def architectures(draw):
    n_kv_heads = draw(st.integers(1, 8))
    n_heads = n_kv_heads * draw(st.integers(1, 4))
    n_experts = draw(st.sampled_from([0, 0, 2, 4, 8]))
    return dict(
        d_model=draw(st.integers(1, 64)) * 32,
        n_layers=draw(st.integers(1, 48)),
        n_heads=n_heads,
        n_kv_heads=n_kv_heads,
        head_dim=draw(st.integers(1, 16)) * 8,
        d_ff=draw(st.integers(1, 64)) * 64,
        ffn=draw(st.sampled_from(FFNS)),
        vocab_size=draw(st.integers(1, 70000)),
        max_position_embeddings=8192,
        position=draw(st.sampled_from(["learned", "rotary", "none"])),
        norm=draw(st.sampled_from(["layernorm", "rmsnorm"])),
        qkv_bias=draw(st.booleans()),
        mlp_bias=draw(st.booleans()),
        tie_embeddings=draw(st.booleans()),
        n_experts=n_experts,
        top_k=draw(st.integers(1, max(n_experts, 1))),
        n_shared_experts=draw(st.integers(0, 2)) if n_experts else 0,
    )


workloads = st.tuples(st.integers(1, 64), st.integers(1, 8192))


@settings(max_examples=200, deadline=None)
@given(architectures(), workloads, st.sampled_from(["none", "selective", "full", "per_op"]))
def test_table_and_totals_agree(fields, work, recompute):
    report = sp.estimate(sp.Architecture(**fields), batch=work[0], seq_len=work[1],
                         recompute=recompute)
    table, flops = report.layers, report.flops
    assert table.total("params") == report.params.total
    assert table.total("flops_forward") == pytest.approx(flops.forward, rel=1e-12)
    assert table.total("flops_recompute") == pytest.approx(flops.recompute, rel=1e-12)
    assert flops.backward == 2 * flops.forward
    assert 0 < flops.forward_causal <= flops.forward
    assert flops.model <= flops.hardware
    assert 0 < report.params.active <= report.params.total
    assert report.params.non_embedding + report.params.embedding == report.params.total


GROWABLE = ["d_model", "n_layers", "n_kv_heads", "head_dim", "d_ff", "vocab_size"]


@settings(max_examples=300, deadline=None)
@given(architectures(), workloads, st.sampled_from([*GROWABLE, "batch", "seq_len", "top_k"]))
def test_flops_grow_with_every_dimension(fields, work, dimension):
    batch, seq_len = work
    base = sp.estimate(sp.Architecture(**fields), batch=batch, seq_len=seq_len)
    if dimension == "batch":
        batch *= 2
    elif dimension == "seq_len":
        if seq_len == fields["max_position_embeddings"]:
            return  # a learned table has no row for one more position
        seq_len += 1
    elif dimension == "top_k":
        if fields["top_k"] >= max(fields["n_experts"], 1):
            return
        fields["top_k"] += 1
    elif dimension == "n_kv_heads":
        # Grow both head counts so the grouping stays legal.
        fields["n_heads"] *= 2
        fields["n_kv_heads"] *= 2
    else:
        fields[dimension] *= 2
    grown = sp.estimate(sp.Architecture(**fields), batch=batch, seq_len=seq_len)
    assert grown.flops.forward > base.flops.forward
    assert grown.flops.forward_causal > base.flops.forward_causal
    if dimension not in ("batch", "seq_len", "top_k"):
        assert grown.params.total > base.params.total


@settings(max_examples=100, deadline=None)
@given(architectures(), workloads)
def test_one_routed_expert_costs_a_dense_ffn_plus_router(fields, work):
    fields.update(n_experts=0, top_k=1, n_shared_experts=0)
    dense = sp.estimate(sp.Architecture(**fields), batch=work[0], seq_len=work[1])
    moe = sp.estimate(sp.Architecture(**{**fields, "n_experts": 4, "top_k": 1,
                                         "d_ff_expert": fields["d_ff"]}),
                      batch=work[0], seq_len=work[1])
    router = 2 * work[0] * work[1] * fields["d_model"] * 4 * fields["n_layers"]
    assert moe.flops.forward == pytest.approx(dense.flops.forward + router, rel=1e-12)


sizes = st.one_of(st.integers(-(2**70), 2**70), st.integers(-2, 2**26),
                  st.sampled_from([0, 1, 2**31, 2**63 - 1, 2**63, -(2**63)]),
                  st.floats(allow_nan=True), st.none(), st.text(max_size=3))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["d_model", "n_layers", "n_heads", "n_kv_heads",
                                        "head_dim", "d_ff", "vocab_size", "n_experts",
                                        "top_k", "d_ff_expert", "max_position_embeddings"]),
                       sizes, min_size=1, max_size=4),
       st.one_of(st.integers(-5, 2**30), st.floats()), st.integers(-5, 2**30))
def test_any_input_is_an_error_or_a_finite_answer(changes, batch, seq_len):
    fields = dict(d_model=256, n_layers=2, n_heads=4, vocab_size=1000,
                  max_position_embeddings=2**24, position="rotary")
    fields.update(changes)
    report = result_or_field_error(
        lambda: sp.estimate(sp.Architecture(**fields), batch=batch, seq_len=seq_len))
    if report is None:
        return
    values = [report.params.total, report.params.active, report.flops.forward,
              report.flops.model, report.flops.forward_causal, report.flops.elementwise_forward]
    assert all(math.isfinite(v) and v >= 0 for v in values)
    assert report.params.total <= 1e15
