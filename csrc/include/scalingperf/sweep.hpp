#pragma once
/// Evaluating a grid: every valid point through the same estimate as a single call,
/// threaded over flat index ranges, as columns, or reduced to a top-k or a Pareto front
/// without keeping the rows.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "scalingperf/columns.hpp"
#include "scalingperf/grid.hpp"
#include "scalingperf/hardware.hpp"
#include "scalingperf/training.hpp"

namespace scalingperf {

/// Shared between the caller and the workers: progress, and a request to stop.
/// Also what the walk left out after costing: rows outside each bound (counted by the
/// first bound they fail) and layouts a reduction did not cost (pruned).
struct SweepControl {
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> cancel{false};
  std::atomic<std::uint64_t> rejected[max_bounds] = {};
  std::atomic<std::uint64_t> pruned{0};
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

/// Why points of a grid are not rows, found without costing any: each reason with the
/// number of points it removes and one full message. A reason is a check's own words
/// ("tp does not divide the heads") or, for a field the core refused, the field's name.
struct SkipReason {
  std::string reason;
  std::uint64_t points = 0;
  std::string example;
};
struct SkipSummary {
  std::vector<SkipReason> reasons;  ///< most points first
  std::uint64_t valid = 0;          ///< points that are configurations (before any bound)
};
SkipSummary skip_reasons(const Grid& grid, std::uint64_t begin, std::uint64_t end,
                         unsigned threads);

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
