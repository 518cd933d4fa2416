#pragma once
/// An accelerator and its links, as the time and memory models see it. The table of
/// devices (with the datasheet behind each number) is package data on the Python side.

#include <cstdint>

#include "scalingperf/workload.hpp"

namespace scalingperf {

/// One device: dense peak FLOP/s per number format (0 where the format is not supported),
/// memory, and the bandwidth (bytes/s, one direction, per device) of its links.
struct Hardware {
  double peak_fp32 = 0;
  double peak_tf32 = 0;
  double peak_bf16 = 0;
  double peak_fp16 = 0;
  double memory = 0;             ///< bytes
  double memory_bandwidth = 0;   ///< bytes/s
  double intra_node_bandwidth = 0;
  double inter_node_bandwidth = 0;
  double intra_node_latency = 0;  ///< seconds per message step (the alpha of alpha-beta)
  double inter_node_latency = 0;
  std::int64_t devices_per_node = 1;
};

/// Achieved fractions of the peaks: the calibratable part of the time model.
struct Efficiency {
  double matmul = 0.75;   ///< of peak FLOP/s for a GEMM with no tile waste
  double memory = 0.8;    ///< of peak memory bandwidth
  double network = 0.8;   ///< of link bandwidth for collectives
  double dp_overlap = 0;  ///< fraction of the data-parallel gradient reduction hidden
  std::int64_t tile = 128;  ///< GEMM output tile edge, for tile quantisation
};

/// Throws std::invalid_argument: this hardware has no peak for the format.
[[noreturn]] __attribute__((cold)) void reject_unsupported(DType dtype);

/// Peak dense FLOP/s for a number format; throws std::invalid_argument if unsupported.
/// Inline: every row of a sweep reads it.
inline double peak_flops(const Hardware& hw, DType dtype) {
  double peak = 0;
  switch (dtype) {
    case DType::fp32: peak = hw.peak_fp32; break;
    case DType::tf32: peak = hw.peak_tf32; break;
    case DType::bf16: peak = hw.peak_bf16; break;
    case DType::fp16: peak = hw.peak_fp16; break;
  }
  if (!(peak > 0)) reject_unsupported(dtype);
  return peak;
}

/// Checks every field; throws std::invalid_argument naming it.
void validate(const Hardware& hw);
void validate(const Efficiency& efficiency);

}  // namespace scalingperf
