"""The description of a decoder-only transformer."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from . import _core, _validate

_INTEGER_FIELDS = (
    "d_model", "n_layers", "vocab_size", "max_position_embeddings",
    "n_experts", "top_k", "n_shared_experts", "moe_every", "first_dense_layers",
)
_DERIVED_FIELDS = ("n_kv_heads", "head_dim", "d_ff", "d_ff_expert", "d_ff_shared", "v_head_dim")
_FLAG_FIELDS = ("qkv_bias", "out_bias", "mlp_bias", "tie_embeddings", "shared_expert_gate")
_TEXT_FIELDS = ("ffn", "position", "norm")
#: The per-layer features, with their defaults: checked and passed to the core only when
#: given (most architectures leave them all at their defaults, and construction stays fast).
_FEATURE_INTEGERS = {"global_head_dim": 0, "window_kv_heads": 0, "attention_window": 0, "global_every": 0, "kv_lora_rank": 0,
                     "q_lora_rank": 0, "qk_nope_head_dim": 0, "qk_rope_head_dim": 0,
                     "attention_every": 0, "linear_heads": 0, "linear_head_dim": 0,
                     "linear_key_heads": 0, "linear_key_dim": 0, "linear_conv_kernel": 4,
                     "activation_saves": 0, "linear_dt_rank": 0, "mtp_layers": 0}
_FEATURE_FLAGS = {"parallel_block": False, "embedding_norm": False, "lm_head_bias": False,
                  "attention_sinks": False, "attention_output_gate": False,
                  "router_bias": False, "linear_conv_bias": False, "linear_inner_norms": False,
                  "attention_gate_bias": False, "moe_post_norm": False,
                  "last_out_bias": False, "sub_norms": False, "attention_head_gate": False,
                  "window_sinks": False}
_FEATURE_TEXTS = {"norm_placement": "pre", "qk_norm": "none", "window_kind": "sliding",
                  "linear_mixer": "none"}


def _heads_from_head_dim(d_model: int, head_dim: int) -> int:
    """n_heads = d_model / head_dim, or a ValueError saying why it cannot be derived."""
    if head_dim == 0:
        msg = ("n_heads=None is invalid: give n_heads, or head_dim to derive "
               "n_heads = d_model / head_dim")
        raise ValueError(msg)
    if head_dim < 0:
        msg = f"head_dim={head_dim} is invalid: allowed range is >= 1"
        raise ValueError(msg)
    if d_model < 1:
        return 1  # the core refuses d_model, naming it
    if d_model % head_dim != 0:
        msg = (f"head_dim={head_dim} is invalid: to derive n_heads = d_model / head_dim it "
               f"must divide d_model={d_model} (or give n_heads)")
        raise ValueError(msg)
    return d_model // head_dim


def _layer_list(name: str, value: Any) -> list[int]:
    """A sequence of layer indices as a list of ints, or a ValueError naming ``name``."""
    try:
        layers = tuple(value)
    except TypeError:
        msg = f"{name}={value!r} is invalid: it must be a sequence of layer indices"
        raise ValueError(msg) from None
    return [_validate.integer(name, i) for i in layers]


@dataclass(frozen=True)
class Architecture:
    """A decoder-only transformer, dense or mixture-of-experts.

    Fields left as None (and only None: 0 is refused) are derived: ``n_heads =
    d_model / head_dim`` when only ``head_dim`` is given, ``n_kv_heads = n_heads``
    (multi-head attention), ``head_dim = d_model / n_heads``, ``d_ff = 4 d_model`` (or
    8/3 d_model rounded up to 256 for gated FFNs, as in Llama), ``d_ff_expert = d_ff``,
    ``d_ff_shared = d_ff_expert``. The instance holds the derived values. Every field is
    validated by the C++ core; an invalid one raises ValueError naming the field, its value
    and the allowed range.

    Parameters
    ----------
    d_model, n_layers : int
        Width of the residual stream and number of layers.
    n_heads : int, optional
        Attention heads. Give it, or ``head_dim`` alone: then ``n_heads = d_model /
        head_dim``, which must divide.
    n_kv_heads : int, optional
        Key/value heads (grouped-query attention when fewer than ``n_heads``; 1 is
        multi-query attention). Must divide ``n_heads``.
    head_dim : int, optional
        Width of one head; ``n_heads * head_dim`` may differ from ``d_model``.
    d_ff : int, optional
        Hidden width of the dense feed-forward block.
    ffn : {"gelu", "relu", "swiglu", "geglu", "reglu", "xielu", "none"}
        Feed-forward kind; the gated kinds have three weight matrices. ``"reglu"``: gated
        by a ReLU (Shazeer 2020, arXiv:2002.05202, ReGLU; BitNet's squared ReLU is read
        as it, the square not counted). ``"xielu"``: an
        ungated MLP with xIELU (Huang et al. 2024, arXiv:2411.13010; Apertus), whose two
        learned scalars per MLP are parameters; dense MLPs only. ``"none"``: no MLP, each
        layer only its norm, mixer and residual (Mamba-2's blocks); ``d_ff`` stays None
        and there are no experts.
    vocab_size, max_position_embeddings : int
        Vocabulary size and context length (rows of a learned position table).
    position : {"learned", "rotary", "none"}
    norm : {"layernorm", "rmsnorm", "layernorm_nobias", "weightless"}
        LayerNorm has a weight and a bias per feature, RMSNorm and LayerNorm without bias
        a weight (Cohere, StableLM-2), a weightless LayerNorm none (OLMo-1). Every norm of
        the model (layer, query-key, latent and final norms) is of this kind.
    norm_placement : {"pre", "sandwich", "post", "post_residual"}
        Norms before each sub-layer (GPT-2, Llama), before and after each (Gemma 2/3:
        four per layer), only after each sub-layer's output, before its residual add
        (OLMo-2), or after each residual add with no norm before the head (Post-LN of the
        original Transformer, Vaswani et al. 2017 §3.1; GPT-1, BERT); not with
        ``parallel_block``.
    qk_norm : {"none", "head", "full"}
        A norm on the queries and keys: one weight of ``head_dim`` shared by the heads
        (Qwen3, Gemma-3), or a weight per query and key channel (OLMo-2, Cohere).
    parallel_block : bool
        Attention and MLP read the same normed input and their outputs are added to the
        residual stream together, with one norm per layer (GPT-J, Falcon-7B, Phi-2,
        Cohere). GPT-NeoX's parallel residual keeps two norms: it is ``False`` here
        (same parameters and matmul FLOPs).
    embedding_norm : bool
        A norm on the token embeddings (BLOOM's ``word_embeddings_layernorm``).
    qkv_bias, out_bias, mlp_bias, lm_head_bias : bool
        Biases on the query/key/value projections (with MLA: on the down-projections),
        the attention output projection, the feed-forward (and expert) matrices, and the
        output head (Phi-2).
    attention_sinks : bool
        A learned logit per head joins each softmax's normaliser (GPT-OSS).
    attention_output_gate : bool
        The query projection also yields a sigmoid gate on the attention output
        (Qwen3-Next), doubling its width.
    attention_head_gate : bool
        A sigmoid gate per head on the attention output, from its own projection of the
        layer input to ``n_heads`` logits (LFM3's ``g_proj``; Laguna's softplus gate is
        counted with the sigmoid's elementwise work); not with
        ``attention_output_gate`` or latent attention.
    attention_gate_bias : bool
        A learned bias per head on that gate (Beam); needs ``attention_output_gate``.
    moe_post_norm : bool
        A norm on each MoE block's output, before its residual add (A.X-K1), in a model
        whose norms are otherwise before each sub-layer (``norm_placement="pre"``).
    last_out_bias : bool
        Only the last layer's attention output projection has a bias (GPT-NeoX Japanese:
        transformers gives ``dense_bias`` to layer ``n_layers - 1`` alone); needs
        ``out_bias`` false and full attention in every layer (no linear mixer, no
        window).
    sub_norms : bool
        A norm over each attention output before its projection and over each MLP's
        hidden before the down projection (BitNet b1.58, Ma et al. 2024,
        arXiv:2402.17764; transformers' ``attn_sub_norm``, ``ffn_sub_norm``); dense MLPs
        only (``n_experts`` 0).
    global_head_dim : int
        Head width of the full-attention layers of a model with windowed ones (Gemma 4:
        512 on its global layers, ``head_dim`` on the sliding ones); 0: ``head_dim``.
    window_kv_heads, window_sinks
        The windowed layers' key/value heads (0: ``n_kv_heads``) and attention sinks on
        them alone (MiMo-V2-Flash: twice the KV heads and a sink per head there).
    attention_window, window_kind, global_every, global_layers
        Sliding-window (``window_kind="sliding"``: each query sees the last
        ``attention_window`` keys, itself included) or chunked attention (``"chunked"``:
        causal within chunks of that length, Llama 4). With a window, layer ``i`` (from
        0) has full attention when ``global_every > 0`` and ``(i + 1) % global_every ==
        0`` or ``i`` is in ``global_layers``, and the window otherwise: Gemma-2 and GPT-OSS
        ``global_every=2``, Gemma-3 ``6``, Llama 4 ``4``, Mistral 7B ``0`` (every layer
        windowed). ``attention_window=0``: every layer has full attention. Windows change
        the causal (executed) attention FLOPs, the attention time and the KV cache; the
        eager count of the full square stays ``flops.forward``.
    kv_lora_rank, q_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim : int
        Multi-head latent attention (DeepSeek-V2/V3, MiniCPM3, Kimi K2), on when
        ``kv_lora_rank > 0``: keys and values through a ``kv_lora_rank`` latent, queries
        through a ``q_lora_rank`` one (0: projected directly), ``qk_nope_head_dim +
        qk_rope_head_dim`` query-key channels per head (``head_dim`` is derived from them)
        and ``v_head_dim`` value channels (default ``qk_nope_head_dim``). The KV cache
        holds ``kv_lora_rank + qk_rope_head_dim`` elements per token and layer.
    linear_mixer : {"none", "gated_deltanet", "mamba2", "mamba", "short_conv"}
        Hybrids: the token mixer of the layers without attention, gated DeltaNet linear
        attention (Qwen3-Next), Mamba-2 (Bamba, Nemotron-H's mixers), Mamba-1's selective
        scan (Mamba, Falcon-Mamba; Gu & Dao 2023) or LFM2's gated short convolution
        (``in_proj`` to B, C, x of ``d_model`` each, ``C * conv(B * x)``, ``out_proj``; its
        ``linear_heads`` and the other sizes stay 0, ``linear_conv_bias`` also puts biases
        on both projections, as LFM2's ``conv_bias``). Layer ``i`` keeps
        attention when ``(i + 1) % attention_every == 0`` or ``i`` is in
        ``attention_layers`` (Qwen3-Next ``attention_every=4``).
    attention_every, attention_layers
        See ``linear_mixer``; both unset without one.
    ffn_layers : tuple of int
        Layers that are an FFN block alone, dense or MoE by the expert fields, with no
        mixer (Nemotron-H's ``"mlp"`` and ``"moe"`` blocks); when any is listed, every
        other layer is a mixer alone (attention or the linear mixer), with no FFN.
    linear_heads, linear_head_dim, linear_key_heads, linear_key_dim : int
        Gated DeltaNet: value heads and their width, key (and query) heads and their
        width. Mamba-2: heads and their width P, groups of B and C, and the state size N.
        Mamba-1: the inner channels (``linear_heads``; width and groups 1) and the state
        size N.
    linear_dt_rank : int
        Mamba-1's rank R of the step-size projection (``x_proj`` to R + 2N, ``dt_proj``
        back to the channels); 0 for the other mixers.
    linear_inner_norms : bool
        Mamba-1 with a norm (of the model's kind) on each of dt, B and C after ``x_proj``
        (Jamba, Lieber et al. 2024).
    linear_conv_kernel, linear_conv_bias
        Width of the depthwise causal convolution (4 in both), and whether it has a bias
        (Mamba-2's ``conv_bias``; gated DeltaNet has none).
    activation_saves : int
        Tensors of the FFN's hidden width that its activation function saves for the
        backward pass under ``implementation="huggingface"``: what transformers' module for
        the config's activation name keeps (``gelu_new`` 4, ``gelu_fast`` 7,
        ``gelu_python`` 3, ``quick_gelu`` 2, ``gelu``, ``gelu_pytorch_tanh``, ``silu`` and
        ``relu`` 1; :meth:`from_hf_config` sets it). A gated FFN also keeps the up output
        and the activation's output. 0: the kind's default, 4 for ``gelu`` and ``xielu``
        (GPT-2's ``gelu_new``; xIELU's Python form, its one-byte sign mask left out), 1
        otherwise; range 0 to 16. Megatron's fused kernels keep the input whatever it is.
    tie_embeddings : bool
        Whether the output projection shares the token embedding matrix.
    n_experts, top_k : int
        Routed experts per MoE layer and experts per token (dense when ``n_experts <= 1``).
    n_shared_experts, d_ff_shared : int
        Experts every token goes through, and the hidden width of each.
    d_ff_expert : int, optional
        Hidden width of one routed expert.
    shared_expert_gate : bool
        A sigmoid gate (a d_model x 1 projection) on the shared experts (Qwen2-MoE).
    router_bias : bool
        A bias per expert on the router's logits (GPT-OSS). DeepSeek-V3's score-correction
        bias is updated by a rule, not trained: transformers keeps it as a buffer, and it
        is not counted here either.
    moe_every, first_dense_layers, dense_layers
        Layer ``i`` (from 0) is an MoE layer when ``(i + 1) % moe_every == 0``,
        ``i >= first_dense_layers`` and ``i`` is not in ``dense_layers``.
    capacity_factor : float
        0 for dropless routing; otherwise each expert computes ``ceil(c k T / E)`` token
        slots, padding included.
    mtp_layers : int
        Multi-token prediction modules trained with the model (DeepSeek-AI 2024,
        DeepSeek-V3 technical report, arXiv:2412.19437, §2.2; DeepSeek-V3 trains with 1),
        range 0 to 1024. Module ``k`` applies a norm to the previous depth's hidden state
        and to the shared embedding of the token ``k`` further ahead, projects their
        concatenation from ``2 d_model`` back to ``d_model`` (no bias), runs one layer of
        the kind of the model's last layer (its mixer and its FFN block: for DeepSeek-V3
        an MoE layer with multi-head latent attention; Megatron-Core builds the MTP layer
        from the decoder's last layer spec), applies a final norm, and reuses the output
        head for a cross-entropy of its own. Parameters: the layer, the ``2 d_model^2``
        projection and three norms (embedding and head are shared); its FLOPs, activations
        and states are on the last pipeline stage, which also keeps a copy of the
        embedding when it is not the first (as Megatron-Core does). The per-op table shows
        its ops in section ``"mtp"``. 0: none. :meth:`from_hf_config` reads 0 whatever
        ``num_nextn_predict_layers`` says: transformers' models do not build the module.
    name : str, optional
        A label, not part of the model.
    """

    d_model: int
    n_layers: int
    n_heads: int | None = None
    n_kv_heads: int | None = None
    head_dim: int | None = None
    d_ff: int | None = None
    ffn: str = "gelu"
    vocab_size: int = 50257
    max_position_embeddings: int = 2048
    position: str = "learned"
    norm: str = "layernorm"
    qkv_bias: bool = False
    out_bias: bool = False
    mlp_bias: bool = False
    tie_embeddings: bool = False
    n_experts: int = 0
    top_k: int = 1
    n_shared_experts: int = 0
    d_ff_expert: int | None = None
    d_ff_shared: int | None = None
    shared_expert_gate: bool = False
    moe_every: int = 1
    first_dense_layers: int = 0
    dense_layers: tuple[int, ...] = ()
    capacity_factor: float = 0.0
    norm_placement: str = "pre"
    qk_norm: str = "none"
    parallel_block: bool = False
    embedding_norm: bool = False
    lm_head_bias: bool = False
    attention_sinks: bool = False
    attention_output_gate: bool = False
    attention_window: int = 0
    window_kind: str = "sliding"
    global_every: int = 0
    global_layers: tuple[int, ...] = ()
    kv_lora_rank: int = 0
    q_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int | None = None
    router_bias: bool = False
    linear_mixer: str = "none"
    attention_every: int = 0
    attention_layers: tuple[int, ...] = ()
    ffn_layers: tuple[int, ...] = ()
    global_head_dim: int = 0
    window_kv_heads: int = 0
    window_sinks: bool = False
    linear_heads: int = 0
    linear_head_dim: int = 0
    linear_key_heads: int = 0
    linear_key_dim: int = 0
    linear_conv_kernel: int = 4
    linear_conv_bias: bool = False
    activation_saves: int = 0
    linear_dt_rank: int = 0
    linear_inner_norms: bool = False
    attention_gate_bias: bool = False
    moe_post_norm: bool = False
    last_out_bias: bool = False
    sub_norms: bool = False
    attention_head_gate: bool = False
    mtp_layers: int = 0
    name: str | None = field(default=None, compare=False)
    _core: _core.Architecture = field(init=False, repr=False, compare=False)
    _derived: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.name is not None and not isinstance(self.name, str):
            msg = f"name={self.name!r} is invalid: it must be a string or None"
            raise ValueError(msg)
        values: dict[str, Any] = {}
        for name in _INTEGER_FIELDS:
            values[name] = _validate.integer(name, getattr(self, name))
        for name in _DERIVED_FIELDS:
            values[name] = _validate.derived_integer(name, getattr(self, name))
        heads_derived = self.n_heads is None
        if heads_derived:
            values["n_heads"] = _heads_from_head_dim(values["d_model"], values["head_dim"])
        else:
            values["n_heads"] = _validate.integer("n_heads", self.n_heads)
        for name in _FLAG_FIELDS:
            values[name] = _validate.flag(name, getattr(self, name))
        for name in _TEXT_FIELDS:
            values[name] = _validate.text(name, getattr(self, name))
        features: dict[str, Any] = {}
        for checks, check in ((_FEATURE_INTEGERS, _validate.integer),
                              (_FEATURE_FLAGS, _validate.flag), (_FEATURE_TEXTS, _validate.text)):
            for name, default in checks.items():
                value = getattr(self, name)
                if type(value) is not type(default) or value != default:
                    features[name] = check(name, value)
        values["dense_layers"] = _layer_list("dense_layers", self.dense_layers)
        for name in ("global_layers", "attention_layers", "ffn_layers"):
            if getattr(self, name) != ():
                features[name] = _layer_list(name, getattr(self, name))
        values["capacity_factor"] = _validate.real("capacity_factor", self.capacity_factor)
        core = _core.Architecture(**values, **features).resolved()
        for name in ("n_heads", *_INTEGER_FIELDS, *_DERIVED_FIELDS, *_FLAG_FIELDS,
                     *_TEXT_FIELDS):
            object.__setattr__(self, name, getattr(core, name))
        for name in _DERIVED_FIELDS:  # a width the model has none of (no MLP, no MLA)
            if getattr(core, name) == 0:
                object.__setattr__(self, name, None)
        for name, value in features.items():  # as checked: the core keeps them as given
            object.__setattr__(self, name, tuple(value) if isinstance(value, list) else value)
        object.__setattr__(self, "dense_layers", tuple(core.dense_layers))
        object.__setattr__(self, "capacity_factor", core.capacity_factor)
        object.__setattr__(self, "_core", core)
        derived = tuple(n for n in _DERIVED_FIELDS if values[n] == 0)
        if heads_derived:
            derived = ("n_heads", *derived)
        object.__setattr__(self, "_derived", derived)

    @property
    def n_moe_layers(self) -> int:
        """Number of layers with routed experts."""
        return int(self._core.n_moe_layers)

    @property
    def n_window_layers(self) -> int:
        """Number of layers with windowed (sliding or chunked) attention."""
        return int(self._core.n_window_layers)

    @property
    def n_linear_layers(self) -> int:
        """Number of a hybrid's layers with the linear mixer instead of attention."""
        return int(self._core.n_linear_layers)

    @property
    def is_moe(self) -> bool:
        """True when at least one layer has routed experts."""
        return self.n_moe_layers > 0

    def replace(self, **changes: Any) -> Architecture:
        """A copy with some fields changed; fields that were derived are derived again."""
        rederive: dict[str, Any] = {n: None for n in self._derived if n not in changes}
        return dataclasses.replace(self, **rederive, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python values."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        for name in ("dense_layers", "global_layers", "attention_layers", "ffn_layers"):
            out[name] = list(getattr(self, name))
        return out

    @classmethod
    def preset(cls, name: str) -> Architecture:
        """A built-in published architecture; see :func:`scalingperf.presets`."""
        from .presets import preset

        return preset(name)

    @classmethod
    def from_hf_config(cls, config: str | PathLike[str] | dict[str, Any]) -> Architecture:
        """Read a Hugging Face ``config.json`` (a path, its folder, or the parsed dict).

        The families read, and those refused with the feature they lack, are data: the
        table ``FAMILIES`` in :mod:`scalingperf.hf_families`; a ``model_type`` it does not
        list is read with Llama's naming when every key is understood (with a warning).
        ``python tools/hf_families_report.py --list`` shows each of transformers' causal-LM
        families against models built from them. A key that may change a count and is not
        understood, or a feature no field expresses, is a ValueError naming it.
        Multi-token prediction modules (``num_nextn_predict_layers``) are read as
        ``mtp_layers=0``: transformers builds the model without them (see
        :func:`scalingperf.hf_config.from_hf_config`).
        """
        from .hf_config import from_hf_config

        return from_hf_config(config)

    def to_hf_config(self, family: str = "llama") -> dict[str, Any]:
        """This architecture as a Hugging Face config dict of ``family`` (gpt2, llama,
        mistral, mixtral, qwen2, qwen2_moe), which :meth:`from_hf_config` reads back; see
        :func:`scalingperf.hf_write.to_hf_config`."""
        from .hf_write import to_hf_config

        return to_hf_config(self, family)
