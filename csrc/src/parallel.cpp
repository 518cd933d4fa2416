#include "scalingperf/parallel.hpp"

#include <sstream>

#include "checks.hpp"

namespace scalingperf {

using detail::check_range;
using detail::reject;

namespace {
[[noreturn]] __attribute__((noinline, cold)) void reject_divides(const char* field,
                                                                 std::int64_t degree,
                                                                 const char* what,
                                                                 std::int64_t value) {
  std::ostringstream allowed;
  allowed << "it must divide " << what << "=" << value;
  reject(field, degree, allowed.str());
}

// Inlined: a sweep resolves every layout against every model; the message is built only
// on failure.
inline void require_divides(const char* field, std::int64_t degree, const char* what,
                            std::int64_t value) {
  if (value % degree != 0) reject_divides(field, degree, what, value);
}
}  // namespace

Layout resolve(const LayoutLimits& model, Layout l) {
  constexpr std::int64_t max_degree = std::int64_t{1} << 20;
  check_range("tp", l.tp, 1, max_degree);
  check_range("pp", l.pp, 1, model.n_layers);
  check_range("dp", l.dp, 1, max_degree);
  check_range("ep", l.ep, 1, max_degree);
  require_divides("tp", l.tp, "n_heads", model.n_heads);
  require_divides("tp", l.tp, "n_kv_heads", model.n_kv_heads);
  require_divides("pp", l.pp, "n_layers", model.n_layers);
  check_range("world size tp*pp*dp", l.tp * l.pp * l.dp, 1, max_degree);
  if (l.ep > 1) {
    if (!model.moe) reject("ep", l.ep, "expert parallelism needs a model with routed experts");
    require_divides("ep", l.ep, "n_experts", model.n_experts);
    require_divides("ep", l.ep, "dp (expert groups are carved out of data parallelism)", l.dp);
  }
  check_range("zero", l.zero, 0, 3);
  if (l.zero > 0 && l.dp == 1) reject("zero", l.zero, "ZeRO shards over data parallelism: it needs dp > 1");
  if (l.microbatches == 0) l.microbatches = l.pp;
  check_range("microbatches", l.microbatches, 1, std::int64_t{1} << 24);
  check_range("interleave", l.interleave, 1, model.n_layers);
  if (l.interleave > 1) {
    if (l.pp == 1) reject("interleave", l.interleave, "an interleaved schedule needs pp > 1");
    require_divides("pp * interleave", l.pp * l.interleave, "n_layers", model.n_layers);
  }
  return l;
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
