"""Architecture.to_hf_config: Hugging Face configs written for each family, read back to an
equal Architecture, and agreeing with the configs ``transformers`` itself writes.

Real configs: tests/data/golden_presets.json and golden_flops.json hold the config dicts
that transformers' own configuration classes produced (tools/make_golden_flops.py), for
gpt2, llama, mistral, mixtral, qwen2 and qwen2_moe.
"""

from __future__ import annotations

import json

import pytest
from golden import load_golden
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf.hf_write import FAMILIES

CONFIGS = [case["hf_config"] for case in load_golden("golden_flops.json")["cases"]] + [
    model["hf_config"] for model in load_golden("golden_presets.json")["models"]]
#: Keys written with a value of their own rather than the source config's: the header,
#: and Mistral's sliding window (None in these configs: full attention; an Architecture
#: with a window is written with it, and refused by the other families' writers).
_NOT_COMPARED = {"architectures", "_name_or_path", "sliding_window", "model_type"}


def _id(config: dict) -> str:
    return f"{config['model_type']}-{config.get('hidden_size', config.get('n_embd'))}"


def test_every_family_is_covered_by_real_configs():
    assert {config["model_type"] for config in CONFIGS} == set(FAMILIES)


@pytest.mark.parametrize("config", CONFIGS, ids=_id)
def test_real_configs_round_trip_both_ways(config):
    arch = sp.Architecture.from_hf_config(config)
    written = arch.to_hf_config(config["model_type"])
    # Architecture -> config -> Architecture: equal.
    assert sp.Architecture.from_hf_config(written) == arch
    # config -> Architecture -> config: every key written agrees with what transformers
    # wrote, where it wrote a value (n_inner and head_dim may be null there: derived).
    for key, value in written.items():
        if key in _NOT_COMPARED or config.get(key) is None:
            continue
        assert config[key] == value, key
    assert written["model_type"] == config["model_type"]
    json.dumps(written)


@pytest.mark.parametrize("name", ["llama-2-7b", "mistral-7b", "mixtral-8x7b",
                                  "qwen1.5-moe-a2.7b", "gpt2-small"])
def test_presets_round_trip(name):
    arch = sp.Architecture.preset(name)
    family = {"gpt2-small": "gpt2", "mixtral-8x7b": "mixtral",
              "qwen1.5-moe-a2.7b": "qwen2_moe"}.get(name, "llama")
    assert sp.Architecture.from_hf_config(arch.to_hf_config(family)) == arch


def test_the_default_family_is_llama():
    config = sp.Architecture.preset("llama-3-8b").to_hf_config()
    assert config["model_type"] == "llama"
    assert config["architectures"] == ["LlamaForCausalLM"]
    # Llama 3 8B's published config.json: 4096 wide, 32 layers, 32 heads, 8 KV heads,
    # 14336 FFN, 128256 tokens, silu.
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"],
            config["num_key_value_heads"], config["intermediate_size"],
            config["vocab_size"], config["hidden_act"]) == (
        4096, 32, 32, 8, 14336, 128256, "silu")


@pytest.mark.parametrize(("arch", "family", "field"), [
    (sp.Architecture.preset("gpt2-small"), "llama", "ffn"),
    (sp.Architecture.preset("llama-2-7b"), "gpt2", "ffn"),
    (sp.Architecture.preset("mixtral-8x7b"), "llama", "n_experts"),
    (sp.Architecture.preset("llama-2-7b"), "mixtral", "n_experts"),
    (sp.Architecture.preset("llama-2-7b"), "qwen2", "qkv_bias"),
    (sp.Architecture.preset("qwen1.5-moe-a2.7b"), "mixtral", "qkv_bias"),
    (sp.Architecture(d_model=256, n_layers=2, n_heads=4, ffn="swiglu", position="rotary",
                     norm="rmsnorm", qkv_bias=True), "llama", "out_bias"),
    (sp.Architecture.preset("llama-2-7b"), "bert", "family"),
])
def test_what_a_family_cannot_express_is_refused(arch, family, field):
    with pytest.raises(ValueError, match=f"^{field}="):
        arch.to_hf_config(family)


_WINDOWED = sp.Architecture(d_model=256, n_layers=2, n_heads=4, ffn="swiglu",
                            position="rotary", norm="rmsnorm", attention_window=128)


@pytest.mark.parametrize(("arch", "family"), [
    (_WINDOWED, "llama"), (_WINDOWED.replace(qkv_bias=True), "qwen2"),
    (_WINDOWED.replace(n_experts=4, top_k=2, d_ff_expert=768), "mixtral"),
    (_WINDOWED.replace(qkv_bias=True, n_experts=4, top_k=2, d_ff_expert=64), "qwen2_moe"),
    (sp.Architecture.preset("gpt2-small").replace(attention_window=64), "gpt2"),
])
def test_a_window_is_refused_where_the_config_has_no_key_for_it(arch, family):
    """Only Mistral's writer has sliding_window; the others would drop it silently."""
    with pytest.raises(ValueError, match=r"^attention_window=.* invalid for a .* config"):
        arch.to_hf_config(family)
    assert arch.replace(attention_window=0).to_hf_config(family)["model_type"] == family


@pytest.mark.parametrize(("field", "value"), [
    ("qk_norm", "head"), ("norm_placement", "sandwich"), ("parallel_block", True),
    ("lm_head_bias", True), ("attention_sinks", True), ("router_bias", True)])
@pytest.mark.parametrize("family", ["llama", "mistral"])
def test_layer_features_no_writer_has_are_refused(field, value, family):
    arch = sp.Architecture(d_model=256, n_layers=2, n_heads=4, ffn="swiglu",
                           position="rotary", norm="rmsnorm", **{field: value})
    with pytest.raises(ValueError, match=f"^{field}={value!r} is invalid for a {family}"):
        arch.to_hf_config(family)


_sizes = st.sampled_from([64, 128, 256])


@st.composite
def llama_like(draw: st.DrawFn) -> tuple[sp.Architecture, str]:
    family = draw(st.sampled_from(["llama", "mistral", "qwen2", "mixtral", "qwen2_moe"]))
    head_dim = draw(st.sampled_from([16, 32, 64]))
    n_heads = draw(st.sampled_from([2, 4, 8]))
    group = draw(st.sampled_from([1, 2]))
    fields = dict(d_model=draw(_sizes), n_layers=draw(st.integers(1, 6)), n_heads=n_heads,
                  n_kv_heads=n_heads // group, head_dim=head_dim, d_ff=draw(_sizes),
                  ffn=draw(st.sampled_from(["swiglu", "geglu"])),
                  vocab_size=draw(st.integers(1, 5000)),
                  max_position_embeddings=draw(st.integers(1, 8192)), position="rotary",
                  norm="rmsnorm", tie_embeddings=draw(st.booleans()))
    if family == "llama":
        bias = draw(st.booleans())
        fields.update(qkv_bias=bias, out_bias=bias, mlp_bias=draw(st.booleans()))
    if family in ("qwen2", "qwen2_moe"):
        fields.update(qkv_bias=True)
    if family == "mixtral":
        fields.update(n_experts=draw(st.integers(2, 16)), top_k=1, d_ff_expert=fields["d_ff"])
    if family == "qwen2_moe":
        shared = draw(st.booleans())
        n_layers = fields["n_layers"]
        fields.update(n_experts=draw(st.integers(2, 16)), top_k=draw(st.integers(1, 2)),
                      d_ff_expert=draw(_sizes), n_shared_experts=int(shared),
                      d_ff_shared=draw(_sizes) if shared else None,
                      shared_expert_gate=shared, moe_every=draw(st.integers(1, min(2, n_layers))),
                      dense_layers=tuple(sorted(draw(st.sets(
                          st.integers(0, n_layers - 1), max_size=n_layers - 1)))))
    return sp.Architecture(**fields), family


@settings(max_examples=150, deadline=None)
@given(case=llama_like())
def test_generated_architectures_round_trip(case):
    arch, family = case
    try:
        written = arch.to_hf_config(family)
    except ValueError:
        # Only layouts no layer of which is routed are refused for the MoE families.
        assert family in ("mixtral", "qwen2_moe")
        assert not arch.is_moe
        return
    assert sp.Architecture.from_hf_config(json.loads(json.dumps(written))) == arch
