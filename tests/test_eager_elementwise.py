"""Eager PyTorch's memory-bound ops (fused_elementwise=False): every aten op of RMSNorm, the
gated activation and the rotary embedding a kernel of its own, held to the bytes counted on
transformers' Llama modules (tools/make_golden_eager_elementwise.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import scalingperf as sp

GOLDEN = json.loads((Path(__file__).parent / "data" / "eager_elementwise.json").read_text())
BATCH, SEQ = 2, 4096


def _bytes_per_element(report: sp.Report, op: str, elements: float) -> float:
    """An op's forward bytes per element, read back from its memory-bound time."""
    table = report.layers.to_pandas().set_index("op")
    seconds = float(table.loc[op, "time_forward"])
    e = report.efficiency
    return seconds * report.hardware.memory_bandwidth * e.memory / elements


def _llama(fused: bool) -> sp.Report:
    return sp.estimate(sp.Architecture.preset("llama-3-8b"), batch=BATCH, seq_len=SEQ,
                       hardware="H100-SXM", fused_elementwise=fused)


@pytest.mark.parametrize(("op", "golden", "width", "fused"), [
    ("attn_norm", "rms_norm", "d_model", 4.0),
    ("mlp_act", "swiglu", "d_ff", 6.0),
    ("rope", "rope", "rotated", 4.0),
])
def test_eager_bytes_are_those_counted_on_transformers_modules(op, golden, width, fused):
    arch = sp.Architecture.preset("llama-3-8b")
    tokens = BATCH * SEQ
    elements = tokens * {"d_model": arch.d_model, "d_ff": arch.d_ff,
                         "rotated": (arch.n_heads + arch.n_kv_heads) * arch.head_dim}[width]
    eager = _bytes_per_element(_llama(False), op, elements)
    measured = GOLDEN[golden]["forward_bytes_per_element"]
    # The golden count adds per-token terms (the mean, the reciprocal RMS) and the rotary
    # tables' reads, which the model leaves out: within 5 %.
    assert eager == pytest.approx(measured, rel=0.05)
    assert _bytes_per_element(_llama(True), op, elements) == pytest.approx(fused, rel=1e-9)


def test_eager_llama_step_is_slower_by_its_extra_traffic_alone():
    fused, eager = _llama(True), _llama(False)
    assert eager.time.step > fused.time.step
    assert eager.flops.forward == fused.flops.forward  # the same work
    assert eager.memory.per_gpu == fused.memory.per_gpu  # the same saved tensors
    gemms = ("qkv_proj", "out_proj", "mlp_up", "mlp_gate", "mlp_down", "lm_head")
    a, b = (r.layers.to_pandas().set_index("op") for r in (fused, eager))
    for op in gemms:
        assert a.loc[op, "time_forward"] == b.loc[op, "time_forward"]


def test_a_layernorm_gelu_model_without_rotary_positions_is_unchanged():
    """GPT-2: LayerNorm is one aten kernel eager too, GELU one, positions learned."""
    gpt2 = sp.Architecture.preset("gpt2-small")
    steps = [sp.estimate(gpt2, batch=4, seq_len=1024, fused_elementwise=f).time.step
             for f in (True, False)]
    assert steps[0] == steps[1]


def test_a_sweep_gives_what_estimate_gives_eager():
    grid = sp.Grid(d_model=[2048, 4096], n_layers=[16], head_dim=128, seq_len=[2048],
                   batch=1, hardware="H100-SXM", fused_elementwise=False)
    result = sp.sweep(grid)
    fused = sp.sweep(sp.Grid(d_model=[2048, 4096], n_layers=[16], head_dim=128,
                             seq_len=[2048], batch=1, hardware="H100-SXM"))
    for i in range(len(result)):
        assert result.report(i).time.step == result["step_time"][i]
        assert result["step_time"][i] > fused["step_time"][i]


@pytest.mark.parametrize("value", ["no", 0, None, 1.0])
def test_a_non_boolean_is_refused_by_name(value):
    with pytest.raises(ValueError, match="fused_elementwise"):
        sp.estimate(sp.Architecture.preset("llama-3-8b"), batch=1, seq_len=512,
                    fused_elementwise=value)
    with pytest.raises(ValueError, match="fused_elementwise"):
        sp.Grid(d_model=[2048], n_layers=[16], head_dim=128, seq_len=512, batch=1,
                fused_elementwise=value)


def test_the_cli_takes_eager_and_says_so():
    run = ["scalingperf", "estimate", "--preset", "llama-3-8b", "--batch", "1",
           "--seq-len", "2048"]
    eager = subprocess.run([*run, "--no-fused-elementwise"], capture_output=True, text=True,
                           check=True).stdout
    assert "eager: every aten op" in eager
    as_json = json.loads(subprocess.run([*run, "--no-fused-elementwise", "--json"],
                                        capture_output=True, text=True, check=True).stdout)
    assert as_json["assumptions"]["fused_elementwise"] is False
    fused = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True,
                                      check=True).stdout)
    assert fused["assumptions"]["fused_elementwise"] is True
    assert as_json["time"]["step"] > fused["time"]["step"]


def test_calibrate_takes_eager_runs_and_recovers_the_efficiencies_behind_them():
    """Eager runs move more bytes per FLOP than fused ones, which pins down the memory
    efficiency alongside the matmul one."""
    truth = sp.hardware()["H100-SXM"].default_efficiency.replace(matmul=0.6, memory=0.6)
    runs = []
    for batch, fused in [(1, True), (2, True), (1, False), (2, False), (4, False)]:
        step = sp.estimate(sp.Architecture.preset("llama-3-8b"), batch=batch, seq_len=4096,
                           hardware="H100-SXM", fused_elementwise=fused,
                           efficiency=truth).time.step
        runs.append(dict(model="llama-3-8b", batch=batch, seq_len=4096,
                         fused_elementwise=fused, step_time=step))
    cal = sp.calibrate(runs, hardware="H100-SXM", fit=("matmul", "memory"))
    assert cal.efficiency.matmul == pytest.approx(0.6, rel=1e-6)
    assert cal.efficiency.memory == pytest.approx(0.6, rel=1e-6)
