#pragma once
/// What one training step feeds the model: micro-batch, sequence length, recomputation.

#include <cstdint>
#include <string>

#include "scalingperf/architecture.hpp"

namespace scalingperf {

/// Activation recomputation (Korthikanti et al. 2022): none; selective recomputes the
/// attention core (scores, softmax, attention x V); full recomputes every layer's forward.
enum class Recompute : std::uint8_t { none, selective, full };

/// One micro-batch of one training step.
struct Workload {
  std::int64_t batch = 1;
  std::int64_t seq_len = 1;
  Recompute recompute = Recompute::none;
};

namespace limits {
constexpr std::int64_t batch = std::int64_t{1} << 24;
constexpr std::int64_t seq_len = std::int64_t{1} << 24;
}  // namespace limits

/// Checks batch and sequence length against the architecture; throws std::invalid_argument.
void validate(const Architecture& arch, const Workload& work);

Recompute parse_recompute(const std::string& name);
const char* name_of(Recompute recompute);

}  // namespace scalingperf
