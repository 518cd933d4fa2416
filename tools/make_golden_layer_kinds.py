"""Golden parameters and FLOPs of the layer designs of 2024-2026, from transformers.

Builds small random models FROM CONFIG OBJECTS (no weights, no hub access) of the
families whose counts depend on the per-layer features of the core: sliding-window and
chunked attention patterns, QK-norm, sandwich and post norms, parallel blocks, LayerNorm
without bias, LM-head, router and expert biases, attention sinks, multi-head latent
attention and dense/MoE layer patterns. For each it records ``num_parameters()`` and the
FLOPs ``torch.utils.flop_counter.FlopCounterMode`` counts (matmuls only: mm, addmm, bmm,
baddbmm) for one forward and one forward + backward of a ``(batch, seq_len)`` batch, with
eager attention (the masked full square) and eager experts (a loop over the experts that
got tokens, so the expert FLOPs are exactly top_k per token whatever the routing).

Writes tests/data/golden_layer_kinds.json. Run with a virtual environment holding
``torch==2.13.0`` (CPU) and transformers 5::

    python tools/make_golden_layer_kinds.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _hf_models as hf
import torch
import torch.nn.functional as F
import transformers
from torch.utils.flop_counter import FlopCounterMode
from transformers import AutoModelForCausalLM

OUT = hf.REPO_ROOT / "tests" / "data" / "golden_layer_kinds.json"
BATCH, SEQ_LEN = 2, 16

# Small shapes: every width distinct where the formulas could confuse them.
_COMMON = dict(vocab_size=512, hidden_size=64, max_position_embeddings=128)

#: (name, config class, config kwargs, experts run eagerly)
CASES = [
    ("qwen3", "Qwen3Config",
     dict(_COMMON, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
          num_key_value_heads=2, head_dim=24, tie_word_embeddings=False), False),
    ("qwen3_moe", "Qwen3MoeConfig",
     dict(_COMMON, intermediate_size=96, moe_intermediate_size=40, num_hidden_layers=3,
          num_attention_heads=4, num_key_value_heads=2, head_dim=24, num_experts=4,
          num_experts_per_tok=2, decoder_sparse_step=1, mlp_only_layers=[0],
          norm_topk_prob=True, tie_word_embeddings=False), True),
    ("gemma2", "Gemma2Config",
     dict(_COMMON, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
          num_key_value_heads=2, head_dim=24, sliding_window=6), False),
    ("gemma3_text", "Gemma3TextConfig",
     dict(_COMMON, intermediate_size=96, num_hidden_layers=6, num_attention_heads=4,
          num_key_value_heads=2, head_dim=24, sliding_window=6), False),
    ("olmo2", "Olmo2Config",
     dict(_COMMON, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
          num_key_value_heads=2, tie_word_embeddings=False, pad_token_id=0, bos_token_id=1,
          eos_token_id=2), False),
    ("phi3", "Phi3Config",
     dict(_COMMON, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
          num_key_value_heads=2, tie_word_embeddings=False, pad_token_id=0, bos_token_id=1,
          eos_token_id=2), False),
    ("cohere", "CohereConfig",
     dict(_COMMON, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
          num_key_value_heads=2, use_qk_norm=True, pad_token_id=0, bos_token_id=1,
          eos_token_id=2), False),
    ("gptj", "GPTJConfig",
     dict(vocab_size=512, n_embd=64, n_layer=2, n_head=4, n_positions=128, rotary_dim=8,
          bos_token_id=1, eos_token_id=2), False),
    ("phi", "PhiConfig",
     dict(_COMMON, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
          bos_token_id=1, eos_token_id=2), False),
    ("falcon", "FalconConfig",
     dict(vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
          new_decoder_architecture=False, parallel_attn=True, multi_query=True, bias=False,
          alibi=False, bos_token_id=1, eos_token_id=2), False),
    ("gpt_oss", "GptOssConfig",
     dict(_COMMON, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
          num_key_value_heads=2, head_dim=24, num_local_experts=4, num_experts_per_tok=2,
          sliding_window=6, tie_word_embeddings=False), True),
    ("deepseek_v3", "DeepseekV3Config",
     dict(_COMMON, intermediate_size=96, moe_intermediate_size=40, num_hidden_layers=3,
          num_attention_heads=4, num_key_value_heads=4, n_routed_experts=4,
          num_experts_per_tok=2, n_shared_experts=1, n_group=2, topk_group=1,
          first_k_dense_replace=1, q_lora_rank=48, kv_lora_rank=32, qk_nope_head_dim=16,
          qk_rope_head_dim=8, v_head_dim=12, tie_word_embeddings=False), True),
    ("llama4_text", "Llama4TextConfig",
     dict(_COMMON, intermediate_size=40, intermediate_size_mlp=96, num_hidden_layers=4,
          num_attention_heads=4, num_key_value_heads=2, head_dim=24, num_local_experts=4,
          num_experts_per_tok=1, interleave_moe_layer_step=2, attention_chunk_size=6,
          pad_token_id=0, bos_token_id=1, eos_token_id=2), True),
    ("qwen3_next", "Qwen3NextConfig",
     dict(_COMMON, intermediate_size=96, moe_intermediate_size=40,
          shared_expert_intermediate_size=48, num_hidden_layers=4, num_attention_heads=4,
          num_key_value_heads=2, head_dim=24, num_experts=4, num_experts_per_tok=2,
          linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16,
          linear_value_head_dim=12, full_attention_interval=4, decoder_sparse_step=1,
          mlp_only_layers=[], tie_word_embeddings=False), True),
    ("bamba", "BambaConfig",
     dict(_COMMON, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
          num_key_value_heads=2, attn_layer_indices=[1], mamba_n_heads=8, mamba_d_head=16,
          mamba_n_groups=2, mamba_d_state=8, mamba_expand=2, mamba_chunk_size=8,
          tie_word_embeddings=False, pad_token_id=0, bos_token_id=1, eos_token_id=2), False),
    ("deepseek_v2", "DeepseekV2Config",
     dict(_COMMON, intermediate_size=96, moe_intermediate_size=40, num_hidden_layers=2,
          num_attention_heads=4, num_key_value_heads=4, n_routed_experts=4,
          num_experts_per_tok=2, n_shared_experts=2, first_k_dense_replace=1,
          q_lora_rank=None, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8,
          v_head_dim=12, tie_word_embeddings=False, topk_method="greedy"), True),
]


#: Full-size released configs (config.json of each model's repository on the Hugging Face
#: hub, the fields that change a count), built on the meta device for num_parameters().
PRESETS = [
    ("gemma-2-9b", "Gemma2Config", dict(
        vocab_size=256000, hidden_size=3584, intermediate_size=14336, num_hidden_layers=42,
        num_attention_heads=16, num_key_value_heads=8, head_dim=256, sliding_window=4096,
        max_position_embeddings=8192)),
    ("gemma-2-27b", "Gemma2Config", dict(
        vocab_size=256000, hidden_size=4608, intermediate_size=36864, num_hidden_layers=46,
        num_attention_heads=32, num_key_value_heads=16, head_dim=128, sliding_window=4096,
        max_position_embeddings=8192)),
    ("gemma-3-27b", "Gemma3TextConfig", dict(
        vocab_size=262208, hidden_size=5376, intermediate_size=21504, num_hidden_layers=62,
        num_attention_heads=32, num_key_value_heads=16, head_dim=128, sliding_window=1024,
        max_position_embeddings=131072)),
    ("qwen3-8b", "Qwen3Config", dict(
        vocab_size=151936, hidden_size=4096, intermediate_size=12288, num_hidden_layers=36,
        num_attention_heads=32, num_key_value_heads=8, head_dim=128,
        max_position_embeddings=40960, tie_word_embeddings=False)),
    ("qwen3-32b", "Qwen3Config", dict(
        vocab_size=151936, hidden_size=5120, intermediate_size=25600, num_hidden_layers=64,
        num_attention_heads=64, num_key_value_heads=8, head_dim=128,
        max_position_embeddings=40960, tie_word_embeddings=False)),
    ("qwen3-235b-a22b", "Qwen3MoeConfig", dict(
        vocab_size=151936, hidden_size=4096, intermediate_size=12288,
        moe_intermediate_size=1536, num_hidden_layers=94, num_attention_heads=64,
        num_key_value_heads=4, head_dim=128, num_experts=128, num_experts_per_tok=8,
        decoder_sparse_step=1, mlp_only_layers=[], max_position_embeddings=40960,
        tie_word_embeddings=False)),
    ("deepseek-v3", "DeepseekV3Config", dict(
        vocab_size=129280, hidden_size=7168, intermediate_size=18432,
        moe_intermediate_size=2048, num_hidden_layers=61, num_attention_heads=128,
        num_key_value_heads=128, n_routed_experts=256, num_experts_per_tok=8,
        n_shared_experts=1, first_k_dense_replace=3, q_lora_rank=1536, kv_lora_rank=512,
        qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, n_group=8, topk_group=4,
        max_position_embeddings=163840, tie_word_embeddings=False)),
    ("gpt-oss-20b", "GptOssConfig", dict(
        vocab_size=201088, hidden_size=2880, intermediate_size=2880, num_hidden_layers=24,
        num_attention_heads=64, num_key_value_heads=8, head_dim=64, num_local_experts=32,
        num_experts_per_tok=4, sliding_window=128, max_position_embeddings=131072,
        tie_word_embeddings=False)),
    ("gpt-oss-120b", "GptOssConfig", dict(
        vocab_size=201088, hidden_size=2880, intermediate_size=2880, num_hidden_layers=36,
        num_attention_heads=64, num_key_value_heads=8, head_dim=64, num_local_experts=128,
        num_experts_per_tok=4, sliding_window=128, max_position_embeddings=131072,
        tie_word_embeddings=False)),
    ("llama-4-scout", "Llama4TextConfig", dict(
        vocab_size=202048, hidden_size=5120, intermediate_size=8192,
        intermediate_size_mlp=16384, num_hidden_layers=48, num_attention_heads=40,
        num_key_value_heads=8, head_dim=128, num_local_experts=16, num_experts_per_tok=1,
        interleave_moe_layer_step=1, attention_chunk_size=8192,
        max_position_embeddings=10485760, tie_word_embeddings=False)),
    ("llama-4-maverick", "Llama4TextConfig", dict(
        vocab_size=202048, hidden_size=5120, intermediate_size=8192,
        intermediate_size_mlp=16384, num_hidden_layers=48, num_attention_heads=40,
        num_key_value_heads=8, head_dim=128, num_local_experts=128, num_experts_per_tok=1,
        interleave_moe_layer_step=2, attention_chunk_size=8192,
        max_position_embeddings=1048576, tie_word_embeddings=False)),
    ("qwen3-next-80b-a3b", "Qwen3NextConfig", dict(
        vocab_size=151936, hidden_size=2048, intermediate_size=5120,
        moe_intermediate_size=512, shared_expert_intermediate_size=512,
        num_hidden_layers=48, num_attention_heads=16, num_key_value_heads=2, head_dim=256,
        num_experts=512, num_experts_per_tok=10, linear_num_key_heads=16,
        linear_num_value_heads=32, linear_key_head_dim=128, linear_value_head_dim=128,
        linear_conv_kernel_dim=4, full_attention_interval=4, decoder_sparse_step=1,
        mlp_only_layers=[], max_position_embeddings=262144, tie_word_embeddings=False)),
    ("olmo-2-7b", "Olmo2Config", dict(
        vocab_size=100352, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096,
        tie_word_embeddings=False)),
    ("olmo-2-13b", "Olmo2Config", dict(
        vocab_size=100352, hidden_size=5120, intermediate_size=13824, num_hidden_layers=40,
        num_attention_heads=40, num_key_value_heads=40, max_position_embeddings=4096,
        tie_word_embeddings=False)),
    ("phi-3-mini", "Phi3Config", dict(
        vocab_size=32064, hidden_size=3072, intermediate_size=8192, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096,
        tie_word_embeddings=False, pad_token_id=32000)),
    ("phi-3-medium", "Phi3Config", dict(
        vocab_size=32064, hidden_size=5120, intermediate_size=17920, num_hidden_layers=40,
        num_attention_heads=40, num_key_value_heads=10, max_position_embeddings=4096,
        tie_word_embeddings=False, pad_token_id=32000)),
]


def preset_parameters(class_name: str, kwargs: dict) -> int:
    config = getattr(transformers, class_name)(**kwargs)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    return int(model.num_parameters())


def build(class_name: str, kwargs: dict, eager_experts: bool):
    config = getattr(transformers, class_name)(**kwargs)
    extra = dict(attn_implementation="eager", dtype=torch.float32)
    if eager_experts:
        extra["experts_implementation"] = "eager"
    model = AutoModelForCausalLM.from_config(config, **extra)
    assert model.config._attn_implementation == "eager"
    return config, model


def count(model, vocab: int) -> dict:
    torch.manual_seed(1)
    input_ids, labels = hf.random_batch(vocab, BATCH, SEQ_LEN)
    model.train()
    forward = FlopCounterMode(display=False)
    with forward:
        logits = model(input_ids).logits
    both = FlopCounterMode(display=False)
    with both:
        logits = model(input_ids).logits
        loss = F.cross_entropy(logits.reshape(-1, vocab), labels.reshape(-1))
        loss.backward()
    counts = forward.get_flop_counts()
    # A linear mixer's own FLOPs (its module's count less its children's; module counts
    # include their children's), convolutions left out: the scan, in the chunked matmul
    # form transformers' CPU path runs, which the core reports apart as elementwise work.
    def matmuls(name: str) -> int:
        return sum(v for op, v in counts[name].items() if "convolution" not in str(op))

    scan = 0
    for name in counts:
        if name.split(".")[-1] in ("linear_attn", "mamba"):
            children = sum(matmuls(child) for child in counts
                           if child.startswith(name + ".") and child.count(".") == name.count(".") + 1)
            scan += matmuls(name) - children
    conv = sum(v for op, v in counts["Global"].items() if "convolution" in str(op))
    return dict(flops_forward=int(forward.get_total_flops()),
                flops_forward_backward=int(both.get_total_flops()),
                forward_by_op={str(k): int(v) for k, v in counts["Global"].items()},
                forward_scan=int(scan), forward_conv=int(conv))


def main() -> int:
    cases = []
    for name, class_name, kwargs, eager_experts in CASES:
        torch.manual_seed(0)
        config, model = build(class_name, kwargs, eager_experts)
        record = dict(family=name, config_class=class_name, config=hf.jsonable(config.to_dict()),
                      batch=BATCH, seq_len=SEQ_LEN, params=int(model.num_parameters()))
        record.update(count(model, config.vocab_size))
        cases.append(record)
        print(f"{name:12s} params {record['params']:>9d} fwd {record['flops_forward']:>12d}")
    presets = []
    for name, class_name, kwargs in PRESETS:
        params = preset_parameters(class_name, kwargs)
        presets.append(dict(name=name, config_class=class_name, config=kwargs, params=params))
        print(f"{name:16s} params {params:>15,d}")
    data = hf.header("tools/make_golden_layer_kinds.py") | dict(
        counter="torch.utils.flop_counter.FlopCounterMode, eager attention, eager experts, "
                "float32, CPU", cases=cases, presets=presets)
    hf.write_json(OUT, data, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
