"""Golden data: the memory traffic of a Llama layer's memory-bound ops in eager PyTorch.

Without torch.compile (or Megatron's fused kernels) every aten op is a kernel of its own
that reads its inputs from memory and writes its output back. This script runs
transformers' Llama modules (built from a config object, random init, no weights) in
bfloat16 under a TorchDispatchMode and adds up, per aten op, the bytes of the tensors it
reads and writes, forward and backward, for:

- ``rms_norm``: ``LlamaRMSNorm`` (float32 upcast, square, mean, rsqrt, two products,
  downcast): bytes per normalised element;
- ``swiglu``: the gated activation ``silu(gate) * up``: bytes per element of ``up``;
- ``rope``: ``apply_rotary_pos_emb`` on q and k: bytes per rotated element.

Views (an op whose every output shares storage with an input) move nothing; a broadcast
input counts its distinct elements only. Writes ``tests/data/eager_elementwise.json``;
``tests/test_eager_elementwise.py`` holds the model's eager byte counts to it.

    python tools/make_golden_eager_elementwise.py
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
import transformers
from _hf_models import REPO_ROOT
from torch.utils._python_dispatch import TorchDispatchMode
from transformers import LlamaConfig
from transformers.activations import ACT2FN
from transformers.models.llama import modeling_llama

OUT = REPO_ROOT / "tests" / "data" / "eager_elementwise.json"
TOKENS, WIDTH, HEADS, HEAD_DIM = 512, 256, 4, 64


def _distinct_bytes(t: torch.Tensor) -> int:
    """Bytes of the elements a kernel reads: a broadcast (stride 0) dimension once."""
    elements = math.prod(size for size, stride in zip(t.shape, t.stride(), strict=True)
                         if stride != 0)
    return elements * t.element_size()


def _tensors(tree: Any) -> list[torch.Tensor]:
    leaves, _ = torch.utils._pytree.tree_flatten(tree)
    return [x for x in leaves if isinstance(x, torch.Tensor)]


class Traffic(TorchDispatchMode):
    """Bytes read and written by every non-view aten op, with the op's name."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[tuple[str, int]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs, outputs = _tensors((args, kwargs)), _tensors(out)
        storages = {x.untyped_storage().data_ptr() for x in inputs}
        in_place = func._schema.name.endswith("_") or any(
            a.alias_info is not None and a.alias_info.is_write for a in func._schema.arguments)
        if outputs and not in_place and all(
                o.untyped_storage().data_ptr() in storages for o in outputs):
            return out  # a view: nothing moves
        moved = sum(_distinct_bytes(x) for x in inputs if x.numel() > 0)
        moved += sum(o.numel() * o.element_size() for o in outputs if not in_place)
        self.ops.append((str(func.overloadpacket.__name__), moved))
        return out


def _measure(forward, inputs: list[torch.Tensor], per: int) -> dict[str, Any]:
    with Traffic() as fwd:
        out = forward(*inputs)
    grads = [torch.randn_like(o) for o in _tensors(out)]
    with Traffic() as bwd:
        torch.autograd.backward(_tensors(out), grads)
    return {"forward_bytes_per_element": sum(b for _, b in fwd.ops) / per,
            "backward_bytes_per_element": sum(b for _, b in bwd.ops) / per,
            "forward_kernels": [name for name, _ in fwd.ops],
            "backward_kernels": [name for name, _ in bwd.ops]}


def main() -> None:
    torch.manual_seed(0)
    dtype = torch.bfloat16
    config = LlamaConfig(hidden_size=WIDTH, num_attention_heads=HEADS,
                         num_key_value_heads=HEADS, head_dim=HEAD_DIM,
                         intermediate_size=4 * WIDTH, num_hidden_layers=1, vocab_size=128)
    norm = modeling_llama.LlamaRMSNorm(WIDTH, eps=config.rms_norm_eps).to(dtype)
    x = torch.randn(1, TOKENS, WIDTH, dtype=dtype, requires_grad=True)
    rms = _measure(norm, [x], TOKENS * WIDTH)

    silu = ACT2FN[config.hidden_act]
    gate, up = (torch.randn(1, TOKENS, 4 * WIDTH, dtype=dtype, requires_grad=True)
                for _ in range(2))
    swiglu = _measure(lambda g, u: silu(g) * u, [gate, up], TOKENS * 4 * WIDTH)

    rotary = modeling_llama.LlamaRotaryEmbedding(config)
    positions = torch.arange(TOKENS)[None]
    q, k = (torch.randn(1, HEADS, TOKENS, HEAD_DIM, dtype=dtype, requires_grad=True)
            for _ in range(2))
    cos, sin = (t.to(dtype) for t in rotary(q, positions))
    rope = _measure(lambda a, b: modeling_llama.apply_rotary_pos_emb(a, b, cos, sin),
                    [q, k], 2 * HEADS * TOKENS * HEAD_DIM)

    data = {
        "what": "bytes each memory-bound op of a Llama layer reads and writes in eager "
                "PyTorch (every aten op a kernel), per element, bfloat16",
        "generator": "tools/make_golden_eager_elementwise.py",
        "torch": torch.__version__, "transformers": transformers.__version__,
        "shape": {"tokens": TOKENS, "width": WIDTH, "heads": HEADS, "head_dim": HEAD_DIM},
        "rms_norm": rms, "swiglu": swiglu, "rope": rope,
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    for name in ("rms_norm", "swiglu", "rope"):
        print(f"{name:8s} forward {data[name]['forward_bytes_per_element']:6.2f} B  "
              f"backward {data[name]['backward_bytes_per_element']:6.2f} B per element")


if __name__ == "__main__":
    main()
