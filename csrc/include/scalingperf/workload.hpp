#pragma once
/// What one training step feeds the model and how the framework runs it: micro-batch,
/// sequence length, number formats, recomputation, attention kernel and the
/// implementation whose saved tensors the memory model follows.

#include <cstdint>
#include <string>
#include <vector>

#include "scalingperf/architecture.hpp"

namespace scalingperf {

/// Activation recomputation (Korthikanti et al. 2022): none; selective recomputes the
/// attention core (scores, softmax, attention x V); full recomputes every layer's forward;
/// per_op is torchtitan's per-op selective checkpointing (per_op_checkpoint.hpp): every
/// second matmul of a block and all its memory-bound ops redone, the attention kernel kept.
enum class Recompute : std::uint8_t { none, selective, full, per_op };

/// Megatron-Core's recompute_modules, which recompute="selective" recomputes (a bit set;
/// Megatron's default is core_attn alone). core_attn, mlp, moe and shared_experts are
/// checkpointed whole (their input kept, their forward redone); layernorm, moe_act and
/// mla_up_proj discard their output after use and rebuild it in backward
/// (TransformerConfig.recompute_modules, Megatron-Core 0.12 and later).
namespace recompute_module {
constexpr std::uint8_t core_attn = 1, layernorm = 2, moe_act = 4, mla_up_proj = 8, mlp = 16,
                       moe = 32, shared_experts = 64;
constexpr std::uint8_t all = 127;
}  // namespace recompute_module

/// Number format of weights and activations; fp32/tf32 differ only in the peak rate.
/// Number formats of training. fp8: the GEMMs of the linear layers run in FP8 (E4M3 /
/// E5M2 with per-tensor scales, as NVIDIA's Transformer Engine does), while weights,
/// gradients and activations are kept, and attention runs, in bf16. mxfp8: the same with
/// a scale per 32 elements (the OCP microscaling format), which Blackwell's tensor cores
/// take in hardware at their FP8 rate and Hopper's do not. nvfp4: those GEMMs in NVIDIA's
/// 4-bit format (E2M1 with an FP8 scale per 16 elements and a tensor scale), at
/// Blackwell's FP4 rate, the rest as with fp8 (NVIDIA 2025, "Pretraining Large Language
/// Models with NVFP4", arXiv 2509.25149).
enum class DType : std::uint8_t { fp32, tf32, bf16, fp16, fp8, mxfp8, nvfp4 };

/// Whose saved tensors the activation model follows: Megatron-LM's fused kernels (the
/// model of Korthikanti et al. 2022) or Hugging Face transformers' modules as measured.
enum class Implementation : std::uint8_t { megatron, huggingface };

/// One micro-batch of one training step.
struct Workload {
  std::int64_t batch = 1;
  std::int64_t seq_len = 1;
  Recompute recompute = Recompute::none;
  DType dtype = DType::bf16;
  bool flash_attention = true;
  bool dropout = false;
  Implementation implementation = Implementation::megatron;
  /// > 0: full recomputation of every n-th transformer layer of each pipeline device, the
  /// others saving everything (torchtitan's selective_ac_option = "n": a device's blocks
  /// counted from 1, block k checkpointed when k % n == 0). 0: off. Needs recompute none.
  std::int64_t recompute_every = 0;
  /// Under recompute selective, which of Megatron-Core's modules (recompute_module bits);
  /// ignored otherwise.
  std::uint8_t recompute_modules = recompute_module::core_attn;
  /// Memory-bound ops as fused kernels (Megatron's, Transformer Engine's, torch.compile's:
  /// each reads its inputs and writes its output once); false: eager PyTorch, where every
  /// aten op of a hand-written RMSNorm, gated activation or rotary embedding is a kernel
  /// of its own (eager_bytes in op_cost.hpp).
  bool fused_elementwise = true;
  /// > 0: activation offloading of that many layers (Megatron-Core's
  /// cpu_offloading_num_layers, activations only, through Transformer Engine's CPU offload
  /// context): their saved tensors go to host memory after their forward and come back
  /// before their backward. 0: off. Megatron-Core takes it only below n_layers, without
  /// pipeline parallelism and without recomputation (TransformerConfig.__post_init__).
  std::int64_t offload_layers = 0;
  /// Gradients accumulated, kept and reduced in float32 under 16-bit weights: Megatron-LM's
  /// default with bf16 (--accumulate-allreduce-grads-in-fp32, set for bf16 unless
  /// --grad-reduce-in-bf16), Megatron-Core's grad_reduce_in_fp32, NeMo's grad_sync_dtype
  /// fp32. 4 bytes per parameter in memory and in the reduce-scatter or all-reduce; the
  /// distributed optimizer gathers the weights in their own format. false: the
  /// gradients in the weights' format (Rajbhandari et al. 2020's 2 + 2 + 12).
  bool fp32_gradients = false;
};

/// Layers of a device holding `layers` that recompute_every checkpoints: floor(layers / n).
inline double checkpointed_layers(const Workload& w, double layers) {
  if (w.recompute_every <= 0) return 0;
  return static_cast<double>(static_cast<std::int64_t>(layers + 0.5) / w.recompute_every);
}

/// Bytes of one stored element (weight, gradient, activation) when training in the given
/// format: FP8 and FP4 training store them in bf16 and cast the GEMM inputs on the fly.
constexpr double bytes_of(DType dtype) {
  return dtype == DType::fp32 || dtype == DType::tf32 ? 4.0 : 2.0;
}

/// Bytes per element of a weight GEMM's input kept for backward: Transformer Engine
/// (implementation megatron) keeps the quantized copy its weight-gradient GEMM reads, 1 byte
/// in FP8, with an 8-bit scale per 32 in MXFP8, and half a byte with an 8-bit scale per 16
/// in NVFP4 (TE's Linear / LayerNormLinear save the FP8 input; arXiv 2509.25149 §4 runs the
/// weight-gradient GEMM in NVFP4); otherwise the 16-bit activation.
constexpr double saved_gemm_input_bytes(const Workload& w) {
  if (w.implementation != Implementation::megatron) return bytes_of(w.dtype);
  switch (w.dtype) {
    case DType::fp8: return 1.0;
    case DType::mxfp8: return 1.0 + 1.0 / 32;
    case DType::nvfp4: return 0.5 + 1.0 / 16;
    default: return bytes_of(w.dtype);
  }
}

namespace limits {
constexpr std::int64_t batch = std::int64_t{1} << 24;
constexpr std::int64_t seq_len = std::int64_t{1} << 24;
}  // namespace limits

/// Checks batch and sequence length against the architecture; throws std::invalid_argument.
void validate(const Architecture& arch, const Workload& work);
/// The same without an exception: false when refused, the message in `why` if given.
bool is_valid(const Architecture& arch, const Workload& work, std::string* why = nullptr);

Recompute parse_recompute(const std::string& name);
/// A recompute_modules bit set from Megatron's module names; throws naming the field.
std::uint8_t parse_recompute_modules(const std::vector<std::string>& names);
/// Every module's name, in recompute_module's bit order.
std::vector<std::string> recompute_module_names();
DType parse_dtype(const std::string& name);
Implementation parse_implementation(const std::string& name);
const char* name_of(Recompute recompute);
const char* name_of(DType dtype);
const char* name_of(Implementation implementation);

}  // namespace scalingperf
