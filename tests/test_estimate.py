"""estimate(): totals, the per-op table, and bad workloads."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import scalingperf as sp


@pytest.fixture
def mixtral():
    return sp.Architecture.preset("mixtral-8x7b")


def test_table_sums_to_totals(mixtral):
    report = sp.estimate(mixtral, batch=2, seq_len=1024, recompute="selective")
    table = report.layers
    assert table.total("params") == report.params.total
    assert table.total("active_params") == report.params.active
    assert table.total("flops_forward") == pytest.approx(report.flops.forward, rel=1e-15)
    assert table.total("flops_backward") == pytest.approx(report.flops.backward, rel=1e-15)
    assert table.total("elementwise_forward") == pytest.approx(
        report.flops.elementwise_forward, rel=1e-15)
    assert table.total("flops_recompute") == pytest.approx(report.flops.recompute, rel=1e-15)
    kinds = set(table["kind"])
    assert kinds == {"matmul", "elementwise"}
    assert set(table["section"]) == {"embedding", "attention", "moe", "head"}


@pytest.mark.parametrize("pattern", [dict(), dict(moe_every=2, first_dense_layers=2,
                                                     dense_layers=(5,))])
def test_each_section_counts_one_instance_per_layer_of_its_kind(mixtral, pattern):
    # The core scales per-instance sums by these counts (and reuses them across depths):
    # every op of a section must have the section's count.
    arch = mixtral.replace(n_layers=12, **pattern)
    report = sp.estimate(arch, batch=1, seq_len=512)
    moe, layers = arch.n_moe_layers, arch.n_layers
    expected = {"embedding": 1, "attention": layers, "mlp": layers - moe, "moe": moe,
                "head": 1}
    table = report.layers
    for section, count in zip(table["section"], table["count"], strict=True):
        assert count == expected[section], section
    assert set(table["section"]) == {k for k, v in expected.items() if v > 0}
    # Parameters of the whole model from the sections' per-instance sums.
    per_instance = {k: sum(p for s, p in zip(table["section"], table["params"], strict=True)
                           if s == k) for k in expected}
    assert report.params.total == sum(expected[k] * per_instance[k] for k in expected)


def test_moe_rows_and_active_params(mixtral):
    report = sp.estimate(mixtral, batch=1, seq_len=512)
    experts = report.layers.row("routed_experts")
    per_expert = 3 * 4096 * 14336
    assert experts["params"] == 8 * per_expert
    assert experts["active_params"] == 2 * per_expert
    # Dropless top-2: 2 x tokens rows through the experts, 2 FLOPs per multiply-add.
    assert experts["flops_forward"] == 2 * 3 * 2 * 512 * 4096 * 14336
    assert report.layers.row("router")["flops_forward"] == 2 * 512 * 4096 * 8
    assert report.params.active == pytest.approx(12.9e9, rel=0.01)  # Jiang et al. 2024: 13B


def test_capacity_factor_pads_expert_slots():
    arch = sp.Architecture(d_model=64, n_layers=1, n_heads=4, n_experts=8, top_k=2,
                           capacity_factor=1.25, vocab_size=100, max_position_embeddings=64)
    tokens = 2 * 50
    slots = 8 * -(-1.25 * tokens * 2 // 8)  # 8 experts x ceil(1.25 k T / E)
    row = sp.estimate(arch, batch=2, seq_len=50).layers.row("routed_experts")
    assert row["flops_forward"] == 2 * 2 * slots * 64 * 256


def test_shared_experts_and_gate():
    arch = sp.Architecture.preset("qwen1.5-moe-a2.7b")
    report = sp.estimate(arch, batch=1, seq_len=8)
    assert report.layers.row("shared_experts")["params"] == 3 * 2048 * 5632
    assert report.layers.row("shared_expert_gate")["params"] == 2048
    assert report.params.active == pytest.approx(2.7e9, rel=0.03)  # the "A2.7B" of its name


def test_recompute_adds_hardware_flops_only():
    arch = sp.Architecture.preset("gpt3-6.7b")
    none, selective, full = (sp.estimate(arch, batch=4, seq_len=2048, recompute=mode)
                             for mode in ("none", "selective", "full"))
    assert none.flops.model == selective.flops.model == full.flops.model
    assert none.flops.hardware == none.flops.model
    assert none.flops.hardware < selective.flops.hardware < full.flops.hardware
    core = selective.layers.row("attn_scores")
    assert selective.flops.recompute == 2 * core["count"] * core["flops_forward"]


def test_conversions(mixtral):
    report = sp.estimate(mixtral, batch=1, seq_len=128)
    array = report.layers.to_numpy()
    assert array.dtype.names == report.layers.columns
    assert len(array) == len(report.layers)
    frame = report.layers.to_pandas()
    assert list(frame.columns) == list(report.layers.columns)
    assert frame["params"].mul(frame["count"]).sum() == report.params.total
    data = report.to_dict()
    assert data["params"]["total"] == report.params.total
    assert "routed_experts" in str(report)
    assert "6N per token" in str(report)
    with pytest.raises(ValueError, match="read-only"):
        report.layers["params"][0] = 1  # read-only columns


@pytest.mark.parametrize(("kwargs", "field"), [
    (dict(batch=0, seq_len=16), "batch"),
    (dict(batch=1, seq_len=-1), "seq_len"),
    (dict(batch=1, seq_len=2**25), "seq_len"),
    (dict(batch=1.5, seq_len=16), "batch"),
    (dict(batch=1, seq_len=2**64), "seq_len"),
    (dict(batch=1, seq_len=16, recompute="some"), "recompute"),
    (dict(batch=1, seq_len=2048), "seq_len"),  # beyond GPT-2's learned position table
])
def test_bad_workload(kwargs, field):
    with pytest.raises(ValueError, match=rf"^{re.escape(field)}="):
        sp.estimate(sp.Architecture.preset("gpt2-small"), **kwargs)


def test_bad_architecture_argument():
    with pytest.raises(ValueError, match=r"^arch="):
        sp.estimate("llama-2-7b", batch=1, seq_len=1)  # type: ignore[arg-type]


def test_reports_print_their_fields_with_units():
    """Reports printed as <scalingperf._core.MemoryReport object at 0x...>."""
    from scalingperf._format import duration, si

    arch = sp.Architecture.preset("llama-2-7b")
    report = sp.estimate(arch, batch=1, seq_len=4096)
    m, t, p, f = report.memory, report.time, report.params, report.flops
    texts = {
        "ParamCounts": (repr(p), [f"total={si(p.total)}", f"embedding={si(p.embedding)}"]),
        "FlopCounts": (repr(f), [f"model={si(f.model, 'FLOP')}",
                                 f"per_token={si(f.per_token, 'FLOP/token')}"]),
        "MemoryReport": (repr(m), [f"per_gpu={si(m.per_gpu, 'B')}", f"fits={m.fits}",
                                   f"capacity={si(m.capacity, 'B')}",
                                   f"activations={si(m.activations, 'B')}",
                                   f"max_inference_batch={m.max_inference_batch}"]),
        "TimeReport": (repr(t), [f"step={duration(t.step)}", "recompute=0 s",
                                 f"tokens_per_s={si(t.tokens_per_s)} tokens/s"]),
        "TrainingReport": (repr(report._result), [f"fits={m.fits}", "devices=1"]),
        "Efficiency": (repr(sp.Efficiency()), ["matmul=0.75", "tile=128"]),
    }
    for name, (text, parts) in texts.items():
        assert text.startswith(f"{name}("), text
        assert text.endswith(")"), text
        assert " object at 0x" not in text
        for part in parts:
            assert part in text, (name, part)
    assert str(m) == repr(m)
    # The report states whether it fits, on both sides of the answer.
    assert "fits=False" in repr(report)
    assert "llama-2-7b" in repr(report)
    assert "fits=True" in repr(sp.estimate(arch, batch=1, seq_len=4096, tp=8, zero=1, dp=8))


def test_hardware_prints_as_a_table_and_stays_a_mapping():
    from collections.abc import Mapping

    devices = sp.hardware()
    assert isinstance(devices, Mapping)
    assert isinstance(devices, dict)
    assert all(isinstance(hw, sp.Hardware) for hw in devices.values())
    assert devices["H100-SXM"].memory == 80e9
    lines = repr(devices).splitlines()
    assert str(devices) == repr(devices)
    assert lines[0].split()[:3] == ["name", "bf16", "peak"]
    assert set(lines[1]) == {"-", " "}
    assert len(lines) == 2 + len(devices)
    h100 = next(line for line in lines if line.startswith("H100-SXM "))
    assert h100.split() == ["H100-SXM", "989", "TFLOP/s", "1.98", "PFLOP/s", "80", "GB",
                            "3.35", "TB/s", "450", "GB/s", "50", "GB/s", "8", "64", "GB/s"]
    text = repr(devices["H100-SXM"])
    assert text.startswith("Hardware(name='H100-SXM', peak_flops={fp32: 66.9 TFLOP/s")
    assert "memory=80 GB" in text
    assert "memory_bandwidth=3.35 TB/s" in text
    assert "sources" not in text
    assert repr(devices["H100-SXM"]._core).startswith("Hardware(peak_fp32=66.9 TFLOP/s")


@pytest.mark.parametrize(("options", "message"), [
    # Once truncated to 2, 100 and 2, or read as 1, False, True, the default...
    (dict(batch=Decimal("2.7")), "batch=Decimal('2.7') is invalid: it must be an integer"),
    (dict(seq_len=np.float32(100.5)), "seq_len=np.float32(100.5) is invalid: it must be a whole"),
    (dict(tp=Fraction(5, 2)), "tp=Fraction(5, 2) is invalid: it must be a whole number"),
    (dict(batch=True), "batch=True is invalid: it must be an integer, not bool"),
    (dict(flash_attention=None), "flash_attention=None is invalid: it must be True or False"),
    (dict(sequence_parallel=2.5), "sequence_parallel=2.5 is invalid: it must be True or False"),
    (dict(dropout=1), "dropout=1 is invalid: it must be True or False"),
    (dict(microbatches=0), "microbatches=0 is invalid: it must be >= 1 (leave it None"),
    (dict(microbatches=np.int64(0)), "microbatches=0 is invalid"),
    (dict(microbatches=-3), "microbatches=-3 is invalid"),
    (dict(efficiency=""), "efficiency='' is invalid: it must be a scalingperf.Efficiency"),
    (dict(efficiency=0), "efficiency=0 is invalid"),
    (dict(dtype=b"\x80"), "dtype=b'\\x80' is invalid: it must be a string, not bytes"),
    (dict(dtype="bf16\udc80"), "dtype='bf16\\udc80' is invalid: it is not valid Unicode"),
    (dict(recompute=None), "recompute=None is invalid: it must be a string"),
    (dict(zero=2**64), "zero=18446744073709551616 is invalid: it does not fit a 64-bit"),
])
def test_inexact_options_are_refused_not_truncated(options, message):
    arch = sp.Architecture.preset("llama-2-7b")
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        sp.estimate(arch, **{"batch": 2, "seq_len": 100, **options})


def test_exact_conversions_are_accepted():
    arch = sp.Architecture.preset("llama-2-7b")
    plain = sp.estimate(arch, batch=2, seq_len=128, tp=2, microbatches=3,
                        flash_attention=True)
    converted = sp.estimate(arch, batch=np.int64(2), seq_len=128.0, tp=Fraction(4, 2),
                            microbatches=np.uint8(3), flash_attention=np.bool_(True))
    assert converted.to_dict() == plain.to_dict()
    assert (type(converted.batch), type(converted.seq_len)) == (int, int)
    assert sp.estimate(arch, batch=2, seq_len=128, pp=4, microbatches=None).microbatches == 4


DEVICE = dict(name="toy", peak_flops={"bf16": 1e15, "fp32": 5e13}, memory=80e9,
              memory_bandwidth=3e12, intra_node_bandwidth=4e11, inter_node_bandwidth=5e10,
              devices_per_node=8)


@pytest.mark.parametrize(("changes", "message"), [
    # Once a TypeError from set(0) / set(None):
    (dict(peak_flops=0), "peak_flops=0 is invalid: it must be a dict of dense FLOP/s"),
    (dict(peak_flops=None), "peak_flops=None is invalid: it must be a dict"),
    (dict(peak_flops={"bf16": 0}), ("peak_flops['bf16']=0 is invalid: allowed range is "
                                    "[1e+09, 1e+18] FLOP/s")),
    (dict(peak_flops={"bf16": "1e15"}), ("peak_flops['bf16']='1e15' is invalid: it must be a "
                                         "number")),
    (dict(peak_flops={"int4": 1}), "peak_flops={'int4': 1} is invalid: unknown formats 'int4'"),
    (dict(peak_flops={"fp8": 1e15}), ("peak_flops={'fp8': 1000000000000000.0} is invalid: at "
                                      "least one of fp32, tf32, bf16, fp16 needs a peak")),
    # Once accepted, giving step=nan, mfu=nan and tp_gemm_efficiency=inf:
    (dict(memory_bandwidth=1e-300), ("memory_bandwidth=1e-300 is invalid: allowed range is "
                                     "[1e+09, 1e+17] bytes/s")),
    (dict(intra_node_bandwidth=1e-30), ("intra_node_bandwidth=1e-30 is invalid: allowed range "
                                        "is [1e+06, 1e+15] bytes/s")),
    (dict(inter_node_bandwidth=1e16), "inter_node_bandwidth=1e+16 is invalid"),
    # A faster network outside the node made tp_gemm_efficiency 175 (its tp = 1 baseline
    # put pipeline neighbours on the slow intra-node link):
    (dict(intra_node_bandwidth=1e6), ("inter_node_bandwidth=5e+10 is invalid: it must be at "
                                      "most intra_node_bandwidth=1e+06 bytes/s")),
    (dict(intra_node_latency=1e-5), ("inter_node_latency=8e-06 is invalid: it must be at "
                                     "least intra_node_latency=1e-05 s")),
    (dict(memory=1e3), "memory=1000 is invalid: allowed range is [1e+06, 1e+15] bytes"),
    (dict(memory=None), "memory=None is invalid: it must be a number, not NoneType"),
    (dict(intra_node_latency=1.0), "intra_node_latency=1 is invalid: allowed range is [0, 1)"),
    (dict(devices_per_node=0), "devices_per_node=0 is invalid: allowed range is [1, 1048576]"),
    (dict(name=["x"]), "name=['x'] is invalid: it must be a string"),
])
def test_bad_hardware_names_the_field_and_range(changes, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        sp.estimate(sp.Architecture.preset("gpt2-small"), batch=1, seq_len=16,
                    hardware={**DEVICE, **changes})


def test_hardware_at_the_edges_of_its_ranges_gives_finite_answers():
    limits = sp._core.HARDWARE_LIMITS
    arch = sp.Architecture.preset("gpt2-small")
    for edge in (0, 1):
        device = dict(DEVICE, peak_flops={"bf16": limits["peak_flops"][edge]},
                      memory=limits["memory"][edge],
                      memory_bandwidth=limits["memory_bandwidth"][edge],
                      intra_node_bandwidth=limits["link_bandwidth"][edge],
                      inter_node_bandwidth=limits["link_bandwidth"][edge],
                      intra_node_latency=0.0, inter_node_latency=0.999 * edge)
        report = sp.estimate(arch, batch=1, seq_len=16, hardware=device, tp=4, dp=2, pp=2)
        for value in (report.time.step, report.mfu, report.hfu, report.tp_efficiency,
                      report.tp_gemm_efficiency, report.tp_communication_efficiency):
            assert math.isfinite(value)
            assert value > 0
        assert 0 < report.mfu <= 1


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(matmul="x"), "matmul='x' is invalid: it must be a number, not str"),  # TypeError once
    (dict(memory=None), "memory=None is invalid: it must be a number"),
    (dict(tile=2.5), "tile=2.5 is invalid: it must be a whole number"),
    (dict(dp_overlap=True), "dp_overlap=True is invalid: it must be a number, not bool"),
    (dict(matmul=2), "matmul_efficiency=2 is invalid: allowed range is [0.001, 1]"),
])
def test_efficiency_refuses_with_value_errors(kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        sp.Efficiency(**kwargs)


def test_efficiency_converts_exact_values():
    efficiency = sp.Efficiency(matmul=np.float32(0.25), tile=np.int64(64))
    assert (efficiency.matmul, efficiency.tile) == (0.25, 64)
    assert isinstance(efficiency, sp._core.Efficiency)
    arch = sp.Architecture.preset("gpt2-small")
    slow = sp.estimate(arch, batch=1, seq_len=1024, efficiency=efficiency)
    assert slow.time.forward > sp.estimate(arch, batch=1, seq_len=1024).time.forward


def _plain(value):
    """True when ``value`` is made of plain Python containers and scalars only."""
    if isinstance(value, dict):
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (int, float, bool, str)


def test_to_dict_is_plain_json_after_numpy_inputs():
    """to_dict() kept batch=np.int64(2): json.dumps failed."""
    import json

    arch = sp.Architecture(d_model=np.int64(256), n_layers=np.int32(2), n_heads=np.int64(4),
                           vocab_size=np.uint16(1000), capacity_factor=np.float32(0.0))
    device = dict(DEVICE, memory=np.float64(80e9), devices_per_node=np.int64(8),
                  peak_flops={"bf16": np.float32(1e15)})
    report = sp.estimate(arch, batch=np.int64(2), seq_len=np.int32(128), tp=np.int64(2),
                         microbatches=np.int16(2), flash_attention=np.bool_(False),
                         hardware=device)
    data = report.to_dict()
    assert _plain(data)
    assert json.loads(json.dumps(data))["batch"] == 2
    assert (data["batch"], data["seq_len"], data["architecture"]["d_model"]) == (2, 128, 256)


def test_a_training_budget_says_whether_the_configuration_fits():
    big = sp.estimate(sp.Architecture.preset("llama-2-70b"), batch=1, seq_len=4096)
    assert not big.memory.fits
    assert big.training(2e12)["fits"] is False
    small = sp.estimate(sp.Architecture.preset("gpt2-small"), batch=1, seq_len=1024)
    budget = small.training(1e9)
    assert budget["fits"] is True
    assert budget["days"] > 0
