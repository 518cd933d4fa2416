"""from_hf_config against every decoder-only causal-LM family of transformers.

Golden data: tools/make_golden_hf_families.py builds each family of transformers'
MODEL_FOR_CAUSAL_LM_MAPPING_NAMES from its own default config class, shrunk (4 layers,
width 64, eager attention and experts, float32 on the CPU), and records num_parameters()
and FlopCounterMode's forward and forward + backward FLOPs. A family is either read with
exact parameters and matmul FLOPs within 0.1 %, or refused with a message naming what it
has that an Architecture cannot express.
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path

import pytest
from golden import load_golden
from hypothesis import given
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf.hf_config import _HF_ACTIVATION_SAVES, UnknownFamilyWarning, _understood
from scalingperf.hf_families import FAMILIES, NEUTRAL_KEYS

GOLDEN = load_golden("hf_families.json")
# What FlopCounterMode counts and a training kernel does not (Llama 4's unrouted experts, a
# hybrid's chunked scan and dropped convolution padding) is removed from the golden FLOPs
# by the report tool; one definition, shared.
_SPEC = importlib.util.spec_from_file_location(
    "hf_families_report", Path(__file__).resolve().parent.parent / "tools" / "hf_families_report.py")
REPORT = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(REPORT)
BUILT = {f["family"]: f for f in GOLDEN["families"] if f["status"] == "built"}
# The counts this commit reaches; a change to the reader or the table that reads fewer
# families exactly, or refuses more, fails here and must say why.
READ_EXACTLY_AT_LEAST = 112


def _read(entry):
    return sp.Architecture.from_hf_config(entry["hf_config"])


def _outcome(entry):
    """('read', report) or ('refused', message)."""
    try:
        arch = _read(entry)
    except ValueError as error:
        return "refused", str(error)
    return "read", sp.estimate(arch, batch=entry["batch"], seq_len=entry["seq_len"])


def test_golden_covers_the_mapping():
    """Every causal-LM family of the mapping has an entry: built, skipped with a reason
    (encoder, encoder-decoder, wrapper of another family's text config) or failed with
    the error transformers raised."""
    assert len(GOLDEN["families"]) >= 190
    assert len(BUILT) >= 110
    for entry in GOLDEN["families"]:
        assert entry["status"] in ("built", "skipped", "build_failed", "config_failed")
        if entry["status"] != "built":
            assert entry["reason"]


@pytest.mark.parametrize("family", sorted(BUILT))
def test_every_built_family_is_in_the_table(family):
    """No shipped family falls through to the unknown-family path by accident."""
    assert BUILT[family]["hf_config"]["model_type"] in FAMILIES


@pytest.mark.parametrize("family", sorted(BUILT))
def test_read_exactly_or_refused_naming_the_feature(family):
    entry = BUILT[family]
    kind, result = _outcome(entry)
    if kind == "refused":
        assert re.search(r"is refused: the family has .+, which no Architecture field "
                         r"expresses yet$", result), result
        return
    report = result
    assert report.params.total == entry["params"]
    forward, both = REPORT.expected_flops(entry, _read(entry))
    assert report.flops.forward == pytest.approx(forward, rel=1e-3)
    assert report.flops.model == pytest.approx(both, rel=1e-3)
    # Nothing with multiply-adds ran outside the counter's sight in a family we read, but
    # in a hybrid's chunked scan (gated DeltaNet's triangular solve), which the core
    # reports as elementwise work.
    outside_scan = {op: calls for op, calls in entry["uncounted_ops"].items()
                    if calls["calls"] != entry.get("uncounted_ops_in_scan", {}).get(op)}
    assert outside_scan == {}


def test_llama4_reads_its_pattern():
    arch = _read(BUILT["llama4_text"])
    config = BUILT["llama4_text"]["hf_config"]
    layers = set(range(arch.n_layers))
    assert layers - set(arch.dense_layers) == layers & set(config["moe_layers"])
    assert (arch.n_shared_experts, arch.window_kind) == (1, "chunked")
    assert arch.d_ff == config["intermediate_size_mlp"]
    assert REPORT.unrouted_expert_flops(BUILT["llama4_text"], arch) > 0


@given(n_layers=st.integers(1, 12), start=st.integers(0, 12), end=st.integers(-1, 12),
       interval=st.integers(1, 4))
def test_ernie_moe_layers_follow_start_end_interval(n_layers, start, end, interval):
    """Ernie 4.5 MoE: layer i is MoE when start <= i <= end (end -1: the last layer) and
    (i + 1) % interval == 0, as modeling_ernie4_5_moe.py builds it."""
    config = {**BUILT["ernie4_5_moe"]["hf_config"], "num_hidden_layers": n_layers,
              "moe_layer_start_index": start, "moe_layer_end_index": end,
              "moe_layer_interval": interval}
    last = n_layers - 1 if end == -1 else end
    moe = {i for i in range(n_layers) if start <= i <= last and (i + 1) % interval == 0}
    arch = sp.Architecture.from_hf_config(config)
    assert set(range(n_layers)) - set(arch.dense_layers) == moe


@pytest.mark.parametrize("family", ["biogpt", "opt"])
def test_position_table_has_two_extra_rows(family):
    """BioGPT's and OPT's learned position tables hold max_position_embeddings + 2 rows."""
    config = BUILT[family]["hf_config"]
    arch = _read(BUILT[family])
    assert arch.max_position_embeddings == config["max_position_embeddings"] + 2


@given(width=st.integers(1, 4096).filter(lambda w: w != 64))
def test_opt_with_an_embedding_projection_is_refused(width):
    """OPT-350m's word_embed_proj_dim (512) differs from its hidden_size (1024): transformers
    then adds project_in/project_out, which no Architecture field expresses."""
    config = {**BUILT["opt"]["hf_config"], "word_embed_proj_dim": width}
    with pytest.raises(ValueError, match=f"^word_embed_proj_dim={width} is refused"):
        sp.Architecture.from_hf_config(config)


def test_dbrx_nested_configs_are_read_and_must_agree():
    """DBRX keeps kv_n_heads in attn_config and the expert sizes in ffn_config; a nested
    key that disagrees with the same key elsewhere is refused, naming both."""
    config = BUILT["dbrx"]["hf_config"]
    arch = _read(BUILT["dbrx"])
    assert arch.n_kv_heads == config["attn_config"]["kv_n_heads"]
    assert (arch.n_experts, arch.d_ff_expert) == (config["ffn_config"]["moe_num_experts"],
                                                  config["ffn_config"]["ffn_hidden_size"])
    wider = {**config, "ffn_config": {**config["ffn_config"], "hidden_size": 128}}
    with pytest.raises(ValueError, match=r"^hidden_size=128 is refused .*equal to d_model"):
        sp.Architecture.from_hf_config(wider)
    top_k = config["ffn_config"]["moe_top_k"]
    with pytest.raises(ValueError, match=rf"^ffn_config.moe_top_k={top_k} is invalid: it "
                                         rf"disagrees with moe_top_k={top_k + 1}"):
        sp.Architecture.from_hf_config({**config, "moe_top_k": top_k + 1})
    with pytest.raises(ValueError, match=r"^attn_config=3 is invalid"):
        sp.Architecture.from_hf_config({**config, "attn_config": 3})


def test_ernie_moe_interval_below_one_is_refused():
    config = {**BUILT["ernie4_5_moe"]["hf_config"], "moe_layer_interval": 0}
    with pytest.raises(ValueError, match="moe_layer_interval=0 is invalid"):
        sp.Architecture.from_hf_config(config)


def test_refused_families_and_their_reasons():
    refused = {}
    for family, entry in sorted(BUILT.items()):
        kind, result = _outcome(entry)
        if kind == "refused":
            refused[family] = result.partition("the family has ")[2]
    read = len(BUILT) - len(refused)
    assert read >= READ_EXACTLY_AT_LEAST, (read, refused)
    # Each reason is the table's list of missing features, in words.
    for family, reason in refused.items():
        model_type = BUILT[family]["hf_config"]["model_type"]
        assert FAMILIES[model_type].needs
        for feature in FAMILIES[model_type].needs:
            assert feature in reason
    # The families the issue names first are read; hybrids are refused naming the layers.
    for family in ("qwen3", "qwen3_moe", "gemma2", "gemma3_text", "deepseek_v3", "olmo2",
                   "olmoe", "gpt_oss", "phi3", "falcon", "stablelm", "starcoder2",
                   "gpt_neox", "granite", "llama4_text"):
        assert family not in refused, refused.get(family)
    # The hybrids of gated DeltaNet and Mamba-2 layers are read; other mixers are refused
    # naming them.
    for family in ("qwen3_next", "qwen3_5_text", "qwen3_5_moe_text", "olmo_hybrid",
                   "lara_mini", "bamba", "granitemoehybrid", "mamba2", "mamba", "falcon_mamba",
                   "jamba"):
        assert family not in refused, refused.get(family)
    # Post-LN decoders and xIELU MLPs are read; TrOCR's causal LM builds cross-attention.
    for family in ("openai-gpt", "bert-generation", "apertus", "apertus1p5_text", "beam",
                   "axk1", "mpt", "gpt_neox_japanese",
                   "bitnet", "lfm3", "lfm2", "nemotron_h", "laguna",
                   "gemma4_unified_text", "mimo_v2_flash"):
        assert family not in refused, refused.get(family)
    assert "cross-attention" in refused["trocr"]
    assert "lightning attention" in refused["minimax"]


def test_lfm2_reads_its_conv_layers_and_adjusts_the_mlp_width():
    """LFM2's "conv" layers run the short convolution; Lfm2MLP builds int(2 f / 3) scaled
    by block_ffn_dim_multiplier and rounded up to block_multiple_of (96 -> 64 -> 256)."""
    config = dict(BUILT["lfm2"]["hf_config"],
                  layer_types=["conv", "full_attention", "conv", "conv"])
    arch = sp.Architecture.from_hf_config(config)
    assert (arch.linear_mixer, arch.attention_layers, arch.d_ff) == ("short_conv", (1,), 256)
    assert sp.Architecture.from_hf_config(dict(config, block_auto_adjust_ff_dim=False)).d_ff == 96
    assert sp.Architecture.from_hf_config(dict(config, block_ffn_dim_multiplier=None)).d_ff == 64
    with pytest.raises(ValueError, match=r"^block_ffn_dim_multiplier='x' is invalid"):
        sp.Architecture.from_hf_config(dict(config, block_ffn_dim_multiplier="x"))
    with pytest.raises(ValueError, match=r"^block_multiple_of=0 is invalid"):
        sp.Architecture.from_hf_config(dict(config, block_multiple_of=0))


def test_laguna_reads_one_head_count_and_its_gate_granularity():
    """Laguna builds layer i with num_attention_heads_per_layer[i] heads: one count for
    every layer is n_heads, counts that differ are refused by name; gating True or
    'per-head' is a gate per head, False or 'per-element' one per channel."""
    config = BUILT["laguna"]["hf_config"]
    arch = sp.Architecture.from_hf_config(config)
    assert (arch.n_heads, arch.attention_head_gate, arch.attention_output_gate) == (48, True, False)
    channel = sp.Architecture.from_hf_config(dict(config, gating="per-element"))
    assert (channel.attention_head_gate, channel.attention_output_gate) == (False, True)
    assert sp.Architecture.from_hf_config(dict(config, gating="per-head")).attention_head_gate
    with pytest.raises(ValueError, match=r"^gating='per-row' is invalid"):
        sp.Architecture.from_hf_config(dict(config, gating="per-row"))
    varying = dict(config, num_attention_heads_per_layer=[48, 32, 48, 48])
    with pytest.raises(ValueError, match=r"^num_attention_heads_per_layer=\[48, 32, 48, 48\] is "
                                         r"refused: a head count that differs by layer"):
        sp.Architecture.from_hf_config(varying)
    with pytest.raises(ValueError, match=r"^num_attention_heads_per_layer=\[48\] is invalid"):
        sp.Architecture.from_hf_config(dict(config, num_attention_heads_per_layer=[48]))


def test_gemma4_reads_the_head_width_of_its_full_attention_layers():
    """Gemma 4's per_layer_config widens the heads of its full-attention layers
    (global_head_dim); overrides past the last layer are not built; any other override is
    refused by name."""
    config = dict(BUILT["gemma4_unified_text"]["hf_config"])
    assert sp.Architecture.from_hf_config(config).global_head_dim == 0  # layers 5.. absent
    wide = dict(config, per_layer_config={"3": {"head_dim": 32}, "07": {"head_dim": 512}})
    arch = sp.Architecture.from_hf_config(wide)
    assert (arch.global_head_dim, arch.head_dim, arch.global_layers) == (32, 16, (3,))
    with pytest.raises(ValueError, match=r"^per_layer_config\['1'\] head_dim is refused"):
        sp.Architecture.from_hf_config(dict(config, per_layer_config={"1": {"head_dim": 32}}))
    with pytest.raises(ValueError, match=r"num_key_value_heads=4 is refused"):
        sp.Architecture.from_hf_config(dict(config, per_layer_config={
            "3": {"head_dim": 32, "num_key_value_heads": 4}}))
    with pytest.raises(ValueError, match=r"^attention_k_eq_v=True is refused"):
        sp.Architecture.from_hf_config(dict(config, attention_k_eq_v=True))


def test_mimo_reads_its_sliding_layers_and_refuses_another_value_width():
    """MiMo-V2-Flash's sliding layers: twice the KV heads and sinks; without sliding
    layers neither is set; a value head dim other than head_dim is refused by name."""
    config = BUILT["mimo_v2_flash"]["hf_config"]
    arch = sp.Architecture.from_hf_config(config)
    assert (arch.window_kv_heads, arch.window_sinks, arch.n_kv_heads) == (4, True, 2)
    full = sp.Architecture.from_hf_config(dict(config, layer_types=["full_attention"] * 4))
    assert (full.window_kv_heads, full.window_sinks) == (0, False)
    with pytest.raises(ValueError, match=r"^v_head_dim=8 is refused"):
        sp.Architecture.from_hf_config(dict(config, v_head_dim=8))


def test_qwen3_relabelled_as_qwen2_is_refused_not_given_biases():
    """Qwen2's modelling code always puts biases on q, k and v; a Qwen3 config relabelled
    as qwen2 says attention_bias=false, a key qwen2 does not read: refused by name."""
    config = dict(BUILT["qwen3"]["hf_config"], model_type="qwen2")
    with pytest.raises(ValueError, match=r"^hf_config key attention_bias=False is not "
                                         r"understood for model_type 'qwen2'"):
        sp.Architecture.from_hf_config(config)


def _llama_config():
    return dict(BUILT["llama"]["hf_config"])


def test_unknown_family_with_understood_keys_is_read_with_a_warning():
    config = dict(_llama_config(), model_type="my_llama")
    with pytest.warns(UnknownFamilyWarning, match="model_type='my_llama'"):
        arch = sp.Architecture.from_hf_config(config)
    assert arch == sp.Architecture.from_hf_config(_llama_config())


def test_known_family_reads_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sp.Architecture.from_hf_config(_llama_config())


def test_unknown_family_with_an_unknown_key_is_refused_naming_it():
    config = dict(_llama_config(), model_type="my_llama", use_qk_norm=True)
    with pytest.raises(ValueError, match=r"^hf_config key use_qk_norm=True is not understood"):
        sp.Architecture.from_hf_config(config)


def test_layer_types_other_than_attention_are_refused():
    config = dict(_llama_config(), layer_types=["full_attention", "linear_attention"] * 2)
    with pytest.raises(ValueError, match=r"^layer_types entry 'linear_attention' is refused"):
        sp.Architecture.from_hf_config(config)


def test_a_required_value_is_checked():
    config = dict(BUILT["stablelm"]["hf_config"], qk_layernorm=True)
    with pytest.raises(ValueError, match=r"^qk_layernorm=True is refused for model_type "
                                         r"'stablelm': only False is read"):
        sp.Architecture.from_hf_config(config)


def test_multi_query_and_biases_follow_the_config():
    bigcode = dict(BUILT["gpt_bigcode"]["hf_config"])
    assert sp.Architecture.from_hf_config(bigcode).n_kv_heads == 1
    mha = sp.Architecture.from_hf_config(dict(bigcode, multi_query=False))
    assert mha.n_kv_heads == mha.n_heads
    seed = dict(BUILT["seed_oss"]["hf_config"])
    arch = sp.Architecture.from_hf_config(dict(seed, attention_out_bias=True))
    assert (arch.qkv_bias, arch.out_bias, arch.mlp_bias) == (True, True, False)


_LLAMA_UNDERSTOOD = _understood(FAMILIES["llama"])


@given(st.from_regex(r"[a-z][a-z_]{2,20}", fullmatch=True).filter(
    lambda key: key not in _LLAMA_UNDERSTOOD), st.one_of(st.booleans(), st.integers(), st.none()))
def test_any_key_outside_the_table_is_refused_naming_it(key, value):
    config = dict(_llama_config(), **{key: value})
    with pytest.raises(ValueError, match="^" + re.escape(f"hf_config key {key}={value!r} is not "
                                                         "understood for model_type 'llama'")):
        sp.Architecture.from_hf_config(config)


@given(st.sampled_from(sorted(NEUTRAL_KEYS)), st.one_of(st.booleans(), st.integers(), st.none()))
def test_keys_that_change_no_count_change_nothing(key, value):
    config = dict(_llama_config(), **{key: value})
    if key in ("model_type", "_name_or_path") and value is not None:
        return  # not values of these keys
    assert sp.Architecture.from_hf_config(config) == sp.Architecture.from_hf_config(
        _llama_config())


@given(st.integers(min_value=-2, max_value=5))
def test_layer_count_boundary_names_the_key(n_layers):
    config = dict(_llama_config(), num_hidden_layers=n_layers)
    if n_layers >= 1:
        assert sp.Architecture.from_hf_config(config).n_layers == n_layers
    else:
        with pytest.raises(ValueError, match="from the hf_config key 'num_hidden_layers'"):
            sp.Architecture.from_hf_config(config)


# google/gemma-2b and google/gemma-7b config.json shapes.
_GEMMA_2B = {"model_type": "gemma", "hidden_size": 2048, "num_hidden_layers": 18,
             "num_attention_heads": 8, "num_key_value_heads": 1, "head_dim": 256,
             "intermediate_size": 16384, "vocab_size": 256000,
             "max_position_embeddings": 8192, "hidden_act": "gelu_pytorch_tanh"}
_GEMMA_7B = {**_GEMMA_2B, "hidden_size": 3072, "num_hidden_layers": 28,
             "num_attention_heads": 16, "num_key_value_heads": 16, "intermediate_size": 24576}


@pytest.mark.parametrize(("config", "published"), [(_GEMMA_2B, 1_981_884_416),
                                                   (_GEMMA_7B, 7_751_248_896)])
def test_gemma_non_embedding_parameters_as_published(config, published):
    """Gemma Team 2024, "Gemma: Open Models Based on Gemini Research and Technology",
    Table 2 (parameter counts): non-embedding parameters. Its embedding counts use a
    vocabulary padded to 256,128 rows, so only the non-embedding part is compared."""
    report = sp.estimate(sp.Architecture.from_hf_config(config), batch=1, seq_len=1)
    assert report.params.non_embedding == published
    assert report.params.embedding == config["vocab_size"] * config["hidden_size"]  # tied


# Released config.json files, with the keys they carry (training and inference settings
# included): each reads to the preset of the same model, whose counts are checked against
# transformers' num_parameters() and the published totals (tests/test_presets_layer_kinds.py).
_DEEPSEEK_V3 = {
    "model_type": "deepseek_v3", "architectures": ["DeepseekV3ForCausalLM"],
    "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
    "num_hidden_layers": 61, "num_attention_heads": 128, "num_key_value_heads": 128,
    "n_shared_experts": 1, "n_routed_experts": 256, "routed_scaling_factor": 2.5,
    "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64, "v_head_dim": 128,
    "qk_nope_head_dim": 128, "topk_method": "noaux_tc", "n_group": 8, "topk_group": 4,
    "num_experts_per_tok": 8, "moe_layer_freq": 1, "first_k_dense_replace": 3,
    "norm_topk_prob": True, "scoring_func": "sigmoid", "aux_loss_alpha": 0.001,
    "seq_aux": True, "vocab_size": 129280, "max_position_embeddings": 163840,
    "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "rope_theta": 10000,
    "rope_scaling": {"type": "yarn", "factor": 40}, "attention_bias": False,
    "num_nextn_predict_layers": 1, "ep_size": 1, "hidden_act": "silu", "use_cache": True,
    "torch_dtype": "bfloat16", "bos_token_id": 0, "eos_token_id": 1,
    "initializer_range": 0.02, "pretraining_tp": 1, "attention_dropout": 0.0}
_QWEN3_8B = {
    "model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "hidden_size": 4096,
    "intermediate_size": 12288, "num_hidden_layers": 36, "num_attention_heads": 32,
    "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936,
    "max_position_embeddings": 40960, "tie_word_embeddings": False, "attention_bias": False,
    "attention_dropout": 0.0, "hidden_act": "silu", "rms_norm_eps": 1e-6,
    "rope_theta": 1000000, "rope_scaling": None, "use_sliding_window": False,
    "sliding_window": None, "max_window_layers": 36, "use_cache": True,
    "torch_dtype": "bfloat16", "bos_token_id": 151643, "eos_token_id": 151645,
    "initializer_range": 0.02}


@pytest.mark.parametrize(("config", "preset"), [(_DEEPSEEK_V3, "deepseek-v3"),
                                                (_QWEN3_8B, "qwen3-8b")])
def test_released_configs_read_to_their_presets(config, preset):
    arch = sp.Architecture.from_hf_config(config)
    assert arch == sp.Architecture.preset(preset)
    with pytest.raises(ValueError, match="moe_layer_freq=2 is refused"):
        sp.Architecture.from_hf_config({**_DEEPSEEK_V3, "moe_layer_freq": 2})


def test_windows_without_layer_types_follow_the_family_or_are_refused():
    """A config.json written before layer_types existed: Gemma-2's pattern (full
    attention on every 2nd layer) gives the same layers as its layer_types; Mistral's
    window covers every layer; a family whose pattern is not known is refused."""
    gemma2 = dict(BUILT["gemma2"]["hf_config"])
    old = {k: v for k, v in gemma2.items() if k != "layer_types"}
    with_types, without = sp.Architecture.from_hf_config(gemma2), sp.Architecture.from_hf_config(old)
    for arch in (with_types, without):
        assert arch.attention_window == gemma2["sliding_window"]
    report = sp.estimate(without, batch=1, seq_len=64)
    assert report.flops.forward_causal == sp.estimate(with_types, batch=1,
                                                      seq_len=64).flops.forward_causal
    mistral = sp.Architecture.from_hf_config({
        **{k: v for k, v in BUILT["mistral"]["hf_config"].items() if k != "layer_types"},
        "sliding_window": 16})
    assert (mistral.attention_window, mistral.global_every, mistral.global_layers) == (16, 0, ())
    exaone4 = {k: v for k, v in BUILT["exaone4"]["hf_config"].items() if k != "layer_types"}
    with pytest.raises(ValueError, match=r"^sliding_window=16 without layer_types is refused "
                                         r"for model_type 'exaone4'"):
        sp.Architecture.from_hf_config(exaone4)


def test_hybrid_layers_follow_layer_types_or_the_interval():
    """Qwen3-Next: the layers layer_types calls "linear_attention" run gated DeltaNet, the
    others attention; a config.json without layer_types (the released ones have only
    full_attention_interval) reads to the same model."""
    config = BUILT["qwen3_next"]["hf_config"]
    arch = _read(BUILT["qwen3_next"])
    kinds = config["layer_types"]
    assert arch.linear_mixer == "gated_deltanet"
    assert arch.n_linear_layers == kinds.count("linear_attention")
    assert set(arch.attention_layers) == {i for i, k in enumerate(kinds) if k != "linear_attention"}
    interval = {k: v for k, v in config.items() if k != "layer_types"}
    interval["full_attention_interval"] = kinds.index("full_attention") + 1
    by_interval = sp.Architecture.from_hf_config(interval)
    assert by_interval.n_linear_layers == arch.n_linear_layers
    report = sp.estimate(by_interval, batch=2, seq_len=32)
    assert report.params.total == BUILT["qwen3_next"]["params"]


def test_lara_mini_windows_its_attention_layers_only():
    """Lara-mini mixes gated DeltaNet, sliding-window and full attention layers."""
    config = BUILT["lara_mini"]["hf_config"]
    arch = _read(BUILT["lara_mini"])
    kinds = config["layer_types"]
    assert arch.attention_window == config["sliding_window"]
    assert set(arch.global_layers) == {i for i, k in enumerate(kinds) if k == "full_attention"}
    assert arch.n_linear_layers == kinds.count("linear_attention")


@given(layers=st.lists(st.integers(0, 3), unique=True, max_size=4))
def test_bamba_attention_layers_from_attn_layer_indices(layers):
    """Bamba: attention on the layers attn_layer_indices lists (null: none), Mamba-2 on the
    others; each attention layer adds its projections' parameters."""
    config = {**BUILT["bamba"]["hf_config"], "attn_layer_indices": layers or None}
    arch = sp.Architecture.from_hf_config(config)
    assert arch.linear_mixer == "mamba2"
    assert arch.n_linear_layers == 4 - len(layers)
    assert set(arch.attention_layers) == set(layers)


@given(expand=st.integers(2, 8))
def test_mamba2_inner_width_must_match_its_heads(expand):
    """transformers builds mamba_n_heads x mamba_d_head channels; an expand that says a
    different inner width is refused rather than read one way or the other."""
    config = {**BUILT["bamba"]["hf_config"], "mamba_expand": expand}
    with pytest.raises(ValueError, match=rf"^mamba_expand={expand} is refused: the Mamba-2 "
                                         r"inner width"):
        sp.Architecture.from_hf_config(config)


def test_hybrid_golden_scan_is_set_apart():
    """The generator recorded the scan and the convolution of every read hybrid, and the
    replayed scan's forward is part of the counted forward."""
    for family in ("qwen3_next", "olmo_hybrid", "lara_mini", "bamba", "granitemoehybrid",
                   "mamba2", "mamba", "falcon_mamba"):
        entry = BUILT[family]
        assert entry["linear_mixers"] == _read(entry).n_linear_layers
        assert 0 < entry["forward_scan"] < entry["forward_backward_scan"]
        assert 0 < entry["forward_conv"] < entry["forward_backward_conv"]


def test_activation_saves_table_is_what_transformers_saves():
    """The reader's table of what each activation name saves equals the saved-tensor
    measurement of tools/make_golden_activation_saves.py (xIELU's one-byte sign mask, a
    quarter of a float32 tensor, and its two softplus'd scalars are what is left out)."""
    measured = load_golden("golden_activation_saves.json")["saves"]
    assert set(measured) == set(_HF_ACTIVATION_SAVES)
    for name, saves in _HF_ACTIVATION_SAVES.items():
        mask = 0.25 if name == "xielu" else 0
        assert saves == pytest.approx(measured[name] - mask, abs=1e-3), name


@pytest.mark.parametrize(("family", "activation", "saves"), [
    ("gpt2", "gelu_new", 0), ("gpt2", "gelu_pytorch_tanh", 1), ("gpt2", "quick_gelu", 2),
    ("gpt_bigcode", "gelu_pytorch_tanh", 1), ("openai-gpt", "gelu", 0)])
def test_activation_function_sets_what_the_mlp_saves(family, activation, saves):
    """GPT-2's gelu_new is the gelu default (4 tensors); a fused GELU keeps one; OpenAI
    GPT's "gelu" is gelu_new in its modelling code."""
    key = "afn" if family == "openai-gpt" else "activation_function"
    config = {**BUILT[family]["hf_config"], key: activation}
    assert sp.Architecture.from_hf_config(config).activation_saves == saves


@given(n_layers=st.integers(1, 12), attn=st.tuples(st.integers(1, 8), st.integers(0, 7)),
       expert=st.tuples(st.integers(1, 4), st.integers(0, 3)))
def test_jamba_layers_follow_period_and_offset(n_layers, attn, expert):
    """Jamba: attention on layer i when i % attn_layer_period == attn_layer_offset, experts
    when i % expert_layer_period == expert_layer_offset (configuration_jamba.py); an
    offset not below its period is refused, as the config class does."""
    (a_period, a_offset), (e_period, e_offset) = attn, expert
    config = {**BUILT["jamba"]["hf_config"], "num_hidden_layers": n_layers,
              "attn_layer_period": a_period, "attn_layer_offset": a_offset,
              "expert_layer_period": e_period, "expert_layer_offset": e_offset}
    if a_offset >= a_period or e_offset >= e_period:
        with pytest.raises(ValueError, match=r"_layer_offset=\d+ is invalid"):
            sp.Architecture.from_hf_config(config)
        return
    arch = sp.Architecture.from_hf_config(config)
    attention = {i for i in range(n_layers) if i % a_period == a_offset}
    assert arch.n_linear_layers == n_layers - len(attention)
    moe = {i for i in range(n_layers) if i % e_period == e_offset}
    assert arch.n_moe_layers == len(moe)
    assert set(range(n_layers)) - set(arch.dense_layers) == moe


@given(ratio=st.integers(1, 16).filter(lambda r: r != 4))
def test_mpt_expansion_ratio_other_than_four_is_refused(ratio):
    """transformers' MPT builds an MLP of 4 d_model whatever expansion_ratio says: another
    ratio is refused by name rather than read one way or the other."""
    config = {**BUILT["mpt"]["hf_config"], "expansion_ratio": ratio}
    with pytest.raises(ValueError, match=f"^expansion_ratio={ratio} is refused for model_type"):
        sp.Architecture.from_hf_config(config)
