"""The validation suite: published, measured training runs shipped as package data,
``sp.validate()`` and ``scalingperf validate``. No error threshold is asserted here (the time
model is being improved separately); these tests check the data, the conversions into each
source's measured quantity, and the interfaces."""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import subprocess
from importlib import resources
from pathlib import Path

import pytest

import scalingperf as sp
from scalingperf.validate import (
    FLOP_CONVENTIONS,
    QUANTITIES,
    ValidationResult,
    convert,
    megatron_core_moe,
    records,
    sources,
)
from scalingperf.validate import _architecture as architecture

LAYOUT = ("gpus", "tp", "pp", "dp", "cp", "ep", "zero", "global_batch", "micro_batch",
          "seq_len", "recompute", "sequence_parallel", "interleave", "flash_attention",
          "dropout")


@pytest.fixture(scope="module")
def result() -> ValidationResult:
    return sp.validate()


def record(run_id: str) -> dict:
    (rec,) = [rec for _, rec in records() if rec["id"] == run_id]
    return rec


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["scalingperf", *args], capture_output=True, text=True, check=False)


def test_files_are_package_data_beside_devices_json():
    """Loaded through importlib.resources from scalingperf/data, as devices.json is (the
    wheel ships the whole scalingperf package: [tool.scikit-build] wheel.packages)."""
    folder = resources.files("scalingperf").joinpath("data/validation")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".json"))
    assert names == sorted(f"{name}.json" for name in sources())
    assert len(names) >= 5


def test_every_record_is_complete_and_cited():
    all_records = records()
    assert len(all_records) >= 60
    ids = [rec["id"] for _, rec in all_records]
    assert len(ids) == len(set(ids))
    for name, citation in sources().items():
        assert citation
        assert any(source == name for source, _ in all_records)
    for _, rec in all_records:
        assert set(LAYOUT) <= set(rec["layout"]), rec["id"]
        layout = rec["layout"]
        assert layout["tp"] * layout["pp"] * layout["dp"] * layout["cp"] == layout["gpus"]
        measured = rec["measured"]
        assert measured["quantity"] in QUANTITIES
        assert measured["value"] > 0
        assert isinstance(measured["printed"], str)
        assert measured["printed"]
        assert rec["source"], rec["id"]
        assert rec["hardware"]
        assert rec["model"] is not None or rec.get("unsupported"), rec["id"]
        if measured["quantity"] in ("tflops_per_gpu", "mfu"):
            assert rec["flops_convention"], rec["id"]


def test_every_record_predicts_or_says_why(result):
    assert len(result.rows) == len(records())
    for row in result.rows:
        assert (row.predicted is None) == (row.reason is not None), row.id
        if row.predicted is None:
            assert row.error is None
            assert row.reason
        else:
            assert math.isfinite(row.predicted)
            assert row.predicted > 0
            assert row.error == pytest.approx((row.predicted - row.measured) / row.measured)
            assert row.abs_error == pytest.approx(abs(row.error))
            assert row.predicted_step_s is not None
            assert row.predicted_step_s > 0


def test_coverage_of_the_data(result):
    """Sources, device generations, dense and MoE, BF16, FP8 and NVFP4 are all there; what
    the model cannot express is listed with its reason; runs with context parallelism,
    uneven pipeline stages, NVFP4, a hybrid of linear and full attention and DeepSeek-V3's
    multi-token prediction (MXFP8, uneven stages from the recipe's layout) are predicted."""
    assert len({row.source for row in result.rows}) >= 5
    devices = {row.hardware for row in result.rows}
    assert {"A100-SXM4-80GB", "H100-SXM", "B200", "GB200"} <= devices
    assert {row.dtype for row in result.rows} >= {"bf16", "fp16", "fp8"}
    assert any(row.model.startswith("Qwen3") for row in result.predicted)  # an MoE, predicted
    assert all(row.reason for row in result.not_expressible)
    deepseek = [row for row in result.rows if row.model == "DeepSeek-V3"]
    assert len(deepseek) == 4
    assert all(row.error is not None for row in deepseek)
    assert {row.dtype for row in deepseek} == {"mxfp8"}
    by_id = {row.id: row for row in result.predicted}
    assert "megatron-bridge-26.04.01-llama-3.1-405b-dgx-gb200-nvfp4" in by_id
    assert "moe-modelzoo-qwen3-next-80b-h100" in by_id
    assert "torchtitan-llama3.1-405b-512gpu-cp8-seq262144-float8" in by_id  # cp 8, 126 on 8
    assert "megatron-bridge-26.04.01-llama-3.1-405b-dgx-h100-fp8" in by_id  # cp 2, 126 on 64


def test_summary_per_source_device_and_overall(result):
    summary = result.summary()
    groups = {(s.group, s.name) for s in summary}
    assert {("source", name) for name in sources()} <= groups
    assert ("device", "A100-SXM4-80GB") in groups
    assert summary[-1].group == "overall"
    overall = summary[-1]
    assert overall.runs == len(result.rows)
    assert overall.predicted == len(result.predicted)
    errors = sorted(abs(row.error) for row in result.predicted if row.error is not None)
    assert overall.max == pytest.approx(errors[-1])
    assert overall.mean == pytest.approx(sum(errors) / len(errors))
    print(f"\n{result.summary_table()}")  # the figures, for the record (not asserted)


def test_megatron_readme_gpt3_hand_check():
    """Megatron-LM README (Jan 2021): 1536 sequences on 1024 A100s, 'around 32 seconds',
    '138 teraFLOPs per GPU'. Narayanan's eq. 3, 96 B s l h^2 (1 + s/6h + V/16lh), turns the
    printed time into the printed rate."""
    rec = record("megatron-lm-readme-gpt3-175b-a100")
    arch = architecture(rec["model"])
    flops = 96 * 1536 * 2048 * 96 * 12288**2 * (1 + 2048 / (6 * 12288)
                                                   + 51200 / (16 * 96 * 12288))
    assert FLOP_CONVENTIONS["narayanan2021_eq3"](arch, 1536, 2048) == pytest.approx(flops)
    assert flops / 32 / 1024 / 1e12 == pytest.approx(138, abs=0.5)
    assert rec["also_printed"]["tflops_per_gpu"] == "138"


def test_korthikanti_mfu_hand_check():
    """Korthikanti et al. 2022: 175B, 64 A100s, 13.75 s per iteration (Table 5) is the
    printed MFU of 51.4 % with the model-FLOP count 72 B s l h^2 (1 + s/6h + V/12lh)."""
    rec = record("korthikanti2022-t5-175b-selective-sp")
    arch = architecture(rec["model"])
    flops = FLOP_CONVENTIONS["korthikanti2022_model"](arch, 64, 2048)
    mfu = flops / rec["measured"]["value"] / 64 / 312e12
    assert f"{mfu:.1%}" == rec["also_printed"]["mfu"] == "51.4%"


def test_megatron_core_moe_small_config_by_hand():
    """Megatron-Core's MoE FLOP count on a config small enough to add up by hand: h 8, 2
    layers (layer 0 dense, layer 1 MoE: moe_every 2), 2 heads of 4 (q 8), 1 KV head (kv 4),
    SwiGLU (3 GEMMs of h x width), d_ff 16, 4 experts top-2 of width 6, one shared expert of
    width 4, vocabulary 10; 1 sequence of 4 tokens (T = 4)."""
    arch = sp.Architecture(d_model=8, n_layers=2, n_heads=2, n_kv_heads=1, head_dim=4,
                           d_ff=16, ffn="swiglu", vocab_size=10, max_position_embeddings=4,
                           position="rotary", norm="rmsnorm", n_experts=4, top_k=2,
                           d_ff_expert=6, n_shared_experts=1, d_ff_shared=4, moe_every=2)
    assert arch.n_moe_layers == 1
    mlp = 8 * 3 * 16 * 1 + 8 * 3 * (2 * 6 + 1 * 4) * 1  # dense layer + (top-2 + shared)
    assert mlp == 768
    projections = 2 * (8 * (8 + 2 * 4) + 8 * 8)  # QKV + output projection, both layers
    assert projections == 384
    logits = 8 * 10
    linear = 6 * 4 * (mlp + projections + logits)  # 3 (fwd, wgrad, dgrad) x 2 (FMA) x T
    assert linear == 29568
    causal = 6 * 4 * 4 * 8 * 2 / 2 * 2  # 3 x 2 x T s q x layers, /2 causal mask, x2 QK^T, AV
    assert causal == 1536
    convention = FLOP_CONVENTIONS["megatron_core_moe"]
    assert convention(arch, 1, 4) == pytest.approx(29568 + 1536)
    assert megatron_core_moe(arch, 1, 4, causal=False) == pytest.approx(29568 + 2 * 1536)
    assert convention(arch, 3, 4) == pytest.approx(3 * (29568 + 1536))


def test_megatron_core_moe_without_the_causal_correction_is_r08():
    """Before Megatron-LM 8873b55d6a (March 2025) core attention counted the full s^2; with
    every layer MoE and no shared expert that count is the r0.8 formula already shipped."""
    arch = architecture(record("moe-modelzoo-qwen3-235b-gb300-mxfp8")["model"])
    assert arch.n_moe_layers == arch.n_layers
    assert arch.n_shared_experts == 0
    full = megatron_core_moe(arch, 8192, 4096, causal=False)
    assert full == pytest.approx(FLOP_CONVENTIONS["megatron_core_r0.8"](arch, 8192, 4096))
    # the correction removes half of 6 T s q L
    halved = 6 * 8192 * 4096 * 4096 * 64 * 128 * 94
    assert full - megatron_core_moe(arch, 8192, 4096) == pytest.approx(halved)


def test_megatron_core_moe_records_predict_or_say_why(result):
    """Every run counted with 'megatron_core_moe' is predicted (converted with that count) or
    keeps a reason other than the FLOP convention; each carries the fields the count needs."""
    rows = [row for row in result.rows if row.flops_convention == "megatron_core_moe"]
    assert len(rows) == 8
    assert not any("FLOP convention" in (row.reason or "") for row in rows)
    predicted = [row for row in rows if row.predicted is not None]
    # Uneven stages ("embedding+loss") and context parallelism made the others expressible.
    assert {row.id for row in predicted} >= {
        "moe-modelzoo-qwen3-235b-gb300-mxfp8", "moe-modelzoo-qwen3-235b-gb200-bf16-seq4096",
        *(f"moe-modelzoo-qwen3-235b-h100-longcontext-seq{s}" for s in (16384, 131072))}
    for row in rows:
        rec = record(row.id)
        assert {"n_experts", "top_k", "d_ff_expert", "n_shared_experts",
                "moe_every"} <= set(rec["model"]), row.id
    for row in predicted:
        rec = record(row.id)
        layout = rec["layout"]
        assert row.predicted_step_s is not None
        flops = megatron_core_moe(architecture(rec["model"]), layout["global_batch"],
                                  layout["seq_len"])
        assert row.predicted == pytest.approx(
            flops / row.predicted_step_s / layout["gpus"] / 1e12)


@pytest.mark.parametrize(("run_id", "flops_per_sequence"), [
    # Narayanan 1.7B: 96 s l h^2 (1 + s/6h + V/16lh), h 2304, l 24, V 51200, s 2048
    ("narayanan2021-t1-1.7b",
     96 * 2048 * 24 * 2304**2 * (1 + 2048 / (6 * 2304) + 51200 / (16 * 24 * 2304))),
    # Megatron H100 1.7B: 12 s L h^2 ((1 + 1 + s/h) + 4 + V/(2Lh)), h 2048, L 24, s 4096
    ("megatron-lm-readme-h100-1.7b",
     12 * 4096 * 24 * 2048**2 * ((2 + 4096 / 2048) + 4 + 131072 / (2 * 24 * 2048))),
])
def test_tflops_conversion_uses_the_source_formula(run_id, flops_per_sequence):
    """A predicted step equal to the one the printed rate implies converts back to the
    printed TFLOP/s per GPU: the source's FLOP count, not ours."""
    rec = record(run_id)
    arch = architecture(rec["model"])
    layout, printed = rec["layout"], rec["measured"]["value"]
    flops = flops_per_sequence * layout["global_batch"]
    step = flops / (printed * 1e12 * layout["gpus"])
    assert convert(rec, arch, step) == pytest.approx(printed)
    assert convert(rec, arch, step / 2) == pytest.approx(2 * printed)


def test_tokens_per_second_conversion():
    rec = record("torchtitan-llama3.1-8b-8gpu-fsdp")
    arch = architecture(rec["model"])
    step = 16 * 8192 / (5762 * 8)  # global batch 16 x 8192 tokens, 8 GPUs
    assert convert(rec, arch, step) == pytest.approx(5762)


def test_step_time_rows_compare_the_step(result):
    (row,) = [r for r in result.rows if r.id == "korthikanti2022-t5-1t-full"]
    assert row.quantity == "step_time_s"
    assert row.predicted == row.predicted_step_s
    assert row.measured == 94.42


def test_sources_filter_and_unknown_source():
    only = sp.validate("narayanan2021")
    assert {row.source for row in only.rows} == {"narayanan2021"}
    assert len(only.rows) == 10
    two = sp.validate(["narayanan2021", "korthikanti2022"])
    assert {row.source for row in two.rows} == {"narayanan2021", "korthikanti2022"}
    with pytest.raises(ValueError, match="known sources are"):
        sp.validate("nope")


def test_str_and_dict(result):
    text = str(result)
    assert "mean |err|" in text
    # A run the model cannot express is listed with its reason.
    refused = dataclasses.replace(result.rows[0], id="refused-run", predicted=None, error=None,
                                  reason="a feature not modelled")
    listed = str(ValidationResult([*result.rows, refused]))
    assert "not expressible because" in listed
    assert "refused-run" in listed
    assert "a feature not modelled" in listed
    assert "narayanan2021-t1-1.7b" in text
    data = json.loads(json.dumps(result.to_dict()))
    assert len(data["rows"]) == len(result.rows)
    assert data["summary"][-1]["group"] == "overall"
    assert "ValidationResult" in repr(result)


def test_to_pandas(result):
    pytest.importorskip("pandas")
    frame = result.to_pandas()
    assert len(frame) == len(result.rows)
    assert {"id", "measured", "predicted", "error", "reason"} <= set(frame.columns)


def test_cli_prints_the_table():
    done = run("validate")
    assert done.returncode == 0, done.stderr
    assert "mean |err|" in done.stdout
    for name in sources():
        assert name in done.stdout


def test_cli_json_is_valid():
    done = run("validate", "--json", "--source", "korthikanti2022")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {row["source"] for row in data["rows"]} == {"korthikanti2022"}
    assert len(data["rows"]) == 8


def test_cli_unknown_source_is_a_usage_error():
    done = run("validate", "--source", "nope")
    assert done.returncode == 2
    assert done.stderr.startswith("scalingperf: error: source='nope' is invalid")


def test_bias_is_the_throughput_error(result):
    """A step time predicted too short and a rate predicted too high both count as
    optimistic in the bias."""
    for row in result.predicted:
        assert row.predicted is not None
        assert row.speed_error is not None
        if row.quantity == "step_time_s":
            assert row.speed_error == pytest.approx(row.measured / row.predicted - 1)
            assert (row.speed_error > 0) == (row.predicted < row.measured)
        else:
            assert row.speed_error == row.error


def test_summary_per_dominant_term(result):
    """The issue asks for errors per dominant term: each predicted run names the largest
    term of its predicted step, and the summary groups by it."""
    from types import SimpleNamespace

    from scalingperf.validate import TERMS, dominant_term

    for row in result.predicted:
        assert row.dominant in TERMS
    for row in result.not_expressible:
        assert row.dominant is None
    terms = {s.name: s for s in result.summary() if s.group == "term"}
    assert "compute" in terms
    assert sum(s.predicted for s in terms.values()) == len(result.predicted)
    by_id = {row.id: row for row in result.predicted}
    # NCCL all-to-alls of Qwen3-235B over four nodes (DeepEP would halve them) dominate its
    # step, unless the recipe's overlap (ep_overlap) hides them behind another micro-batch.
    run_id = "megatron-bridge-26.04.01-qwen3-235b-a22b-dgx-h100-fp8"
    assert by_id[run_id].dominant == "compute"
    validation = importlib.import_module("scalingperf.validate")
    source, record = next((s, r) for s, r in validation.records() if r["id"] == run_id)
    record["layout"]["ep_overlap"] = False
    assert validation._row(source, record, "").dominant == "expert-parallel"
    # By hand: 4 micro-batches of 1 s compute lose to a 5 s exposed gradient reduction.
    time = SimpleNamespace(forward=0.3, backward=0.6, recompute=0.1, tp_communication=0.2,
                           ep_communication=0, cp_communication=0, pp_communication=0,
                           bubble=0, dp_communication=5.0, optimizer=0.1, offload=0)
    assert dominant_term(time, 4) == "data-parallel"
    assert dominant_term(time, 6) == "compute"


def test_runs_the_memory_model_puts_over_their_device_are_named(result):
    over = result.over_memory
    assert over == [r for r in result.predicted if r.fits is False]
    assert f"memory: {len(over)} of the {len(result.predicted)} predicted runs" in str(result)
    for row in over:
        assert row.id in str(result)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert f"`result.over_memory`:\n{len(over)} of {len(result.predicted)};" in readme
    # Megatron-Core's module recomputation (layernorm, moe) and Transformer Engine's FP8
    # saved inputs are what let these published runs fit: they must, here too.
    ids = {r.id: r for r in result.predicted}
    for seq in (16384, 32768, 65536, 131072):
        assert ids[f"moe-modelzoo-qwen3-235b-h100-longcontext-seq{seq}"].fits is True
    assert ids["megatron-bridge-26.04.01-qwen3-30b-a3b-dgx-gb200-mxfp8"].fits is True
    # The Llama 3 70B FP8 recipes on GB200 / GB300 offload the activations of 40 / 20 of
    # the 80 layers to the Grace CPU's memory (offload_layers): without it neither fits.
    for device in ("gb200", "gb300"):
        assert ids[f"megatron-bridge-26.04.01-llama-3-70b-dgx-{device}-fp8"].fits is True


def test_each_row_splits_its_predicted_step_into_the_terms(result):
    """The terms add up to the predicted step, the dominant one is the largest, and the
    JSON carries them in seconds; a run with activation offloading shows its copies."""
    from scalingperf.validate import TERMS

    for row in result.predicted:
        terms = dict(row.step_terms)
        assert tuple(terms) == TERMS
        assert all(seconds >= 0 for seconds in terms.values())
        assert sum(terms.values()) == pytest.approx(row.predicted_step_s, rel=1e-9)
        assert terms[row.dominant] == max(terms.values())
        assert row.to_dict()["step_terms"] == terms
    for row in result.not_expressible:
        assert row.step_terms == ()
    by_id = {row.id: dict(row.step_terms) for row in result.predicted}
    assert by_id["megatron-bridge-26.04.01-llama-3-70b-dgx-gb200-fp8"][
        "activation offloading"] > 0
    assert by_id["korthikanti2022-t5-22b-full"]["activation offloading"] == 0
