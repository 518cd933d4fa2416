#pragma once
/// Bytes per device: weights, gradients and optimizer states under ZeRO and model
/// parallelism, activations saved for backward, and the inference KV cache.

#include <cstdint>

#include "scalingperf/architecture.hpp"
#include "scalingperf/device.hpp"
#include "scalingperf/hardware.hpp"
#include "scalingperf/model_costs.hpp"
#include "scalingperf/parallel.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// Bytes per parameter for weights, gradients and optimizer states. Mixed-precision Adam
/// keeps 16-bit weights and gradients and float32 master weights, momentum and variance:
/// 2 + 2 + 12 (Rajbhandari et al. 2020 §3.1); with Workload::fp32_gradients, 2 + 4 + 12
/// (Megatron-LM's README.md at core_r0.8.0, distributed-optimizer table; today's
/// docs/user-guide/features/dist_optimizer.md: 18 bytes per parameter for bf16
/// weights with fp32 gradients, 6 + 12 / d with the distributed optimizer).
struct StateBytes {
  double weights;
  double gradients;
  double optimizer;
};
StateBytes state_bytes(const Workload& work, Optimizer optimizer);

/// Memory of the busiest device (the pipeline stage that holds the most).
struct MemoryReport {
  double params = 0;                 ///< parameters the device's model shard holds (before ZeRO)
  double weights = 0;
  double gradients = 0;
  double optimizer = 0;
  double activations = 0;            ///< saved for backward, one micro-batch, logits included
  double activations_per_layer = 0;  ///< mean over the layers, one micro-batch
  double activations_in_flight = 0;  ///< all micro-batches the schedule keeps at once
  double logits = 0;                 ///< the loss's float32 logits on the last stage
  double temporary = 0;              ///< transient peak: a recomputed layer or the logits' gradient
  double per_gpu = 0;
  double capacity = 0;
  bool fits = false;
  double kv_cache = 0;               ///< inference: keys and values of batch x seq_len tokens
  double inference = 0;              ///< inference: weights + KV cache
  std::int64_t max_inference_batch = 0;  ///< sequences of seq_len whose KV cache fits
  std::int64_t pipeline_stage = 0;   ///< which stage is the busiest (0: first)
};

/// Only params, weights, gradients and optimizer states, of the stage holding the most
/// parameters: what a data-parallel reduction and an optimizer step move. Cheaper than
/// memory(), for the tp = 1 baseline of tensor-parallel efficiency.
MemoryReport parameter_memory(const Architecture& arch, const Workload& work,
                              const ModelCosts& costs, const Layout& layout,
                              const LayoutFactors& factors);

/// A lower bound on memory()'s per_gpu, several times cheaper: the states of a stage's
/// share of the layers (every stage holds at least those, and ZeRO shards them as the
/// layout says) and, unless fully recomputed, what those layers save for backward and
/// keep on the device.
double memory_floor(const Architecture& arch, const Workload& work, const ModelCosts& costs,
                    const Layout& layout, const LayoutFactors& factors);

/// What one offloaded layer moves to host memory on a device (pp = 1): a mean layer's
/// saved tensors (the layers differ only in MoE models with dense layers).
double offloaded_layer_bytes(const Architecture& arch, const ModelCosts& costs,
                             const LayoutFactors& factors);
/// What Workload::offload_layers moves: that many offloaded_layer_bytes.
double offloaded(const Architecture& arch, const Workload& work, const ModelCosts& costs,
                 const LayoutFactors& factors);

/// Memory per device for training of a resolved architecture, validated workload and
/// resolved layout (with its layout_factors); the inference fields are left at zero.
/// With `most_states`, also the params, weights, gradients and optimizer states of the
/// device holding the most (what the time of a step's reduction and optimizer follows;
/// the busiest device by memory may hold fewer, and change as the batch grows).
MemoryReport memory(const Architecture& arch, const Workload& work, const ModelCosts& costs,
                    const Layout& layout, const LayoutFactors& factors, const Hardware& hw,
                    MemoryReport* most_states = nullptr);
/// Fills the inference fields of `memory` (KV cache, weights + cache, largest batch).
void add_inference_memory(const Architecture& arch, const Workload& work,
                          const ModelCosts& costs, const Layout& layout,
                          const LayoutFactors& factors, const Hardware& hw,
                          MemoryReport& memory);

}  // namespace scalingperf
