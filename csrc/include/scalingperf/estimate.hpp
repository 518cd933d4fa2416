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

/// Sums ops into Totals, one op at a time.
class TotalsAccumulator {
 public:
  explicit TotalsAccumulator(const Workload& work)
      : full_(work.recompute == Recompute::full),
        selective_(work.recompute == Recompute::selective) {
    t_.tokens = static_cast<double>(work.batch) * static_cast<double>(work.seq_len);
  }
  void add(const OpCost& op) {
    const double n = static_cast<double>(op.count);
    ParamCounts& p = t_.params;
    FlopCounts& f = t_.flops;
    p.total += op.count * op.params;
    p.active += op.count * op.active_params;
    if (op.embedding) p.embedding += op.count * op.params;
    f.forward += n * op.forward;
    f.backward += n * op.backward;
    f.forward_causal += n * op.forward_causal;
    f.backward_causal += n * op.backward_causal;
    f.elementwise_forward += n * op.elementwise_forward;
    f.elementwise_backward += n * op.elementwise_backward;
    if ((full_ && op.recomputed_full) || (selective_ && op.recomputed_selective)) {
      f.recompute += n * op.forward;
    }
  }
  Totals finish() const {
    Totals t = t_;
    t.params.non_embedding = t.params.total - t.params.embedding;
    t.params.active_non_embedding = t.params.active - t.params.embedding;
    t.flops.model = t.flops.forward + t.flops.backward;
    t.flops.hardware = t.flops.model + t.flops.recompute;
    t.flops.per_token = t.flops.model / t.tokens;
    t.flops.six_n_per_token = 6 * static_cast<double>(t.params.active_non_embedding);
    return t;
  }

 private:
  Totals t_;
  bool full_, selective_;
};

/// Totals of a resolved architecture under a validated workload.
inline Totals estimate_totals(const Architecture& arch, const Workload& work) {
  TotalsAccumulator totals(work);
  for_each_op(arch, work, [&](const OpCost& op) { totals.add(op); });
  return totals.finish();
}

/// One row of the per-op table: an op of one layer type, per instance.
struct OpRow {
  OpCost cost;
  double recompute;         ///< forward matmul FLOPs redone per instance under the workload
  double params_per_device; ///< parameters one device holds (tensor and expert parallel)
  double saved;             ///< bytes saved for backward on one device, after recomputation
  double forward_seconds;   ///< on one device
};

/// The per-op table of a resolved architecture under a validated workload and layout.
std::vector<OpRow> op_table(const Architecture& arch, const Workload& work,
                            const Layout& layout, const Hardware& hw,
                            const Efficiency& efficiency);

}  // namespace scalingperf
