#pragma once
/// Totals of one configuration and its per-op table, both sums over `for_each_op`.

#include <cstdint>
#include <vector>

#include "scalingperf/architecture.hpp"
#include "scalingperf/hardware.hpp"
#include "scalingperf/parallel.hpp"
#include "scalingperf/ops.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// Parameter counts. Embedding parameters are the token and position tables and an untied
/// output projection (Kaplan et al. 2020 §2.1 exclude them from N).
struct ParamCounts {
  std::int64_t total = 0;
  std::int64_t embedding = 0;
  std::int64_t non_embedding = 0;
  std::int64_t active = 0;                ///< used by one token (top_k of the routed experts)
  std::int64_t active_non_embedding = 0;  ///< Kaplan's N for a routed model
};

/// Matmul FLOPs of one micro-batch (2 per multiply-add), and elementwise FLOPs apart.
struct FlopCounts {
  double forward = 0;          ///< full attention
  double backward = 0;
  double forward_causal = 0;   ///< attention scores on and below the diagonal only
  double backward_causal = 0;
  double elementwise_forward = 0;
  double elementwise_backward = 0;
  double recompute = 0;        ///< forward matmuls redone by activation recomputation
  double model = 0;            ///< forward + backward: what MFU counts (PaLM, App. B)
  double hardware = 0;         ///< model + recompute: what HFU counts
  double per_token = 0;        ///< model / tokens
  double six_n_per_token = 0;  ///< Kaplan et al. 2020's C = 6 N per token, N active non-embedding
};

/// Everything `estimate` returns for one configuration.
struct Totals {
  ParamCounts params;
  FlopCounts flops;
  double tokens = 0;  ///< batch x seq_len
};

/// One row of the per-op table: an op of one layer type, per instance.
struct OpRow {
  OpCost cost;
  double recompute;         ///< forward matmul FLOPs redone per instance under the workload
  double params_per_device; ///< parameters one device holds (tensor and expert parallel)
  double saved;             ///< bytes saved for backward on one device, after recomputation
  double forward_seconds;   ///< on one device
  double backward_seconds;  ///< on one device
};

/// The per-op table of a resolved architecture under a validated workload and layout.
std::vector<OpRow> op_table(const Architecture& arch, const Workload& work,
                            const Layout& layout, const Hardware& hw,
                            const Efficiency& efficiency);

}  // namespace scalingperf
