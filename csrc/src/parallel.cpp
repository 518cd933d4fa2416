#include "scalingperf/parallel.hpp"

#include <sstream>

#include "checks.hpp"

namespace scalingperf {


namespace {
bool divides(detail::Refusal* r, const char* field, std::int64_t degree, const char* what,
             std::int64_t value) {
  if (value % degree == 0) return true;
  return detail::refused(r, field, degree, "it must divide ", what, value);
}

bool check(const LayoutLimits& model, Layout& l, detail::Refusal* r) {
  using detail::in_range;
  using detail::refused;
  constexpr std::int64_t max_degree = std::int64_t{1} << 20;
  if (!in_range(r, "tp", l.tp, 1, max_degree) || !in_range(r, "pp", l.pp, 1, model.n_layers) ||
      !in_range(r, "dp", l.dp, 1, max_degree) || !in_range(r, "ep", l.ep, 1, max_degree) ||
      !divides(r, "tp", l.tp, "n_heads", model.n_heads) ||
      !divides(r, "tp", l.tp, "n_kv_heads", model.n_kv_heads) ||
      !divides(r, "pp", l.pp, "n_layers", model.n_layers) ||
      !in_range(r, "world size tp*pp*dp", l.tp * l.pp * l.dp, 1, max_degree)) {
    return false;
  }
  if (l.ep > 1) {
    if (!model.moe) {
      return refused(r, "ep", l.ep,
                     "expert parallelism needs a model with routed experts");
    }
    if (!divides(r, "ep", l.ep, "n_experts", model.n_experts) ||
        !divides(r, "ep", l.ep, "dp (expert groups are carved out of data parallelism)", l.dp)) {
      return false;
    }
  }
  if (!in_range(r, "zero", l.zero, 0, 3)) return false;
  if (l.zero > 0 && l.dp == 1) {
    return refused(r, "zero", l.zero,
                   "ZeRO shards over data parallelism: it needs dp > 1");
  }
  if (l.microbatches == 0) l.microbatches = l.pp;
  if (!in_range(r, "microbatches", l.microbatches, 1, std::int64_t{1} << 24) ||
      !in_range(r, "interleave", l.interleave, 1, model.n_layers)) {
    return false;
  }
  if (l.interleave > 1) {
    if (l.pp == 1) {
      return refused(r, "interleave", l.interleave,
                     "an interleaved schedule needs pp > 1");
    }
    if (!divides(r, "pp * interleave", l.pp * l.interleave, "n_layers", model.n_layers)) {
      return false;
    }
  }
  return true;
}
}  // namespace

Layout resolve(const LayoutLimits& model, Layout l) {
  detail::Refusal refusal;
  if (!check(model, l, &refusal)) refusal.raise();
  return l;
}

bool resolve_in_place(const LayoutLimits& model, Layout& l, std::string* why) {
  detail::Refusal refusal;
  if (check(model, l, &refusal)) return true;
  if (why != nullptr) *why = refusal.message();
  return false;
}

Network network(const Hardware& hw, const Efficiency& e) {
  return {Link{1 / (hw.intra_node_bandwidth * e.network), hw.intra_node_latency},
          Link{1 / (hw.inter_node_bandwidth * e.network), hw.inter_node_latency},
          hw.devices_per_node};
}

Optimizer parse_optimizer(const std::string& name) {
  return detail::parse("optimizer", name, {Optimizer::adamw, Optimizer::adamw_bf16, Optimizer::sgd});
}

const char* name_of(Optimizer optimizer) {
  switch (optimizer) {
    case Optimizer::adamw: return "adamw";
    case Optimizer::adamw_bf16: return "adamw-bf16";
    case Optimizer::sgd: return "sgd";
  }
  return "?";
}

}  // namespace scalingperf
