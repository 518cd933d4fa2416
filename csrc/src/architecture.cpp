#include "scalingperf/architecture.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "scalingperf/ops.hpp"
#include "scalingperf/workload.hpp"
#include "checks.hpp"

namespace scalingperf {

using detail::in_range;
using detail::parse;
using detail::refused;
using detail::refused_real;

namespace {

std::int64_t default_d_ff(const Architecture& a) {
  if (a.ffn == FfnKind::none) return 0;
  if (!is_gated(a.ffn)) return 4 * a.d_model;
  // Llama's rule (Touvron et al. 2023): 2/3 of 4 d, rounded up to a multiple of 256.
  const std::int64_t two_thirds = 8 * a.d_model / 3;
  return (two_thirds + 255) / 256 * 256;
}

bool layer_is_global(const Architecture& a, std::int64_t layer) {
  if (a.global_every > 0 && (layer + 1) % a.global_every == 0) return true;
  for (std::int64_t global : a.global_layers) {
    if (global == layer) return true;
  }
  return false;
}

/// Whether a layer is an FFN block alone (listed in ffn_layers).
bool layer_is_ffn_only(const Architecture& a, std::int64_t layer) {
  for (std::int64_t listed : a.ffn_layers) {
    if (listed == layer) return true;
  }
  return false;
}

bool layer_is_moe(const Architecture& a, std::int64_t layer) {
  if (layer < a.first_dense_layers || (layer + 1) % a.moe_every != 0) return false;
  for (std::int64_t dense : a.dense_layers) {
    if (dense == layer) return false;
  }
  return true;
}

}  // namespace

namespace {
/// Multi-head latent attention's dimensions; derives head_dim (the query-key width) and
/// n_kv_heads (every head has its own decompressed keys and values).
bool check_mla(Architecture& a, detail::Refusal* r) {
  if (!in_range(r, "kv_lora_rank", a.kv_lora_rank, 0, limits::d_ff)) return false;
  if (!is_mla(a)) {
    for (auto [field, value] : {std::pair{"q_lora_rank", a.q_lora_rank},
                                std::pair{"qk_nope_head_dim", a.qk_nope_head_dim},
                                std::pair{"qk_rope_head_dim", a.qk_rope_head_dim},
                                std::pair{"v_head_dim", a.v_head_dim}}) {
      if (value != 0) {
        return refused(r, field, value, "it applies to multi-head latent attention only; ",
                       "kv_lora_rank", a.kv_lora_rank, " (give kv_lora_rank >= 1)");
      }
    }
    return true;
  }
  if (!in_range(r, "q_lora_rank", a.q_lora_rank, 0, limits::d_ff) ||
      !in_range(r, "qk_nope_head_dim", a.qk_nope_head_dim, 0, limits::head_dim) ||
      !in_range(r, "qk_rope_head_dim", a.qk_rope_head_dim, 0, limits::head_dim)) {
    return false;
  }
  const std::int64_t qk = a.qk_nope_head_dim + a.qk_rope_head_dim;
  if (qk < 1) {
    return refused(r, "qk_nope_head_dim", a.qk_nope_head_dim,
                   "queries and keys need a width: it and ", "qk_rope_head_dim",
                   a.qk_rope_head_dim, " sum to 0");
  }
  if (a.v_head_dim == 0) a.v_head_dim = a.qk_nope_head_dim;
  if (!in_range(r, "v_head_dim", a.v_head_dim, 1, limits::head_dim)) return false;
  if (a.head_dim == 0) a.head_dim = qk;
  if (a.head_dim != qk) {
    return refused(r, "head_dim", a.head_dim,
                   "with multi-head latent attention it is qk_nope_head_dim + ",
                   "qk_rope_head_dim", a.qk_rope_head_dim, " (leave it unset)");
  }
  if (a.n_kv_heads != 0 && a.n_kv_heads != a.n_heads) {
    return refused(r, "n_kv_heads", a.n_kv_heads,
                   "multi-head latent attention decompresses keys for every head: it must be ",
                   "n_heads", a.n_heads, " (or unset)");
  }
  if (a.qk_norm != QkNorm::none || a.attention_output_gate) {
    return refused(r, "kv_lora_rank", a.kv_lora_rank,
                   "qk_norm and attention_output_gate apply to standard attention only (turn "
                   "them off, or give ", "kv_lora_rank", 0, ")");
  }
  return true;
}

bool layer_has_attention(const Architecture& a, std::int64_t layer) {
  if (a.linear_mixer == LinearMixer::none) return true;
  if (a.attention_every > 0 && (layer + 1) % a.attention_every == 0) return true;
  for (std::int64_t listed : a.attention_layers) {
    if (listed == layer) return true;
  }
  return false;
}

/// Which layers are FFN blocks alone (Nemotron-H); counts the layers with a mixer and
/// those with an FFN. A listed layer has no mixer, so no list of attention layers names it.
bool check_ffn_layers(Architecture& a, detail::Refusal* r) {
  a.n_mixer_layers = a.n_layers;
  a.n_ffn_layers = a.n_layers;
  if (a.ffn_layers.empty()) return true;
  if (a.ffn == FfnKind::none) {
    return refused(r, "ffn_layers", static_cast<std::int64_t>(a.ffn_layers.size()),
                   "FFN blocks need an FFN: give ffn other than 'none'");
  }
  std::int64_t listed = 0;
  for (std::int64_t layer = 0; layer < a.n_layers; ++layer) {
    listed += layer_is_ffn_only(a, layer) ? 1 : 0;
  }
  for (std::int64_t layer : a.ffn_layers) {
    if (!in_range(r, "ffn_layers", layer, 0, a.n_layers - 1)) return false;
  }
  for (std::int64_t layer : a.attention_layers) {
    if (layer_is_ffn_only(a, layer)) {
      return refused(r, "attention_layers", layer,
                     "this layer is an FFN block alone (in ffn_layers), with no mixer");
    }
  }
  a.n_ffn_layers = listed;
  a.n_mixer_layers = a.n_layers - listed;
  return true;
}

/// The linear mixer's dimensions and which layers keep attention; counts the others.
bool check_linear_mixer(Architecture& a, detail::Refusal* r) {
  if (!in_range(r, "attention_every", a.attention_every, 0, a.n_layers)) return false;
  for (std::int64_t layer : a.attention_layers) {
    if (!in_range(r, "attention_layers", layer, 0, a.n_layers - 1)) return false;
  }
  a.n_linear_layers = 0;
  if (a.linear_mixer == LinearMixer::none) {
    if (a.attention_every != 0 || !a.attention_layers.empty()) {
      return refused(r, "attention_every", a.attention_every,
                     "attention_every and attention_layers pick the attention layers of a "
                     "hybrid: give linear_mixer ('gated_deltanet' or 'mamba2')");
    }
    return true;
  }
  if (a.linear_mixer == LinearMixer::short_conv) {
    // LFM2's mixer has d_model channels and no heads or state: the sizes stay 0.
    for (const auto& [name, value] :
         {std::pair<const char*, std::int64_t>{"linear_heads", a.linear_heads},
          {"linear_head_dim", a.linear_head_dim}, {"linear_key_heads", a.linear_key_heads},
          {"linear_key_dim", a.linear_key_dim}, {"linear_dt_rank", a.linear_dt_rank}}) {
      if (value != 0) {
        return refused(r, name, value,
                       "linear_mixer 'short_conv' runs over the d_model channels, with no "
                       "heads or state: leave it 0");
      }
    }
    if (a.linear_inner_norms) {
      return refused(r, "linear_inner_norms", 1,
                     "it applies to linear_mixer 'mamba' only: leave it false");
    }
    if (!in_range(r, "linear_conv_kernel", a.linear_conv_kernel, 1, 1024)) return false;
    for (std::int64_t layer = 0; layer < a.n_layers; ++layer) {
      a.n_linear_layers += layer_has_attention(a, layer) || layer_is_ffn_only(a, layer) ? 0 : 1;
    }
    return true;
  }
  if (a.linear_mixer == LinearMixer::mamba) {
    // Mamba-1: every channel is its own head of width 1, with one B and C for all.
    if (a.linear_head_dim == 0) a.linear_head_dim = 1;
    if (a.linear_key_heads == 0) a.linear_key_heads = 1;
    if (!in_range(r, "linear_head_dim", a.linear_head_dim, 1, 1) ||
        !in_range(r, "linear_key_heads", a.linear_key_heads, 1, 1) ||
        !in_range(r, "linear_dt_rank", a.linear_dt_rank, 1, limits::d_model)) {
      return false;
    }
  } else if (a.linear_dt_rank != 0) {
    return refused(r, "linear_dt_rank", a.linear_dt_rank,
                   "it applies to linear_mixer 'mamba' only: leave it 0");
  } else if (a.linear_inner_norms) {
    return refused(r, "linear_inner_norms", 1,
                   "it applies to linear_mixer 'mamba' only: leave it false");
  }
  if (!in_range(r, "linear_heads", a.linear_heads, 1, limits::n_heads) ||
      !in_range(r, "linear_head_dim", a.linear_head_dim, 1, limits::head_dim) ||
      !in_range(r, "linear_key_heads", a.linear_key_heads, 1, a.linear_heads) ||
      !in_range(r, "linear_key_dim", a.linear_key_dim, 1, limits::head_dim) ||
      !in_range(r, "linear_conv_kernel", a.linear_conv_kernel, 1, 1024)) {
    return false;
  }
  if (a.linear_heads % a.linear_key_heads != 0) {
    return refused(r, "linear_key_heads", a.linear_key_heads, "it must divide ",
                   "linear_heads", a.linear_heads);
  }
  for (std::int64_t layer = 0; layer < a.n_layers; ++layer) {
    a.n_linear_layers += layer_has_attention(a, layer) || layer_is_ffn_only(a, layer) ? 0 : 1;
  }
  return true;
}

/// A bound above the parameter count: every layer given every weight any kind of layer
/// may have (both attention variants, the linear mixer, a dense MLP and a full MoE block,
/// six norms), each matrix with its bias and weights for three matrices per FFN, with
/// every table. Generous by design: it only decides whether the exact sum is needed.
double parameters_bound(const Architecture& a) {
  const auto d = static_cast<double>(a.d_model);
  const auto h = static_cast<double>(a.n_heads);
  const auto hkv = static_cast<double>(a.n_kv_heads);
  const auto dh = static_cast<double>(std::max(a.head_dim, a.global_head_dim));
  const auto q = static_cast<double>(a.q_lora_rank);
  const auto kv = static_cast<double>(a.kv_lora_rank + a.qk_rope_head_dim);
  const auto dv = static_cast<double>(std::max({a.v_head_dim, a.head_dim, a.global_head_dim}));
  const double attention = (d + 1) * (2 * h + 2 * hkv) * dh + (h * dv + 1) * d +
                           2 * (h + hkv) * dh + h;
  const double latent = (d + 1 + h * dh) * q + (d + 1 + h * (dh + dv)) * kv + 2 * (q + kv);
  double linear = 0;
  if (a.linear_mixer != LinearMixer::none) {
    const LinearMixerWidths m = linear_mixer_widths(a);
    const auto rank = static_cast<double>(a.linear_dt_rank);
    linear = static_cast<double>(m.in_proj) * d + 2 * (rank + 2 * static_cast<double>(a.linear_key_dim)) +
             static_cast<double>(m.value) * (2 * rank + 2 * static_cast<double>(a.linear_key_dim) + 1) +
             static_cast<double>(m.conv) * static_cast<double>(a.linear_conv_kernel + 1) +
             static_cast<double>(m.scan_params + m.value) * (d + 1) +
             2 * static_cast<double>(m.value);
  }
  auto ffn = [&](std::int64_t width) { return 3 * (d + 1) * static_cast<double>(width) + d; };
  const double experts = static_cast<double>(a.n_experts) * (ffn(a.d_ff_expert) + 2 * d + 2) +
                         static_cast<double>(a.n_shared_experts) * ffn(a.d_ff_shared) + d;
  const double layer = attention + latent + linear + ffn(a.d_ff) + experts + 12 * d;
  const auto v = static_cast<double>(a.vocab_size);
  // Each MTP module: a layer, its projection (2 d x d) and three norms.
  const auto mtp = static_cast<double>(a.mtp_layers);
  return static_cast<double>(a.n_layers) * layer + mtp * (layer + 2 * d * d + 6 * d) +
         (2 * d + 1) * v +
         static_cast<double>(a.max_position_embeddings) * d + 6 * d;
}

/// What layer `layer` is: its mixer and its FFN block, as the counts of resolve see them.
LayerKind layer_kind(const Architecture& a, std::int64_t layer) {
  LayerKind kind;
  const bool ffn_only = layer_is_ffn_only(a, layer);
  if (ffn_only) {
    kind.mixer = MixerKind::none;
  } else if (!layer_has_attention(a, layer)) {
    kind.mixer = MixerKind::linear;
  } else if (a.attention_window > 0 && !layer_is_global(a, layer)) {
    kind.mixer = MixerKind::window_attention;
  }
  const bool has_ffn = a.ffn != FfnKind::none && (a.ffn_layers.empty() || ffn_only);
  kind.ffn = !has_ffn                                          ? FfnBlock::none
             : a.n_experts > 1 && layer_is_moe(a, layer) ? FfnBlock::moe
                                                         : FfnBlock::dense;
  return kind;
}

/// The window and which layers are global; counts the windowed layers.
bool check_windows(Architecture& a, detail::Refusal* r) {
  if (!in_range(r, "attention_window", a.attention_window, 0, limits::max_position_embeddings) ||
      !in_range(r, "global_every", a.global_every, 0, a.n_layers)) {
    return false;
  }
  for (std::int64_t layer : a.global_layers) {
    if (!in_range(r, "global_layers", layer, 0, a.n_layers - 1)) return false;
  }
  a.n_window_layers = 0;
  if (a.attention_window == 0) {
    if (a.global_every != 0 || !a.global_layers.empty()) {
      return refused(r, "global_every", a.global_every,
                     "global layers need windowed ones: give ", "attention_window",
                     a.attention_window, " a window (>= 1)");
    }
    return true;
  }
  for (std::int64_t layer = 0; layer < a.n_layers; ++layer) {
    a.n_window_layers += layer_has_attention(a, layer) && !layer_is_global(a, layer) &&
                                 !layer_is_ffn_only(a, layer)
                             ? 1
                             : 0;
  }
  return true;
}

/// Every check of resolve, with the derivations between them; false at the first field
/// refused, recorded in `r` (see detail::Refusal: no message is built here).
bool check_and_derive(Architecture& a, detail::Refusal* r) {
  if (!in_range(r, "d_model", a.d_model, 1, limits::d_model) ||
      !in_range(r, "n_layers", a.n_layers, 1, limits::n_layers) ||
      !in_range(r, "n_heads", a.n_heads, 1, limits::n_heads)) {
    return false;
  }
  if (!check_mla(a, r)) return false;
  if (a.n_kv_heads == 0) a.n_kv_heads = a.n_heads;
  if (!in_range(r, "n_kv_heads", a.n_kv_heads, 1, a.n_heads)) return false;
  if (a.n_heads % a.n_kv_heads != 0) {
    return refused(r, "n_kv_heads", a.n_kv_heads, "it must divide ", "n_heads", a.n_heads);
  }
  if (a.head_dim == 0) {
    if (a.d_model % a.n_heads != 0) {
      return refused(r, "n_heads", a.n_heads,
                     "with head_dim implied as d_model / n_heads, n_heads must divide ",
                     "d_model", a.d_model, " (or pass head_dim)");
    }
    a.head_dim = a.d_model / a.n_heads;
  }
  if (!in_range(r, "head_dim", a.head_dim, 1, limits::head_dim) ||
      !in_range(r, "global_head_dim", a.global_head_dim, 0, limits::head_dim)) {
    return false;
  }
  if (a.d_ff == 0) a.d_ff = default_d_ff(a);
  if (a.ffn == FfnKind::none) {
    // Layers of one mixer each (Mamba's blocks): no MLP, so no width and no experts.
    if (a.d_ff != 0) {
      return refused(r, "d_ff", a.d_ff, "ffn 'none' has no MLP: leave d_ff unset");
    }
    if (a.n_experts > 1) {
      return refused(r, "n_experts", a.n_experts,
                     "ffn 'none' has no MLP, so no experts: give n_experts 0 or another ffn");
    }
  } else if (!in_range(r, "d_ff", a.d_ff, 1, limits::d_ff)) {
    return false;
  }
  if (!in_range(r, "vocab_size", a.vocab_size, 1, limits::vocab_size) ||
      !in_range(r, "max_position_embeddings", a.max_position_embeddings, 1,
                limits::max_position_embeddings) ||
      !in_range(r, "n_experts", a.n_experts, 0, limits::n_experts) ||
      !in_range(r, "top_k", a.top_k, 1, a.n_experts > 1 ? a.n_experts : 1) ||
      !in_range(r, "n_shared_experts", a.n_shared_experts, 0,
                a.n_experts > 1 ? limits::n_shared_experts : 0)) {
    return false;
  }
  if (a.d_ff_expert == 0) a.d_ff_expert = a.d_ff;
  if (a.d_ff_shared == 0) a.d_ff_shared = a.d_ff_expert;
  if (a.ffn != FfnKind::none &&  // no MLP: the widths stay 0
      (!in_range(r, "d_ff_expert", a.d_ff_expert, 1, limits::d_ff) ||
       !in_range(r, "d_ff_shared", a.d_ff_shared, 1, limits::d_ff))) {
    return false;
  }
  if (!in_range(r, "moe_every", a.moe_every, 1, a.n_layers) ||
      !in_range(r, "first_dense_layers", a.first_dense_layers, 0, a.n_layers)) {
    return false;
  }
  for (std::int64_t layer : a.dense_layers) {
    if (!in_range(r, "dense_layers", layer, 0, a.n_layers - 1)) return false;
  }
  if (!(std::isfinite(a.capacity_factor) && a.capacity_factor >= 0 &&
        a.capacity_factor <= limits::capacity_factor)) {
    return refused_real(r, "capacity_factor", a.capacity_factor,
                        "allowed range is [0, 1024] (0: dropless routing)");
  }
  if (!check_ffn_layers(a, r) || !check_linear_mixer(a, r) || !check_windows(a, r)) {
    return false;
  }
  // xIELU's two learned scalars are counted once per dense MLP; experts of it are not
  // modelled (no family has them).
  if (a.ffn == FfnKind::xielu && a.n_experts > 1) {
    return refused(r, "n_experts", a.n_experts,
                   "ffn 'xielu' (learned scalars per MLP) is modelled for dense MLPs only: "
                   "give n_experts 0 or another ffn");
  }
  if (!in_range(r, "activation_saves", a.activation_saves, 0, 16)) return false;
  if (a.moe_post_norm && a.norm_placement != NormPlacement::pre) {
    return refused(r, "moe_post_norm", 1,
                   "with norm_placement other than 'pre' the MoE block already has a norm "
                   "after it");
  }
  if (a.last_out_bias &&
      (a.out_bias || a.linear_mixer != LinearMixer::none || a.attention_window > 0)) {
    return refused(r, "last_out_bias", 1,
                   "a bias on the last layer's attention output alone needs out_bias false "
                   "(every layer's then has one), linear_mixer 'none' and attention_window 0 "
                   "(full attention in every layer)");
  }
  if (a.sub_norms && a.n_experts > 1) {
    return refused(r, "sub_norms", 1,
                   "norms inside the attention and MLP are modelled for dense MLPs only: "
                   "give n_experts 0");
  }
  if (a.window_kv_heads != 0 || a.window_sinks) {
    if (a.attention_window == 0 || is_mla(a)) {
      return refused(r, a.window_sinks ? "window_sinks" : "window_kv_heads",
                     a.window_sinks ? 1 : a.window_kv_heads,
                     "it applies to the windowed layers of standard attention: give "
                     "attention_window >= 1 and no kv_lora_rank, or leave it unset");
    }
    if (!in_range(r, "window_kv_heads", a.window_kv_heads, 0, a.n_heads)) return false;
    if (a.window_kv_heads > 0 && a.n_heads % a.window_kv_heads != 0) {
      return refused(r, "window_kv_heads", a.window_kv_heads, "it must divide ", "n_heads",
                     a.n_heads);
    }
    if (a.window_sinks && a.attention_sinks) {
      return refused(r, "window_sinks", 1,
                     "attention_sinks already puts sinks on every layer: give one of them");
    }
  }
  if (a.global_head_dim > 0 && (a.attention_window == 0 || is_mla(a))) {
    return refused(r, "global_head_dim", a.global_head_dim,
                   "a head width of its own for the full-attention layers needs windowed "
                   "ones (attention_window >= 1) and standard attention: leave it 0");
  }
  if (a.attention_head_gate && (a.attention_output_gate || is_mla(a))) {
    return refused(r, "attention_head_gate", 1,
                   "a gate per head is modelled on standard attention without "
                   "attention_output_gate (a gate per channel): give one of them");
  }
  if (a.attention_gate_bias && !a.attention_output_gate) {
    return refused(r, "attention_gate_bias", 1,
                   "a bias on the attention output gate needs attention_output_gate");
  }
  if (a.norm_placement == NormPlacement::post_residual && a.parallel_block) {
    return refused(r, "parallel_block", 1,
                   "a parallel block shares one norm before its sub-layers; norm_placement "
                   "'post_residual' puts them after the residual adds: give one or the "
                   "other");
  }
  a.n_moe_layers = 0;
  if (a.n_experts > 1) {
    for (std::int64_t layer = 0; layer < a.n_layers; ++layer) {
      const bool has_ffn = a.ffn_layers.empty() || layer_is_ffn_only(a, layer);
      a.n_moe_layers += has_ffn && layer_is_moe(a, layer) ? 1 : 0;
    }
  }

  if (!in_range(r, "mtp_layers", a.mtp_layers, 0, limits::mtp_layers)) return false;
  a.mtp_kind = a.mtp_layers > 0 ? layer_kind(a, a.n_layers - 1) : LayerKind{};

  // Summed in floating point, so that an absurd shape is refused before any 64-bit
  // parameter total could wrap around. A sweep resolves every point: the exact sum over
  // the op list runs only when a quick bound above it (parameters_bound) is over the
  // limit, so the decision is the same.
  if (parameters_bound(a) <= limits::total_params) return true;
  double total = 0;
  for_each_op(a, Workload{}, [&](const OpCost& op) {
    total += static_cast<double>(op.count) * static_cast<double>(op.params);
  });
  if (total > limits::total_params) {
    return refused_real(r, "parameters", total, "this shape has ", "", total,
                        " parameters; at most 1e+15 are supported");
  }
  return true;
}
}  // namespace

Architecture resolve(Architecture a) {
  detail::Refusal refusal;
  if (!check_and_derive(a, &refusal)) refusal.raise();
  return a;
}

bool resolve_in_place(Architecture& a, std::string* why) {
  detail::Refusal refusal;
  if (check_and_derive(a, &refusal)) return true;
  if (why != nullptr) *why = refusal.message();
  return false;
}

FfnKind parse_ffn_kind(const std::string& name) {
  return parse("ffn", name, {FfnKind::gelu, FfnKind::relu, FfnKind::swiglu, FfnKind::geglu,
                             FfnKind::xielu, FfnKind::none, FfnKind::reglu});
}
PositionKind parse_position_kind(const std::string& name) {
  return parse("position", name,
               {PositionKind::learned, PositionKind::rotary, PositionKind::none});
}
NormKind parse_norm_kind(const std::string& name) {
  return parse("norm", name, {NormKind::layernorm, NormKind::rmsnorm,
                               NormKind::layernorm_nobias, NormKind::weightless});
}
NormPlacement parse_norm_placement(const std::string& name) {
  return parse("norm_placement", name,
               {NormPlacement::pre, NormPlacement::sandwich, NormPlacement::post,
                NormPlacement::post_residual});
}
QkNorm parse_qk_norm(const std::string& name) {
  return parse("qk_norm", name, {QkNorm::none, QkNorm::head, QkNorm::full});
}
LinearMixer parse_linear_mixer(const std::string& name) {
  return parse("linear_mixer", name,
               {LinearMixer::none, LinearMixer::gated_deltanet, LinearMixer::mamba2,
                LinearMixer::mamba, LinearMixer::short_conv});
}
WindowKind parse_window_kind(const std::string& name) {
  return parse("window_kind", name, {WindowKind::sliding, WindowKind::chunked});
}

const char* name_of(FfnKind kind) {
  switch (kind) {
    case FfnKind::gelu: return "gelu";
    case FfnKind::relu: return "relu";
    case FfnKind::swiglu: return "swiglu";
    case FfnKind::geglu: return "geglu";
    case FfnKind::xielu: return "xielu";
    case FfnKind::reglu: return "reglu";
    case FfnKind::none: return "none";
  }
  return "?";
}
const char* name_of(PositionKind kind) {
  switch (kind) {
    case PositionKind::learned: return "learned";
    case PositionKind::rotary: return "rotary";
    case PositionKind::none: return "none";
  }
  return "?";
}
const char* name_of(NormKind kind) {
  switch (kind) {
    case NormKind::layernorm: return "layernorm";
    case NormKind::rmsnorm: return "rmsnorm";
    case NormKind::layernorm_nobias: return "layernorm_nobias";
    case NormKind::weightless: return "weightless";
  }
  return "?";
}
const char* name_of(NormPlacement placement) {
  switch (placement) {
    case NormPlacement::pre: return "pre";
    case NormPlacement::sandwich: return "sandwich";
    case NormPlacement::post: return "post";
    case NormPlacement::post_residual: return "post_residual";
  }
  return "?";
}
const char* name_of(QkNorm qk_norm) {
  switch (qk_norm) {
    case QkNorm::none: return "none";
    case QkNorm::head: return "head";
    case QkNorm::full: return "full";
  }
  return "?";
}
const char* name_of(LinearMixer mixer) {
  switch (mixer) {
    case LinearMixer::none: return "none";
    case LinearMixer::gated_deltanet: return "gated_deltanet";
    case LinearMixer::mamba2: return "mamba2";
    case LinearMixer::mamba: return "mamba";
    case LinearMixer::short_conv: return "short_conv";
  }
  return "?";
}
const char* name_of(WindowKind kind) {
  return kind == WindowKind::sliding ? "sliding" : "chunked";
}

}  // namespace scalingperf
