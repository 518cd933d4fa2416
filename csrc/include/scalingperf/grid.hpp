#pragma once
/// A grid of configurations: axes enumerated in mixed radix (the last axis fastest),
/// derived dimensions, and the constraints that decide whether a point is a valid row.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "scalingperf/architecture.hpp"
#include "scalingperf/hardware.hpp"
#include "scalingperf/parallel.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// What an axis varies. Model axes change the architecture, workload axes the
/// micro-batch, layout axes the parallel layout; a grid lists its axes in that order so
/// that the inner loop changes only what is cheap to change.
enum class AxisKind : std::uint8_t {
  d_model, n_layers, n_heads, head_dim, n_kv_heads, gqa_group, d_ff, ffn_ratio, ffn,
  n_experts, top_k, n_shared_experts, d_ff_expert, attention_window, global_every,
  vocab_size,                                                                  // model
  seq_len, batch, recompute,                                                   // workload
  tp, cp, pp, dp, ep, zero, microbatches,                                      // layout
};

AxisKind parse_axis(const std::string& name);
const char* name_of(AxisKind kind);
/// 0 model, 1 workload, 2 layout.
int axis_level(AxisKind kind);

/// One axis: its kind and values (integers, ratios, or enum indices, as doubles). An
/// axis that `follows` is paired with the axis before it (a zip): it has as many values
/// and takes that axis's digit, so it adds no combinations of its own.
struct Axis {
  AxisKind kind;
  std::vector<double> values;
  bool follows = false;
};

/// Digits of an axis: its number of values, or 1 for an axis that follows another.
inline std::uint64_t extent(const Axis& axis) { return axis.follows ? 1 : axis.values.size(); }

/// Checks an axis's values before any is converted to an integer: finite, whole where the
/// kind is a count, and within the range the core accepts for that field (a value out of
/// range would be undefined behaviour to convert). Throws std::invalid_argument naming
/// the axis, the value and the range.
void check_axis(const Axis& axis);

/// Most bounds (where=, max_memory, params, ...) a grid may have: their rejections are
/// counted per bound.
constexpr std::size_t max_bounds = 32;

/// Bounds on a result column that a row must satisfy (NaN: no bound).
struct Bound {
  int column;
  double lo;
  double hi;
};

/// A grid: a base configuration, the axes that vary it, and constraints.
struct Grid {
  Architecture base;  ///< unresolved: derived fields are derived per point
  Workload work;
  Layout layout;
  std::vector<Axis> axes;  ///< model, then workload, then layout axes
  std::int64_t ffn_multiple = 1;   ///< d_ff = ratio x d_model rounded up to this multiple
  bool derive_heads = false;       ///< n_heads = d_model / head_dim
  std::int64_t n_gpus = 0;         ///< > 0: dp = n_gpus / (tp cp pp), points that don't divide are skipped
  std::int64_t global_batch = 0;   ///< > 0: sequences per step; microbatches = it / (batch dp)
  double compute = 0;              ///< > 0: a FLOP budget; fills tokens_at_budget
  std::vector<Bound> bounds;
};

/// Number of points; throws std::invalid_argument when it overflows 2^62.
std::uint64_t grid_size(const Grid& grid);

/// The digits of a flat index, one per axis (the last axis fastest), moved forward one
/// index at a time without divisions.
class GridCursor {
 public:
  /// Over the first `axes` axes of the grid (all by default).
  GridCursor(const Grid& grid, std::uint64_t index, std::size_t axes = SIZE_MAX);
  /// Moves to the next index; returns the level (0 model, 1 workload, 2 layout) of the
  /// outermost axis whose digit changed.
  int advance();
  const std::vector<std::uint32_t>& digits() const { return digits_; }
  /// The outermost axis whose digit the last advance() changed (0 before any).
  std::size_t changed_axis() const { return changed_axis_; }

 private:
  std::vector<std::uint32_t> digits_, sizes_;
  std::vector<int> levels_;
  std::vector<bool> follows_;
  std::size_t changed_axis_ = 0;
};

/// The parts of the point at a cursor's digits (see grid_point); false when the point is
/// invalid, with the reason in `why`.
bool model_point(const Grid& grid, const std::vector<std::uint32_t>& digits, Architecture& arch,
                 std::string* why = nullptr);
bool workload_point(const Grid& grid, const std::vector<std::uint32_t>& digits,
                    const Architecture& arch, Workload& work, std::string* why = nullptr);
bool layout_point(const Grid& grid, const std::vector<std::uint32_t>& digits,
                  const Architecture& arch, const Workload& work, Layout& layout,
                  std::string* why = nullptr);

/// The layout axes at a cursor's digits over the grid's layout, before derivation and
/// checks.
Layout layout_values(const Grid& grid, const std::vector<std::uint32_t>& digits);
/// Derives dp (from n_gpus) and microbatches (from global_batch and the micro-batch) of a
/// layout_values(); false when they do not divide. Independent of the model.
bool derive_layout(const Grid& grid, const Workload& work, Layout& layout,
                   std::string* why = nullptr);
/// Checks a derived layout against the point's model and resolves it.
bool check_layout(const LayoutLimits& model, Layout& layout, std::string* why = nullptr);

/// The innermost layout axes, evaluated as one block: a point's flat index is
/// outer x size + offset, where outer enumerates the axes before `first_axis`. A sweep
/// checks the block's layouts once per model and micro-batch instead of once per point.
struct LayoutBlock {
  std::size_t first_axis = 0;
  std::uint64_t size = 1;
};
/// Moves the digits of axes [first, end) of `digits` to the next combination (the last
/// axis fastest; axes that follow take their leader's digit); returns false when they
/// wrapped around to all zeros.
bool next_digits(const Grid& grid, std::vector<std::uint32_t>& digits, std::size_t first);

/// The longest run of trailing layout axes with at most `max_size` combinations (at
/// least the last layout axis).
LayoutBlock layout_block(const Grid& grid, std::uint64_t max_size = std::uint64_t{1} << 16);

/// The configuration at flat index `index`; false when the point is invalid (a size that
/// does not divide, a layout the model does not allow), with the reason in `why`.
bool grid_point(const Grid& grid, std::uint64_t index, Architecture& arch, Workload& work,
                Layout& layout, std::string* why = nullptr);

}  // namespace scalingperf
