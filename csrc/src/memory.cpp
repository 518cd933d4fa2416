#include "scalingperf/memory.hpp"

#include <algorithm>
#include <cmath>

#include "scalingperf/device.hpp"
#include "scalingperf/ops.hpp"

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

/// Per-device sums over one kind of stage content, for one micro-batch.
struct Part {
  double params = 0;          ///< non-expert parameters on this device
  double expert_params = 0;   ///< routed-expert parameters on this device
  double saved = 0;           ///< activations saved for backward
  double working_set = 0;     ///< saved bytes without recomputation (full recompute's peak)
};

struct Parts {
  Part layers;  ///< all layers; a stage holds 1 / pp of it
  Part embedding;
  Part head;
  double logits = 0;
};

Parts sum_parts(const Architecture& a, const Workload& w, const Layout& l) {
  Parts parts;
  for_each_op(a, w, [&](const OpCost& op) {
    const double n = static_cast<double>(op.count);
    Part& part = op.section == Section::embedding ? parts.embedding
                 : op.section == Section::head    ? parts.head
                                                  : parts.layers;
    const double params = params_per_device(op, l);
    const double expert = static_cast<double>(op.params_experts) /
                          (static_cast<double>(l.ep) * static_cast<double>(l.tp));
    part.params += n * (params - expert);
    part.expert_params += n * expert;
    const double saved = saved_per_device(op, l);
    part.working_set += n * saved;
    if (!saves_dropped(op, w.recompute)) part.saved += n * saved;
    if (op.op == Op::cross_entropy) parts.logits = saved;
  });
  if (w.recompute == Recompute::full) {
    const double sequence_split = l.sequence_parallel ? static_cast<double>(l.tp) : 1.0;
    parts.layers.saved = static_cast<double>(a.n_layers) * checkpoint_bytes(a, w) / sequence_split;
  }
  return parts;
}

}  // namespace

MemoryReport memory(const Architecture& a, const Workload& w, const Layout& l,
                    const Hardware& hw) {
  const Parts parts = sum_parts(a, w, l);
  const double p = static_cast<double>(l.pp);
  const double dp = static_cast<double>(l.dp);
  const double expert_dp = static_cast<double>(l.dp / l.ep);
  const StateBytes per_param = state_bytes(w.dtype, l.optimizer);

  // Parameters per stage: the embedding on the first, the head on the last (with its own
  // copy of a tied embedding when they differ: Shoeybi et al. 2019 §3).
  const double stage_layer_params = parts.layers.params / p;
  const double stage_expert_params = parts.layers.expert_params / p;
  double first_params = stage_layer_params + parts.embedding.params;
  double last_params = stage_layer_params + parts.head.params;
  if (l.pp == 1) {
    first_params += parts.head.params;
    last_params = first_params;
  } else if (a.tie_embeddings) {
    last_params += static_cast<double>(a.vocab_size * a.d_model) / static_cast<double>(l.tp);
  }

  // ZeRO stages shard optimizer states (1), gradients (2) and weights (3) over dp; expert
  // parameters are replicated, and sharded, over dp / ep.
  auto states = [&](double params, double expert_params, MemoryReport& m) {
    const double zero1 = l.zero >= 1 ? 1 : 0, zero2 = l.zero >= 2 ? 1 : 0,
                 zero3 = l.zero >= 3 ? 1 : 0;
    auto shard = [&](double values, double flag, double group) {
      return flag > 0 ? values / group : values;
    };
    m.weights = per_param.weights * (shard(params, zero3, dp) + shard(expert_params, zero3, expert_dp));
    m.gradients = per_param.gradients * (shard(params, zero2, dp) + shard(expert_params, zero2, expert_dp));
    m.optimizer = per_param.optimizer * (shard(params, zero1, dp) + shard(expert_params, zero1, expert_dp));
  };

  // Activations: 1F1B keeps min(m, p) micro-batches in flight on the first stage, times
  // (1 + (p - 1) / (p v)) with v interleaved stages; the last stage keeps one
  // (Narayanan et al. 2021 §2.2; Korthikanti et al. 2022 §4.2.3).
  const double microbatches = static_cast<double>(l.microbatches);
  double in_flight = std::min(microbatches, p);
  if (l.interleave > 1) in_flight *= 1 + (p - 1) / (p * static_cast<double>(l.interleave));
  const double stage_layers_saved = parts.layers.saved / p;
  const double layer_working_set = parts.layers.working_set / static_cast<double>(a.n_layers);
  const double recompute_peak = w.recompute == Recompute::full ? layer_working_set : 0;

  MemoryReport first, last;
  states(first_params, stage_expert_params, first);
  first.activations = stage_layers_saved + parts.embedding.saved;
  first.activations_in_flight = in_flight * first.activations;
  first.temporary = recompute_peak;
  if (l.pp == 1) {
    first.activations += parts.head.saved;
    first.activations_in_flight = first.activations;
    first.logits = parts.logits;
    first.temporary = std::max(recompute_peak, parts.logits);
  }
  states(last_params, stage_expert_params, last);
  last.activations = stage_layers_saved + parts.head.saved;
  last.activations_in_flight = last.activations;
  last.logits = parts.logits;
  last.temporary = std::max(recompute_peak, parts.logits);  // the logits' gradient

  for (MemoryReport* m : {&first, &last}) {
    m->per_gpu = m->weights + m->gradients + m->optimizer + m->activations_in_flight + m->temporary;
  }
  MemoryReport result = (l.pp == 1 || first.per_gpu >= last.per_gpu) ? first : last;
  result.pipeline_stage = (l.pp == 1 || first.per_gpu >= last.per_gpu) ? 0 : l.pp - 1;
  result.activations_per_layer = parts.layers.saved / static_cast<double>(a.n_layers);
  result.capacity = hw.memory;
  result.fits = result.per_gpu <= hw.memory;

  // Inference: keys and values of every layer on the stage, kv heads split over tp
  // (2 L h_kv d_h s b bytes for the whole model).
  const double act = bytes_of(w.dtype);
  const double kv_per_sequence = 2 * (static_cast<double>(a.n_layers) / p) *
                                 static_cast<double>(a.n_kv_heads) / static_cast<double>(l.tp) *
                                 static_cast<double>(a.head_dim) * static_cast<double>(w.seq_len) * act;
  const double inference_weights = act * (l.pp == 1 ? first_params : std::max(first_params, last_params)) +
                                   act * stage_expert_params;
  result.kv_cache = kv_per_sequence * static_cast<double>(w.batch);
  result.inference = inference_weights + result.kv_cache;
  const double room = hw.memory - inference_weights;
  result.max_inference_batch =
      room > 0 ? static_cast<std::int64_t>(std::min(std::floor(room / kv_per_sequence), 1e18)) : 0;
  return result;
}

}  // namespace scalingperf
