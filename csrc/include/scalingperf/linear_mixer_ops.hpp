#pragma once
/// The ops of a hybrid's layers without attention: gated DeltaNet linear attention or a
/// Mamba-2 state-space layer. Both project the stream to their inputs and a gate, run a
/// depthwise causal convolution over the mixed channels, a recurrence over the sequence
/// (the scan), a gated RMSNorm, and an output projection.
///
/// Gated DeltaNet (Yang et al. 2025, "Gated Delta Networks", §3; transformers'
/// Qwen3-Next): h_k key heads of width d_k (queries and keys), h_v value heads of width
/// d_v (values and the output gate z), and per value head a decay and a step size; the
/// convolution runs over 2 h_k d_k + h_v d_v channels without bias. State per value head:
/// d_k x d_v.
///
/// Mamba-2 (Dao & Gu 2024, "Transformers are SSMs", §7 and Fig. 6; transformers'
/// Mamba2Mixer): in the same fields, linear_heads = h heads of width P (x and z),
/// linear_key_heads = g groups of B and C, linear_key_dim = N the state size, and a dt per
/// head; the convolution runs over h P + 2 g N channels; A, D and dt's bias per head.
/// State per head: P x N.
///
/// Mamba-1 (Gu & Dao 2023, Algorithm 2 and §3.4; transformers' MambaMixer): linear_heads =
/// D inner channels, each a head of width 1 with its own state of N = linear_key_dim; x
/// and z from in_proj, the convolution over the D channels, x_proj to the step size's rank
/// R = linear_dt_rank and to B and C (N each), dt_proj back to D (with a bias); A (D x N)
/// and D per channel; no norm, the output gated by SiLU(z). State per channel: N. Jamba
/// (Lieber et al. 2024) norms dt, B and C after x_proj (linear_inner_norms): their weights
/// and norm work go with the gate in linear_norm.
///
/// LFM2's short convolution (Liquid AI; transformers' Lfm2ShortConv): in_proj gives B, C
/// and x of d_model channels each; B x, a depthwise causal convolution over d_model
/// channels (no activation), then C times its output and out_proj. No recurrence, state
/// or norm; linear_conv_bias puts a bias on both projections and the convolution, as
/// LFM2's conv_bias does.
///
/// The projections are matmuls; the depthwise convolution's 2 K multiply-adds per channel
/// and token are counted with them (FlopCounterMode counts it too). The scan is reported
/// as elementwise work, per token and head in its recurrent form (a convention: chunked
/// kernels trade some of it for matmuls): gated DeltaNet decays its d_k x d_v state,
/// reads it with the key, writes the delta rule's rank-one update and reads it with the
/// query, 7 d_k d_v; Mamba-2 decays its P x N state, adds B x, and reads it with C,
/// 5 P N, plus D's skip, P; Mamba-1 also discretises per channel (exp(dt A), dt B x), 8 N,
/// plus D's skip, 2.

#include <cstdint>

#include "scalingperf/op_cost.hpp"

namespace scalingperf {

/// Channels of the convolution, and the widths of the input projection and the value
/// (output) side of one linear mixer.
struct LinearMixerWidths {
  std::int64_t conv, in_proj, value, scan_params;
  double scan_flops_per_token;
  double state;  ///< elements of the recurrent state of one layer and sequence
};

inline LinearMixerWidths linear_mixer_widths(const Architecture& a) {
  const std::int64_t value = a.linear_heads * a.linear_head_dim;
  const std::int64_t keys = a.linear_key_heads * a.linear_key_dim;
  const auto heads = static_cast<double>(a.linear_heads);
  const auto dv = static_cast<double>(a.linear_head_dim);
  const auto dk = static_cast<double>(a.linear_key_dim);
  if (a.linear_mixer == LinearMixer::short_conv) {
    return {a.d_model, 3 * a.d_model, a.d_model, 0, 0, 0};
  }
  if (a.linear_mixer == LinearMixer::gated_deltanet) {
    // q, k, v and z; then the step size and the decay per value head.
    return {2 * keys + value, 2 * keys + 2 * value + 2 * a.linear_heads, value,
            2 * a.linear_heads, 7 * heads * dk * dv, heads * dk * dv};
  }
  if (a.linear_mixer == LinearMixer::mamba) {
    // x and z; A (D x N) and D per channel.
    return {value, 2 * value, value, value * a.linear_key_dim + value,
            heads * (8 * dk + 2), heads * dk};
  }
  // x and z, B and C, and dt per head.
  return {value + 2 * keys, 2 * value + 2 * keys + a.linear_heads, value,
          3 * a.linear_heads, heads * (5 * dv * dk + dv), heads * dv * dk};
}

/// Elements one layer of a sequence keeps for inference: the recurrent state and the
/// convolution's last K - 1 inputs.
inline double linear_mixer_cache(const Architecture& a) {
  const LinearMixerWidths m = linear_mixer_widths(a);
  return m.state + static_cast<double>(a.linear_conv_kernel - 1) * static_cast<double>(m.conv);
}

template <class Visitor>
[[gnu::always_inline]] inline void visit_linear_mixer(const LayerContext& c, std::int64_t count, Visitor& visit) {
  using detail::matmul;
  using detail::pointwise;
  const Architecture& a = c.a;
  const Section section = Section::linear_mixer;
  const double tokens = c.tokens, d = c.d, act = c.act;
  const LinearMixerWidths m = linear_mixer_widths(a);
  const auto conv = static_cast<double>(m.conv);
  const auto value = static_cast<double>(m.value);
  const auto kernel = static_cast<double>(a.linear_conv_kernel);
  const bool short_conv = a.linear_mixer == LinearMixer::short_conv;
  // LFM2's conv_bias: biases on both projections too.
  const bool projection_bias = short_conv && a.linear_conv_bias;
  // The output projection (saving its input of `width` channels), a post-norm where the
  // blocks have one, and the residual add that close every mixer.
  const auto close = [&](OpCost out, double width) {
    set_linear(out, tokens, width, d, act, false);
    out.saved_split = act * tokens * width;  // its input
    visit(out);
    if (a.norm_placement != NormPlacement::pre) {
      visit(c.norm(section, Op::attn_post_norm, count));
    }
    visit(c.residual(section, Op::attn_residual, count, a.parallel_block ? 2 : 1));
  };

  if (has_pre_norm(a.norm_placement)) visit(c.norm(section, Op::attn_norm, count));
  OpCost in = matmul(section, Op::linear_in_proj, count,
                     a.d_model * m.in_proj + (projection_bias ? m.in_proj : 0),
                     2 * tokens * d * static_cast<double>(m.in_proj),
                     projection_bias ? elementwise::bias * tokens * static_cast<double>(m.in_proj)
                                     : 0);
  in.params_split = in.params;
  set_linear(in, tokens, d, static_cast<double>(m.in_proj), act, true);
  in.saved_replicated = act * c.stream;  // its input
  visit(in);
  // Its SiLU; the short convolution has none, but its two gate products B x and C y
  // (and the bias add when there is one).
  const double conv_elementwise =
      (short_conv ? 2 * elementwise::gate_multiply : elementwise::silu) +
      (short_conv && a.linear_conv_bias ? elementwise::bias : 0);
  OpCost cv = matmul(section, Op::linear_conv, count,
                     m.conv * a.linear_conv_kernel + (a.linear_conv_bias ? m.conv : 0),
                     2 * tokens * conv * kernel, conv_elementwise * tokens * conv);
  cv.params_split = cv.params;
  cv.split = Split::tensor;
  cv.bytes = (short_conv ? 5 : 2) * act * tokens * conv;
  // Its input and the SiLU's; the short convolution: B, x, its input, C and its output.
  cv.saved_split = (short_conv ? 5 : 2) * act * tokens * conv;
  visit(cv);
  if (short_conv) {
    OpCost out = matmul(section, Op::linear_out_proj, count, a.d_model * a.d_model +
                            (projection_bias ? a.d_model : 0),
                        2 * tokens * d * d, projection_bias ? elementwise::bias * tokens * d : 0);
    out.params_split = a.d_model * a.d_model;
    close(out, d);
    return;
  }
  if (a.linear_mixer == LinearMixer::mamba) {
    // x_proj to the step size's rank and to B and C, then dt_proj back to every channel.
    const auto rank = static_cast<double>(a.linear_dt_rank);
    const double bc = rank + 2 * static_cast<double>(a.linear_key_dim);
    OpCost x = matmul(section, Op::linear_x_proj, count,
                      m.value * (a.linear_dt_rank + 2 * a.linear_key_dim),
                      2 * tokens * value * bc);
    x.params_split = m.value * (a.linear_dt_rank + 2 * a.linear_key_dim);
    set_linear(x, tokens, value, bc, act, false);
    x.saved_split = act * tokens * value;  // its input
    visit(x);
    OpCost dt = matmul(section, Op::linear_dt_proj, count,
                       a.linear_dt_rank * m.value + m.value, 2 * tokens * rank * value,
                       elementwise::bias * tokens * value);
    dt.params_split = dt.params;
    set_linear(dt, tokens, rank, value, act, true);
    dt.saved_replicated = act * tokens * rank;  // its input
    visit(dt);
  }
  OpCost scan = pointwise(section, Op::linear_scan, count, m.scan_params,
                          tokens * m.scan_flops_per_token);
  scan.params_split = scan.params;
  scan.split = Split::tensor;
  scan.bytes = act * tokens * (conv + value);
  scan.saved_split = act * tokens * (conv + value);  // its inputs and output
  visit(scan);
  // RMSNorm gated by SiLU(z): over one head's width (gated DeltaNet) or all of them;
  // Mamba-1 has the gate alone.
  const bool mamba1 = a.linear_mixer == LinearMixer::mamba;
  const std::int64_t norm_width =
      a.linear_mixer == LinearMixer::gated_deltanet ? a.linear_head_dim : m.value;
  // Jamba's norms on dt, B and C: weights of R, N and N, over R + 2 N values per token.
  const bool inner = a.linear_inner_norms;
  const std::int64_t inner_params =
      inner ? detail::norm_params(a, a.linear_dt_rank) +
                  2 * detail::norm_params(a, a.linear_key_dim)
            : 0;
  const double inner_normed =
      inner ? static_cast<double>(a.linear_dt_rank + 2 * a.linear_key_dim) : 0.0;
  OpCost norm = pointwise(section, Op::linear_norm, count,
                          mamba1 ? inner_params : detail::norm_params(a, norm_width),
                          ((mamba1 ? 0 : detail::norm_flops(a)) + elementwise::silu +
                           elementwise::gate_multiply) * tokens * value +
                              detail::norm_flops(a) * tokens * inner_normed);
  if (norm_width == m.value) norm.params_split = norm.params;
  norm.split = Split::tensor;
  norm.bytes = 3 * act * tokens * value;
  norm.saved_split = 2 * act * tokens * value;  // its input and the gate
  visit(norm);
  OpCost out = matmul(section, Op::linear_out_proj, count, m.value * a.d_model,
                      2 * tokens * value * d);
  out.params_split = out.params;
  close(out, value);
}

}  // namespace scalingperf
