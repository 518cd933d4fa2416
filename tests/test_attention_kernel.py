"""estimate(attention_kernel=...): the fused-attention kernel a framework runs, at the
fraction of the 16-bit peak published for it on the device (devices.json)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf.devices import get_hardware

LLAMA = sp.Architecture.preset("llama-3-8b")


def test_fa2_on_h100_is_the_fa3_papers_forward_figure():
    # Shah et al. 2024, forward, causal, head dim 128, 4k tokens: FA2 319, cuDNN 518 TFLOP/s.
    h100 = get_hardware("H100-SXM")
    assert h100.attention_efficiency("fa2") == pytest.approx(319 / 989, abs=0.005)
    assert h100.attention_efficiency("cudnn") == pytest.approx(518 / 989, abs=0.005)
    assert h100.attention_efficiency("cudnn") == h100.default_efficiency.attention


def test_kernel_replaces_only_attention():
    h100 = get_hardware("H100-SXM")
    base = h100.default_efficiency
    by_name = sp.estimate(LLAMA, batch=1, seq_len=32768, hardware="H100-SXM",
                          attention_kernel="fa2")
    by_hand = sp.estimate(LLAMA, batch=1, seq_len=32768, hardware="H100-SXM",
                          efficiency=sp.Efficiency(matmul=base.matmul, attention=0.32,
                                                   memory=base.memory, network=base.network,
                                                   attention_curve=h100.attention_curve("fa2"),
                                                   gemm_k0=base.gemm_k0))
    assert by_name.time.step == by_hand.time.step
    default = sp.estimate(LLAMA, batch=1, seq_len=32768, hardware="H100-SXM")
    # Attention's GEMMs at 0.32 instead of 0.52: slower, the rest untouched.
    assert by_name.time.step > default.time.step
    assert by_name.flops.model == default.flops.model


def test_kernel_with_a_given_efficiency_keeps_its_other_fields():
    mine = sp.Efficiency(matmul=0.5, attention=0.9, memory=0.7, network=0.6)
    with_kernel = sp.estimate(LLAMA, batch=1, seq_len=8192, hardware="A100-SXM4-80GB",
                              efficiency=mine, attention_kernel="fa2")
    by_hand = sp.estimate(LLAMA, batch=1, seq_len=8192, hardware="A100-SXM4-80GB",
                          efficiency=sp.Efficiency(matmul=0.5, attention=0.55, memory=0.7,
                                                   network=0.6))
    assert with_kernel.time.step == by_hand.time.step


def test_unknown_kernel_names_the_known_ones():
    with pytest.raises(ValueError, match=r"attention_kernel='xformers'.*cudnn, fa2, fa3"):
        sp.estimate(LLAMA, batch=1, seq_len=4096, hardware="H100-SXM",
                    attention_kernel="xformers")
    with pytest.raises(ValueError, match=r"attention_kernel='fa3' is invalid for .*B200.*cudnn, fa2, fa4"):
        sp.estimate(LLAMA, batch=1, seq_len=4096, hardware="B200", attention_kernel="fa3")
    with pytest.raises(ValueError, match=r"for .*MI300X.*none: pass efficiency"):
        sp.estimate(LLAMA, batch=1, seq_len=4096, hardware="MI300X", attention_kernel="fa2")


@given(st.one_of(st.floats(allow_nan=True), st.text(max_size=3), st.none()))
def test_a_kernel_fraction_outside_0_1_is_refused(value):
    h100 = get_hardware("H100-SXM")
    if isinstance(value, float) and 0 < value <= 1:
        assert dataclasses.replace(h100, attention_kernels={"mine": value}) \
            .attention_efficiency("mine") == value
        return
    with pytest.raises(ValueError, match=r"attention_kernels\['mine'\]"):
        dataclasses.replace(h100, attention_kernels={"mine": value})


def test_torchtitan_records_run_flashattention_2():
    from scalingperf.validate import records

    torchtitan = records("torchtitan")
    assert torchtitan
    assert all(rec["attention_kernel"] == "fa2" for _, rec in torchtitan)
