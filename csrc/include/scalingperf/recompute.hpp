#pragma once
/// What activation recomputation does with one op: the share of its forward that backward
/// redoes and what it keeps saved. Full recomputation redoes every op of a layer and keeps
/// only the layer's input (memory.cpp counts that checkpoint); selective redoes Megatron-
/// Core's recompute_modules (workload.hpp), by default the attention core (Korthikanti et
/// al. 2022 §4.2.2); per-op checkpointing has its own walk (per_op_checkpoint.hpp).

#include "scalingperf/architecture.hpp"
#include "scalingperf/op_cost.hpp"
#include "scalingperf/ops.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

struct RecomputeDecision {
  double redone = 0;  ///< the share of the op's forward redone in backward
  /// Memory traffic redone beyond that share, divided like the op's (moe_act: the experts'
  /// activation, which the op's time folds into its GEMMs).
  double redone_bytes = 0;
  double saved_split = 0, saved_replicated = 0, saved_unsplit = 0, saved_sequence_only = 0;
};

namespace detail {

constexpr bool reads_pre_norm(Op op) {
  // The projections and the router that read a block's pre-norm output and keep it (MLA's
  // key-value down projection reads it too, but leaves keeping it to the query side).
  return op == Op::qkv_proj || op == Op::mla_q_down || op == Op::mlp_up || op == Op::router;
}

}  // namespace detail

/// The decision for recompute none, full or selective (not per_op).
inline RecomputeDecision recompute_decision(const Architecture& a, const Workload& w,
                                            const OpCost& op) {
  using namespace recompute_module;
  RecomputeDecision d{0, 0, op.saved_split, op.saved_replicated, op.saved_unsplit,
                      op.saved_sequence_only};
  if (!op.recomputed_full || w.recompute == Recompute::none) return d;
  if (w.recompute == Recompute::full) return RecomputeDecision{1, 0, 0, 0, 0, 0};
  const std::uint8_t m = w.recompute_modules;
  const double act = bytes_of(w.dtype);
  const double stream = checkpoint_bytes(a, w);  // one micro-batch of the residual stream
  const auto redo = [&](bool keep_input) {
    d.redone = 1;
    d.saved_split = d.saved_unsplit = d.saved_sequence_only = 0;
    d.saved_replicated = keep_input ? d.saved_replicated : 0;
  };
  // Whole-module checkpoints keep the module's input: a block's pre-norm output, kept by
  // its first op (the MLP's up projection, the MoE's router).
  if ((m & mlp) && is_dense_mlp(op.op)) {
    redo(op.op == Op::mlp_up);
  } else if ((m & moe) && is_moe_body(op.op)) {
    redo(false);
    if (op.op == Op::router) d.saved_replicated = stream;
  } else if ((m & shared_experts) &&
             (op.op == Op::shared_experts || op.op == Op::shared_expert_gate)) {
    redo(false);
  }
  // The attention core: the softmax's scores are dropped, Q, K and V stay (§4.2.2).
  if ((m & core_attn) && op.recomputed_selective) {
    d.redone = 1;
    if (op.kind == OpKind::elementwise) d.saved_split = d.saved_unsplit = d.saved_replicated = 0;
  }
  // Output-discarding checkpoints: the output goes after its consumers' forward and is
  // rebuilt from the module's input, which stays saved anyway.
  const bool pre_norm = has_pre_norm(a.norm_placement);
  if ((m & layernorm) && pre_norm) {
    if (op.op == Op::attn_norm || op.op == Op::mlp_norm || op.op == Op::moe_norm) d.redone = 1;
    if (detail::reads_pre_norm(op.op)) {
      d.saved_replicated = d.saved_replicated > stream ? d.saved_replicated - stream : 0;
    }
  }
  if ((m & moe_act) && op.op == Op::routed_experts) {
    // The activation's output, the down projection's input; rebuilt from its input(s).
    const double output = expert_hidden_bytes(
        a, static_cast<double>(w.batch) * static_cast<double>(w.seq_len), act);
    const double inputs =
        output * detail::activation_saves(a.ffn, w.implementation == Implementation::huggingface,
                                          a.activation_saves);
    // As kept: quantized when the down projection runs in FP8 (saved_gemm_input_bytes).
    const double kept = output * saved_gemm_input_bytes(w) / act;
    if (d.saved_split >= kept) d.saved_split -= kept;
    if (d.redone < 1) d.redone_bytes = inputs + output;
  }
  if ((m & mla_up_proj) && is_mla(a)) {
    if (op.op == Op::mla_q_up || op.op == Op::mla_kv_up || op.op == Op::rope) d.redone = 1;
    // Q, K and V are the up projections' outputs (with RoPE applied).
    if (op.op == Op::attn_scores || op.op == Op::attn_values) d.saved_split = 0;
  }
  return d;
}

/// Whether a recomputation redoes the collectives of an op group's forward: the dense MLP's
/// or an MoE block's tensor- and expert-parallel ones under selective mlp / moe, the ring
/// attention's under core_attn; every one under full.
inline bool redoes_mlp(const Workload& w) {
  return w.recompute == Recompute::full ||
         (w.recompute == Recompute::selective && (w.recompute_modules & recompute_module::mlp));
}
inline bool redoes_moe(const Workload& w) {
  return w.recompute == Recompute::full ||
         (w.recompute == Recompute::selective && (w.recompute_modules & recompute_module::moe));
}
inline bool redoes_attention_core(const Workload& w) {
  return w.recompute == Recompute::full ||
         (w.recompute == Recompute::selective &&
          (w.recompute_modules & recompute_module::core_attn));
}

}  // namespace scalingperf
