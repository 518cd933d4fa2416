#pragma once
/// The per-op table of a decoder-only transformer: the one place where parameters and
/// FLOPs are defined. `for_each_op` visits every op of every layer type once, with the
/// number of layers of that type; the per-layer report and every total are sums over this
/// visit, so a table row and a total can never disagree. The ops of each kind of token
/// mixer come from its own header (attention_ops.hpp, linear_mixer_ops.hpp).

#include <cmath>
#include <cstdint>

#include "scalingperf/architecture.hpp"
#include "scalingperf/attention_ops.hpp"
#include "scalingperf/linear_mixer_ops.hpp"
#include "scalingperf/op_cost.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

namespace detail {

/// An FP8 weight GEMM's saved input at saved_gemm_input_bytes: `ratio` of its 16-bit size.
/// The input is all an op keeps for its weight gradient (qkv, up, MTP projection: their
/// replicated input; out and down projections: their split input), the experts' first
/// GEMM's permuted tokens and their second GEMM's input (the activation's output).
inline void keep_gemm_inputs_quantized(OpCost& op, const Architecture& a, const Workload& w,
                                       double ratio) {
  const double act = bytes_of(w.dtype);
  const double tokens = static_cast<double>(w.batch) * static_cast<double>(w.seq_len);
  switch (op.op) {
    case Op::qkv_proj: case Op::mlp_up: case Op::mtp_proj:
      op.saved_replicated *= ratio;
      break;
    case Op::out_proj: case Op::mlp_down:
      op.saved_split *= ratio;
      break;
    case Op::routed_experts:
      op.saved_unsplit *= ratio;
      op.saved_split -= (1 - ratio) * expert_hidden_bytes(a, tokens, act);
      break;
    case Op::shared_experts:
      op.saved_split -= (1 - ratio) * act * tokens * static_cast<double>(a.n_shared_experts) *
                        static_cast<double>(a.d_ff_shared);
      break;
    default: break;
  }
}

}  // namespace detail

template <class Visitor>
inline void for_each_op(const Architecture& a, const Workload& w, Visitor&& visit_op) {
  // Every op passes through here once, its saved GEMM inputs as the framework keeps them.
  const double quantized = saved_gemm_input_bytes(w) / bytes_of(w.dtype);
  const auto visit = [&](const OpCost& op) {
    if (quantized == 1) {
      visit_op(op);
      return;
    }
    OpCost kept = op;
    detail::keep_gemm_inputs_quantized(kept, a, w, quantized);
    visit_op(kept);
  };
  using detail::matmul;
  using detail::pointwise;
  const LayerContext ctx(a, w);
  const double s = ctx.s, tokens = ctx.tokens, d = ctx.d, act = ctx.act;
  const double mask = ctx.mask, stream = ctx.stream;
  const bool hf = ctx.hf;
  const double dh = static_cast<double>(a.head_dim);
  const double v = static_cast<double>(a.vocab_size);
  const std::int64_t L = a.n_layers;
  const std::int64_t moe_layers = a.n_moe_layers;
  // Nemotron-H's blocks are a mixer or an FFN alone: each kind on its own layers.
  const std::int64_t dense_layers = a.n_ffn_layers - moe_layers;
  const std::int64_t mixer_layers = a.n_mixer_layers;
  auto norm = [&](Section section, Op op, std::int64_t count) {
    return ctx.norm(section, op, count);
  };
  auto residual = [&](Section section, Op op, std::int64_t count) {
    return ctx.residual(section, op, count);
  };
  // Norms before and after each sub-layer, as the placement says; a parallel block's MLP
  // reads the attention's norm and adds its output in the attention's residual.
  const bool pre_norm = has_pre_norm(a.norm_placement) && !a.parallel_block;
  const bool post_norm = a.norm_placement != NormPlacement::pre;
  const bool own_residual = !a.parallel_block;

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
  if (a.embedding_norm) visit(norm(Section::embedding, Op::embedding_norm, 1));

  // The layers' ops, section by section (an MTP module runs those of its layer's kind
  // again, below): `emit` receives them.
  const auto visit_layers = [&](auto&& emit) {
    // Attention: the layers of full attention, then those with a window. A section is
    // visited when the pattern gives it layers at some depth, even if none at this one:
    // a sweep keeps one shape for every depth (model_costs.hpp).
    const bool attention = a.linear_mixer == LinearMixer::none || a.attention_every > 0 ||
                           !a.attention_layers.empty();
    if (attention &&
        (a.attention_window == 0 || a.global_every > 0 || !a.global_layers.empty())) {
      visit_attention(ctx, Section::attention,
                      mixer_layers - a.n_window_layers - a.n_linear_layers, emit);
    }
    if (attention && a.attention_window > 0) {
      visit_attention(ctx, Section::window_attention, a.n_window_layers, emit);
    }
    if (a.linear_mixer != LinearMixer::none) visit_linear_mixer(ctx, a.n_linear_layers, emit);

    // Dense feed-forward layers.
    if (a.ffn != FfnKind::none &&
        (dense_layers > 0 || a.moe_every > 1 || a.first_dense_layers > 0)) {
      const double f = static_cast<double>(a.d_ff);
      const std::int64_t bias_f = a.mlp_bias ? a.d_ff : 0;
      const double bias_f_flops = a.mlp_bias ? elementwise::bias * tokens * f : 0;
      if (pre_norm) emit(norm(Section::mlp, Op::mlp_norm, dense_layers));
      OpCost up = matmul(Section::mlp, Op::mlp_up, dense_layers, a.d_model * a.d_ff + bias_f,
                         2 * tokens * d * f, bias_f_flops);
      up.params_split = up.params;
      set_linear(up, tokens, d, f, act, true);
      up.saved_replicated = act * stream;  // its input (shared with the gate)
      emit(up);
      if (is_gated(a.ffn)) {
        OpCost gate = matmul(Section::mlp, Op::mlp_gate, dense_layers,
                             a.d_model * a.d_ff + bias_f, 2 * tokens * d * f, bias_f_flops);
        gate.params_split = gate.params;
        set_linear(gate, tokens, d, f, act, true);
        gate.cast_in_whole = 0;  // one FP8 copy of the input feeds both (TE's fused fc1)
        emit(gate);
      }
      // xIELU learns two scalars per MLP (alpha_p, alpha_n; beta and eps are buffers).
      OpCost activation = pointwise(Section::mlp, Op::mlp_act, dense_layers,
                                    a.ffn == FfnKind::xielu ? 2 : 0,
                                    detail::activation_flops(a.ffn) * tokens * f);
      activation.split = Split::tensor;
      // Reads the up (and gate) output, writes the down projection's input.
      activation.bytes = ctx.activation_bytes(tokens * f);
      // The activation's input; gated: both the gate and the up output.
      activation.saved_split =
          act * tokens * f * detail::activation_saves(a.ffn, hf, a.activation_saves);
      emit(activation);
      // BitNet's ffn_sub_norm: a norm over the hidden before the down projection.
      if (a.sub_norms) emit(ctx.inner_norm(Section::mlp, Op::mlp_sub_norm, dense_layers, f));
      OpCost down = matmul(Section::mlp, Op::mlp_down, dense_layers,
                           a.d_ff * a.d_model + (a.mlp_bias ? a.d_model : 0), 2 * tokens * f * d,
                           a.mlp_bias ? elementwise::bias * tokens * d : 0);
      down.params_split = a.d_ff * a.d_model;
      set_linear(down, tokens, f, d, act, false);
      down.saved_split = act * tokens * f;  // its input
      emit(down);
      if (post_norm) emit(norm(Section::mlp, Op::mlp_post_norm, dense_layers));
      if (own_residual) emit(residual(Section::mlp, Op::mlp_residual, dense_layers));
    }

    // Mixture-of-experts layers. Experts are divided over the expert-parallel ranks and
    // each expert's matrices over the tensor-parallel ranks.
    if (a.n_experts > 1) {
      const double experts = static_cast<double>(a.n_experts);
      const double k = static_cast<double>(a.top_k);
      const double fe = static_cast<double>(a.d_ff_expert);
      const double matrices = static_cast<double>(detail::ffn_matrices(a.ffn));
      const double act_saves = detail::activation_saves(a.ffn, hf, a.activation_saves);
      if (pre_norm) emit(norm(Section::moe, Op::moe_norm, moe_layers));
      // A bias per expert on the logits (GPT-OSS). DeepSeek-V3's per-expert bias for the
      // top-k choice is set by a balancing rule, not trained (DeepSeek-V3 §2.1.2): no
      // parameter, as in transformers (a buffer).
      const std::int64_t router_biases = a.router_bias ? a.n_experts : 0;
      OpCost router = matmul(Section::moe, Op::router, moe_layers,
                             a.d_model * a.n_experts + router_biases,
                             2 * tokens * d * experts,
                             elementwise::router_softmax * tokens * experts);
      router.gemm_m = tokens;
      router.gemm_n = experts;
      router.gemm_k = d;
      router.bytes = act * (stream + d * experts + tokens * experts);
      // Its input, and the float32 routing probabilities; transformers also keeps the int64
      // top-k indices and, renormalising the top-k weights, a float32 copy and their sum.
      router.saved_replicated = act * stream + 4 * tokens * experts +
                                (hf ? (8 + 4) * tokens * k + 4 * tokens : 0);
      emit(router);
      const double slots = routed_token_slots(a, tokens);
      // The tokens gathered into expert order, each routed copy a row read and written:
      // a memory-bound kernel of its own (Megatron-Core's permute; transformers indexes
      // each expert's tokens). The combine scatters them back (expert_combine).
      OpCost permute = pointwise(Section::moe, Op::token_permute, moe_layers, 0, 0);
      permute.bytes = act * 2 * slots * d;
      emit(permute);
      const std::int64_t expert = detail::ffn_params(a, a.d_ff_expert);
      OpCost routed = matmul(Section::moe, Op::routed_experts, moe_layers,
                             a.n_experts * expert, 2 * matrices * slots * d * fe,
                             slots * detail::ffn_elementwise_per_token(a, a.d_ff_expert));
      routed.active_params = a.top_k * expert;
      routed.params_experts = routed.params;
      routed.split = Split::tensor;
      routed.gemm_m = slots / experts;
      routed.gemm_n = fe;
      routed.gemm_k = d;
      routed.second_gemm_share = 1 / matrices;
      routed.expert_rows = true;
      routed.split_n = true;
      expert_casts(routed, slots, d, fe, matrices);
      // Per rank: its experts' weights, the routed tokens in and out, the hidden in and out.
      routed.bytes_experts = act * experts * matrices * d * fe;
      routed.bytes = act * slots * fe * (matrices + 1);
      routed.bytes_unsplit = act * 2 * slots * d;
      routed.bytes_serial = ctx.activation_bytes(slots * fe);
      // The permuted tokens (whole on every tensor-parallel rank), the activation's
      // input(s) and the down projection's input.
      routed.saved_unsplit = act * slots * d;
      routed.saved_split = act * slots * fe * (act_saves + 1);
      // transformers' eager experts: int64 token indices, the float32 routing weight and
      // the expert's output, per routed token.
      if (hf) routed.saved_unsplit += slots * (16 + 4 + act * d);
      emit(routed);
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
        shared_op.gemm_k = d;
        shared_op.second_gemm_share = 1 / matrices;
        shared_op.split_n = true;
        expert_casts(shared_op, tokens, d, shared * fs, matrices);
        shared_op.bytes = act * shared * (matrices * d * fs + tokens * fs * (matrices + 1));
        shared_op.bytes_unsplit = act * 2 * stream;
        shared_op.bytes_serial = ctx.activation_bytes(shared * tokens * fs);
        shared_op.saved_split = act * shared * tokens * fs * (act_saves + 1);
        // Its output, kept for the gate's product.
        if (a.shared_expert_gate) shared_op.saved_unsplit = act * stream;
        emit(shared_op);
        if (a.shared_expert_gate) {
          OpCost gate = matmul(Section::moe, Op::shared_expert_gate, moe_layers, a.d_model,
                               2 * tokens * d, tokens * (elementwise::sigmoid + d));
          gate.gemm_m = tokens;
          gate.gemm_n = 1;
          gate.gemm_k = d;
          gate.bytes = act * (stream + d + tokens);
          gate.saved_replicated = act * tokens;  // the sigmoid's output
          emit(gate);
        }
      }
      OpCost combine = pointwise(Section::moe, Op::expert_combine, moe_layers, 0,
                                 elementwise::expert_combine * k * tokens * d);
      combine.bytes = act * (slots * d + stream);
      combine.saved_unsplit = act * slots * d;  // expert outputs, for the weights' gradient
      emit(combine);
      // A.X-K1 norms only its MoE blocks' output (moe_post_norm).
      if (post_norm || a.moe_post_norm) emit(norm(Section::moe, Op::mlp_post_norm, moe_layers));
      if (own_residual) emit(residual(Section::moe, Op::moe_residual, moe_layers));
    }
  };
  visit_layers(visit);

  // GPT-NeoX Japanese: a bias of d_model on the last layer's attention output, added
  // before its residual; replicated over tp, as a row-parallel layer's bias. Costed with
  // the ops that come once after the layers (every op of a layer section has that
  // section's count). It reads and writes the stream and saves nothing for backward.
  if (a.last_out_bias) {
    OpCost bias = pointwise(Section::head, Op::last_out_bias, 1, a.d_model,
                            elementwise::bias * stream);
    bias.bytes = 2 * act * stream;
    visit(bias);
  }

  // Final norm, output projection and loss, all vocabulary-parallel over tp.
  // Post-LN's last block already ends with a norm: none before the head.
  if (a.norm_placement != NormPlacement::post_residual) {
    visit(norm(Section::head, Op::final_norm, 1));
  }
  OpCost head = matmul(Section::head, Op::lm_head, 1,
                       (a.tie_embeddings ? 0 : a.vocab_size * a.d_model) +
                           (a.lm_head_bias ? a.vocab_size : 0),
                       2 * tokens * d * v, a.lm_head_bias ? elementwise::bias * tokens * v : 0);
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

  // Multi-token prediction (DeepSeek-AI 2024, DeepSeek-V3 §2.2, eqs. 21-25), each module
  // on the last pipeline stage: the shared embedding of the tokens one further ahead, a
  // norm on it and on the previous depth's hidden state, their concatenation projected
  // back to d_model (M_k, no bias), one layer of the last layer's kind, a norm, and the
  // shared output head with a cross-entropy of its own. Embedding and head add work, not
  // parameters. Full recomputation redoes the module from its two inputs (Megatron-Core
  // checkpoints the projection, the layer and the norm; its head and loss are outside).
  if (a.mtp_layers > 0) {
    const std::int64_t n = a.mtp_layers;
    const auto module_op = [&](OpCost op, bool recomputed) {
      op.section = Section::mtp;
      op.count = n;
      op.recomputed_full = recomputed;
      visit(op);
    };
    OpCost embed = token;
    embed.params = embed.active_params = embed.params_split = 0;
    embed.embedding = false;
    embed.saved_unsplit = 0;  // the rotary tables and ids the main embedding holds
    module_op(embed, false);
    module_op(norm(Section::mtp, Op::mtp_embedding_norm, n), true);
    module_op(norm(Section::mtp, Op::mtp_hidden_norm, n), true);
    OpCost proj = matmul(Section::mtp, Op::mtp_proj, n, 2 * a.d_model * a.d_model,
                         2 * tokens * (2 * d) * d);
    proj.params_split = proj.params;
    set_linear(proj, tokens, 2 * d, d, act, true);
    proj.saved_replicated = 2 * act * stream;  // its input, the concatenation
    module_op(proj, true);
    const MixerKind mixer = a.mtp_kind.mixer;
    const Section mixer_section = mixer == MixerKind::attention          ? Section::attention
                                  : mixer == MixerKind::window_attention ? Section::window_attention
                                  : mixer == MixerKind::linear           ? Section::linear_mixer
                                                                         : Section::embedding;
    const Section ffn_section = a.mtp_kind.ffn == FfnBlock::dense ? Section::mlp
                                : a.mtp_kind.ffn == FfnBlock::moe ? Section::moe
                                                                  : Section::embedding;
    // (Section::embedding: none; no op of the layers' walk is in it.)
    visit_layers([&](const OpCost& op) {
      if (op.section == mixer_section || op.section == ffn_section) module_op(op, true);
    });
    module_op(norm(Section::mtp, Op::final_norm, n), true);
    OpCost shared_head = head;
    shared_head.params = shared_head.active_params = shared_head.params_split = 0;
    shared_head.embedding = false;
    module_op(shared_head, false);
    module_op(loss, false);
  }
}

/// Whether an op is the first of its layer, whose input is the layer's input (the
/// checkpoint of full recomputation): its norm, or its first projection when the norms
/// come after.
inline bool is_layer_input(const Architecture& a, Op op) {
  if (has_pre_norm(a.norm_placement)) return op == Op::attn_norm;
  return op == Op::linear_in_proj ||
         op == (is_mla(a) && a.q_lora_rank > 0 ? Op::mla_q_down : Op::qkv_proj);
}

/// Whether an op keeps the input that full recomputation restarts from: a layer's first
/// op (is_layer_input), or an MTP module's two norms (its hidden state and embedding).
inline bool keeps_checkpoint(const Architecture& a, const OpCost& op) {
  if (op.section == Section::mtp) {
    return op.op == Op::mtp_embedding_norm || op.op == Op::mtp_hidden_norm;
  }
  return is_layer_input(a, op.op);
}

/// Bytes a layer keeps under full recomputation: its input (Korthikanti et al. 2022
/// §4.3: 2 s b h per layer in 16-bit), replicated over tp unless sequence parallel.
inline double checkpoint_bytes(const Architecture& a, const Workload& w) {
  return bytes_of(w.dtype) * static_cast<double>(w.batch) * static_cast<double>(w.seq_len) *
         static_cast<double>(a.d_model);
}

}  // namespace scalingperf
