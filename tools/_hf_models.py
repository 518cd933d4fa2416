"""Hugging Face plumbing shared by the golden-data generators in this folder.

``make_golden_flops.py`` and ``make_golden_activations.py`` import this module
(they put this folder on ``sys.path``).  Models are built FROM CONFIG OBJECTS
ONLY (random init, no weights, no hub access).  Nothing here uses the
scalingperf package.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # must be set before transformers is imported

import torch
import transformers
from transformers import (
    AutoModelForCausalLM,
    GPT2Config,
    LlamaConfig,
    MistralConfig,
    MixtralConfig,
    Qwen2Config,
    Qwen2MoeConfig,
)

REPO_ROOT = Path(__file__).resolve().parent.parent

CONFIG_CLASSES = {
    "gpt2": GPT2Config,
    "llama": LlamaConfig,
    "mistral": MistralConfig,
    "qwen2": Qwen2Config,
    "mixtral": MixtralConfig,
    "qwen2_moe": Qwen2MoeConfig,
}
MOE_FAMILIES = {"mixtral", "qwen2_moe"}


def dropout_kwargs(family: str, p: float) -> dict:
    """Config kwargs setting every dropout probability to ``p`` (router jitter always 0)."""
    if family == "gpt2":
        return dict(resid_pdrop=p, embd_pdrop=p, attn_pdrop=p, summary_first_dropout=p)
    if family == "mixtral":
        return dict(attention_dropout=p, router_jitter_noise=0.0)
    return dict(attention_dropout=p)


def make_config(family: str, cfg: dict, dropout: float | None = None):
    """The family's config object from ``cfg``; ``dropout`` given: all dropouts set to it."""
    kwargs = dict(cfg)
    if dropout is not None:
        kwargs.update(dropout_kwargs(family, dropout))
    return CONFIG_CLASSES[family](**kwargs)


def build_model(family: str, config, attn: str = "eager", dtype: torch.dtype = torch.float32):
    """A randomly initialised causal LM for ``config``.

    Initialised in float32 and then cast to ``dtype``.  MoE experts use the
    eager per-expert loop (a ``from_config`` kwarg in transformers 5) rather
    than ``grouped_mm``, so every expert matmul runs as a visible op.
    """
    kwargs = dict(attn_implementation=attn, dtype=torch.float32)
    if family in MOE_FAMILIES:
        kwargs["experts_implementation"] = "eager"
    model = AutoModelForCausalLM.from_config(config, **kwargs)
    assert model.config._attn_implementation == attn, model.config._attn_implementation
    if family in MOE_FAMILIES:
        assert model.config._experts_implementation == "eager", model.config._experts_implementation
    model.to(dtype)
    assert all(p.dtype == dtype for p in model.parameters())
    return model


def decoder_layers(model):
    if hasattr(model, "transformer"):  # gpt2
        return model.transformer.h
    return model.model.layers


def num_routed_experts(config) -> int:
    return getattr(config, "num_local_experts", None) or config.num_experts


class ExpertTokenRecorder:
    """Counts the tokens each routed expert actually processed, per MoE layer.

    A forward pre-hook on every ``mlp.experts`` module reads the ``top_k_index``
    tensor that the experts module receives from its router (the exact routing
    decision the eager experts loop uses to pick ``hidden_states[token_idx]``
    for each expert).  A bincount over it gives the number of token rows each
    expert's matmuls were run on; top-k indices of one token are distinct, so
    that equals the number of tokens routed to the expert.  Hooking the input
    of the experts module (rather than recomputing top-k from router logits)
    records what was actually computed, including tie-breaking by torch.topk.
    """

    def __init__(self, model, num_experts: int):
        self.num_experts = num_experts
        self.moe_layers = []
        self.counts = {}
        self.handles = []
        for idx, layer in enumerate(decoder_layers(model)):
            experts = getattr(layer.mlp, "experts", None)
            if experts is None:
                continue
            self.moe_layers.append(idx)
            self.handles.append(
                experts.register_forward_pre_hook(self._hook(idx), with_kwargs=True)
            )

    def _hook(self, idx):
        def hook(module, args, kwargs):
            top_k_index = args[1] if len(args) > 1 else kwargs["top_k_index"]
            counts = torch.bincount(top_k_index.reshape(-1), minlength=self.num_experts)
            self.counts[idx] = [int(c) for c in counts[: self.num_experts]]
        return hook

    def reset(self):
        self.counts = {}

    def table(self):
        return [self.counts[i] for i in self.moe_layers]

    def remove(self):
        for h in self.handles:
            h.remove()


def random_batch(vocab: int, batch: int, seq_len: int):
    """Uniformly random ``(input_ids, labels)``, each of shape (batch, seq_len)."""
    input_ids = torch.randint(0, vocab, (batch, seq_len))
    labels = torch.randint(0, vocab, (batch, seq_len))
    return input_ids, labels


# --------------------------------------------------------------------------
# JSON output
# --------------------------------------------------------------------------
def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def jsonable(obj):
    """Recursively convert a config dict into plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, torch.dtype):
        return dtype_name(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)


def header(generator: str) -> dict:
    """The leading fields of a golden file: generator script and library versions."""
    return dict(generator=generator, torch=torch.__version__,
                transformers=transformers.__version__)


def write_json(path: Path, data: dict, indent: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent) + "\n")
