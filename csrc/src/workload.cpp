#include "scalingperf/workload.hpp"

#include <sstream>
#include <utility>

#include "checks.hpp"

namespace scalingperf {

using detail::parse;

namespace {
bool check(const Architecture& arch, const Workload& work, detail::Refusal* r) {
  if (!detail::in_range(r, "batch", work.batch, 1, limits::batch) ||
      !detail::in_range(r, "seq_len", work.seq_len, 1, limits::seq_len)) {
    return false;
  }
  if (work.recompute_every != 0) {
    constexpr std::int64_t most = std::int64_t{1} << 20;
    if (!detail::in_range(r, "recompute_every", work.recompute_every, 1, most)) {
      return false;
    }
    if (work.recompute != Recompute::none) {
      return detail::refused(r, "recompute_every", work.recompute_every,
                             "it recomputes whole layers and leaves the others saving "
                             "everything: it needs recompute='none'");
    }
  }
  if (work.offload_layers != 0) {
    if (work.offload_layers < 1 || work.offload_layers >= arch.n_layers) {
      return detail::refused(r, "offload_layers", work.offload_layers,
                             "Megatron-Core offloads fewer layers than the model has: allowed "
                             "range is [1, n_layers - 1] (0: off) with ",
                             "n_layers", arch.n_layers);
    }
    if (work.recompute != Recompute::none || work.recompute_every != 0) {
      return detail::refused(r, "offload_layers", work.offload_layers,
                             "Megatron-Core offloads activations only without recomputation: "
                             "it needs recompute='none' and no recompute_every");
    }
  }
  // The modules are read under recompute selective only (a sweep's other rows ignore them).
  if (work.recompute_modules == 0 || work.recompute_modules > recompute_module::all) {
    return detail::in_range(r, "recompute_modules", work.recompute_modules, 1,
                            recompute_module::all);
  }
  if (arch.position == PositionKind::learned && work.seq_len > arch.max_position_embeddings) {
    return detail::refused(r, "seq_len", work.seq_len, "a learned position table has ",
                           "max_position_embeddings", arch.max_position_embeddings, " rows");
  }
  return true;
}
}  // namespace

void validate(const Architecture& arch, const Workload& work) {
  detail::Refusal refusal;
  if (!check(arch, work, &refusal)) refusal.raise();
}

bool is_valid(const Architecture& arch, const Workload& work, std::string* why) {
  detail::Refusal refusal;
  if (check(arch, work, &refusal)) return true;
  if (why != nullptr) *why = refusal.message();
  return false;
}

namespace {
constexpr std::pair<const char*, std::uint8_t> module_names[] = {
    {"core_attn", recompute_module::core_attn}, {"layernorm", recompute_module::layernorm},
    {"moe_act", recompute_module::moe_act},     {"mla_up_proj", recompute_module::mla_up_proj},
    {"mlp", recompute_module::mlp},             {"moe", recompute_module::moe},
    {"shared_experts", recompute_module::shared_experts}};
}  // namespace

std::uint8_t parse_recompute_modules(const std::vector<std::string>& names) {
  std::uint8_t bits = 0;
  for (const std::string& name : names) {
    std::uint8_t bit = 0;
    std::string allowed = "allowed values are";
    for (const auto& [known, value] : module_names) {
      if (name == known) bit = value;
      allowed += std::string(" '") + known + "'";
    }
    if (bit == 0) detail::reject("recompute_modules", "'" + name + "'", allowed);
    bits |= bit;
  }
  return bits;
}

std::vector<std::string> recompute_module_names() {
  std::vector<std::string> out;
  for (const auto& [name, bit] : module_names) out.emplace_back(name);
  return out;
}

Recompute parse_recompute(const std::string& name) {
  return parse("recompute", name,
               {Recompute::none, Recompute::selective, Recompute::full, Recompute::per_op});
}
DType parse_dtype(const std::string& name) {
  return parse("dtype", name, {DType::bf16, DType::fp16, DType::fp32, DType::tf32, DType::fp8, DType::mxfp8,
                               DType::nvfp4});
}
Implementation parse_implementation(const std::string& name) {
  return parse("implementation", name, {Implementation::megatron, Implementation::huggingface});
}
const char* name_of(DType dtype) {
  switch (dtype) {
    case DType::fp32: return "fp32";
    case DType::tf32: return "tf32";
    case DType::bf16: return "bf16";
    case DType::fp16: return "fp16";
    case DType::fp8: return "fp8";
    case DType::mxfp8: return "mxfp8";
    case DType::nvfp4: return "nvfp4";
  }
  return "?";
}
const char* name_of(Implementation implementation) {
  return implementation == Implementation::megatron ? "megatron" : "huggingface";
}
const char* name_of(Recompute recompute) {
  switch (recompute) {
    case Recompute::none: return "none";
    case Recompute::selective: return "selective";
    case Recompute::full: return "full";
    case Recompute::per_op: return "per_op";
  }
  return "?";
}

}  // namespace scalingperf
