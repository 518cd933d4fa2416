#include "scalingperf/parallel.hpp"

#include <algorithm>
#include <sstream>

#include "checks.hpp"

namespace scalingperf {


namespace {
bool divides(detail::Refusal* r, const char* field, std::int64_t degree, const char* what,
             std::int64_t value) {
  if (value % degree == 0) return true;
  return detail::refused(r, field, degree, "it must divide ", what, value);
}

/// The uneven split of a layout: from the embedding / loss rule, or the first and last
/// devices' layers as given; the devices between share the rest evenly.
bool split_stages(const LayoutLimits& model, Layout& l, bool rule, detail::Refusal* r) {
  using detail::refused;
  const std::int64_t layers = model.n_layers;
  if (rule) {
    if (l.first_stage_layers >= 0 || l.last_stage_layers >= 0 || l.middle_stage_layers >= 0) {
      return refused(r, "layers_per_stage", l.first_stage_layers,
                     "give the layers of the first and last stages, or a rule that counts "
                     "the embedding or the loss as a layer, not both");
    }
    // Each of the pp x v virtual stages takes k = (n_layers + e + l) / (pp v) slots; the
    // first gives one to the embedding, the last one to the loss.
    const std::int64_t ends = (l.embedding_in_split ? 1 : 0) + (l.loss_in_split ? 1 : 0);
    const std::int64_t stages = l.pp * l.interleave;
    if ((layers + ends) % stages != 0) {
      return refused(r, "pp * interleave", stages,
                     "counting the embedding or the loss as a layer (layers_per_stage), it "
                     "must divide the layers and the ends counted: ",
                     "", layers + ends);
    }
    const std::int64_t per_device = (layers + ends) / stages * l.interleave;
    const bool embedding = l.embedding_in_split, loss = l.loss_in_split;
    l.embedding_in_split = l.loss_in_split = false;  // resolved: the counts say it all
    if (l.pp == 1) {
      l.first_stage_layers = l.last_stage_layers = l.middle_stage_layers = -1;
      return true;  // one device holds everything: nothing to balance
    }
    l.first_stage_layers = per_device - (embedding ? 1 : 0);
    l.last_stage_layers = per_device - (loss ? 1 : 0);
    l.middle_stage_layers = per_device;
    return true;
  }
  if (l.pp < 2) {
    return refused(r, "layers_per_stage", l.first_stage_layers,
                   "uneven stages need pp >= 2");
  }
  if (l.first_stage_layers < 0 || l.last_stage_layers < 0 || l.first_stage_layers > layers ||
      l.last_stage_layers > layers || l.middle_stage_layers > layers ||
      l.first_stage_layers + l.last_stage_layers > layers) {
    return refused(r, "layers_per_stage", l.first_stage_layers,
                   "the first and last stages' layers must be >= 0 and sum to at most ",
                   "n_layers", layers);
  }
  const std::int64_t rest = layers - l.first_stage_layers - l.last_stage_layers;
  if (l.middle_stage_layers >= 0) {  // all three given: they must add up
    const std::int64_t sum = l.first_stage_layers + l.last_stage_layers +
                             (l.pp - 2) * l.middle_stage_layers;
    if (sum != layers || (l.pp > 2 && l.middle_stage_layers < 1)) {
      return refused(r, "layers_per_stage", sum,
                     "the stages' layers (the sum given) must add up to n_layers, at least one "
                     "on each stage between the first and the last: ",
                     "n_layers", layers);
    }
  }
  if (l.pp == 2) {
    if (rest != 0) {
      return refused(r, "layers_per_stage", l.first_stage_layers,
                     "with pp=2 the two stages' layers must sum to ", "n_layers", layers);
    }
    l.middle_stage_layers = 0;
    return true;
  }
  if (rest % (l.pp - 2) != 0 || rest / (l.pp - 2) < 1) {
    return refused(r, "layers_per_stage", l.first_stage_layers,
                   "the stages between the first and the last must hold the remaining layers "
                   "evenly, at least one each: pp - 2 must divide ",
                   "", rest);
  }
  l.middle_stage_layers = rest / (l.pp - 2);
  return true;
}

bool check(const LayoutLimits& model, Layout& l, detail::Refusal* r) {
  using detail::in_range;
  using detail::refused;
  constexpr std::int64_t max_degree = std::int64_t{1} << 20;
  if (!in_range(r, "tp", l.tp, 1, max_degree) || !in_range(r, "pp", l.pp, 1, model.n_layers) ||
      !in_range(r, "dp", l.dp, 1, max_degree) || !in_range(r, "ep", l.ep, 1, max_degree) ||
      !in_range(r, "cp", l.cp, 1, max_degree) ||
      !divides(r, "tp", l.tp, "n_heads", model.n_heads) ||
      !divides(r, "tp", l.tp, "n_kv_heads", model.n_kv_heads) ||
      !in_range(r, "tp*cp", l.tp * l.cp, 1, max_degree) ||
      !in_range(r, "world size tp*cp*pp*dp", l.tp * l.cp * l.pp * l.dp, 1, max_degree)) {
    return false;
  }
  if (!in_range(r, "etp", l.etp, 0, max_degree)) return false;
  if (l.etp > 0 && !model.moe) {
    return refused(r, "etp", l.etp, "expert-tensor parallelism needs a model with routed experts");
  }
  if (l.ep > 1) {
    if (!model.moe) {
      return refused(r, "ep", l.ep,
                     "expert parallelism needs a model with routed experts");
    }
    if (!divides(r, "ep", l.ep, "n_experts", model.n_experts)) return false;
  }
  // The expert layers regroup a stage's tp x cp x dp ranks (MoE parallel folding).
  if (l.ep > 1 || l.etp > 0) {
    const std::int64_t expert_ranks = l.ep * expert_tp(l);
    if ((l.tp * data_ranks(l)) % expert_ranks != 0) {
      return refused(r, l.ep > 1 ? "ep" : "etp", l.ep > 1 ? l.ep : l.etp,
                     "ep x etp must divide the ranks the expert layers regroup: tp x cp x dp=",
                     "", l.tp * data_ranks(l));
    }
  }
  if (!in_range(r, "zero", l.zero, 0, 3)) return false;
  if (l.zero > 0 && data_ranks(l) == 1) {
    return refused(r, "zero", l.zero,
                   "ZeRO shards over data (and context) parallelism: it needs dp x cp > 1");
  }
  if (!in_range(r, "shard", l.shard, 0, max_degree)) return false;
  if (l.shard > 0) {
    if (l.zero == 0) {
      return refused(r, "shard", l.shard,
                     "a sharding group needs a ZeRO stage to shard (zero >= 1)");
    }
    if (l.shard < 2 || data_ranks(l) % l.shard != 0) {
      return refused(r, "shard", l.shard,
                     "it must be at least 2 and divide the data-parallel ranks dp x cp=", "",
                     data_ranks(l));
    }
  }
  if (l.microbatches == 0) l.microbatches = l.pp;
  if (!in_range(r, "microbatches", l.microbatches, 1, std::int64_t{1} << 24) ||
      !in_range(r, "interleave", l.interleave, 1, model.n_layers)) {
    return false;
  }
  if (l.interleave > 1 && l.pp == 1) {
    return refused(r, "interleave", l.interleave, "an interleaved schedule needs pp > 1");
  }
  const bool rule = l.embedding_in_split || l.loss_in_split;
  const bool given = l.first_stage_layers >= 0 || l.last_stage_layers >= 0;
  if (!rule && !given) {
    l.middle_stage_layers = -1;
    return divides(r, "pp", l.pp, "n_layers", model.n_layers) &&
           (l.interleave == 1 ||
            divides(r, "pp * interleave", l.pp * l.interleave, "n_layers", model.n_layers));
  }
  return split_stages(model, l, rule, r);
}

bool check_workload_layout(const Workload& w, const Layout& l, detail::Refusal* r) {
  if (w.offload_layers > 0 && l.pp > 1) {
    return detail::refused(r, "offload_layers", w.offload_layers,
                           "Megatron-Core offloads activations only without pipeline "
                           "parallelism: it needs pp=1, not ", "pp", l.pp);
  }
  if (l.cp == 1 || w.seq_len % (2 * l.cp) == 0) return true;
  return detail::refused(r, "cp", l.cp,
                         "2 x cp must divide seq_len (each rank holds two equal chunks of a "
                         "sequence, for causal load balancing): ",
                         "seq_len", w.seq_len);
}
}  // namespace

void check_workload_layout(const Workload& work, const Layout& layout) {
  detail::Refusal refusal;
  if (!check_workload_layout(work, layout, &refusal)) refusal.raise();
}

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
  Network net{Link{1 / (hw.intra_node_bandwidth * e.network), hw.intra_node_latency},
              Link{1 / (hw.inter_node_bandwidth * e.network), hw.inter_node_latency},
              hw.devices_per_node, {}};
  // Strides beyond a node hold one rank per node; only those within one divide (every
  // estimate() builds this table).
  net.per_node_by_stride.fill(1);
  const std::int64_t within = std::min(hw.devices_per_node, Network::strides - 1);
  for (std::int64_t stride = 1; stride <= within; ++stride) {
    net.per_node_by_stride[static_cast<std::size_t>(stride)] =
        static_cast<double>(hw.devices_per_node / stride);
  }
  return net;
}

Optimizer parse_optimizer(const std::string& name) {
  return detail::parse("optimizer", name, {Optimizer::adamw, Optimizer::adamw_bf16, Optimizer::sgd,
                                           Optimizer::adamw_bf16_moments});
}

EpDispatcher parse_ep_dispatcher(const std::string& name) {
  return detail::parse("ep_dispatcher", name, {EpDispatcher::all_to_all, EpDispatcher::deepep});
}

const char* name_of(EpDispatcher dispatcher) {
  switch (dispatcher) {
    case EpDispatcher::all_to_all: return "all_to_all";
    case EpDispatcher::deepep: return "deepep";
  }
  return "?";
}

const char* name_of(Optimizer optimizer) {
  switch (optimizer) {
    case Optimizer::adamw: return "adamw";
    case Optimizer::adamw_bf16: return "adamw-bf16";
    case Optimizer::sgd: return "sgd";
    case Optimizer::adamw_bf16_moments: return "adamw-bf16-moments";
  }
  return "?";
}

}  // namespace scalingperf
