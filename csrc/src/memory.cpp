#include "scalingperf/memory.hpp"

#include <algorithm>
#include <cmath>

#include "scalingperf/device.hpp"
#include "scalingperf/model_costs.hpp"

namespace scalingperf {

StateBytes state_bytes(DType dtype, Optimizer optimizer) {
  const double b = bytes_of(dtype);
  const bool mixed = b < 4;  // 16-bit weights keep a float32 master copy
  switch (optimizer) {
    case Optimizer::adamw:  // master (mixed only), momentum, variance in float32
      return {b, b, mixed ? 12.0 : 8.0};
    case Optimizer::adamw_bf16:  // no master copy; momentum and variance in the weights' format
      return {b, b, 2 * b};
    case Optimizer::sgd:  // master (mixed only) and momentum in float32
      return {b, b, mixed ? 8.0 : 4.0};
  }
  return {b, b, 0};
}

namespace {

/// Parameters on the first and the last pipeline stage (non-expert), and the routed
/// experts a stage holds.
struct StageParams {
  double first, last, experts;
};

StageParams stage_params(const Architecture& a, const ModelCosts& costs, const Layout& l,
                         const DeviceShare& share, double per_stage) {
  // The embedding on the first stage, the head on the last (with its own copy of a tied
  // embedding when they differ: Shoeybi et al. 2019 §3).
  const double layers = costs.layers.params.non_expert(share) * per_stage;
  const double embedding = costs.embedding.params.non_expert(share);
  const double head = costs.head.params.non_expert(share);
  StageParams s{layers + embedding, layers + head, costs.layers.params.expert(share) * per_stage};
  if (l.pp == 1) {
    s.first += head;
    s.last = s.first;
  } else if (a.tie_embeddings) {
    s.last += static_cast<double>(a.vocab_size * a.d_model) * share.tensor;
  }
  return s;
}

/// Parameters and the bytes of their weights, gradients and optimizer states on one
/// device.
struct States {
  double params, weights, gradients, optimizer;
  double total() const { return weights + gradients + optimizer; }
};

/// The states of `params` (plus `experts`). ZeRO stages shard optimizer states (1),
/// gradients (2) and weights (3) over dp; expert parameters are replicated, and sharded,
/// over dp / ep (Rajbhandari et al. 2020).
States states(double params, double experts, const StateBytes& per_param, const Layout& l,
              double per_replica, double per_expert_replica) {
  const double whole = params + experts;
  const double sharded = params * per_replica + experts * per_expert_replica;
  return {whole, per_param.weights * (l.zero >= 3 ? sharded : whole),
          per_param.gradients * (l.zero >= 2 ? sharded : whole),
          per_param.optimizer * (l.zero >= 1 ? sharded : whole)};
}

void set_states(const States& s, MemoryReport& m) {
  m.params = s.params;
  m.weights = s.weights;
  m.gradients = s.gradients;
  m.optimizer = s.optimizer;
}

}  // namespace

double memory_floor(const Workload& w, const ModelCosts& costs, const Layout& l,
                    const LayoutFactors& f) {
  const ParamShares& layers = costs.layers.params;
  const double saved =
      w.recompute == Recompute::full ? 0 : costs.layers.saved.on(f.share) * f.per_stage;
  return states(layers.non_expert(f.share) * f.per_stage, layers.expert(f.share) * f.per_stage,
                state_bytes(w.dtype, l.optimizer), l, f.per_replica, f.per_expert_replica)
             .total() +
         saved;
}

MemoryReport parameter_memory(const Architecture& a, const Workload& w, const ModelCosts& costs,
                              const Layout& l, const LayoutFactors& f) {
  const StageParams s = stage_params(a, costs, l, f.share, f.per_stage);
  MemoryReport m;
  set_states(states(std::max(s.first, s.last), s.experts, state_bytes(w.dtype, l.optimizer), l,
                    f.per_replica, f.per_expert_replica),
             m);
  return m;
}

MemoryReport memory(const Architecture& a, const Workload& w, const ModelCosts& costs,
                    const Layout& l, const LayoutFactors& f, const Hardware& hw) {
  const DeviceShare& share = f.share;
  const double p = static_cast<double>(l.pp);
  const double per_stage = f.per_stage;
  const StageParams params = stage_params(a, costs, l, share, per_stage);

  // Activations: 1F1B keeps min(m, p) micro-batches in flight on the first stage, times
  // (1 + (p - 1) / (p v)) with v interleaved stages; the last stage keeps one
  // (Narayanan et al. 2021 §2.2; Korthikanti et al. 2022 §4.2.3).
  const double microbatches = static_cast<double>(l.microbatches);
  double in_flight = std::min(microbatches, p);
  if (l.interleave > 1) in_flight *= 1 + (p - 1) * per_stage / static_cast<double>(l.interleave);
  const double layers = static_cast<double>(a.n_layers);
  const double per_layer = 1 / layers;
  const double layers_saved = w.recompute == Recompute::full
                                  ? layers * checkpoint_bytes(a, w) * share.sequence
                                  : costs.layers.saved.on(share);
  const double stage_layers_saved = layers_saved * per_stage;
  const double recompute_peak =
      w.recompute == Recompute::full ? costs.layers.working_set.on(share) * per_layer : 0;
  const double logits = costs.logits.on(share);
  const double embedding_saved = costs.embedding.saved.on(share);
  const double head_saved = costs.head.saved.on(share);

  // The first stage against the last: states, activations in flight and the transient
  // peak (on the last stage, the logits' gradient).
  const StateBytes per_param = state_bytes(w.dtype, l.optimizer);
  const double per_replica = f.per_replica, per_expert_replica = f.per_expert_replica;
  const States first_states =
      states(params.first, params.experts, per_param, l, per_replica, per_expert_replica);
  double first_activations = stage_layers_saved + embedding_saved;
  double first_in_flight = in_flight * first_activations;
  double first_temporary = recompute_peak;
  if (l.pp == 1) {
    first_activations += head_saved;
    first_in_flight = first_activations;
    first_temporary = std::max(recompute_peak, logits);
  }
  const double first_per_gpu = first_states.total() + first_in_flight + first_temporary;
  const States last_states =
      l.pp == 1 ? first_states
                : states(params.last, params.experts, per_param, l, per_replica,
                         per_expert_replica);
  const double last_activations = stage_layers_saved + head_saved;
  const double last_temporary = std::max(recompute_peak, logits);
  const double last_per_gpu = last_states.total() + last_activations + last_temporary;

  const bool first_busiest = l.pp == 1 || first_per_gpu >= last_per_gpu;
  const States& busiest = first_busiest ? first_states : last_states;
  const double per_gpu = first_busiest ? first_per_gpu : last_per_gpu;
  // Every field given: no zero-filling first (this runs once per sweep row).
  return MemoryReport{busiest.params,
                      busiest.weights,
                      busiest.gradients,
                      busiest.optimizer,
                      first_busiest ? first_activations : last_activations,
                      layers_saved * per_layer,
                      first_busiest ? first_in_flight : last_activations,
                      first_busiest && l.pp > 1 ? 0 : logits,
                      first_busiest ? first_temporary : last_temporary,
                      per_gpu,
                      hw.memory,
                      per_gpu <= hw.memory,
                      0,  // kv_cache, inference, max_inference_batch: add_inference_memory
                      0,
                      0,
                      first_busiest ? 0 : l.pp - 1};
}

void add_inference_memory(const Architecture& a, const Workload& w, const ModelCosts& costs,
                          const Layout& l, const LayoutFactors& f, const Hardware& hw,
                          MemoryReport& m) {
  // Keys and values of every layer on the stage, kv heads split over tp (2 L h_kv d_h s b
  // bytes for the whole model), next to the stage's weights. A windowed layer keeps only
  // its window's keys (cached_positions). Multi-head latent attention caches the
  // kv_lora_rank latent and the qk_rope_head_dim shared rotary key per token and layer
  // (DeepSeek-V2 §2.1.2, Table 1: (d_c + d_h^R) l elements per token), whole on every
  // tensor-parallel rank.
  const StageParams params = stage_params(a, costs, l, f.share, f.per_stage);
  const double act = bytes_of(w.dtype);
  const double s = static_cast<double>(w.seq_len);
  const double positions =
      static_cast<double>(a.n_layers - a.n_window_layers - a.n_linear_layers) *
          cached_positions(s, a, false) +
      static_cast<double>(a.n_window_layers) * cached_positions(s, a, true);
  const double per_position =
      is_mla(a) ? static_cast<double>(a.kv_lora_rank + a.qk_rope_head_dim)
                : 2 * static_cast<double>(a.n_kv_heads) * f.share.tensor *
                      static_cast<double>(a.head_dim);
  // A hybrid's linear mixers keep their recurrent and convolution states instead, split
  // over tp with their heads, whatever the sequence length.
  const double states = a.linear_mixer == LinearMixer::none
                            ? 0.0
                            : static_cast<double>(a.n_linear_layers) *
                                  linear_mixer_cache(a) * f.share.tensor;
  const double kv_per_sequence = (positions * per_position + states) * f.per_stage * act;
  const double inference_weights = act * (std::max(params.first, params.last) + params.experts);
  m.kv_cache = kv_per_sequence * static_cast<double>(w.batch);
  m.inference = inference_weights + m.kv_cache;
  const double room = hw.memory - inference_weights;
  // Truncation is the floor here (room > 0); capped far below 2^63.
  m.max_inference_batch =
      room > 0 ? static_cast<std::int64_t>(std::min(room / kv_per_sequence, 1e18)) : 0;
}

}  // namespace scalingperf
