#pragma once
/// One training step on real hardware: memory per device, step time from a roofline per
/// op and alpha-beta collectives, utilisation and tensor-parallel efficiency.

#include <array>
#include <cstdint>

#include "scalingperf/architecture.hpp"
#include "scalingperf/estimate.hpp"
#include "scalingperf/hardware.hpp"
#include "scalingperf/device.hpp"
#include "scalingperf/memory.hpp"
#include "scalingperf/model_costs.hpp"
#include "scalingperf/parallel.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// Seconds. Per-micro-batch entries are for the slowest pipeline stage on one device.
struct TimeReport {
  double forward = 0;           ///< per micro-batch: forward compute
  double backward = 0;          ///< per micro-batch: backward compute
  double recompute = 0;         ///< per micro-batch: recomputed forward
  double tp_communication = 0;  ///< per micro-batch: tensor-parallel collectives
  double ep_communication = 0;  ///< per micro-batch: expert all-to-alls
  double pp_communication = 0;  ///< per micro-batch: activations and gradients between stages
  double cp_communication = 0;  ///< per micro-batch: ring attention's exposed K/V exchange
  double stage = 0;             ///< per micro-batch: all of the above
  double bubble = 0;            ///< per step: pipeline fill and drain
  double dp_communication = 0;  ///< per step: the exposed part of the gradient reduction
  double optimizer = 0;         ///< per step: the optimizer's pass over its states
  double step = 0;
  double tokens_per_step = 0;
  double tokens_per_s = 0;
  /// per micro-batch (in `stage`): activation offloading's host copies beyond the compute
  /// they run beside (Workload::offload_layers)
  double offload = 0;
};

/// Everything estimate() reports for a training configuration.
struct TrainingReport {
  Totals totals;
  MemoryReport memory;
  TimeReport time;
  double mfu = 0;   ///< model FLOPs per second over the devices' peak (PaLM, appendix B)
  double hfu = 0;   ///< the same with recomputation counted
  double tp_efficiency = 0;                ///< per-device throughput at tp over that at tp = 1
  double tp_gemm_efficiency = 0;           ///< ... the part lost to smaller GEMMs
  double tp_communication_efficiency = 0;  ///< ... the part lost to tensor-parallel collectives
  double pipeline_bubble = 0;              ///< (p - 1) / (v m), Narayanan et al. 2021 §2.2
  double flops_per_step = 0;               ///< model FLOPs the kernels execute in one step
  std::int64_t devices = 0;
  std::int64_t microbatches = 0;
};

/// What training on a token budget costs at a report's step rate.
struct Budget {
  double seconds = 0;
  double days = 0;
  double gpu_hours = 0;
  double model_flops = 0;  ///< executed model FLOPs over the budget
  double pf_days = 0;      ///< model_flops in petaFLOP/s-days (Kaplan et al. 2020 §2.1)
};
Budget training_budget(const TrainingReport& report, double tokens);

/// The full estimate of a resolved architecture, validated workload, resolved layout and
/// validated hardware and efficiency.
TrainingReport estimate_training(const Architecture& arch, const Workload& work,
                                 const Layout& layout, const Hardware& hw,
                                 const Efficiency& efficiency);
/// Forward seconds of one micro-batch by section, on one device (all layers together).
struct SectionSeconds {
  double layers = 0, embedding = 0, head = 0;
  double layers_redone = 0;   ///< the recomputed part of `layers`
  double attention_core = 0;  ///< the attention kernels' part of `layers`
  /// What a backward takes beyond twice the forward (backward_extra).
  double backward_extra = 0;
  double token_permute = 0;  ///< the MoE layers' token permutations
  /// The same four of all the MTP modules (on the last pipeline stage).
  double mtp = 0, mtp_redone = 0, mtp_attention_core = 0, mtp_backward_extra = 0;
};
/// Forward seconds of one instance of each section, and their recomputed part.
struct InstanceSeconds {
  std::array<double, section_count> all{}, redone{};
  std::array<double, section_count> attention_core{};  ///< is_attention_core ops
  /// Beyond twice the forward, per instance: a flash backward's recomputed scores at the
  /// backward's slower rate, and FP8 training's gradient casts in place of twice its
  /// input casts. Summed once per model and split, not per sweep row.
  std::array<double, section_count> backward_extra{};
  std::array<double, section_count> token_permute{};
};
InstanceSeconds instance_seconds(const ModelShape& shape, const Roofline& roof);
/// The sections' seconds for a model with these instances (ModelCosts::instances).
SectionSeconds section_seconds(const InstanceSeconds& seconds,
                               const std::array<double, section_count>& instances);

/// The layout with tensor parallelism (and so sequence parallelism) removed.
Layout single_device_tensor(Layout layout);

/// A device and its calibration, with what every estimate divides by divided out once.
struct Machine {
  Hardware hw;
  Efficiency efficiency;
  Network network;
  double seconds_per_state_byte;  ///< 1 / (memory bandwidth x memory efficiency)
};
Machine machine(const Hardware& hw, const Efficiency& efficiency);

/// A resolved layout with its factors, and the same layout at tp = 1 (the baseline of
/// tensor-parallel efficiency) with its own: a sweep prepares each layout once per model.
struct PreparedLayout {
  Layout layout;
  LayoutFactors factors;
  Layout single;
  LayoutFactors single_factors;
};
PreparedLayout prepare(const Layout& resolved);

/// The same, without the inference memory fields, from the model's costs (collected once
/// per architecture and workload), its section seconds at tp = 1 and under this layout's
/// tensor split (which a sweep computes once per tensor split for all layouts). Without `tp_baseline` the tp = 1 run that
/// tensor-parallel efficiency compares against is skipped (a third of the cost) and the
/// three tp_*efficiency fields are NaN: for reductions that do not read them.
TrainingReport estimate_training(const Architecture& arch, const Workload& work,
                                 const ModelCosts& costs, const PreparedLayout& layout,
                                 const Machine& machine, const SectionSeconds& at_tp1,
                                 const SectionSeconds& at_layout, bool tp_baseline = true);

/// Model and hardware FLOP utilisation of a step (PaLM, appendix B).
struct Utilisation {
  double flops_per_step, mfu, hfu;
};
/// What utilisation divides by a step's length: the model FLOPs the kernels execute per
/// step, with recomputation, and the peak FLOP/s of all the devices.
struct UtilisationTerms {
  double flops_per_step, hardware_flops_per_step, peak;
  Utilisation at(double step) const {
    const double per_peak = 1 / (peak * step);
    return {flops_per_step, flops_per_step * per_peak, hardware_flops_per_step * per_peak};
  }
};

/// What every report of this model, workload and layout satisfies whatever its memory and
/// ZeRO stage: the step is at least its compute part plus one all-reduce of the gradients
/// of the layers a stage holds (the rest of the states and the optimizer only add), so
/// tokens/s, MFU and HFU are at most what that step gives. Streaming reductions skip
/// layouts whose bound cannot rank. The rates divide by the step only when asked.
struct StepBound {
  double step;  ///< lower bound
  double tokens_per_step;
  UtilisationTerms utilisation;
  double tokens_per_s() const { return tokens_per_step / step; }  ///< upper bounds
  double mfu() const { return utilisation.at(step).mfu; }
  double hfu() const { return utilisation.at(step).hfu; }
};
StepBound step_bound(const Architecture& arch, const Workload& work, const ModelCosts& costs,
                     const PreparedLayout& layout, const Machine& machine,
                     const SectionSeconds& at_layout);
/// Whether two layouts have the same StepBound for one model and workload: they differ at
/// most in what it does not read (the ZeRO stage).
inline bool same_step_bound(const Layout& a, const Layout& b) {
  return a.tp == b.tp && a.cp == b.cp && a.pp == b.pp && a.dp == b.dp && a.ep == b.ep &&
         a.microbatches == b.microbatches && a.interleave == b.interleave &&
         a.sequence_parallel == b.sequence_parallel && a.optimizer == b.optimizer &&
         a.first_stage_layers == b.first_stage_layers &&
         a.last_stage_layers == b.last_stage_layers &&
         a.middle_stage_layers == b.middle_stage_layers;
}

}  // namespace scalingperf
