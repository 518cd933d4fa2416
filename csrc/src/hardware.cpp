#include "scalingperf/hardware.hpp"

#include <cmath>
#include <sstream>
#include <string>
#include <tuple>

#include "checks.hpp"

namespace scalingperf {

namespace {
void check_in(const char* field, double value, hardware_limits::Range range, const char* unit) {
  if (!(value >= range.lo && value <= range.hi)) {  // NaN fails too
    std::ostringstream allowed;
    allowed << "allowed range is [" << range.lo << ", " << range.hi << "] " << unit;
    detail::reject(field, value, allowed.str());
  }
}
void check_fraction(const char* field, double value, double lo) {
  if (!(std::isfinite(value) && value >= lo && value <= 1)) {
    std::ostringstream allowed;
    allowed << "allowed range is [" << lo << ", 1]";
    detail::reject(field, value, allowed.str());
  }
}
}  // namespace

void reject_unsupported(DType dtype) {
  detail::reject("dtype", std::string("'") + name_of(dtype) + "'",
                 "this hardware has no peak rate for it");
}

void reject_no_host_link(std::int64_t offload_layers) {
  detail::reject("offload_layers", offload_layers,
                 "the device has no host_bandwidth (bytes/s to its host's memory) to offload "
                 "activations over");
}

void validate(const Hardware& hw) {
  namespace limits = hardware_limits;
  for (auto [field, value] : {std::pair{"peak_fp32", hw.peak_fp32}, {"peak_tf32", hw.peak_tf32},
                              {"peak_bf16", hw.peak_bf16}, {"peak_fp16", hw.peak_fp16},
                              {"peak_fp8", hw.peak_fp8}, {"peak_mxfp8", hw.peak_mxfp8},
                              {"peak_nvfp4", hw.peak_nvfp4}}) {
    if (value != 0) check_in(field, value, limits::peak_flops, "FLOP/s (0: unsupported)");
  }
  if (!(hw.peak_fp32 > 0 || hw.peak_tf32 > 0 || hw.peak_bf16 > 0 || hw.peak_fp16 > 0)) {
    detail::reject("peak_flops", 0, "at least one number format needs a positive peak");
  }
  check_in("memory", hw.memory, limits::memory, "bytes");
  check_in("memory_bandwidth", hw.memory_bandwidth, limits::memory_bandwidth, "bytes/s");
  check_in("intra_node_bandwidth", hw.intra_node_bandwidth, limits::link_bandwidth, "bytes/s");
  check_in("inter_node_bandwidth", hw.inter_node_bandwidth, limits::link_bandwidth, "bytes/s");
  if (hw.host_bandwidth != 0) {
    check_in("host_bandwidth", hw.host_bandwidth, limits::link_bandwidth, "bytes/s (0: unknown)");
  }
  for (auto [field, value] : {std::pair{"intra_node_latency", hw.intra_node_latency},
                              {"inter_node_latency", hw.inter_node_latency}}) {
    if (!(value >= limits::latency.lo && value < limits::latency.hi)) {
      detail::reject(field, value, "allowed range is [0, 1) seconds");
    }
  }
  // A device reaches other nodes through its own links, never faster than it reaches its
  // node's devices. The tp = 1 baseline of tensor-parallel efficiency places its groups
  // on nearer links; with a faster network outside the node it ran slower than tp devices
  // could, and the GEMM part of the efficiency exceeded 1.
  if (hw.inter_node_bandwidth > hw.intra_node_bandwidth) {
    std::ostringstream allowed;
    allowed << "it must be at most intra_node_bandwidth=" << hw.intra_node_bandwidth
            << " bytes/s (a device reaches other nodes through its own links)";
    detail::reject("inter_node_bandwidth", hw.inter_node_bandwidth, allowed.str());
  }
  if (hw.inter_node_latency < hw.intra_node_latency) {
    std::ostringstream allowed;
    allowed << "it must be at least intra_node_latency=" << hw.intra_node_latency
            << " s (a message between nodes takes at least as long as within one)";
    detail::reject("inter_node_latency", hw.inter_node_latency, allowed.str());
  }
  detail::check_range("devices_per_node", hw.devices_per_node, 1, 1 << 20);
}

namespace {

/// One of Efficiency's curves of attention (`name`): at most max_attention_points points
/// whose `what` rise within [1, highest], each multiple in (0, 1000].
void check_curve(const char* name, const char* what, double highest,
                 const std::array<double, Efficiency::max_attention_points>& at,
                 const std::array<double, Efficiency::max_attention_points>& scale,
                 std::int64_t points) {
  const std::string field = name;
  detail::check_range((field + " points").c_str(), points, 0, Efficiency::max_attention_points);
  for (std::int64_t i = 0; i < points; ++i) {
    if (!(at[i] >= 1 && at[i] <= highest) || (i > 0 && !(at[i] > at[i - 1]))) {
      std::ostringstream allowed;
      allowed << "the points' " << what << " must rise, each in [1, " << highest << "]";
      detail::reject((field + " " + what).c_str(), at[i], allowed.str());
    }
    if (!(scale[i] > 0 && scale[i] <= 1000)) {
      detail::reject((field + " scale").c_str(), scale[i],
                     "a point's multiple of attention must be in (0, 1000] (the product is "
                     "capped at the peak)");
    }
  }
}

}  // namespace

double fit_attention_k0(const Efficiency& e) {
  const std::int64_t n = e.attention_points;
  if (n < 2) return 0;
  // Sum of squared log residuals about their mean (the best log c) at one k0.
  auto misfit = [&](double k0) {
    std::array<double, Efficiency::max_attention_points> residual{};
    double mean = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double tokens = e.attention_tokens[i];
      const double tile = static_cast<double>(e.tile);
      residual[i] = std::log(e.attention_scale[i]) -
                    std::log((tokens + 1) / 2 / (causal_keys(tokens, tile) + k0));
      mean += residual[i];
    }
    mean /= static_cast<double>(n);
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += (residual[i] - mean) * (residual[i] - mean);
    return sum;
  };
  // Golden-section search in log k0 over [1, 2^24] keys.
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double lo = 0, hi = 24 * std::log(2.0);
  double x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo);
  double f1 = misfit(std::exp(x1)), f2 = misfit(std::exp(x2));
  for (int step = 0; step < 60; ++step) {
    if (f1 <= f2) {
      hi = x2, x2 = x1, f2 = f1;
      x1 = hi - ratio * (hi - lo), f1 = misfit(std::exp(x1));
    } else {
      lo = x1, x1 = x2, f1 = f2;
      x2 = lo + ratio * (hi - lo), f2 = misfit(std::exp(x2));
    }
  }
  const double k0 = std::exp((lo + hi) / 2);
  return misfit(k0) < misfit(0) ? k0 : 0;
}

void validate(const Efficiency& e) {
  check_fraction("matmul_efficiency", e.matmul, 1e-3);
  check_fraction("attention_efficiency", e.attention, 1e-3);
  check_fraction("memory_efficiency", e.memory, 1e-3);
  check_fraction("network_efficiency", e.network, 1e-3);
  check_fraction("dp_overlap", e.dp_overlap, 0);
  check_fraction("tp_overlap", e.tp_overlap, 0);
  check_fraction("ep_overlap", e.ep_overlap, 0);
  for (auto [field, ratio, format] : {std::tuple{"fp8_matmul_ratio", e.fp8_matmul_ratio, "FP8"},
                                       std::tuple{"fp4_matmul_ratio", e.fp4_matmul_ratio, "FP4"}}) {
    if (!(ratio >= 1e-3 && e.matmul * ratio <= 1)) {
      std::ostringstream allowed;
      allowed << "it must be at least 0.001 and at most 1 / matmul = " << 1 / e.matmul
              << " (an " << format << " GEMM reaches at most its peak)";
      detail::reject(field, ratio, allowed.str());
    }
  }
  detail::check_range("tile", e.tile, 1, 1 << 16);
  if (!(e.gemm_k0 >= 0 && e.gemm_k0 <= 65536)) {
    detail::reject("gemm_k0", e.gemm_k0, "it must be in [0, 65536] elements");
  }
  check_curve("attention_curve", "tokens", 1e12, e.attention_tokens, e.attention_scale,
              e.attention_points);
  check_curve("attention_head_curve", "head dimensions", 65536, e.attention_head_dims,
              e.attention_head_scale, e.attention_head_points);
}

}  // namespace scalingperf
