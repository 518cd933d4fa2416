"""Unit conversions: round trips, published values, hand-computed costs, bad input."""

from __future__ import annotations

import json
import math
from importlib import resources

import pytest

import scalingperf as sp
from scalingperf import units


def test_pf_day_constant():
    # Kaplan et al. 2020, section 2.1: 1 PF-day = 1e15 x 24 x 3600 = 8.64e19 FLOPs.
    assert units.FLOPS_PER_PF_DAY == 8.64e19
    assert units.pf_days_to_flops(1) == 8.64e19
    assert units.flops_to_pf_days(8.64e19) == 1.0


def test_gpt3_pf_days():
    # Brown et al. 2020, Table D.1: GPT-3 175B, 3.14e23 FLOPs, 3.64e3 PF-days (the table's
    # PF-days come from the unrounded FLOPs, hence 0.2 %).
    assert units.flops_to_pf_days(3.14e23) == pytest.approx(3640, rel=2e-3)
    assert units.pf_days_to_flops(3640) == pytest.approx(3.14e23, rel=2e-3)


@pytest.mark.parametrize("flops", [1.0, 8.64e19, 3.14e23, 1e27, 12345.678])
def test_flops_round_trip(flops):
    assert units.pf_days_to_flops(units.flops_to_pf_days(flops)) == pytest.approx(flops,
                                                                                  rel=1e-15)


@pytest.mark.parametrize("n", [1, 1e6, 2.5e12, 1.5e13])
@pytest.mark.parametrize("language", ["en", "ko", "English", "KOREAN"])
def test_tokens_bytes_round_trip(n, language):
    assert units.bytes_to_tokens(units.tokens_to_bytes(n, language), language) == \
        pytest.approx(n, rel=1e-15)


def test_bytes_per_token_table():
    assert 3 <= units.bytes_per_token("en") <= 4.5
    assert 6 <= units.bytes_per_token("ko") <= 7
    assert units.bytes_per_token("english") == units.bytes_per_token("en")
    assert units.bytes_per_token("Korean") == units.bytes_per_token("ko")
    assert units.tokens_to_bytes(1e12, "en") == units.bytes_per_token("en") * 1e12
    # An explicit rate overrides the table, whatever the language.
    assert units.tokens_to_bytes(100, "ko", bytes_per_token=2.0) == 200.0
    assert units.bytes_to_tokens(300, bytes_per_token=3.0) == 100.0
    assert "tokenizer" in units.tokenizer_caveat()


def test_bytes_per_token_data_schema():
    text = resources.files("scalingperf").joinpath("data/bytes_per_token.json").read_text(
        encoding="utf-8")
    data = json.loads(text)
    assert data["schema"] == 1
    assert isinstance(data["caveat"], str)
    assert data["caveat"]
    assert {"en", "ko"} <= set(data["languages"])
    for code, entry in data["languages"].items():
        assert set(entry) >= {"name", "bytes_per_token", "range", "kind", "source"}, code
        low, high = entry["range"]
        assert 0 < low <= entry["bytes_per_token"] <= high, code
        assert entry["kind"] in ("rule of thumb", "estimate", "measured"), code
        assert len(entry["source"]) > 40, code
    rates = units.languages()
    assert set(rates) == set(data["languages"])
    assert rates["ko"].name == "Korean"


def test_training_tokens():
    # Chinchilla: 70B parameters, 1.4T tokens at 20 tokens per parameter.
    assert units.training_tokens(70e9) == pytest.approx(1.4e12)
    assert units.training_tokens(7e9, tokens_per_param=2000 / 7) == pytest.approx(2e12)


def test_gpu_hours_and_cost_by_hand():
    # GPT-3's 3.14e23 FLOPs on A100 80GB (312 TFLOP/s bf16) at 50 % MFU, $2 per GPU-hour.
    seconds = 3.14e23 / (312e12 * 0.5)
    hours = seconds / 3600
    assert units.gpu_hours(3.14e23, "A100", mfu=0.5) == pytest.approx(hours, rel=1e-12)
    assert hours == pytest.approx(559_116, rel=1e-5)
    assert units.training_cost(3.14e23, "A100-SXM4-80GB", mfu=0.5, price_per_gpu_hour=2.0) \
        == pytest.approx(2 * hours, rel=1e-12)
    assert units.training_days(3.14e23, "A100", devices=1024, mfu=0.5) == \
        pytest.approx(hours / 1024 / 24, rel=1e-12)


def test_dtype_selects_the_peak():
    h100 = sp.hardware()["H100-SXM"]
    bf16 = units.gpu_hours(1e24, h100, mfu=0.4)
    fp8 = units.gpu_hours(1e24, h100, mfu=0.4, dtype="fp8")
    assert bf16 / fp8 == pytest.approx(h100.peak_flops["fp8"] / h100.peak_flops["bf16"])
    assert units.peak_flops("H100", "bf16") == h100.peak_flops["bf16"]


def test_custom_hardware():
    device = sp.Hardware(name="toy", peak_flops={"bf16": 1e15}, memory=80e9,
                         memory_bandwidth=1e12, intra_node_bandwidth=1e11,
                         inter_node_bandwidth=1e10, devices_per_node=8)
    # 1e15 FLOP/s at 100 % for an hour is 3.6e18 FLOPs.
    assert units.gpu_hours(3.6e18, device, mfu=1.0) == pytest.approx(1.0)
    assert units.training_cost(3.6e18, device, mfu=0.5, price_per_gpu_hour=3.0) == \
        pytest.approx(6.0)


def test_cost_scales():
    base = units.training_cost(1e23, "H100", mfu=0.4, price_per_gpu_hour=2.5)
    assert units.training_cost(2e23, "H100", mfu=0.4, price_per_gpu_hour=2.5) == \
        pytest.approx(2 * base)
    assert units.training_cost(1e23, "H100", mfu=0.2, price_per_gpu_hour=2.5) == \
        pytest.approx(2 * base)
    assert units.training_cost(1e23, "H100", mfu=0.4, price_per_gpu_hour=5.0) == \
        pytest.approx(2 * base)


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, -math.inf, "1e20", None, True])
@pytest.mark.parametrize(("function", "field"), [
    (units.flops_to_pf_days, "flops"),
    (units.pf_days_to_flops, "pf_days"),
    (units.training_tokens, "params"),
    (lambda v: units.tokens_to_bytes(v), "tokens"),
    (lambda v: units.bytes_to_tokens(v), "n_bytes"),
    (lambda v: units.gpu_hours(v, "A100", mfu=0.5), "flops"),
    (lambda v: units.gpu_hours(1e20, "A100", mfu=v), "mfu"),
    (lambda v: units.training_cost(1e20, "A100", mfu=0.5, price_per_gpu_hour=v),
     "price_per_gpu_hour"),
    (lambda v: units.training_tokens(1e9, tokens_per_param=v), "tokens_per_param"),
    (lambda v: units.format_flops(v), "flops"),
])
def test_bad_numbers_name_the_argument(function, field, bad):
    with pytest.raises(ValueError, match=rf"^{field}="):
        function(bad)


def test_other_bad_input():
    for bad in (0, -2.0, math.nan, "3"):
        with pytest.raises(ValueError, match=r"^bytes_per_token="):
            units.tokens_to_bytes(10, bytes_per_token=bad)
    with pytest.raises(ValueError, match=r"^mfu=1\.5 is invalid"):
        units.gpu_hours(1e20, "A100", mfu=1.5)
    with pytest.raises(ValueError, match=r"^devices=0 is invalid"):
        units.training_days(1e20, "A100", devices=0, mfu=0.5)
    with pytest.raises(ValueError, match=r"^devices=2\.5 is invalid"):
        units.training_days(1e20, "A100", devices=2.5, mfu=0.5)
    with pytest.raises(ValueError, match=r"^dtype='fp8' is invalid: .*A100"):
        units.gpu_hours(1e20, "A100", mfu=0.5, dtype="fp8")
    with pytest.raises(ValueError, match=r"^dtype='int4' is invalid"):
        units.peak_flops("H100", "int4")
    with pytest.raises(ValueError, match=r"^hardware='Z80' is invalid"):
        units.gpu_hours(1e20, "Z80", mfu=0.5)
    with pytest.raises(ValueError, match=r"^language='klingon' is invalid"):
        units.tokens_to_bytes(10, "klingon")
    with pytest.raises(ValueError, match=r"^n_bytes=-1\.0 is invalid"):
        units.format_bytes(-1)


def test_formatting():
    assert units.format_flops(3.14e23) == "314 ZFLOP (3.63e+03 PF-days)"
    assert units.format_bytes(1.2e12) == "1.2 TB"
    assert units.format_bytes(0) == "0 B"
