#include "scalingperf/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>

#include "scalingperf/parallel_for.hpp"
#include "walk.hpp"

namespace scalingperf {

using detail::evaluate_range;

namespace {

/// Rows gathered before they are written out as columns.
constexpr std::size_t rows_per_flush = 1024;
/// Ranges per thread of a top-k or Pareto reduction, taken by whichever thread is free:
/// pruning makes some parts of a grid much cheaper than others. Up to 8, but none
/// shorter than 32,768 points: each range starts its walk afresh (shapes, choices).
unsigned reduction_chunks_per_thread(std::uint64_t n, unsigned threads) {
  constexpr std::uint64_t most = 8, least_points = 32768;
  return static_cast<unsigned>(
      std::clamp<std::uint64_t>(n / (std::uint64_t{threads} * least_points), 1, most));
}

/// Whether a reduction by `columns` (with the grid's bounds) reads tensor-parallel
/// efficiency: if not, its tp = 1 baseline is skipped (see estimate_training).
bool reads_tp_efficiency(const Grid& g, std::initializer_list<int> columns) {
  constexpr int tp_efficiency = static_cast<int>(Column::tp_efficiency);
  for (int c : columns) {
    if (c == tp_efficiency) return true;
  }
  for (const Bound& b : g.bounds) {
    if (b.column == tp_efficiency) return true;
  }
  return false;
}

unsigned sweep_threads(unsigned requested, std::uint64_t n) {
  return effective_threads(requested, static_cast<std::size_t>(n));
}

/// A key to minimise, ties broken by index.
struct Keyed {
  double key;
  std::uint64_t index;
  bool operator<(const Keyed& other) const {
    return std::tie(key, index) < std::tie(other.key, other.index);
  }
};

/// Where the lower bound of a key (a column as minimised: negated when descending) comes
/// from in a layout's RowBounds: the step bound for the columns monotone in the step, in
/// the direction that makes a shorter step better; memory per GPU either way; else none.
enum class KeySource : std::uint8_t { none, step, tokens_per_s, mfu, hfu, memory };

KeySource key_source(int column, bool descending) {
  switch (static_cast<Column>(column)) {
    case Column::step_time: return descending ? KeySource::none : KeySource::step;
    case Column::tokens_per_s: return descending ? KeySource::tokens_per_s : KeySource::none;
    case Column::mfu: return descending ? KeySource::mfu : KeySource::none;
    case Column::hfu: return descending ? KeySource::hfu : KeySource::none;
    case Column::memory_per_gpu: return KeySource::memory;
    default: return KeySource::none;
  }
}

bool has_key_bound(int column, bool descending) {
  return key_source(column, descending) != KeySource::none;
}

/// A bound lowered by a relative margin far above rounding: the bound and the row round
/// differently (they inline into different code, and may contract multiply-adds
/// differently under SCALINGPERF_NATIVE).
double lowered(double key) {
  constexpr double margin = 1e-9;
  return key - std::abs(key) * margin;
}

/// That lower bound (-inf where there is none).
double key_bound(detail::RowBounds& bounds, int column, bool descending) {
  switch (key_source(column, descending)) {
    case KeySource::step: return lowered(bounds.step().step);
    case KeySource::tokens_per_s: return lowered(-bounds.step().tokens_per_s());
    case KeySource::mfu: return lowered(-bounds.step().mfu());
    case KeySource::hfu: return lowered(-bounds.step().hfu());
    case KeySource::memory: {
      const double m = bounds.memory_per_gpu();
      return lowered(descending ? -m : m);
    }
    case KeySource::none: break;
  }
  return -std::numeric_limits<double>::infinity();
}

/// A looser lower bound than key_bound where one is cheaper (memory per GPU, ascending:
/// memory_floor), else key_bound itself.
double quick_key_bound(detail::RowBounds& bounds, int column, bool descending) {
  if (key_source(column, descending) == KeySource::memory && !descending) {
    return lowered(bounds.memory_floor());
  }
  return key_bound(bounds, column, descending);
}

/// Top-k pruning (for a column with a key bound): once a thread holds k rows, a layout
/// whose key cannot beat its k-th is not costed.
struct TopPruning {
  static constexpr bool active = true;
  const std::vector<Keyed>* heap;
  std::size_t k;
  int column;
  bool descending;
  bool operator()(detail::RowBounds& bounds) const {
    if (heap->size() < k || k == 0) return false;
    return key_bound(bounds, column, descending) > heap->front().key;
  }
};

/// A Pareto front of (x, y) to minimise: ordered by (x, y, index), y strictly falls.
class Front {
 public:
  void add(double x, double y, std::uint64_t index) {
    const Point p{x, y, index};
    auto next = points_.lower_bound(p);
    if (next != points_.begin() && std::prev(next)->y <= y) return;  // dominated
    while (next != points_.end() && next->y >= y) next = points_.erase(next);
    points_.insert(next, p);
    ++version_;
  }
  /// Changes whenever a point joins (and so whenever a reach may change).
  std::uint64_t version() const { return version_; }
  /// What the front holds against rows whose x is at least `x`: the least y of its points
  /// left of x, and the y of its point at x (y falls along the front, and at most one
  /// point has a given x).
  struct Reach {
    bool has_left = false, has_at = false;
    double left = 0, at = 0;
    /// Whether a row with keys at least (x, y) would be refused, whatever its index (so
    /// the merged front does not depend on which ranges each thread took): some point has
    /// x' < x and y' <= y, or x' = x and y' < y. NaN compares false: not refused.
    bool dominates(double y) const { return (has_left && y >= left) || (has_at && y > at); }
    bool empty() const { return !has_left && !has_at; }
  };
  Reach reach(double x) const {
    Reach r;
    if (std::isnan(x)) return r;
    const auto at_x = points_.lower_bound(Point{x, -std::numeric_limits<double>::infinity(), 0});
    if (at_x != points_.begin()) r = {true, false, std::prev(at_x)->y, 0};
    if (at_x != points_.end() && at_x->x == x) {
      r.has_at = true;
      r.at = at_x->y;
    }
    return r;
  }
  template <class Visit>
  void each(Visit&& visit) const {
    for (const Point& p : points_) visit(p.x, p.y, p.index);
  }

 private:
  struct Point {
    double x, y;
    std::uint64_t index;
    bool operator<(const Point& o) const { return std::tie(x, y, index) < std::tie(o.x, o.y, o.index); }
  };
  std::set<Point> points_;
  std::uint64_t version_ = 0;
};

/// Pareto pruning (both columns with key bounds): a layout whose bounds a point of the
/// thread's front already dominates is not costed. A row pruned this way would have been
/// refused by Front::add, and so by the merged front (whatever dominates that point
/// dominates the row).
struct ParetoPruning {
  static constexpr bool active = true;
  const Front* front;
  int x, y;
  bool x_descending, y_descending;
  double last_x = std::numeric_limits<double>::quiet_NaN();  // NaN: nothing looked up yet
  std::uint64_t last_version = 0;
  Front::Reach last_reach{};
  bool operator()(detail::RowBounds& bounds) {
    // Layouts next to each other often share their x bound (a step bound): their reach
    // is looked up once while the front does not change.
    const double lower_x = key_bound(bounds, x, x_descending);
    if (!(last_x == lower_x && last_version == front->version())) {
      last_reach = front->reach(lower_x);
      last_x = lower_x;
      last_version = front->version();
    }
    const Front::Reach& reach = last_reach;
    if (reach.empty()) return false;
    return reach.dominates(quick_key_bound(bounds, y, y_descending)) ||
           reach.dominates(key_bound(bounds, y, y_descending));
  }
};

}  // namespace

RowPlan plan_rows(const Grid& g, std::uint64_t begin, std::uint64_t end,
                  unsigned requested_threads) {
  const std::uint64_t n = end - begin;
  RowPlan plan;
  plan.threads = sweep_threads(requested_threads, n);
  plan.starts.assign(plan.threads, 0);
  if (!g.bounds.empty()) {  // rows can only be counted by costing them: room for all
    plan.capacity = n;
    return plan;
  }
  std::vector<std::uint64_t> counts(plan.threads, 0);
  SweepControl unreported;
  run_ranges(static_cast<std::size_t>(n), plan.threads,
             [&](unsigned t, std::size_t first, std::size_t last) {
               evaluate_range<false>(g, Hardware{}, Efficiency{}, begin + first, begin + last,
                                     unreported,
                                     [&](std::uint64_t, const RowInputs*) { ++counts[t]; });
             });
  for (unsigned t = 0; t < plan.threads; ++t) {
    plan.starts[t] = plan.capacity;
    plan.capacity += counts[t];
  }
  plan.exact = true;
  return plan;
}

std::uint64_t sweep_rows(const Grid& g, const Hardware& hw, const Efficiency& e,
                         std::uint64_t begin, std::uint64_t end, const RowPlan& plan,
                         void* const* columns, std::int64_t* index, SweepControl& control) {
  const std::uint64_t n = end - begin;
  const unsigned threads = plan.threads;
  bool integer[column_count];
  for (int c = 0; c < column_count; ++c) integer[c] = is_integer(static_cast<Column>(c));
  // A sweep usually leaves the configuration columns out (they are decoded from the
  // index when asked for): then the rows need only their costs.
  const bool configuration = std::any_of(columns, columns + configuration_columns,
                                         [](void* column) { return column != nullptr; });
  std::vector<std::uint64_t> starts(threads), counts(threads, 0);
  // Each thread writes its valid rows compactly from its planned start (or, when rows
  // were not counted, from the start of its own range) ...
  run_ranges(static_cast<std::size_t>(n), threads,
             [&](unsigned t, std::size_t first, std::size_t last) {
               starts[t] = plan.exact ? plan.starts[t] : first;
               std::uint64_t out = starts[t];
               // Rows gather in a small row-major buffer, then go out column by column:
               // long sequential writes instead of one stream per column.
               std::vector<double> buffer(rows_per_flush * column_count);
               std::vector<std::int64_t> indices(rows_per_flush);
               std::size_t held = 0;
               auto flush = [&] {
                 for (int c = 0; c < column_count; ++c) {
                   if (columns[c] == nullptr) continue;
                   const double* value = buffer.data() + c;
                   if (integer[c]) {  // whole numbers below 2^53: exact
                     auto* column = static_cast<std::int64_t*>(columns[c]) + out;
                     for (std::size_t r = 0; r < held; ++r) {
                       column[r] = static_cast<std::int64_t>(value[r * column_count]);
                     }
                   } else {
                     double* column = static_cast<double*>(columns[c]) + out;
                     for (std::size_t r = 0; r < held; ++r) column[r] = value[r * column_count];
                   }
                 }
                 std::copy(indices.begin(), indices.begin() + static_cast<std::ptrdiff_t>(held),
                           index + out);
                 out += held;
                 held = 0;
               };
               evaluate_range(g, hw, e, begin + first, begin + last, control,
                              [&](std::uint64_t i, const RowInputs* row) {
                                double* at = buffer.data() + held * column_count;
                                if (configuration) {
                                  fill_row(*row, at);
                                } else {
                                  fill_costs(*row, at);
                                }
                                indices[held++] = static_cast<std::int64_t>(i);
                                if (held == rows_per_flush) flush();
                              });
               flush();
               counts[t] = out - starts[t];
             });
  // ... then, if need be, the blocks move down in thread order: rows stay in index order.
  std::uint64_t cursor = 0;
  for (unsigned t = 0; t < threads; ++t) {
    if (starts[t] != cursor && counts[t] > 0) {
      for (int c = 0; c < column_count; ++c) {
        if (columns[c] == nullptr) continue;
        auto* column = static_cast<char*>(columns[c]);  // 8-byte entries either way
        std::memmove(column + cursor * 8, column + starts[t] * 8, counts[t] * 8);
      }
      std::memmove(index + cursor, index + starts[t], counts[t] * sizeof(std::int64_t));
    }
    cursor += counts[t];
  }
  return cursor;
}

void decode_configurations(const Grid& g, const std::int64_t* index, std::size_t n,
                           std::int64_t* const* columns, unsigned requested_threads) {
  const std::uint64_t size = grid_size(g);
  const LayoutBlock block = layout_block(g);
  std::uint64_t per_model = 1;  // points per model: every axis after the model axes
  for (const Axis& axis : g.axes) {
    if (axis_level(axis.kind) > 0) per_model *= extent(axis);
  }
  // Sorted indices close together move one cursor forward; others place a new one.
  constexpr std::uint64_t max_steps = 64;
  run_ranges(n, effective_threads(requested_threads, n),
             [&](unsigned, std::size_t first, std::size_t last) {
               Architecture arch;
               Workload work;
               Layout layout;
               std::uint64_t model = size, outer = size;  // none yet
               std::optional<GridCursor> cursor;
               std::uint64_t at = 0;
               std::string why;
               double row[column_count];
               for (std::size_t r = first; r < last; ++r) {
                 const std::int64_t signed_i = index[r];
                 if (signed_i < 0 || static_cast<std::uint64_t>(signed_i) >= size) {
                   throw std::invalid_argument("index " + std::to_string(signed_i) +
                                               " is outside the grid");
                 }
                 const auto i = static_cast<std::uint64_t>(signed_i);
                 if (cursor && i >= at && i - at <= max_steps) {
                   for (; at < i; ++at) cursor->advance();
                 } else {
                   cursor.emplace(g, i);
                   at = i;
                 }
                 const auto& digits = cursor->digits();
                 // The model and workload are kept while only the inner digits move.
                 bool ok = true;
                 if (i / per_model != model) {
                   model = outer = size;
                   ok = model_point(g, digits, arch, &why);
                   if (ok) model = i / per_model;
                 }
                 if (ok && i / block.size != outer) {
                   outer = size;
                   ok = workload_point(g, digits, arch, work, &why);
                   if (ok) outer = i / block.size;
                 }
                 ok = ok && layout_point(g, digits, arch, work, layout, &why);
                 if (!ok) {
                   throw std::invalid_argument("index " + std::to_string(i) +
                                               " is not a valid point: " + why);
                 }
                 fill_configuration(arch, work, layout, row);
                 for (int c = 0; c < configuration_columns; ++c) {
                   columns[c][r] = static_cast<std::int64_t>(row[c]);
                 }
               }
             });
}

namespace {
/// A refusal's category: the words of a cheap check, or the field a full check names
/// ("seq_len=4096 is invalid: ..." counts under "seq_len").
std::string reason_of(const std::string& why) {
  const auto equals = why.find('=');
  const auto invalid = why.find(" is invalid");
  if (equals == std::string::npos || invalid == std::string::npos || equals > invalid) return why;
  return why.substr(0, equals);
}

struct ReasonTally {
  std::map<std::string, SkipReason> by_reason;
  std::uint64_t valid = 0;
  void add(const std::string& why, std::uint64_t points) {
    if (points == 0) return;
    SkipReason& entry = by_reason[reason_of(why)];
    if (entry.points == 0) {
      entry.reason = reason_of(why);
      entry.example = why;
    }
    entry.points += points;
  }
};
}  // namespace

SkipSummary skip_reasons(const Grid& g, std::uint64_t begin, std::uint64_t end,
                         unsigned requested_threads) {
  const std::uint64_t n = end - begin;
  const unsigned threads = sweep_threads(requested_threads, n);
  const LayoutBlock block = layout_block(g);
  const bool outer_layout_axes =
      block.first_axis > 0 && axis_level(g.axes[block.first_axis - 1].kind) == 2;
  std::vector<ReasonTally> tallies(threads);
  run_ranges(static_cast<std::size_t>(n), threads,
             [&](unsigned t, std::size_t first, std::size_t last) {
    ReasonTally& tally = tallies[t];
    const std::uint64_t range_begin = begin + first, range_end = begin + last;
    Architecture arch;
    Workload work;
    std::string model_why, work_why, why;
    std::vector<std::uint32_t> digits(g.axes.size(), 0);
    std::uint64_t outer = range_begin / block.size;
    GridCursor cursor(g, outer, block.first_axis);
    int changed = 0;
    bool model_ok = false, workload_ok = false;
    // The block's layouts refused for one model and micro-batch: a reason code per offset
    // (-1 when valid) into `layout_reasons`, kept while the layout limits and micro-batch
    // stay the same; points are counted per code and named once, when the walk ends.
    // The current model's codes per micro-batch (a global batch makes the layouts depend
    // on it), dropped when the model changes.
    std::vector<std::pair<std::int64_t, std::vector<int>>> model_codes;
    std::vector<std::string> layout_categories, layout_reasons;  // reason_of, first message
    std::vector<std::uint64_t> layout_counts;
    for (; outer * block.size < range_end; ++outer, changed = cursor.advance()) {
      std::copy(cursor.digits().begin(), cursor.digits().end(), digits.begin());
      const std::uint64_t base = outer * block.size;
      const std::uint64_t lo = std::max(range_begin, base) - base;
      const std::uint64_t hi = std::min(range_end, base + block.size) - base;
      if (changed == 0) model_ok = model_point(g, digits, arch, &model_why);
      if (!model_ok) {
        tally.add(model_why, hi - lo);
        continue;
      }
      if (changed <= 1) workload_ok = workload_point(g, digits, arch, work, &work_why);
      if (!workload_ok) {
        tally.add(work_why, hi - lo);
        continue;
      }
      if (changed == 0 || outer_layout_axes) model_codes.clear();
      const std::vector<int>* codes = nullptr;
      for (const auto& [batch, list] : model_codes) {
        if (batch == work.batch) codes = &list;
      }
      if (codes == nullptr) {
        const LayoutLimits limits = layout_limits(arch);
        std::vector<int> layout_code(block.size, -1);
        std::fill(digits.begin() + static_cast<std::ptrdiff_t>(block.first_axis), digits.end(), 0);
        for (std::uint64_t offset = 0; offset < block.size; ++offset) {
          Layout layout = layout_values(g, digits);
          if (!(derive_layout(g, work, layout, &why) && check_layout(limits, layout, &why))) {
            const std::string category = reason_of(why);
            const auto known =
                std::find(layout_categories.begin(), layout_categories.end(), category);
            layout_code[offset] = static_cast<int>(known - layout_categories.begin());
            if (known == layout_categories.end()) {
              layout_categories.push_back(category);
              layout_reasons.push_back(why);
              layout_counts.push_back(0);
            }
          }
          next_digits(g, digits, block.first_axis);
        }
        model_codes.emplace_back(work.batch, std::move(layout_code));
        codes = &model_codes.back().second;
      }
      for (std::uint64_t offset = lo; offset < hi; ++offset) {
        const int code = (*codes)[offset];
        if (code < 0) {
          ++tally.valid;
        } else {
          ++layout_counts[static_cast<std::size_t>(code)];
        }
      }
    }
    for (std::size_t r = 0; r < layout_reasons.size(); ++r) {
      tally.add(layout_reasons[r], layout_counts[r]);
    }
  });
  ReasonTally all;
  for (const ReasonTally& tally : tallies) {
    all.valid += tally.valid;
    for (const auto& [reason, entry] : tally.by_reason) {
      SkipReason& merged = all.by_reason[reason];
      if (merged.points == 0) merged = SkipReason{entry.reason, 0, entry.example};
      merged.points += entry.points;
    }
  }
  SkipSummary summary;
  summary.valid = all.valid;
  for (auto& [reason, entry] : all.by_reason) summary.reasons.push_back(std::move(entry));
  std::stable_sort(summary.reasons.begin(), summary.reasons.end(),
                   [](const SkipReason& a, const SkipReason& b) { return a.points > b.points; });
  return summary;
}

std::vector<std::uint64_t> sweep_top(const Grid& g, const Hardware& hw, const Efficiency& e,
                                     std::uint64_t begin, std::uint64_t end, std::size_t k,
                                     int column, bool descending, unsigned requested_threads,
                                     SweepControl& control) {
  const std::uint64_t n = end - begin;
  const unsigned threads = sweep_threads(requested_threads, n);
  std::vector<std::vector<Keyed>> heaps(threads);
  const bool tp_baseline = reads_tp_efficiency(g, {column});
  run_chunks(static_cast<std::size_t>(n), threads, reduction_chunks_per_thread(n, threads),
             [&](unsigned t, std::size_t first, std::size_t last) {
               auto& heap = heaps[t];  // a max-heap of the k smallest keys
               const auto keep = [&](std::uint64_t i, const RowInputs* row) {
                 const double value = column_value(*row, column);
                 const Keyed item{descending ? -value : value, i};
                 if (heap.size() < k) {
                   heap.push_back(item);
                   std::push_heap(heap.begin(), heap.end());
                 } else if (k > 0 && item < heap.front()) {
                   std::pop_heap(heap.begin(), heap.end());
                   heap.back() = item;
                   std::push_heap(heap.begin(), heap.end());
                 }
               };
               if (has_key_bound(column, descending)) {
                 evaluate_range(g, hw, e, begin + first, begin + last, control, keep,
                                tp_baseline, TopPruning{&heap, k, column, descending});
               } else {
                 evaluate_range(g, hw, e, begin + first, begin + last, control, keep,
                                tp_baseline);
               }
             });
  std::vector<Keyed> all;
  for (auto& heap : heaps) all.insert(all.end(), heap.begin(), heap.end());
  std::sort(all.begin(), all.end());
  if (all.size() > k) all.resize(k);
  std::vector<std::uint64_t> out;
  out.reserve(all.size());
  for (const Keyed& item : all) out.push_back(item.index);
  return out;
}

std::vector<std::uint64_t> sweep_pareto(const Grid& g, const Hardware& hw, const Efficiency& e,
                                        std::uint64_t begin, std::uint64_t end, int x,
                                        bool x_descending, int y, bool y_descending,
                                        unsigned requested_threads, SweepControl& control) {
  const std::uint64_t n = end - begin;
  const unsigned threads = sweep_threads(requested_threads, n);
  std::vector<Front> fronts(threads);
  const bool tp_baseline = reads_tp_efficiency(g, {x, y});
  run_chunks(static_cast<std::size_t>(n), threads, reduction_chunks_per_thread(n, threads),
             [&](unsigned t, std::size_t first, std::size_t last) {
               const auto keep = [&](std::uint64_t i, const RowInputs* row) {
                 const double vx = column_value(*row, x), vy = column_value(*row, y);
                 fronts[t].add(x_descending ? -vx : vx, y_descending ? -vy : vy, i);
               };
               if (has_key_bound(x, x_descending) && has_key_bound(y, y_descending)) {
                 evaluate_range(g, hw, e, begin + first, begin + last, control, keep,
                                tp_baseline,
                                ParetoPruning{&fronts[t], x, y, x_descending, y_descending});
               } else {
                 evaluate_range(g, hw, e, begin + first, begin + last, control, keep,
                                tp_baseline);
               }
             });
  // Under the (x, y, index) order the front is unique, so merging is order-free.
  Front merged;
  for (const Front& front : fronts) {
    front.each([&](double fx, double fy, std::uint64_t i) { merged.add(fx, fy, i); });
  }
  std::vector<std::uint64_t> out;
  merged.each([&](double, double, std::uint64_t i) { out.push_back(i); });
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace scalingperf
