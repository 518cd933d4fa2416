#pragma once
/// The per-op table of a decoder-only transformer: the one place where parameters and
/// FLOPs are defined. `for_each_op` visits every op of every layer type once, with the
/// number of layers of that type; the per-layer report and every total are sums over this
/// visit, so a table row and a total can never disagree.
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
enum class Section : std::uint8_t { embedding, attention, mlp, moe, head };
/// Matmuls are the FLOPs of the model; elementwise ops are reported apart.
enum class OpKind : std::uint8_t { matmul, elementwise };

enum class Op : std::uint8_t {
  token_embedding,
  position_embedding,
  attn_norm,
  qkv_proj,
  rope,
  attn_scores,
  attn_softmax,
  attn_values,
  out_proj,
  attn_residual,
  mlp_norm,
  mlp_up,
  mlp_gate,
  mlp_act,
  mlp_down,
  mlp_residual,
  moe_norm,
  router,
  routed_experts,
  shared_experts,
  shared_expert_gate,
  expert_combine,
  moe_residual,
  final_norm,
  lm_head,
  cross_entropy,
};

const char* name_of(Section section);
const char* name_of(Op op);
const char* name_of(OpKind kind);

/// Elementwise FLOPs per element, a documented convention (no two kernels agree): each
/// arithmetic operation on one element counts 1; transcendental functions count 1.
namespace elementwise {
constexpr double layernorm = 7;       ///< mean, subtract, square, sum, normalise, scale, shift
constexpr double rmsnorm = 4;         ///< square, sum, normalise, scale
constexpr double bias = 1;            ///< one add per output element
constexpr double residual = 1;        ///< one add per element of the residual stream
constexpr double position_add = 1;    ///< adding the learned position vector
constexpr double rope = 3;            ///< x cos + rotate(x) sin, per element of q and k
constexpr double scores = 7;          ///< scale, mask, softmax (max, subtract, exp, sum, divide)
constexpr double gelu = 8;            ///< tanh approximation: x^3, scale, add, scale, tanh, add, mul, half
constexpr double relu = 1;
constexpr double silu = 4;            ///< negate, exp, add one, divide
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
  // Output tile of one GEMM (m x n) and how many such GEMMs; n is divided by tp when
  // split_n. Used for tile quantisation.
  double gemm_m = 0;
  double gemm_n = 0;
  bool split_n = false;
  // Bytes saved for backward, per instance, one micro-batch, before sharding:
  // saved_split is divided by tp, saved_replicated only under sequence parallelism,
  // saved_unsplit never.
  double saved_split = 0;
  double saved_replicated = 0;
  double saved_unsplit = 0;
};

namespace detail {

inline OpCost matmul(Section section, Op op, std::int64_t count, std::int64_t params,
                     double forward, double elementwise_forward = 0) {
  const bool in_layer = section != Section::embedding && section != Section::head;
  return OpCost{section, op, OpKind::matmul, count, params, params, false,
                forward, forward, 2 * forward, 2 * forward, elementwise_forward,
                elementwise::backward * elementwise_forward, in_layer, false};
}

inline OpCost pointwise(Section section, Op op, std::int64_t count, std::int64_t params,
                        double elementwise_forward) {
  const bool in_layer = section != Section::embedding && section != Section::head;
  return OpCost{section, op, OpKind::elementwise, count, params, params, false,
                0, 0, 0, 0, elementwise_forward,
                elementwise::backward * elementwise_forward, in_layer, false};
}

inline std::int64_t norm_params(const Architecture& a) {
  return a.norm == NormKind::layernorm ? 2 * a.d_model : a.d_model;
}

inline double norm_flops(const Architecture& a) {
  return a.norm == NormKind::layernorm ? elementwise::layernorm : elementwise::rmsnorm;
}

/// FLOPs per element of the FFN's hidden activation (the gate's product included).
inline double activation_flops(FfnKind kind) {
  switch (kind) {
    case FfnKind::gelu: return elementwise::gelu;
    case FfnKind::relu: return elementwise::relu;
    case FfnKind::swiglu: return elementwise::silu + elementwise::gate_multiply;
    case FfnKind::geglu: return elementwise::gelu + elementwise::gate_multiply;
  }
  return 0;
}

/// Tensors of the FFN's hidden width that its activation saves. Megatron's fused kernels
/// keep the activation's input(s); transformers keeps the gate and up outputs and the
/// SiLU output for SwiGLU/GeGLU, and GPT-2's tanh GELU written in Python keeps four.
inline double activation_saves(FfnKind kind, bool huggingface) {
  if (is_gated(kind)) return huggingface ? 3 : 2;
  if (kind == FfnKind::gelu && huggingface) return 4;
  return 1;
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
  op.split_n = column_parallel;
  const double weights = act_bytes * in * out;
  if (column_parallel) {
    op.bytes = weights + act_bytes * tokens * out;
    op.bytes_unsplit = act_bytes * tokens * in;
  } else {
    op.bytes = weights + act_bytes * tokens * in;
    op.bytes_unsplit = act_bytes * tokens * out;
  }
}

/// Visits every op of the model once, with the number of layers of its type.
///
/// Saved tensors follow Korthikanti et al. 2022 §4.1 (the "megatron" implementation):
/// every matmul saves its input, norms their input, GeLU its input, softmax its output,
/// dropout a 1-byte mask; flash attention keeps a float32 logsumexp per query and head
/// instead of the s x s scores (Dao et al. 2022). The "huggingface" implementation is
/// what transformers 5's modelling code saves, measured by tools/make_golden_activations.py:
/// Llama's code (Mistral, Mixtral, Qwen2, Qwen2-MoE) for RMSNorm models, GPT-2's for
/// LayerNorm models; the differences are noted where they arise.
template <class Visitor>
inline void for_each_op(const Architecture& a, const Workload& w, Visitor&& visit) {
  using detail::matmul;
  using detail::pointwise;
  const double b = static_cast<double>(w.batch);
  const double s = static_cast<double>(w.seq_len);
  const double tokens = b * s;
  const double d = static_cast<double>(a.d_model);
  const double h = static_cast<double>(a.n_heads);
  const double hkv = static_cast<double>(a.n_kv_heads);
  const double dh = static_cast<double>(a.head_dim);
  const double v = static_cast<double>(a.vocab_size);
  const std::int64_t L = a.n_layers;
  const std::int64_t moe_layers = a.n_moe_layers;
  const std::int64_t dense_layers = L - moe_layers;
  const std::int64_t q_width = a.n_heads * a.head_dim;
  const std::int64_t qkv_width = (a.n_heads + 2 * a.n_kv_heads) * a.head_dim;
  const std::int64_t norm_params = detail::norm_params(a);
  const double norm_flops = detail::norm_flops(a) * tokens * d;
  const double act = bytes_of(w.dtype);
  const bool hf = w.implementation == Implementation::huggingface;
  const bool rms = a.norm == NormKind::rmsnorm;
  // Bytes per element of a dropout mask: a bool on GPUs; transformers on the CPU keeps it
  // in the activations' format.
  const double mask = w.dropout ? (hf ? act : 1.0) : 0.0;
  const double stream = tokens * d;  // elements of the residual stream

  // Norms save their input; the residual stream is read and written once.
  // transformers' RMSNorm saves a float32 copy of its input, the float32 reciprocal RMS
  // per token and the normalised input before the weight; its LayerNorm saves the input
  // with the mean and reciprocal deviation per token.
  auto norm = [&](Section section, Op op, std::int64_t count) {
    OpCost c = pointwise(section, op, count, norm_params, norm_flops);
    c.bytes = 2 * act * stream;
    if (!hf) {
      c.saved_replicated = act * stream;
    } else if (rms) {
      c.saved_replicated = (4 + act) * stream + 4 * tokens;
    } else {
      c.saved_replicated = act * stream + 2 * act * tokens;
    }
    return c;
  };
  // A residual add (and the dropout before it, saving its mask).
  auto residual = [&](Section section, Op op, std::int64_t count) {
    OpCost c = pointwise(section, op, count, 0, elementwise::residual * stream);
    c.bytes = 3 * act * stream;
    c.saved_replicated = mask * stream;
    return c;
  };

  // Embedding: a gather, no FLOPs; vocabulary-parallel over tp.
  OpCost token = pointwise(Section::embedding, Op::token_embedding, 1,
                           a.vocab_size * a.d_model, 0);
  token.embedding = true;
  token.params_split = token.params;
  token.bytes = 2 * act * stream;
  token.saved_replicated = mask * stream;  // embedding dropout
  if (hf) {
    // The int64 token ids (and GPT-2's position ids); rotary cos and sin, shared by all
    // layers, for one position row.
    token.saved_unsplit = 8 * tokens + (a.position == PositionKind::learned ? 8 * s : 0) +
                          (a.position == PositionKind::rotary ? 2 * act * s * dh : 0);
  }
  visit(token);
  if (a.position == PositionKind::learned) {
    OpCost position = pointwise(Section::embedding, Op::position_embedding, 1,
                                a.max_position_embeddings * a.d_model,
                                elementwise::position_add * stream);
    position.embedding = true;
    position.bytes = 3 * act * stream;
    visit(position);
  }

  // Attention, in every layer.
  visit(norm(Section::attention, Op::attn_norm, L));
  OpCost qkv = matmul(Section::attention, Op::qkv_proj, L,
                      a.d_model * qkv_width + (a.qkv_bias ? qkv_width : 0),
                      2 * tokens * d * static_cast<double>(qkv_width),
                      a.qkv_bias ? elementwise::bias * tokens * static_cast<double>(qkv_width) : 0);
  qkv.params_split = qkv.params;
  set_linear(qkv, tokens, d, static_cast<double>(qkv_width), act, true);
  qkv.saved_replicated = act * stream;  // its input, the norm's output
  visit(qkv);
  if (a.position == PositionKind::rotary) {
    const double rotated = tokens * (h + hkv) * dh;
    OpCost rope = pointwise(Section::attention, Op::rope, L, 0, elementwise::rope * rotated);
    rope.split = Split::tensor;
    rope.bytes = 2 * act * rotated;
    visit(rope);
  }
  // Q K^T and softmax(.) V: b h s^2 d_h multiply-adds each over the full square; the
  // causal count keeps the s (s + 1) / 2 scores on and below the diagonal.
  const double square = b * h * s * s * dh;
  const double triangle = b * h * s * (s + 1) / 2 * dh;
  const double scores = b * h * s * s;
  // Without flash attention the scores are written to memory and read back.
  const double score_traffic = w.flash_attention ? 0.0 : act * scores;
  // Q K^T (an s x s output per head) and P V (s x d_h): batched over the heads, which
  // tensor parallelism splits; redone by selective recomputation.
  auto attention_core = [&](Op op, double output_width) {
    OpCost c = matmul(Section::attention, op, L, 0, 2 * square);
    c.forward_causal = 2 * triangle;
    c.backward_causal = 4 * triangle;
    c.recomputed_selective = true;
    c.split = Split::tensor;
    c.gemm_m = s;
    c.gemm_n = output_width;
    c.bytes = act * tokens * (h + hkv) * dh + score_traffic;
    return c;
  };
  OpCost qk = attention_core(Op::attn_scores, s);
  qk.saved_split = act * tokens * (h + hkv) * dh;  // Q and K
  if (hf && !w.flash_attention) {
    qk.saved_split = act * tokens * 2 * h * dh;  // eager attention repeats K to all heads
  } else if (hf && !rms) {
    // GPT-2's SDPA path keeps Q as a view of the fused QKV output, and a copy of K.
    qk.saved_split = act * tokens * (static_cast<double>(qkv_width) + hkv * dh);
  }
  visit(qk);
  OpCost softmax = pointwise(Section::attention, Op::attn_softmax, L, 0,
                             elementwise::scores * scores);
  softmax.recomputed_selective = true;
  softmax.split = Split::tensor;
  softmax.bytes = 2 * score_traffic;
  if (w.flash_attention) {
    softmax.saved_split = 4 * b * h * s;  // float32 logsumexp per query and head
  } else {
    // Softmax output, and with dropout its mask and the dropped-out probabilities.
    softmax.saved_split = act * scores + (w.dropout ? (mask + act) * scores : 0);
    // Llama's eager attention computes the softmax in float32 and saves both formats.
    if (hf && rms) softmax.saved_split += (act < 4 ? 4 : 0) * scores;
  }
  visit(softmax);
  OpCost pv = attention_core(Op::attn_values, dh);
  pv.saved_split = act * tokens * (hf && !w.flash_attention ? h : hkv) * dh;  // V
  visit(pv);
  OpCost out = matmul(Section::attention, Op::out_proj, L,
                      q_width * a.d_model + (a.out_bias ? a.d_model : 0),
                      2 * tokens * static_cast<double>(q_width) * d,
                      a.out_bias ? elementwise::bias * tokens * d : 0);
  out.params_split = q_width * a.d_model;
  set_linear(out, tokens, static_cast<double>(q_width), d, act, false);
  out.saved_split = act * tokens * static_cast<double>(q_width);  // the attention output
  visit(out);
  visit(residual(Section::attention, Op::attn_residual, L));

  // Dense feed-forward layers.
  if (dense_layers > 0) {
    const double f = static_cast<double>(a.d_ff);
    const std::int64_t bias_f = a.mlp_bias ? a.d_ff : 0;
    const double bias_f_flops = a.mlp_bias ? elementwise::bias * tokens * f : 0;
    visit(norm(Section::mlp, Op::mlp_norm, dense_layers));
    OpCost up = matmul(Section::mlp, Op::mlp_up, dense_layers, a.d_model * a.d_ff + bias_f,
                       2 * tokens * d * f, bias_f_flops);
    up.params_split = up.params;
    set_linear(up, tokens, d, f, act, true);
    up.saved_replicated = act * stream;  // its input (shared with the gate)
    visit(up);
    if (is_gated(a.ffn)) {
      OpCost gate = matmul(Section::mlp, Op::mlp_gate, dense_layers,
                           a.d_model * a.d_ff + bias_f, 2 * tokens * d * f, bias_f_flops);
      gate.params_split = gate.params;
      set_linear(gate, tokens, d, f, act, true);
      visit(gate);
    }
    OpCost activation = pointwise(Section::mlp, Op::mlp_act, dense_layers, 0,
                                  detail::activation_flops(a.ffn) * tokens * f);
    activation.split = Split::tensor;
    // Reads the up (and gate) output, writes the down projection's input.
    activation.bytes = act * tokens * f * (is_gated(a.ffn) ? 3 : 2);
    // The activation's input; gated: both the gate and the up output.
    activation.saved_split = act * tokens * f * detail::activation_saves(a.ffn, hf);
    visit(activation);
    OpCost down = matmul(Section::mlp, Op::mlp_down, dense_layers,
                         a.d_ff * a.d_model + (a.mlp_bias ? a.d_model : 0), 2 * tokens * f * d,
                         a.mlp_bias ? elementwise::bias * tokens * d : 0);
    down.params_split = a.d_ff * a.d_model;
    set_linear(down, tokens, f, d, act, false);
    down.saved_split = act * tokens * f;  // its input
    visit(down);
    visit(residual(Section::mlp, Op::mlp_residual, dense_layers));
  }

  // Mixture-of-experts layers. Experts are divided over the expert-parallel ranks and
  // each expert's matrices over the tensor-parallel ranks.
  if (moe_layers > 0) {
    const double experts = static_cast<double>(a.n_experts);
    const double k = static_cast<double>(a.top_k);
    const double fe = static_cast<double>(a.d_ff_expert);
    const double matrices = static_cast<double>(detail::ffn_matrices(a.ffn));
    const double act_saves = detail::activation_saves(a.ffn, hf);
    visit(norm(Section::moe, Op::moe_norm, moe_layers));
    OpCost router = matmul(Section::moe, Op::router, moe_layers, a.d_model * a.n_experts,
                           2 * tokens * d * experts,
                           elementwise::router_softmax * tokens * experts);
    router.gemm_m = tokens;
    router.gemm_n = experts;
    router.bytes = act * (stream + d * experts + tokens * experts);
    // Its input, and the float32 routing probabilities; transformers also keeps the int64
    // top-k indices and, renormalising the top-k weights, a float32 copy and their sum.
    router.saved_replicated = act * stream + 4 * tokens * experts +
                              (hf ? (8 + 4) * tokens * k + 4 * tokens : 0);
    visit(router);
    const double slots = routed_token_slots(a, tokens);
    const std::int64_t expert = detail::ffn_params(a, a.d_ff_expert);
    OpCost routed = matmul(Section::moe, Op::routed_experts, moe_layers,
                           a.n_experts * expert, 2 * matrices * slots * d * fe,
                           slots * detail::ffn_elementwise_per_token(a, a.d_ff_expert));
    routed.active_params = a.top_k * expert;
    routed.params_experts = routed.params;
    routed.split = Split::tensor;
    routed.gemm_m = slots / experts;
    routed.gemm_n = fe;
    routed.split_n = true;
    // Per rank: its experts' weights, the routed tokens in and out, the hidden in and out.
    routed.bytes = act * (experts * matrices * d * fe + slots * fe * (matrices + 1));
    routed.bytes_unsplit = act * 2 * slots * d;
    // The permuted tokens (whole on every tensor-parallel rank), the activation's
    // input(s) and the down projection's input.
    routed.saved_unsplit = act * slots * d;
    routed.saved_split = act * slots * fe * (act_saves + 1);
    // transformers' eager experts: int64 token indices, the float32 routing weight and
    // the expert's output, per routed token.
    if (hf) routed.saved_unsplit += slots * (16 + 4 + act * d);
    visit(routed);
    if (a.n_shared_experts > 0) {
      const double shared = static_cast<double>(a.n_shared_experts);
      const double fs = static_cast<double>(a.d_ff_shared);
      OpCost shared_op = matmul(Section::moe, Op::shared_experts, moe_layers,
                                a.n_shared_experts * detail::ffn_params(a, a.d_ff_shared),
                                2 * matrices * shared * tokens * d * fs,
                                shared * tokens * detail::ffn_elementwise_per_token(a, a.d_ff_shared));
      shared_op.params_split = shared_op.params;
      shared_op.split = Split::tensor;
      shared_op.gemm_m = tokens;
      shared_op.gemm_n = fs;
      shared_op.split_n = true;
      shared_op.bytes = act * shared * (matrices * d * fs + tokens * fs * (matrices + 1));
      shared_op.bytes_unsplit = act * 2 * stream;
      shared_op.saved_split = act * shared * tokens * fs * (act_saves + 1);
      // Its output, kept for the gate's product.
      if (a.shared_expert_gate) shared_op.saved_unsplit = act * stream;
      visit(shared_op);
      if (a.shared_expert_gate) {
        OpCost gate = matmul(Section::moe, Op::shared_expert_gate, moe_layers, a.d_model,
                             2 * tokens * d, tokens * (elementwise::sigmoid + d));
        gate.gemm_m = tokens;
        gate.gemm_n = 1;
        gate.bytes = act * (stream + d + tokens);
        gate.saved_replicated = act * tokens;  // the sigmoid's output
        visit(gate);
      }
    }
    OpCost combine = pointwise(Section::moe, Op::expert_combine, moe_layers, 0,
                               elementwise::expert_combine * k * tokens * d);
    combine.bytes = act * (slots * d + stream);
    combine.saved_unsplit = act * slots * d;  // expert outputs, for the weights' gradient
    visit(combine);
    visit(residual(Section::moe, Op::moe_residual, moe_layers));
  }

  // Final norm, output projection and loss, all vocabulary-parallel over tp.
  visit(norm(Section::head, Op::final_norm, 1));
  OpCost head = matmul(Section::head, Op::lm_head, 1,
                       a.tie_embeddings ? 0 : a.vocab_size * a.d_model, 2 * tokens * d * v);
  head.embedding = true;
  head.params_split = head.params;
  set_linear(head, tokens, d, v, act, true);
  head.saved_replicated = act * stream;  // its input
  visit(head);
  OpCost loss = pointwise(Section::head, Op::cross_entropy, 1, 0,
                          elementwise::cross_entropy * tokens * v);
  loss.split = Split::tensor;
  loss.bytes = (act + 4) * tokens * v;
  // Cross-entropy keeps float32 logits (Korthikanti et al. 2022, appendix: 4 s b v / t);
  // in transformers, the log-softmax of the upcast logits and the int64 labels.
  loss.saved_split = 4 * tokens * v;
  if (hf) loss.saved_unsplit = 8 * tokens;
  visit(loss);
}

/// Bytes a layer keeps under full recomputation: its input (Korthikanti et al. 2022
/// §4.3: 2 s b h per layer in 16-bit), replicated over tp unless sequence parallel.
inline double checkpoint_bytes(const Architecture& a, const Workload& w) {
  return bytes_of(w.dtype) * static_cast<double>(w.batch) * static_cast<double>(w.seq_len) *
         static_cast<double>(a.d_model);
}

}  // namespace scalingperf
