"""recompute="selective" with Megatron-Core's recompute_modules, counted by hand against
what each module keeps and redoes (TransformerConfig.recompute_modules: core_attn, mlp,
moe and shared_experts checkpointed whole; layernorm, moe_act and mla_up_proj discarding
their output)."""

import itertools
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf.estimate import RECOMPUTE_MODULES

LLAMA = sp.Architecture.preset("llama-2-7b")
MIXTRAL = sp.Architecture.preset("mixtral-8x7b")
DEEPSEEK = sp.Architecture.preset("deepseek-v3").replace(n_layers=6, first_dense_layers=1)
S = 2048


def _selective(arch, modules, **kwargs):
    return sp.estimate(arch, batch=1, seq_len=S, recompute="selective",
                       recompute_modules=modules, **kwargs)


def test_the_default_is_core_attention():
    default = _selective(LLAMA, None)
    explicit = _selective(LLAMA, ["core_attn"])
    assert default.recompute_modules == explicit.recompute_modules == ("core_attn",)
    assert default.time.step == explicit.time.step
    assert default.memory.activations == explicit.memory.activations
    assert sp.estimate(LLAMA, batch=1, seq_len=S).recompute_modules == ()


def test_layernorm_drops_the_two_norm_outputs_of_each_layer():
    base = _selective(LLAMA, ["core_attn"])
    normed = _selective(LLAMA, ["core_attn", "layernorm"])
    norm_output = 2 * S * LLAMA.d_model  # bf16, one micro-batch of one sequence
    dropped = base.memory.activations - normed.memory.activations
    assert dropped == pytest.approx(LLAMA.n_layers * 2 * norm_output, rel=1e-12)
    assert normed.flops.recompute == base.flops.recompute  # norms are elementwise
    assert normed.time.recompute > base.time.recompute


def test_moe_act_drops_the_experts_activation_output():
    base = _selective(MIXTRAL, ["core_attn"])
    act = _selective(MIXTRAL, ["core_attn", "moe_act"])
    slots = S * MIXTRAL.top_k
    dropped = base.memory.activations - act.memory.activations
    assert dropped == pytest.approx(MIXTRAL.n_layers * 2 * slots * MIXTRAL.d_ff_expert,
                                    rel=1e-12)
    assert act.flops.recompute == base.flops.recompute
    assert act.time.recompute > base.time.recompute


def test_mla_up_proj_redoes_the_up_projections_and_drops_q_k_v():
    report = _selective(DEEPSEEK, ["mla_up_proj"])
    table = report.layers
    up = sum(table.row(op, section)["flops_forward"] * table.row(op, section)["count"]
             for op in ("mla_q_up", "mla_kv_up") for section in ("attention",))
    assert report.flops.recompute == pytest.approx(up, rel=1e-12)
    assert table.row("attn_scores")["saved_bytes"] == 0
    assert table.row("attn_values")["saved_bytes"] == 0
    assert table.row("attn_scores")["flops_recompute"] == 0


def test_mlp_checkpoints_the_dense_mlp_and_its_collectives():
    report = _selective(LLAMA, ["mlp"], tp=8, sequence_parallel=True)
    table = report.layers
    mlp = sum(table.row(op)["flops_forward"] * table.row(op)["count"]
              for op in ("mlp_up", "mlp_gate", "mlp_down"))
    assert report.flops.recompute == pytest.approx(mlp, rel=1e-12)
    for op in ("mlp_gate", "mlp_act", "mlp_down"):
        assert table.row(op)["saved_bytes"] == 0
    assert table.row("mlp_up")["saved_bytes"] == 2 * S * LLAMA.d_model / 8  # its input

    def tp(recompute, modules=None):
        return sp.estimate(LLAMA, batch=1, seq_len=S, tp=8, sequence_parallel=True,
                           recompute=recompute,
                           recompute_modules=modules).time.tp_communication
    # The MLP's all-gather and reduce-scatter again: half of what full recomputation adds.
    assert tp("selective", ["mlp"]) - tp("none") == pytest.approx(
        0.5 * (tp("full") - tp("none")), rel=1e-9)


def test_moe_checkpoints_the_block_with_its_all_to_alls():
    def run(recompute, modules=None):
        return sp.estimate(MIXTRAL, batch=1, seq_len=S, dp=8, ep=8, recompute=recompute,
                           recompute_modules=modules)
    moe, full, none = run("selective", ["moe"]), run("full"), run("none")
    assert moe.time.ep_communication == full.time.ep_communication > none.time.ep_communication
    table = moe.layers
    for op in ("router", "routed_experts"):
        assert table.row(op)["flops_recompute"] == table.row(op)["flops_forward"]
    assert table.row("routed_experts")["saved_bytes"] == 0
    assert table.row("expert_combine")["saved_bytes"] == 0
    assert moe.time.cp_communication == 0


def test_shared_experts_are_redone():
    report = _selective(DEEPSEEK, ["shared_experts"])
    row = report.layers.row("shared_experts")
    assert row["flops_recompute"] == row["flops_forward"] > 0
    assert row["saved_bytes"] == 0


@pytest.mark.parametrize("arch", [LLAMA, MIXTRAL, DEEPSEEK], ids=["llama", "mixtral", "dsv3"])
def test_the_table_balances_the_memory_for_every_module(arch):
    for module in RECOMPUTE_MODULES:
        report = _selective(arch, [module], tp=2, sequence_parallel=True)
        assert report.layers.total("saved_bytes") == pytest.approx(report.memory.activations,
                                                                   rel=1e-12)
        assert report.layers.total("flops_recompute") == pytest.approx(
            report.flops.recompute, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(RECOMPUTE_MODULES), min_size=1),
       st.sampled_from(RECOMPUTE_MODULES))
def test_another_module_never_keeps_more_or_redoes_less(modules, extra):
    for arch in (MIXTRAL, DEEPSEEK):
        fewer = _selective(arch, sorted(modules))
        more = _selective(arch, sorted(modules | {extra}))
        assert more.memory.activations <= fewer.memory.activations * (1 + 1e-12)
        assert more.time.recompute >= fewer.time.recompute * (1 - 1e-12)
        assert more.flops.recompute >= fewer.flops.recompute * (1 - 1e-12)


@pytest.mark.parametrize(("modules", "recompute", "match"), [
    (["attention"], "selective", "give one or more of core_attn"),
    ([], "selective", "give one or more"),
    ([1], "selective", "give one or more"),
    ({"moe": 1}, "selective", "give one or more"),
    ({"moe"}, "selective", "give one or more"),
    ("moe,", "selective", "give one or more"),
    (["moe"], "none", "recompute='selective' redoes"),
    (["moe"], "full", "recompute='selective' redoes"),
])
def test_bad_modules_are_refused_by_name(modules, recompute, match):
    with pytest.raises(ValueError, match="recompute_modules") as error:
        sp.estimate(MIXTRAL, batch=1, seq_len=S, recompute=recompute, recompute_modules=modules)
    assert match in str(error.value)


def test_a_sweep_applies_the_modules_to_its_selective_rows():
    grid = sp.Grid(d_model=[1024, 2048], n_layers=[8], n_heads=16, n_experts=8, top_k=2,
                   seq_len=2048, batch=1, dp=8, ep=[1, 8], recompute=["none", "selective"],
                   recompute_modules=["layernorm", "moe_act"])
    result = sp.sweep(grid)
    assert set(result["recompute"]) == {"none", "selective"}
    for i in range(len(result)):
        report = result.report(i)
        expected = ("layernorm", "moe_act") if result["recompute"][i] == "selective" else ()
        assert report.recompute_modules == expected
        assert report.time.step == result["step_time"][i]
        assert report.memory.per_gpu == result["memory_per_gpu"][i]
    with pytest.raises(ValueError, match="recompute_modules"):
        sp.Grid(d_model=[1024], n_layers=[8], n_heads=16, seq_len=2048, batch=1,
                recompute="none", recompute_modules=["moe"])


def test_the_cli_takes_modules_and_states_them(capsys):
    from scalingperf.cli import main

    assert main(["estimate", "--preset", "mixtral-8x7b", "--seq-len", "2048",
                 "--recompute", "selective", "--recompute-modules", "layernorm,moe_act"]) == 0
    out = capsys.readouterr().out
    assert "selective: Megatron-Core's modules layernorm, moe_act recomputed" in out
    assert main(["estimate", "--recompute-modules", "moe"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "recompute_modules='moe' is invalid" in err


def test_a_module_named_twice_counts_once():
    once = _selective(MIXTRAL, ["moe", "layernorm"])
    twice = _selective(MIXTRAL, "moe,layernorm,moe")
    assert twice.recompute_modules == once.recompute_modules == ("moe", "layernorm")
    assert twice.time.step == once.time.step


def test_every_pair_of_modules_is_expressible():
    for pair in itertools.combinations(RECOMPUTE_MODULES, 2):
        report = _selective(DEEPSEEK, list(pair))
        assert report.recompute_modules == pair


def test_the_sweep_cli_takes_modules_for_its_selective_rows():
    args = ["scalingperf", "sweep", "d_model=2048", "n_layers=8", "n_heads=16", "n_experts=8",
            "top_k=2", "seq_len=2048", "batch=1", "dp=8", "ep=8", "recompute=none,selective",
            "recompute_modules=layernorm,moe_act", "--no-progress"]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "recompute_modules=layernorm,moe_act (selective rows)" in result.stdout
    bad = subprocess.run([*args[:-3], "recompute=none", "recompute_modules=moe"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "recompute_modules" in bad.stderr
