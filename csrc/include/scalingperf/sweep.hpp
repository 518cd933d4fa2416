#pragma once
/// Evaluating a grid: every valid point through the same estimate as a single call,
/// threaded over flat index ranges, as columns, or reduced to a top-k or a Pareto front
/// without keeping the rows.

#include <atomic>
#include <cstdint>
#include <vector>

#include "scalingperf/grid.hpp"
#include "scalingperf/hardware.hpp"
#include "scalingperf/training.hpp"

namespace scalingperf {

/// Result columns of a sweep row, in order.
enum class Column : std::uint8_t {
  // configuration (as resolved: derived dimensions filled in)
  d_model, n_layers, n_heads, n_kv_heads, head_dim, d_ff, ffn, n_experts, top_k,
  n_shared_experts, d_ff_expert, vocab_size, seq_len, batch, recompute, tp, pp, dp, ep, zero,
  microbatches,
  // costs
  params_total, params_embedding, params_non_embedding, params_active, flops_forward,
  flops_backward, flops_forward_causal, flops_model, flops_hardware, flops_per_token,
  flops_per_step, memory_weights, memory_gradients, memory_optimizer, memory_activations,
  memory_activations_in_flight, memory_per_gpu, fits, step_time, tokens_per_s, mfu, hfu,
  tp_efficiency, pipeline_bubble, devices, aspect_ratio, tokens_at_budget, train_days,
};
constexpr int column_count = static_cast<int>(Column::train_days) + 1;
/// The configuration columns come first: a sweep may leave them out and decode them from
/// the rows' indices when they are asked for (decode_configurations).
constexpr int configuration_columns = static_cast<int>(Column::microbatches) + 1;
const char* name_of(Column column);
/// Columns of whole numbers (sizes, degrees, counts, enum indices): stored as int64.
bool is_integer(Column column);
int parse_column(const std::string& name);

/// The configuration columns of one row.
void fill_configuration(const Architecture& arch, const Workload& work, const Layout& layout,
                        double* row);
/// All columns of one row.
using Row = double[column_count];
void fill_row(const Grid& grid, const Architecture& arch, const Workload& work,
              const Layout& layout, const TrainingReport& report, double* row);

/// Shared between the caller and the workers: progress, and a request to stop.
struct SweepControl {
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> cancel{false};
};

/// How sweep_rows splits [begin, end) over threads and where each thread's rows go.
struct RowPlan {
  unsigned threads = 1;
  std::vector<std::uint64_t> starts;  ///< per thread: its first output row (when exact)
  std::uint64_t capacity = 0;         ///< rows the output columns must hold
  bool exact = false;                 ///< valid rows were counted: each lands in place
};
/// Without bounds, counts each thread's valid rows (a walk that checks points without
/// costing them) so that the output holds exactly the valid rows; with bounds, plans
/// room for every point.
RowPlan plan_rows(const Grid& grid, std::uint64_t begin, std::uint64_t end, unsigned threads);

/// Evaluates [begin, end) into `columns` and `index`, keeping only valid rows that pass
/// the bounds, in index order; returns their number. `columns` has column_count arrays of
/// plan.capacity entries, int64 for is_integer columns and double for the others, or
/// nullptr for a column to leave out. Deterministic whatever the thread count.
std::uint64_t sweep_rows(const Grid& grid, const Hardware& hw, const Efficiency& e,
                         std::uint64_t begin, std::uint64_t end, const RowPlan& plan,
                         void* const* columns, std::int64_t* index, SweepControl& control);

/// The configuration columns of n valid points given by their flat indices (any order;
/// sorted indices decode fastest), into configuration_columns int64 arrays of n entries.
/// Throws std::invalid_argument for an index outside the grid or of an invalid point.
void decode_configurations(const Grid& grid, const std::int64_t* index, std::size_t n,
                           std::int64_t* const* columns, unsigned threads);

/// Indices of the k best valid rows of [begin, end) by `column` (ascending unless
/// `descending`), ties broken by index.
std::vector<std::uint64_t> sweep_top(const Grid& grid, const Hardware& hw, const Efficiency& e,
                                     std::uint64_t begin, std::uint64_t end, std::size_t k,
                                     int column, bool descending, unsigned threads,
                                     SweepControl& control);

/// Indices of the valid rows of [begin, end) on the Pareto front of two columns, each
/// minimised unless its `descending` flag says maximised; sorted by index.
std::vector<std::uint64_t> sweep_pareto(const Grid& grid, const Hardware& hw,
                                        const Efficiency& e, std::uint64_t begin,
                                        std::uint64_t end, int x, bool x_descending, int y,
                                        bool y_descending, unsigned threads,
                                        SweepControl& control);

}  // namespace scalingperf
