#pragma once
/// What one op of the per-op table is (OpCost), the per-element constants of elementwise
/// work, and the builders every kind of layer shares (LayerContext). The op list itself is
/// `for_each_op` in ops.hpp; each kind of token mixer adds its ops from its own header.
///
/// FLOPs count 2 per multiply-add. A matmul of an (m x k) by a (k x n) matrix costs
/// 2 m k n forward and twice that backward (gradients of both inputs; Kaplan et al. 2020
/// §2.1, Narayanan et al. 2021 §5.1). Elementwise work is counted apart, with the
/// per-element constants in `elementwise` below.

#include <cmath>
#include <cstdint>

#include "scalingperf/architecture.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// Where an op sits: once before the layers, in every layer, in the dense-FFN or MoE
/// layers, or once after them.
/// Layers with windowed (sliding or chunked) attention are a section of their own
/// (`window_attention`), and so are a hybrid's layers with a linear mixer instead of
/// attention (`linear_mixer`), so that each is costed once and counted apart.
/// The multi-token prediction modules (Architecture::mtp_layers) are a section of their
/// own (`mtp`), after the head: their layer's ops, projection, norms and second pass of
/// the output head, costed once and counted per module, on the last pipeline stage.
enum class Section : std::uint8_t {
  embedding, attention, window_attention, linear_mixer, mlp, moe, head, mtp
};
/// Matmuls are the FLOPs of the model; elementwise ops are reported apart.
enum class OpKind : std::uint8_t { matmul, elementwise };

enum class Op : std::uint8_t {
  token_embedding,
  position_embedding,
  embedding_norm,
  attn_norm,
  qkv_proj,
  mla_q_down,
  mla_q_norm,
  mla_q_up,
  mla_kv_down,
  mla_kv_norm,
  mla_kv_up,
  qk_norm,
  rope,
  attn_scores,
  attn_softmax,
  attn_values,
  attn_gate,
  attn_head_gate,
  attn_sub_norm,
  out_proj,
  last_out_bias,
  linear_in_proj,
  linear_x_proj,
  linear_dt_proj,
  linear_conv,
  linear_scan,
  linear_norm,
  linear_out_proj,
  attn_post_norm,
  attn_residual,
  mlp_norm,
  mlp_up,
  mlp_gate,
  mlp_act,
  mlp_sub_norm,
  mlp_down,
  mlp_post_norm,
  mlp_residual,
  moe_norm,
  router,
  token_permute,
  routed_experts,
  shared_experts,
  shared_expert_gate,
  expert_combine,
  moe_residual,
  final_norm,
  lm_head,
  cross_entropy,
  mtp_embedding_norm,
  mtp_hidden_norm,
  mtp_proj,
};

/// The ops of a dense MLP block, and of an MoE block, but their norms and residual adds.
constexpr bool is_dense_mlp(Op op) {
  return op == Op::mlp_up || op == Op::mlp_gate || op == Op::mlp_act ||
         op == Op::mlp_sub_norm || op == Op::mlp_down;
}
constexpr bool is_moe_body(Op op) {
  return op == Op::router || op == Op::token_permute || op == Op::routed_experts ||
         op == Op::shared_experts || op == Op::shared_expert_gate || op == Op::expert_combine;
}

const char* name_of(Section section);
const char* name_of(Op op);
const char* name_of(OpKind kind);

/// Elementwise FLOPs per element, a documented convention (no two kernels agree): each
/// arithmetic operation on one element counts 1; transcendental functions count 1.
namespace elementwise {
constexpr double layernorm = 7;       ///< mean, subtract, square, sum, normalise, scale, shift
constexpr double layernorm_nobias = 6;  ///< the same without the shift
constexpr double weightless_norm = 5;   ///< mean, subtract, square, sum, normalise
constexpr double rmsnorm = 4;         ///< square, sum, normalise, scale
constexpr double bias = 1;            ///< one add per output element
constexpr double residual = 1;        ///< one add per element of the residual stream
constexpr double position_add = 1;    ///< adding the learned position vector
constexpr double rope = 3;            ///< x cos + rotate(x) sin, per element of q and k
constexpr double scores = 7;          ///< scale, mask, softmax (max, subtract, exp, sum, divide)
constexpr double gelu = 8;            ///< tanh approximation: x^3, scale, add, scale, tanh, add, mul, half
constexpr double relu = 1;
constexpr double silu = 4;            ///< negate, exp, add one, divide
/// xIELU (Huang et al. 2024, arXiv:2411.13010, eq. 4) as transformers' reference runs it,
/// both branches on every element: x^2, alpha_p, beta x, add; min, expm1, subtract,
/// alpha_n; compare and select.
constexpr double xielu = 10;
constexpr double gate_multiply = 1;   ///< act(gate) * up in SwiGLU / GeGLU
constexpr double sigmoid = 4;
constexpr double router_softmax = 5;  ///< softmax over the experts, per logit
constexpr double expert_combine = 2;  ///< scale by the routing weight, add, per routed element
constexpr double cross_entropy = 5;   ///< log-softmax over the vocabulary, per logit
/// Backward elementwise work, as a multiple of the forward (a convention).
constexpr double backward = 2;
}  // namespace elementwise

/// How tensor parallelism (Shoeybi et al. 2019) divides an op's work: `tensor` ops are
/// split over the tensor-parallel ranks (heads, FFN columns, vocabulary); `sequence` ops
/// (norms, residuals, dropout, router) are replicated, and split only under sequence
/// parallelism (Korthikanti et al. 2022 §4.2.2).
enum class Split : std::uint8_t { tensor, sequence };

/// The cost of one op in one layer, and how many layers have it.
struct OpCost {
  Section section;
  Op op;
  OpKind kind;
  std::int64_t count;          ///< instances in the model
  std::int64_t params;         ///< per instance
  std::int64_t active_params;  ///< per instance, used by one token (routed: top_k experts)
  bool embedding;              ///< a vocabulary or position table (Kaplan's N excludes it)
  double forward;              ///< matmul FLOPs per instance, full attention
  double forward_causal;       ///< matmul FLOPs per instance, causal attention
  double backward;             ///< matmul FLOPs per instance, full attention
  double backward_causal;
  double elementwise_forward;  ///< per instance
  double elementwise_backward;
  bool recomputed_full;       ///< its forward is redone under full recomputation
  bool recomputed_selective;  ///< ... and under selective recomputation (attention core)
  Split split = Split::sequence;
  // Sharding of the parameters (per instance): params_split is divided by tp (column-,
  // row- and vocabulary-parallel weights), params_experts by ep x tp; the rest is
  // replicated (norms, row-parallel biases, router).
  std::int64_t params_split = 0;
  std::int64_t params_experts = 0;
  // Forward memory traffic in bytes per instance: `bytes` divides like the op's work,
  // `bytes_unsplit` is what every tensor-parallel rank moves whole (the replicated input
  // of a column-parallel GEMM, the output of a row-parallel one before its all-reduce).
  double bytes = 0;
  double bytes_unsplit = 0;
  // The routed experts' weights a pass reads: only the device's own experts, so divided
  // by ep x expert tp (DeviceShare::expert), not like the op's work.
  double bytes_experts = 0;
  // Memory traffic of a kernel the op stands for besides its GEMMs and runs between them
  // (the experts' activation: Megatron-Core's grouped MLP calls it as a kernel of its
  // own): added to the op's time, not hidden under its roofline; divided like `bytes`.
  double bytes_serial = 0;
  // Output tile of one GEMM (m x n) and how many such GEMMs; n is divided by tp when
  // split_n. Used for tile quantisation.
  double gemm_m = 0;
  double gemm_n = 0;
  bool split_n = false;
  // Its reduction width K: the input features (divided by tp with the op's work when
  // row-parallel). A fused FFN of two GEMM groups (gate/up, then down) gives the FLOP
  // share of the second, which reduces over gemm_n and writes gemm_k wide. 0: no K, the
  // GEMM-size falloff is not applied (attention's own GEMMs follow their kernel's curve).
  double gemm_k = 0;
  double second_gemm_share = 0;
  // A routed expert: gemm_m is its rows from one rank's tokens; under expert parallelism
  // each rank's experts take ep ranks' tokens (DeviceShare::expert_rows).
  bool expert_rows = false;
  // Attention's own GEMMs (Q K^T, P V): the head dimension their kernel runs at
  // (Efficiency::attention_head_curve); 0 for every other op.
  double head_dim = 0;
  // Attention's own GEMMs under a sliding window a flash kernel runs as a band of key
  // blocks along the diagonal: the window w (gemm_m is then all s queries); 0 otherwise.
  double band = 0;
  // Elements FP8 training casts per instance (a weight GEMM's 16-bit inputs forward, its
  // output gradients backward): the `_whole` part on every tensor-parallel rank, the
  // `_split` part divided by tp (see fp8_casts).
  double cast_in_whole = 0, cast_in_split = 0;
  double cast_out_whole = 0, cast_out_split = 0;
  // Bytes saved for backward, per instance, one micro-batch, before sharding:
  // saved_split is divided by tp, saved_replicated only under sequence parallelism,
  // saved_unsplit never.
  double saved_split = 0;
  double saved_replicated = 0;
  double saved_unsplit = 0;
  // Kept only under sequence parallelism (tp > 1), divided by tp then: a reduce-scatter's
  // output that per-op checkpointing keeps (per_op_checkpoint.hpp).
  double saved_sequence_only = 0;
};

namespace detail {

/// Whether an op of this section is in a layer, whose forward full recomputation redoes
/// (an MTP module's own ops are: their head and loss opt out, see for_each_op).
constexpr bool in_layer_section(Section section) {
  return section != Section::embedding && section != Section::head;
}

inline OpCost matmul(Section section, Op op, std::int64_t count, std::int64_t params,
                     double forward, double elementwise_forward = 0) {
  const bool in_layer = in_layer_section(section);
  return OpCost{section, op, OpKind::matmul, count, params, params, false,
                forward, forward, 2 * forward, 2 * forward, elementwise_forward,
                elementwise::backward * elementwise_forward, in_layer, false};
}

inline OpCost pointwise(Section section, Op op, std::int64_t count, std::int64_t params,
                        double elementwise_forward) {
  const bool in_layer = in_layer_section(section);
  return OpCost{section, op, OpKind::elementwise, count, params, params, false,
                0, 0, 0, 0, elementwise_forward,
                elementwise::backward * elementwise_forward, in_layer, false};
}

/// Parameters of one norm over `width` features: LayerNorm a weight and a bias, RMSNorm
/// and LayerNorm without bias a weight, a weightless norm none.
inline std::int64_t norm_params(const Architecture& a, std::int64_t width) {
  switch (a.norm) {
    case NormKind::layernorm: return 2 * width;
    case NormKind::rmsnorm:
    case NormKind::layernorm_nobias: return width;
    case NormKind::weightless: return 0;
  }
  return 0;
}
inline std::int64_t norm_params(const Architecture& a) { return norm_params(a, a.d_model); }

inline double norm_flops(const Architecture& a) {
  switch (a.norm) {
    case NormKind::layernorm: return elementwise::layernorm;
    case NormKind::rmsnorm: return elementwise::rmsnorm;
    case NormKind::layernorm_nobias: return elementwise::layernorm_nobias;
    case NormKind::weightless: return elementwise::weightless_norm;
  }
  return 0;
}

/// FLOPs per element of the FFN's hidden activation (the gate's product included).
inline double activation_flops(FfnKind kind) {
  switch (kind) {
    case FfnKind::gelu: return elementwise::gelu;
    case FfnKind::relu: return elementwise::relu;
    case FfnKind::swiglu: return elementwise::silu + elementwise::gate_multiply;
    case FfnKind::geglu: return elementwise::gelu + elementwise::gate_multiply;
    case FfnKind::reglu: return elementwise::relu + elementwise::gate_multiply;
    case FfnKind::xielu: return elementwise::xielu;
    case FfnKind::none: return 0;
  }
  return 0;
}

/// Tensors of the FFN's hidden width that its activation saves. Megatron's fused kernels
/// keep the activation's input(s). transformers' activation module keeps `own` of them
/// (Architecture::activation_saves; by default 4 for GPT-2's tanh GELU written in Python,
/// 1 for a fused one: silu, gelu_pytorch_tanh, relu), and a gated FFN also the up output
/// and the activation's output for their product.
inline double activation_saves(FfnKind kind, bool huggingface, std::int64_t own = 0) {
  if (!huggingface) return is_gated(kind) ? 2 : 1;
  const double act =
      own > 0 ? static_cast<double>(own)
              : (kind == FfnKind::gelu || kind == FfnKind::xielu ? 4 : 1);
  return is_gated(kind) ? act + 2 : act;
}

/// Weight matrices of one FFN: up and down, plus the gate when gated.
inline std::int64_t ffn_matrices(FfnKind kind) { return is_gated(kind) ? 3 : 2; }

/// Parameters of one FFN of hidden width `width`.
inline std::int64_t ffn_params(const Architecture& a, std::int64_t width) {
  const std::int64_t weights = ffn_matrices(a.ffn) * a.d_model * width;
  const std::int64_t biases = a.mlp_bias ? (ffn_matrices(a.ffn) - 1) * width + a.d_model : 0;
  return weights + biases;
}

/// Elementwise FLOPs of one FFN per token: activation, gate product and bias adds.
inline double ffn_elementwise_per_token(const Architecture& a, std::int64_t width) {
  const double biases =
      a.mlp_bias ? elementwise::bias * ((ffn_matrices(a.ffn) - 1) * width + a.d_model) : 0;
  return activation_flops(a.ffn) * width + biases;
}

}  // namespace detail

/// Token slots the routed experts compute. Dropless routing computes top_k per token.
/// With a capacity factor c, each expert holds ceil(c k T / E) slots and computes them all,
/// padding included (Lepikhin et al. 2021 GShard §2.2; Fedus et al. 2022 Switch §2.2).
inline double routed_token_slots(const Architecture& a, double tokens) {
  const double routed = tokens * static_cast<double>(a.top_k);
  if (a.capacity_factor <= 0) return routed;
  const double experts = static_cast<double>(a.n_experts);
  return std::ceil(a.capacity_factor * routed / experts) * experts;
}

/// Bytes of the routed experts' hidden activation (their down projection's input) for one
/// micro-batch, in the training format.
inline double expert_hidden_bytes(const Architecture& a, double tokens, double act_bytes) {
  return act_bytes * routed_token_slots(a, tokens) * static_cast<double>(a.d_ff_expert);
}

/// Bytes of one micro-batch's tensors, from its element count.
struct Bytes {
  double act;    ///< one activation element (the training dtype)
  double fp32;   ///< 4
  double mask;   ///< a dropout mask element: 1 byte (a bool)
};

/// A linear layer over `tokens` rows: FLOPs, memory traffic and its tile.
/// Column-parallel layers split their output (each rank reads the whole input);
/// row-parallel ones split their input (each rank writes a whole partial output).
inline void set_linear(OpCost& op, double tokens, double in, double out, double act_bytes,
                       bool column_parallel) {
  op.split = Split::tensor;
  op.gemm_m = tokens;
  op.gemm_n = out;
  op.gemm_k = in;
  op.split_n = column_parallel;
  const double weights = act_bytes * in * out;
  if (column_parallel) {
    op.bytes = weights + act_bytes * tokens * out;
    op.bytes_unsplit = act_bytes * tokens * in;
    op.cast_in_whole = tokens * in;
    op.cast_out_split = tokens * out;
  } else {
    op.bytes = weights + act_bytes * tokens * in;
    op.bytes_unsplit = act_bytes * tokens * out;
    op.cast_in_split = tokens * in;
    op.cast_out_whole = tokens * out;
  }
}

/// FP8 casts of an FFN run as one op over `rows` tokens (routed or shared experts): fc1
/// (the `matrices - 1` up and gate projections of `width`, one GEMM) casts its input once
/// and fc2 its input of `width`; backward casts their output gradients.
inline void expert_casts(OpCost& op, double rows, double d, double width, double matrices) {
  op.cast_in_whole = rows * d;
  op.cast_in_split = rows * width;
  op.cast_out_split = rows * width * (matrices - 1);
  op.cast_out_whole = rows * d;
}

/// Bytes per element that eager PyTorch moves for the memory-bound ops a fused kernel does
/// in one pass, each aten op reading its inputs and writing its output (counted on
/// transformers' Llama modules by tools/make_golden_eager_elementwise.py, bfloat16: 36, 10
/// and 20 bytes per element forward; tests/test_eager_elementwise.py). Backward is taken
/// at twice the forward, as for every memory-bound op (measured: 2.55, 1.8 and 1.4 times).
namespace eager_bytes {
/// RMSNorm: upcast to float32 (act + 4), square (4 + 4), mean (4), x * rsqrt (4 + 4),
/// downcast (4 + act), times the weight (act + act); the upcasts vanish in float32.
constexpr double rms_norm(double act) { return (act < 4 ? 2 * (act + 4) : 0) + 20 + 2 * act; }
/// A gated activation, act(gate) * up: the activation (act + act), the product (3 act).
constexpr double gated_activation(double act) { return 5 * act; }
/// Rotary embedding as rotate_half: x cos, the negated half, their concatenation, times
/// sin, the sum: 2 + 1 + 2 + 2 + 3 elements moved per rotated element.
constexpr double rope(double act) { return 10 * act; }
}  // namespace eager_bytes

/// The quantities every op of one micro-batch shares, and the ops every kind of layer
/// builds the same way (norms, residual adds).
struct LayerContext {
  const Architecture& a;
  const Workload& w;
  double b, s, tokens, d, act, mask, stream;
  bool hf, rms;
  bool eager;  ///< !w.fused_elementwise

  LayerContext(const Architecture& arch, const Workload& work)
      : a(arch), w(work), b(static_cast<double>(work.batch)),
        s(static_cast<double>(work.seq_len)), tokens(b * s),
        d(static_cast<double>(arch.d_model)), act(bytes_of(work.dtype)),
        // Bytes per element of a dropout mask: a bool on GPUs; transformers on the CPU
        // keeps it in the activations' format.
        mask(work.dropout ? (work.implementation == Implementation::huggingface ? act : 1.0)
                          : 0.0),
        stream(tokens * d), hf(work.implementation == Implementation::huggingface),
        rms(arch.norm == NormKind::rmsnorm), eager(!work.fused_elementwise) {}

  /// A norm over `width` features per token (the residual stream by default). Norms save
  /// their input; transformers' RMSNorm saves a float32 copy of its input, the float32
  /// reciprocal RMS per token and the normalised input before the weight; its LayerNorm
  /// saves the input with the mean and reciprocal deviation per token.
  [[gnu::always_inline]] OpCost norm(Section section, Op op, std::int64_t count,
                                     double width = 0) const {
    if (width <= 0) width = d;
    const double elements = tokens * width;
    OpCost c = detail::pointwise(section, op, count,
                                 detail::norm_params(a, static_cast<std::int64_t>(width)),
                                 detail::norm_flops(a) * elements);
    c.bytes = norm_bytes(elements);
    if (!hf) {
      c.saved_replicated = act * elements;
    } else if (rms) {
      c.saved_replicated = (4 + act) * elements + 4 * tokens;
    } else {
      c.saved_replicated = act * elements + 2 * act * tokens;
    }
    return c;
  }
  /// A norm inside a sub-layer, over `width` channels that tensor parallelism splits
  /// (BitNet's sub-norms: the attention output, the MLP hidden); its weight, work and
  /// saved tensors divide over tp (the sums of squares' all-reduce is not costed).
  [[gnu::always_inline]] OpCost inner_norm(Section section, Op op, std::int64_t count,
                                           double width) const {
    OpCost c = norm(section, op, count, width);
    c.split = Split::tensor;
    c.params_split = c.params;
    c.saved_split = c.saved_replicated;
    c.saved_replicated = 0;
    return c;
  }
  /// Bytes a norm moves over `elements`: reads its input, writes its output, fused; eager
  /// LayerNorm is one aten kernel (native_layer_norm) too, RMSNorm written out is eight.
  [[gnu::always_inline]] double norm_bytes(double elements) const {
    return (eager && rms ? eager_bytes::rms_norm(act) : 2 * act) * elements;
  }
  /// Bytes a rotary embedding moves over `rotated` elements (eager: rotate_half's five ops).
  [[gnu::always_inline]] double rope_bytes(double rotated) const {
    return (eager ? eager_bytes::rope(act) : 2 * act) * rotated;
  }
  /// Bytes the FFN's activation moves over `elements` hidden channels: reads the up
  /// projection's output (and the gate's) and writes the down projection's input, once
  /// each fused, once per aten op eager (eager_bytes).
  [[gnu::always_inline]] double activation_bytes(double elements) const {
    if (!is_gated(a.ffn)) return 2 * act * elements;
    return (eager ? eager_bytes::gated_activation(act) : 3 * act) * elements;
  }
  /// A residual add of `adds` outputs (and the dropout before it, saving its mask).
  [[gnu::always_inline]] OpCost residual(Section section, Op op, std::int64_t count,
                                         double adds = 1) const {
    OpCost c = detail::pointwise(section, op, count, 0, adds * elementwise::residual * stream);
    c.bytes = (2 + adds) * act * stream;
    c.saved_replicated = adds * mask * stream;
    return c;
  }
};

}  // namespace scalingperf
