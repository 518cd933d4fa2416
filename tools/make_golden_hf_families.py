#!/usr/bin/env python3
"""Golden parameters and FLOPs of every decoder-only causal-LM family in transformers.

The oracle is Hugging Face ``transformers`` itself: each family listed in its auto
mapping ``MODEL_FOR_CAUSAL_LM_MAPPING_NAMES`` is built FROM ITS DEFAULT CONFIG CLASS,
shrunk to a few layers and small widths (random init, no weights, no hub access), with
eager attention and eager experts.  Recorded per family: the shrunk config, the
module's ``num_parameters()``, and the forward and forward+backward FLOPs of
``torch.utils.flop_counter.FlopCounterMode`` at ``BATCH`` x ``SEQ_LEN`` tokens, with
the FLOPs per op.  Nothing here uses the scalingperf package.

Skipped, each with its reason in the output: encoders with an LM head (the config
class also maps to a masked-LM model), encoder-decoders (``is_encoder_decoder``), and
multimodal wrappers whose text config is a family of its own in the mapping (the text
family is built instead); a wrapper whose text config is not listed on its own is
built from that text config.

What the counter cannot see is listed per family under ``uncounted_ops`` (ops seen in
the forward pass that carry multiply-adds but have no FlopCounterMode formula, e.g.
CPU SDPA kernels, ``aten.linalg_solve_triangular``, ``aten.mv``), with the forward
FLOPs of those ops counted by hand where a formula is given in ``_HAND_COUNT`` (2 per
multiply-add, the counter's convention) and ``null`` where none is.

Hybrids (a decoder layer's direct child that runs a convolution: gated DeltaNet, Mamba-2,
Mamba-1 mixers) also get ``linear_mixers`` (how many), ``forward_conv`` and
``forward_backward_conv`` (the counter's convolution FLOPs), and ``forward_scan``,
``forward_backward_scan`` and ``uncounted_ops_in_scan``: each mixer is replayed alone on
the input it got, under a counter, forward and backward, and what it computes beyond its
projections and convolution is its chunked scan (``_scan_counts``).

Run (CPU-only torch; the exact pin keeps pip from pulling a CUDA build)::

    pip install torch==2.13.0 transformers numpy
    python tools/make_golden_hf_families.py            # all families
    python tools/make_golden_hf_families.py qwen3 olmo2  # some (printed, not written)
    python tools/make_golden_hf_families.py --update opt  # rebuild some, replace their entries
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # must be set before transformers is imported

import json
import math
import multiprocessing
import re
import sys
import time
import traceback
import warnings
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _hf_models as hf
import torch
import torch.nn.functional as F
import transformers
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry
from transformers import AutoConfig
from transformers.models.auto.modeling_auto import (
    MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
    MODEL_FOR_MASKED_LM_MAPPING_NAMES,
)

OUT = hf.REPO_ROOT / "tests" / "data" / "hf_families.json"
GENERATOR = "tools/make_golden_hf_families.py"
BATCH, SEQ_LEN = 2, 32
N_LAYERS = 4
TIMEOUT_S = 60

# Shrunk sizes, by the config key that holds them (every family's naming).  A key is
# only changed when the default config has it.
_SIZES: dict[str, int] = {
    # widths
    "hidden_size": 64, "n_embd": 64, "d_model": 64, "dim": 64, "model_dim": 64,
    "embed_dim": 64,
    # heads
    "num_attention_heads": 4, "n_head": 4, "n_heads": 4, "num_heads": 4,
    "num_key_value_heads": 2, "n_kv_heads": 2, "num_kv_heads": 2,
    "multi_query_group_num": 2, "kv_n_heads": 2, "head_dim": 16, "kv_channels": 16,
    "decoder_attention_heads": 4, "decoder_ffn_dim": 96,  # TrOCR's decoder naming
    "attention_head_dim": 16,
    # feed-forward
    "intermediate_size": 96, "n_inner": 96, "ffn_hidden_size": 96, "ffn_dim": 96,
    "d_ff": 96, "ffn_dim_multiplier": None,  # type: ignore[dict-item]
    "moe_intermediate_size": 32, "expert_intermediate_size": 32,
    "shared_expert_intermediate_size": 48, "moe_shared_expert_intermediate_size": 48,
    "expert_hidden_size": 32,
    # experts
    "num_experts": 8, "num_local_experts": 8, "n_routed_experts": 8, "moe_num_experts": 8,
    "num_experts_per_tok": 2, "moe_topk": 2, "moe_k": 2, "top_k": 2,
    "n_shared_experts": 1, "num_shared_experts": 1, "n_group": 2, "topk_group": 1,
    "first_k_dense_replace": 1,
    # multi-head latent attention
    "q_lora_rank": 32, "kv_lora_rank": 16, "qk_rope_head_dim": 8, "qk_nope_head_dim": 16,
    "v_head_dim": 16, "qk_head_dim": 24,
    # OPT's embedding width (project_in/out exist only when it differs from hidden_size)
    "word_embed_proj_dim": 64,
    # vocabulary and positions
    "vocab_size": 512, "max_position_embeddings": 256, "n_positions": 256, "n_ctx": 256,
    "seq_length": 256, "max_sequence_length": 256,
    # state-space / linear-attention layers
    "state_size": 8, "mamba_d_state": 8, "ssm_state_size": 8, "mamba_n_heads": 4,
    "mamba_d_head": 16, "mamba_head_dim": 16, "mamba_num_heads": 4,
    "linear_num_key_heads": 2, "linear_num_value_heads": 4, "linear_key_head_dim": 16,
    "linear_value_head_dim": 16, "time_step_rank": 8, "mamba_n_groups": 1, "n_groups": 1,
    "chunk_size": 16, "mamba_chunk_size": 16, "expand": 1, "mamba_expand": 1,
    "rotary_dim": 8,
}
# Layer counts, and the sliding window (shorter than SEQ_LEN, so a mask would matter).
_LAYER_KEYS = ("num_hidden_layers", "n_layer", "n_layers", "num_layers", "decoder_layers")
_WINDOW_KEYS = ("sliding_window", "attention_window_size", "window_size")
# Lists with one entry per layer: cut or cycled to N_LAYERS.
_PER_LAYER_KEYS = ("layer_types", "layers_block_type", "hybrid_override_pattern",
                   "mlp_layer_types", "attn_layer_indices", "block_types")
# Keys a default config may leave None although the modelling code multiplies by them.
_EXPERT_COUNT_KEYS = ("num_experts", "num_local_experts", "n_routed_experts", "num_experts_per_tok",
                      "n_shared_experts", "head_dim", "num_key_value_heads")
_TOKEN_ID_KEYS = ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id")

# FLOPs (2 per multiply-add) of ops FlopCounterMode has no formula for, from their
# argument shapes; forward only.
def _sdpa_flops(args: tuple[Any, ...]) -> int:
    q, k = args[0], args[1]
    *batch, s_q, d_qk = q.shape
    s_k, d_v = k.shape[-2], args[2].shape[-1]
    return 2 * math.prod(batch) * s_q * s_k * (d_qk + d_v)


def _solve_triangular_flops(args: tuple[Any, ...]) -> int:
    a, b = args[0], args[1]
    n = a.shape[-1]
    return math.prod(b.shape[:-2]) * n * n * b.shape[-1]  # n(n+1)/2 mults per column, x2


def _mv_flops(args: tuple[Any, ...]) -> int:
    return 2 * args[0].numel()


_HAND_COUNT = {
    "aten._scaled_dot_product_flash_attention_for_cpu": _sdpa_flops,
    "aten._scaled_dot_product_attention_math": _sdpa_flops,
    "aten.linalg_solve_triangular": _solve_triangular_flops,
    "aten.mv": _mv_flops,
    "aten.addmv": _mv_flops,
}
#: Reductions with a "linalg" name: a vector norm squares and sums, elementwise work like
#: LayerNorm's variance, which the counter leaves out in every family.
_NOT_MATMUL = ("linalg_vector_norm",)
_MATMUL_LIKE = ("scaled_dot_product", "solve", "matmul", "einsum", "mv", "dot", "outer",
                "cholesky", "inverse", "fft", "_grouped_mm", "linalg", "tensordot")


class _UncountedOps(TorchDispatchMode):
    """Records the ops with multiply-adds that FlopCounterMode has no formula for."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: dict[str, dict[str, Any]] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        packet = func._overloadpacket
        name = str(packet)
        short = name.removeprefix("aten.")
        if (packet not in flop_registry and any(m in short for m in _MATMUL_LIKE)
                and short not in _NOT_MATMUL):
            entry = self.ops.setdefault(name, {"calls": 0, "flops_forward_by_hand": 0})
            entry["calls"] += 1
            formula = _HAND_COUNT.get(name)
            if formula is None or entry["flops_forward_by_hand"] is None:
                entry["flops_forward_by_hand"] = None
            else:
                entry["flops_forward_by_hand"] += formula(args)
        return func(*args, **(kwargs or {}))


def _per_layer(value: Any, n: int) -> Any:
    if isinstance(value, str):
        return (value * n)[:n] if value else value
    if isinstance(value, (list, tuple)) and value:
        return [value[i % len(value)] for i in range(n)]
    return value


def shrink(config: Any) -> Any:
    """A new config of the same class, every size key it has set to its ``_SIZES`` value.

    The class is built again from the changed keys so that what it derives in its own
    ``__init__`` (head_dim, layer_types, ...) follows the new sizes.
    """
    data = config.to_dict()
    new: dict[str, Any] = {}
    for key, value in _SIZES.items():
        if key not in data:
            continue
        is_size = isinstance(data[key], int) and not isinstance(data[key], bool)
        if value is None or is_size or (data[key] is None and key in _EXPERT_COUNT_KEYS):
            new[key] = value
    for key in _LAYER_KEYS:
        if isinstance(data.get(key), int):
            new[key] = N_LAYERS
    for key in _WINDOW_KEYS:
        if isinstance(data.get(key), int) and not isinstance(data[key], bool):
            new[key] = SEQ_LEN // 2
    for key in _PER_LAYER_KEYS:
        if data.get(key):
            new[key] = _per_layer(data[key], N_LAYERS)
    # Keys that the family derives from others keep their relation.
    if "kv_lora_rank" in data and data.get("num_key_value_heads") == data.get(
            "num_attention_heads"):
        new["num_key_value_heads"] = new["num_attention_heads"]
    if "qk_rope_head_dim" in data and data.get("head_dim") == data["qk_rope_head_dim"]:
        new["head_dim"] = new["qk_rope_head_dim"]
    if "qk_head_dim" in data and "qk_nope_head_dim" in data:
        new["qk_head_dim"] = new["qk_nope_head_dim"] + new["qk_rope_head_dim"]
    vocab = new.get("vocab_size", data.get("vocab_size"))
    for key in _TOKEN_ID_KEYS:
        value = data.get(key)
        if isinstance(value, int) and vocab and value >= vocab:
            new[key] = vocab - 1
    for key in ("attention_dropout", "hidden_dropout", "resid_pdrop", "embd_pdrop",
                "attn_pdrop", "dropout", "attention_probs_dropout_prob",
                "hidden_dropout_prob", "router_jitter_noise", "ffn_dropout"):
        if isinstance(data.get(key), float):
            new[key] = 0.0
    # DBRX keeps its sizes in nested attn_config/ffn_config dicts; its attention config
    # class in transformers 5.24 lacks the rope_theta its modelling code reads (set to
    # 10000: an elementwise rotation, no count changes).
    for key in ("attn_config", "ffn_config"):
        if isinstance(data.get(key), dict):
            sub = data[key]
            new[key] = {**sub, **{k: v for k, v in _SIZES.items()
                                  if isinstance(sub.get(k), int) and v is not None}}
    if isinstance(data.get("attn_config"), dict):
        new["attn_config"].setdefault("rope_theta", 10000.0)
        # Its clip_qkv=None default reaches torch.clamp(None, None); any bound (an
        # elementwise clamp) builds.
        if new["attn_config"].get("clip_qkv") is None:
            new["attn_config"]["clip_qkv"] = 8.0
    kwargs = {k: v for k, v in data.items()
              if k not in ("model_type", "transformers_version", "architectures")}
    kwargs.update(new)
    try:
        return type(config)(**kwargs)
    except Exception:  # noqa: BLE001 - a class that refuses its own to_dict: set in place
        for key, value in new.items():
            setattr(config, key, value)
        return config


def _build(cls_name: str, config: Any) -> Any:
    cls = getattr(transformers, cls_name)
    errors = []
    for extra in ({"experts_implementation": "eager"}, {}):
        try:
            return cls._from_config(config, attn_implementation="eager",
                                    dtype=torch.float32, **extra)
        except Exception as error:  # noqa: BLE001 - recorded
            errors.append(error)
    raise errors[-1]


_LAYER_NAME = re.compile(r"\.layers\.\d+$")


def _own_matmuls(counts: dict[str, Any], name: str) -> int:
    """FLOPs a module's counter entry holds, convolutions left out."""
    return sum(v for op, v in counts.get(name, {}).items() if "convolution" not in str(op))


def _linear_mixers(counts: dict[str, Any]) -> list[str]:
    """Counter names of the hybrids' linear mixers (gated DeltaNet, Mamba-2): the direct
    children of a ``layers.<i>`` module that run a convolution."""
    layers = [name for name in counts if _LAYER_NAME.search(name)]
    return [name for name in counts
            for layer in layers
            if name.startswith(layer + ".") and name.count(".") == layer.count(".") + 1
            and any("convolution" in str(op) for op in counts[name])]


def _children_matmuls(counts: dict[str, Any], name: str) -> int:
    return sum(_own_matmuls(counts, child) for child in counts
               if child.startswith(name + ".") and child.count(".") == name.count(".") + 1)


class _ParameterMatmuls(TorchDispatchMode):
    """FLOPs of the counted ops (convolutions left out) with one of the given parameters
    as an operand: a module's projections, also those it runs on a child's weight itself
    (Mamba-1's ``dt_proj.weight @ x``)."""

    def __init__(self, parameters: Any) -> None:
        super().__init__()
        self.storages = {p.untyped_storage().data_ptr() for p in parameters}
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func._overloadpacket
        if (packet in flop_registry and "convolution" not in str(packet)
                and any(isinstance(a, torch.Tensor)
                        and a.untyped_storage().data_ptr() in self.storages for a in args)):
            self.flops += flop_registry[packet](*args, **kwargs, out_val=out)
        return out


def _scan_counts(model: Any, input_ids: Any, mixers: list[str]) -> dict[str, Any]:
    """The chunked scan's FLOPs in the linear mixers, forward and forward + backward.

    FlopCounterMode attributes forward ops to modules, but not backward ops (its module
    tracking in the backward pass puts a mixer's backward under other modules). So each
    mixer is run again on its own, on the input it got in the model (requiring grad as
    there), forward and backward under a counter: its FLOPs less its projections' (its
    children's, and its own products with a parameter, Mamba-1's dt_proj; a projection's
    backward is twice its forward) and less the convolution are the scan's. The ops FlopCounterMode has no formula for, seen in these replays, are
    returned too (forward calls): they belong to the scan.
    """
    captured: dict[str, tuple[Any, Any]] = {}
    prefix = type(model).__name__ + "."

    def grab(name: str) -> Any:
        def hook(_module: Any, args: Any, kwargs: Any) -> None:
            def copy(x: Any) -> Any:
                if isinstance(x, torch.Tensor) and x.is_floating_point():
                    return x.detach().clone().requires_grad_(x.requires_grad)
                return x
            captured[name] = (tuple(copy(a) for a in args),
                              {k: copy(v) for k, v in kwargs.items()})
        return hook

    handles = [model.get_submodule(name.removeprefix(prefix)).register_forward_pre_hook(
        grab(name), with_kwargs=True) for name in mixers]
    try:
        model(input_ids=input_ids, use_cache=False)
    finally:
        for handle in handles:
            handle.remove()
    forward = backward = 0
    uncounted = _UncountedOps()
    for name in mixers:
        module = model.get_submodule(name.removeprefix(prefix))
        args, kwargs = captured[name]
        fwd = FlopCounterMode(display=False)
        projections = _ParameterMatmuls(module.parameters())
        with fwd, uncounted, projections:
            module(*args, **kwargs)
        counts = fwd.get_flop_counts()
        root = type(module).__name__  # the counter's name of the replayed module
        # Projections: the children's (each on its weight), and those the module runs on a
        # parameter itself.
        assert projections.flops >= _children_matmuls(counts, root), name
        children = projections.flops
        own = _own_matmuls(counts, "Global") - children
        fb = FlopCounterMode(display=False)
        with fb:
            out = module(*args, **kwargs)
            out = out[0] if isinstance(out, tuple) else out
            out.backward(torch.ones_like(out))
        forward += own
        backward += (_own_matmuls(fb.get_flop_counts(), "Global")
                     - 3 * children)
    return dict(forward_scan=int(forward), forward_backward_scan=int(backward),
                uncounted_ops_in_scan={k: v["calls"] for k, v in uncounted.ops.items()})


def _count(model: Any, vocab: int) -> dict[str, Any]:
    torch.manual_seed(1)
    input_ids = torch.randint(0, vocab, (BATCH, SEQ_LEN))
    model.train()
    fwd = FlopCounterMode(display=False)
    uncounted = _UncountedOps()
    with fwd, uncounted:
        logits = model(input_ids=input_ids, use_cache=False).logits
    assert logits.shape[:2] == (BATCH, SEQ_LEN), logits.shape
    labels = torch.randint(0, logits.shape[-1], (BATCH, SEQ_LEN))
    del logits
    model.zero_grad(set_to_none=True)
    fb = FlopCounterMode(display=False)
    with fb:
        logits = model(input_ids=input_ids, use_cache=False).logits
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.view(-1))
        loss.backward()
    counts = fwd.get_flop_counts()
    mixers = _linear_mixers(counts)
    hybrid: dict[str, Any] = {}
    if mixers:
        # The scan, in the chunked matmul form transformers' CPU path runs, and the
        # depthwise convolutions (their K - 1 padding outputs dropped; FlopCounterMode's
        # convolution_backward formula leaves out groups, so a depthwise convolution's
        # weight gradient is counted channels times over): set apart for the reader's test.
        conv = "convolution"
        hybrid = dict(
            linear_mixers=len(mixers),
            forward_conv=int(sum(v for op, v in counts["Global"].items() if str(op).endswith(conv))),
            forward_backward_conv=int(sum(v for op, v in fb.get_flop_counts()["Global"].items()
                                          if conv in str(op))),
            **_scan_counts(model, input_ids, mixers))
        # The replay's forward scan is at most what the model's forward attributed to the
        # mixers themselves (which includes projections they run on a parameter).
        attributed = sum(_own_matmuls(counts, n) - _children_matmuls(counts, n) for n in mixers)
        assert attributed >= hybrid["forward_scan"], (attributed, hybrid["forward_scan"])
    return dict(
        **hybrid,
        flops_forward=int(fwd.get_total_flops()),
        flops_forward_backward=int(fb.get_total_flops()),
        flops_forward_by_op={str(k): int(v) for k, v in sorted(
            fwd.get_flop_counts()["Global"].items(), key=lambda kv: str(kv[0]))},
        flops_forward_backward_by_op={str(k): int(v) for k, v in sorted(
            fb.get_flop_counts()["Global"].items(), key=lambda kv: str(kv[0]))},
        uncounted_ops=uncounted.ops,
    )


def classify(key: str) -> tuple[str, Any]:
    """('build', text config) or ('skip', reason)."""
    config = AutoConfig.for_model(key)
    if getattr(config, "is_encoder_decoder", False):
        return "skip", "encoder-decoder (is_encoder_decoder)"
    if key in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return "skip", "encoder with an LM head (also a masked-LM family)"
    text = config.get_text_config()
    if text is not config:
        if text.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and text.model_type != key:
            return "skip", f"multimodal wrapper; its text config is family {text.model_type!r}"
        return "build", text
    return "build", config


def run_family(key: str) -> dict[str, Any]:
    entry: dict[str, Any] = dict(family=key, causal_lm_class=MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[key])
    try:
        kind, value = classify(key)
    except Exception as error:  # noqa: BLE001 - recorded
        entry.update(status="config_failed", reason=f"{type(error).__name__}: {error}"[:400])
        return entry
    if kind == "skip":
        entry.update(status="skipped", reason=value)
        return entry
    config = value
    entry["model_type"] = config.model_type
    try:
        torch.manual_seed(0)
        config = shrink(config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = _build(entry["causal_lm_class"], config)
        entry["hf_config"] = hf.jsonable(model.config.to_dict())
        entry["params"] = int(model.num_parameters())
        entry["batch"], entry["seq_len"] = BATCH, SEQ_LEN
        vocab = model.get_input_embeddings().num_embeddings
        entry.update(_count(model, vocab))
        entry["status"] = "built"
    except Exception as error:  # noqa: BLE001 - recorded
        last = traceback.extract_tb(error.__traceback__)[-1]
        entry.update(status="build_failed",
                     reason=f"{type(error).__name__}: {error}"[:400]
                     + f" (at {os.path.basename(last.filename)}:{last.lineno})")
    return entry


def _child(key: str, conn: Any) -> None:
    conn.send(run_family(key))
    conn.close()


def run_isolated(key: str) -> dict[str, Any]:
    """run_family in a forked child (transformers already imported), killed after TIMEOUT_S."""
    parent, child = multiprocessing.get_context("fork").Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(target=_child, args=(key, child))
    process.start()
    child.close()
    entry: dict[str, Any] | None = None
    if parent.poll(TIMEOUT_S):
        entry = parent.recv()
    process.join(5)
    if process.is_alive():
        process.kill()
        process.join()
    if entry is None:
        entry = dict(family=key, causal_lm_class=MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[key],
                     status="build_failed",
                     reason=f"no result within {TIMEOUT_S} s (exit code {process.exitcode})")
    return entry


def _replace_entries(families: list[dict[str, Any]]) -> None:
    """Replace these families' entries in the committed file, keeping every other one."""
    data = json.loads(OUT.read_text())
    if (data["transformers"], data["torch"]) != (transformers.__version__, torch.__version__):
        msg = (f"{OUT.name} was made with transformers {data['transformers']} and torch "
               f"{data['torch']}: regenerate the whole file with these versions instead")
        raise SystemExit(msg)
    new = {entry["family"]: entry for entry in families}
    data["families"] = [new.get(entry["family"], entry) for entry in data["families"]]
    hf.write_json(OUT, data, indent=1)
    print(f"replaced {', '.join(new)} in {OUT.relative_to(hf.REPO_ROOT)}")


def main(argv: list[str]) -> int:
    torch.set_num_threads(1)
    update = argv[:1] == ["--update"]
    if update:
        argv = argv[1:]
    keys = argv or list(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)
    t0 = time.time()
    families = []
    for key in keys:
        t = time.time()
        entry = run_isolated(key)
        families.append(entry)
        detail = (f"params={entry['params']:,d} fwd={entry['flops_forward']:,d}"
                  if entry["status"] == "built" else entry.get("reason", ""))
        print(f"{key:28s} {entry['status']:13s} {detail[:150]} ({time.time() - t:.1f}s)",
              flush=True)
    if update:
        _replace_entries(families)
        return 0
    if argv:
        return 0
    hf.write_json(OUT, dict(
        hf.header(GENERATOR),
        made_by=("each family's default config class, shrunk by tools/make_golden_hf_families.py "
                 f"(_SIZES, {N_LAYERS} layers), built with attn_implementation='eager' and "
                 "experts_implementation='eager' where accepted, float32 on the CPU, "
                 "torch.manual_seed(0); train() mode, no cache"),
        counter=("torch.utils.flop_counter.FlopCounterMode, Global totals; params from "
                 "num_parameters(); uncounted_ops: forward ops with multiply-adds the counter "
                 "has no formula for, with hand counts where a formula is given"),
        batch=BATCH, seq_len=SEQ_LEN, families=families,
    ), indent=1)
    counts: dict[str, int] = {}
    for entry in families:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    print(f"wrote {OUT.relative_to(hf.REPO_ROOT)}: {counts} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
