#!/usr/bin/env python3
"""What transformers' activation modules save for the backward pass, per config name.

The oracle is PyTorch autograd: each activation of ``transformers.activations.ACT2FN``
that a decoder config may name (``hidden_act``, ``activation_function``, ``afn``) is
applied to a float32 tensor that requires grad (the output of a multiply, as the up
projection's output is in a model), inside ``torch.autograd.graph.saved_tensors_hooks``;
the distinct storages saved (a module's own parameters left out) are summed and divided
by the input's bytes: the tensors of the FFN's hidden width that the activation keeps.
A boolean mask (xIELU's sign test) adds a quarter of a float32 tensor. Nothing here uses
the scalingperf package.

    pip install torch==2.13.0 transformers
    python tools/make_golden_activation_saves.py   # writes tests/data/golden_activation_saves.json
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _hf_models as hf
import torch
from transformers.activations import ACT2FN

OUT = hf.REPO_ROOT / "tests" / "data" / "golden_activation_saves.json"
NAMES = ("gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "gelu_python", "quick_gelu",
         "gelu_accurate", "relu", "relu2", "silu", "swish", "xielu")
ROWS, WIDTH = 64, 96


def saved_tensors(name: str) -> float:
    """Bytes the activation saves for backward, in units of its input's bytes."""
    module = ACT2FN[name]
    own = {p.untyped_storage().data_ptr() for p in getattr(module, "parameters", list)()}
    x = torch.randn(ROWS, WIDTH, requires_grad=True) * 1.0
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in own:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x)
    return sum(storages.values()) / (x.numel() * x.element_size())


def main() -> int:
    torch.manual_seed(0)
    saves = {name: saved_tensors(name) for name in NAMES}
    for name, value in saves.items():
        print(f"{name:20s} {value:.3f}")
    hf.write_json(OUT, dict(
        hf.header("tools/make_golden_activation_saves.py"),
        method=("bytes of the distinct storages saved for backward by ACT2FN[name] on a "
                f"float32 ({ROWS}, {WIDTH}) tensor requiring grad, its parameters left out, "
                "over the input's bytes"),
        saves=saves), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
