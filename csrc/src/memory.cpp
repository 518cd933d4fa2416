#include "scalingperf/memory.hpp"

#include <algorithm>
#include <cmath>

#include "scalingperf/device.hpp"
#include "scalingperf/model_costs.hpp"

namespace scalingperf {

StateBytes state_bytes(const Workload& w, Optimizer optimizer) {
  const double b = bytes_of(w.dtype);
  const bool mixed = b < 4;  // 16-bit weights keep a float32 master copy
  const double g = w.fp32_gradients ? 4.0 : b;
  switch (optimizer) {
    case Optimizer::adamw:  // master (mixed only), momentum, variance in float32
      return {b, g, mixed ? 12.0 : 8.0};
    case Optimizer::adamw_bf16:  // no master copy; momentum and variance in the weights' format
      return {b, g, 2 * b};
    case Optimizer::sgd:  // master (mixed only) and momentum in float32
      return {b, g, mixed ? 8.0 : 4.0};
    case Optimizer::adamw_bf16_moments:  // master (mixed only) in float32, moments in bf16
      return {b, g, (mixed ? 4.0 : 0.0) + 4.0};
  }
  return {b, g, 0};
}

namespace {

/// Parameters on the first, the last and a middle pipeline device: non-expert, and the
/// routed experts of its layers.
struct StageParams {
  double first, last, middle;
  double first_experts, last_experts, middle_experts;
};

StageParams stage_params(const Architecture& a, const ModelCosts& costs, const Layout& l,
                         const LayoutFactors& f) {
  // The embedding on the first stage, the head and the MTP modules on the last (with its
  // own copy of a tied embedding when they differ: Shoeybi et al. 2019 §3; and of the
  // embedding the MTP modules read: Megatron-Core builds it on every stage with MTP).
  const DeviceShare& share = f.share;
  const double layers = costs.layers.params.non_expert(share);
  const double experts = costs.layers.params.expert(share);
  const double embedding = costs.embedding.params.non_expert(share);
  const double head = costs.head.params.non_expert(share);
  // Every sweep row asks: the MTP sums only when there are modules.
  const bool with_mtp = a.mtp_layers > 0;
  const double mtp = with_mtp ? costs.mtp.params.non_expert(share) : 0;
  const double mtp_experts = with_mtp ? costs.mtp.params.expert(share) : 0;
  StageParams s{layers * f.first_share + embedding, layers * f.last_share + head + mtp,
                layers * f.middle_share,            experts * f.first_share,
                experts * f.last_share + mtp_experts, experts * f.middle_share};
  if (l.pp == 1) {
    s.first += head + mtp;
    s.first_experts += mtp_experts;
    s.last = s.first;
    s.last_experts = s.first_experts;
  } else if (a.tie_embeddings || a.mtp_layers > 0) {
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

double offloaded_layer_bytes(const Architecture& a, const ModelCosts& costs,
                             const LayoutFactors& f) {
  return costs.layers.saved.on(f.share) / static_cast<double>(a.n_layers);
}

double offloaded(const Architecture& a, const Workload& w, const ModelCosts& costs,
                 const LayoutFactors& f) {
  if (w.offload_layers == 0) return 0;
  return static_cast<double>(w.offload_layers) * offloaded_layer_bytes(a, costs, f);
}

double memory_floor(const Architecture& a, const Workload& w, const ModelCosts& costs,
                    const Layout& l, const LayoutFactors& f) {
  // The device with the most layers holds at least their states and one micro-batch of
  // what they save; memory() weighs that device too.
  const double most = std::max({f.first_share, f.last_share, f.middle_share});
  const ParamShares& layers = costs.layers.params;
  const double saved = w.recompute == Recompute::full || w.recompute_every > 0
                           ? 0
                           : costs.layers.saved.on(f.share) * most - offloaded(a, w, costs, f);
  return states(layers.non_expert(f.share) * most, layers.expert(f.share) * most,
                state_bytes(w, l.optimizer), l, f.per_replica, f.per_expert_replica)
             .total() +
         saved;
}

MemoryReport parameter_memory(const Architecture& a, const Workload& w, const ModelCosts& costs,
                              const Layout& l, const LayoutFactors& f) {
  const StageParams s = stage_params(a, costs, l, f);
  const StateBytes per_param = state_bytes(w, l.optimizer);
  MemoryReport m;
  if (!f.uneven && a.mtp_layers == 0) {  // the first or the last: the same experts
    set_states(states(std::max(s.first, s.last), s.first_experts, per_param, l, f.per_replica,
                      f.per_expert_replica),
               m);
    return m;
  }
  States most = states(s.first, s.first_experts, per_param, l, f.per_replica,
                       f.per_expert_replica);
  for (const auto& [params, experts] :
       {std::pair{s.last, s.last_experts}, std::pair{s.middle, s.middle_experts}}) {
    const States other = states(params, experts, per_param, l, f.per_replica, f.per_expert_replica);
    if (other.total() > most.total()) most = other;
  }
  set_states(most, m);
  return m;
}

namespace {

/// What one pipeline device holds at its peak.
struct DeviceMemory {
  States states;
  double activations, in_flight, temporary, per_gpu;
};

DeviceMemory device_memory(const States& states, double activations, double in_flight,
                           double temporary) {
  return {states, activations, in_flight, temporary,
          states.total() + in_flight + temporary};
}

}  // namespace

MemoryReport memory(const Architecture& a, const Workload& w, const ModelCosts& costs,
                    const Layout& l, const LayoutFactors& f, const Hardware& hw,
                    MemoryReport* most_states) {
  const DeviceShare& share = f.share;
  const double p = static_cast<double>(l.pp);
  const StageParams params = stage_params(a, costs, l, f);

  // Activations: 1F1B keeps min(m, p) micro-batches in flight on the first stage, times
  // (1 + (p - 1) / (p v)) with v interleaved stages; the last stage keeps one
  // (Narayanan et al. 2021 §2.2; Korthikanti et al. 2022 §4.2.3); the second min(m, p - 1).
  const double microbatches = static_cast<double>(l.microbatches);
  const double interleaved =
      l.interleave > 1 ? 1 + (p - 1) * f.per_stage / static_cast<double>(l.interleave) : 1;
  const double in_flight = std::min(microbatches, p) * interleaved;
  const double layers = static_cast<double>(a.n_layers);
  const double per_layer = 1 / layers;
  const double layers_saved = w.recompute == Recompute::full
                                  ? layers * checkpoint_bytes(a, w) * share.sequence *
                                        share.context
                                  : costs.layers.saved.on(share);
  const double working_set = costs.layers.working_set.on(share) * per_layer;
  // Full or per-op recomputation rebuilds one layer's saved tensors at a time.
  const double recompute_peak =
      w.recompute == Recompute::full || w.recompute == Recompute::per_op ? working_set : 0;
  // recompute_every: a device's checkpointed layers keep their input (the 2sbh checkpoint)
  // instead of a mean layer's saved bytes, and one of them at a time is recomputed.
  const double checkpoint = checkpoint_bytes(a, w) * share.sequence * share.context;
  const auto layers_saved_on = [&](double device_share) {
    const double checkpointed = checkpointed_layers(w, device_share * layers);
    return layers_saved * device_share - checkpointed * (layers_saved * per_layer - checkpoint);
  };
  const auto peak_on = [&](double device_share) {
    return checkpointed_layers(w, device_share * layers) > 0 ? working_set : recompute_peak;
  };
  const double logits = costs.logits.on(share);
  const double embedding_saved = costs.embedding.saved.on(share);
  // The MTP modules with the head; full recomputation keeps each module's two inputs.
  const double head_saved =
      costs.head.saved.on(share) +
      (a.mtp_layers == 0 ? 0
                         : costs.mtp.saved.on(share) +
                               (w.recompute == Recompute::full
                                    ? 2 * static_cast<double>(a.mtp_layers) * checkpoint
                                    : 0));

  // The first stage against the last (and, uneven, the second): states, activations in
  // flight and the transient peak (on the last stage, the logits' gradient).
  const StateBytes per_param = state_bytes(w, l.optimizer);
  const auto states_of = [&](double non_expert, double experts) {
    return states(non_expert, experts, per_param, l, f.per_replica, f.per_expert_replica);
  };
  const States first_states = states_of(params.first, params.first_experts);
  DeviceMemory first;
  if (l.pp == 1) {
    const double all = layers_saved_on(f.first_share) - offloaded(a, w, costs, f) +
                       embedding_saved + head_saved;
    first = device_memory(first_states, all, all, std::max(peak_on(f.first_share), logits));
  } else {
    const double saved = layers_saved_on(f.first_share) + embedding_saved;
    first = device_memory(first_states, saved, in_flight * saved, peak_on(f.first_share));
  }
  const double last_saved = layers_saved_on(f.last_share) + head_saved;
  const DeviceMemory last =
      l.pp == 1 ? first
                : device_memory(states_of(params.last, params.last_experts), last_saved,
                                last_saved, std::max(peak_on(f.last_share), logits));
  const DeviceMemory* busiest = (l.pp == 1 || first.per_gpu >= last.per_gpu) ? &first : &last;
  const States* most = first.states.total() >= last.states.total() ? &first.states : &last.states;
  std::int64_t stage = busiest == &first ? 0 : l.pp - 1;
  DeviceMemory second;
  if (f.uneven && l.pp > 2) {
    const double saved = layers_saved_on(f.middle_share);
    second = device_memory(states_of(params.middle, params.middle_experts), saved,
                           std::min(microbatches, p - 1) * interleaved * saved,
                           peak_on(f.middle_share));
    if (second.per_gpu > busiest->per_gpu) {
      busiest = &second;
      stage = 1;
    }
    if (second.states.total() > most->total()) most = &second.states;
  }
  if (most_states != nullptr) set_states(*most, *most_states);
  const double per_gpu = busiest->per_gpu;
  // Every field given: no zero-filling first (this runs once per sweep row).
  return MemoryReport{busiest->states.params,
                      busiest->states.weights,
                      busiest->states.gradients,
                      busiest->states.optimizer,
                      busiest->activations,
                      layers_saved * per_layer,
                      busiest->in_flight,
                      stage == l.pp - 1 ? logits : 0,
                      busiest->temporary,
                      per_gpu,
                      hw.memory,
                      per_gpu <= hw.memory,
                      0,  // kv_cache, inference, max_inference_batch: add_inference_memory
                      0,
                      0,
                      stage};
}

void add_inference_memory(const Architecture& a, const Workload& w, const ModelCosts& costs,
                          const Layout& l, const LayoutFactors& f, const Hardware& hw,
                          MemoryReport& m) {
  // Keys and values of every layer on the stage, kv heads split over tp and the sequence
  // over cp (2 L h_kv d_h s b bytes for the whole model), next to the stage's weights. A
  // windowed layer keeps only its window's keys (cached_positions). Multi-head latent
  // attention caches the kv_lora_rank latent and the qk_rope_head_dim shared rotary key per
  // token and layer (DeepSeek-V2 §2.1.2, Table 1: (d_c + d_h^R) l elements per token), whole
  // on every tensor-parallel rank. Uneven stages: the most layers and the most weights of
  // any device, together.
  const StageParams params = stage_params(a, costs, l, f);
  const double act = bytes_of(w.dtype);
  const double s = static_cast<double>(w.seq_len);
  // Gemma 4's full-attention layers cache heads of global_head_dim: weighted apart.
  const double global_width =
      a.global_head_dim > 0 ? static_cast<double>(a.global_head_dim) / static_cast<double>(a.head_dim)
                            : 1.0;
  // MiMo-V2-Flash's windowed layers cache window_kv_heads heads: weighted apart too.
  const double window_heads =
      a.window_kv_heads > 0
          ? static_cast<double>(a.window_kv_heads) / static_cast<double>(a.n_kv_heads)
          : 1.0;
  const double positions =
      static_cast<double>(a.n_mixer_layers - a.n_window_layers - a.n_linear_layers) *
          cached_positions(s, a, false) * global_width +
      static_cast<double>(a.n_window_layers) * cached_positions(s, a, true) * window_heads;
  const double per_position =
      is_mla(a) ? static_cast<double>(a.kv_lora_rank + a.qk_rope_head_dim)
                : 2 * static_cast<double>(a.n_kv_heads) * f.share.tensor *
                      static_cast<double>(a.head_dim);
  // A hybrid's linear mixers keep their recurrent and convolution states instead, split
  // over tp with their heads, whatever the sequence length (and so not over cp).
  const double states = a.linear_mixer == LinearMixer::none
                            ? 0.0
                            : static_cast<double>(a.n_linear_layers) *
                                  linear_mixer_cache(a) * f.share.tensor;
  const double most = std::max({f.first_share, f.last_share, f.middle_share});
  const double kv_per_sequence =
      (positions * per_position * f.share.context + states) * most * act;
  const double inference_weights =
      act * (std::max({params.first, params.last, params.middle}) +
             std::max({params.first_experts, params.last_experts, params.middle_experts}));
  m.kv_cache = kv_per_sequence * static_cast<double>(w.batch);
  m.inference = inference_weights + m.kv_cache;
  const double room = hw.memory - inference_weights;
  // Truncation is the floor here (room > 0); capped far below 2^63.
  m.max_inference_batch =
      room > 0 ? static_cast<std::int64_t>(std::min(room / kv_per_sequence, 1e18)) : 0;
}

}  // namespace scalingperf
