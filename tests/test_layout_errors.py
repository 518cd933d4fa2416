"""Bad parallel layouts, hardware and options: a ValueError naming the field, never a crash
or a negative number."""

from __future__ import annotations

import json
import math
import re

import pytest
from boundary import result_or_field_error
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp

LLAMA = sp.Architecture.preset("llama-2-7b")
MIXTRAL = sp.Architecture.preset("mixtral-8x7b")


@pytest.mark.parametrize(("arch", "options", "field"), [
    (LLAMA, dict(tp=3), "tp"),                    # does not divide 32 heads
    (sp.Architecture.preset("llama-2-70b"), dict(tp=16), "tp"),  # 8 KV heads
    (LLAMA, dict(pp=5), "pp"),                    # does not divide 32 layers
    (LLAMA, dict(pp=64), "pp"),                   # more stages than layers
    (LLAMA, dict(tp=0), "tp"),
    (LLAMA, dict(dp=-1), "dp"),
    (LLAMA, dict(ep=2, dp=2), "ep"),              # a dense model
    (MIXTRAL, dict(ep=3, dp=3), "ep"),            # does not divide 8 experts
    (MIXTRAL, dict(ep=4, dp=2), "ep"),            # does not divide dp
    (LLAMA, dict(zero=1), "zero"),                # ZeRO with dp = 1
    (LLAMA, dict(zero=4, dp=2), "zero"),
    (LLAMA, dict(microbatches=-2), "microbatches"),
    (LLAMA, dict(interleave=2), "interleave"),    # needs pp > 1
    (LLAMA, dict(pp=4, interleave=3), "pp * interleave"),
    (LLAMA, dict(hardware="H100-NVL-9000"), "hardware"),
    (LLAMA, dict(hardware="V100-SXM2-32GB"), "dtype"),  # V100 has no bf16
    (LLAMA, dict(dtype="fp8", hardware="A100-SXM4-80GB"), "dtype"),  # A100 has no FP8
    (LLAMA, dict(optimizer="lion"), "optimizer"),
    (LLAMA, dict(implementation="deepspeed"), "implementation"),
    (LLAMA, dict(tp=2.5), "tp"),
    (LLAMA, dict(sequence_parallel="yes"), "sequence_parallel"),
    (LLAMA, dict(efficiency=0.5), "efficiency"),
    (LLAMA, dict(tp=2**70), "tp"),
])
def test_bad_layout_names_the_field(arch, options, field):
    with pytest.raises(ValueError, match=rf"^{re.escape(field)}="):
        sp.estimate(arch, batch=1, seq_len=1024, **options)


@pytest.mark.parametrize(("kwargs", "field"), [
    (dict(matmul=0.0), "matmul_efficiency"),
    (dict(memory=1.5), "memory_efficiency"),
    (dict(dp_overlap=-0.1), "dp_overlap"),
    (dict(network=float("nan")), "network_efficiency"),
    (dict(tile=0), "tile"),
])
def test_bad_efficiency(kwargs, field):
    with pytest.raises(ValueError, match=rf"^{field}="):
        sp.Efficiency(**kwargs)


def test_custom_hardware_from_dict_and_json(tmp_path):
    device = {"name": "test-accelerator", "peak_flops": {"bf16": 1e15, "fp32": 5e13},
              "memory": 96e9, "memory_bandwidth": 4e12, "intra_node_bandwidth": 4e11,
              "inter_node_bandwidth": 5e10, "devices_per_node": 4}
    by_dict = sp.estimate(LLAMA, batch=1, seq_len=1024, hardware=device)
    path = tmp_path / "device.json"
    path.write_text(json.dumps(device))
    by_file = sp.estimate(LLAMA, batch=1, seq_len=1024, hardware=str(path))
    assert by_dict.time.step == by_file.time.step
    assert by_dict.memory.capacity == 96e9
    assert by_dict.hardware.name == "test-accelerator"
    with pytest.raises(ValueError, match=r"^memory="):
        sp.Hardware.from_dict({**device, "memory": -1})
    with pytest.raises(ValueError, match="missing memory_bandwidth"):
        sp.Hardware.from_dict({k: v for k, v in device.items() if k != "memory_bandwidth"})
    with pytest.raises(ValueError, match=r"^dtype="):
        sp.estimate(LLAMA, batch=1, seq_len=1024, hardware=device, dtype="fp16")


def test_hardware_table_has_sources_for_every_device():
    devices = sp.hardware()
    assert {"V100-SXM2-32GB", "A100-SXM4-40GB", "A100-SXM4-80GB", "H100-SXM", "H100-PCIe",
            "H200", "B200", "MI250X", "MI300X", "TPU-v4", "TPU-v5p"} <= set(devices)
    for device in devices.values():
        assert device.sources["peak_flops"]
        assert device.sources["memory_bandwidth"]
        assert device.memory > 0
    # A100 dense bf16 is 312 TFLOP/s; the datasheet's 624 is with sparsity.
    assert devices["A100-SXM4-80GB"].peak_flops["bf16"] == 312e12
    assert sp.estimate(LLAMA, batch=1, seq_len=1024, hardware="h100").hardware.name == "H100-SXM"


degrees = st.one_of(st.integers(-3, 70), st.sampled_from([2**40, 2**63 - 1]))


@settings(max_examples=300, deadline=None)
@given(tp=degrees, pp=degrees, dp=degrees, ep=degrees, zero=st.integers(-1, 4),
       microbatches=st.one_of(st.none(), st.integers(-1, 300)),
       recompute=st.sampled_from(["none", "selective", "full", "per_op"]),
       sequence_parallel=st.booleans(), arch=st.sampled_from([LLAMA, MIXTRAL]))
def test_any_layout_is_an_error_or_a_sane_answer(tp, pp, dp, ep, zero, microbatches, recompute,
                                                  sequence_parallel, arch):
    report = result_or_field_error(
        lambda: sp.estimate(arch, batch=2, seq_len=2048, tp=tp, pp=pp, dp=dp, ep=ep,
                            zero=zero, microbatches=microbatches, recompute=recompute,
                            sequence_parallel=sequence_parallel))
    if report is None:
        return
    m, t = report.memory, report.time
    for value in (m.weights, m.gradients, m.optimizer, m.activations, m.per_gpu, t.step,
                  t.tokens_per_s, report.mfu, report.hfu, report.tp_efficiency):
        assert math.isfinite(value)
        assert value >= 0
    assert 0 < report.mfu <= report.hfu < 1
    assert 0 < report.tp_efficiency <= 1.0 + 1e-12
