#pragma once
/// The ops of an attention block: its norms, the projections (standard multi-head /
/// grouped-query, or multi-head latent attention), the attention core over the whole
/// causal square or a window of it, and the residual add.

#include <algorithm>
#include <cstdint>

#include "scalingperf/op_cost.hpp"

namespace scalingperf {

/// Query-key pairs one head of one sequence scores under causal attention: every query
/// sees itself and the keys before it, s (s + 1) / 2; a sliding window of w keys
/// (transformers' mask keeps key j for query i when i - w < j <= i) sees min(i + 1, w);
/// chunked attention (Llama 4) sees the earlier keys of its own chunk of w.
inline double causal_pairs(double s, const Architecture& a, bool windowed) {
  const double window = static_cast<double>(a.attention_window);
  if (!windowed || window >= s) return s * (s + 1) / 2;
  if (a.window_kind == WindowKind::sliding) return window * (window + 1) / 2 + (s - window) * window;
  const double chunks = std::floor(s / window);
  const double rest = s - chunks * window;
  return chunks * window * (window + 1) / 2 + rest * (rest + 1) / 2;
}

/// Keys one sequence keeps per layer for inference: a window's layers keep its last w
/// (sliding) or its current chunk of w, the others every position.
inline double cached_positions(double s, const Architecture& a, bool windowed) {
  return windowed ? std::min(s, static_cast<double>(a.attention_window)) : s;
}

/// Visits the ops of `count` attention blocks of one kind: full causal attention, or the
/// windowed attention of Section::window_attention.
///
/// Multi-head latent attention (DeepSeek-AI 2024, DeepSeek-V2 §2.1.2–2.1.3, eqs. 9–19):
/// queries through a rank-q_lora_rank bottleneck with its norm (or projected directly),
/// keys and values from one down-projection to kv_lora_rank latent channels plus
/// qk_rope_head_dim rotary channels shared by all heads, a norm, and an up-projection to
/// h (qk_nope_head_dim + v_head_dim); scores over qk_nope + qk_rope channels per head,
/// values of v_head_dim. The down-projections are replicated over tensor parallelism and
/// the up-projections column-parallel, as Megatron-Core's MLA does.
// Always inlined: a caller that reads only some fields (resolve's parameter total, per
// grid point) then lets the compiler drop the rest, as when the ops were one function.
template <class Visitor>
[[gnu::always_inline]] inline void visit_attention_block(const LayerContext& c, Section section,
                                                         std::int64_t count, Visitor& visit) {
  using detail::matmul;
  using detail::pointwise;
  const Architecture& a = c.a;
  const Workload& w = c.w;
  const bool windowed = section == Section::window_attention;
  const double tokens = c.tokens, d = c.d, act = c.act, b = c.b, s = c.s;
  const double h = static_cast<double>(a.n_heads);
  const double hkv = static_cast<double>(a.n_kv_heads);
  const double dqk = static_cast<double>(a.head_dim);  // query-key width of one head
  const bool mla = is_mla(a);
  const double dv = mla ? static_cast<double>(a.v_head_dim) : dqk;
  const std::int64_t value_width = a.n_heads * (mla ? a.v_head_dim : a.head_dim);

  if (has_pre_norm(a.norm_placement)) visit(c.norm(section, Op::attn_norm, count));
  if (mla) {
    const std::int64_t qk_width = a.n_heads * a.head_dim;
    const double rope = static_cast<double>(a.qk_rope_head_dim);
    auto projection = [&](Op op, std::int64_t in, std::int64_t out, bool bias,
                          bool column_parallel) {
      OpCost p = matmul(section, op, count, in * out + (bias ? out : 0),
                        2 * tokens * static_cast<double>(in) * static_cast<double>(out),
                        bias ? elementwise::bias * tokens * static_cast<double>(out) : 0);
      set_linear(p, tokens, static_cast<double>(in), static_cast<double>(out), act,
                 column_parallel);
      if (column_parallel) {
        p.params_split = p.params;
        p.saved_replicated = act * tokens * static_cast<double>(in);
      } else {
        p.split = Split::sequence;
        p.split_n = false;
        p.saved_replicated = act * tokens * static_cast<double>(in);
      }
      return p;
    };
    if (a.q_lora_rank > 0) {
      visit(projection(Op::mla_q_down, a.d_model, a.q_lora_rank, a.qkv_bias, false));
      visit(c.norm(section, Op::mla_q_norm, count, static_cast<double>(a.q_lora_rank)));
      visit(projection(Op::mla_q_up, a.q_lora_rank, qk_width, false, true));
    } else {
      visit(projection(Op::qkv_proj, a.d_model, qk_width, false, true));
    }
    // It reads the same normed input as the query's projection, which keeps it: one tensor,
    // saved once.
    OpCost kv_down = projection(Op::mla_kv_down, a.d_model, a.kv_lora_rank + a.qk_rope_head_dim,
                                a.qkv_bias, false);
    kv_down.saved_replicated = 0;
    visit(kv_down);
    visit(c.norm(section, Op::mla_kv_norm, count, static_cast<double>(a.kv_lora_rank)));
    visit(projection(Op::mla_kv_up, a.kv_lora_rank,
                     a.n_heads * (a.qk_nope_head_dim + a.v_head_dim), false, true));
    if (a.position == PositionKind::rotary && a.qk_rope_head_dim > 0) {
      const double rotated = tokens * (h + 1) * rope;
      OpCost r = pointwise(section, Op::rope, count, 0, elementwise::rope * rotated);
      r.split = Split::tensor;
      r.bytes = c.rope_bytes(rotated);
      visit(r);
    }
  } else {
    // The query projection doubles when it also produces the output gate (Qwen3-Next).
    const std::int64_t q_width = a.n_heads * a.head_dim * (a.attention_output_gate ? 2 : 1);
    const std::int64_t qkv_width = q_width + 2 * a.n_kv_heads * a.head_dim;
    OpCost qkv = matmul(section, Op::qkv_proj, count,
                        a.d_model * qkv_width + (a.qkv_bias ? qkv_width : 0),
                        2 * tokens * d * static_cast<double>(qkv_width),
                        a.qkv_bias ? elementwise::bias * tokens * static_cast<double>(qkv_width)
                                   : 0);
    qkv.params_split = qkv.params;
    set_linear(qkv, tokens, d, static_cast<double>(qkv_width), act, true);
    qkv.saved_replicated = act * c.stream;  // its input, the norm's output
    visit(qkv);
    if (a.qk_norm != QkNorm::none) {
      // Normalises every query and key head; the weights cover one head (head) or every
      // channel of the projections (full).
      const double normed = tokens * (h + hkv) * dqk;
      const std::int64_t params =
          a.qk_norm == QkNorm::head
              ? 2 * detail::norm_params(a, a.head_dim)
              : detail::norm_params(a, a.n_heads * a.head_dim) +
                    detail::norm_params(a, a.n_kv_heads * a.head_dim);
      OpCost qk = pointwise(section, Op::qk_norm, count, params, detail::norm_flops(a) * normed);
      qk.split = Split::tensor;
      if (a.qk_norm == QkNorm::full) qk.params_split = params;
      qk.bytes = c.norm_bytes(normed);
      qk.saved_split = act * normed;  // its input
      visit(qk);
    }
    if (a.position == PositionKind::rotary) {
      const double rotated = tokens * (h + hkv) * dqk;
      OpCost r = pointwise(section, Op::rope, count, 0, elementwise::rope * rotated);
      r.split = Split::tensor;
      r.bytes = c.rope_bytes(rotated);
      visit(r);
    }
  }

  // Q K^T and softmax(.) V: b h s^2 d multiply-adds each over the full square, which is
  // what an eager kernel computes (masking after the product); the causal count keeps the
  // pairs a causal or windowed mask lets through (causal_pairs), which flash attention
  // executes.
  const double pairs = causal_pairs(s, a, windowed);
  const double scores = b * h * s * s;
  const double score_traffic = w.flash_attention ? 0.0 : act * scores;
  // A flash kernel runs a sliding window as a band of key blocks along the diagonal (its
  // queries all s, its band w: band_blocks); a chunked window as causal squares of the
  // chunk's side, and so does an eager kernel any window.
  const double side = cached_positions(s, a, windowed);
  const bool band = windowed && w.flash_attention && a.window_kind == WindowKind::sliding &&
                    side < s;
  auto attention_core = [&](Op op, double head_width, double output_width) {
    OpCost core = matmul(section, op, count, 0, 2 * b * h * s * s * head_width);
    core.forward_causal = 2 * b * h * pairs * head_width;
    core.backward_causal = 2 * core.forward_causal;
    core.recomputed_selective = true;
    core.split = Split::tensor;
    core.gemm_m = band ? s : side;
    core.band = band ? side : 0;
    core.gemm_n = output_width;
    core.head_dim = head_width;
    // Reads its two inputs (Q and K, or P and V; the scores only when unfused).
    core.bytes = act * tokens * (h + hkv) * head_width + score_traffic;
    return core;
  };
  OpCost qk = attention_core(Op::attn_scores, dqk, side);
  qk.saved_split = act * tokens * (h + hkv) * dqk;  // Q and K
  if (c.hf && !w.flash_attention) {
    qk.saved_split = act * tokens * 2 * h * dqk;  // eager attention repeats K to all heads
  } else if (c.hf && !c.rms) {
    // GPT-2's SDPA path keeps Q as a view of the fused QKV output, and a copy of K.
    qk.saved_split = act * tokens * ((h + 2 * hkv) * dqk + hkv * dqk);
  }
  visit(qk);
  // The softmax; with attention sinks, one learned logit per head joins each row's
  // normaliser (OpenAI 2025, gpt-oss model card §2.1).
  OpCost softmax = pointwise(section, Op::attn_softmax, count,
                             a.attention_sinks ? a.n_heads : 0, elementwise::scores * scores);
  softmax.params_split = softmax.params;
  softmax.recomputed_selective = true;
  softmax.split = Split::tensor;
  softmax.bytes = 2 * score_traffic;
  // Unfused attention drops out the probabilities in a kernel of its own (Megatron-LM's
  // fused scale-mask-softmax leaves dropout out; PyTorch's dropout): it reads them and
  // writes them back with their mask. A flash kernel drops out in registers.
  if (w.dropout && !w.flash_attention) softmax.bytes += score_traffic + (act + c.mask) * scores;
  if (w.flash_attention) {
    softmax.saved_split = 4 * b * h * s;  // float32 logsumexp per query and head
  } else {
    // Softmax output, and with dropout its mask and the dropped-out probabilities.
    softmax.saved_split = act * scores + (w.dropout ? (c.mask + act) * scores : 0);
    // Llama's eager attention computes the softmax in float32 and saves both formats.
    if (c.hf && c.rms) softmax.saved_split += (act < 4 ? 4 : 0) * scores;
  }
  visit(softmax);
  OpCost pv = attention_core(Op::attn_values, dv, dv);
  pv.saved_split = act * tokens * (c.hf && !w.flash_attention ? h : hkv) * dv;  // V
  visit(pv);
  if (a.attention_output_gate) {
    // attention output x sigmoid(gate), both of h d_h channels; saves both inputs. Beam
    // adds a learned bias per head to the gate, broadcast over the head's channels.
    const double gated = tokens * h * dqk;
    const std::int64_t bias = a.attention_gate_bias ? a.n_heads : 0;
    OpCost gate = pointwise(section, Op::attn_gate, count, bias,
                            (elementwise::sigmoid + elementwise::gate_multiply +
                             (bias > 0 ? elementwise::bias : 0)) * gated);
    gate.params_split = bias;
    gate.split = Split::tensor;
    gate.bytes = 3 * act * gated;
    gate.saved_split = 2 * act * gated;
    visit(gate);
  }
  if (a.attention_head_gate) {
    // LFM3's g_proj: d_model -> n_heads from the layer's (normed) input, a sigmoid per
    // head scaling that head's output; column-parallel over the heads. Saves the sigmoid
    // and the attention output for the product (its input is q_proj's, saved there).
    const double gated = tokens * static_cast<double>(value_width);
    OpCost gate = matmul(section, Op::attn_head_gate, count, a.d_model * a.n_heads,
                         2 * tokens * d * h,
                         elementwise::sigmoid * tokens * h + elementwise::gate_multiply * gated);
    gate.params_split = gate.params;
    set_linear(gate, tokens, d, h, act, true);
    gate.saved_split = act * (tokens * h + gated);
    visit(gate);
  }
  // BitNet b1.58 (Ma et al. 2024; transformers' attn_sub_norm): a norm over the attention
  // output before its projection.
  if (a.sub_norms) {
    visit(c.inner_norm(section, Op::attn_sub_norm, count, static_cast<double>(value_width)));
  }
  OpCost out = matmul(section, Op::out_proj, count,
                      value_width * a.d_model + (a.out_bias ? a.d_model : 0),
                      2 * tokens * static_cast<double>(value_width) * d,
                      a.out_bias ? elementwise::bias * tokens * d : 0);
  out.params_split = value_width * a.d_model;
  set_linear(out, tokens, static_cast<double>(value_width), d, act, false);
  out.saved_split = act * tokens * static_cast<double>(value_width);  // the attention output
  visit(out);
  if (a.norm_placement != NormPlacement::pre) {
    visit(c.norm(section, Op::attn_post_norm, count));
  }
  // A parallel block adds the attention and the MLP outputs to the stream in one step.
  visit(c.residual(section, Op::attn_residual, count, a.parallel_block ? 2 : 1));
}

/// The attention blocks of one section; the full-attention layers of a model with a
/// global_head_dim (Gemma 4) are costed with that head width, the windowed layers of one
/// with window_kv_heads or window_sinks (MiMo-V2-Flash) with those (a copy of the model,
/// made only then, so that sweeps of other models do no extra work).
// Out of line: the copy is rare, and inlining the block again for it would bloat every
// caller's hot path.
template <class Visitor>
[[gnu::noinline]] void visit_attention_of(const Architecture& local, const Workload& w,
                                          Section section, std::int64_t count, Visitor& visit) {
  const LayerContext own(local, w);
  visit_attention_block(own, section, count, visit);
}

template <class Visitor>
[[gnu::always_inline]] inline void visit_attention(const LayerContext& c, Section section,
                                                   std::int64_t count, Visitor& visit) {
  const Architecture& a = c.a;
  if (section == Section::attention && a.global_head_dim > 0 &&
      a.global_head_dim != a.head_dim) {
    Architecture global = a;
    global.head_dim = a.global_head_dim;
    visit_attention_of(global, c.w, section, count, visit);
    return;
  }
  if (section == Section::window_attention &&
      ((a.window_kv_heads > 0 && a.window_kv_heads != a.n_kv_heads) || a.window_sinks)) {
    Architecture local = a;
    if (a.window_kv_heads > 0) local.n_kv_heads = a.window_kv_heads;
    local.attention_sinks = local.attention_sinks || a.window_sinks;
    visit_attention_of(local, c.w, section, count, visit);
    return;
  }
  visit_attention_block(c, section, count, visit);
}

}  // namespace scalingperf
