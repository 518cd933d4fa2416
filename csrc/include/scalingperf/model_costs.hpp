#pragma once
/// What a layout needs from a model, collected in one visit of its ops: totals, the sums
/// that a layout only scales (parameters and saved bytes by how they shard), and compact
/// per-op records for the roofline. A sweep collects these once per architecture and
/// workload and evaluates every layout from them.

#include <array>
#include <cstddef>

#include "scalingperf/architecture.hpp"
#include "scalingperf/device.hpp"
#include "scalingperf/estimate.hpp"
#include "scalingperf/ops.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// Bytes by how tensor parallelism divides them (see OpCost).
struct SavedShares {
  double split = 0, replicated = 0, unsplit = 0;
  void add(const OpCost& op, double n) {
    split += n * op.saved_split;
    replicated += n * op.saved_replicated;
    unsplit += n * op.saved_unsplit;
  }
  double on(const DeviceShare& s) const {
    return split * s.tensor + replicated * s.sequence + unsplit;
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
};

/// One op as the roofline sees it.
struct TimeOp {
  double count;
  double executed_forward;  ///< matmul FLOPs the kernels run (see executed_forward)
  double elementwise_forward;
  double bytes;
  double bytes_unsplit;
  double gemm_m;
  double gemm_n;
  Section section;
  OpKind kind;
  Split split;
  bool split_n;
  bool redone;  ///< its forward is recomputed under the workload
};

struct ModelCosts {
  Totals totals;
  SectionSums embedding, layers, head;
  SavedShares logits;             ///< the loss's saved float32 logits
  double executed_model = 0;      ///< matmul FLOPs the kernels run forward and backward
  double executed_recompute = 0;  ///< ... and again for recomputation
  std::array<TimeOp, 32> ops;
  std::size_t size = 0;
  const TimeOp* begin() const { return ops.data(); }
  const TimeOp* end() const { return ops.data() + size; }
};

/// Visits a resolved architecture's ops once under a validated workload.
inline ModelCosts model_costs(const Architecture& a, const Workload& w) {
  ModelCosts c;
  TotalsAccumulator totals(w);
  for_each_op(a, w, [&](const OpCost& op) {
    totals.add(op);
    const double n = static_cast<double>(op.count);
    SectionSums& sums = op.section == Section::embedding ? c.embedding
                        : op.section == Section::head    ? c.head
                                                         : c.layers;
    sums.params.add(op, n);
    sums.working_set.add(op, n);
    if (!saves_dropped(op, w.recompute)) sums.saved.add(op, n);
    if (op.op == Op::cross_entropy) c.logits.add(op, 1);
    const bool redone = forward_redone(op, w.recompute);
    c.executed_model += n * (executed_forward(op, w) + executed_backward(op, w));
    if (redone) c.executed_recompute += n * executed_forward(op, w);
    c.ops[c.size++] = TimeOp{n, executed_forward(op, w), op.elementwise_forward, op.bytes,
                             op.bytes_unsplit, op.gemm_m, op.gemm_n, op.section, op.kind,
                             op.split, op.split_n, redone};
  });
  c.totals = totals.finish();
  return c;
}

}  // namespace scalingperf
