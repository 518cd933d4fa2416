#include "scalingperf/hardware.hpp"

#include <cmath>
#include <string>

#include "checks.hpp"

namespace scalingperf {

namespace {
void check_positive(const char* field, double value) {
  if (!(std::isfinite(value) && value > 0)) detail::reject(field, value, "it must be a positive number");
}
void check_fraction(const char* field, double value, double lo) {
  if (!(std::isfinite(value) && value >= lo && value <= 1)) {
    detail::reject(field, value, "allowed range is [" + std::to_string(lo) + ", 1]");
  }
}
}  // namespace

void reject_unsupported(DType dtype) {
  detail::reject("dtype", std::string("'") + name_of(dtype) + "'",
                 "this hardware has no peak rate for it");
}

void validate(const Hardware& hw) {
  for (auto [field, value] : {std::pair{"peak_fp32", hw.peak_fp32}, {"peak_tf32", hw.peak_tf32},
                              {"peak_bf16", hw.peak_bf16}, {"peak_fp16", hw.peak_fp16}}) {
    if (!(std::isfinite(value) && value >= 0)) detail::reject(field, value, "it must be >= 0 (0: unsupported)");
  }
  if (!(hw.peak_fp32 > 0 || hw.peak_tf32 > 0 || hw.peak_bf16 > 0 || hw.peak_fp16 > 0)) {
    detail::reject("peak_flops", 0, "at least one number format needs a positive peak");
  }
  check_positive("memory", hw.memory);
  check_positive("memory_bandwidth", hw.memory_bandwidth);
  check_positive("intra_node_bandwidth", hw.intra_node_bandwidth);
  check_positive("inter_node_bandwidth", hw.inter_node_bandwidth);
  for (auto [field, value] : {std::pair{"intra_node_latency", hw.intra_node_latency},
                              {"inter_node_latency", hw.inter_node_latency}}) {
    if (!(std::isfinite(value) && value >= 0 && value < 1)) {
      detail::reject(field, value, "allowed range is [0, 1) seconds");
    }
  }
  detail::check_range("devices_per_node", hw.devices_per_node, 1, 1 << 20);
}

void validate(const Efficiency& e) {
  check_fraction("matmul_efficiency", e.matmul, 1e-3);
  check_fraction("memory_efficiency", e.memory, 1e-3);
  check_fraction("network_efficiency", e.network, 1e-3);
  check_fraction("dp_overlap", e.dp_overlap, 0);
  detail::check_range("tile", e.tile, 1, 1 << 16);
}

}  // namespace scalingperf
