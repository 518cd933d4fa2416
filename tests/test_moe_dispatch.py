"""The MoE token permutation: a memory-bound kernel of each MoE layer, and expert
parallelism's sort of the received tokens by local expert (hand counts)."""

from __future__ import annotations

import json
import subprocess

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
    assert (row["flops_forward"], row["params"], row["saved_bytes"]) == (0, 0, 0)
    assert row["count"] == 4


def test_dense_models_have_no_permutation() -> None:
    dense = {k: v for k, v in MOE.items() if k not in ("n_experts", "top_k", "d_ff_expert")}
    report = sp.estimate(sp.Architecture(**dense), batch=1, seq_len=512, hardware=H100)
    with pytest.raises(KeyError):
        report.layers.row("token_permute")


def test_expert_parallel_ranks_sort_and_unsort_their_tokens() -> None:
    arch = sp.Architecture(**MOE)
    # Without the GEMMs' falloff at short reductions: the experts' weight gradients reduce
    # over the tokens ep ranks send them, which ep lengthens (tests/test_gemm_k.py).
    flat_k = H100.default_efficiency.replace(gemm_k0=0)
    common = dict(batch=2, seq_len=1024, hardware=H100, dp=8, efficiency=flat_k)
    alone = sp.estimate(arch, ep=1, **common)
    split = sp.estimate(arch, ep=2, **common)  # 4 local experts: sorted, and back
    permute = alone.layers.row("token_permute")["time_forward"]
    sort = 2 * permute * MOE["n_layers"]

    def experts(report: sp.Report) -> float:
        # The routed experts themselves: a rank reads only its own experts' weights.
        return report.layers.row("routed_experts")["time_forward"] * MOE["n_layers"]

    assert experts(split) < experts(alone)
    own = experts(split) - experts(alone)
    assert split.time.forward - alone.time.forward == pytest.approx(sort + own)
    assert split.time.backward - alone.time.backward == pytest.approx(2 * (sort + own))
    # One expert per rank: received tokens are already in expert order.
    one_each = sp.estimate(arch, ep=8, **common)
    assert one_each.time.forward - experts(one_each) == pytest.approx(
        alone.time.forward - experts(alone))


QWEN3_235B_LAYER = dict(d_model=4096, n_layers=4, n_heads=32, n_kv_heads=4, ffn="swiglu",
                        position="rotary", norm="rmsnorm", vocab_size=151936,
                        max_position_embeddings=4096, n_experts=128, top_k=8,
                        d_ff_expert=1536)


def _all_to_alls(arch: sp.Architecture, dispatcher: str, ep: int = 32) -> float:
    report = sp.estimate(arch, batch=1, seq_len=4096, hardware=H100, dp=ep, ep=ep,
                         ep_dispatcher=dispatcher)
    return report.time.ep_communication / (4 * arch.n_layers)  # 2 forward, 2 backward


def test_deepep_sends_a_token_once_per_other_node_holding_its_experts() -> None:
    arch = sp.Architecture(**QWEN3_235B_LAYER)
    routed = 4096 * 8 * 4096 * 2  # bytes of a rank's routed copies, bf16
    network = H100.inter_node_bandwidth * sp.Efficiency().network
    nvlink = H100.intra_node_bandwidth * sp.Efficiency().network
    # 32 ranks on 4 nodes, 32 experts each: a token's 8 choices miss a node with
    # probability C(96, 8) / C(128, 8).
    miss = 1.0
    for i in range(8):
        miss *= (96 - i) / (128 - i)
    per_node_sends = 3 * (1 - miss) * routed / 8
    expected = max(7 / 8 * routed / nvlink, per_node_sends / network) + 3 * H100.inter_node_latency
    assert _all_to_alls(arch, "deepep") == pytest.approx(expected)
    # NCCL sends the 24 / 32 of the copies bound for other nodes through the NIC.
    nccl = max(7 / 32 * routed / nvlink, 24 / 32 * routed / network) + 31 * H100.inter_node_latency
    assert _all_to_alls(arch, "all_to_all") == pytest.approx(nccl)
    assert _all_to_alls(arch, "deepep") < 0.5 * nccl


def test_dispatchers_agree_inside_a_node() -> None:
    arch = sp.Architecture(**QWEN3_235B_LAYER)
    assert _all_to_alls(arch, "deepep", ep=8) == _all_to_alls(arch, "all_to_all", ep=8)


def test_an_unknown_dispatcher_is_named() -> None:
    with pytest.raises(ValueError, match="ep_dispatcher='nccl' is invalid: allowed values"):
        sp.estimate(sp.Architecture(**MOE), batch=1, seq_len=512, ep=2, dp=2,
                    ep_dispatcher="nccl")


def test_a_deepep_sweep_row_is_its_estimate() -> None:
    grid = sp.Grid(d_model=[4096], n_layers=[4, 8], n_heads=32, n_kv_heads=4, ffn="swiglu",
                   vocab_size=151936, max_position_embeddings=4096, n_experts=128, top_k=8,
                   d_ff_expert=1536, seq_len=4096, batch=1, dp=32, ep=[8, 32],
                   ep_dispatcher="deepep")
    result = sp.sweep(grid)
    assert len(result) == 4
    for i in range(len(result)):
        assert result.row(i)["step_time"] == pytest.approx(result.report(i).time.step, rel=1e-12)
    nccl = sp.sweep(sp.Grid(**{**grid.spec, "ep_dispatcher": "all_to_all"}))
    faster = [nccl.row(i)["step_time"] - result.row(i)["step_time"] for i in range(4)]
    assert [result.row(i)["ep"] for i in range(4)] == [8, 32, 8, 32]
    assert faster[0] == faster[2] == 0  # one node: the same exchange
    assert min(faster[1], faster[3]) > 0


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["scalingperf", "estimate", "--preset", "mixtral-8x7b",
                           "--seq-len", "4096", "--dp", "16", "--ep", "8", "--zero", "1",
                           *args], capture_output=True, text=True, check=False)


def test_cli_takes_the_dispatcher_and_says_it() -> None:
    done = _cli("--ep-dispatcher", "deepep", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["assumptions"]["ep_dispatcher"] == "deepep"
    text = _cli("--ep-dispatcher", "deepep").stdout
    assert "ep 8 (DeepEP: once per node over the network, NVLink forwarding)" in text
    assert "ep 8 (NCCL all-to-all)" in _cli().stdout
    refused = _cli("--ep-dispatcher", "nccl")
    assert refused.returncode == 2
    assert "invalid choice: 'nccl'" in refused.stderr
    assert "Traceback" not in refused.stderr
