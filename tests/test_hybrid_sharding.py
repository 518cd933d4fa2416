"""ZeRO over a sharding group smaller than dp x cp (``shard=``): HSDP, PyTorch FSDP's hybrid
sharding (Zhao et al. 2023), against a hand count of its collectives and memory."""

from __future__ import annotations

import pytest

import scalingperf as sp

LLAMA = sp.Architecture.preset("llama-2-7b")


def _all_reduce(size: int, data: float, bandwidth: float, latency: float) -> float:
    """Ring all-reduce: 2 (n-1)/n of the bytes over the link, 2 (n-1) latencies."""
    return 2 * (size - 1) / size * data / bandwidth + 2 * (size - 1) * latency


def test_the_whole_group_is_plain_zero():
    default = sp.estimate(LLAMA, 1, 4096, dp=16, zero=3)
    for shard in (None, 16):
        same = sp.estimate(LLAMA, 1, 4096, dp=16, zero=3, shard=shard)
        assert same.time.step == default.time.step
        assert same.memory.per_gpu == default.memory.per_gpu


def test_hsdp_hand_count():
    """dp 16 on 8-GPU nodes, shard 8: FSDP's all-gathers and reduce-scatter (1.5 all-reduces)
    over NVLink inside a node, then the two replicas all-reduce 1/8 of the gradients over
    the inter-node network; states sharded 8 ways, as with dp = 8."""
    hw = sp.hardware()["H100-SXM"]
    e = hw.default_efficiency
    r = sp.estimate(LLAMA, 1, 4096, dp=16, zero=3, shard=8, hardware=hw)
    gradients = 2 * r.memory.params  # bf16
    within = 1.5 * _all_reduce(8, gradients, hw.intra_node_bandwidth * e.network,
                               hw.intra_node_latency)
    across = _all_reduce(2, gradients / 8, hw.inter_node_bandwidth * e.network,
                         hw.inter_node_latency)
    assert r.time.dp_communication == pytest.approx((1 - e.dp_overlap) * (within + across),
                                                    rel=1e-12)
    eight = sp.estimate(LLAMA, 1, 4096, dp=8, zero=3, hardware=hw)
    for field in ("weights", "gradients", "optimizer"):
        assert getattr(r.memory, field) == pytest.approx(getattr(eight.memory, field), rel=1e-12)
    # One ring over all 16 GPUs crosses nodes through all eight NICs of each (NCCL's rings
    # per NIC), at NVLink's pace at most: it moves more bytes than HSDP's node-local
    # sharding, but no ring waits on a single NIC, so it is the faster of the two here.
    whole = sp.estimate(LLAMA, 1, 4096, dp=16, zero=3, hardware=hw)
    ring16 = 1.5 * _all_reduce(16, gradients, min(8 * hw.inter_node_bandwidth,
                                                  hw.intra_node_bandwidth) * e.network,
                               hw.inter_node_latency)
    assert whole.time.dp_communication == pytest.approx(ring16, rel=1e-12)
    assert whole.time.dp_communication < r.time.dp_communication


def test_shard_spans_context_parallel_ranks():
    r = sp.estimate(LLAMA, 1, 8192, dp=4, cp=2, zero=1, shard=4)
    assert r.memory.optimizer == pytest.approx(
        sp.estimate(LLAMA, 1, 8192, dp=4, zero=1).memory.optimizer, rel=1e-12)


@pytest.mark.parametrize(("options", "message"), [
    (dict(dp=16, shard=8), r"^shard=8 is invalid: .*zero >= 1"),
    (dict(dp=16, zero=3, shard=3), r"^shard=3 is invalid: .*dp x cp=16$"),
    (dict(dp=16, zero=3, shard=32), r"^shard=32 is invalid: .*dp x cp=16$"),
    (dict(dp=16, zero=3, shard=1), r"^shard=1 is invalid: it must be at least 2"),
    (dict(dp=16, zero=3, shard=0), r"^shard=0 is invalid: it must be >= 1"),
    (dict(dp=16, zero=3, shard=2.5), r"^shard="),
])
def test_bad_shard_names_the_field(options, message):
    with pytest.raises(ValueError, match=message):
        sp.estimate(LLAMA, 1, 1024, **options)


def test_a_sweep_with_shard_gives_estimates_step_time():
    spec = dict(d_model=1024, n_layers=8, n_heads=16, d_ff=4096, vocab_size=32000)
    result = sp.sweep(sp.Grid(**spec, tp=[1, 2], zero=3, shard=4, n_gpus=16, seq_len=2048,
                              batch=1))
    assert len(result) == 2
    for i in range(len(result)):
        row = result.row(i)
        report = sp.estimate(result.architecture(i), 1, 2048, tp=row["tp"], dp=row["dp"],
                             zero=3, shard=4)
        assert row["step_time"] == pytest.approx(report.time.step, rel=1e-12)
        assert result.report(i).time.step == pytest.approx(report.time.step, rel=1e-12)
