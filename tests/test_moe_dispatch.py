"""The MoE token permutation: a memory-bound kernel of each MoE layer, and expert
parallelism's sort of the received tokens by local expert (hand counts)."""

from __future__ import annotations

import pytest

import scalingperf as sp

H100 = sp.hardware()["H100-SXM"]
MOE = dict(d_model=1024, n_layers=4, n_heads=8, ffn="swiglu", position="rotary",
           norm="rmsnorm", vocab_size=32000, max_position_embeddings=4096, n_experts=8,
           top_k=2, d_ff_expert=512)


def _bytes_per_second(efficiency: sp.Efficiency) -> float:
    return H100.memory_bandwidth * efficiency.memory


def test_permutation_reads_and_writes_each_routed_row() -> None:
    report = sp.estimate(sp.Architecture(**MOE), batch=2, seq_len=1024, hardware=H100)
    row = report.layers.row("token_permute")
    slots = 2 * 1024 * 2  # tokens x top_k
    moved = 2 * slots * 1024 * 2  # read and write, d_model bf16 elements each
    assert row["time_forward"] == pytest.approx(moved / _bytes_per_second(report.efficiency))
    assert row["time_backward"] == pytest.approx(2 * row["time_forward"])
    assert row["flops_forward"] == 0 and row["params"] == 0 and row["saved_bytes"] == 0
    assert row["count"] == 4


def test_dense_models_have_no_permutation() -> None:
    dense = {k: v for k, v in MOE.items() if k not in ("n_experts", "top_k", "d_ff_expert")}
    report = sp.estimate(sp.Architecture(**dense), batch=1, seq_len=512, hardware=H100)
    with pytest.raises(KeyError):
        report.layers.row("token_permute")


def test_expert_parallel_ranks_sort_and_unsort_their_tokens() -> None:
    arch = sp.Architecture(**MOE)
    common = dict(batch=2, seq_len=1024, hardware=H100, dp=8)
    alone = sp.estimate(arch, ep=1, **common)
    split = sp.estimate(arch, ep=2, **common)  # 4 local experts: sorted, and back
    permute = alone.layers.row("token_permute")["time_forward"]
    sort = 2 * permute * MOE["n_layers"]
    assert split.time.forward - alone.time.forward == pytest.approx(sort)
    assert split.time.backward - alone.time.backward == pytest.approx(2 * sort)
    # One expert per rank: received tokens are already in expert order.
    one_each = sp.estimate(arch, ep=8, **common)
    assert one_each.time.forward == pytest.approx(alone.time.forward)
