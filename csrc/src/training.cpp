#include "scalingperf/training.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "checks.hpp"
#include "scalingperf/device.hpp"
#include "scalingperf/model_costs.hpp"
#include "scalingperf/ops.hpp"
#include "scalingperf/recompute.hpp"

namespace scalingperf {
namespace {

struct StageTimes {
  double forward = 0, backward = 0, recompute = 0;
  double tp = 0, ep = 0, pp = 0, cp = 0;
};

/// Ring attention (context parallelism as in Megatron-Core / Transformer Engine's
/// AttnFuncWithCPAndKVP2P): each rank keeps its queries and passes its keys and values
/// around the cp ring point to point, cp - 1 steps per attention forward, each step
/// overlapped with the attention of the block that just arrived. We assume the kernels'
/// work splits evenly over the cp steps (causal load balancing, two chunks per rank), so
/// a step exposes max(0, transfer - attention / cp). Backward passes the keys and values
/// and their gradients (dK, dV) around once more: twice the bytes against twice the
/// attention work (backward = 2 x forward here), so twice the forward's exposed time.
/// Per layer: `attention` is the forward seconds of one layer's attention kernels on one
/// rank, `kv_bytes` what one rank sends per step.
double ring_attention_exposed(const Layout& l, const Link& link, double attention,
                              double kv_bytes) {
  const double steps = static_cast<double>(l.cp - 1);
  return steps *
         std::max(0.0, point_to_point(kv_bytes, link) - attention / static_cast<double>(l.cp));
}

/// Compute and communication of one micro-batch on a device holding `share` of the
/// layers and `ends` forward seconds of the embedding and / or the head (`has_ends`),
/// and the MTP modules when `with_mtp` (the last stage's).
[[gnu::always_inline]] inline StageTimes device_times(const Architecture& a, const Workload& w,
                                                      const Layout& l, const LayoutFactors& f,
                                                      const Network& net,
                                                      const SectionSeconds& s,
                                                      double tp_exposed, double share,
                                                      double ends, bool has_ends,
                                                      bool with_mtp) {
  const bool full = w.recompute == Recompute::full;
  const bool per_op = w.recompute == Recompute::per_op;
  StageTimes out;
  // Backward costs twice the forward for matmuls (two GEMMs of the same shape) and, by the
  // elementwise convention, for the rest. Context parallelism gives each rank 1 / cp of
  // every op's work (causal attention load-balanced); tile quantisation stays that of
  // the whole micro-batch (seq_len / cp is a multiple of the tile in practice).
  const double context = f.share.context;
  // MTP modules on this device (their seconds are all the modules' together).
  const double modules = with_mtp ? static_cast<double>(a.mtp_layers) : 0;
  const bool mtp = modules > 0;
  out.forward = (s.layers * share + ends + (mtp ? s.mtp : 0)) * context;
  // Backward: twice the forward, and more (or less) where flash attention, FP8 casts or
  // the GEMMs' reduction widths (op_seconds) make it so.
  // A flash-attention backward recomputes the scores from Q and K before its four
  // gradient GEMMs: five s x s GEMMs to the forward's two, 2.5x its work (Dao et al. 2022
  // Algorithm 4; Dao 2023 §3.1.2), and runs them 1.2x slower per FLOP than the forward
  // (Shah et al. 2024, FlashAttention-3, H100 forward vs backward figures, head dim 128,
  // 4k tokens: FA2 368 / 310, cuDNN 609 / 499, FA3 638 / 542 TFLOP/s): 3x its time.
  // (instance_seconds sums it with the FP8 casts: backward_extra).
  out.backward =
      2 * out.forward + (s.backward_extra * share + (mtp ? s.mtp_backward_extra : 0)) * context;
  const double layers = static_cast<double>(a.n_layers);
  const double device_layers = layers * share;
  // recompute_every: whole layers redone (a layer's mean forward each), their collectives
  // again as under full recomputation.
  const double checkpointed = checkpointed_layers(w, device_layers);
  out.recompute = (s.layers_redone * share +
                   (checkpointed > 0 ? s.layers * checkpointed / layers : 0) +
                   (mtp ? s.mtp_redone : 0)) *
                  context;
  const bool mtp_moe = mtp && a.mtp_kind.ffn == FfnBlock::moe;

  // Tensor parallelism: two all-reduces of the residual stream forward and two backward
  // per layer, two more when full recomputation redoes the forward (Shoeybi et al. 2019
  // §3; with sequence parallelism a reduce-scatter and an all-gather cost the same,
  // Korthikanti et al. 2022 §4.2.2); one more for the vocabulary-parallel embedding or
  // output layer.
  const double act = bytes_of(w.dtype);
  const double stream = act * static_cast<double>(w.batch) * static_cast<double>(w.seq_len) *
                        static_cast<double>(a.d_model) * context;
  if (l.tp > 1) {
    const double once = all_reduce(stream, f.tp_ring, collective_link(net, l.tp, 1));
    // Half of a layer's collectives are its FFN block's. An MoE block split over etp < tp
    // ranks reduces over its etp group the etp / tp of the tokens that group holds (none
    // for etp = 1: sequence-parallel tokens go to the experts as they are): an
    // assumption of this model, as is every MoE layer costing the same.
    double ffn = 1, moe_ffn = 1;  // an MoE block's collectives over a dense one's
    const std::int64_t etp = expert_tp(l);
    if (etp != l.tp && a.n_moe_layers > 0) {
      const double moe = static_cast<double>(a.n_moe_layers) / layers;
      const double expert_once =
          etp > 1 ? all_reduce(stream * static_cast<double>(etp) / static_cast<double>(l.tp),
                               ring(etp), collective_link(net, etp, 1))
                  : 0;
      moe_ffn = expert_once / once;
      ffn = 1 - moe + moe * moe_ffn;
    }
    // Per-op checkpointing keeps the reduce-scatters' outputs and redoes the rest: the
    // all-gathers of sequence parallelism, or the all-reduces without it (torchtitan's
    // save list has reduce_scatter_tensor, not all_gather_into_tensor or all_reduce).
    const double passes = full ? 3 : per_op ? (l.sequence_parallel ? 2.5 : 3) : 2;
    double per_layer = (passes * device_layers + checkpointed) * (1 + ffn);
    double dense_passes = passes, moe_passes = passes;
    if (!full && (redoes_mlp(w) || redoes_moe(w))) {
      // Selective recomputation of the mlp or moe modules redoes that block's forward
      // collectives (its checkpoint starts before the first and ends after the last).
      const double moe = static_cast<double>(a.n_moe_layers) / layers;
      dense_passes = redoes_mlp(w) ? 3 : passes;
      moe_passes = redoes_moe(w) ? 3 : passes;
      per_layer = (passes + (1 - moe) * dense_passes + moe * moe_ffn * moe_passes) *
                      device_layers +
                  checkpointed * (1 + ffn);
    }
    // An MTP module: its layer's collectives, and one each for its pass of the
    // vocabulary-parallel embedding, the gather of its projection's output (Megatron-Core
    // gathers it before the layer) and its pass of the head.
    const double mtp_collectives =
        mtp ? modules * (passes + (mtp_moe ? moe_ffn * moe_passes : dense_passes) + 3) : 0;
    // The share efficiency.tp_overlap hides behind the GEMMs is not on the critical path.
    out.tp = tp_exposed * ((per_layer + mtp_collectives) * once + (has_ends ? once : 0));
  }
  // Expert parallelism: dispatch and combine all-to-alls forward and backward (and again
  // when recomputed) per MoE layer, k copies of each token.
  if (l.ep > 1) {
    const double routed = stream * static_cast<double>(a.top_k) * f.share.sequence;
    const double once =
        l.ep_dispatcher == EpDispatcher::deepep
            ? node_forwarded_all_to_all(routed, a.top_k, a.n_experts, f.ep_ring, net,
                                        expert_tp(l))
            : all_to_all(routed, f.ep_ring, net, expert_tp(l));
    const double moe_share = static_cast<double>(a.n_moe_layers) / layers;
    const double a2a = redoes_moe(w) ? 6 : 4;
    out.ep = (moe_share * (device_layers * a2a + checkpointed * 2) +
              (mtp_moe ? modules * a2a : 0)) *
             once;
    // Megatron-Core's all-to-all dispatcher sorts the tokens a rank receives by its local
    // expert, and back before the combine, when it holds more than one: each a pass of
    // the permutation's traffic, forward and (as every memory-bound op here) twice
    // backward. (An MTP module's MoE layer is left out: one layer of many.)
    if (a.n_experts > l.ep) {
      const double sort = 2 * s.token_permute * share * context;
      out.forward += sort;
      out.backward += 2 * sort;
    }
  }
  // Pipeline: the stage's output forward and its gradient backward, split over tp.
  if (l.pp > 1) {
    out.pp = 2 * point_to_point(stream * f.share.tensor,
                                link_for(net, 2, l.tp * l.cp * l.dp));
  }
  // Context parallelism: a rank's keys and values (its kv heads of tp, its seq_len / cp
  // tokens) per layer, forward, twice backward, once more when recomputation redoes the
  // attention (full, or selective with core_attn; per-op checkpointing keeps its output).
  if (l.cp > 1) {
    const double kv = 2 * act * static_cast<double>(w.batch) * static_cast<double>(w.seq_len) *
                      context * static_cast<double>(a.n_kv_heads * a.head_dim) *
                      f.share.tensor;
    const double attention = s.attention_core / static_cast<double>(a.n_layers) * context;
    const double forward =
        ring_attention_exposed(l, link_for(net, l.cp, l.tp), attention, kv);
    out.cp = ((redoes_attention_core(w) ? 4 : 3) * device_layers + checkpointed) * forward;
    const bool mtp_attention = mtp && (a.mtp_kind.mixer == MixerKind::attention ||
                                       a.mtp_kind.mixer == MixerKind::window_attention);
    if (mtp_attention) {
      const double module_forward = ring_attention_exposed(
          l, link_for(net, l.cp, l.tp), s.mtp_attention_core / modules * context, kv);
      out.cp += (redoes_attention_core(w) ? 4 : 3) * modules * module_forward;
    }
  }
  return out;
}

double total(const StageTimes& t) {
  return t.forward + t.backward + t.recompute + t.tp + t.ep + t.pp + t.cp;
}

/// Uneven stages, or even ones whose last also holds MTP modules: the slowest of the
/// first, the last and a device between. Out of line: sweeps of even layouts keep their
/// hot path small.
[[gnu::noinline]] StageTimes uneven_stage_times(const Architecture& a, const Workload& w,
                                                const Layout& l, const LayoutFactors& f,
                                                const Network& net, const SectionSeconds& s,
                                                double tp_exposed) {
  StageTimes slowest =
      device_times(a, w, l, f, net, s, tp_exposed, f.first_share, s.embedding, true, false);
  const StageTimes last =
      device_times(a, w, l, f, net, s, tp_exposed, f.last_share, s.head, true, true);
  if (total(last) > total(slowest)) slowest = last;
  if (l.pp > 2) {
    const StageTimes middle =
        device_times(a, w, l, f, net, s, tp_exposed, f.middle_share, 0, false, false);
    if (total(middle) > total(slowest)) slowest = middle;
  }
  return slowest;
}

/// One micro-batch on the slowest device. Even stages: the first holds the embedding, the
/// last the head, both the same layers (and the last the MTP modules: then each apart).
[[gnu::always_inline]] inline StageTimes stage_times(const Architecture& a, const Workload& w,
                                                     const Layout& l, const LayoutFactors& f,
                                                     const Network& net,
                                                     const SectionSeconds& s,
                                                     double tp_exposed) {
  if (f.uneven || (a.mtp_layers > 0 && l.pp > 1)) [[unlikely]] {
    return uneven_stage_times(a, w, l, f, net, s, tp_exposed);
  }
  const double ends = l.pp == 1 ? s.embedding + s.head : std::max(s.embedding, s.head);
  return device_times(a, w, l, f, net, s, tp_exposed, f.per_stage, ends, true, l.pp == 1);
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
  // Efficiency::ep_overlap hides that share of the all-to-alls, up to the micro-batch's
  // compute they run beside.
  if (const double hidden = machine.efficiency.ep_overlap; hidden > 0 && p.stage.ep > 0) {
    p.stage.ep -= hidden * std::min(p.stage.ep, p.stage.forward + p.stage.backward +
                                                    p.stage.recompute);
  }
  p.stage_seconds = total(p.stage);
  const double m = static_cast<double>(l.microbatches);
  p.bubble = f.bubble_stages * p.stage_seconds;
  p.compute_step = m * p.stage_seconds + p.bubble;
  p.tokens_per_step = m * static_cast<double>(l.dp) * static_cast<double>(w.batch) *
                      static_cast<double>(w.seq_len);
  return p;
}

/// Data parallelism: the exposed seconds of reducing the gradients of the device's
/// `params` once per step, `volume` times an all-reduce over the dp x cp ranks that hold
/// the same shard (context-parallel ranks see other tokens of the same sequences).
/// Overlap (Efficiency::dp_overlap, the share of the window used): Megatron's
/// --overlap-grad-reduce / --overlap-param-gather and FSDP's prefetching run the
/// collectives bucket by bucket (layer by layer) behind compute: the parameter gathers
/// behind the first micro-batch's forward, the gradient reductions behind the last one's
/// backward. `window` is that micro-batch's compute on the device; the last layer's
/// bucket (1 / `layers` of the traffic) waits for the backward to end and is never hidden.
/// Expert gradients take the same ring here, though their group is only dp cp / ep.
/// With HSDP (Layout::shard) the ZeRO traffic stays in a sharding group and the groups'
/// replicas all-reduce each rank's 1 / shard of the gradients (hybrid sharding: Zhao et
/// al. 2023, "PyTorch FSDP: Experiences on Scaling Fully Sharded Data Parallel").
[[gnu::always_inline]] inline double gradient_reduction(const Workload& w, const Layout& l,
                                                       const LayoutFactors& f,
                                                       const Machine& machine, double params,
                                                       double volume, double window,
                                                       double layers) {
  if (f.dp_ring.size == 1 && f.replica_ring.size == 1) return 0;
  const StateBytes bytes = state_bytes(w, l.optimizer);
  const double gradient_bytes = params * bytes.gradients;
  // The ring's bytes per parameter, averaged over its passes: an all-reduce moves the
  // gradients twice; ZeRO reduce-scatters the gradients and all-gathers the weights in
  // their own format (twice under ZeRO 3). The same as the gradients' unless they are
  // float32 under 16-bit weights (Workload::fp32_gradients).
  const double ring_bytes =
      l.zero == 0   ? bytes.gradients
      : l.zero == 3 ? (bytes.gradients + 2 * bytes.weights) / 3
                    : (bytes.gradients + bytes.weights) / 2;
  const double across =
      f.replica_ring.size == 1
          ? 0
          : all_reduce(gradient_bytes / static_cast<double>(f.dp_ring.size), f.replica_ring,
                       collective_link(machine.network, f.replica_ring.size,
                                       l.tp * f.dp_ring.size));
  const double traffic = volume * all_reduce(params * ring_bytes, f.dp_ring,
                                             collective_link(machine.network, f.dp_ring.size,
                                                             l.tp)) +
                         across;
  const double overlap = machine.efficiency.dp_overlap;
  if (overlap == 0) return traffic;  // the default: nothing hidden, no division per row
  const double hideable = traffic - traffic / std::max(1.0, layers);
  return traffic - overlap * std::min(hideable, window);
}

/// One step's times, given the device's parameter states (`states`: a MemoryReport of
/// which only params, weights, gradients and optimizer are read).
TimeReport step_time(const Architecture& a, const Workload& w, const Layout& l,
                     const LayoutFactors& f, const Machine& machine,
                     const SectionSeconds& seconds, const MemoryReport& states) {
  const PipelineTime p = pipeline_time(a, w, l, f, machine, seconds);

  // ZeRO 1 and 2: reduce-scatter plus all-gather, the same volume as an all-reduce; ZeRO 3
  // gathers the weights again forward and backward, 1.5x (Rajbhandari et al. 2020 §7).
  const double dp_communication = gradient_reduction(
      w, l, f, machine, states.params, l.zero == 3 ? 1.5 : 1.0,
      p.stage.forward + p.stage.backward + p.stage.recompute,
      static_cast<double>(a.n_layers) * f.per_stage);
  // The optimizer reads and writes every state once: memory-bound.
  const double optimizer = 2 * (states.weights + states.gradients + states.optimizer) *
                           machine.seconds_per_state_byte;
  // Both terms are >= 0, so the step is never below p.compute_step (see step_bound).
  const double step = p.compute_step + dp_communication + optimizer;
  // Every field given: no zero-filling first (this runs once or twice per sweep row).
  return TimeReport{p.stage.forward, p.stage.backward, p.stage.recompute, p.stage.tp,
                    p.stage.ep, p.stage.pp, p.stage.cp, p.stage_seconds, p.bubble, dp_communication,
                    optimizer, step, p.tokens_per_step, p.tokens_per_step / step};
}

/// Activation offloading (Workload::offload_layers; Transformer Engine's CPU offload
/// context as Megatron-Core drives it, double-buffered): an offloaded layer's saved
/// tensors are copied to host memory while the next layer runs its forward, and copied
/// back while the layer after it runs its backward, over the device's host link at the
/// collectives' share of its bandwidth; what a copy takes beyond that layer's compute is
/// exposed. Per layer: a mean layer's saved bytes, forward and backward (pp = 1, so the
/// stage's over the model's layers; the copies' own use of HBM is left out).
TimeReport with_offload(const Architecture& a, const Workload& w, const ModelCosts& costs,
                        const Layout& l, const LayoutFactors& f, const Machine& machine,
                        TimeReport t) {
  if (!(machine.hw.host_bandwidth > 0)) reject_no_host_link(w.offload_layers);
  const double layers = static_cast<double>(a.n_layers);
  const double copy = offloaded_layer_bytes(a, costs, f) /
                      (machine.hw.host_bandwidth * machine.efficiency.network);
  t.offload = static_cast<double>(w.offload_layers) *
              (std::max(0.0, copy - t.forward / layers) + std::max(0.0, copy - t.backward / layers));
  t.stage += t.offload;
  t.step += static_cast<double>(l.microbatches) * t.offload;
  t.tokens_per_s = t.tokens_per_step / t.step;
  return t;
}

/// The share of the model's layers recompute_every redoes, over all pipeline devices.
double checkpointed_share(const Workload& w, const Layout& l, const LayoutFactors& f,
                          double layers) {
  if (w.recompute_every <= 0) return 0;
  const auto on = [&](double share) { return checkpointed_layers(w, share * layers); };
  const double pp = static_cast<double>(l.pp);
  const double total = f.uneven ? on(f.first_share) + on(f.last_share) +
                                      (pp - 2) * on(f.middle_share)
                                : pp * on(f.per_stage);
  return total / layers;
}

UtilisationTerms utilisation_terms(const Workload& w, const ModelCosts& costs, const Layout& l,
                                   const LayoutFactors& f, const Machine& machine,
                                   double layers) {
  const double devices = static_cast<double>(l.tp * l.cp * l.pp * l.dp);
  const double per_step = static_cast<double>(l.microbatches) * static_cast<double>(l.dp);
  const double redone = costs.executed_recompute +
                        checkpointed_share(w, l, f, layers) * costs.executed_layers_forward;
  return {costs.executed_model * per_step, (costs.executed_model + redone) * per_step,
          peak_flops(machine.hw, w.dtype) * devices};
}

/// The model's totals with what recompute_every redoes counted.
Totals totals_with_recompute(const Workload& w, const ModelCosts& costs, const Layout& l,
                             const LayoutFactors& f, double layers) {
  Totals t = costs.totals;
  const double redone = checkpointed_share(w, l, f, layers) * costs.layers_forward;
  t.flops.recompute += redone;
  t.flops.hardware += redone;
  return t;
}

}  // namespace

InstanceSeconds instance_seconds(const ModelShape& shape, const Roofline& roof) {
  InstanceSeconds s;
  for (const TimeOp& op : shape) {
    const CastSeconds casts = fp8_casts(op, roof);
    const OpSeconds own = op_seconds(op, op.executed_forward, op.tiling, roof);
    const double seconds = own.forward + casts.forward;
    const auto k = static_cast<int>(op.section);
    // FP8 casts: backward casts the output gradients, not twice the forward's inputs.
    s.backward_extra[k] += casts.backward - 2 * casts.forward + own.backward_extra;
    s.all[k] += seconds;
    s.redone[k] += op.redone * seconds;
    if (op.token_permute) s.token_permute[k] += seconds;
    if (op.attention_core) {
      s.attention_core[k] += seconds;
      if (shape.flash_attention) s.backward_extra[k] += (flash_backward_multiple - 2) * seconds;
    }
  }
  for (int k = 0; k < section_count; ++k) {
    s.redone[k] += shape.redone_bytes[k] * roof.share.tensor * roof.seconds_per_byte;
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
    out.attention_core += instances[k] * s.attention_core[k];
    out.backward_extra += instances[k] * s.backward_extra[k];
    out.token_permute += instances[k] * s.token_permute[k];
  }
  constexpr int mtp = static_cast<int>(Section::mtp);
  if (instances[mtp] > 0) {
    out.mtp = instances[mtp] * s.all[mtp];
    out.mtp_redone = instances[mtp] * s.redone[mtp];
    out.mtp_attention_core = instances[mtp] * s.attention_core[mtp];
    out.mtp_backward_extra = instances[mtp] * s.backward_extra[mtp];
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
  MemoryReport most_states;  // the device holding the most states sets the step's tail
  const MemoryReport memory_report = memory(a, w, costs, l, f, machine.hw, &most_states);
  const TimeReport at_tp = step_time(a, w, l, f, machine, at_layout, most_states);
  const TimeReport time =
      w.offload_layers > 0 ? with_offload(a, w, costs, l, f, machine, at_tp) : at_tp;
  const double layers = static_cast<double>(a.n_layers);
  const Utilisation used = utilisation_terms(w, costs, l, f, machine, layers).at(time.step);
  // Tensor-parallel efficiency compares steps without offloading (the tp = 1 baseline
  // leaves it out too).
  const TpEfficiency tp =
      tp_efficiency(a, w, costs, prepared, machine, at_tp1, at_tp, tp_baseline);
  // Every field given: no zero-filling of the report first (this runs once per row).
  TrainingReport report{costs.totals,
                        memory_report,
                        time,
                        used.mfu,
                        used.hfu,
                        tp.total,
                        tp.gemm,
                        tp.communication,
                        f.pipeline_bubble,
                        used.flops_per_step,
                        l.tp * l.cp * l.pp * l.dp,
                        l.microbatches};
  if (w.recompute_every > 0) [[unlikely]] {
    report.totals = totals_with_recompute(w, costs, l, f, layers);
  }
  return report;
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
  const double least_share =
      f.uneven
          ? std::min({f.first_share, f.last_share, l.pp > 2 ? f.middle_share : f.first_share})
          : f.per_stage;
  const double least_params = (layers.non_expert(f.share) + layers.expert(f.share)) * least_share;
  // The fewest parameters, and the most layers to bucket them by: never above the step.
  const double step =
      p.compute_step + gradient_reduction(w, l, f, machine, least_params, 1.0,
                                          p.stage.forward + p.stage.backward + p.stage.recompute,
                                          static_cast<double>(a.n_layers));
  return {step, p.tokens_per_step,
          utilisation_terms(w, costs, l, f, machine, static_cast<double>(a.n_layers))};
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
