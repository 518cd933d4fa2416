#include "pybind11.hpp"

#include "scalingperf/estimate.hpp"

namespace sp = scalingperf;

namespace {

sp::Workload make_workload(const sp::Architecture& arch, std::int64_t batch,
                           std::int64_t seq_len, const std::string& recompute) {
  sp::Workload work{batch, seq_len, sp::parse_recompute(recompute)};
  sp::validate(arch, work);
  return work;
}

template <class T>
py::array_t<T> column(const std::vector<sp::OpRow>& rows, T (*get)(const sp::OpRow&)) {
  py::array_t<T> out(static_cast<py::ssize_t>(rows.size()));
  T* data = out.mutable_data();
  for (std::size_t i = 0; i < rows.size(); ++i) data[i] = get(rows[i]);
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
  py::class_<sp::Totals>(m, "Totals", "Totals of one configuration.")
      .def_readonly("params", &sp::Totals::params)
      .def_readonly("flops", &sp::Totals::flops)
      .def_readonly("tokens", &sp::Totals::tokens);

  m.def(
      "estimate",
      [](const sp::Architecture& arch, std::int64_t batch, std::int64_t seq_len,
         const std::string& recompute) {
        return sp::estimate_totals(arch, make_workload(arch, batch, seq_len, recompute));
      },
      py::arg("arch"), py::arg("batch"), py::arg("seq_len"), py::arg("recompute") = "none",
      "Totals of a resolved architecture for one micro-batch.");

  m.def(
      "op_table",
      [](const sp::Architecture& arch, std::int64_t batch, std::int64_t seq_len,
         const std::string& recompute) {
        const auto rows = sp::op_table(arch, make_workload(arch, batch, seq_len, recompute));
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
        out["flops_backward"] =
            column<double>(rows, [](const Row& r) { return r.cost.backward; });
        out["flops_forward_causal"] =
            column<double>(rows, [](const Row& r) { return r.cost.forward_causal; });
        out["flops_backward_causal"] =
            column<double>(rows, [](const Row& r) { return r.cost.backward_causal; });
        out["elementwise_forward"] =
            column<double>(rows, [](const Row& r) { return r.cost.elementwise_forward; });
        out["elementwise_backward"] =
            column<double>(rows, [](const Row& r) { return r.cost.elementwise_backward; });
        out["flops_recompute"] = column<double>(rows, [](const Row& r) { return r.recompute; });
        return out;
      },
      py::arg("arch"), py::arg("batch"), py::arg("seq_len"), py::arg("recompute") = "none",
      "The per-op table (per instance, with counts) as a dict of columns.");
}
