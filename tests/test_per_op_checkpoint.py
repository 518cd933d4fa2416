"""recompute="per_op": torchtitan's per-op selective activation checkpointing, counted by
hand on Llama 3 8B and Mixtral, against the policy in torchtitan's
torchtitan/distributed/activation_checkpoint.py (every second aten.mm of a block
recomputed in forward order; attention, reduce-scatter outputs kept)."""

import pytest

import scalingperf as sp

LLAMA = sp.Architecture.preset("llama-3-8b")
B, S = 2, 4096
TOKENS = B * S


def test_every_second_matmul_of_a_llama_block_is_redone():
    # q (1, kept), k (2, redone), v (3), o (4, redone), w1 (5), w3 (6, redone), w2 (7).
    d, kv, ffn = LLAMA.d_model, LLAMA.n_kv_heads * LLAMA.head_dim, LLAMA.d_ff
    report = sp.estimate(LLAMA, batch=B, seq_len=S, recompute="per_op")
    per_layer = 2 * TOKENS * d * (kv + d + ffn)
    assert report.flops.recompute == pytest.approx(LLAMA.n_layers * per_layer, rel=1e-12)
    table = report.layers
    assert table.row("attn_scores")["flops_recompute"] == 0  # the attention kernel is kept
    assert table.row("out_proj")["flops_recompute"] == table.row("out_proj")["flops_forward"]
    assert table.row("mlp_down")["flops_recompute"] == 0
    assert table.total("flops_recompute") == pytest.approx(report.flops.recompute, rel=1e-12)


def test_a_llama_block_keeps_its_input_and_the_kept_outputs():
    d, h, kv, ffn = LLAMA.d_model, LLAMA.n_heads, LLAMA.n_kv_heads * LLAMA.head_dim, LLAMA.d_ff
    report = sp.estimate(LLAMA, batch=B, seq_len=S, recompute="per_op")
    # Input, q, v, the attention output (bf16) and its log-sum-exp (fp32), w1's and w2's outputs.
    per_layer = 2 * TOKENS * (d + d + kv + d + ffn + d) + 4 * B * h * S
    table = report.layers
    layer_rows = [i for i, section in enumerate(table["section"])
                  if section in ("attention", "mlp")]
    saved = sum(float(table["count"][i] * table["saved_bytes"][i]) for i in layer_rows)
    assert saved == pytest.approx(LLAMA.n_layers * per_layer, rel=1e-12)
    assert report.memory.activations == pytest.approx(table.total("saved_bytes"), rel=1e-12)
    none = sp.estimate(LLAMA, batch=B, seq_len=S)
    full = sp.estimate(LLAMA, batch=B, seq_len=S, recompute="full")
    assert full.memory.activations < report.memory.activations < none.memory.activations


def test_recompute_time_sits_between_none_and_full():
    kwargs = dict(batch=B, seq_len=S, hardware="H100-SXM", dp=8, zero=3)
    times = {mode: sp.estimate(LLAMA, recompute=mode, **kwargs).time.recompute
             for mode in ("none", "per_op", "full")}
    assert times["none"] == 0 < times["per_op"] < times["full"]


@pytest.mark.parametrize(("sequence_parallel", "share"), [(True, 0.5), (False, 1.0)])
def test_tensor_parallel_collectives_redone(sequence_parallel, share):
    # With sequence parallelism only the all-gathers are redone (the reduce-scatters'
    # outputs are kept): half of what full recomputation adds; without it the all-reduce.
    def tp_time(recompute):
        return sp.estimate(LLAMA, batch=1, seq_len=S, tp=8, recompute=recompute,
                           sequence_parallel=sequence_parallel).time.tp_communication
    added = tp_time("full") - tp_time("none")
    assert added > 0
    assert tp_time("per_op") - tp_time("none") == pytest.approx(share * added, rel=1e-9)


def test_ring_attention_is_not_redone():
    def cp_time(recompute):
        return sp.estimate(LLAMA, batch=1, seq_len=16384, cp=16, recompute=recompute,
                           hardware="H100-SXM").time.cp_communication
    # Across two nodes the key-value passes are exposed; per-op redoes none of them.
    assert 0 < cp_time("per_op") == cp_time("none") < cp_time("selective")


def test_moe_router_and_routed_experts_are_redone():
    mixtral = sp.Architecture.preset("mixtral-8x7b")
    table = sp.estimate(mixtral, batch=1, seq_len=2048, recompute="per_op").layers
    for op in ("router", "routed_experts"):
        assert table.row(op)["flops_recompute"] == table.row(op)["flops_forward"] > 0
        assert table.row(op)["saved_bytes"] == 0


def test_a_sweep_gives_what_estimate_gives():
    grid = sp.Grid(d_model=[2048, 4096], n_layers=[16, 24], head_dim=128, gqa_group=[1, 4],
                   ffn="swiglu", ffn_ratio=8 / 3, ffn_multiple=256, vocab_size=32000,
                   seq_len=4096, batch=2, recompute=["per_op", "full"], tp=[1, 2],
                   sequence_parallel=True, n_gpus=8, n_experts=[1, 8], top_k=2)
    result = sp.sweep(grid)
    assert set(result["recompute"]) == {"per_op", "full"}
    for i in range(len(result)):
        report = result.report(i)
        assert report.recompute == result["recompute"][i]
        assert report.time.step == result["step_time"][i]
        assert report.memory.per_gpu == result["memory_per_gpu"][i]


def test_per_op_refuses_recompute_every():
    with pytest.raises(ValueError, match="recompute_every"):
        sp.estimate(LLAMA, batch=1, seq_len=S, recompute="per_op", recompute_every=2)


@pytest.mark.parametrize(("sequence_parallel", "kept"), [(True, 1 / 8), (False, 0.0)])
def test_a_recomputed_row_parallel_gemm_keeps_its_reduce_scatter_output(sequence_parallel, kept):
    # wo is redone; under sequence parallelism the reduce-scatter after it is a saved op
    # (reduce_scatter_tensor is in torchtitan's save list): s b h / tp stays per block.
    report = sp.estimate(LLAMA, batch=B, seq_len=S, tp=8, recompute="per_op",
                         sequence_parallel=sequence_parallel)
    stream = 2 * TOKENS * LLAMA.d_model
    assert report.layers.row("out_proj")["saved_bytes"] == pytest.approx(stream * kept)
    assert report.memory.activations == pytest.approx(report.layers.total("saved_bytes"),
                                                      rel=1e-12)
