#include "pybind11.hpp"

#include "scalingperf/shapes.hpp"

namespace sp = scalingperf;

namespace {
using IntColumn = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

const std::int64_t* checked(const IntColumn& column, const char* name, py::ssize_t size) {
  if (column.ndim() != 1 || column.shape(0) != size) {
    throw std::invalid_argument(std::string(name) + " must be 1-D with as many entries as d_model");
  }
  return column.data();
}
}  // namespace

void bind_shapes(py::module_& m) {
  m.def(
      "evaluate_shapes",
      [](const sp::Architecture& base, const IntColumn& d_model, const IntColumn& n_layers,
         const IntColumn& n_heads, const IntColumn& d_ff, std::int64_t batch,
         std::int64_t seq_len, const std::string& recompute, unsigned threads) {
        if (d_model.ndim() != 1) throw std::invalid_argument("d_model must be 1-D");
        const py::ssize_t n = d_model.shape(0);
        const sp::ShapeColumns in{checked(d_model, "d_model", n), checked(n_layers, "n_layers", n),
                                  checked(n_heads, "n_heads", n), checked(d_ff, "d_ff", n),
                                  static_cast<std::size_t>(n)};
        const sp::Workload work{batch, seq_len, sp::parse_recompute(recompute)};
        py::array_t<std::int64_t> params_total(n), params_active(n);
        py::array_t<double> flops_forward(n), flops_model(n), flops_hardware(n);
        const sp::ShapeTotals out{params_total.mutable_data(), params_active.mutable_data(),
                                  flops_forward.mutable_data(), flops_model.mutable_data(),
                                  flops_hardware.mutable_data()};
        {
          // Safe without the GIL: the inputs are kept alive by this frame and the outputs
          // are fresh arrays no other Python code can see yet.
          py::gil_scoped_release release;
          sp::evaluate_shapes(base, work, in, out, threads);
        }
        py::dict result;
        result["params_total"] = params_total;
        result["params_active"] = params_active;
        result["flops_forward"] = flops_forward;
        result["flops_model"] = flops_model;
        result["flops_hardware"] = flops_hardware;
        return result;
      },
      py::arg("base"), py::arg("d_model"), py::arg("n_layers"), py::arg("n_heads"),
      py::arg("d_ff"), py::arg("batch"), py::arg("seq_len"), py::arg("recompute") = "none",
      py::arg("threads") = 0,
      "Totals for shapes that differ from an unresolved base in d_model, n_layers, n_heads "
      "and d_ff.");
}
