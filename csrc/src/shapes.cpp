#include "scalingperf/shapes.hpp"

#include <stdexcept>
#include <string>

#include "scalingperf/estimate.hpp"
#include "scalingperf/parallel_for.hpp"

namespace scalingperf {

void evaluate_shapes(const Architecture& base, const Workload& work, const ShapeColumns& in,
                     const ShapeTotals& out, unsigned threads) {
  parallel_for(in.size, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      Architecture shape = base;
      shape.d_model = in.d_model[i];
      shape.n_layers = in.n_layers[i];
      shape.n_heads = in.n_heads[i];
      shape.d_ff = in.d_ff[i];
      try {
        shape = resolve(shape);
        validate(shape, work);
      } catch (const std::invalid_argument& error) {
        throw std::invalid_argument("configuration " + std::to_string(i) + ": " + error.what());
      }
      const Totals totals = estimate_totals(shape, work);
      out.params_total[i] = totals.params.total;
      out.params_active[i] = totals.params.active;
      out.flops_forward[i] = totals.flops.forward;
      out.flops_model[i] = totals.flops.model;
      out.flops_hardware[i] = totals.flops.hardware;
    }
  });
}

}  // namespace scalingperf
