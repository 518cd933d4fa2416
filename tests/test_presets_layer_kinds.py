"""Presets of 2024-2025 models: exact against transformers, and at their published totals.

The exact counts are ``num_parameters()`` of each released config built on the meta
device by tools/make_golden_layer_kinds.py (tests/data/golden_layer_kinds.json). The
published totals are quoted to the precision each source prints them, so each is checked
to half a unit of its last printed digit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import scalingperf as sp

GOLDEN = json.loads((Path(__file__).parent / "data" / "golden_layer_kinds.json").read_text())
HF_PARAMS = {preset["name"]: preset["params"] for preset in GOLDEN["presets"]}


def _params(name: str) -> sp.Report:
    return sp.estimate(sp.Architecture.preset(name), batch=1, seq_len=128,
                       hardware="H100-SXM").params


@pytest.mark.parametrize("name", sorted(HF_PARAMS))
def test_preset_equals_transformers_model(name: str) -> None:
    assert _params(name).total == HF_PARAMS[name]


# (preset, which count, published value, half a unit of its last digit, source)
PUBLISHED = [
    # Gemma Team 2024, Gemma 2 report, Table 1: non-embedding parameters, exact.
    ("gemma-2-9b", "non_embedding", 8_324_201_984, 0, "Gemma 2, Table 1"),
    ("gemma-2-27b", "non_embedding", 26_047_480_320, 0, "Gemma 2, Table 1"),
    # Gemma Team 2025, Gemma 3 report, Table 1: 25,600M non-embedding parameters.
    ("gemma-3-27b", "non_embedding", 25_600e6, 0.5e6, "Gemma 3, Table 1"),
    # Qwen3 model cards (Qwen/Qwen3-8B, -32B, -235B-A22B): total and non-embedding.
    ("qwen3-8b", "total", 8.2e9, 0.05e9, "Qwen3-8B model card"),
    ("qwen3-8b", "non_embedding", 6.95e9, 0.005e9, "Qwen3-8B model card"),
    ("qwen3-32b", "total", 32.8e9, 0.05e9, "Qwen3-32B model card"),
    ("qwen3-32b", "non_embedding", 31.2e9, 0.05e9, "Qwen3-32B model card"),
    ("qwen3-235b-a22b", "total", 235e9, 0.5e9, "Qwen3-235B-A22B model card"),
    ("qwen3-235b-a22b", "non_embedding", 234e9, 0.5e9, "Qwen3-235B-A22B model card"),
    ("qwen3-235b-a22b", "active", 22e9, 0.5e9, "Qwen3-235B-A22B model card"),
    # DeepSeek-AI 2024, DeepSeek-V3 report, abstract: 671B total, 37B activated per token
    # (printed truncated: the activated count with embeddings is 37.55B).
    ("deepseek-v3", "total", 671e9, 0.5e9, "DeepSeek-V3 report, abstract"),
    ("deepseek-v3", "active", 37.5e9, 0.5e9, "DeepSeek-V3 report, abstract (37B)"),
    # OpenAI 2025, gpt-oss model card, Table 1: total, and active per token counting the
    # unembedding but not the embedding table (a lookup): active non-embedding + V d.
    ("gpt-oss-120b", "total", 116.83e9, 0.005e9, "gpt-oss model card, Table 1"),
    ("gpt-oss-120b", "active_with_unembedding", 5.13e9, 0.005e9, "gpt-oss model card, Table 1"),
    ("gpt-oss-20b", "total", 20.91e9, 0.005e9, "gpt-oss model card, Table 1"),
    ("gpt-oss-20b", "active_with_unembedding", 3.61e9, 0.005e9, "gpt-oss model card, Table 1"),
    # Meta 2025, Llama 4 model card: 17B active for both; 400B total for Maverick (its
    # vision encoder is well under the rounding). Scout's printed 109B total includes the
    # vision encoder, so only its active count is checked here.
    ("llama-4-scout", "active", 17e9, 0.5e9, "Llama 4 model card"),
    ("llama-4-maverick", "active", 17e9, 0.5e9, "Llama 4 model card"),
    ("llama-4-maverick", "total", 400.5e9, 0.5e9, "Llama 4 model card (400B, truncated)"),
    # Qwen3-Next-80B-A3B model card: 80B total, 3B activated (embeddings not counted:
    # with them the activated count is 3.87B).
    ("qwen3-next-80b-a3b", "total", 80e9, 0.5e9, "Qwen3-Next-80B-A3B model card"),
    ("qwen3-next-80b-a3b", "active_non_embedding", 3e9, 0.5e9, "Qwen3-Next-80B-A3B model card"),
    # Abdin et al. 2024, Phi-3 report, §2: 3.8B (mini) and 14B (medium).
    ("phi-3-mini", "total", 3.8e9, 0.05e9, "Phi-3 report, §2"),
    ("phi-3-medium", "total", 14e9, 0.5e9, "Phi-3 report, §2"),
]


@pytest.mark.parametrize(("name", "count", "published", "half_unit", "source"), PUBLISHED)
def test_preset_matches_published_count(name: str, count: str, published: float,
                                        half_unit: float, source: str) -> None:
    p = _params(name)
    arch = sp.Architecture.preset(name)
    if count == "active_with_unembedding":
        value = p.active_non_embedding + arch.vocab_size * arch.d_model
    else:
        value = getattr(p, count)
    assert abs(value - published) <= half_unit, source
