#include "pybind11.hpp"

#include "scalingperf/hardware.hpp"

namespace sp = scalingperf;

namespace {

/// An Efficiency curve (`name`) from Python's (x, multiple) pairs; sp::validate checks it.
void fill_curve(const char* name, const std::vector<std::pair<double, double>>& points,
                std::array<double, sp::Efficiency::max_attention_points>& at,
                std::array<double, sp::Efficiency::max_attention_points>& scale,
                std::int64_t& count) {
  if (points.size() > sp::Efficiency::max_attention_points) {
    throw std::invalid_argument(std::string(name) + " has " + std::to_string(points.size()) +
                                " points: allowed range is [0, " +
                                std::to_string(sp::Efficiency::max_attention_points) + "]");
  }
  count = 0;
  for (const auto& [x, multiple] : points) {
    at[count] = x;
    scale[count++] = multiple;
  }
}

}  // namespace

void bind_hardware(py::module_& m) {
  py::class_<sp::Hardware>(m, "Hardware", "A device as the core sees it.")
      .def(py::init([](double peak_fp32, double peak_tf32, double peak_bf16, double peak_fp16,
                       double memory, double memory_bandwidth, double intra_node_bandwidth,
                       double inter_node_bandwidth, double intra_node_latency,
                       double inter_node_latency, std::int64_t devices_per_node,
                       double peak_fp8, double peak_mxfp8, double peak_nvfp4,
                       double host_bandwidth) {
             sp::Hardware hw{peak_fp32, peak_tf32, peak_bf16, peak_fp16, memory,
                             memory_bandwidth, intra_node_bandwidth, inter_node_bandwidth,
                             intra_node_latency, inter_node_latency, devices_per_node, peak_fp8,
                             peak_mxfp8, peak_nvfp4, host_bandwidth};
             sp::validate(hw);
             return hw;
           }),
           py::kw_only(), py::arg("peak_fp32"), py::arg("peak_tf32"), py::arg("peak_bf16"),
           py::arg("peak_fp16"), py::arg("memory"), py::arg("memory_bandwidth"),
           py::arg("intra_node_bandwidth"), py::arg("inter_node_bandwidth"),
           py::arg("intra_node_latency"), py::arg("inter_node_latency"),
           py::arg("devices_per_node"), py::arg("peak_fp8") = 0.0,
           py::arg("peak_mxfp8") = 0.0, py::arg("peak_nvfp4") = 0.0,
           py::arg("host_bandwidth") = 0.0)
      .def_readonly("peak_fp32", &sp::Hardware::peak_fp32)
      .def_readonly("peak_tf32", &sp::Hardware::peak_tf32)
      .def_readonly("peak_bf16", &sp::Hardware::peak_bf16)
      .def_readonly("peak_fp16", &sp::Hardware::peak_fp16)
      .def_readonly("peak_fp8", &sp::Hardware::peak_fp8)
      .def_readonly("peak_mxfp8", &sp::Hardware::peak_mxfp8)
      .def_readonly("peak_nvfp4", &sp::Hardware::peak_nvfp4)
      .def_readonly("memory", &sp::Hardware::memory)
      .def_readonly("memory_bandwidth", &sp::Hardware::memory_bandwidth)
      .def_readonly("intra_node_bandwidth", &sp::Hardware::intra_node_bandwidth)
      .def_readonly("inter_node_bandwidth", &sp::Hardware::inter_node_bandwidth)
      .def_readonly("intra_node_latency", &sp::Hardware::intra_node_latency)
      .def_readonly("inter_node_latency", &sp::Hardware::inter_node_latency)
      .def_readonly("devices_per_node", &sp::Hardware::devices_per_node)
      .def_readonly("host_bandwidth", &sp::Hardware::host_bandwidth);

  namespace limits = sp::hardware_limits;
  py::dict ranges;
  for (auto [field, range] :
       {std::pair{"peak_flops", limits::peak_flops}, {"memory", limits::memory},
        {"memory_bandwidth", limits::memory_bandwidth},
        {"link_bandwidth", limits::link_bandwidth}, {"latency", limits::latency}}) {
    ranges[field] = py::make_tuple(range.lo, range.hi);
  }
  m.attr("HARDWARE_LIMITS") = ranges;

  py::class_<sp::Efficiency>(m, "Efficiency", "Achieved fractions of the peaks.")
      .def(py::init([](double matmul, double memory, double network, double dp_overlap,
                       std::int64_t tile, double attention, double tp_overlap,
                       double fp8_matmul_ratio,
                       const std::vector<std::pair<double, double>>& attention_curve,
                       double ep_overlap, double gemm_k0,
                       const std::vector<std::pair<double, double>>& attention_head_curve,
                       double fp4_matmul_ratio) {
             sp::Efficiency e{matmul,    memory,    network,   dp_overlap,
                              tile,      attention, tp_overlap, fp8_matmul_ratio, ep_overlap};
             e.gemm_k0 = gemm_k0;
             e.fp4_matmul_ratio = fp4_matmul_ratio;
             fill_curve("attention_curve", attention_curve, e.attention_tokens,
                        e.attention_scale, e.attention_points);
             fill_curve("attention_head_curve", attention_head_curve, e.attention_head_dims,
                        e.attention_head_scale, e.attention_head_points);
             sp::validate(e);
             e.attention_k0 = sp::fit_attention_k0(e);
             return e;
           }),
           py::kw_only(), py::arg("matmul") = sp::Efficiency{}.matmul,
           py::arg("memory") = sp::Efficiency{}.memory,
           py::arg("network") = sp::Efficiency{}.network,
           py::arg("dp_overlap") = sp::Efficiency{}.dp_overlap,
           py::arg("tile") = sp::Efficiency{}.tile,
           py::arg("attention") = sp::Efficiency{}.attention,
           py::arg("tp_overlap") = sp::Efficiency{}.tp_overlap,
           py::arg("fp8_matmul_ratio") = sp::Efficiency{}.fp8_matmul_ratio,
           py::arg("attention_curve") = std::vector<std::pair<double, double>>{},
           py::arg("ep_overlap") = sp::Efficiency{}.ep_overlap,
           py::arg("gemm_k0") = sp::Efficiency{}.gemm_k0,
           py::arg("attention_head_curve") = std::vector<std::pair<double, double>>{},
           py::arg("fp4_matmul_ratio") = sp::Efficiency{}.fp4_matmul_ratio)
      .def_readonly("matmul", &sp::Efficiency::matmul)
      .def_readonly("memory", &sp::Efficiency::memory)
      .def_readonly("network", &sp::Efficiency::network)
      .def_readonly("dp_overlap", &sp::Efficiency::dp_overlap)
      .def_readonly("tile", &sp::Efficiency::tile)
      .def_readonly("attention", &sp::Efficiency::attention)
      .def_readonly("tp_overlap", &sp::Efficiency::tp_overlap)
      .def_readonly("fp8_matmul_ratio", &sp::Efficiency::fp8_matmul_ratio)
      .def_readonly("fp4_matmul_ratio", &sp::Efficiency::fp4_matmul_ratio)
      .def_readonly("ep_overlap", &sp::Efficiency::ep_overlap)
      .def_readonly("gemm_k0", &sp::Efficiency::gemm_k0)
      .def_readonly("attention_k0", &sp::Efficiency::attention_k0)
      .def_property_readonly("attention_curve", [](const sp::Efficiency& e) {
        py::list points;
        for (std::int64_t i = 0; i < e.attention_points; ++i) {
          points.append(py::make_tuple(e.attention_tokens[i], e.attention_scale[i]));
        }
        return py::tuple(points);
      })
      .def_property_readonly("attention_head_curve", [](const sp::Efficiency& e) {
        py::list points;
        for (std::int64_t i = 0; i < e.attention_head_points; ++i) {
          points.append(py::make_tuple(e.attention_head_dims[i], e.attention_head_scale[i]));
        }
        return py::tuple(points);
      });
}
