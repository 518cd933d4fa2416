#include "scalingperf/training.hpp"

#include <algorithm>
#include <cmath>

#include "checks.hpp"
#include "scalingperf/device.hpp"
#include "scalingperf/ops.hpp"

namespace scalingperf {
namespace {

struct StageTimes {
  double forward = 0, backward = 0, recompute = 0;
  double tp = 0, ep = 0, pp = 0;
  double model_flops = 0, hardware_flops = 0;  ///< executed in one micro-batch, all stages
};

/// Compute and communication of one micro-batch on the slowest stage.
StageTimes stage_times(const Architecture& a, const Workload& w, const Layout& l,
                       const Hardware& hw, const Efficiency& e) {
  const double t = static_cast<double>(l.tp);
  const double p = static_cast<double>(l.pp);
  const double peak = peak_flops(hw, w.dtype);
  const bool full = w.recompute == Recompute::full;

  double layers = 0, embedding = 0, head = 0;  // forward seconds
  double layers_redone = 0;                     // recomputed forward seconds
  StageTimes out;
  for_each_op(a, w, [&](const OpCost& op) {
    const double n = static_cast<double>(op.count);
    const double seconds = n * forward_seconds(op, w, l, hw, e, peak);
    const bool redone = forward_redone(op, w.recompute);
    out.model_flops += n * (executed_forward(op, w) + executed_backward(op, w));
    if (redone) out.hardware_flops += n * executed_forward(op, w);
    switch (op.section) {
      case Section::embedding: embedding += seconds; break;
      case Section::head: head += seconds; break;
      default:
        layers += seconds;
        if (redone) layers_redone += seconds;
    }
  });
  out.hardware_flops += out.model_flops;

  // Backward costs twice the forward for matmuls (two GEMMs of the same shape) and, by the
  // elementwise convention, for the rest.
  const double stage_layers = layers / p;
  const double first = stage_layers + embedding + (l.pp == 1 ? head : 0);
  const double last = stage_layers + head;
  const bool first_is_slowest = l.pp == 1 || first >= last;
  out.forward = first_is_slowest ? first : last;
  out.backward = 2 * out.forward;
  out.recompute = layers_redone / p;

  // Tensor parallelism: two all-reduces of the residual stream forward and two backward
  // per layer, two more when full recomputation redoes the forward (Shoeybi et al. 2019
  // §3; with sequence parallelism a reduce-scatter and an all-gather cost the same,
  // Korthikanti et al. 2022 §4.2.2); one more for the vocabulary-parallel embedding or
  // output layer.
  const double act = bytes_of(w.dtype);
  const double stream = act * static_cast<double>(w.batch) * static_cast<double>(w.seq_len) *
                        static_cast<double>(a.d_model);
  const double layers_per_stage = static_cast<double>(a.n_layers) / p;
  if (l.tp > 1) {
    const Link link = link_for(hw, e, l.tp, 1);
    const double per_layer = (full ? 6 : 4) * all_reduce(stream, l.tp, link);
    out.tp = layers_per_stage * per_layer + all_reduce(stream, l.tp, link);
  }
  // Expert parallelism: dispatch and combine all-to-alls forward and backward (and again
  // when recomputed) per MoE layer, k copies of each token.
  if (l.ep > 1) {
    const Link link = link_for(hw, e, l.ep, l.tp);
    const double routed = stream * static_cast<double>(a.top_k) / (l.sequence_parallel ? t : 1);
    const double per_layer = (full ? 6 : 4) * all_to_all(routed, l.ep, link);
    out.ep = static_cast<double>(a.n_moe_layers) / p * per_layer;
  }
  // Pipeline: the stage's output forward and its gradient backward, split over tp.
  if (l.pp > 1) {
    const Link link = link_for(hw, e, 2, l.tp * l.dp);
    out.pp = 2 * point_to_point(stream / t, link);
  }
  return out;
}

struct StepResult {
  StageTimes stage;
  MemoryReport memory;
  TimeReport time;
};

StepResult step(const Architecture& a, const Workload& w, const Layout& l, const Hardware& hw,
                const Efficiency& e) {
  StepResult r;
  r.stage = stage_times(a, w, l, hw, e);
  r.memory = memory(a, w, l, hw);
  TimeReport& time = r.time;
  time.forward = r.stage.forward;
  time.backward = r.stage.backward;
  time.recompute = r.stage.recompute;
  time.tp_communication = r.stage.tp;
  time.ep_communication = r.stage.ep;
  time.pp_communication = r.stage.pp;
  time.stage = time.forward + time.backward + time.recompute + time.tp_communication +
               time.ep_communication + time.pp_communication;
  const double m = static_cast<double>(l.microbatches);
  const double p = static_cast<double>(l.pp);
  // 1F1B: m micro-batches plus (p - 1) / v stage times of fill and drain.
  time.bubble = (p - 1) / static_cast<double>(l.interleave) * time.stage;

  // Data parallelism: reduce the gradients once per step (ZeRO 1 and 2: reduce-scatter
  // plus all-gather, the same volume; ZeRO 3 gathers the weights again forward and
  // backward, 1.5x: Rajbhandari et al. 2020 §7). Expert gradients over dp / ep.
  if (l.dp > 1) {
    const StateBytes per_param = state_bytes(w.dtype, l.optimizer);
    const double volume = l.zero == 3 ? 1.5 : 1.0;
    const double gradient_bytes = r.memory.weights / per_param.weights * per_param.gradients;
    const Link link = link_for(hw, e, l.dp, l.tp);
    time.dp_communication =
        (1 - e.dp_overlap) * volume * all_reduce(gradient_bytes, l.dp, link);
  }
  // The optimizer reads and writes every state once: memory-bound.
  time.optimizer = 2 * (r.memory.weights + r.memory.gradients + r.memory.optimizer) /
                   (hw.memory_bandwidth * e.memory);
  time.step = m * time.stage + time.bubble + time.dp_communication + time.optimizer;
  time.tokens_per_step = m * static_cast<double>(l.dp) * static_cast<double>(w.batch) *
                         static_cast<double>(w.seq_len);
  time.tokens_per_s = time.tokens_per_step / time.step;
  return r;
}

}  // namespace

TrainingReport estimate_training(const Architecture& a, const Workload& w, const Layout& l,
                                 const Hardware& hw, const Efficiency& e) {
  TrainingReport report;
  report.totals = estimate_totals(a, w);
  const StepResult at = step(a, w, l, hw, e);
  report.memory = at.memory;
  report.time = at.time;
  report.devices = l.tp * l.pp * l.dp;
  report.microbatches = l.microbatches;
  const double devices = static_cast<double>(report.devices);
  const double per_step = static_cast<double>(l.microbatches) * static_cast<double>(l.dp);
  const double peak = peak_flops(hw, w.dtype) * devices * at.time.step;
  report.flops_per_step = at.stage.model_flops * per_step;
  report.mfu = report.flops_per_step / peak;
  report.hfu = at.stage.hardware_flops * per_step / peak;
  report.pipeline_bubble = (static_cast<double>(l.pp) - 1) /
                           (static_cast<double>(l.interleave) * static_cast<double>(l.microbatches));

  // Tensor-parallel efficiency: the same run at tp = 1 (memory aside). Its loss splits
  // exactly into GEMMs that got smaller and the collectives tp adds.
  if (l.tp == 1) {
    report.tp_efficiency = report.tp_gemm_efficiency = report.tp_communication_efficiency = 1;
  } else {
    Layout single = l;
    single.tp = 1;
    single.sequence_parallel = false;
    const double step_1 = step(a, w, single, hw, e).time.step;
    const double t = static_cast<double>(l.tp);
    const double step_t = at.time.step;
    const double m_stages = static_cast<double>(l.microbatches) +
                            (static_cast<double>(l.pp) - 1) / static_cast<double>(l.interleave);
    const double without_tp_comm = step_t - m_stages * at.time.tp_communication;
    report.tp_efficiency = step_1 / (t * step_t);
    report.tp_gemm_efficiency = step_1 / (t * without_tp_comm);
    report.tp_communication_efficiency = without_tp_comm / step_t;
  }
  return report;
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
