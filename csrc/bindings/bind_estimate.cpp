#include "pybind11.hpp"

#include <stdexcept>
#include <string>

#include "scalingperf/estimate.hpp"
#include "scalingperf/training.hpp"

namespace sp = scalingperf;

namespace {

/// Everything one estimate() call passes, converted and validated in one place.
struct Inputs {
  sp::Workload work;
  sp::Layout layout;
};

/// A report with what produced it, so that its per-op table can be built later.
struct BoundReport {
  sp::TrainingReport report;
  sp::Architecture arch;
  sp::Workload work;
  sp::Layout layout;
  sp::Hardware hw;
  sp::Efficiency efficiency;
};

/// layers_per_stage as estimate() passes it: None, the (first, middle, last) devices'
/// layers, or a rule naming what counts as a layer ("embedding", "loss",
/// "embedding+loss").
struct StageSplit {
  std::int64_t first = -1, middle = -1, last = -1;
  bool embedding = false, loss = false;
};

Inputs convert(const sp::Architecture& arch, const sp::Hardware& hw, std::int64_t batch,
               std::int64_t seq_len, const std::string& recompute, const std::string& dtype,
               bool flash_attention, bool dropout, const std::string& implementation,
               std::int64_t tp, std::int64_t pp, std::int64_t dp, std::int64_t ep,
               std::int64_t zero, std::int64_t microbatches, std::int64_t interleave,
               bool sequence_parallel, const std::string& optimizer, std::int64_t cp,
               const StageSplit& split, std::int64_t recompute_every, std::int64_t etp,
               std::int64_t shard, const std::string& ep_dispatcher,
               std::uint8_t recompute_modules, bool fused_elementwise,
               std::int64_t offload_layers, bool fp32_gradients) {
  Inputs in;
  in.work = sp::Workload{batch,           seq_len, sp::parse_recompute(recompute),
                         sp::parse_dtype(dtype), flash_attention, dropout,
                         sp::parse_implementation(implementation), recompute_every,
                         recompute_modules};
  in.work.fused_elementwise = fused_elementwise;
  in.work.offload_layers = offload_layers;
  in.work.fp32_gradients = fp32_gradients;
  sp::validate(arch, in.work);
  sp::peak_flops(hw, in.work.dtype);  // the device must support the format
  sp::Layout layout{tp, pp, dp, ep, zero, microbatches, interleave,
                    sequence_parallel, sp::parse_optimizer(optimizer), cp};
  layout.first_stage_layers = split.first;
  layout.middle_stage_layers = split.middle;
  layout.last_stage_layers = split.last;
  layout.embedding_in_split = split.embedding;
  layout.loss_in_split = split.loss;
  layout.etp = etp;
  layout.shard = shard;
  layout.ep_dispatcher = sp::parse_ep_dispatcher(ep_dispatcher);
  in.layout = sp::resolve(arch, layout);
  sp::check_workload_layout(in.work, in.layout);
  return in;
}

// estimate()'s options arrive as Python objects and are taken only when their type is
// exactly int, bool or str (None for microbatches). Anything else raises TypeError, which
// sends scalingperf.estimate to its converting path: that accepts numpy integers and whole
// floats and names the field of anything else. pybind11's own casters would silently
// truncate 2.7 to 2, read None as False and 2.5 as True.
[[noreturn]] void not_exact() { throw py::type_error("estimate(): convert the options"); }

std::int64_t exact_int(py::handle value) {
  if (PyLong_CheckExact(value.ptr())) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow == 0) return v;
  }
  not_exact();
}

bool exact_bool(py::handle value) {
  if (value.ptr() == Py_True) return true;
  if (value.ptr() == Py_False) return false;
  not_exact();
}

std::string exact_str(py::handle value) {
  if (PyUnicode_CheckExact(value.ptr())) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
    if (data != nullptr) return std::string(data, static_cast<std::size_t>(size));
    PyErr_Clear();  // not encodable (lone surrogates): the converting path refuses it
  }
  not_exact();
}

/// None: Megatron's default (core_attn); else a sequence of module names.
std::uint8_t recompute_modules_of(py::handle value) {
  if (value.is_none()) return sp::recompute_module::core_attn;
  std::vector<std::string> names;
  for (py::handle name : value) names.push_back(exact_str(name));
  return sp::parse_recompute_modules(names);
}

StageSplit stage_split_of(py::handle value) {
  StageSplit split;
  if (value.is_none()) return split;
  if (PyTuple_CheckExact(value.ptr()) && PyTuple_GET_SIZE(value.ptr()) == 3) {
    split.first = exact_int(PyTuple_GET_ITEM(value.ptr(), 0));
    split.middle = exact_int(PyTuple_GET_ITEM(value.ptr(), 1));
    split.last = exact_int(PyTuple_GET_ITEM(value.ptr(), 2));
    return split;
  }
  const std::string rule = exact_str(value);
  if (rule != "embedding" && rule != "loss" && rule != "embedding+loss") not_exact();
  split.embedding = rule != "loss";
  split.loss = rule != "embedding";
  return split;
}

/// None: the default (0 for the core, `otherwise` in words); an explicit 0 is refused.
std::int64_t at_least_one(const char* field, py::handle value, const char* otherwise) {
  if (value.is_none()) return 0;
  const std::int64_t n = exact_int(value);
  if (n < 1) {
    throw std::invalid_argument(std::string(field) + "=" + std::to_string(n) +
                                " is invalid: it must be >= 1 (leave it None for " + otherwise +
                                ")");
  }
  return n;
}

template <class T>
py::array_t<T> column(const std::vector<sp::OpRow>& rows, T (*get)(const sp::OpRow&)) {
  py::array_t<T> out(static_cast<py::ssize_t>(rows.size()));
  T* data = out.mutable_data();
  for (std::size_t i = 0; i < rows.size(); ++i) data[i] = get(rows[i]);
  return out;
}

py::dict table_columns(const std::vector<sp::OpRow>& rows) {
  py::list section, op, kind;
  for (const auto& row : rows) {
    section.append(sp::name_of(row.cost.section));
    op.append(sp::name_of(row.cost.op));
    kind.append(sp::name_of(row.cost.kind));
  }
  py::dict out;
  out["section"] = section;
  out["op"] = op;
  out["kind"] = kind;
  using Row = sp::OpRow;
  out["count"] = column<std::int64_t>(rows, [](const Row& r) { return r.cost.count; });
  out["params"] = column<std::int64_t>(rows, [](const Row& r) { return r.cost.params; });
  out["active_params"] =
      column<std::int64_t>(rows, [](const Row& r) { return r.cost.active_params; });
  out["embedding"] = column<bool>(rows, [](const Row& r) { return r.cost.embedding; });
  out["flops_forward"] = column<double>(rows, [](const Row& r) { return r.cost.forward; });
  out["flops_backward"] = column<double>(rows, [](const Row& r) { return r.cost.backward; });
  out["flops_forward_causal"] =
      column<double>(rows, [](const Row& r) { return r.cost.forward_causal; });
  out["flops_backward_causal"] =
      column<double>(rows, [](const Row& r) { return r.cost.backward_causal; });
  out["elementwise_forward"] =
      column<double>(rows, [](const Row& r) { return r.cost.elementwise_forward; });
  out["elementwise_backward"] =
      column<double>(rows, [](const Row& r) { return r.cost.elementwise_backward; });
  out["flops_recompute"] = column<double>(rows, [](const Row& r) { return r.recompute; });
  out["params_per_device"] =
      column<double>(rows, [](const Row& r) { return r.params_per_device; });
  out["saved_bytes"] = column<double>(rows, [](const Row& r) { return r.saved; });
  out["time_forward"] = column<double>(rows, [](const Row& r) { return r.forward_seconds; });
  out["time_backward"] =
      column<double>(rows, [](const Row& r) { return r.backward_seconds; });
  return out;
}

}  // namespace

void bind_estimate(py::module_& m) {
  py::class_<sp::ParamCounts>(m, "ParamCounts", "Parameter counts.")
      .def_readonly("total", &sp::ParamCounts::total)
      .def_readonly("embedding", &sp::ParamCounts::embedding)
      .def_readonly("non_embedding", &sp::ParamCounts::non_embedding)
      .def_readonly("active", &sp::ParamCounts::active)
      .def_readonly("active_non_embedding", &sp::ParamCounts::active_non_embedding);
  py::class_<sp::FlopCounts>(m, "FlopCounts", "FLOPs of one micro-batch.")
      .def_readonly("forward", &sp::FlopCounts::forward)
      .def_readonly("backward", &sp::FlopCounts::backward)
      .def_readonly("forward_causal", &sp::FlopCounts::forward_causal)
      .def_readonly("backward_causal", &sp::FlopCounts::backward_causal)
      .def_readonly("elementwise_forward", &sp::FlopCounts::elementwise_forward)
      .def_readonly("elementwise_backward", &sp::FlopCounts::elementwise_backward)
      .def_readonly("recompute", &sp::FlopCounts::recompute)
      .def_readonly("model", &sp::FlopCounts::model)
      .def_readonly("hardware", &sp::FlopCounts::hardware)
      .def_readonly("per_token", &sp::FlopCounts::per_token)
      .def_readonly("six_n_per_token", &sp::FlopCounts::six_n_per_token);
  py::class_<sp::MemoryReport>(m, "MemoryReport", "Bytes on the busiest device.")
      .def_readonly("params", &sp::MemoryReport::params)
      .def_readonly("weights", &sp::MemoryReport::weights)
      .def_readonly("gradients", &sp::MemoryReport::gradients)
      .def_readonly("optimizer", &sp::MemoryReport::optimizer)
      .def_readonly("activations", &sp::MemoryReport::activations)
      .def_readonly("activations_per_layer", &sp::MemoryReport::activations_per_layer)
      .def_readonly("activations_in_flight", &sp::MemoryReport::activations_in_flight)
      .def_readonly("logits", &sp::MemoryReport::logits)
      .def_readonly("temporary", &sp::MemoryReport::temporary)
      .def_readonly("per_gpu", &sp::MemoryReport::per_gpu)
      .def_readonly("capacity", &sp::MemoryReport::capacity)
      .def_readonly("fits", &sp::MemoryReport::fits)
      .def_readonly("kv_cache", &sp::MemoryReport::kv_cache)
      .def_readonly("inference", &sp::MemoryReport::inference)
      .def_readonly("max_inference_batch", &sp::MemoryReport::max_inference_batch)
      .def_readonly("pipeline_stage", &sp::MemoryReport::pipeline_stage);
  py::class_<sp::TimeReport>(m, "TimeReport", "Seconds; per micro-batch or per step.")
      .def_readonly("forward", &sp::TimeReport::forward)
      .def_readonly("backward", &sp::TimeReport::backward)
      .def_readonly("recompute", &sp::TimeReport::recompute)
      .def_readonly("tp_communication", &sp::TimeReport::tp_communication)
      .def_readonly("ep_communication", &sp::TimeReport::ep_communication)
      .def_readonly("pp_communication", &sp::TimeReport::pp_communication)
      .def_readonly("cp_communication", &sp::TimeReport::cp_communication)
      .def_readonly("offload", &sp::TimeReport::offload)
      .def_readonly("stage", &sp::TimeReport::stage)
      .def_readonly("bubble", &sp::TimeReport::bubble)
      .def_readonly("dp_communication", &sp::TimeReport::dp_communication)
      .def_readonly("optimizer", &sp::TimeReport::optimizer)
      .def_readonly("step", &sp::TimeReport::step)
      .def_readonly("tokens_per_step", &sp::TimeReport::tokens_per_step)
      .def_readonly("tokens_per_s", &sp::TimeReport::tokens_per_s);
  using R = BoundReport;
  py::class_<R>(m, "TrainingReport", "Everything estimate() computes.")
      .def_property_readonly("params", [](const R& r) { return r.report.totals.params; })
      .def_property_readonly("flops", [](const R& r) { return r.report.totals.flops; })
      .def_property_readonly("tokens", [](const R& r) { return r.report.totals.tokens; })
      .def_property_readonly("memory", [](const R& r) { return r.report.memory; })
      .def_property_readonly("time", [](const R& r) { return r.report.time; })
      .def_property_readonly("mfu", [](const R& r) { return r.report.mfu; })
      .def_property_readonly("hfu", [](const R& r) { return r.report.hfu; })
      .def_property_readonly("tp_efficiency", [](const R& r) { return r.report.tp_efficiency; })
      .def_property_readonly("tp_gemm_efficiency",
                             [](const R& r) { return r.report.tp_gemm_efficiency; })
      .def_property_readonly("tp_communication_efficiency",
                             [](const R& r) { return r.report.tp_communication_efficiency; })
      .def_property_readonly("pipeline_bubble", [](const R& r) { return r.report.pipeline_bubble; })
      .def_property_readonly("flops_per_step", [](const R& r) { return r.report.flops_per_step; })
      .def_property_readonly("devices", [](const R& r) { return r.report.devices; })
      .def_property_readonly("microbatches", [](const R& r) { return r.report.microbatches; });

  py::tuple modules(sp::recompute_module_names().size());
  std::size_t i = 0;
  for (const std::string& name : sp::recompute_module_names()) modules[i++] = name;
  m.attr("RECOMPUTE_MODULES") = modules;

  m.def(
      "estimate",
      [](const sp::Architecture& arch, const sp::Hardware& hw, const sp::Efficiency& efficiency,
         py::handle batch, py::handle seq_len, py::handle recompute, py::handle dtype,
         py::handle flash_attention, py::handle dropout, py::handle implementation,
         py::handle tp, py::handle pp, py::handle dp, py::handle ep, py::handle zero,
         py::handle microbatches, py::handle interleave, py::handle sequence_parallel,
         py::handle optimizer, py::handle cp, py::handle layers_per_stage,
         py::handle recompute_every, py::handle etp, py::handle shard,
         py::handle ep_dispatcher, py::handle recompute_modules,
         py::handle fused_elementwise, py::handle offload_layers,
         py::handle fp32_gradients) {
        const Inputs in =
            convert(arch, hw, exact_int(batch), exact_int(seq_len), exact_str(recompute),
                    exact_str(dtype), exact_bool(flash_attention), exact_bool(dropout),
                    exact_str(implementation), exact_int(tp), exact_int(pp), exact_int(dp),
                    exact_int(ep), exact_int(zero), at_least_one("microbatches", microbatches, "one per pipeline stage, pp"),
                    exact_int(interleave), exact_bool(sequence_parallel), exact_str(optimizer),
                    exact_int(cp), stage_split_of(layers_per_stage),
                    at_least_one("recompute_every", recompute_every, "no layer checkpointed"), at_least_one("etp", etp, "etp = tp"),
                    at_least_one("shard", shard, "all dp x cp ranks"),
                    exact_str(ep_dispatcher), recompute_modules_of(recompute_modules),
                    exact_bool(fused_elementwise), exact_int(offload_layers),
                    exact_bool(fp32_gradients));
        return BoundReport{sp::estimate_training(arch, in.work, in.layout, hw, efficiency),
                           arch, in.work, in.layout, hw, efficiency};
      },
      "Totals, memory and time of a resolved architecture for one training step.");

  m.def(
      "training_budget",
      [](const BoundReport& report, double tokens) {
        const sp::Budget b = sp::training_budget(report.report, tokens);
        py::dict out;
        out["seconds"] = b.seconds;
        out["days"] = b.days;
        out["gpu_hours"] = b.gpu_hours;
        out["model_flops"] = b.model_flops;
        out["pf_days"] = b.pf_days;
        return out;
      },
      py::arg("report"), py::arg("tokens"), "Days, GPU-hours and PF-days for a token budget.");

  m.def(
      "op_table",
      [](const BoundReport& r) {
        return table_columns(sp::op_table(r.arch, r.work, r.layout, r.hw, r.efficiency));
      },
      py::arg("report"), "The per-op table (per instance, with counts) as a dict of columns.");
}
