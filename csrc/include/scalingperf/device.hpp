#pragma once
/// One op on one device: the share of its parameters, saved bytes and forward time that a
/// device holds or spends under a parallel layout. Memory, step time and the per-op table
/// all use these, so they agree.

#include <algorithm>
#include <cmath>

#include "scalingperf/hardware.hpp"
#include "scalingperf/ops.hpp"
#include "scalingperf/parallel.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// Parameters of one instance held by one device: the split part over tp, the expert part
/// over ep x tp, the rest replicated.
inline double params_per_device(const OpCost& op, const Layout& l) {
  const double t = static_cast<double>(l.tp);
  const double replicated =
      static_cast<double>(op.params - op.params_split - op.params_experts);
  return replicated + static_cast<double>(op.params_split) / t +
         static_cast<double>(op.params_experts) / (static_cast<double>(l.ep) * t);
}

/// Bytes one instance saves for backward on one device, recomputation ignored.
inline double saved_per_device(const OpCost& op, const Layout& l) {
  const double t = static_cast<double>(l.tp);
  return op.saved_split / t + op.saved_replicated / (l.sequence_parallel ? t : 1.0) +
         op.saved_unsplit;
}

/// Whether recomputation drops what an op saves: all of a layer under full recomputation;
/// under selective, what the softmax keeps (scores, masks), as Q, K and V are needed to
/// recompute it (Korthikanti et al. 2022 §4.2.2).
inline bool saves_dropped(const OpCost& op, Recompute recompute) {
  return (recompute == Recompute::full && op.recomputed_full) ||
         (recompute == Recompute::selective && op.recomputed_selective &&
          op.kind == OpKind::elementwise);
}

/// Whether recomputation redoes an op's forward.
inline bool forward_redone(const OpCost& op, Recompute recompute) {
  return (recompute == Recompute::full && op.recomputed_full) ||
         (recompute == Recompute::selective && op.recomputed_selective);
}

/// Fraction of a GEMM's output tiles that is real work (tile quantisation: an m x n output
/// computed in tile x tile blocks wastes the padding of the last row and column of tiles).
inline double tile_efficiency(double m, double n, double tile) {
  if (m <= 0 || n <= 0) return 1;
  const double padded = std::ceil(m / tile) * tile * std::ceil(n / tile) * tile;
  return m * n / padded;
}

/// Matmul FLOPs the kernels execute forward: flash attention skips the blocks above the
/// diagonal, an unfused kernel computes the whole square.
inline double executed_forward(const OpCost& op, const Workload& w) {
  return w.flash_attention ? op.forward_causal : op.forward;
}
inline double executed_backward(const OpCost& op, const Workload& w) {
  return w.flash_attention ? op.backward_causal : op.backward;
}

/// Forward seconds of one instance on one device: a roofline of its work against the
/// device's peak (matmuls at the calibrated efficiency, less tile quantisation) and of its
/// memory traffic against the device's bandwidth.
inline double forward_seconds(const OpCost& op, const Workload& w, const Layout& l,
                              const Hardware& hw, const Efficiency& e, double peak) {
  const double t = static_cast<double>(l.tp);
  const double divide = (op.split == Split::tensor || l.sequence_parallel) ? t : 1.0;
  const double memory_time =
      (op.bytes / divide + op.bytes_unsplit) / (hw.memory_bandwidth * e.memory);
  double compute_time;
  if (op.kind == OpKind::matmul) {
    const double width = op.split_n ? op.gemm_n / t : op.gemm_n;
    compute_time = executed_forward(op, w) / divide /
                   (peak * e.matmul * tile_efficiency(op.gemm_m, width, static_cast<double>(e.tile)));
  } else {
    // Vector units: the float32 peak where the datasheet gives one.
    compute_time = op.elementwise_forward / divide / (hw.peak_fp32 > 0 ? hw.peak_fp32 : peak);
  }
  return std::max(compute_time, memory_time);
}

}  // namespace scalingperf
