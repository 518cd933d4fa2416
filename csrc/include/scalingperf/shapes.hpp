#pragma once
/// Totals for many shapes that differ from a base architecture in width, depth, heads and
/// FFN width: the loop the grid engine builds on.

#include <cstddef>
#include <cstdint>

#include "scalingperf/architecture.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// Per-configuration inputs, one entry per configuration (head_dim is re-derived when the
/// base leaves it implied).
struct ShapeColumns {
  const std::int64_t* d_model;
  const std::int64_t* n_layers;
  const std::int64_t* n_heads;
  const std::int64_t* d_ff;
  std::size_t size;
};

/// Outputs, preallocated by the caller, one entry per configuration.
struct ShapeTotals {
  std::int64_t* params_total;
  std::int64_t* params_active;
  double* flops_forward;
  double* flops_model;
  double* flops_hardware;
};

/// Evaluates every shape with `threads` threads (0: all). `base` is unresolved, so its
/// implied fields are derived per shape; an invalid shape throws std::invalid_argument
/// naming its index.
void evaluate_shapes(const Architecture& base, const Workload& work, const ShapeColumns& in,
                     const ShapeTotals& out, unsigned threads);

}  // namespace scalingperf
