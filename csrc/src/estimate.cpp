#include "scalingperf/estimate.hpp"

#include "scalingperf/device.hpp"
#include "scalingperf/per_op_checkpoint.hpp"
#include "scalingperf/recompute.hpp"

namespace scalingperf {

std::vector<OpRow> op_table(const Architecture& arch, const Workload& work,
                            const Layout& layout, const Hardware& hw,
                            const Efficiency& efficiency) {
  std::vector<OpRow> rows;
  rows.reserve(32);
  const Roofline roof = roofline(work, layout, hw, efficiency);
  PerOpCheckpoint per_op(arch, work);
  const bool by_op = work.recompute == Recompute::per_op;
  for_each_op(arch, work, [&](const OpCost& op) {
    // The walk sees every op, as model_shape's does: its count runs through the sections.
    const PerOpDecision d = by_op ? per_op(op) : PerOpDecision{};
    if (op.count == 0) return;  // a section this depth has no layers of (see for_each_op)
    const RecomputeDecision decided =
        by_op ? RecomputeDecision{} : recompute_decision(arch, work, op);
    OpCost kept = op;
    kept.saved_split = by_op ? d.saved_split : decided.saved_split;
    kept.saved_replicated = by_op ? d.saved_replicated : decided.saved_replicated;
    kept.saved_unsplit = by_op ? d.saved_unsplit : decided.saved_unsplit;
    kept.saved_sequence_only = by_op ? d.saved_sequence_only : decided.saved_sequence_only;
    double saved = saved_per_device(kept, roof.share);
    const double redone = by_op ? d.redone : decided.redone;
    // Full recomputation drops everything a layer saves but its input, the checkpoint
    // (memory.cpp counts it per layer). That tensor is what the layer's first op reads
    // (attn_norm, unless the norms come after), so its row carries it: the table then sums
    // to memory.activations in every mode. An MTP module keeps its two inputs, on the rows
    // of their norms.
    if (work.recompute == Recompute::full && keeps_checkpoint(arch, op)) {
      saved = checkpoint_bytes(arch, work) * roof.share.sequence * roof.share.context;
    }
    // Backward as stage_times counts it: twice the forward, with the FP8 casts of the
    // output gradients, the GEMMs at their own reduction widths and flash attention's
    // recomputed scores. Context parallelism gives each rank 1 / cp of the op.
    const CastSeconds casts = fp8_casts(op, roof);
    const OpSeconds own = op_seconds(op, executed_forward(op, work), tiling(op, work), roof);
    const double forward = own.forward + casts.forward;
    double backward = 2 * forward + casts.backward - 2 * casts.forward + own.backward_extra;
    if (work.flash_attention && is_attention_core(op.op)) {
      backward += (flash_backward_multiple - 2) * forward;
    }
    rows.push_back(OpRow{op, redone * op.forward, params_per_device(op, roof.share), saved,
                         forward * roof.share.context, backward * roof.share.context});
  });
  return rows;
}

const char* name_of(Section section) {
  switch (section) {
    case Section::embedding: return "embedding";
    case Section::attention: return "attention";
    case Section::window_attention: return "window_attention";
    case Section::linear_mixer: return "linear_mixer";
    case Section::mlp: return "mlp";
    case Section::moe: return "moe";
    case Section::head: return "head";
    case Section::mtp: return "mtp";
  }
  return "?";
}

const char* name_of(OpKind kind) {
  return kind == OpKind::matmul ? "matmul" : "elementwise";
}

const char* name_of(Op op) {
  switch (op) {
    case Op::token_embedding: return "token_embedding";
    case Op::position_embedding: return "position_embedding";
    case Op::attn_norm: return "attn_norm";
    case Op::linear_in_proj: return "linear_in_proj";
    case Op::linear_x_proj: return "linear_x_proj";
    case Op::linear_dt_proj: return "linear_dt_proj";
    case Op::linear_conv: return "linear_conv";
    case Op::linear_scan: return "linear_scan";
    case Op::linear_norm: return "linear_norm";
    case Op::linear_out_proj: return "linear_out_proj";
    case Op::embedding_norm: return "embedding_norm";
    case Op::mla_q_down: return "mla_q_down";
    case Op::mla_q_norm: return "mla_q_norm";
    case Op::mla_q_up: return "mla_q_up";
    case Op::mla_kv_down: return "mla_kv_down";
    case Op::mla_kv_norm: return "mla_kv_norm";
    case Op::mla_kv_up: return "mla_kv_up";
    case Op::qk_norm: return "qk_norm";
    case Op::attn_gate: return "attn_gate";
    case Op::attn_head_gate: return "attn_head_gate";
    case Op::attn_post_norm: return "attn_post_norm";
    case Op::mlp_post_norm: return "mlp_post_norm";
    case Op::qkv_proj: return "qkv_proj";
    case Op::rope: return "rope";
    case Op::attn_scores: return "attn_scores";
    case Op::attn_softmax: return "attn_softmax";
    case Op::attn_values: return "attn_values";
    case Op::attn_sub_norm: return "attn_sub_norm";
    case Op::out_proj: return "out_proj";
    case Op::last_out_bias: return "last_out_bias";
    case Op::attn_residual: return "attn_residual";
    case Op::mlp_norm: return "mlp_norm";
    case Op::mlp_up: return "mlp_up";
    case Op::mlp_gate: return "mlp_gate";
    case Op::mlp_act: return "mlp_act";
    case Op::mlp_sub_norm: return "mlp_sub_norm";
    case Op::mlp_down: return "mlp_down";
    case Op::mlp_residual: return "mlp_residual";
    case Op::moe_norm: return "moe_norm";
    case Op::router: return "router";
    case Op::token_permute: return "token_permute";
    case Op::routed_experts: return "routed_experts";
    case Op::shared_experts: return "shared_experts";
    case Op::shared_expert_gate: return "shared_expert_gate";
    case Op::expert_combine: return "expert_combine";
    case Op::moe_residual: return "moe_residual";
    case Op::final_norm: return "final_norm";
    case Op::lm_head: return "lm_head";
    case Op::cross_entropy: return "cross_entropy";
    case Op::mtp_embedding_norm: return "mtp_embedding_norm";
    case Op::mtp_hidden_norm: return "mtp_hidden_norm";
    case Op::mtp_proj: return "mtp_proj";
  }
  return "?";
}

}  // namespace scalingperf
