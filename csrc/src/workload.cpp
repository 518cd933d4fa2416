#include "scalingperf/workload.hpp"

#include <sstream>

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
