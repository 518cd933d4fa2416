"""Activation offloading (``offload_layers``) against a hand count.

Megatron-Core's ``cpu_offloading_num_layers`` (activations only) hands that many layers'
saved tensors to Transformer Engine's CPU offload context: each goes to host memory while
the next layer runs forward and comes back while the layer after it runs backward
(double-buffered). The device keeps that many layers' activations fewer; a copy exposes
what it takes beyond the compute beside it. Megatron-Core refuses it with pipeline
parallelism, with recomputation and for as many layers as the model has
(``TransformerConfig.__post_init__``).
"""

from __future__ import annotations

import json
import math
import subprocess

import pytest
from boundary import result_or_field_error
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp

LLAMA = sp.Architecture.preset("llama-2-7b")  # 32 layers
H100 = sp.hardware()["H100-SXM"]  # PCIe Gen5: 64 GB/s each way


def _with_host_link(hw: sp.Hardware, host_bandwidth: float) -> sp.Hardware:
    return sp.Hardware(name=f"{hw.name} ({host_bandwidth!r} B/s host link)",
                       peak_flops=hw.peak_flops, memory=hw.memory,
                       memory_bandwidth=hw.memory_bandwidth,
                       intra_node_bandwidth=hw.intra_node_bandwidth,
                       inter_node_bandwidth=hw.inter_node_bandwidth,
                       devices_per_node=hw.devices_per_node, host_bandwidth=host_bandwidth,
                       efficiency={"matmul": hw.default_efficiency.matmul})


@pytest.mark.parametrize("options", [dict(), dict(tp=2, sequence_parallel=True),
                                     dict(cp=2, dp=4), dict(dp=8, zero=3)])
def test_the_device_keeps_that_many_mean_layers_fewer(options):
    kept = sp.estimate(LLAMA, 2, 4096, microbatches=4, **options)
    offloaded = sp.estimate(LLAMA, 2, 4096, microbatches=4, offload_layers=12, **options)
    freed = 12 * kept.memory.activations_per_layer
    assert offloaded.memory.activations == pytest.approx(kept.memory.activations - freed,
                                                         rel=1e-12)
    assert offloaded.memory.per_gpu == pytest.approx(kept.memory.per_gpu - freed, rel=1e-12)
    assert offloaded.memory.weights == kept.memory.weights
    assert offloaded.flops.hardware == kept.flops.hardware


def test_exposed_copies_by_hand():
    """Each copy moves a mean layer's saved bytes at 80 % of 64 GB/s; out beside the next
    layer's forward, back beside a layer's backward: what exceeds them is exposed, per
    micro-batch and layer."""
    m, layers, n = 4, 32, 8
    kept = sp.estimate(LLAMA, 2, 4096, microbatches=m)
    offloaded = sp.estimate(LLAMA, 2, 4096, microbatches=m, offload_layers=n)
    copy = kept.memory.activations_per_layer / (64e9 * 0.8)
    forward, backward = kept.time.forward / layers, kept.time.backward / layers
    assert copy > forward  # the hand count's case: the copy out is exposed
    exposed = n * (max(0.0, copy - forward) + max(0.0, copy - backward))
    assert offloaded.time.offload == pytest.approx(exposed, rel=1e-12)
    assert offloaded.time.stage == pytest.approx(kept.time.stage + exposed, rel=1e-12)
    assert offloaded.time.step == pytest.approx(kept.time.step + m * exposed, rel=1e-12)
    assert offloaded.time.tokens_per_s == pytest.approx(
        kept.time.tokens_per_step / offloaded.time.step, rel=1e-12)
    assert offloaded.mfu == pytest.approx(kept.mfu * kept.time.step / offloaded.time.step,
                                          rel=1e-12)
    # Tensor parallelism's efficiency compares steps without the copies.
    assert offloaded.tp_efficiency == kept.tp_efficiency


def test_a_fast_host_link_hides_the_copies_and_a_slow_one_exposes_them_all():
    fast = _with_host_link(H100, 1e15)
    kept = sp.estimate(LLAMA, 2, 4096, hardware=fast)
    hidden = sp.estimate(LLAMA, 2, 4096, hardware=fast, offload_layers=16)
    assert hidden.time.offload == 0
    assert hidden.time.step == kept.time.step
    assert hidden.memory.per_gpu < kept.memory.per_gpu
    slow = _with_host_link(H100, 1e9)
    crawling = sp.estimate(LLAMA, 2, 4096, hardware=slow, offload_layers=16)
    copy = crawling.memory.activations_per_layer / (1e9 * 0.8)
    assert crawling.time.offload == pytest.approx(
        16 * (2 * copy - (crawling.time.forward + crawling.time.backward) / 32), rel=1e-12)


def test_grace_superchips_copy_faster_than_pcie_hosts():
    """GB200's NVLink-C2C (225 GB/s each way per GPU) exposes less than a PCIe Gen5 host
    (64 GB/s) for the same activations."""
    assert sp.hardware()["GB200"].host_bandwidth == 225e9
    assert sp.hardware()["B200"].host_bandwidth == 64e9
    grace = sp.estimate(LLAMA, 4, 8192, hardware="GB200", offload_layers=16)
    pcie = sp.estimate(LLAMA, 4, 8192, hardware="B200", offload_layers=16)
    assert 0 <= grace.time.offload < pcie.time.offload


@pytest.mark.parametrize(("options", "message"), [
    (dict(offload_layers=4, pp=2), r"^offload_layers=4 is invalid: .*needs pp=1, not pp=2"),
    (dict(offload_layers=4, recompute="selective"),
     r"^offload_layers=4 is invalid: .*recompute='none'"),
    (dict(offload_layers=4, recompute_every=2), r"^offload_layers=4 is invalid: .*recompute"),
    (dict(offload_layers=32), r"^offload_layers=32 is invalid: .*\[1, n_layers - 1\].*n_layers=32"),
    (dict(offload_layers=-1), r"^offload_layers=-1 is invalid"),
    (dict(offload_layers=2.5), r"^offload_layers=2.5 is invalid"),
    (dict(offload_layers="4"), r"^offload_layers='4' is invalid"),
    (dict(offload_layers=4, hardware="TPU-v5p"),
     r"^offload_layers=4 is invalid: the device has no host_bandwidth"),
])
def test_bad_offload_layers_names_the_field(options, message):
    with pytest.raises(ValueError, match=message):
        sp.estimate(LLAMA, 1, 1024, **options)


def test_a_bad_host_bandwidth_names_the_field():
    with pytest.raises(ValueError, match=r"^host_bandwidth=-1 is invalid"):
        _with_host_link(H100, -1)
    with pytest.raises(ValueError, match=r"^host_bandwidth=1e\+20 is invalid: allowed range"):
        _with_host_link(H100, 1e20)
    with pytest.raises(ValueError, match=r"^host_bandwidth=0 is invalid: .*None: unknown"):
        _with_host_link(H100, 0)
    with pytest.raises(ValueError, match=r"^host_bandwidth='fast' is invalid"):
        _with_host_link(H100, "fast")


@settings(max_examples=60, deadline=None)
@given(layers=st.integers(-2, 40), pp=st.sampled_from([1, 2]),
       recompute=st.sampled_from(["none", "selective"]))
def test_any_offload_layers_is_a_report_or_names_the_field(layers, pp, recompute):
    report = result_or_field_error(lambda: sp.estimate(
        LLAMA, 1, 2048, pp=pp, recompute=recompute, offload_layers=layers))
    if report is None:
        assert layers != 0
        assert layers < 0 or layers >= 32 or pp > 1 or recompute != "none"
        return
    kept = sp.estimate(LLAMA, 1, 2048, pp=pp, recompute=recompute)
    assert math.isfinite(report.time.step)
    assert report.time.step >= kept.time.step
    assert report.memory.per_gpu <= kept.memory.per_gpu


def test_a_sweep_with_offload_layers_gives_estimates_numbers():
    spec = dict(d_model=1024, n_layers=[4, 12], n_heads=16, d_ff=4096, vocab_size=32000)
    grid = sp.Grid(**spec, pp=[1, 2], offload_layers=6, seq_len=2048, batch=2)
    result = sp.sweep(grid)
    # Only 12 layers at pp 1 take 6 offloaded layers; the other points say why not.
    assert len(result) == 1
    row = result.row(0)
    assert (row["n_layers"], row["pp"]) == (12, 1)
    report = sp.estimate(result.architecture(0), 2, 2048, offload_layers=6)
    assert row["step_time"] == pytest.approx(report.time.step, rel=1e-12)
    assert row["memory_per_gpu"] == pytest.approx(report.memory.per_gpu, rel=1e-12)
    assert result.report(0).time.offload == pytest.approx(report.time.offload, rel=1e-12)
    reasons = [grid.why_invalid(i) for i in range(len(grid))]
    assert sum("offload_layers needs pp=1" in (why or "") for why in reasons) == 1
    assert sum("n_layers=4" in (why or "") for why in reasons) == 2


def test_a_grid_refuses_offloading_on_a_device_without_a_host_link():
    with pytest.raises(ValueError, match=r"^offload_layers=2 is invalid: .*host_bandwidth"):
        sp.Grid(d_model=[1024], n_layers=[8], head_dim=64, seq_len=512, batch=1,
                offload_layers=2, hardware="TPU-v4")
    with pytest.raises(ValueError, match=r"^offload_layers=-1 is invalid"):
        sp.Grid(d_model=[1024], n_layers=[8], head_dim=64, seq_len=512, batch=1,
                offload_layers=-1)


def test_the_cli_takes_offloading_and_says_so():
    run = ["scalingperf", "estimate", "--preset", "llama-2-7b", "--batch", "2",
           "--seq-len", "4096"]
    text = subprocess.run([*run, "--offload-layers", "8"], capture_output=True, text=True,
                          check=True).stdout
    assert "8 layers' offloaded to host memory over 64 GB/s each way" in text
    assert "offloading exposed per micro-batch" in text
    as_json = json.loads(subprocess.run([*run, "--offload-layers", "8", "--json"],
                                        capture_output=True, text=True, check=True).stdout)
    assert as_json["assumptions"]["offload_layers"] == 8
    assert as_json["time"]["offload"] > 0
    refused = subprocess.run([*run, "--offload-layers", "8", "--pp", "2"],
                             capture_output=True, text=True, check=False)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "offload_layers=8 is invalid" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_calibrate_takes_offloading_runs_and_recovers_the_host_links_share():
    """Offloaded runs expose copies at efficiency.network of the host link: on one device
    (no collectives) they alone pin the network share down, beside the matmul one."""
    truth = H100.default_efficiency.replace(matmul=0.6, network=0.5)
    runs = []
    for batch, layers in [(1, 0), (2, 0), (2, 8), (2, 16), (4, 24)]:
        step = sp.estimate(LLAMA, batch=batch, seq_len=4096, hardware="H100-SXM",
                           offload_layers=layers or None, efficiency=truth).time.step
        runs.append(dict(model="llama-2-7b", batch=batch, seq_len=4096, offload_layers=layers,
                         step_time=step))
    cal = sp.calibrate(runs, hardware="H100-SXM", fit=("matmul", "network"))
    assert cal.efficiency.matmul == pytest.approx(0.6, rel=1e-6)
    assert cal.efficiency.network == pytest.approx(0.5, rel=1e-6)
