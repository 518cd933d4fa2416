#pragma once
/// What a layout needs from a model, collected in one visit of its ops: per instance of
/// each section, the totals, the sums that a layout only scales (parameters and saved
/// bytes by how they shard) and compact per-op records for the roofline; then scaled by
/// how many instances the model has. A sweep collects a shape once per architecture (up
/// to depth) and workload and evaluates every depth and layout from it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "scalingperf/architecture.hpp"
#include "scalingperf/device.hpp"
#include "scalingperf/estimate.hpp"
#include "scalingperf/ops.hpp"
#include "scalingperf/per_op_checkpoint.hpp"
#include "scalingperf/recompute.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// Bytes by how tensor parallelism divides them (see OpCost).
struct SavedShares {
  double split = 0, replicated = 0, unsplit = 0, sequence_only = 0;
  void add(const OpCost& op, double n) {
    split += n * op.saved_split;
    replicated += n * op.saved_replicated;
    unsplit += n * op.saved_unsplit;
    sequence_only += n * op.saved_sequence_only;
  }
  template <class Decision>
  void add(const Decision& d) {
    split += d.saved_split;
    replicated += d.saved_replicated;
    unsplit += d.saved_unsplit;
    sequence_only += d.saved_sequence_only;
  }
  double on(const DeviceShare& s) const {
    return (split * s.tensor + replicated * s.sequence + unsplit +
            sequence_only * scalingperf::sequence_only(s)) *
           s.context;
  }
};

/// Parameters by how they shard.
struct ParamShares {
  double replicated = 0, split = 0, experts = 0;
  void add(const OpCost& op, double n) {
    replicated += n * static_cast<double>(op.params - op.params_split - op.params_experts);
    split += n * static_cast<double>(op.params_split);
    experts += n * static_cast<double>(op.params_experts);
  }
  double non_expert(const DeviceShare& s) const { return replicated + split * s.tensor; }
  double expert(const DeviceShare& s) const { return experts * s.expert; }
};

/// Sums over the ops of one section kind: the embedding, all layers, or the head.
struct SectionSums {
  ParamShares params;
  SavedShares saved;        ///< what stays saved under the workload's recomputation
  SavedShares working_set;  ///< what would be saved without recomputation
  void add_scaled(const SectionSums& o, double n) {
    params.replicated += n * o.params.replicated;
    params.split += n * o.params.split;
    params.experts += n * o.params.experts;
    for (auto [to, from] : {std::pair{&saved, &o.saved}, std::pair{&working_set, &o.working_set}}) {
      to->split += n * from->split;
      to->replicated += n * from->replicated;
      to->unsplit += n * from->unsplit;
      to->sequence_only += n * from->sequence_only;
    }
  }
};

/// One op as the roofline sees it, per instance.
struct TimeOp {
  double executed_forward;  ///< matmul FLOPs the kernels run (see executed_forward)
  double elementwise_forward;
  double bytes;
  double bytes_unsplit;
  double bytes_experts;
  double bytes_serial;
  double gemm_m;
  double gemm_n;
  double gemm_k;
  double second_gemm_share;
  bool expert_rows;
  double head_dim;  ///< attention's own GEMMs: their kernel's head dimension, else 0
  double band;  ///< a flash kernel's sliding window (OpCost::band), else 0
  Section section;
  OpKind kind;
  Split split;
  bool split_n;
  double redone;  ///< the share of its forward recomputed under the workload
  bool attention_core;  ///< Q K^T, softmax or P V: what ring attention overlaps
  Tiling tiling;  ///< how the kernels tile it (device.hpp)
  GemmKind gemm;  ///< which rate it runs at (gemm_kind)
  bool token_permute;  ///< the MoE permutation, whose traffic expert parallelism repeats
  double cast_in_whole, cast_in_split, cast_out_whole, cast_out_split;  ///< see OpCost
};

constexpr int section_count = static_cast<int>(Section::mtp) + 1;

/// Instances of each section in a model: one embedding and one head, the attention
/// blocks of full and of windowed attention, the linear mixers of a hybrid, the dense
/// and the routed FFN layers, and the multi-token prediction modules.
inline std::array<double, section_count> section_instances(const Architecture& a) {
  const auto mixers = static_cast<double>(a.n_mixer_layers);
  const auto ffns = static_cast<double>(a.n_ffn_layers);
  const auto moe = static_cast<double>(a.n_moe_layers);
  const auto windowed = static_cast<double>(a.n_window_layers);
  const auto linear = static_cast<double>(a.n_linear_layers);
  return {1, mixers - windowed - linear, windowed, linear, ffns - moe, moe, 1,
          static_cast<double>(a.mtp_layers)};
}

/// The sums of one instance of a section (every op of a section has the same count).
struct InstanceSums {
  std::int64_t params = 0, active_params = 0, embedding_params = 0;
  double forward = 0, backward = 0, forward_causal = 0, backward_causal = 0;
  double elementwise_forward = 0, elementwise_backward = 0;
  double recompute = 0;           ///< forward matmul FLOPs redone by recomputation
  double executed_model = 0;      ///< matmul FLOPs the kernels run forward and backward
  double executed_recompute = 0;  ///< ... and again for recomputation
  double executed_forward = 0;    ///< ... forward only
  SectionSums sums;
};

/// A model's ops visited once, per instance: nothing here depends on n_layers, which only
/// counts instances (section_instances). A sweep over depths reuses one shape.
struct ModelShape {
  std::array<InstanceSums, section_count> sections;
  SavedShares logits;  ///< the main loss's saved float32 logits
  /// Per instance of each section, memory traffic recomputation redoes outside the ops'
  /// shares (RecomputeDecision::redone_bytes), divided over tp.
  std::array<double, section_count> redone_bytes{};
  /// At most: 3 embedding, 2 x 12 attention, 10 linear mixer, 9 MLP, 9 MoE and 5 head
  /// ops, and an MTP module's 7 with one mixer and one FFN block.
  std::array<TimeOp, 96> ops;
  std::size_t size = 0;
  double tokens = 0;
  bool flash_attention = false;  ///< the workload's: its backward recomputes the scores
  /// The layer kind the MTP modules ran (it follows the last layer, so the depth).
  LayerKind mtp_kind{};
  const TimeOp* begin() const { return ops.data(); }
  const TimeOp* end() const { return ops.data() + size; }
};

/// Visits a resolved architecture's ops once under a validated workload.
/// Into `shape`, reused: a sweep builds one per model and workload, and a ModelShape (its
/// op records) is large enough that building it in place and not copying it shows.
inline void model_shape(const Architecture& a, const Workload& w, ModelShape& shape) {
  shape.sections = {};
  shape.redone_bytes = {};
  shape.logits = SavedShares{};
  shape.size = 0;
  shape.tokens = static_cast<double>(w.batch) * static_cast<double>(w.seq_len);
  shape.flash_attention = w.flash_attention;
  shape.mtp_kind = a.mtp_kind;
  PerOpCheckpoint per_op(a, w);
  const bool by_op = w.recompute == Recompute::per_op;
  for_each_op(a, w, [&](const OpCost& op) {
    InstanceSums& s = shape.sections[static_cast<int>(op.section)];
    s.params += op.params;
    s.active_params += op.active_params;
    if (op.embedding) s.embedding_params += op.params;
    s.forward += op.forward;
    s.backward += op.backward;
    s.forward_causal += op.forward_causal;
    s.backward_causal += op.backward_causal;
    s.elementwise_forward += op.elementwise_forward;
    s.elementwise_backward += op.elementwise_backward;
    double redone;
    s.sums.params.add(op, 1);
    s.sums.working_set.add(op, 1);
    if (by_op) {
      const PerOpDecision d = per_op(op);
      redone = d.redone;
      s.sums.saved.add(d);
    } else {
      const RecomputeDecision d = recompute_decision(a, w, op);
      redone = d.redone;
      shape.redone_bytes[static_cast<int>(op.section)] += d.redone_bytes;
      s.sums.saved.add(d);
    }
    s.recompute += redone * op.forward;
    if (op.op == Op::cross_entropy && op.section == Section::head) shape.logits.add(op, 1);
    s.executed_model += executed_forward(op, w) + executed_backward(op, w);
    s.executed_recompute += redone * executed_forward(op, w);
    s.executed_forward += executed_forward(op, w);
    shape.ops[shape.size++] =
        TimeOp{executed_forward(op, w), op.elementwise_forward, op.bytes, op.bytes_unsplit,
               op.bytes_experts, op.bytes_serial,
               op.gemm_m, op.gemm_n, op.gemm_k, op.second_gemm_share, op.expert_rows,
               op.head_dim, op.band, op.section, op.kind, op.split, op.split_n, redone,
               is_attention_core(op.op), tiling(op, w), gemm_kind(op.op),
               op.op == Op::token_permute, op.cast_in_whole, op.cast_in_split,
               op.cast_out_whole, op.cast_out_split};
  });
}

inline ModelShape model_shape(const Architecture& a, const Workload& w) {
  ModelShape shape;
  model_shape(a, w, shape);
  return shape;
}

/// What a layout needs from a model: totals, and the sums that a layout only scales
/// (parameters and saved bytes by how they shard), with the shape they came from.
struct ModelCosts {
  Totals totals;
  SectionSums embedding, layers, head;
  SectionSums mtp;  ///< all the MTP modules (on the last pipeline stage)
  SavedShares logits;
  double executed_model = 0;      ///< matmul FLOPs the kernels run forward and backward
  double executed_recompute = 0;  ///< ... and again for recomputation
  /// Forward matmul FLOPs of all the layers, as counted and as executed: what
  /// recompute_every redoes a share of.
  double layers_forward = 0, executed_layers_forward = 0;
  std::array<double, section_count> instances{};
};

/// The model's totals (parameters, FLOPs) into c.totals, from c.instances.
inline void add_totals(const ModelShape& shape, ModelCosts& c) {
  c.totals = Totals{};
  ParamCounts& p = c.totals.params;
  FlopCounts& f = c.totals.flops;
  for (int k = 0; k < section_count; ++k) {
    const InstanceSums& s = shape.sections[k];
    const double n = c.instances[k];
    if (n == 0) continue;  // a kind of layer this model has none of (most have few kinds)
    const auto count = static_cast<std::int64_t>(n);
    p.total += count * s.params;
    p.active += count * s.active_params;
    p.embedding += count * s.embedding_params;
    f.forward += n * s.forward;
    f.backward += n * s.backward;
    f.forward_causal += n * s.forward_causal;
    f.backward_causal += n * s.backward_causal;
    f.elementwise_forward += n * s.elementwise_forward;
    f.elementwise_backward += n * s.elementwise_backward;
    f.recompute += n * s.recompute;
  }
  c.totals.tokens = shape.tokens;
  p.non_embedding = p.total - p.embedding;
  p.active_non_embedding = p.active - p.embedding;
  f.model = f.forward + f.backward;
  f.hardware = f.model + f.recompute;
  f.per_token = f.model / shape.tokens;
  f.six_n_per_token = 6 * static_cast<double>(p.active_non_embedding);
}

/// The costs of a model of this shape with the architecture's number of layers, into `c`
/// (a sweep's walk reuses one ModelCosts: returning it by value copied it at every model).
/// Without `totals`, c.totals is left for add_totals: a reduction that prunes every
/// layout of most models never reads them.
inline void model_costs(const ModelShape& shape, const Architecture& a, ModelCosts& c,
                        bool totals = true) {
  c = ModelCosts{};
  c.instances = section_instances(a);
  for (int k = 0; k < section_count; ++k) {
    const InstanceSums& s = shape.sections[k];
    const double n = c.instances[k];
    if (n == 0) continue;
    c.executed_model += n * s.executed_model;
    c.executed_recompute += n * s.executed_recompute;
    const auto section = static_cast<Section>(k);
    const bool ends = section == Section::embedding || section == Section::head;
    if (!ends && section != Section::mtp) {
      c.layers_forward += n * s.forward;
      c.executed_layers_forward += n * s.executed_forward;
    }
    (section == Section::embedding ? c.embedding
     : section == Section::head    ? c.head
     : section == Section::mtp     ? c.mtp
                                   : c.layers)
        .add_scaled(s.sums, n);
  }
  c.logits = shape.logits;
  if (totals) add_totals(shape, c);
}

inline ModelCosts model_costs(const ModelShape& shape, const Architecture& a) {
  ModelCosts c;
  model_costs(shape, a, c);
  return c;
}

inline ModelCosts model_costs(const Architecture& a, const Workload& w) {
  return model_costs(model_shape(a, w), a);
}

}  // namespace scalingperf
