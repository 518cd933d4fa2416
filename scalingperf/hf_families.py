"""The Hugging Face families :func:`scalingperf.hf_config.from_hf_config` reads, as data.

Each :class:`Family` says, for one ``model_type`` of ``transformers``, under which config
keys it keeps the sizes an :class:`~scalingperf.architecture.Architecture` needs (where
they differ from Llama's naming), which parts its modelling code fixes whatever the
config says (Qwen2's q/k/v biases, GPT-2's learned positions), which keys change nothing
the estimate counts, and which structural features it has that an Architecture cannot
express yet: a family with such a feature is refused, naming it.

The facts come from each family's ``configuration_*.py`` and ``modeling_*.py`` in
transformers 5.x, and are checked against models built from those classes
(``tests/data/hf_families.json``, made by ``tools/make_golden_hf_families.py``): every
family read here has parameters equal to ``num_parameters()`` and matmul FLOPs within
0.1 % of FlopCounterMode's (``tests/test_hf_families.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: Config keys of Llama's naming, per Architecture field. A tuple lists alternatives: the
#: first present in the config is read.
LLAMA_KEYS: Mapping[str, str | tuple[str, ...]] = MappingProxyType({
    "d_model": "hidden_size", "n_layers": "num_hidden_layers",
    "n_heads": "num_attention_heads", "n_kv_heads": "num_key_value_heads",
    "head_dim": "head_dim", "d_ff": "intermediate_size", "vocab_size": "vocab_size",
    "max_position_embeddings": "max_position_embeddings",
    "tie_embeddings": "tie_word_embeddings",
})

#: Suffixes of keys that change no count in any family: token ids and dropout rates.
NEUTRAL_SUFFIXES = ("_token_id", "_token_ids", "_dropout")

#: Keys that change neither the parameters nor the matmul FLOPs of a decoder, in any
#: family: bookkeeping, token ids, dropout, initialisation, norm epsilons, the RoPE base
#: and scaling (elementwise), router loss settings, generation defaults. (Sliding windows
#: and ``layer_types`` are read for every family, by :mod:`scalingperf.hf_config`.)
NEUTRAL_KEYS = frozenset({
    "_name_or_path", "architectures", "auto_map", "chunk_size_feed_forward", "dtype",
    "torch_dtype", "id2label", "label2id", "model_type", "output_attentions",
    "output_hidden_states", "problem_type", "return_dict", "transformers_version",
    "use_cache", "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id",
    "decoder_start_token_id", "initializer_range", "initializer_factor", "init_std",
    "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "norm_eps", "norm_epsilon",
    "attention_dropout", "hidden_dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop",
    "dropout", "embedding_dropout", "residual_dropout", "hidden_dropout_prob",
    "attention_probs_dropout_prob", "mlp_dropout", "rope_theta", "rope_scaling",
    "rope_parameters", "partial_rotary_factor", "rotary_pct", "rotary_emb_base",
    "pretraining_tp", "router_aux_loss_coef", "output_router_logits",
    "router_jitter_noise", "norm_topk_prob", "routed_scaling_factor", "tokenizer_class", "is_decoder",
    "quantization_config", "_attn_implementation_autoset", "max_length",
    "use_bfloat16", "torchscript", "tf_legacy_loss", "logits_soft_cap",
    "attention_multiplier", "embedding_multiplier", "residual_multiplier",
    "logits_scaling", "scale_attn_weights", "attn_logit_softcapping",
    "final_logit_softcapping", "query_pre_attn_scalar", "z_loss_coef",
    "router_z_loss_coef", "rope_interleave", "clip_qkv", "cache_implementation",
    "use_mrope",
})

#: Keys whose value must be "off" (False, None, 0 or empty) for any family: each names a
#: feature that no Architecture field expresses yet.
OFF_KEYS: Mapping[str, str] = MappingProxyType({
    "is_encoder_decoder": "an encoder-decoder model",
    "add_cross_attention": "cross-attention layers",
    "pruned_heads": "pruned attention heads (a different head count per layer)",
})


@dataclass(frozen=True)
class Family:
    """How one ``model_type`` keeps an Architecture in its config.

    keys
        Architecture field to config key(s), over :data:`LLAMA_KEYS`.
    fixed
        Architecture fields the modelling code sets whatever the config says.
    flags
        Architecture field to ``(config key, transformers' default)`` for booleans.
    activation
        ``(config key, default)`` of the activation; ``gated`` says whether the MLP
        multiplies it by a second projection (SwiGLU, GeGLU).
    moe
        MoE fields to config keys (``n_experts``, ``top_k``, ``d_ff_expert``,
        ``moe_every``, ``first_dense_layers``, ``dense_layers``) and ``shared``: how the
        shared expert is given (``"gated_width"``: one sigmoid-gated expert of the width
        under ``d_ff_shared``; ``"width"``: one ungated expert of that width; ``"count"``:
        ``n_shared_experts`` experts of width ``d_ff_expert``). ``dense_layers`` may name a
        list of layer indices or a per-layer list of ``"dense"``/``"sparse"`` kinds;
        ``moe_layers`` names a list of the MoE layers' indices instead; ``moe_range``
        names three keys ``(start, end, interval)``: layer ``i`` is MoE when
        ``start <= i <= end`` and ``(i + 1) % interval == 0`` (Ernie 4.5), every other
        layer dense.
    fixed_moe
        MoE fields the modelling code fixes (Llama 4's one shared expert).
    uniform_window, window_pattern
        How ``sliding_window`` applies when the config has no ``layer_types``: to every
        layer (Mistral), or with full attention on every ``n``-th layer, ``n`` under a
        key or fixed (``(key, default)``: Gemma-2 every 2nd, Gemma-3 every 6th). Any
        other family needs ``layer_types`` with a window.
    needs
        Structural features of the family that no Architecture field expresses: the
        family is refused, naming them.
    neutral
        The family's own keys that change no count.
    requires
        Config keys with the one value the reader understands (any other is refused).
    multi_query
        A boolean key that, when true, gives one key/value head (GPT-BigCode, Falcon).
    d_ff_multiple
        A key giving ``d_ff`` as a multiple of ``d_model`` (MPT's ``expansion_ratio``).
    nested
        Keys holding a dict of further keys (DBRX's ``attn_config`` and ``ffn_config``),
        read as if they were top-level keys.
    equal_to
        Config keys that must equal an Architecture field read (OPT's
        ``word_embed_proj_dim`` and ``d_model``: otherwise projections are added).
    position_offset
        Extra rows of a learned position table: OPT's and BioGPT's hold
        ``max_position_embeddings + 2`` (position ids are shifted by 2), read as that many
        positions, so the context limit checked is 2 more than the model uses.
    switches
        Architecture field to ``(boolean config key, value when true, value when false,
        transformers' default)``: ``use_qk_norm`` turning ``qk_norm`` to ``"head"``.
    linear_mixer
        The token mixer of a hybrid's layers without attention (``"gated_deltanet"``,
        ``"mamba2"``), its sizes under ``keys`` (``linear_heads``, ``linear_head_dim``,
        ``linear_key_heads``, ``linear_key_dim``, ``linear_conv_kernel``). Which layers keep
        attention: ``layer_types`` (every entry but ``"linear_attention"``), else the list
        of indices under ``attention_layers_key`` (Bamba's ``attn_layer_indices``; null:
        none).
    linear_channels_expand
        Mamba-1's expand key when the config gives no channel count: ``linear_heads`` is
        ``expand x d_model`` (Jamba's ``mamba_expand``).
    d_ff_adjust
        ``(switch key, multiplier key, multiple key)``: when the switch is true the MLP is
        ``int(2 d_ff / 3)`` wide, then with a multiplier ``int(multiplier x that)`` rounded
        up to the multiple (LFM2's ``block_auto_adjust_ff_dim``, Llama-1's rule).
    heads_per_layer
        A key listing each layer's head count (Laguna's ``num_attention_heads_per_layer``),
        read as ``n_heads`` when its first ``n_layers`` entries are one number; a head count
        that varies by layer is refused by name.
    gate_granularity
        A key choosing the attention output gate from its own projection: ``True`` or
        ``"per-head"`` one gate per head (``attention_head_gate``), ``False`` or
        ``"per-element"`` one per channel, counted as ``attention_output_gate`` (the same
        d_model x heads x head_dim weights, gate and product per channel).
    per_layer_config
        A key of per-layer overrides (Gemma 4's ``per_layer_config``: layer index to
        ``head_dim`` and ``num_key_value_heads``): one head_dim on the full-attention
        layers is ``global_head_dim``; any other override is refused by name.
    window_kv_factor, window_fields
        When the model has windowed layers: their key/value heads as this multiple of
        ``n_kv_heads`` (``window_kv_heads``; MiMo-V2-Flash 2), and these fields set.
    block_types
        A key listing each layer's one block (Nemotron-H's ``layers_block_type``):
        ``"linear_attention"`` (the linear mixer), ``"full_attention"``, ``"mlp"`` (a dense
        FFN) or ``"moe"`` (experts); it also gives the layer count.
    linear_layer_type
        The ``layer_types`` entry of the linear mixer's layers (LFM's ``"conv"``).
    attention_period
        ``(period key, offset key)``: layer ``i`` keeps attention when ``i % period ==
        offset`` (Jamba's ``attn_layer_period``, ``attn_layer_offset``); ``moe`` may name
        ``moe_period`` the same way for its MoE layers, every other layer dense.
    mlp
        False for layers of one mixer each and no MLP (Mamba-2's blocks): ``ffn`` is
        ``"none"``, and the activation key is the mixer's.
    activation_names
        The family's own meaning of an activation name, as the name in transformers'
        ``ACT2FN`` (OpenAI GPT's ``"gelu"`` is ``gelu_new``): what the activation saves for
        the backward pass follows it.
    linear_expand
        Mamba-2's ``expand`` key: its inner width ``expand x d_model`` must equal
        ``linear_heads x linear_head_dim`` (the heads transformers builds), or the config
        is refused.
    """

    keys: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    flags: Mapping[str, tuple[str, bool]] = field(default_factory=dict)
    activation: tuple[tuple[str, ...], str] = (("hidden_act",), "silu")
    gated: bool = True
    moe: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    neutral: frozenset[str] = frozenset()
    requires: Mapping[str, Any] = field(default_factory=dict)
    multi_query: str | None = None
    d_ff_multiple: str | None = None
    switches: Mapping[str, tuple[str, Any, Any, bool]] = field(default_factory=dict)
    fixed_moe: Mapping[str, Any] = field(default_factory=dict)
    uniform_window: bool = False
    window_pattern: tuple[str | None, int] | None = None
    position_offset: int = 0
    equal_to: Mapping[str, str] = field(default_factory=dict)
    nested: tuple[str, ...] = ()
    linear_mixer: str | None = None
    attention_layers_key: str | None = None
    linear_expand: str | None = None
    activation_names: Mapping[str, str] = field(default_factory=dict)
    mlp: bool = True
    linear_channels_expand: str | None = None
    attention_period: tuple[str, str] | None = None
    linear_layer_type: str = "linear_attention"
    d_ff_adjust: tuple[str, str, str] | None = None
    block_types: str | None = None
    heads_per_layer: str | None = None
    gate_granularity: str | None = None
    per_layer_config: str | None = None
    window_kv_factor: int = 0
    window_fields: Mapping[str, Any] = field(default_factory=dict)


_ROTARY_RMS = {"position": "rotary", "norm": "rmsnorm"}
_ROTARY_LN = {"position": "rotary", "norm": "layernorm"}
_NO_BIAS = {"qkv_bias": False, "out_bias": False, "mlp_bias": False}
_LLAMA_FLAGS = {"qkv_bias": ("attention_bias", False), "out_bias": ("attention_bias", False),
                "mlp_bias": ("mlp_bias", False)}
_GEMMA_ACT = (("hidden_activation", "hidden_act"), "gelu_pytorch_tanh")
_GPT2_NAMES: dict[str, str | tuple[str, ...]] = {"d_model": "n_embd", "n_layers": "n_layer", "n_heads": "n_head",
               "n_kv_heads": (), "head_dim": (), "d_ff": "n_inner",
               "max_position_embeddings": "n_positions"}
_GPT2_HEAD = frozenset({"summary_type", "summary_use_proj", "summary_activation",
                        "summary_proj_to_labels", "summary_first_dropout",
                        "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"})
_QWEN_MOE = {"n_experts": "num_experts", "top_k": "num_experts_per_tok",
             "d_ff_expert": "moe_intermediate_size",
             "d_ff_shared": "shared_expert_intermediate_size",
             "moe_every": "decoder_sparse_step", "dense_layers": "mlp_only_layers",
             "shared": "gated_width"}
_DEEPSEEK_MOE = {"n_experts": "n_routed_experts", "top_k": "num_experts_per_tok",
                 "d_ff_expert": "moe_intermediate_size", "n_shared_experts": "n_shared_experts",
                 "first_dense_layers": "first_k_dense_replace",
                 "dense_layers": "mlp_layer_types", "shared": "count"}
#: Group-limited routing picks experts differently, not how many a token reaches.
_GROUP_ROUTING = frozenset({"n_group", "topk_group", "num_nextn_predict_layers"})

_ATTN_BIAS = _LLAMA_FLAGS
#: Experts as wide as intermediate_size (OLMoE, MiniMax-M2), every layer MoE.
_FULL_WIDTH_MOE = {"n_experts": "num_experts", "top_k": "num_experts_per_tok",
                   "d_ff_expert": "intermediate_size"}
#: Multi-head latent attention; head_dim is derived from the query-key dims.
_MLA_KEYS: dict[str, str | tuple[str, ...]] = {
    "head_dim": (), "kv_lora_rank": "kv_lora_rank", "q_lora_rank": "q_lora_rank",
    "qk_nope_head_dim": "qk_nope_head_dim", "qk_rope_head_dim": "qk_rope_head_dim",
    "v_head_dim": "v_head_dim"}
_DEEPSEEK_ROUTING = frozenset({"topk_method", "scoring_func", "aux_loss_alpha",
                               "seq_aux", "ep_size"})
#: MLA configs also hold head_dim (the rotary width) and qk_head_dim (nope + rope).
_MLA_DERIVED = frozenset({"head_dim", "qk_head_dim"})
_INDEXER = "a sparse-attention indexer (DeepSeek Sparse Attention)"
_QK_NORM = "QK-norm (a norm on the queries and keys)"
_SANDWICH = "extra post-attention/post-MLP norms (sandwich or post-norm blocks)"
_LINEAR_ATTN = "linear-attention layers (gated DeltaNet / lightning attention)"
_SSM = "state-space (Mamba) layers"
_KDA = "Kimi delta attention (a per-channel decay, low-rank gate projections)"
_MODERNBERT = ("no attention norm in the first layer and a dense + norm prediction head "
               "before the LM head")
_CROSS_ATTN = "cross-attention layers"

#: Gated DeltaNet's sizes in Qwen3-Next's naming.
_DELTANET_KEYS: dict[str, str | tuple[str, ...]] = {
    "linear_heads": "linear_num_value_heads", "linear_head_dim": "linear_value_head_dim",
    "linear_key_heads": "linear_num_key_heads", "linear_key_dim": "linear_key_head_dim",
    "linear_conv_kernel": "linear_conv_kernel_dim", "attention_every": "full_attention_interval"}
_QWEN3_NEXT: dict[str, Any] = dict(
    keys=_DELTANET_KEYS, linear_mixer="gated_deltanet",
    fixed={**_ROTARY_RMS, "qk_norm": "head", "attention_output_gate": True, "mlp_bias": False},
    flags=_ATTN_BIAS)
#: Mamba-2's sizes in Bamba's naming (x and z heads of mamba_d_head, groups of B and C of
#: the state size).
_MAMBA2_KEYS: dict[str, str | tuple[str, ...]] = {
    "linear_heads": "mamba_n_heads", "linear_head_dim": "mamba_d_head",
    "linear_key_heads": "mamba_n_groups", "linear_key_dim": "mamba_d_state",
    "linear_conv_kernel": "mamba_d_conv"}
_MAMBA2_FLAGS = {"linear_conv_bias": ("mamba_conv_bias", True)}
#: The scan's chunk length and dt clamp, kernels and loss settings: no count changes.
_MAMBA2_NEUTRAL = frozenset({"mamba_chunk_size", "time_step_limit", "z_loss_coefficient",
                             "num_logits_to_keep", "use_mamba_kernels"})

#: The families read or refused by name. An unknown ``model_type`` is read with Llama's
#: naming when every key of its config is understood (see :mod:`scalingperf.hf_config`).
FAMILIES: Mapping[str, Family] = MappingProxyType({
    # ---- GPT-2 lineage: learned positions, LayerNorm, biases everywhere
    "gpt2": Family(keys=_GPT2_NAMES,
                   fixed={"position": "learned", "norm": "layernorm", "qkv_bias": True,
                          "out_bias": True, "mlp_bias": True},
                   flags={"tie_embeddings": ("tie_word_embeddings", True)},
                   activation=(("activation_function",), "gelu_new"), gated=False,
                   neutral=_GPT2_HEAD),
    "gpt_bigcode": Family(keys=_GPT2_NAMES,
                          fixed={"position": "learned", "norm": "layernorm", "qkv_bias": True,
                                 "out_bias": True, "mlp_bias": True},
                          flags={"tie_embeddings": ("tie_word_embeddings", True)},
                          activation=(("activation_function",), "gelu_pytorch_tanh"),
                          gated=False, multi_query="multi_query",
                          neutral=frozenset({"attention_softmax_in_fp32",
                                             "scale_attention_softmax_in_fp32",
                                             "num_key_value_heads"})),
    "gpt_neo": Family(keys={"n_layers": "num_layers", "n_heads": "num_heads",
                            "n_kv_heads": (), "head_dim": ()},
                      fixed={"position": "learned", "norm": "layernorm", "qkv_bias": False,
                             "out_bias": True, "mlp_bias": True},
                      flags={"tie_embeddings": ("tie_word_embeddings", True)},
                      activation=(("activation_function",), "gelu_new"), gated=False,
                      # Local layers mask a window of the full score matrix.
                      neutral=frozenset({"attention_types", "attention_layers",
                                         "window_size", "resid_dropout", "embed_dropout",
                                         "classifier_dropout"})),
    "gpt_neox": Family(keys={"n_kv_heads": (), "head_dim": ()},
                       fixed={**_ROTARY_LN, "mlp_bias": True},
                       flags={"qkv_bias": ("attention_bias", True),
                              "out_bias": ("attention_bias", True)},
                       activation=(("hidden_act",), "gelu"), gated=False,
                       # The parallel residual keeps both norms: same counts as sequential.
                       neutral=frozenset({"use_parallel_residual", "classifier_dropout",
                                          "rotary_emb_base"})),
    # GPT-NeoX Japanese: no biases but the last layer's attention output (dense_bias, added
    # before its residual); an MLP intermediate_multiple_size x hidden_size wide.
    "gpt_neox_japanese": Family(keys={"n_kv_heads": (), "head_dim": (), "d_ff": ()},
                                fixed={**_ROTARY_LN, **_NO_BIAS, "last_out_bias": True},
                                flags={"tie_embeddings": ("tie_word_embeddings", True)},
                                activation=(("hidden_act",), "gelu"), gated=False,
                                d_ff_multiple="intermediate_multiple_size"),
    "xglm": Family(keys={"d_model": "d_model", "n_layers": "num_layers",
                         "n_heads": "attention_heads", "n_kv_heads": (), "head_dim": (),
                         "d_ff": "ffn_dim"},
                   # Sinusoidal positions: a buffer, no parameters.
                   fixed={"position": "none", "norm": "layernorm", "qkv_bias": True,
                          "out_bias": True, "mlp_bias": True},
                   flags={"tie_embeddings": ("tie_word_embeddings", True)},
                   activation=(("activation_function",), "gelu"), gated=False,
                   neutral=frozenset({"scale_embedding", "layerdrop", "activation_dropout"})),
    # BioGPT: pre-LayerNorm blocks, biases everywhere, positions shifted by 2 rows; the
    # embedding scale is elementwise.
    "biogpt": Family(keys={"n_kv_heads": (), "head_dim": ()}, position_offset=2,
                     fixed={"position": "learned", "norm": "layernorm", "qkv_bias": True,
                            "out_bias": True, "mlp_bias": True},
                     flags={"tie_embeddings": ("tie_word_embeddings", True)},
                     activation=(("hidden_act",), "gelu"), gated=False,
                     neutral=frozenset({"scale_embedding", "layerdrop",
                                        "activation_dropout"})),
    # OPT: pre-LayerNorm blocks (do_layer_norm_before), positions shifted by 2 rows, ReLU.
    "opt": Family(keys={"n_kv_heads": (), "head_dim": (), "d_ff": "ffn_dim"},
                  position_offset=2,
                  fixed={"position": "learned", "norm": "layernorm"},
                  flags={"qkv_bias": ("enable_bias", True), "out_bias": ("enable_bias", True),
                         "mlp_bias": ("enable_bias", True),
                         "tie_embeddings": ("tie_word_embeddings", True)},
                  activation=(("activation_function",), "relu"), gated=False,
                  requires={"do_layer_norm_before": True, "_remove_final_layer_norm": False,
                            "layer_norm_elementwise_affine": True},
                  equal_to={"word_embed_proj_dim": "d_model"},
                  neutral=frozenset({"layerdrop"})),
    # Nemotron: LayerNorm1P (a LayerNorm whose weight is stored minus one: same
    # parameters), an ungated squared-ReLU MLP, partial rotary (elementwise).
    "nemotron": Family(fixed=_ROTARY_LN, flags=_LLAMA_FLAGS,
                       activation=(("hidden_act",), "relu2"), gated=False),
    # DBRX: sizes in nested attn_config/ffn_config; fused Wqkv, LayerNorm without bias,
    # GLU experts (ffn_act_fn) of ffn_hidden_size, router without bias, no tying.
    "dbrx": Family(keys={"d_model": "d_model", "n_layers": "n_layers", "n_heads": "n_heads",
                         "n_kv_heads": "kv_n_heads", "head_dim": (), "d_ff": (),
                         "max_position_embeddings": "max_seq_len"},
                   nested=("attn_config", "ffn_config"),
                   fixed={"position": "rotary", "norm": "layernorm_nobias", **_NO_BIAS},
                   flags={"tie_embeddings": ("tie_word_embeddings", False)},
                   activation=(("ffn_act_fn",), "silu"),
                   moe={"n_experts": "moe_num_experts", "top_k": "moe_top_k",
                        "d_ff_expert": "ffn_hidden_size"},
                   equal_to={"hidden_size": "d_model", "num_key_value_heads": "n_kv_heads"},
                   neutral=frozenset({"attn_pdrop", "emb_pdrop", "moe_jitter_eps", "moe_loss_weight",
                                      "moe_normalize_expert_weights", "ffn_config",
                                      "attn_config"})),
    "starcoder2": Family(uniform_window=True, fixed=_ROTARY_LN,
                         flags={"qkv_bias": ("use_bias", True), "out_bias": ("use_bias", True),
                                "mlp_bias": ("use_bias", True),
                                "tie_embeddings": ("tie_word_embeddings", True)},
                         activation=(("hidden_act",), "gelu_pytorch_tanh"), gated=False),
    "stablelm": Family(fixed={**_ROTARY_LN, "out_bias": False, "mlp_bias": False},
                       flags={"qkv_bias": ("use_qkv_bias", False)},
                       requires={"qk_layernorm": False, "use_parallel_residual": False}),
    "jais2": Family(fixed=_ROTARY_LN, flags=_LLAMA_FLAGS, activation=(("hidden_act",), "relu2"),
                    gated=False),
    # ---- Llama lineage: rotary positions, RMSNorm, gated MLP
    "llama": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS),
    "mistral": Family(uniform_window=True, fixed={**_ROTARY_RMS, **_NO_BIAS}),
    "ministral": Family(fixed={**_ROTARY_RMS, **_NO_BIAS}),
    "ministral3": Family(fixed={**_ROTARY_RMS, **_NO_BIAS}),
    "qwen2": Family(uniform_window=True, fixed={**_ROTARY_RMS, "qkv_bias": True, "out_bias": False,
                           "mlp_bias": False}),
    "cwm": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS),
    "emu3_text_model": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS),
    "exaone": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS),
    "internlm3": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS),
    "iquestcoder": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS),
    "helium": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS),
    "granite": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS),
    "smollm3": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS,
                      # Layers without RoPE differ only in an elementwise rotation.
                      neutral=frozenset({"no_rope_layers", "no_rope_layer_interval"})),
    "seed_oss": Family(fixed=_ROTARY_RMS,
                       flags={"qkv_bias": ("attention_bias", True),
                              "out_bias": ("attention_out_bias", False),
                              "mlp_bias": ("mlp_bias", False)}),
    "glm": Family(fixed={**_ROTARY_RMS, "out_bias": False, "mlp_bias": False},
                  flags={"qkv_bias": ("attention_bias", True)}),
    "ernie4_5": Family(fixed=_ROTARY_RMS,
                       flags={"qkv_bias": ("use_bias", False), "out_bias": ("use_bias", False),
                              "mlp_bias": ("use_bias", False),
                              "tie_embeddings": ("tie_word_embeddings", True)}),
    # Ernie 4.5 MoE: its router adds a score-correction bias (one per expert) before the
    # top-k; the shared experts are one MLP of moe_num_shared_experts x the expert width.
    "ernie4_5_moe": Family(fixed={**_ROTARY_RMS, "router_bias": True},
                           flags={"qkv_bias": ("use_bias", False),
                                  "out_bias": ("use_bias", False),
                                  "mlp_bias": ("use_bias", False),
                                  "lm_head_bias": ("use_bias", False),
                                  "tie_embeddings": ("tie_word_embeddings", True)},
                           moe={"n_experts": "moe_num_experts", "top_k": "moe_k",
                                "d_ff_expert": "moe_intermediate_size",
                                "n_shared_experts": "moe_num_shared_experts",
                                "moe_range": ("moe_layer_start_index", "moe_layer_end_index",
                                              "moe_layer_interval"),
                                "shared": "count"},
                           neutral=frozenset({"moe_norm_min"})),
    # Fused qkv and gate_up projections: the same matrices, stacked.
    "phi3": Family(uniform_window=True, fixed={**_ROTARY_RMS, **_NO_BIAS},
                   neutral=frozenset({"original_max_position_embeddings"})),
    "arcee": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS,
                    activation=(("hidden_act",), "relu2"), gated=False),
    "gemma": Family(fixed={**_ROTARY_RMS, "mlp_bias": False},
                    flags={"qkv_bias": ("attention_bias", False),
                           "out_bias": ("attention_bias", False),
                           "tie_embeddings": ("tie_word_embeddings", True)},
                    activation=_GEMMA_ACT, neutral=frozenset({"use_bidirectional_attention"})),
    "vaultgemma": Family(fixed={**_ROTARY_RMS, "mlp_bias": False},
                         flags={"qkv_bias": ("attention_bias", False),
                                "out_bias": ("attention_bias", False),
                                "tie_embeddings": ("tie_word_embeddings", True)},
                         activation=_GEMMA_ACT),
    # ---- mixture of experts
    "mixtral": Family(uniform_window=True, fixed={**_ROTARY_RMS, **_NO_BIAS},
                      moe={"n_experts": "num_local_experts", "top_k": "num_experts_per_tok",
                           "d_ff_expert": "intermediate_size"}),
    "qwen2_moe": Family(uniform_window=True, fixed={**_ROTARY_RMS, "out_bias": False, "mlp_bias": False},
                        flags={"qkv_bias": ("qkv_bias", True)}, moe=_QWEN_MOE),
    "granitemoe": Family(fixed={**_ROTARY_RMS, "mlp_bias": False}, flags={
                             "qkv_bias": ("attention_bias", False),
                             "out_bias": ("attention_bias", False)},
                         moe={"n_experts": "num_local_experts", "top_k": "num_experts_per_tok",
                              "d_ff_expert": "intermediate_size"}),
    "granitemoeshared": Family(fixed={**_ROTARY_RMS, "mlp_bias": False}, flags={
                                   "qkv_bias": ("attention_bias", False),
                                   "out_bias": ("attention_bias", False)},
                               moe={"n_experts": "num_local_experts",
                                    "top_k": "num_experts_per_tok",
                                    "d_ff_expert": "intermediate_size"},
                               requires={"shared_intermediate_size": 0}),
    "phimoe": Family(uniform_window=True, fixed={"position": "rotary", "norm": "layernorm", "mlp_bias": False},
                     flags={"qkv_bias": ("attention_bias", False),
                            "out_bias": ("attention_bias", False)},
                     moe={"n_experts": "num_local_experts", "top_k": "num_experts_per_tok",
                          "d_ff_expert": "intermediate_size"},
                     requires={"lm_head_bias": False},
                     neutral=frozenset({"input_jitter_noise"})),
    "solar_open": Family(fixed={**_ROTARY_RMS, "mlp_bias": False},
                         flags={"qkv_bias": ("attention_bias", False),
                                "out_bias": ("attention_bias", False)},
                         moe=_DEEPSEEK_MOE, neutral=_GROUP_ROUTING),
    "glm4_moe": Family(fixed={**_ROTARY_RMS, "out_bias": False, "mlp_bias": False},
                       flags={"qkv_bias": ("attention_bias", False)},
                       moe=_DEEPSEEK_MOE, neutral=_GROUP_ROUTING,
                       requires={"use_qk_norm": False}),
    "aria_text": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS,
                        moe={"n_experts": "moe_num_experts", "top_k": "moe_topk",
                             "d_ff_expert": "intermediate_size",
                             "n_shared_experts": "moe_num_shared_experts", "shared": "count"}),
    # ---- per-layer features: QK-norm, sandwich/post norms, parallel blocks, sinks, ...
    "qwen3": Family(uniform_window=True, fixed={**_ROTARY_RMS, "qk_norm": "head", "mlp_bias": False},
                    flags=_ATTN_BIAS),
    "qwen3_moe": Family(uniform_window=True, fixed={**_ROTARY_RMS, "qk_norm": "head", "mlp_bias": False},
                        flags=_ATTN_BIAS, moe={**_QWEN_MOE, "n_experts": (
                            "num_experts", "num_local_experts"), "shared": "width"}),
    "mellum": Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "mlp_bias": False},
                     flags=_ATTN_BIAS,
                     moe={"n_experts": "num_local_experts", "top_k": "num_experts_per_tok",
                          "d_ff_expert": "moe_intermediate_size",
                          "dense_layers": "mlp_layer_types"},
                     neutral=frozenset({"mtp_layer_types", "mtp_mlp_layer_types",
                                        "num_nextn_predict_layers"})),
    "hunyuan_v1_dense": Family(fixed={**_ROTARY_RMS, "qk_norm": "head"}, flags=_LLAMA_FLAGS),
    "dots1": Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "mlp_bias": False},
                    flags=_ATTN_BIAS, moe=_DEEPSEEK_MOE, neutral=_GROUP_ROUTING),
    "olmoe": Family(fixed={**_ROTARY_RMS, "qk_norm": "full", "mlp_bias": False},
                    flags=_ATTN_BIAS, moe=_FULL_WIDTH_MOE),
    "minimax_m2": Family(fixed={**_ROTARY_RMS, "qk_norm": "full", "mlp_bias": False},
                         flags=_ATTN_BIAS,
                         moe={**_FULL_WIDTH_MOE, "n_experts": "num_local_experts"}),
    "flex_olmo": Family(fixed={**_ROTARY_RMS, "qk_norm": "full", "norm_placement": "post",
                               "mlp_bias": False}, flags=_ATTN_BIAS, moe=_FULL_WIDTH_MOE),
    "olmo2": Family(fixed={**_ROTARY_RMS, "qk_norm": "full", "norm_placement": "post"},
                    flags=_LLAMA_FLAGS),
    "olmo3": Family(fixed={**_ROTARY_RMS, "qk_norm": "full", "norm_placement": "post"},
                    flags=_LLAMA_FLAGS),
    "exaone4": Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "norm_placement": "post"},
                      flags=_LLAMA_FLAGS, neutral=frozenset({"sliding_window_pattern"})),
    "exaone_moe": Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "mlp_bias": False},
                         flags=_ATTN_BIAS,
                         moe={**_DEEPSEEK_MOE, "n_experts": "num_experts",
                              "n_shared_experts": "num_shared_experts",
                              "dense_layers": "mlp_layer_types"},
                         neutral=_GROUP_ROUTING | {"sliding_window_pattern"}),
    "hy_v3": Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "mlp_bias": False},
                    flags=_ATTN_BIAS,
                    moe={"n_experts": "num_experts", "top_k": "num_experts_per_tok",
                         "d_ff_expert": "moe_intermediate_size",
                         "n_shared_experts": "num_shared_experts",
                         "dense_layers": "mlp_layer_types", "shared": "count"},
                    neutral=frozenset({"router_scaling_factor", "enable_moe_fp32_combine"})),
    "sarvam_moe": Family(fixed={**_ROTARY_RMS, "mlp_bias": False}, flags=_ATTN_BIAS,
                         switches={"qk_norm": ("use_qk_norm", "head", "none", False)},
                         moe=_DEEPSEEK_MOE, neutral=_GROUP_ROUTING),
    "kolibri1": Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "norm_placement": "sandwich",
                              "mlp_bias": False}, flags=_ATTN_BIAS,
                       moe={"n_experts": "num_local_experts", "top_k": "num_experts_per_tok",
                            "d_ff_expert": "moe_intermediate_size",
                            "d_ff_shared": "shared_expert_intermediate_size",
                            "shared": "width"}),
    "persimmon": Family(keys={"n_kv_heads": ()}, fixed={**_ROTARY_LN, "qkv_bias": True,
                                                        "out_bias": True, "mlp_bias": True},
                        switches={"qk_norm": ("qk_layernorm", "head", "none", True)},
                        activation=(("hidden_act",), "relu2"), gated=False),
    "gemma2": Family(window_pattern=(None, 2), fixed={**_ROTARY_RMS, "norm_placement": "sandwich", "mlp_bias": False},
                     flags={**_ATTN_BIAS, "tie_embeddings": ("tie_word_embeddings", True)},
                     activation=_GEMMA_ACT, neutral=frozenset({"use_bidirectional_attention"})),
    "gemma3_text": Family(window_pattern=("sliding_window_pattern", 6), fixed={**_ROTARY_RMS, "norm_placement": "sandwich", "qk_norm": "head",
                                 "mlp_bias": False},
                          flags={**_ATTN_BIAS, "tie_embeddings": ("tie_word_embeddings", True)},
                          activation=_GEMMA_ACT,
                          neutral=frozenset({"use_bidirectional_attention",
                                             "_sliding_window_pattern", "rope_local_base_freq",
                                             "sliding_window_pattern"})),
    # Gemma 4 (unified): Gemma 3's layout, the full-attention layers' heads of their own
    # width (per_layer_config; global_head_dim), a weightless norm on the values
    # (elementwise) and a layer_scalar buffer. Shared KV layers and keys equal to values
    # are refused (requires).
    "gemma4_unified_text": Family(fixed={**_ROTARY_RMS, "norm_placement": "sandwich",
                                         "qk_norm": "head", "mlp_bias": False},
                                  flags={**_ATTN_BIAS,
                                         "tie_embeddings": ("tie_word_embeddings", True)},
                                  activation=_GEMMA_ACT, per_layer_config="per_layer_config",
                                  requires={"attention_k_eq_v": False, "num_kv_shared_layers": 0,
                                            "use_bidirectional_attention": "vision"},
                                  neutral=frozenset({"use_double_wide_mlp"})),
    # MiMo-V2-Flash: sliding layers with twice the KV heads and a sink per head, no output
    # bias, experts (no shared one) from mlp_layer_types with a sigmoid router whose
    # score-correction bias is a buffer; values scaled by attention_value_scale
    # (elementwise). A value head dim other than head_dim is refused (equal_to).
    "mimo_v2_flash": Family(fixed={**_ROTARY_RMS, "out_bias": False, "mlp_bias": False},
                            flags={"qkv_bias": ("attention_bias", False)},
                            window_kv_factor=2, window_fields={"window_sinks": True},
                            equal_to={"v_head_dim": "head_dim"},
                            moe={"n_experts": "n_routed_experts", "top_k": "num_experts_per_tok",
                                 "d_ff_expert": "moe_intermediate_size",
                                 "dense_layers": "mlp_layer_types"},
                            neutral=_GROUP_ROUTING | {"attention_value_scale"}),
    "glm4": Family(fixed={**_ROTARY_RMS, "norm_placement": "sandwich", "out_bias": False,
                          "mlp_bias": False}, flags={"qkv_bias": ("attention_bias", True)}),
    "hyperclovax": Family(fixed=_ROTARY_RMS, flags=_LLAMA_FLAGS,
                          switches={"norm_placement": ("use_post_norm", "sandwich", "pre",
                                                       True)}),
    "olmo": Family(fixed={"position": "rotary", "norm": "weightless"}, flags=_LLAMA_FLAGS),
    # nanochat: weightless RMSNorm on the residual stream and on queries and keys.
    "nanochat": Family(fixed={"position": "rotary", "norm": "weightless", "qk_norm": "head",
                              "mlp_bias": False}, flags=_ATTN_BIAS,
                       activation=(("hidden_act",), "relu2"), gated=False),
    "cohere": Family(fixed={"position": "rotary", "norm": "layernorm_nobias",
                            "parallel_block": True, "mlp_bias": False},
                     flags={**_ATTN_BIAS, "tie_embeddings": ("tie_word_embeddings", True)},
                     switches={"qk_norm": ("use_qk_norm", "full", "none", False)},
                     neutral=frozenset({"logit_scale"})),
    "cohere2": Family(window_pattern=("sliding_window_pattern", 4), fixed={"position": "rotary", "norm": "layernorm_nobias",
                             "parallel_block": True, "mlp_bias": False},
                      flags={**_ATTN_BIAS, "tie_embeddings": ("tie_word_embeddings", True)},
                      neutral=frozenset({"logit_scale", "sliding_window_pattern"})),
    "falcon": Family(keys={"n_kv_heads": (), "head_dim": (), "d_ff": "ffn_hidden_size"},
                     fixed={**_ROTARY_LN, "parallel_block": True},
                     flags={"qkv_bias": ("bias", False), "out_bias": ("bias", False),
                            "mlp_bias": ("bias", False),
                            "tie_embeddings": ("tie_word_embeddings", True)},
                     activation=(("activation",), "gelu"), gated=False,
                     multi_query="multi_query",
                     requires={"new_decoder_architecture": False, "alibi": False,
                               "parallel_attn": True},
                     neutral=frozenset({"num_ln_in_parallel_attn", "num_kv_heads"})),
    "gptj": Family(keys={**_GPT2_NAMES, "max_position_embeddings": "n_positions"},
                   fixed={"position": "rotary", "norm": "layernorm", "parallel_block": True,
                          "qkv_bias": False, "out_bias": False, "mlp_bias": True,
                          "lm_head_bias": True},
                   activation=(("activation_function",), "gelu_new"), gated=False,
                   neutral=frozenset({"rotary_dim"})),
    "codegen": Family(keys={**_GPT2_NAMES, "max_position_embeddings": "n_positions"},
                      fixed={"position": "rotary", "norm": "layernorm", "parallel_block": True,
                             "qkv_bias": False, "out_bias": False, "mlp_bias": True,
                             "lm_head_bias": True},
                      activation=(("activation_function",), "gelu_new"), gated=False,
                      neutral=frozenset({"rotary_dim", "n_ctx"})),
    "phi": Family(keys={"head_dim": ()},
                  fixed={**_ROTARY_LN, "parallel_block": True, "qkv_bias": True,
                         "out_bias": True, "mlp_bias": True, "lm_head_bias": True},
                  activation=(("hidden_act",), "gelu_new"), gated=False,
                  switches={"qk_norm": ("qk_layernorm", "head", "none", False)}),
    "bloom": Family(keys={"n_layers": "n_layer", "n_heads": "n_head", "n_kv_heads": (),
                          "head_dim": (), "d_ff": (), "max_position_embeddings": ()},
                    # ALiBi: no position parameters; no table, so no context limit read.
                    fixed={"position": "none", "norm": "layernorm", "embedding_norm": True,
                           "qkv_bias": True, "out_bias": True, "mlp_bias": True,
                           "max_position_embeddings": 2**24},
                    flags={"tie_embeddings": ("tie_word_embeddings", True)},
                    activation=((), "gelu"), gated=False,
                    requires={"apply_residual_connection_post_layernorm": False},
                    neutral=frozenset({"slow_but_exact", "pretraining_tp"})),
    "gpt_oss": Family(fixed={**_ROTARY_RMS, "attention_sinks": True, "router_bias": True,
                             "mlp_bias": True},
                      flags={"qkv_bias": ("attention_bias", True),
                             "out_bias": ("attention_bias", True)},
                      moe={"n_experts": "num_local_experts", "top_k": "num_experts_per_tok",
                           "d_ff_expert": "intermediate_size"},
                      # Clamp and scale of its SwiGLU: elementwise.
                      neutral=frozenset({"swiglu_alpha", "swiglu_limit"})),
    "granite_swa": Family(fixed={**_ROTARY_RMS, "attention_sinks": True}, flags={
                              **_LLAMA_FLAGS, "tie_embeddings": ("tie_word_embeddings", True)},
                          neutral=frozenset({"layer_rope_theta"})),
    "granitemoe_swa": Family(fixed={**_ROTARY_RMS, "attention_sinks": True, "mlp_bias": False},
                             flags=_ATTN_BIAS,
                             moe={"n_experts": "num_local_experts",
                                  "top_k": "num_experts_per_tok",
                                  "d_ff_expert": "intermediate_size"},
                             requires={"shared_intermediate_size": 0},
                             neutral=frozenset({"layer_rope_theta"})),
    "flint": Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "attention_sinks": True,
                           "mlp_bias": False}, flags=_ATTN_BIAS,
                    moe={**_QWEN_MOE, "shared": "width"}),
    "afmoe": Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "norm_placement": "sandwich",
                           "attention_output_gate": True, "router_bias": True,
                           "mlp_bias": False}, flags=_ATTN_BIAS,
                    moe={"n_experts": "num_experts", "top_k": "num_experts_per_tok",
                         "d_ff_expert": "moe_intermediate_size",
                         "n_shared_experts": "num_shared_experts",
                         "first_dense_layers": "num_dense_layers", "shared": "count"},
                    neutral=frozenset({"route_scale", "global_attn_every_n_layers",
                                       "mup_enabled", "route_norm", "score_func"})),
    # Llama 4: dense layers of intermediate_size_mlp, MoE layers (moe_layers) of one routed
    # and one shared expert of intermediate_size; chunked attention from layer_types. Its
    # QK-norm is an L2 norm without a weight: no parameter, no matmul (qk_norm "none").
    "llama4_text": Family(keys={"d_ff": "intermediate_size_mlp"},
                          fixed={**_ROTARY_RMS, "mlp_bias": False}, flags=_ATTN_BIAS,
                          moe={"n_experts": "num_local_experts", "top_k": "num_experts_per_tok",
                               "d_ff_expert": "intermediate_size", "moe_layers": "moe_layers",
                               "shared": "count"},
                          fixed_moe={"n_shared_experts": 1},
                          neutral=frozenset({"interleave_moe_layer_step", "use_qk_norm",
                                             "no_rope_layers", "no_rope_layer_interval",
                                             "attn_temperature_tuning", "floor_scale",
                                             "attn_scale"})),
    "hunyuan_v1_moe": Family(fixed={**_ROTARY_RMS, "qk_norm": "head"}, flags=_ATTN_BIAS,
                             moe={"n_experts": "num_experts", "top_k": "moe_topk",
                                  "d_ff_expert": "intermediate_size",
                                  "d_ff_shared": "intermediate_size", "shared": "width"}),
    "cohere2_moe": Family(fixed={"position": "rotary", "norm": "layernorm_nobias",
                                 "parallel_block": True},
                          flags={**_ATTN_BIAS, "tie_embeddings": ("tie_word_embeddings", True)},
                          moe={"n_experts": "num_experts", "top_k": "num_experts_per_tok",
                               "d_ff_expert": "intermediate_size",
                               "n_shared_experts": "num_shared_experts",
                               "dense_layers": "mlp_layer_types", "shared": "count"},
                          requires={"prefix_dense_intermediate_size": None},
                          neutral=frozenset({"logit_scale", "sliding_window_pattern",
                                             "shared_expert_combination_strategy",
                                             "expert_selection_fn",
                                             "prefix_dense_sliding_window_pattern"})),
    # Sinusoidal positions (no parameters); the LM head shares the embedding, with a bias.
    "ctrl": Family(keys={**_GPT2_NAMES, "d_ff": "dff"},
                   fixed={"position": "none", "norm": "layernorm", "qkv_bias": True,
                          "out_bias": True, "mlp_bias": True, "lm_head_bias": True},
                   flags={"tie_embeddings": ("tie_word_embeddings", True)},
                   activation=((), "relu"), gated=False),
    # ---- multi-head latent attention
    **{name: Family(keys=_MLA_KEYS, fixed={**_ROTARY_RMS, "mlp_bias": False}, flags=_ATTN_BIAS,
                    moe=_DEEPSEEK_MOE, requires={"moe_layer_freq": 1},
                    neutral=_GROUP_ROUTING | _DEEPSEEK_ROUTING | _MLA_DERIVED)
       for name in ("deepseek_v3", "glm4_moe_lite", "sarvam_mla")},
    # A.X-K1: DeepSeek-V3's layers with a norm on each MoE block's output.
    "axk1": Family(keys=_MLA_KEYS, fixed={**_ROTARY_RMS, "mlp_bias": False, "moe_post_norm": True},
                   flags=_ATTN_BIAS, moe=_DEEPSEEK_MOE,
                   neutral=_GROUP_ROUTING | _DEEPSEEK_ROUTING | _MLA_DERIVED),
    "deepseek_v2": Family(keys=_MLA_KEYS, fixed={**_ROTARY_RMS, "mlp_bias": False},
                          flags=_ATTN_BIAS, moe=_DEEPSEEK_MOE,
                          requires={"moe_layer_freq": 1},
                          neutral=_GROUP_ROUTING | _DEEPSEEK_ROUTING | _MLA_DERIVED),
    "minicpm3": Family(keys=_MLA_KEYS, fixed={**_ROTARY_RMS, "mlp_bias": False},
                       flags={**_ATTN_BIAS, "tie_embeddings": ("tie_word_embeddings", True)},
                       neutral=_MLA_DERIVED | {"scale_emb", "dim_model_base", "scale_depth"}),
    "youtu": Family(keys=_MLA_KEYS, fixed={**_ROTARY_RMS, "mlp_bias": False},
                    flags={**_ATTN_BIAS, "tie_embeddings": ("tie_word_embeddings", True)},
                    neutral=_MLA_DERIVED | {"embedding_initializer_range"}),
    # MPT: ALiBi (no position parameters, whatever alibi and learned_pos_emb say: the
    # modelling code always adds the ALiBi bias and has no position table), LayerNorm
    # without bias, no biases, a GELU MLP of 4 d_model (hard-coded: expansion_ratio must be
    # 4 and no_bias true, what the modelling code builds), attention sizes in attn_config.
    "mpt": Family(keys={"d_model": "d_model", "n_layers": "n_layers", "n_heads": "n_heads",
                        "n_kv_heads": (), "head_dim": (), "d_ff": (),
                        "max_position_embeddings": "max_seq_len"},
                  fixed={"position": "none", "norm": "layernorm_nobias", **_NO_BIAS},
                  flags={"tie_embeddings": ("tie_word_embeddings", True)},
                  activation=((), "gelu"), gated=False, nested=("attn_config",),
                  requires={"expansion_ratio": 4, "no_bias": True,
                            "attn_type": "multihead_attention", "prefix_lm": False,
                            "qk_ln": False},
                  neutral=frozenset({"attn_config", "learned_pos_emb", "alibi", "alibi_bias_max",
                                     "attn_impl", "softmax_scale", "attn_uses_sequence_id",
                                     "attn_pdrop", "emb_pdrop", "init_device", "logit_scale",
                                     "embedding_fraction", "norm_type"})),
    # ---- Post-LN: a norm after each residual add, none before the head
    "openai-gpt": Family(keys={**_GPT2_NAMES, "d_ff": ()},
                         fixed={"position": "learned", "norm": "layernorm",
                                "norm_placement": "post_residual", "qkv_bias": True,
                                "out_bias": True, "mlp_bias": True},
                         flags={"tie_embeddings": ("tie_word_embeddings", True)},
                         activation=(("afn",), "gelu"), gated=False, neutral=_GPT2_HEAD,
                         # modeling_openai.py's ACT_FNS: "gelu" is gelu_new, "swish" silu.
                         activation_names={"gelu": "gelu_new"}),
    # BERT's layers as a decoder: LayerNorm on the embeddings, Post-LN blocks, an LM head
    # tied to the embeddings with a bias of its own.
    "bert-generation": Family(keys={"n_kv_heads": (), "head_dim": ()},
                              fixed={"position": "learned", "norm": "layernorm",
                                     "norm_placement": "post_residual", "embedding_norm": True,
                                     "qkv_bias": True, "out_bias": True, "mlp_bias": True,
                                     "lm_head_bias": True},
                              flags={"tie_embeddings": ("tie_word_embeddings", True)},
                              activation=(("hidden_act",), "gelu"), gated=False,
                              requires={"position_embedding_type": "absolute"}),
    # ---- xIELU MLPs (two learned scalars each), QK-norm per head
    **{name: Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "mlp_bias": False},
                    flags=_ATTN_BIAS, activation=(("hidden_act",), "xielu"), gated=False,
                    requires={"output_vocab_size": None})
       for name in ("apertus", "apertus1p5_text")},
    # Beam: sandwich norms, QK-norm per head, a sigmoid output gate from its own projection
    # (the width Qwen3-Next's doubled query gives) with a learned bias per head, experts
    # without a shared one; the depth-scaled residual adds are elementwise.
    "beam": Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "norm_placement": "sandwich",
                          "attention_output_gate": True, "attention_gate_bias": True,
                          "mlp_bias": False}, flags=_ATTN_BIAS,
                   moe={"n_experts": "num_experts", "top_k": "num_experts_per_tok",
                        "d_ff_expert": "moe_intermediate_size",
                        "dense_layers": "mlp_layer_types"},
                   neutral=_GROUP_ROUTING),
    # BitNet b1.58: Llama's layout with a norm on the attention output before o_proj and
    # on the MLP hidden before down_proj, and a gated squared-ReLU MLP (read as ReGLU).
    "bitnet": Family(fixed={**_ROTARY_RMS, "sub_norms": True, "mlp_bias": False},
                     flags={"qkv_bias": ("attention_bias", False),
                            "out_bias": ("attention_bias", False)},
                     activation=(("hidden_act",), "relu2")),
    # ---- hybrids: gated DeltaNet or Mamba-2 layers, attention on the layers layer_types
    # (or attn_layer_indices) names. Qwen3-Next's attention: gated, QK-norm per head.
    "qwen3_next": Family(**_QWEN3_NEXT, moe=_QWEN_MOE),
    # LFM2: gated short convolutions on the "conv" layers, attention with QK-norm per head
    # (q_layernorm, k_layernorm) on the others, no biases but conv_bias; the MLP width
    # adjusted from intermediate_size; its final norm is named embedding_norm. transformers
    # writes layer_types from full_attn_idxs, which then says nothing more.
    "lfm2": Family(keys={"linear_conv_kernel": "conv_L_cache"}, linear_mixer="short_conv",
                   linear_layer_type="conv",
                   fixed={**_ROTARY_RMS, **_NO_BIAS, "qk_norm": "head"},
                   flags={"linear_conv_bias": ("conv_bias", False)},
                   d_ff_adjust=("block_auto_adjust_ff_dim", "block_ffn_dim_multiplier",
                                "block_multiple_of"),
                   attention_layers_key="full_attn_idxs"),
    # LFM3: LFM2's gated short convolutions on the "conv" layers (conv_bias on both
    # projections and the convolution), Qwen3's attention (QK-norm per head) with a sigmoid
    # gate per head from g_proj, sandwich norms when use_sandwich_norm; its final norm is
    # named embedding_norm.
    "lfm3": Family(keys={"linear_conv_kernel": "conv_L_cache"}, linear_mixer="short_conv",
                   linear_layer_type="conv",
                   fixed={**_ROTARY_RMS, "qk_norm": "head", "mlp_bias": False},
                   flags={**_ATTN_BIAS, "linear_conv_bias": ("conv_bias", False)},
                   switches={"norm_placement": ("use_sandwich_norm", "sandwich", "pre", True),
                             "attention_head_gate": ("use_attention_gate", True, False, True)}),
    "qwen3_5_moe_text": Family(**_QWEN3_NEXT, moe={**_QWEN_MOE, "moe_every": (),
                                                  "dense_layers": ()}),
    "qwen3_5_text": Family(**_QWEN3_NEXT),
    # Lara-mini: QK-norm per head, sliding-window and NoPE full-attention layers.
    "lara_mini": Family(keys=_DELTANET_KEYS, linear_mixer="gated_deltanet",
                        fixed={**_ROTARY_RMS, "qk_norm": "head", "mlp_bias": False},
                        flags={**_ATTN_BIAS, "tie_embeddings": ("tie_word_embeddings", True)},
                        # Its shared expert is added in full, without Qwen's gate.
                        moe={**_QWEN_MOE, "moe_every": (), "dense_layers": (),
                             "shared": "width"}),
    # OLMo-hybrid: OLMo-2's attention layers (QK-norm over all heads, norms after each
    # block) and gated DeltaNet layers with their norms before each block: the same
    # parameters, matmuls and norm work per layer, read as norm_placement "post". Its
    # A/dt initialisation ranges change no count; allow_neg_eigval doubles beta
    # (elementwise).
    "olmo_hybrid": Family(keys=_DELTANET_KEYS, linear_mixer="gated_deltanet",
                          fixed={**_ROTARY_RMS, "qk_norm": "full", "norm_placement": "post"},
                          flags=_LLAMA_FLAGS,
                          neutral=frozenset({"linear_a_log_min", "linear_a_log_max",
                                             "linear_dt_min", "linear_dt_max",
                                             "linear_dt_init_floor",
                                             "linear_allow_neg_eigval"})),
    "bamba": Family(keys=_MAMBA2_KEYS, linear_mixer="mamba2",
                    attention_layers_key="attn_layer_indices", linear_expand="mamba_expand",
                    fixed=_ROTARY_RMS, flags={**_LLAMA_FLAGS, **_MAMBA2_FLAGS},
                    requires={"mamba_proj_bias": False}, neutral=_MAMBA2_NEUTRAL),
    # Mamba-2 (Dao & Gu 2024): every layer a norm and a Mamba-2 mixer, no MLP, no
    # attention and no position table (n_heads 1 and the context limit are placeholders
    # no count uses; tp must divide n_heads, so tensor parallelism over the mixer's heads
    # is refused). num_heads and head_dim are the Mamba heads; time_step_rank is unused by
    # Mamba2Mixer (dt comes from in_proj per head).
    "mamba2": Family(keys={"n_heads": (), "n_kv_heads": (), "head_dim": (), "d_ff": (),
                           "max_position_embeddings": (), "linear_heads": "num_heads",
                           "linear_head_dim": "head_dim", "linear_key_heads": "n_groups",
                           "linear_key_dim": "state_size", "linear_conv_kernel": "conv_kernel"},
                     linear_mixer="mamba2", linear_expand="expand", mlp=False,
                     fixed={"position": "none", "norm": "rmsnorm", "n_heads": 1,
                            "max_position_embeddings": 2**24},
                     flags={"linear_conv_bias": ("use_conv_bias", True)},
                     requires={"use_bias": False, "hidden_act": "silu"},
                     neutral=frozenset({"time_step_rank", "time_step_min", "time_step_max",
                                        "time_step_floor", "time_step_limit", "chunk_size",
                                        "rescale_prenorm_residual", "residual_in_fp32"})),
    # Mamba-1 (Gu & Dao 2023): every layer a norm and a selective-scan mixer over the
    # intermediate_size channels (the width the modelling code builds; expand only derives
    # it in the config class), no MLP, no attention (n_heads 1 as for mamba2). Falcon-Mamba adds weightless RMS norms
    # on dt, B and C inside the mixer: no parameters, and their elementwise work is left out.
    **{name: Family(keys={"n_heads": (), "n_kv_heads": (), "head_dim": (), "d_ff": (),
                          "max_position_embeddings": (), "linear_heads": "intermediate_size",
                          "linear_key_dim": "state_size", "linear_conv_kernel": "conv_kernel",
                          "linear_dt_rank": "time_step_rank"},
                    linear_mixer="mamba", mlp=False,
                    fixed={"position": "none", "norm": "rmsnorm", "n_heads": 1,
                           "max_position_embeddings": 2**24},
                    flags={"linear_conv_bias": ("use_conv_bias", True),
                           "tie_embeddings": ("tie_word_embeddings", True)},
                    requires={"use_bias": False, "hidden_act": "silu"},
                    neutral=frozenset({"expand", "time_step_scale", "time_step_min",
                                       "time_step_max", "time_step_init_scheme",
                                       "time_step_floor", "rescale_prenorm_residual",
                                       "residual_in_fp32", "use_mambapy", "use_associative_scan",
                                       "mixer_rms_eps"}))
       for name in ("mamba", "falcon_mamba")},
    # Jamba (Lieber et al. 2024): Mamba-1 mixers with RMS norms on dt, B and C, attention
    # (no positions) when i % attn_layer_period == attn_layer_offset, experts of
    # intermediate_size when i % expert_layer_period == expert_layer_offset.
    "jamba": Family(keys={"linear_key_dim": "mamba_d_state", "linear_conv_kernel": "mamba_d_conv",
                          "linear_dt_rank": "mamba_dt_rank"},
                    linear_mixer="mamba", linear_channels_expand="mamba_expand",
                    attention_period=("attn_layer_period", "attn_layer_offset"),
                    fixed={"position": "none", "norm": "rmsnorm", "linear_inner_norms": True,
                           **_NO_BIAS},
                    flags={"linear_conv_bias": ("mamba_conv_bias", True)},
                    moe={"n_experts": "num_experts", "top_k": "num_experts_per_tok",
                         "d_ff_expert": "intermediate_size",
                         "moe_period": ("expert_layer_period", "expert_layer_offset")},
                    requires={"mamba_proj_bias": False},
                    neutral=frozenset({"use_mamba_kernels", "use_mambapy",
                                       "use_associative_scan", "num_logits_to_keep"})),
    # Granite-4 hybrids: a gated shared MLP of shared_intermediate_size beside the experts
    # (the only MLP when num_local_experts is 0); its multipliers are elementwise.
    # Laguna: QK-norm per head, a softplus output gate from g_proj (per head or per
    # channel, gating), sliding or full layers, dense or sparse MLPs (mlp_layer_types),
    # experts with one shared expert of its own width; the router's e_score_correction_bias
    # is a Parameter in transformers (frozen, E per MoE layer), counted as router_bias.
    "laguna": Family(fixed={**_ROTARY_RMS, "qk_norm": "head", "mlp_bias": False,
                            "router_bias": True},
                     flags=_ATTN_BIAS, heads_per_layer="num_attention_heads_per_layer",
                     gate_granularity="gating",
                     moe={"n_experts": "num_experts", "top_k": "num_experts_per_tok",
                          "d_ff_expert": "moe_intermediate_size",
                          "d_ff_shared": "shared_expert_intermediate_size",
                          "dense_layers": "mlp_layer_types", "shared": "width"},
                     neutral=frozenset({"moe_routed_scaling_factor",
                                        "moe_apply_router_weight_on_input",
                                        "moe_router_logit_softcapping"})),
    # Nemotron-H: each layer one block, a norm, and its residual: Mamba-2, attention (no
    # biases), an ungated squared-ReLU MLP, or ungated experts with one shared expert of its
    # own width (built whatever n_shared_experts says) and a sigmoid router whose
    # score-correction bias is a buffer. Mixer projections without bias (use_bias).
    "nemotron_h": Family(keys={"n_layers": (), "linear_heads": "mamba_num_heads",
                               "linear_head_dim": "mamba_head_dim",
                               "linear_key_heads": "n_groups", "linear_key_dim": "ssm_state_size",
                               "linear_conv_kernel": "conv_kernel"},
                         linear_mixer="mamba2", block_types="layers_block_type",
                         fixed={**_ROTARY_RMS, "qkv_bias": False, "out_bias": False},
                         flags={"mlp_bias": ("mlp_bias", False),
                                "linear_conv_bias": ("use_conv_bias", True)},
                         activation=(("mlp_hidden_act",), "relu2"), gated=False,
                         moe={"n_experts": "n_routed_experts", "top_k": "num_experts_per_tok",
                              "d_ff_expert": "moe_intermediate_size",
                              "d_ff_shared": "moe_shared_expert_intermediate_size",
                              "shared": "width"},
                         requires={"use_bias": False, "moe_latent_size": None,
                                   "mamba_hidden_act": "silu", "num_nextn_predict_layers": 0},
                         neutral=_MAMBA2_NEUTRAL | _GROUP_ROUTING | {
                             "n_shared_experts", "moe_shared_expert_overlap", "expand",
                             "mamba_proj_bias", "time_step_min", "time_step_max",
                             "time_step_floor", "chunk_size", "mamba_ssm_cache_dtype",
                             "residual_in_fp32", "rescale_prenorm_residual",
                             "mtp_layers_block_type", "sliding_window", "attention_bias"}),
    "granitemoehybrid": Family(keys=_MAMBA2_KEYS, linear_mixer="mamba2",
                               linear_expand="mamba_expand",
                               fixed={**_ROTARY_RMS, "mlp_bias": False},
                               flags={**_ATTN_BIAS, **_MAMBA2_FLAGS},
                               moe={"n_experts": "num_local_experts",
                                    "top_k": "num_experts_per_tok",
                                    "d_ff_expert": "intermediate_size",
                                    "d_ff_shared": "shared_intermediate_size",
                                    "shared": "width"},
                               requires={"mamba_proj_bias": False},
                               neutral=_MAMBA2_NEUTRAL | {"position_embedding_type"}),
    # ---- refused: each has a structural feature no Architecture field expresses yet
    **{name: Family(needs=needs) for name, needs in {
        "gemma3n_text": (_QK_NORM, _SANDWICH, "per-layer embeddings and AltUp"),
        "gemma4_text": ("per-layer embeddings",),
        "cohere_compass_text": ("a text tower of a retrieval model",),
        # TrOCR's causal-LM class sets is_decoder, so every layer builds an encoder
        # attention (parameters, run only with encoder states); its Post-LN blocks and
        # position offset are readable.
        "trocr": (_CROSS_ATTN + " (built whatever the config says)",),
        "diffllama": ("differential attention (two softmax maps and lambda parameters)",),
        "doge": ("dynamic-mask attention and residual scales",),
        "jetmoe": ("mixture-of-attention-heads experts",),
        "moshi": ("multi-codebook audio embeddings",),
        "modernbert-decoder": (_MODERNBERT,),
        "mllama_text_model": (_CROSS_ATTN,), "git": ("an image encoder",),
        "cpmant": ("segment embeddings and relative position buckets",),
        "xlnet": ("two-stream relative attention",),
        "hrm_text": ("recurrent hierarchical modules run several cycles",),
        "zaya": ("convolutional QKV and an MLP router",),
        "deepseek_v32": (_INDEXER,),
        "deepseek_v4": ("compressed sparse attention and hyper-connections",),
"axk2": (_INDEXER,), "glm_moe_dsa": (_INDEXER,),
        "longcat_flash": ("two attention and MLP blocks per layer",), "hy_v4": ("hyper-connections and a sparse-attention indexer",), "dots3_note_text": (_INDEXER,),
        "kimi_linear": (_KDA,),
        "bailing_hybrid": (_LINEAR_ATTN,),
        "minimax": ("lightning attention (linear attention without convolution)",),
        "lfm2_moe": ("short convolution layers",),
        "falcon_h1": (_SSM,), "zamba": (_SSM,),
        "zamba2": (_SSM,),
        "recurrent_gemma": ("RG-LRU recurrent layers",), "rwkv": ("RWKV time mixing",),
        "xlstm": ("mLSTM layers",),
        "phi4_multimodal": ("image and audio encoders in the causal-LM class",),
        "minimax_m3_vl_text": ("sparse block-indexed attention",),
        "inkling_text": ("convolutional keys/values and relative-position logits",),
        "inkling2_text": ("convolutional keys/values and relative-position logits",),
        "inkling2_loop_text": ("convolutional keys/values and relative-position logits",),
    }.items()},
})
