#pragma once
/// An accelerator and its links, as the time and memory models see it. The table of
/// devices (with the datasheet behind each number) is package data on the Python side.

#include <array>
#include <cmath>
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
  double peak_fp8 = 0;    ///< dense FP8 (E4M3/E5M2) GEMMs
  double peak_mxfp8 = 0;  ///< dense FP8 GEMMs with 1x32 block scales (Blackwell: = FP8)
  double peak_nvfp4 = 0;  ///< dense NVFP4 GEMMs (E2M1, 1x16 FP8 block scales)
  /// Bytes/s, one direction, between the device and its host's memory (PCIe, or
  /// NVLink-C2C on Grace superchips): what activation offloading moves over. 0: unknown.
  double host_bandwidth = 0;
};

/// Achieved fractions of the peaks: the calibratable part of the time model.
struct Efficiency {
  double matmul = 0.75;   ///< of peak FLOP/s for a GEMM with no tile waste
  double memory = 0.8;    ///< of peak memory bandwidth
  double network = 0.8;   ///< of link bandwidth for collectives
  /// Share of the overlap window the data-parallel collectives use (0: all exposed; 1:
  /// all hidden behind a micro-batch's compute but the last layer's bucket, as bucketed
  /// Megatron --overlap-grad-reduce / prefetching FSDP do): see gradient_reduction.
  double dp_overlap = 0;
  std::int64_t tile = 128;  ///< GEMM output tile edge, for tile quantisation
  /// Of the 16-bit peak for attention's own GEMMs (Q K^T and P V): a fused attention
  /// kernel (softmax, masking and rescaling between its two GEMMs) runs below a GEMM. As
  /// the kernel benchmarks give it: a causal call of attention_tokens_measured tokens, its
  /// FLOPs the unmasked pairs' over the kernel's time (its blocks' waste included).
  double attention = 0.75;
  static constexpr double attention_tokens_measured = 4096;
  /// Fraction of the tensor-parallel collectives hidden behind the GEMMs they feed (async
  /// TP, Transformer Engine's comm-GEMM overlap); 0: all exposed, as in plain Megatron.
  double tp_overlap = 0;
  /// The weight GEMMs of FP8 training (fp8, mxfp8) reach this multiple of `matmul`'s
  /// fraction of their own peak: a device's best measured FP8 matmul fraction over its
  /// best BF16 one. matmul x fp8_matmul_ratio is at most 1.
  double fp8_matmul_ratio = 1;
  /// Share of the expert-parallel all-to-alls hidden behind another micro-batch's compute
  /// (Megatron-Core's overlap_moe_expert_parallel_comm, "combined 1F1B": one micro-batch's
  /// dispatch and combine run while another computes, as in DeepSeek-V3's DualPipe), at
  /// most that micro-batch's compute; 0: all exposed.
  double ep_overlap = 0;
  /// How `attention` varies with the tokens one attention call sees (seq_len / cp): up to
  /// max_attention_points points (tokens ascending, multiple of `attention`), interpolated
  /// in log2(tokens) and flat beyond the ends; no point (the default): flat. The published
  /// kernel benchmarks give it (devices.json attention_curves).
  static constexpr int max_attention_points = 8;
  std::array<double, max_attention_points> attention_tokens{};
  std::array<double, max_attention_points> attention_scale{};
  std::int64_t attention_points = 0;
  /// How `attention` varies with the kernel's head dimension d (the width its GEMMs
  /// reduce over, Q K^T's for the scores and V's for the values): up to
  /// max_attention_points points (d ascending, multiple of `attention`, whose own head
  /// dimension is the curve's 1), interpolated in log2(d) and flat beyond the ends; no
  /// point: flat. The published kernel benchmarks give it (devices.json
  /// attention_head_curves): at d = 64 a kernel does half the GEMM work per score for the
  /// same softmax and loads, and runs below its d = 128 rate.
  std::array<double, max_attention_points> attention_head_dims{};
  std::array<double, max_attention_points> attention_head_scale{};
  std::int64_t attention_head_points = 0;
  /// A GEMM's fixed cost per output tile (filling the pipeline, the epilogue), in
  /// elements of its reduction dimension K at the 16-bit rate: a GEMM over K runs at
  /// K / (K + gemm_k0) of `matmul`, which is the large-K limit (formats with a faster
  /// main loop lose proportionally more elements: see roofline()). 0: no falloff.
  double gemm_k0 = 0;
  /// Derived from attention_curve, never given (fit_attention_k0): a flash kernel's fixed
  /// cost per block of `tile` queries (loading Q, writing O, filling its pipeline), in keys
  /// per query of its per-block work. A causal call of s tokens computes
  /// causal_keys(s, tile) keys per query (its blocks on and below the diagonal) for
  /// (s + 1) / 2 useful ones, so it runs at (s + 1) / 2 / (causal_keys + k0) of its rate
  /// per useful key; a window that computes few blocks per query block pays k0 on each of
  /// them as well, which is what makes a short window's kernel slow. 0: no falloff.
  double attention_k0 = 0;
  /// The same as fp8_matmul_ratio for NVFP4's weight GEMMs: a device's best measured FP4
  /// matmul fraction over its best BF16 one (a 4-bit main loop leaves the fixed costs of
  /// a tile a larger share than an 8-bit one does). matmul x fp4_matmul_ratio is at most 1.
  double fp4_matmul_ratio = 1;
};

/// Keys per query a flash kernel computes for a causal call of s tokens in tile x tile
/// blocks: n = ceil(s / tile) blocks of queries, block i computing i + 1 key blocks.
inline double causal_keys(double s, double tile) {
  return tile * (std::ceil(s / tile) + 1) / 2;
}

/// The key blocks a flash kernel computes over s queries in tile x tile blocks: causal (no
/// band), block i of queries computes the i + 1 on and below the diagonal (Dao et al. 2022:
/// the blocks wholly above it are skipped), n (n + 1) / 2 of them with n = ceil(s / T);
/// under a sliding window of w keys only the c = ceil((w - 1) / T) blocks before the
/// diagonal's can hold a key its queries see, min(i, c) + 1 for block i.
inline double computed_blocks(double s, double band, double tile) {
  const double n = std::ceil(s / tile);
  const double c = band > 0 ? std::ceil((band - 1) / tile) : n;
  if (n <= c + 1) return n * (n + 1) / 2;
  return (c + 1) * (c + 2) / 2 + (n - c - 1) * (c + 1);
}

/// Of a flash kernel's computed blocks (computed_blocks), the share that is real work: the
/// query-key pairs the mask lets through, s (s + 1) / 2 causal, w (w + 1) / 2 + (s - w) w
/// under a sliding window. Executed FLOPs over it never shrink as s grows (dividing the
/// triangle's FLOPs by the full square's tile efficiency made s = 2 faster than s = 1).
/// The head dimension pads no tile: a flash kernel holds a block's whole d_h (Dao 2023
/// §3.1), and what a narrow head costs is its measured rate (attention_head_curve).
inline double causal_useful(double s, double band, double tile) {
  if (s <= 0) return 1;
  const double pairs = band > 0 ? band * (band + 1) / 2 + (s - band) * band : s * (s + 1) / 2;
  return pairs / (tile * tile * computed_blocks(s, band, tile));
}

/// The k0 (see Efficiency::attention_k0) that best explains the token curve: least
/// squares in log of multiple_i = c ((t_i + 1) / 2) / (causal_keys(t_i) + k0) over its
/// points, c free; 0 with fewer than two points or where none fits better than no cost.
double fit_attention_k0(const Efficiency& e);

/// A curve of multiples at points x (ascending), interpolated in log2(x), flat beyond
/// its ends; 1 without points.
inline double log2_curve(const std::array<double, Efficiency::max_attention_points>& at,
                         const std::array<double, Efficiency::max_attention_points>& scale,
                         std::int64_t n, double x) {
  if (n == 0) return 1;
  if (x <= at[0]) return scale[0];
  for (std::int64_t i = 1; i < n; ++i) {
    if (x <= at[i]) {
      const double x0 = std::log2(at[i - 1]), x1 = std::log2(at[i]);
      const double t = (std::log2(x) - x0) / (x1 - x0);
      return scale[i - 1] + t * (scale[i] - scale[i - 1]);
    }
  }
  return scale[n - 1];
}

/// The multiple of Efficiency::attention at `tokens` per attention call (see above).
inline double attention_scale(const Efficiency& e, double tokens) {
  return log2_curve(e.attention_tokens, e.attention_scale, e.attention_points, tokens);
}

/// The multiple of Efficiency::attention at head dimension `head_dim` (see above).
inline double attention_head_scale(const Efficiency& e, double head_dim) {
  return log2_curve(e.attention_head_dims, e.attention_head_scale, e.attention_head_points,
                    head_dim);
}

/// Physically meaningful ranges of a device's numbers, [lo, hi] (latencies [lo, hi)). Far
/// beyond today's devices either way, and narrow enough that every time, rate and ratio
/// of an estimate stays finite and positive: a bandwidth of 1e-300 bytes/s made step
/// times overflow to inf and utilisation NaN.
namespace hardware_limits {
struct Range {
  double lo, hi;
};
constexpr Range peak_flops{1e9, 1e18};        ///< FLOP/s per format: 1 GFLOP/s .. 1 EFLOP/s
constexpr Range memory{1e6, 1e15};            ///< bytes: 1 MB .. 1 PB
constexpr Range memory_bandwidth{1e9, 1e17};  ///< bytes/s: 1 GB/s .. 100 PB/s
constexpr Range link_bandwidth{1e6, 1e15};    ///< bytes/s per device: 1 MB/s .. 1 PB/s
constexpr Range latency{0, 1};                ///< seconds per message step, [0, 1)
}  // namespace hardware_limits

/// Throws std::invalid_argument: this hardware has no peak for the format.
[[noreturn]] __attribute__((cold)) void reject_unsupported(DType dtype);
/// Activation offloading asked of a device whose host_bandwidth is unknown (0).
[[noreturn]] __attribute__((cold)) void reject_no_host_link(std::int64_t offload_layers);

/// Peak dense FLOP/s for a number format; throws std::invalid_argument if unsupported.
/// Inline: every row of a sweep reads it.
inline double peak_flops(const Hardware& hw, DType dtype) {
  double peak = 0;
  switch (dtype) {
    case DType::fp32: peak = hw.peak_fp32; break;
    case DType::tf32: peak = hw.peak_tf32; break;
    case DType::bf16: peak = hw.peak_bf16; break;
    case DType::fp16: peak = hw.peak_fp16; break;
    case DType::fp8: peak = hw.peak_fp8; break;
    case DType::mxfp8: peak = hw.peak_mxfp8; break;
    case DType::nvfp4: peak = hw.peak_nvfp4; break;
  }
  if (!(peak > 0)) reject_unsupported(dtype);
  return peak;
}

/// Checks every field; throws std::invalid_argument naming it.
void validate(const Hardware& hw);
void validate(const Efficiency& efficiency);

}  // namespace scalingperf
