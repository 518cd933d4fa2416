#pragma once
/// One op on one device: the share of its parameters, saved bytes and forward time that a
/// device holds or spends under a parallel layout. Memory, step time and the per-op table
/// all use these, so they agree.

#include <algorithm>
#include <cmath>

#include "scalingperf/hardware.hpp"
#include "scalingperf/ops.hpp"
#include "scalingperf/parallel.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// The share of an op that one device holds: 1 / tp of tensor-split work, 1 / (ep etp) of
/// the experts' parameters, and 1 / tp of sequence-split work only under sequence
/// parallelism.
/// Context parallelism divides every op's work and saved bytes (not its parameters) by
/// cp again: `context`. Reciprocals, computed once per layout: the per-op sums below only
/// multiply.
struct DeviceShare {
  double tensor;
  double expert;
  double sequence;
  double context = 1;  ///< 1 / cp: a rank's tokens of each sequence
  /// ep: each rank's experts take the tokens routed to them from ep ranks, so a routed
  /// expert's GEMM has ep times the rows one rank's tokens give it.
  double expert_rows = 1;
};

/// The share of a tensor that exists only under sequence parallelism: 1 / tp then, else 0.
inline double sequence_only(const DeviceShare& share) {
  return share.sequence < 1 ? share.sequence : 0.0;
}

inline DeviceShare device_share(const Layout& l) {
  const double t = static_cast<double>(l.tp);
  const double expert_ranks = static_cast<double>(l.ep * expert_tp(l));
  return {1 / t, 1 / expert_ranks, l.sequence_parallel ? 1 / t : 1.0,
          1 / static_cast<double>(l.cp), static_cast<double>(l.ep)};
}

/// What the per-row formulas of memory and time need from a layout, divided once: device
/// shares, per-stage and per-replica fractions, and the rings of its groups.
struct LayoutFactors {
  DeviceShare share;
  double per_stage;           ///< 1 / pp
  /// Shares of the layers on the first, a middle and the last device: per_stage each
  /// unless the stages are uneven (Layout::first_stage_layers).
  double first_share, middle_share, last_share;
  bool uneven;
  double per_replica;         ///< 1 / shard (dp cp): a ZeRO shard of the dense parameters
  double per_expert_replica;  ///< ep etp / (tp shard): a ZeRO shard of the experts
  double bubble_stages;       ///< (pp - 1) / interleave: stage times of fill and drain
  double pipeline_bubble;     ///< bubble_stages / microbatches
  /// dp_ring: a ZeRO sharding group (all dp x cp ranks but with HSDP); replica_ring: the
  /// groups' replicas (size 1 but with HSDP).
  Ring tp_ring, dp_ring, ep_ring, replica_ring;
};

inline LayoutFactors layout_factors(const Layout& l) {
  const double dp = static_cast<double>(shard_ranks(l));
  const double bubble_stages =
      (static_cast<double>(l.pp) - 1) / static_cast<double>(l.interleave);
  const double per_stage = 1 / static_cast<double>(l.pp);
  const bool uneven = uneven_stages(l);
  // A resolved uneven layout's stages hold all the layers: their sum is n_layers.
  const double layers =
      uneven ? static_cast<double>(l.first_stage_layers + l.last_stage_layers +
                                   (l.pp - 2) * l.middle_stage_layers)
             : 1;
  return {device_share(l),
          per_stage,
          uneven ? static_cast<double>(l.first_stage_layers) / layers : per_stage,
          uneven ? static_cast<double>(l.middle_stage_layers) / layers : per_stage,
          uneven ? static_cast<double>(l.last_stage_layers) / layers : per_stage,
          uneven,
          1 / dp,
          std::min(1.0, static_cast<double>(l.ep * expert_tp(l)) /
                            (dp * static_cast<double>(l.tp))),
          bubble_stages,
          bubble_stages / static_cast<double>(l.microbatches),
          ring(l.tp),
          ring(shard_ranks(l)),
          ring(l.ep),
          l.shard > 0 ? ring(data_ranks(l) / l.shard) : Ring{1, 0.0}};
}

/// Parameters of one instance held by one device: the split part over tp, the expert part
/// over ep x tp, the rest replicated.
inline double params_per_device(const OpCost& op, const DeviceShare& share) {
  const double replicated =
      static_cast<double>(op.params - op.params_split - op.params_experts);
  return replicated + static_cast<double>(op.params_split) * share.tensor +
         static_cast<double>(op.params_experts) * share.expert;
}

/// Bytes one instance saves for backward on one device, recomputation ignored.
inline double saved_per_device(const OpCost& op, const DeviceShare& share) {
  return (op.saved_split * share.tensor + op.saved_replicated * share.sequence +
          op.saved_unsplit + op.saved_sequence_only * sequence_only(share)) *
         share.context;
}

/// ceil(x) for x >= 0 without a libm call (x below 2^52).
inline double ceil_positive(double x) {
  const double whole = static_cast<double>(static_cast<std::int64_t>(x));
  return whole < x ? whole + 1 : whole;
}

/// Matmul FLOPs the kernels execute forward: flash attention skips the blocks above the
/// diagonal, an unfused kernel computes the whole square.
inline double executed_forward(const OpCost& op, const Workload& w) {
  return w.flash_attention ? op.forward_causal : op.forward;
}
inline double executed_backward(const OpCost& op, const Workload& w) {
  return w.flash_attention ? op.backward_causal : op.backward;
}

/// Which rate a GEMM runs at: a layer's weight GEMMs (projections, FFN, experts) run in
/// FP8 when training in fp8; attention's own GEMMs (Q K^T, P V) run at the attention
/// efficiency of the 16-bit peak; the rest (router, gates, the output head) at the 16-bit
/// peak, as Transformer Engine and Megatron-LM run them.
enum class GemmKind : std::uint8_t { weight, attention, other };

constexpr GemmKind gemm_kind(Op op) {
  // An MTP module's projection runs in the FP8 context of its layer (Megatron-Core's
  // MultiTokenPredictionLayer wraps it in one).
  if (op == Op::qkv_proj || op == Op::out_proj || op == Op::mlp_up || op == Op::mlp_gate ||
      op == Op::mlp_down || op == Op::routed_experts || op == Op::shared_experts ||
      op == Op::mtp_proj) {
    return GemmKind::weight;
  }
  if (op == Op::attn_scores || op == Op::attn_values) return GemmKind::attention;
  return GemmKind::other;
}

inline GemmKind gemm_kind_of(const OpCost& op) { return gemm_kind(op.op); }

/// The ops of attention's own kernel (Q K^T, softmax, P V): what context parallelism's
/// ring attention runs block by block.
constexpr bool is_attention_core(Op op) {
  return op == Op::attn_scores || op == Op::attn_softmax || op == Op::attn_values;
}
template <class TimeOp>
inline GemmKind gemm_kind_of(const TimeOp& op) {
  return op.gemm;
}

/// What the roofline of one device needs, as reciprocals computed once per layout.
struct Roofline {
  DeviceShare share;
  double seconds_per_flop;         ///< 1 / (peak x matmul efficiency)
  double seconds_per_bf16_flop;    ///< the same at the 16-bit peak: GEMMs FP8 leaves alone
  double seconds_per_attention_flop;  ///< 1 / (16-bit peak x attention efficiency)
  double seconds_per_16bit_peak_flop;  ///< the floor under attention's head-dim multiple
  /// Efficiency::attention_head_curve, which each attention op reads at its head dim.
  std::array<double, Efficiency::max_attention_points> head_dims, head_scale;
  std::int64_t head_points;
  double seconds_per_vector_flop;  ///< 1 / the float32 (or format) peak
  double seconds_per_byte;         ///< 1 / (bandwidth x memory efficiency)
  double tile;
  double per_tile;                 ///< 1 / tile
  /// Seconds to cast one 16-bit element for an FP8 GEMM, 0 in 16-bit training (fp8_casts).
  double seconds_per_cast;
  /// Efficiency::gemm_k0 in elements of the weight GEMMs' format (a main loop twice as
  /// fast per element loses twice the elements to the same fixed time), and at 16 bits.
  double gemm_k0;
  double gemm_k0_16bit;
  /// Efficiency::attention_k0, and the keys per query computed by the call whose measured
  /// rate the token curve gives at seq_len / cp tokens (measured_call): what a window's
  /// kernel is slowed against.
  double attention_k0;
  double attention_measured;  ///< that call's tokens (measured_call)
  double attention_keys;
  /// The share of real work in that call's computed blocks, which its measured rate
  /// already holds (causal_tile_efficiency).
  double attention_useful;
};

/// The causal call whose measured rate the token curve gives at `tokens` per call: itself
/// within the curve's points, the nearest end beyond them (where the curve is flat);
/// without a curve, the 4,096-token call `attention` is measured at.
inline double measured_call(const Efficiency& e, double tokens) {
  if (e.attention_points == 0) return Efficiency::attention_tokens_measured;
  return std::clamp(tokens, e.attention_tokens[0], e.attention_tokens[e.attention_points - 1]);
}

inline Roofline roofline(const Workload& w, const Layout& l, const Hardware& hw,
                         const Efficiency& e) {
  const double peak = peak_flops(hw, w.dtype);
  const bool eight_bit =
      w.dtype == DType::fp8 || w.dtype == DType::mxfp8 || w.dtype == DType::nvfp4;
  const double sixteen_bit = eight_bit ? peak_flops(hw, DType::bf16) : peak;
  const double tile = static_cast<double>(e.tile);
  const double seconds_per_byte = 1 / (hw.memory_bandwidth * e.memory);
  const double tokens = static_cast<double>(w.seq_len) / static_cast<double>(l.cp);
  const double measured = measured_call(e, tokens);
  // Transformer Engine casts a GEMM operand with a fused cast-transpose: it reads the
  // 16-bit tensor and writes the FP8 copy and its transpose (the other GEMM of backward
  // needs it), 2 + 1 + 1 bytes per element; MXFP8 adds a 1-byte scale per 32 elements in
  // each copy; NVFP4 writes half a byte per element and a 1-byte scale per 16 in each.
  const double cast_bytes = w.dtype == DType::mxfp8   ? 4 + 2.0 / 32
                            : w.dtype == DType::nvfp4 ? 2 + 0.5 + 0.5 + 2.0 / 16
                                                      : 4;
  const double low_precision_ratio = w.dtype == DType::nvfp4 ? e.fp4_matmul_ratio
                                     : eight_bit              ? e.fp8_matmul_ratio
                                                              : 1;
  return {device_share(l), 1 / (peak * e.matmul * low_precision_ratio),
          1 / (sixteen_bit * e.matmul),
          // At the tokens each attention call sees: context parallelism gives every rank
          // seq_len / cp queries against blocks of as many keys.
          // (never above the peak: a curve's multiple over a high `attention` is capped).
          1 / (sixteen_bit * std::min(1.0, e.attention * attention_scale(e, tokens))),
          1 / sixteen_bit, e.attention_head_dims, e.attention_head_scale,
          e.attention_head_points,
          1 / (hw.peak_fp32 > 0 ? hw.peak_fp32 : peak), seconds_per_byte,
          tile, 1 / tile, eight_bit ? cast_bytes * seconds_per_byte : 0,
          e.gemm_k0 * peak / sixteen_bit, e.gemm_k0, e.attention_k0, measured,
          causal_keys(measured, tile), causal_useful(measured, 0, tile)};
}

/// FP8 training's casts of one weight GEMM on one device, in seconds: forward, its inputs;
/// backward, its output gradients (the op's cast_* elements: a column-parallel GEMM
/// casts its whole input and its share of the output gradient, a row-parallel one the
/// reverse). The weights' casts are left out: Transformer Engine casts them once per step
/// and reuses them over the micro-batches.
struct CastSeconds {
  double forward = 0, backward = 0;
};
template <class Op>
inline CastSeconds fp8_casts(const Op& op, const Roofline& r) {
  if (r.seconds_per_cast == 0 || op.kind != OpKind::matmul ||
      gemm_kind_of(op) != GemmKind::weight) {
    return {};
  }
  const double t = r.share.tensor;
  return {(op.cast_in_whole + op.cast_in_split * t) * r.seconds_per_cast,
          (op.cast_out_whole + op.cast_out_split * t) * r.seconds_per_cast};
}

/// Fraction of a GEMM's output tiles that is real work (tile quantisation: an m x n output
/// computed in tile x tile blocks wastes the padding of the last row and column of tiles).
inline double tile_efficiency(double m, double n, const Roofline& r) {
  if (m <= 0 || n <= 0) return 1;
  const double rows = m * r.per_tile, columns = n * r.per_tile;
  return rows / ceil_positive(rows) * (columns / ceil_positive(columns));
}

/// How the kernels tile an op. A flash-attention kernel runs causal attention in
/// tile x tile blocks of the s x s query-key square and skips the blocks wholly above the
/// diagonal (Dao et al. 2022): of ceil(s/T)^2 blocks it computes the n (n + 1) / 2 on and
/// below it, each in full (`causal`: Q K^T and P V alike). Its softmax runs inside the same kernel, on
/// the scores block by block while the tensor cores work: a flash kernel's measured rate
/// (FLOP/s of its two GEMMs over the kernel's whole time, Dao 2023 §4.1; Shah et al. 2024
/// §4.1) already holds it, so the softmax takes no time of its own (`in_kernel`).
enum class Tiling : std::uint8_t { gemm, causal, in_kernel };

inline Tiling tiling(const OpCost& op, const Workload& w) {
  if (!w.flash_attention) return Tiling::gemm;
  if (op.op == Op::attn_scores || op.op == Op::attn_values) return Tiling::causal;
  if (op.op == Op::attn_softmax) return Tiling::in_kernel;
  return Tiling::gemm;
}

/// The same relative to the call the token curve is read at, whose measured rate (FLOPs of
/// the unmasked pairs over the kernel's time) already holds its own waste; at most 1.
inline double causal_tile_efficiency(double s, double band, const Roofline& r) {
  return std::min(1.0, causal_useful(s, band, r.tile) / r.attention_useful);
}

/// A flash kernel's time per FLOP over the token curve's, from its fixed cost per block of
/// queries (Efficiency::attention_k0): (1 + k0 / keys) / (1 + k0 / reference), `keys` the
/// keys per query it computes, `reference` those of the call the curve is read at; never
/// below 1 (a window runs no faster than the full call of the same tokens).
inline double attention_block_multiple(double s, double band, const Roofline& r) {
  // A causal call no shorter than the measured one computes no fewer keys per query.
  if (r.attention_k0 <= 0 || (band <= 0 && s >= r.attention_measured)) return 1;
  const double keys = r.tile * computed_blocks(s, band, r.tile) / std::ceil(s / r.tile);
  return std::max(1.0, (1 + r.attention_k0 / keys) / (1 + r.attention_k0 / r.attention_keys));
}

/// A flash-attention backward's time as a multiple of its forward's: 2.5x the work at 1.2x
/// the time per FLOP (see stage_times in training.cpp for the sources).
constexpr double flash_backward_multiple = 2.5 * 1.2;

/// Time of a GEMM reducing over k elements as a multiple of the large-k limit: each
/// output tile pays a fixed cost worth k0 elements of its main loop, so the GEMM runs at
/// k / (k + k0) of `matmul` (Efficiency::gemm_k0).
inline double k_multiple(double k, double k0) { return 1 + k0 / k; }

/// The rows of one of an op's GEMMs on one device: a routed expert's are the tokens ep
/// ranks send it (OpCost::expert_rows).
template <class Op>
inline double gemm_rows(const Op& op, const Roofline& r) {
  return op.expert_rows ? op.gemm_m * r.share.expert_rows : op.gemm_m;
}

/// Time multiples of an op's GEMMs at their reduction widths on one device: forward
/// reduces over its input features; backward's data gradient over its output features,
/// its weight gradient over the tokens (Narayanan et al. 2021 §3.2: backward is these two
/// GEMMs of the forward's size). A fused FFN's second group (the down projection) swaps
/// the first's widths. `weight_useful` is the weight gradient's own tile efficiency: its
/// output is the weight, not the forward's token rows.
struct GemmMultiples {
  double forward, data_gradient, weight_gradient, weight_useful;
};
template <class Op>
inline GemmMultiples gemm_multiples(const Op& op, double k0, const Roofline& r) {
  const double t = r.share.tensor;
  const double in = op.split == Split::tensor && !op.split_n ? op.gemm_k * t : op.gemm_k;
  const double out = op.split_n ? op.gemm_n * t : op.gemm_n;
  const double tokens = gemm_rows(op, r) * r.share.context;
  const double second = op.second_gemm_share, first = 1 - second;
  const double on_in = k_multiple(in, k0), on_out = k_multiple(out, k0);
  return {first * on_in + second * on_out, first * on_out + second * on_in,
          k_multiple(tokens, k0), tile_efficiency(in, out, r)};
}

/// One instance on one device, forward, and what its backward takes beyond twice that.
struct OpSeconds {
  double forward;
  double backward_extra;  ///< backward at its GEMMs' own reduction widths, less 2 x forward
};

/// Seconds of one instance on one device: a roofline of its work against the device's
/// peak (matmuls at the calibrated efficiency, less tile quantisation and the falloff at
/// small reduction widths) and of its memory traffic against the device's bandwidth.
/// `executed` is the matmul FLOPs the kernels run (see executed_forward), `tiling` how
/// they run them (see tiling()). Works on a TimeOp, or an OpCost.
template <class Op>
inline OpSeconds op_seconds(const Op& op, double executed, Tiling tiling, const Roofline& r) {
  const double divide = op.split == Split::tensor ? r.share.tensor : r.share.sequence;
  const double memory_time =
      (op.bytes * divide + op.bytes_unsplit + op.bytes_experts * r.share.expert) *
      r.seconds_per_byte;
  if (tiling == Tiling::in_kernel) return {0, 0};
  if (op.kind != OpKind::matmul) {
    return {std::max(op.elementwise_forward * divide * r.seconds_per_vector_flop, memory_time),
            0};
  }
  const double width = op.split_n ? op.gemm_n * r.share.tensor : op.gemm_n;
  const double useful = tiling == Tiling::gemm
                            ? tile_efficiency(gemm_rows(op, r), width, r)
                            : causal_tile_efficiency(op.gemm_m, op.band, r);
  const GemmKind kind = gemm_kind_of(op);
  const double per_flop =
      kind == GemmKind::weight ? r.seconds_per_flop
      : kind == GemmKind::attention
          // at the kernel's head dimension and blocks per query block, never above the peak
          ? std::max(r.seconds_per_16bit_peak_flop,
                     r.seconds_per_attention_flop *
                         (tiling == Tiling::causal
                              ? attention_block_multiple(op.gemm_m, op.band, r)
                              : 1) /
                         log2_curve(r.head_dims, r.head_scale, r.head_points, op.head_dim))
          : r.seconds_per_bf16_flop;
  const double work = executed * divide * per_flop;  // at the large-K rate, no tile waste
  if (op.gemm_k <= 0) {  // attention's own GEMMs: backward is twice the forward here
    return {std::max(work / useful, memory_time), 0};
  }
  const GemmMultiples k =
      gemm_multiples(op, kind == GemmKind::weight ? r.gemm_k0 : r.gemm_k0_16bit, r);
  const double forward = std::max(work / useful * k.forward, memory_time);
  // Backward is bound the same way: its two GEMMs against twice the forward's traffic.
  const double backward = std::max(
      work * (k.data_gradient / useful + k.weight_gradient / k.weight_useful), 2 * memory_time);
  // A kernel between the GEMMs (bytes_serial) adds its time, twice over in backward, as a
  // memory-bound op of its own would.
  const double serial = op.bytes_serial * divide * r.seconds_per_byte;
  return {forward + serial, backward - 2 * forward};
}

}  // namespace scalingperf
