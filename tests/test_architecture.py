"""Architecture: derived fields, validation at the boundary, presets and HF configs."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import scalingperf as sp

BASE = dict(d_model=512, n_layers=4, n_heads=8, vocab_size=1000, max_position_embeddings=256)


def test_derived_fields():
    arch = sp.Architecture(**BASE)
    assert (arch.n_kv_heads, arch.head_dim, arch.d_ff) == (8, 64, 2048)
    assert arch.d_ff_expert == arch.d_ff_shared == 2048
    assert not arch.is_moe
    # Llama's rule: 2/3 of 4 d rounded up to 256 gives Llama-7B's 11008.
    assert sp.Architecture(d_model=4096, n_layers=1, n_heads=32, ffn="swiglu").d_ff == 11008


def test_replace_derives_again():
    arch = sp.Architecture(**BASE)
    wider = arch.replace(d_model=1024)
    assert (wider.head_dim, wider.d_ff) == (128, 4096)
    kept = sp.Architecture(**BASE, head_dim=32).replace(d_model=1024)
    assert kept.head_dim == 32


def test_moe_layer_pattern():
    arch = sp.Architecture(**dict(BASE, n_layers=12), n_experts=8, top_k=2, moe_every=2,
                           first_dense_layers=2, dense_layers=(5,))
    # Layers 3, 7, 9, 11 (from 0): every 2nd, from layer 2 on, but not layer 5.
    assert arch.n_moe_layers == 4
    assert sp.Architecture(**BASE, n_experts=1).n_moe_layers == 0


@pytest.mark.parametrize(("changes", "field"), [
    (dict(d_model=0), "d_model"),
    (dict(d_model=-5), "d_model"),
    (dict(d_model=2**21), "d_model"),
    (dict(n_layers=0), "n_layers"),
    (dict(n_heads=0), "n_heads"),
    (dict(n_heads=7), "n_heads"),              # does not divide d_model with head_dim implied
    (dict(n_kv_heads=3), "n_kv_heads"),        # does not divide n_heads
    (dict(n_kv_heads=16), "n_kv_heads"),       # more than n_heads
    (dict(head_dim=0), "head_dim"),            # only None means "derive"
    (dict(d_ff=0), "d_ff"),
    (dict(n_kv_heads=0), "n_kv_heads"),
    (dict(n_experts=4, d_ff_expert=0), "d_ff_expert"),
    (dict(n_experts=4, n_shared_experts=1, d_ff_shared=0), "d_ff_shared"),
    (dict(name=5), "name"),
    (dict(d_ff=-1), "d_ff"),
    (dict(vocab_size=0), "vocab_size"),
    (dict(max_position_embeddings=0), "max_position_embeddings"),
    (dict(n_experts=4, top_k=5), "top_k"),
    (dict(top_k=2), "top_k"),                  # dense model routes nothing
    (dict(n_experts=-1), "n_experts"),
    (dict(n_experts=4, moe_every=0), "moe_every"),
    (dict(n_experts=4, dense_layers=(4,)), "dense_layers"),
    (dict(n_experts=4, capacity_factor=-1.0), "capacity_factor"),
    (dict(n_experts=4, capacity_factor=float("nan")), "capacity_factor"),
    (dict(ffn="swish"), "ffn"),
    (dict(norm="batchnorm"), "norm"),
    (dict(position="alibi"), "position"),
    (dict(d_model="512"), "d_model"),
    (dict(d_model=512.5), "d_model"),
    (dict(n_layers=True), "n_layers"),
    (dict(d_model=2**70), "d_model"),
    (dict(qkv_bias="yes"), "qkv_bias"),
    (dict(d_model=2**20, n_layers=2**16, n_heads=2**10), "parameters"),
])
def test_invalid_fields_name_the_field(changes, field):
    with pytest.raises(ValueError, match=rf"^{re.escape(field)}="):
        sp.Architecture(**{**BASE, **changes})


def test_error_states_the_allowed_range():
    with pytest.raises(ValueError, match=r"n_layers=0 is invalid: allowed range is \[1, 65536\]"):
        sp.Architecture(**dict(BASE, n_layers=0))
    with pytest.raises(ValueError, match=r"n_kv_heads=3 is invalid: it must divide n_heads=8"):
        sp.Architecture(**BASE, n_kv_heads=3)


def test_zero_is_refused_not_derived():
    """d_ff=0, n_kv_heads=0 and head_dim=0 once meant "derive"; only None does now."""
    for field in ("d_ff", "n_kv_heads", "head_dim", "d_ff_expert", "d_ff_shared"):
        with pytest.raises(ValueError, match=rf"^{field}=0 is invalid: allowed range is >= 1 "
                                             r"\(leave it None to derive it\)"):
            sp.Architecture(**BASE, **{field: 0})
        assert getattr(sp.Architecture(**BASE, **{field: None}), field) > 0


def test_n_heads_derived_from_head_dim():
    """Architecture(d_model=4096, n_layers=32, head_dim=128) raised a TypeError."""
    arch = sp.Architecture(d_model=4096, n_layers=32, head_dim=128)
    assert (arch.n_heads, arch.head_dim) == (32, 128)
    assert arch == sp.Architecture(d_model=4096, n_layers=32, n_heads=32, head_dim=128)
    # n_heads was derived: a new width derives it again; head_dim was given, so it stays.
    assert arch.replace(d_model=8192).n_heads == 64
    assert arch.replace(head_dim=64).n_heads == 64
    assert arch.replace(n_heads=8).head_dim == 128
    assert sp.Architecture(d_model=768, n_layers=2, head_dim=np.int64(64)).n_heads == 12


@pytest.mark.parametrize(("fields", "message"), [
    (dict(head_dim=100), ("head_dim=100 is invalid: to derive n_heads = d_model / head_dim "
                          "it must divide d_model=4096 (or give n_heads)")),
    (dict(), "n_heads=None is invalid: give n_heads, or head_dim to derive n_heads"),
    (dict(head_dim=None), "n_heads=None is invalid"),
    (dict(head_dim=-128), "head_dim=-128 is invalid: allowed range is >= 1"),
    (dict(head_dim=128, d_model=0), "d_model=0 is invalid: allowed range is [1, "),
])
def test_n_heads_cannot_be_derived(fields, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        sp.Architecture(**{"d_model": 4096, "n_layers": 32, **fields})


def test_numpy_integers_are_accepted():
    arch = sp.Architecture(**dict(BASE, d_model=np.int64(512), n_layers=np.int32(4)))
    assert arch.d_model == 512
    assert type(arch.d_model) is int


def test_presets_cover_the_published_families():
    names = set(sp.presets())
    assert {"gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-175b",
            "gopher-280b", "chinchilla-70b", "llama-2-7b", "llama-2-13b", "llama-2-70b",
            "llama-3-8b", "llama-3-70b", "mistral-7b", "mixtral-8x7b",
            "qwen1.5-moe-a2.7b", "deepseek-moe-16b"} <= names
    with pytest.raises(ValueError, match="preset='nope'"):
        sp.Architecture.preset("nope")


def test_deepseek_moe_16b_size():
    """Dai et al. 2024, Table 1 (DeepSeekMoE 16B): 16.4B total, 2.8B activated."""
    report = sp.estimate(sp.Architecture.preset("deepseek-moe-16b"), batch=1, seq_len=1)
    assert report.params.total == pytest.approx(16.4e9, rel=0.01)
    assert report.params.active == pytest.approx(2.8e9, rel=0.02)


def test_from_hf_config_path_and_folder(tmp_path):
    config = {"model_type": "llama", "hidden_size": 256, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 512,
              "vocab_size": 1000, "max_position_embeddings": 512}
    (tmp_path / "config.json").write_text(json.dumps(config))
    by_file = sp.Architecture.from_hf_config(tmp_path / "config.json")
    by_folder = sp.Architecture.from_hf_config(str(tmp_path))
    assert by_file == by_folder
    assert (by_file.n_kv_heads, by_file.ffn, by_file.position) == (2, "swiglu", "rotary")
    # Llama's MLP is act(gate) x up: a ReLU there is ReGLU (Shazeer 2020).
    assert sp.Architecture.from_hf_config(dict(config, hidden_act="relu")).ffn == "reglu"


@pytest.mark.parametrize(("config", "message"), [
    ({"model_type": "llama", "hidden_size": 64}, "missing num_hidden_layers"),
    ({"model_type": "t5"}, "model_type='t5' is invalid"),
    ({"foo": 1}, "lacks the fields of a known family"),
    ({"model_type": "mixtral", "hidden_size": 64, "num_hidden_layers": 1,
      "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100,
      "max_position_embeddings": 64}, "missing num_local_experts"),
    ({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 1,
      "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100,
      "max_position_embeddings": 64, "hidden_act": "tanh"}, "hidden_act='tanh'"),
])
def test_from_hf_config_errors(config, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        sp.Architecture.from_hf_config(config)


def test_from_hf_config_unreadable(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        sp.Architecture.from_hf_config(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        sp.Architecture.from_hf_config(tmp_path / "bad.json")


LLAMA_CONFIG = {"model_type": "llama", "hidden_size": 256, "num_hidden_layers": 2,
                "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 512,
                "vocab_size": 1000, "max_position_embeddings": 512}
QWEN_MOE_CONFIG = {**LLAMA_CONFIG, "model_type": "qwen2_moe", "num_experts": 4,
                   "num_experts_per_tok": 2, "moe_intermediate_size": 64}


@pytest.mark.parametrize("key", ["hidden_size", "num_hidden_layers", "num_attention_heads",
                                 "num_key_value_heads", "intermediate_size", "vocab_size",
                                 "max_position_embeddings", "head_dim"])
@pytest.mark.parametrize("value", [[4096], True, b"4096", "4096", 2.5, {}])
def test_from_hf_config_bad_numbers_name_the_key(key, value):
    """A list, bool or bytes in a numeric field raised TypeError or named d_model."""
    with pytest.raises(ValueError, match="^" + re.escape(f"{key}={value!r} is invalid")):
        sp.Architecture.from_hf_config({**LLAMA_CONFIG, key: value})


@pytest.mark.parametrize(("config", "message"), [
    ({**LLAMA_CONFIG, "hidden_size": None}, ("hf_config of family 'llama' is missing "
                                             "hidden_size (absent or null)")),
    ({**LLAMA_CONFIG, "tie_word_embeddings": "false"}, ("tie_word_embeddings='false' is "
                                                        "invalid: it must be True or False")),
    ({**LLAMA_CONFIG, "attention_bias": None}, "attention_bias=None is invalid"),
    ({**LLAMA_CONFIG, "model_type": ["llama"]}, "model_type=['llama'] is invalid"),
    ({**LLAMA_CONFIG, "hidden_act": None}, "hidden_act=None is invalid: it must be a string"),
    ({**LLAMA_CONFIG, "_name_or_path": 7}, "_name_or_path=7 is invalid"),
    ({**LLAMA_CONFIG, "num_key_value_heads": 3}, ("n_kv_heads=3 is invalid: it must divide "
                                                  "n_heads=4 (from the hf_config key "
                                                  "'num_key_value_heads')")),
    ({**QWEN_MOE_CONFIG, "mlp_only_layers": True}, ("mlp_only_layers=True is invalid: it must "
                                                    "be a list of layer indices")),
    ({**QWEN_MOE_CONFIG, "mlp_only_layers": [0.5]}, "mlp_only_layers=0.5 is invalid"),
    ({**QWEN_MOE_CONFIG, "decoder_sparse_step": 0}, ("moe_every=0 is invalid: allowed range is "
                                                     "[1, 2] (from the hf_config key "
                                                     "'decoder_sparse_step')")),
    ({**QWEN_MOE_CONFIG, "shared_expert_intermediate_size": {}},
     "shared_expert_intermediate_size={} is invalid"),
    ({**QWEN_MOE_CONFIG, "num_experts": None},
     "hf_config of family 'qwen2_moe' is missing num_experts"),
])
def test_from_hf_config_bad_values(config, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        sp.Architecture.from_hf_config(config)


def test_from_hf_config_accepts_whole_floats_and_nulls_for_derived_fields():
    arch = sp.Architecture.from_hf_config({**LLAMA_CONFIG, "hidden_size": 256.0,
                                           "num_key_value_heads": None, "head_dim": None})
    assert (arch.d_model, arch.n_kv_heads, arch.head_dim) == (256, 4, 64)
    moe = sp.Architecture.from_hf_config({**QWEN_MOE_CONFIG, "decoder_sparse_step": None,
                                          "mlp_only_layers": None})
    assert moe.n_moe_layers == 2
    with pytest.raises(ValueError, match=r"^hf_config=5 is invalid"):
        sp.Architecture.from_hf_config(5)  # type: ignore[arg-type]
