#include "scalingperf/architecture.hpp"

#include <cmath>
#include <sstream>

#include "scalingperf/ops.hpp"
#include "scalingperf/workload.hpp"
#include "checks.hpp"

namespace scalingperf {

using detail::check_range;
using detail::parse;
using detail::reject;

namespace {

std::int64_t default_d_ff(const Architecture& a) {
  if (!is_gated(a.ffn)) return 4 * a.d_model;
  // Llama's rule (Touvron et al. 2023): 2/3 of 4 d, rounded up to a multiple of 256.
  const std::int64_t two_thirds = 8 * a.d_model / 3;
  return (two_thirds + 255) / 256 * 256;
}

bool layer_is_moe(const Architecture& a, std::int64_t layer) {
  if (layer < a.first_dense_layers || (layer + 1) % a.moe_every != 0) return false;
  for (std::int64_t dense : a.dense_layers) {
    if (dense == layer) return false;
  }
  return true;
}

}  // namespace

Architecture resolve(Architecture a) {
  check_range("d_model", a.d_model, 1, limits::d_model);
  check_range("n_layers", a.n_layers, 1, limits::n_layers);
  check_range("n_heads", a.n_heads, 1, limits::n_heads);
  if (a.n_kv_heads == 0) a.n_kv_heads = a.n_heads;
  check_range("n_kv_heads", a.n_kv_heads, 1, a.n_heads);
  if (a.n_heads % a.n_kv_heads != 0) {
    std::ostringstream allowed;
    allowed << "it must divide n_heads=" << a.n_heads;
    reject("n_kv_heads", a.n_kv_heads, allowed.str());
  }
  if (a.head_dim == 0) {
    if (a.d_model % a.n_heads != 0) {
      std::ostringstream allowed;
      allowed << "with head_dim implied as d_model / n_heads, n_heads must divide d_model="
              << a.d_model << " (or pass head_dim)";
      reject("n_heads", a.n_heads, allowed.str());
    }
    a.head_dim = a.d_model / a.n_heads;
  }
  check_range("head_dim", a.head_dim, 1, limits::head_dim);
  if (a.d_ff == 0) a.d_ff = default_d_ff(a);
  check_range("d_ff", a.d_ff, 1, limits::d_ff);
  check_range("vocab_size", a.vocab_size, 1, limits::vocab_size);
  check_range("max_position_embeddings", a.max_position_embeddings, 1,
              limits::max_position_embeddings);

  check_range("n_experts", a.n_experts, 0, limits::n_experts);
  check_range("top_k", a.top_k, 1, a.n_experts > 1 ? a.n_experts : 1);
  check_range("n_shared_experts", a.n_shared_experts, 0,
              a.n_experts > 1 ? limits::n_shared_experts : 0);
  if (a.d_ff_expert == 0) a.d_ff_expert = a.d_ff;
  check_range("d_ff_expert", a.d_ff_expert, 1, limits::d_ff);
  if (a.d_ff_shared == 0) a.d_ff_shared = a.d_ff_expert;
  check_range("d_ff_shared", a.d_ff_shared, 1, limits::d_ff);
  check_range("moe_every", a.moe_every, 1, a.n_layers);
  check_range("first_dense_layers", a.first_dense_layers, 0, a.n_layers);
  for (std::int64_t layer : a.dense_layers) check_range("dense_layers", layer, 0, a.n_layers - 1);
  if (!(std::isfinite(a.capacity_factor) && a.capacity_factor >= 0 &&
        a.capacity_factor <= limits::capacity_factor)) {
    std::ostringstream allowed;
    allowed << "allowed range is [0, " << limits::capacity_factor
            << "] (0: dropless routing)";
    reject("capacity_factor", a.capacity_factor, allowed.str());
  }
  a.n_moe_layers = 0;
  if (a.n_experts > 1) {
    for (std::int64_t layer = 0; layer < a.n_layers; ++layer) {
      a.n_moe_layers += layer_is_moe(a, layer) ? 1 : 0;
    }
  }

  // Summed in floating point, so that an absurd shape is refused before any 64-bit
  // parameter total could wrap around.
  double total = 0;
  for_each_op(a, Workload{}, [&](const OpCost& op) {
    total += static_cast<double>(op.count) * static_cast<double>(op.params);
  });
  if (total > limits::total_params) {
    std::ostringstream allowed;
    allowed << "this shape has " << total << " parameters; at most " << limits::total_params
            << " are supported";
    reject("parameters", total, allowed.str());
  }
  return a;
}

FfnKind parse_ffn_kind(const std::string& name) {
  return parse("ffn", name, {FfnKind::gelu, FfnKind::relu, FfnKind::swiglu, FfnKind::geglu});
}
PositionKind parse_position_kind(const std::string& name) {
  return parse("position", name,
               {PositionKind::learned, PositionKind::rotary, PositionKind::none});
}
NormKind parse_norm_kind(const std::string& name) {
  return parse("norm", name, {NormKind::layernorm, NormKind::rmsnorm});
}

const char* name_of(FfnKind kind) {
  switch (kind) {
    case FfnKind::gelu: return "gelu";
    case FfnKind::relu: return "relu";
    case FfnKind::swiglu: return "swiglu";
    case FfnKind::geglu: return "geglu";
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
  return kind == NormKind::layernorm ? "layernorm" : "rmsnorm";
}

}  // namespace scalingperf
