#pragma once
/// The result columns of a sweep: one list, from which the Column enum, the names, the
/// integer flags, a whole row and a single column's value are all generated.

#include <cstdint>
#include <string>

#include "scalingperf/architecture.hpp"
#include "scalingperf/grid.hpp"
#include "scalingperf/parallel.hpp"
#include "scalingperf/training.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// What a row is computed from.
struct RowInputs {
  const Grid& grid;
  const Architecture& arch;
  const Workload& work;
  const Layout& layout;
  const TrainingReport& report;
};

/// Tokens a FLOP budget buys: budget / (executed FLOPs per token); 0 without a budget.
inline double tokens_at_budget(const Grid& g, const TrainingReport& r) {
  return g.compute > 0 ? g.compute / (r.flops_per_step / r.time.tokens_per_step) : 0;
}

// X(name, is_integer, value): `value` is an expression of `a` (Architecture), `w`
// (Workload) and `l` (Layout) for the configuration columns, which come first (as
// resolved: derived dimensions filled in), and also of `g` (Grid) and `r`
// (TrainingReport) for the costs.
#define SCALINGPERF_CONFIGURATION_COLUMNS(X)                   \
  X(d_model, true, a.d_model)                                  \
  X(n_layers, true, a.n_layers)                                \
  X(n_heads, true, a.n_heads)                                  \
  X(n_kv_heads, true, a.n_kv_heads)                            \
  X(head_dim, true, a.head_dim)                                \
  X(d_ff, true, a.d_ff)                                        \
  X(ffn, true, static_cast<int>(a.ffn))                        \
  X(n_experts, true, a.n_experts)                              \
  X(top_k, true, a.top_k)                                      \
  X(n_shared_experts, true, a.n_shared_experts)                \
  X(d_ff_expert, true, a.d_ff_expert)                          \
  X(attention_window, true, a.attention_window)                \
  X(global_every, true, a.global_every)                        \
  X(vocab_size, true, a.vocab_size)                            \
  X(seq_len, true, w.seq_len)                                  \
  X(batch, true, w.batch)                                      \
  X(recompute, true, static_cast<int>(w.recompute))            \
  X(tp, true, l.tp)                                            \
  X(cp, true, l.cp)                                            \
  X(pp, true, l.pp)                                            \
  X(dp, true, l.dp)                                            \
  X(ep, true, l.ep)                                            \
  X(zero, true, l.zero)                                        \
  X(microbatches, true, l.microbatches)

#define SCALINGPERF_COST_COLUMNS(X)                                                     \
  X(params_total, true, r.totals.params.total)                                          \
  X(params_embedding, true, r.totals.params.embedding)                                  \
  X(params_non_embedding, true, r.totals.params.non_embedding)                          \
  X(params_active, true, r.totals.params.active)                                        \
  X(flops_forward, false, r.totals.flops.forward)                                       \
  X(flops_backward, false, r.totals.flops.backward)                                     \
  X(flops_forward_causal, false, r.totals.flops.forward_causal)                         \
  X(flops_model, false, r.totals.flops.model)                                           \
  X(flops_hardware, false, r.totals.flops.hardware)                                     \
  X(flops_per_token, false, r.totals.flops.per_token)                                   \
  X(flops_per_step, false, r.flops_per_step)                                            \
  X(memory_weights, false, r.memory.weights)                                            \
  X(memory_gradients, false, r.memory.gradients)                                        \
  X(memory_optimizer, false, r.memory.optimizer)                                        \
  X(memory_activations, false, r.memory.activations)                                    \
  X(memory_activations_in_flight, false, r.memory.activations_in_flight)                \
  X(memory_per_gpu, false, r.memory.per_gpu)                                            \
  X(fits, false, r.memory.fits ? 1.0 : 0.0)                                             \
  X(step_time, false, r.time.step)                                                      \
  X(tokens_per_s, false, r.time.tokens_per_s)                                           \
  X(mfu, false, r.mfu)                                                                  \
  X(hfu, false, r.hfu)                                                                  \
  X(tp_efficiency, false, r.tp_efficiency)                                              \
  X(pipeline_bubble, false, r.pipeline_bubble)                                          \
  X(devices, true, r.devices)                                                           \
  X(aspect_ratio, false, static_cast<double>(a.d_model) / static_cast<double>(a.n_layers)) \
  X(tokens_at_budget, false, tokens_at_budget(g, r))                                    \
  X(train_days, false, tokens_at_budget(g, r) / r.time.tokens_per_s / 86400)

#define SCALINGPERF_COLUMN_NAME(name, integer, value) name,
/// Result columns of a sweep row, in order.
enum class Column : std::uint8_t {
  SCALINGPERF_CONFIGURATION_COLUMNS(SCALINGPERF_COLUMN_NAME)
  SCALINGPERF_COST_COLUMNS(SCALINGPERF_COLUMN_NAME)
};
#undef SCALINGPERF_COLUMN_NAME

constexpr int column_count = static_cast<int>(Column::train_days) + 1;
/// The configuration columns come first: a sweep may leave them out and decode them from
/// the rows' indices when they are asked for (decode_configurations).
constexpr int configuration_columns = static_cast<int>(Column::microbatches) + 1;

const char* name_of(Column column);
/// Columns of whole numbers (sizes, degrees, counts, enum indices): stored as int64.
bool is_integer(Column column);
/// The column's index; throws std::invalid_argument naming the known columns.
int parse_column(const std::string& name);

/// The configuration columns of one row.
inline void fill_configuration(const Architecture& a, const Workload& w, const Layout& l,
                               double* row) {
#define SCALINGPERF_SET(name, integer, value) \
  row[static_cast<int>(Column::name)] = static_cast<double>(value);
  SCALINGPERF_CONFIGURATION_COLUMNS(SCALINGPERF_SET)
}

/// The cost columns of one row.
inline void fill_costs(const RowInputs& in, double* row) {
  const Grid& g = in.grid;
  const Architecture& a = in.arch;
  const TrainingReport& r = in.report;
  SCALINGPERF_COST_COLUMNS(SCALINGPERF_SET)
#undef SCALINGPERF_SET
}

/// All columns of one row.
inline void fill_row(const RowInputs& in, double* row) {
  fill_configuration(in.arch, in.work, in.layout, row);
  fill_costs(in, row);
}

/// One column of a row: for reductions and bounds that read a few columns.
inline double column_value(const RowInputs& in, int column) {
  [[maybe_unused]] const Grid& g = in.grid;
  [[maybe_unused]] const Architecture& a = in.arch;
  [[maybe_unused]] const Workload& w = in.work;
  [[maybe_unused]] const Layout& l = in.layout;
  [[maybe_unused]] const TrainingReport& r = in.report;
#define SCALINGPERF_CASE(name, integer, value) \
  case Column::name: return static_cast<double>(value);
  switch (static_cast<Column>(column)) {
    SCALINGPERF_CONFIGURATION_COLUMNS(SCALINGPERF_CASE)
    SCALINGPERF_COST_COLUMNS(SCALINGPERF_CASE)
  }
#undef SCALINGPERF_CASE
  return 0;
}

}  // namespace scalingperf
