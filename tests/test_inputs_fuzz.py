"""Fuzzing the public inputs: estimate(), Architecture(...), from_hf_config(dict), hardware
dicts and Efficiency(...). Every input is either refused with a ValueError whose message
starts with the field it names and its value (``tp=3 is invalid: ...``), or gives finite,
non-negative numbers that agree with each other. Never a TypeError, a crash, NaN or a
silently truncated value."""

from __future__ import annotations

import math
import re
import warnings
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf.hf_config import UnknownFamilyWarning

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# What a field may be fed: valid-looking values of every numeric type, and the values a
# boundary must refuse (fractions, booleans, None, text, bytes, containers, NaN, huge).
odd_values = st.sampled_from([
    None, True, False, 2.5, -0.5, math.nan, math.inf, -math.inf, "2", "", b"\x80", b"2",
    Decimal("2.7"), Decimal(2), Fraction(5, 2), Fraction(4, 2), [], [2], {}, (1,),
    np.float32(100.5), np.bool_(True), 2**63, 2**64, -(2**70), 1e300, 1e-300, object(),
])
whole_values = st.one_of(
    st.integers(-3, 70), st.sampled_from([0, 1, 2, 4, 8, 2**20, 2**24 + 1, 2**63 - 1]),
    st.integers(0, 64).map(np.int64), st.integers(0, 64).map(float),
    st.integers(0, 64).map(np.float32),
)
real_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 1), st.integers(-2, 3),
    st.floats(1e-6, 1e20).map(np.float64),
)
anything = st.one_of(odd_values, whole_values, real_values, st.text(max_size=6))


def _named(message: str, fields: set[str]) -> bool:
    """Whether the message starts with one of ``fields`` followed by ``=`` (its value)."""
    match = re.match(r"^([A-Za-z_][\w.]*(?:\['\w+'\])?(?: \* \w+| size tp\*pp\*dp)?)=", message)
    return match is not None and match.group(1) in fields


def _refused_or(call: Any, fields: set[str]) -> Any:
    """call()'s result, or None once its ValueError is checked to name one of ``fields``."""
    try:
        return call()
    except ValueError as error:
        message = str(error)
    assert _named(message, fields), message
    return None


def _finite_non_negative(data: Any, path: str = "") -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            _finite_non_negative(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _finite_non_negative(value, f"{path}[{i}]")
    elif type(data) in (int, float):
        assert math.isfinite(data), path
        assert data >= 0, path
    else:
        assert data is None or type(data) in (bool, str), (path, type(data))


def check_report(report: sp.Report) -> None:
    """A report's numbers: finite, non-negative, plain, and consistent with each other."""
    data = report.to_dict()
    _finite_non_negative({k: v for k, v in data.items() if k != "architecture"})
    m, t, f = report.memory, report.time, report.flops
    assert m.per_gpu >= m.weights > 0
    assert m.per_gpu == _approx(m.weights + m.gradients + m.optimizer
                                + m.activations_in_flight + m.temporary)
    assert m.activations_in_flight >= m.activations >= 0
    assert m.fits == (m.per_gpu <= m.capacity)
    assert f.hardware >= f.model > 0
    assert f.model == _approx(f.forward + f.backward)
    assert f.forward_causal <= f.forward
    assert 0 < report.mfu <= report.hfu <= 1
    assert 0 < report.tp_efficiency <= 1 + 1e-9
    assert 0 < report.tp_gemm_efficiency <= 1 + 1e-9
    assert 0 < report.tp_communication_efficiency <= 1
    assert t.step >= t.stage > 0
    assert t.tokens_per_s == _approx(t.tokens_per_step / t.step)
    assert report.tokens == report.batch * report.seq_len
    assert type(report.batch) is int
    assert type(report.seq_len) is int


class _approx(float):
    """Equal within a relative 1e-9 (sums in another order)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (int, float)) and math.isclose(self, other, rel_tol=1e-9,
                                                                  abs_tol=1e-300)

    __hash__ = float.__hash__


# -- estimate() -------------------------------------------------------------------------

INT_OPTIONS = ("batch", "seq_len", "tp", "cp", "pp", "dp", "ep", "zero", "microbatches",
               "interleave")
FLAG_OPTIONS = ("flash_attention", "dropout", "sequence_parallel")
TEXT_OPTIONS = {"dtype": ["bf16", "fp16", "fp32", "tf32", "fp8"],
                "recompute": ["none", "selective", "full", "some"],
                "implementation": ["megatron", "huggingface", "deepspeed"],
                "optimizer": ["adamw", "adamw-bf16", "sgd", "lion"]}
ESTIMATE_FIELDS = {*INT_OPTIONS, *FLAG_OPTIONS, *TEXT_OPTIONS, "efficiency", "hardware",
                   "arch", "pp * interleave", "tp*cp", "world size tp*cp*pp*dp"}
MODELS = [sp.Architecture.preset(name) for name in ("gpt2-small", "llama-2-7b", "mixtral-8x7b")]
MODELS.append(sp.Architecture(d_model=64, n_layers=4, n_heads=4, n_experts=4, top_k=2,
                              vocab_size=100, max_position_embeddings=64, capacity_factor=1.5))

def _exact_variants(values: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """An integer as int, numpy integer or whole float: all exactly representable."""
    return st.one_of(values, values.map(np.int64), values.map(float), values.map(np.int32))


VALID_OPTIONS = {
    "batch": _exact_variants(st.integers(1, 8)),
    "seq_len": _exact_variants(st.integers(1, 64)),
    "tp": _exact_variants(st.sampled_from([1, 2, 4])),
    "cp": _exact_variants(st.sampled_from([1, 2, 3, 4])),
    "pp": st.sampled_from([1, 2]), "dp": st.sampled_from([1, 2, 8]),
    "ep": st.sampled_from([1, 2]), "zero": st.integers(0, 3),
    "microbatches": st.one_of(st.none(), st.integers(1, 8)),
    "interleave": st.integers(1, 2),
    **{name: st.one_of(st.booleans(), st.booleans().map(np.bool_)) for name in FLAG_OPTIONS},
    **{name: st.sampled_from(names[:-1]) for name, names in TEXT_OPTIONS.items()},
    "efficiency": st.one_of(st.none(), st.just(sp.Efficiency(matmul=0.5, dp_overlap=1.0))),
    "hardware": st.sampled_from(["H100-SXM", "a100", "V100", "TPU-v4", "MI300X"]),
}
BAD_OPTION = {
    **{name: st.one_of(whole_values, odd_values) for name in INT_OPTIONS},
    **{name: odd_values for name in FLAG_OPTIONS},
    **{name: st.one_of(st.sampled_from(names), odd_values, st.text(max_size=4))
       for name, names in TEXT_OPTIONS.items()},
    "efficiency": odd_values, "hardware": st.one_of(odd_values, st.just("H100-NVL")),
}


@st.composite
def options(draw):
    """Valid options, and at most one field fed something else."""
    chosen = draw(st.fixed_dictionaries({}, optional=VALID_OPTIONS))
    bad = draw(st.one_of(st.none(), st.sampled_from(sorted(BAD_OPTION))))
    if bad is not None:
        chosen[bad] = draw(BAD_OPTION[bad])
    return chosen


@FUZZ
@given(arch=st.sampled_from(MODELS), given_options=options())
def test_estimate_refuses_or_answers_sanely(arch, given_options):
    kwargs = {"batch": 1, "seq_len": 32, **given_options}
    report = _refused_or(lambda: sp.estimate(arch, **kwargs), ESTIMATE_FIELDS)
    if report is None:
        return
    check_report(report)
    # What was accepted was exactly representable: nothing was truncated.
    for name in ("batch", "seq_len"):
        assert getattr(report, name) == kwargs[name]
    if kwargs.get("microbatches") is not None:
        assert report.microbatches == kwargs["microbatches"]


# -- Architecture(...) ------------------------------------------------------------------

ARCH_INTS = ("d_model", "n_layers", "n_heads", "n_kv_heads", "head_dim", "d_ff",
             "vocab_size", "max_position_embeddings", "n_experts", "top_k",
             "n_shared_experts", "d_ff_expert", "d_ff_shared", "moe_every",
             "first_dense_layers")
ARCH_FIELDS = {*ARCH_INTS, "ffn", "position", "norm", "qkv_bias", "out_bias", "mlp_bias",
               "tie_embeddings", "shared_expert_gate", "dense_layers", "capacity_factor",
               "name", "parameters"}

VALID_ARCH = {
    "n_kv_heads": st.sampled_from([None, 1, 2]), "head_dim": st.sampled_from([None, 16, 32]),
    "d_ff": st.one_of(st.none(), _exact_variants(st.integers(1, 300))),
    "ffn": st.sampled_from(["gelu", "relu", "swiglu", "geglu"]),
    "vocab_size": _exact_variants(st.integers(1, 500)),
    "max_position_embeddings": st.integers(16, 64),
    "position": st.sampled_from(["learned", "rotary", "none"]),
    "norm": st.sampled_from(["layernorm", "rmsnorm"]),
    "qkv_bias": st.booleans(), "tie_embeddings": st.booleans(),
    "n_experts": st.sampled_from([0, 1, 4]), "top_k": st.sampled_from([1, 2]),
    "n_shared_experts": st.sampled_from([0, 1]),
    "d_ff_expert": st.one_of(st.none(), st.integers(1, 64)),
    "d_ff_shared": st.one_of(st.none(), st.integers(1, 64)),
    "moe_every": st.integers(1, 2), "first_dense_layers": st.integers(0, 1),
    "dense_layers": st.lists(st.integers(0, 1), max_size=2).map(tuple),
    "capacity_factor": st.sampled_from([0.0, 1.0, 1.25]),
    "shared_expert_gate": st.booleans(),
    "name": st.one_of(st.none(), st.text(max_size=4)),
}
BAD_ARCH = {name: st.one_of(st.integers(-2, 2), whole_values, odd_values)
            for name in ARCH_INTS}
BAD_ARCH.update({name: odd_values for name in ("ffn", "position", "norm", "qkv_bias",
                                               "tie_embeddings", "dense_layers",
                                               "capacity_factor", "name")})


@st.composite
def architecture_fields(draw):
    """A small model's fields, valid, and at most one field fed something else."""
    fields = {"d_model": draw(st.sampled_from([64, 96, 128])),
              "n_layers": draw(st.integers(1, 4)),
              "n_heads": draw(st.sampled_from([None, 1, 2, 4]))}
    fields.update(draw(st.fixed_dictionaries({}, optional=VALID_ARCH)))
    if fields["n_heads"] is None and fields.get("head_dim") is None:
        fields["head_dim"] = 32
    bad = draw(st.one_of(st.none(), st.sampled_from(sorted(BAD_ARCH))))
    if bad is not None:
        fields[bad] = draw(BAD_ARCH[bad])
    return fields


@FUZZ
@given(fields=architecture_fields())
def test_architecture_refuses_or_builds_a_costable_model(fields):
    fields.setdefault("vocab_size", 100)
    fields.setdefault("max_position_embeddings", 64)
    arch = _refused_or(lambda: sp.Architecture(**fields), ARCH_FIELDS)
    if arch is None:
        return
    for name in ARCH_INTS:
        value = getattr(arch, name)
        assert type(value) is int
        assert value >= 0
        if fields.get(name) is not None:
            assert value == fields[name]  # given values are kept, never truncated
    assert arch.n_heads >= 1
    assert arch.head_dim >= 1
    assert arch.n_heads % arch.n_kv_heads == 0
    if fields.get("n_heads") is None:
        assert arch.n_heads * arch.head_dim == arch.d_model
    seq_len = min(16, arch.max_position_embeddings)
    report = _refused_or(lambda: sp.estimate(arch, batch=2, seq_len=seq_len), ESTIMATE_FIELDS)
    assert report is not None  # every valid model takes the smallest workload
    check_report(report)
    assert report.params.total == sum(
        int(n) * int(p) for n, p in zip(report.layers["count"], report.layers["params"],
                                        strict=True))


# -- from_hf_config(dict) ---------------------------------------------------------------

LLAMA_KEYS = {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "intermediate_size": 256, "vocab_size": 500,
              "max_position_embeddings": 128}
GPT2_KEYS = {"n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 500, "n_positions": 64}
MOE_KEYS = {"num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 64,
            "shared_expert_intermediate_size": 128, "decoder_sparse_step": 1,
            "mlp_only_layers": [0], "num_local_experts": 4}
OTHER_KEYS = {"head_dim": 32, "n_inner": 256, "tie_word_embeddings": True,
              "attention_bias": False, "mlp_bias": False, "hidden_act": "silu",
              "activation_function": "gelu_new", "_name_or_path": "fuzz"}
HF_FIELDS = {*LLAMA_KEYS, *GPT2_KEYS, *MOE_KEYS, *OTHER_KEYS, *ARCH_FIELDS, "model_type",
             "hf_config"}


@st.composite
def hf_configs(draw):
    model_type = draw(st.sampled_from(["llama", "mistral", "qwen2", "mixtral", "qwen2_moe",
                                       "gpt2", None]))
    base = dict(GPT2_KEYS if model_type == "gpt2" else LLAMA_KEYS)
    if model_type in ("mixtral", "qwen2_moe"):
        base.update(MOE_KEYS)
    if draw(st.booleans()):
        base.update(OTHER_KEYS)
    config = {"model_type": model_type, **base}
    key = draw(st.one_of(st.none(), st.sampled_from(sorted(config))))
    if key is not None:  # at most one key missing or fed something else
        if draw(st.booleans()):
            del config[key]
        else:
            config[key] = draw(anything)
    return config


@FUZZ
@given(config=hf_configs())
def test_from_hf_config_refuses_or_reads(config):
    try:
        with warnings.catch_warnings():  # an unknown model_type read by Llama's naming
            warnings.simplefilter("ignore", UnknownFamilyWarning)
            arch = sp.Architecture.from_hf_config(config)
    except ValueError as error:
        message = str(error)
    else:
        check_report(sp.estimate(arch, batch=1, seq_len=1))
        return
    # A missing key names it; a bad value names its key (or the field it fills).
    assert _named(message, HF_FIELDS) or message.startswith("hf_config"), message


# -- hardware dicts and Efficiency(...) -------------------------------------------------

DEVICE = {"name": "fuzz", "peak_flops": {"bf16": 1e15, "fp32": 5e13}, "memory": 80e9,
          "memory_bandwidth": 3e12, "intra_node_bandwidth": 4e11, "inter_node_bandwidth": 5e10,
          "devices_per_node": 8, "intra_node_latency": 3e-6, "inter_node_latency": 8e-6}
HARDWARE_FIELDS = {*DEVICE, "hardware", "sources", "dtype",
                   *(f"peak_flops['{fmt}']" for fmt in ("fp32", "tf32", "bf16", "fp16", "fp8"))}
LIMITS = sp._core.HARDWARE_LIMITS

device_numbers = st.one_of(
    real_values, odd_values,
    # across the edges of each physical range, on a log scale, most often inside it
    st.floats(-310, 20).map(lambda e: 10.0**e), st.floats(6, 15).map(lambda e: 10.0**e),
    st.floats(-8, -0.01).map(lambda e: 10.0**e),
)


@st.composite
def devices(draw):
    device = dict(DEVICE)
    for key in draw(st.lists(st.sampled_from(sorted(DEVICE)), max_size=2, unique=True)):
        if key == "peak_flops":
            device[key] = draw(st.one_of(
                odd_values,
                st.dictionaries(st.sampled_from(["fp32", "tf32", "bf16", "fp16", "fp8", "x"]),
                                st.one_of(st.none(), device_numbers), max_size=3)))
        elif key == "devices_per_node":
            device[key] = draw(st.one_of(whole_values, odd_values))
        else:
            device[key] = draw(device_numbers)
    return device


@FUZZ
@given(device=devices(), tp=st.sampled_from([1, 8]), pp=st.sampled_from([1, 2]),
       dp=st.sampled_from([1, 16]))
def test_hardware_refuses_or_gives_finite_times(device, tp, pp, dp):
    arch = sp.Architecture.preset("llama-2-7b")
    peaks = device["peak_flops"]
    dtype = "bf16" if isinstance(peaks, dict) and peaks.get("bf16") is not None else "fp32"
    report = _refused_or(
        lambda: sp.estimate(arch, batch=1, seq_len=256, tp=tp, pp=pp, dp=dp, dtype=dtype,
                            hardware=device), HARDWARE_FIELDS)
    if report is None:
        return
    check_report(report)
    hw = report.hardware
    for field, limit in (("memory", "memory"), ("memory_bandwidth", "memory_bandwidth"),
                         ("intra_node_bandwidth", "link_bandwidth"),
                         ("inter_node_bandwidth", "link_bandwidth")):
        lo, hi = LIMITS[limit]
        assert lo <= getattr(hw, field) <= hi


EFFICIENCY_FIELDS = {"matmul", "memory", "network", "dp_overlap", "tile", "matmul_efficiency",
                     "memory_efficiency", "network_efficiency"}


@FUZZ
@given(fields=st.fixed_dictionaries({}, optional={
    name: st.one_of(st.floats(1e-3, 1), st.floats(0, 1).map(np.float32), real_values, odd_values)
    for name in ("matmul", "memory", "network", "dp_overlap")} | {
    "tile": st.one_of(st.integers(1, 256), whole_values, odd_values)}))
def test_efficiency_refuses_or_gives_finite_times(fields):
    efficiency = _refused_or(lambda: sp.Efficiency(**fields), EFFICIENCY_FIELDS)
    if efficiency is None:
        return
    report = sp.estimate(sp.Architecture.preset("llama-2-7b"), batch=1, seq_len=512, tp=2,
                         dp=4, efficiency=efficiency)
    check_report(report)
