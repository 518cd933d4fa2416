#include "scalingperf/training.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "checks.hpp"
#include "scalingperf/device.hpp"
#include "scalingperf/model_costs.hpp"
#include "scalingperf/ops.hpp"

namespace scalingperf {
namespace {

struct StageTimes {
  double forward = 0, backward = 0, recompute = 0;
  double tp = 0, ep = 0, pp = 0;
};

/// Compute and communication of one micro-batch on the slowest stage.
[[gnu::always_inline]] inline StageTimes stage_times(const Architecture& a, const Workload& w,
                                                     const Layout& l, const LayoutFactors& f,
                                                     const Network& net,
                                                     const SectionSeconds& s,
                                                     double tp_exposed) {
  const bool full = w.recompute == Recompute::full;
  StageTimes out;
  // Backward costs twice the forward for matmuls (two GEMMs of the same shape) and, by the
  // elementwise convention, for the rest.
  const double stage_layers = s.layers * f.per_stage;
  const double first = stage_layers + s.embedding + (l.pp == 1 ? s.head : 0);
  const double last = stage_layers + s.head;
  out.forward = (l.pp == 1 || first >= last) ? first : last;
  out.backward = 2 * out.forward;
  out.recompute = s.layers_redone * f.per_stage;

  // Tensor parallelism: two all-reduces of the residual stream forward and two backward
  // per layer, two more when full recomputation redoes the forward (Shoeybi et al. 2019
  // §3; with sequence parallelism a reduce-scatter and an all-gather cost the same,
  // Korthikanti et al. 2022 §4.2.2); one more for the vocabulary-parallel embedding or
  // output layer.
  const double act = bytes_of(w.dtype);
  const double stream = act * static_cast<double>(w.batch) * static_cast<double>(w.seq_len) *
                        static_cast<double>(a.d_model);
  const double layers_per_stage = static_cast<double>(a.n_layers) * f.per_stage;
  if (l.tp > 1) {
    const double once = all_reduce(stream, f.tp_ring, link_for(net, l.tp, 1));
    // The share efficiency.tp_overlap hides behind the GEMMs is not on the critical path.
    out.tp = tp_exposed * (layers_per_stage * ((full ? 6 : 4) * once) + once);
  }
  // Expert parallelism: dispatch and combine all-to-alls forward and backward (and again
  // when recomputed) per MoE layer, k copies of each token.
  if (l.ep > 1) {
    const Link link = link_for(net, l.ep, l.tp);
    const double routed = stream * static_cast<double>(a.top_k) * f.share.sequence;
    const double per_layer = (full ? 6 : 4) * all_to_all(routed, f.ep_ring, link);
    out.ep = static_cast<double>(a.n_moe_layers) * f.per_stage * per_layer;
  }
  // Pipeline: the stage's output forward and its gradient backward, split over tp.
  if (l.pp > 1) {
    out.pp = 2 * point_to_point(stream * f.share.tensor, link_for(net, 2, l.tp * l.dp));
  }
  return out;
}

/// The part of a step that does not depend on memory: m micro-batches of the slowest stage
/// and the pipeline fill and drain (1F1B: (p - 1) / v stage times).
struct PipelineTime {
  StageTimes stage;
  double stage_seconds, bubble, compute_step, tokens_per_step;
};

// Inlined into its two callers: returning the times through memory cost more than them.
[[gnu::always_inline]] inline PipelineTime pipeline_time(const Architecture& a,
                                                         const Workload& w, const Layout& l,
                                                         const LayoutFactors& f,
                                                         const Machine& machine,
                                                         const SectionSeconds& seconds) {
  PipelineTime p;
  p.stage = stage_times(a, w, l, f, machine.network, seconds,
                        1 - machine.efficiency.tp_overlap);
  p.stage_seconds = p.stage.forward + p.stage.backward + p.stage.recompute + p.stage.tp +
                    p.stage.ep + p.stage.pp;
  const double m = static_cast<double>(l.microbatches);
  p.bubble = f.bubble_stages * p.stage_seconds;
  p.compute_step = m * p.stage_seconds + p.bubble;
  p.tokens_per_step = m * static_cast<double>(l.dp) * static_cast<double>(w.batch) *
                      static_cast<double>(w.seq_len);
  return p;
}

/// Data parallelism: the exposed seconds of reducing the gradients of the device's
/// `params` once per step, `volume` times an all-reduce. Expert gradients take the same
/// ring here, though their group is only dp / ep.
double gradient_reduction(const Workload& w, const Layout& l, const LayoutFactors& f,
                          const Machine& machine, double params, double volume) {
  if (l.dp == 1) return 0;
  const double gradient_bytes = params * state_bytes(w.dtype, l.optimizer).gradients;
  return (1 - machine.efficiency.dp_overlap) * volume *
         all_reduce(gradient_bytes, f.dp_ring, link_for(machine.network, l.dp, l.tp));
}

/// One step's times, given the device's parameter states (`states`: a MemoryReport of
/// which only params, weights, gradients and optimizer are read).
TimeReport step_time(const Architecture& a, const Workload& w, const Layout& l,
                     const LayoutFactors& f, const Machine& machine,
                     const SectionSeconds& seconds, const MemoryReport& states) {
  const PipelineTime p = pipeline_time(a, w, l, f, machine, seconds);

  // ZeRO 1 and 2: reduce-scatter plus all-gather, the same volume as an all-reduce; ZeRO 3
  // gathers the weights again forward and backward, 1.5x (Rajbhandari et al. 2020 §7).
  const double dp_communication =
      gradient_reduction(w, l, f, machine, states.params, l.zero == 3 ? 1.5 : 1.0);
  // The optimizer reads and writes every state once: memory-bound.
  const double optimizer = 2 * (states.weights + states.gradients + states.optimizer) *
                           machine.seconds_per_state_byte;
  // Both terms are >= 0, so the step is never below p.compute_step (see step_bound).
  const double step = p.compute_step + dp_communication + optimizer;
  // Every field given: no zero-filling first (this runs once or twice per sweep row).
  return TimeReport{p.stage.forward, p.stage.backward, p.stage.recompute, p.stage.tp,
                    p.stage.ep, p.stage.pp, p.stage_seconds, p.bubble, dp_communication,
                    optimizer, step, p.tokens_per_step, p.tokens_per_step / step};
}

UtilisationTerms utilisation_terms(const Workload& w, const ModelCosts& costs, const Layout& l,
                                   const Machine& machine) {
  const double devices = static_cast<double>(l.tp * l.pp * l.dp);
  const double per_step = static_cast<double>(l.microbatches) * static_cast<double>(l.dp);
  return {costs.executed_model * per_step,
          (costs.executed_model + costs.executed_recompute) * per_step,
          peak_flops(machine.hw, w.dtype) * devices};
}

}  // namespace

InstanceSeconds instance_seconds(const ModelShape& shape, const Roofline& roof) {
  InstanceSeconds s;
  for (const TimeOp& op : shape) {
    const double seconds = forward_seconds(op, op.executed_forward, op.tiling, roof);
    const auto k = static_cast<int>(op.section);
    s.all[k] += seconds;
    if (op.redone) s.redone[k] += seconds;
  }
  return s;
}

SectionSeconds section_seconds(const InstanceSeconds& s,
                               const std::array<double, section_count>& instances) {
  constexpr int embedding = static_cast<int>(Section::embedding);
  constexpr int head = static_cast<int>(Section::head);
  SectionSeconds out;
  out.embedding = s.all[embedding];
  out.head = s.all[head];
  for (int k = embedding + 1; k < head; ++k) {  // the layers' sections
    if (instances[k] == 0) continue;
    out.layers += instances[k] * s.all[k];
    out.layers_redone += instances[k] * s.redone[k];
  }
  return out;
}

Layout single_device_tensor(Layout l) {
  l.tp = 1;
  l.sequence_parallel = false;
  return l;
}

Machine machine(const Hardware& hw, const Efficiency& e) {
  return {hw, e, network(hw, e), 1 / (hw.memory_bandwidth * e.memory)};
}

PreparedLayout prepare(const Layout& l) {
  const Layout single = single_device_tensor(l);
  return {l, layout_factors(l), single, layout_factors(single)};
}

TrainingReport estimate_training(const Architecture& a, const Workload& w, const Layout& l,
                                 const Hardware& hw, const Efficiency& e) {
  const ModelShape shape = model_shape(a, w);
  const ModelCosts costs = model_costs(shape, a);
  const auto seconds = [&](const Layout& split) {
    return section_seconds(instance_seconds(shape, roofline(w, split, hw, e)), costs.instances);
  };
  const SectionSeconds at_tp1 = seconds(single_device_tensor(l));
  const bool plain = l.tp == 1 && !l.sequence_parallel;
  const PreparedLayout prepared = prepare(l);
  TrainingReport report = estimate_training(a, w, costs, prepared, machine(hw, e), at_tp1,
                                            plain ? at_tp1 : seconds(l));
  add_inference_memory(a, w, costs, l, prepared.factors, hw, report.memory);
  return report;
}

namespace {

struct TpEfficiency {
  double total, gemm, communication;
};

/// Tensor-parallel efficiency: the same run at tp = 1 (memory aside). Its loss splits
/// exactly into GEMMs that got smaller and the collectives tp adds.
TpEfficiency tp_efficiency(const Architecture& a, const Workload& w, const ModelCosts& costs,
                           const PreparedLayout& prepared, const Machine& machine,
                           const SectionSeconds& at_tp1, const TimeReport& at_tp,
                           bool tp_baseline) {
  const Layout& l = prepared.layout;
  if (l.tp == 1) return {1, 1, 1};
  if (!tp_baseline) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan, nan};
  }
  const Layout& single = prepared.single;
  const LayoutFactors& single_factors = prepared.single_factors;
  const double step_1 = step_time(a, w, single, single_factors, machine, at_tp1,
                                  parameter_memory(a, w, costs, single, single_factors))
                            .step;
  const double t = static_cast<double>(l.tp);
  const double step_t = at_tp.step;
  const double m_stages = static_cast<double>(l.microbatches) + prepared.factors.bubble_stages;
  const double without_tp_comm = step_t - m_stages * at_tp.tp_communication;
  return {step_1 / (t * step_t), step_1 / (t * without_tp_comm), without_tp_comm / step_t};
}

}  // namespace

TrainingReport estimate_training(const Architecture& a, const Workload& w,
                                 const ModelCosts& costs, const PreparedLayout& prepared,
                                 const Machine& machine, const SectionSeconds& at_tp1,
                                 const SectionSeconds& at_layout, bool tp_baseline) {
  const Layout& l = prepared.layout;
  const LayoutFactors& f = prepared.factors;
  const MemoryReport memory_report = memory(a, w, costs, l, f, machine.hw);
  const TimeReport time = step_time(a, w, l, f, machine, at_layout, memory_report);
  const Utilisation used = utilisation_terms(w, costs, l, machine).at(time.step);
  const TpEfficiency tp =
      tp_efficiency(a, w, costs, prepared, machine, at_tp1, time, tp_baseline);
  // Every field given: no zero-filling of the report first (this runs once per row).
  return TrainingReport{costs.totals,
                        memory_report,
                        time,
                        used.mfu,
                        used.hfu,
                        tp.total,
                        tp.gemm,
                        tp.communication,
                        f.pipeline_bubble,
                        used.flops_per_step,
                        l.tp * l.pp * l.dp,
                        l.microbatches};
}

StepBound step_bound(const Architecture& a, const Workload& w, const ModelCosts& costs,
                     const PreparedLayout& prepared, const Machine& machine,
                     const SectionSeconds& at_layout) {
  const Layout& l = prepared.layout;
  const LayoutFactors& f = prepared.factors;
  const PipelineTime p = pipeline_time(a, w, l, f, machine, at_layout);
  // Every stage holds its share of the layers' parameters (the embedding or the head only
  // adds), and whatever the ZeRO stage the gradients take at least one all-reduce.
  const ParamShares& layers = costs.layers.params;
  const double least_params = (layers.non_expert(f.share) + layers.expert(f.share)) * f.per_stage;
  const double step = p.compute_step + gradient_reduction(w, l, f, machine, least_params, 1.0);
  return {step, p.tokens_per_step, utilisation_terms(w, costs, l, machine)};
}

Budget training_budget(const TrainingReport& report, double tokens) {
  if (!(std::isfinite(tokens) && tokens > 0)) {
    detail::reject("tokens", tokens, "it must be a positive number of tokens");
  }
  Budget budget;
  budget.seconds = tokens / report.time.tokens_per_s;
  budget.days = budget.seconds / 86400;
  budget.gpu_hours = budget.seconds / 3600 * static_cast<double>(report.devices);
  budget.model_flops = report.flops_per_step / report.time.tokens_per_step * tokens;
  budget.pf_days = budget.model_flops / (1e15 * 86400);
  return budget;
}

}  // namespace scalingperf
