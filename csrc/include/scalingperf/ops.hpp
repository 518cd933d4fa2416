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

/// Visits every op of the model once, with the number of layers of its type.
template <class Visitor>
inline void for_each_op(const Architecture& a, const Workload& w, Visitor&& visit) {
  using detail::matmul;
  using detail::pointwise;
  const double b = static_cast<double>(w.batch);
  const double s = static_cast<double>(w.seq_len);
  const double tokens = b * s;
  const double d = static_cast<double>(a.d_model);
  const double h = static_cast<double>(a.n_heads);
  const double dh = static_cast<double>(a.head_dim);
  const double v = static_cast<double>(a.vocab_size);
  const std::int64_t L = a.n_layers;
  const std::int64_t moe_layers = a.n_moe_layers;
  const std::int64_t dense_layers = L - moe_layers;
  const std::int64_t q_width = a.n_heads * a.head_dim;
  const std::int64_t qkv_width = (a.n_heads + 2 * a.n_kv_heads) * a.head_dim;
  const std::int64_t norm_params = detail::norm_params(a);
  const double norm_flops = detail::norm_flops(a) * tokens * d;

  // Embedding: a gather, no FLOPs.
  OpCost token = pointwise(Section::embedding, Op::token_embedding, 1,
                           a.vocab_size * a.d_model, 0);
  token.embedding = true;
  visit(token);
  if (a.position == PositionKind::learned) {
    OpCost position = pointwise(Section::embedding, Op::position_embedding, 1,
                                a.max_position_embeddings * a.d_model,
                                elementwise::position_add * tokens * d);
    position.embedding = true;
    visit(position);
  }

  // Attention, in every layer.
  visit(pointwise(Section::attention, Op::attn_norm, L, norm_params, norm_flops));
  visit(matmul(Section::attention, Op::qkv_proj, L,
               a.d_model * qkv_width + (a.qkv_bias ? qkv_width : 0),
               2 * tokens * d * static_cast<double>(qkv_width),
               a.qkv_bias ? elementwise::bias * tokens * static_cast<double>(qkv_width) : 0));
  if (a.position == PositionKind::rotary) {
    visit(pointwise(Section::attention, Op::rope, L, 0,
                    elementwise::rope * tokens * static_cast<double>(q_width + a.n_kv_heads * a.head_dim)));
  }
  // Q K^T and softmax(.) V: b h s^2 d_h multiply-adds each over the full square; the
  // causal count keeps the s (s + 1) / 2 scores on and below the diagonal.
  const double square = b * h * s * s * dh;
  const double triangle = b * h * s * (s + 1) / 2 * dh;
  for (Op op : {Op::attn_scores, Op::attn_values}) {
    OpCost core = matmul(Section::attention, op, L, 0, 2 * square);
    core.forward_causal = 2 * triangle;
    core.backward_causal = 4 * triangle;
    core.recomputed_selective = true;
    visit(core);
    if (op == Op::attn_scores) {
      OpCost softmax = pointwise(Section::attention, Op::attn_softmax, L, 0,
                                 elementwise::scores * b * h * s * s);
      softmax.recomputed_selective = true;
      visit(softmax);
    }
  }
  visit(matmul(Section::attention, Op::out_proj, L,
               q_width * a.d_model + (a.out_bias ? a.d_model : 0),
               2 * tokens * static_cast<double>(q_width) * d,
               a.out_bias ? elementwise::bias * tokens * d : 0));
  visit(pointwise(Section::attention, Op::attn_residual, L, 0, elementwise::residual * tokens * d));

  // Dense feed-forward layers.
  if (dense_layers > 0) {
    const double f = static_cast<double>(a.d_ff);
    const std::int64_t bias_f = a.mlp_bias ? a.d_ff : 0;
    const double bias_f_flops = a.mlp_bias ? elementwise::bias * tokens * f : 0;
    visit(pointwise(Section::mlp, Op::mlp_norm, dense_layers, norm_params, norm_flops));
    visit(matmul(Section::mlp, Op::mlp_up, dense_layers, a.d_model * a.d_ff + bias_f,
                 2 * tokens * d * f, bias_f_flops));
    if (is_gated(a.ffn)) {
      visit(matmul(Section::mlp, Op::mlp_gate, dense_layers, a.d_model * a.d_ff + bias_f,
                   2 * tokens * d * f, bias_f_flops));
    }
    visit(pointwise(Section::mlp, Op::mlp_act, dense_layers, 0,
                    detail::activation_flops(a.ffn) * tokens * f));
    visit(matmul(Section::mlp, Op::mlp_down, dense_layers,
                 a.d_ff * a.d_model + (a.mlp_bias ? a.d_model : 0), 2 * tokens * f * d,
                 a.mlp_bias ? elementwise::bias * tokens * d : 0));
    visit(pointwise(Section::mlp, Op::mlp_residual, dense_layers, 0,
                    elementwise::residual * tokens * d));
  }

  // Mixture-of-experts layers.
  if (moe_layers > 0) {
    const double experts = static_cast<double>(a.n_experts);
    const double k = static_cast<double>(a.top_k);
    const double fe = static_cast<double>(a.d_ff_expert);
    const double matrices = static_cast<double>(detail::ffn_matrices(a.ffn));
    visit(pointwise(Section::moe, Op::moe_norm, moe_layers, norm_params, norm_flops));
    visit(matmul(Section::moe, Op::router, moe_layers, a.d_model * a.n_experts,
                 2 * tokens * d * experts, elementwise::router_softmax * tokens * experts));
    const double slots = routed_token_slots(a, tokens);
    const std::int64_t expert = detail::ffn_params(a, a.d_ff_expert);
    OpCost routed = matmul(Section::moe, Op::routed_experts, moe_layers,
                           a.n_experts * expert, 2 * matrices * slots * d * fe,
                           slots * detail::ffn_elementwise_per_token(a, a.d_ff_expert));
    routed.active_params = a.top_k * expert;
    visit(routed);
    if (a.n_shared_experts > 0) {
      const double shared = static_cast<double>(a.n_shared_experts);
      const double fs = static_cast<double>(a.d_ff_shared);
      visit(matmul(Section::moe, Op::shared_experts, moe_layers,
                   a.n_shared_experts * detail::ffn_params(a, a.d_ff_shared),
                   2 * matrices * shared * tokens * d * fs,
                   shared * tokens * detail::ffn_elementwise_per_token(a, a.d_ff_shared)));
      if (a.shared_expert_gate) {
        visit(matmul(Section::moe, Op::shared_expert_gate, moe_layers, a.d_model,
                     2 * tokens * d, tokens * (elementwise::sigmoid + d)));
      }
    }
    visit(pointwise(Section::moe, Op::expert_combine, moe_layers, 0,
                    elementwise::expert_combine * k * tokens * d));
    visit(pointwise(Section::moe, Op::moe_residual, moe_layers, 0,
                    elementwise::residual * tokens * d));
  }

  // Final norm, output projection and loss.
  visit(pointwise(Section::head, Op::final_norm, 1, norm_params, norm_flops));
  OpCost head = matmul(Section::head, Op::lm_head, 1,
                       a.tie_embeddings ? 0 : a.vocab_size * a.d_model, 2 * tokens * d * v);
  head.embedding = true;
  visit(head);
  visit(pointwise(Section::head, Op::cross_entropy, 1, 0, elementwise::cross_entropy * tokens * v));
}

}  // namespace scalingperf
