#pragma once
/// torchtitan's per-op selective activation checkpointing (recompute="per_op"; torchtitan's
/// activation_checkpoint mode "selective" with selective_ac_option "op", from 9dec370 of
/// December 2024 to its SelectiveAC of 2026). Each transformer block runs under a
/// selective-checkpoint policy that keeps the outputs of matmuls, of the attention kernel
/// and of reduce-scatters and all-to-alls, and recomputes everything else in backward;
/// of the matmuls (aten.mm, counted per block in forward order) every second one is
/// recomputed too, and the MoE router's is always recomputed (force_recompute_mm_shapes_by
/// _fqns, default "moe.router.gate").
///
/// What this means per op here, counted from a block written as torchtitan writes its
/// models (q, k and v as three projections; gate, up, down):
/// - a weight GEMM is one or more mm calls; the even-numbered calls of its block are
///   redone, the odd-numbered ones keep their output (Llama: wk, wo and w3 redone; wq, wv,
///   w1 and w2 kept). A mixer and the FFN after it are one block: the FFN's count goes on
///   from the mixer's;
/// - the attention kernel is not redone and keeps its output and log-sum-exp; its inputs
///   (Q, K, V) are rebuilt by the recomputation;
/// - norms, RoPE, activations, residual adds, the MoE permutation and combine and FP8
///   casts are redone and keep nothing;
/// - the routed experts' grouped GEMMs are redone: torch's compute-intensive op list, which
///   the policy saves, has mm, bmm, addmm, the attention kernels and _scaled_mm, not
///   _grouped_mm;
/// - the linear mixers' convolution and scan (no torchtitan model has them) keep what they
///   save and are not redone;
/// - each block keeps its input, the checkpoint (2 s b h in 16-bit, as full recomputation).
/// Under sequence parallelism the reduce-scatter output of a recomputed row-parallel GEMM
/// (wo) is kept too: s b h / tp per block. Not counted: the all-to-all outputs under expert
/// parallelism.

#include <array>

#include "scalingperf/architecture.hpp"
#include "scalingperf/op_cost.hpp"
#include "scalingperf/ops.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// What per-op checkpointing does with one op: the share of its forward redone in
/// backward and the bytes it keeps (as OpCost's saved_*, per instance).
struct PerOpDecision {
  double redone = 0;
  double saved_split = 0, saved_replicated = 0, saved_unsplit = 0, saved_sequence_only = 0;
};

/// Walks a model's ops in for_each_op's order and decides each one. Stateful: the mm count
/// runs through a block's ops, so call it once per op, in order.
class PerOpCheckpoint {
 public:
  PerOpCheckpoint(const Architecture& a, const Workload& w)
      : a_(a), w_(w), act_(bytes_of(w.dtype)),
        tokens_(static_cast<double>(w.batch) * static_cast<double>(w.seq_len)) {}

  PerOpDecision operator()(const OpCost& op) {
    PerOpDecision d;
    if (!op.recomputed_full) {  // outside the blocks: the embedding, the head, the loss
      d.saved_split = op.saved_split;
      d.saved_replicated = op.saved_replicated;
      d.saved_unsplit = op.saved_unsplit;
      return d;
    }
    enter(op);
    if (keeps_checkpoint(a_, op)) d.saved_replicated += checkpoint_bytes(a_, w_);
    switch (op.op) {
      case Op::attn_scores: return d;  // Q and K: rebuilt by the recomputation
      case Op::attn_softmax:
      case Op::attn_values:
        if (!w_.flash_attention) {  // an unfused kernel keeps what it keeps
          d.saved_split += op.saved_split;
          return d;
        }
        if (op.op == Op::attn_softmax) {
          d.saved_split += op.saved_split;  // the log-sum-exp
        } else {
          d.saved_split += act_ * tokens_ * static_cast<double>(a_.n_heads * value_head_dim());
        }
        return d;
      case Op::linear_conv:
      case Op::linear_scan:
        d.saved_split += op.saved_split;
        d.saved_replicated += op.saved_replicated;
        d.saved_unsplit += op.saved_unsplit;
        return d;
      case Op::router:
      case Op::routed_experts: d.redone = 1; return d;
      default: break;
    }
    if (op.kind == OpKind::elementwise) {
      d.redone = 1;
      return d;
    }
    const Calls calls = mm_calls(op);
    for (int i = 0; i < calls.n; ++i) {
      const Call& c = calls.call[i];
      if (++count_ % 2 == 0) {
        d.redone += c.flops_share;
        // A recomputed row-parallel GEMM: under sequence parallelism its reduce-scatter's
        // output (kept, as every reduce_scatter_tensor) stays, 1 / tp of it per rank.
        if (!c.split && op.split == Split::tensor) {
          d.saved_sequence_only += act_ * tokens_ * c.width;
        }
      } else if (c.split) {
        d.saved_split += act_ * tokens_ * c.width;
      } else {
        d.saved_replicated += act_ * tokens_ * c.width;
      }
    }
    return d;
  }

 private:
  struct Call {
    double flops_share, width;
    bool split;  ///< the output is divided over tp (column-parallel)
  };
  struct Calls {
    std::array<Call, 3> call{};
    int n = 0;
  };

  static bool is_ffn(Op op) {
    return is_dense_mlp(op) || is_moe_body(op) || op == Op::mlp_norm ||
           op == Op::mlp_post_norm || op == Op::mlp_residual || op == Op::moe_norm ||
           op == Op::moe_residual;
  }

  /// Starts the count at a block's first op: 0 for a mixer (and an MTP module's own
  /// projection), the mixer's count for the FFN after it.
  void enter(const OpCost& op) {
    const bool ffn = is_ffn(op.op);
    if (started_ && op.section == section_ && ffn == in_ffn_) return;
    // The FFN goes on from the count of the first mixer walked (full attention when the
    // model has it): the walk, and so this, does not depend on the depth.
    if (started_ && !in_ffn_ && !mixer_done_) {
      mixer_count_ = count_;
      mixer_done_ = true;
    }
    count_ = ffn ? mixer_count_ : 0;
    started_ = true;
    section_ = op.section;
    in_ffn_ = ffn;
  }

  double value_head_dim() const {
    return static_cast<double>(is_mla(a_) ? a_.v_head_dim : a_.head_dim);
  }

  Calls mm_calls(const OpCost& op) const {
    Calls out;
    const auto add = [&](double share, double width, bool split) {
      out.call[out.n++] = Call{share, width, split};
    };
    if (op.op == Op::qkv_proj && !is_mla(a_)) {
      const double kv = static_cast<double>(a_.n_kv_heads * a_.head_dim);
      const double q = op.gemm_n - 2 * kv;
      if (q > 0) {
        for (const double width : {q, kv, kv}) add(width / op.gemm_n, width, true);
        return out;
      }
    }
    if (op.op == Op::shared_experts) {  // w1, w3, w2 (or up, down)
      const bool gated = is_gated(a_.ffn);
      const double n = gated ? 3 : 2;
      const double hidden = static_cast<double>(a_.n_shared_experts) * op.gemm_n;
      add(1 / n, hidden, true);
      if (gated) add(1 / n, hidden, true);
      add(1 / n, static_cast<double>(a_.d_model), false);
      return out;
    }
    add(1, op.gemm_n, op.split_n);
    return out;
  }

  const Architecture& a_;
  const Workload& w_;
  double act_, tokens_;
  int count_ = 0, mixer_count_ = 0;
  bool started_ = false, in_ffn_ = false, mixer_done_ = false;
  Section section_{};
};

}  // namespace scalingperf
