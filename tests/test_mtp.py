"""Multi-token prediction (``mtp_layers``; DeepSeek-AI 2024, DeepSeek-V3 §2.2): parameters
and FLOPs by hand, DeepSeek-V3's published 14B, the module on the last pipeline stage,
sweeps, the Hugging Face reader and writer, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp

from .boundary import result_or_field_error
from .test_hf_families import _DEEPSEEK_V3

BASE = dict(d_model=256, n_layers=6, n_heads=8, n_kv_heads=2, d_ff=512, ffn="swiglu",
            vocab_size=1000, max_position_embeddings=4096, position="rotary", norm="rmsnorm")


def _mtp_rows(report: sp.Report) -> dict[str, dict[str, float]]:
    table = report.layers
    return {table["op"][i]: table.row(table["op"][i], "mtp")
            for i in range(len(table)) if table["section"][i] == "mtp"}


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.integers(-5, 1030), st.sampled_from([-(2**63), 2**40, 2**63 - 1])))
def test_mtp_layers_is_refused_out_of_range_by_name(value: int) -> None:
    arch = result_or_field_error(lambda: sp.Architecture(**BASE, mtp_layers=value))
    if arch is None:
        assert not 0 <= value <= 1024
        with pytest.raises(ValueError, match=r"^mtp_layers=.* is invalid"):
            sp.Architecture(**BASE, mtp_layers=value)
    else:
        assert 0 <= value <= 1024
        assert arch.mtp_layers == value


def test_out_of_range_message_names_the_range() -> None:
    with pytest.raises(ValueError, match=r"^mtp_layers=-1 is invalid: allowed range is \[0, 1024\]"):
        sp.Architecture(**BASE, mtp_layers=-1)
    with pytest.raises(ValueError, match=r"^mtp_layers=1.5 is invalid"):
        sp.Architecture(**BASE, mtp_layers=1.5)


def test_parameters_and_flops_by_hand() -> None:
    """Each module: two norms and the 2d x d projection, a layer like the others, a final
    norm; forward, the projection's 2 T 2d d, the layer's FLOPs and a second pass of the
    head, 2 T d V; backward twice the matmuls."""
    d, v, b, s, f, h, hkv, dh = 256, 1000, 2, 64, 512, 8, 2, 32
    tokens = b * s
    plain = sp.estimate(sp.Architecture(**BASE), batch=b, seq_len=s)
    for modules in (1, 3):
        report = sp.estimate(sp.Architecture(**BASE, mtp_layers=modules), batch=b, seq_len=s)
        layer_params = d * (h + 2 * hkv) * dh + h * dh * d + 3 * d * f + 2 * d
        module_params = 3 * d + 2 * d * d + layer_params
        assert report.params.total - plain.params.total == modules * module_params
        assert report.params.embedding == plain.params.embedding  # shared embedding and head
        layer_forward = (2 * tokens * d * (h + 2 * hkv) * dh + 2 * 2 * b * h * s * s * dh
                         + 2 * tokens * h * dh * d + 3 * 2 * tokens * d * f)
        module_forward = 2 * tokens * 2 * d * d + layer_forward + 2 * tokens * d * v
        assert report.flops.forward - plain.flops.forward == modules * module_forward
        assert report.flops.backward - plain.flops.backward == 2 * modules * module_forward
        rows = _mtp_rows(report)
        assert rows["mtp_proj"]["params"] == 2 * d * d
        assert rows["lm_head"]["params"] == 0
        assert rows["token_embedding"]["params"] == 0
        assert rows["lm_head"]["flops_forward"] == 2 * tokens * d * v
        assert {row["count"] for row in rows.values()} == {modules}
        assert report.layers.total("params") == report.params.total


def test_deepseek_v3_published_671b_and_14b() -> None:
    """DeepSeek-V3's model card: 685B on Hugging Face, 671B of the main model and 14B of
    the MTP module. The checkpoint's MTP layer (layer 61) stores the layer, enorm, hnorm,
    eh_proj, shared_head.norm and its own copies of the embedding and the output head; the
    model shares them, so its count is the first five (11.6B) and the figure the card
    prints is that plus the two copies (13.46B), within the rounding of 685 - 671 (each
    to 1B: 13 to 15). The checkpoint's FP8 scales (about 41M) are not parameters here."""
    arch = sp.Architecture.preset("deepseek-v3")
    main = sp.estimate(arch, batch=1, seq_len=128).params.total
    with_mtp = sp.estimate(arch.replace(mtp_layers=1), batch=1, seq_len=128)
    module = with_mtp.params.total - main
    assert round(main / 1e9) == 671
    rows = _mtp_rows(with_mtp)
    assert module == sum(row["params"] for row in rows.values())
    assert module == 11_610_067_968
    copies = 2 * arch.vocab_size * arch.d_model
    assert 13e9 < module + copies < 15e9
    assert module < 13e9  # the shared count alone is not the published figure
    assert round((main + module + copies) / 1e9) in (684, 685)


def test_the_module_copies_the_last_layers_kind() -> None:
    """DeepSeek-V3's module is an MoE layer with latent attention; with dense layers
    between MoE ones or windows between global layers, the last layer decides."""
    table = sp.estimate(sp.Architecture.preset("deepseek-v3").replace(mtp_layers=1),
                        batch=1, seq_len=128).layers
    ops = {table["op"][i] for i in range(len(table)) if table["section"][i] == "mtp"}
    assert {"mla_kv_up", "routed_experts", "shared_experts", "router"} <= ops
    assert "mlp_up" not in ops
    moe = dict(BASE, n_experts=4, top_k=2, moe_every=2, mtp_layers=1)
    for layers, expect, other in ((6, "routed_experts", "mlp_up"), (5, "mlp_up", "routed_experts")):
        ops = set(_mtp_rows(sp.estimate(sp.Architecture(**moe | dict(n_layers=layers)),
                                        batch=1, seq_len=64)))
        assert expect in ops
        assert other not in ops
    windowed = dict(BASE, attention_window=16, global_every=2, mtp_layers=1)
    for layers, kind in ((6, "attention"), (5, "window_attention")):
        report = sp.estimate(sp.Architecture(**windowed | dict(n_layers=layers)), batch=1,
                             seq_len=64)
        scores = report.layers.row("attn_scores", "mtp")["flops_forward_causal"]
        assert scores == report.layers.row("attn_scores", kind)["flops_forward_causal"]


@pytest.mark.parametrize("recompute", ["none", "selective", "full", "per_op"])
def test_saved_bytes_balance_the_memory(recompute: str) -> None:
    arch = sp.Architecture(**BASE, mtp_layers=2)
    report = sp.estimate(arch, batch=2, seq_len=64, recompute=recompute, tp=2,
                         sequence_parallel=True)
    assert report.layers.total("saved_bytes") == pytest.approx(report.memory.activations)
    plain = sp.estimate(sp.Architecture(**BASE), batch=2, seq_len=64, recompute=recompute,
                        tp=2, sequence_parallel=True)
    assert report.memory.activations > plain.memory.activations
    assert report.flops.recompute >= plain.flops.recompute


def test_the_module_is_on_the_last_pipeline_stage() -> None:
    """pp = 2: the first stage keeps its layers and the embedding; the last adds the
    module's states and a copy of the embedding (Megatron-Core builds it there), and its
    work makes the last stage the slower."""
    arch = sp.Architecture(**BASE | dict(vocab_size=50000), mtp_layers=1)
    plain = sp.Architecture(**BASE | dict(vocab_size=50000))
    kwargs = dict(batch=1, seq_len=256, pp=2, microbatches=8, zero=0)
    with_mtp = sp.estimate(arch, **kwargs)
    without = sp.estimate(plain, **kwargs)
    module = with_mtp.params.total - without.params.total
    # The last stage holds the most: its layers, the head, the module and the copy.
    assert with_mtp.memory.pipeline_stage == 1
    assert with_mtp.memory.params == pytest.approx(
        without.params.total / 2 - 50000 * 256 / 2 + module + 50000 * 256 / 2 + 50000 * 256,
        rel=1e-3)
    assert with_mtp.time.stage > without.time.stage
    assert with_mtp.time.forward - without.time.forward == pytest.approx(
        _mtp_seconds(with_mtp), rel=1e-9)


def _mtp_seconds(report: sp.Report) -> float:
    table = report.layers
    mtp = table["section"] == "mtp"
    return float(np.sum(table["count"][mtp] * table["time_forward"][mtp]))


def test_expert_parallel_and_context_parallel_costs_include_the_module() -> None:
    moe = sp.Architecture(**BASE | dict(n_experts=8, top_k=2))
    kwargs = dict(batch=1, seq_len=256, dp=8, ep=8, cp=2, hardware="H100-SXM")
    plain = sp.estimate(moe, **kwargs)
    report = sp.estimate(moe.replace(mtp_layers=1), **kwargs)
    # One more MoE layer's all-to-alls (6 layers -> 7) and one more attention's ring.
    assert report.time.ep_communication == pytest.approx(plain.time.ep_communication * 7 / 6)
    assert report.time.cp_communication == pytest.approx(plain.time.cp_communication * 7 / 6)


def test_sweep_rows_equal_estimates_across_depths() -> None:
    """The module follows the last layer, so a sweep over depths (which keeps one shape
    for every depth) must rebuild it when the last layer's kind changes."""
    fixed = dict(BASE, n_experts=4, top_k=2, moe_every=2, attention_window=32,
                 global_every=3, mtp_layers=1)
    fixed.pop("n_layers")
    grid = sp.Grid(**fixed, n_layers=[4, 5, 6, 7, 8, 9], seq_len=128, batch=1, tp=[1, 2],
                   pp=[1, 2], hardware="H100-SXM")
    result = sp.sweep(grid)
    assert len(result) > 10
    for i in range(len(result)):
        report = result.report(i)
        assert report.architecture.mtp_layers == 1
        assert report.time.step == result["step_time"][i]
        assert report.params.total == result["params_total"][i]
        assert report.memory.per_gpu == result["memory_per_gpu"][i]
    deepseek = sp.Architecture.preset("deepseek-v3").replace(mtp_layers=1)
    grid = sp.Grid(**{k: v for k, v in deepseek.to_dict().items() if k != "name"},
                   seq_len=4096, batch=1, pp=[1], ep=[8, 16], dp=16, hardware="B200",
                   dtype="mxfp8")
    result = sp.sweep(grid)
    for i in range(len(result)):
        assert result.report(i).time.step == result["step_time"][i]


def test_hugging_face_reader_and_writer() -> None:
    """transformers' DeepseekV3 model does not build the module (its checkpoint layer is
    dropped on load): the reader gives mtp_layers 0, so the golden counts stay exact; no
    written family has a key for it, so the writer refuses it by name."""
    assert _DEEPSEEK_V3["num_nextn_predict_layers"] == 1
    arch = sp.Architecture.from_hf_config(_DEEPSEEK_V3)
    assert arch.mtp_layers == 0
    assert arch == sp.Architecture.preset("deepseek-v3")
    llama = sp.Architecture(**BASE)
    assert llama.to_hf_config("llama")
    with pytest.raises(ValueError, match=r"^mtp_layers=1 is invalid for a llama config"):
        llama.replace(mtp_layers=1).to_hf_config("llama")


def test_round_trips_and_validation_records() -> None:
    arch = sp.Architecture(**BASE, mtp_layers=2)
    assert sp.Architecture(**arch.to_dict()) == arch
    assert arch.replace(n_layers=8).mtp_layers == 2
    from scalingperf.validate import _architecture

    assert _architecture({"preset": "deepseek-v3", "mtp_layers": 1}) == \
        sp.Architecture.preset("deepseek-v3").replace(mtp_layers=1)
    with pytest.raises(ValueError, match=r"^preset=3 is invalid"):
        _architecture({"preset": 3})
    with pytest.raises(ValueError, match=r"^mtp_layers=-1 is invalid"):
        _architecture({"preset": "deepseek-v3", "mtp_layers": -1})


def test_cli_takes_mtp_layers_with_any_model_source(capsys: pytest.CaptureFixture[str]) -> None:
    from scalingperf.cli import main

    def params(*extra: str) -> int:
        assert main(["estimate", "--preset", "gpt2-small", "--seq-len", "128", "--json",
                     *extra]) == 0
        return int(json.loads(capsys.readouterr().out)["params"]["total"])

    gpt2 = sp.Architecture.preset("gpt2-small")
    expected = sp.estimate(gpt2.replace(mtp_layers=1), batch=1, seq_len=128).params.total
    assert params("--mtp-layers", "1") == expected > params()
    assert main(["estimate", "--preset", "gpt2-small", "--mtp-layers", "2000"]) != 0
    assert "mtp_layers=2000 is invalid: allowed range is [0, 1024]" in capsys.readouterr().err
