#include "scalingperf/sweep.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <unordered_map>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>

#include "scalingperf/parallel_for.hpp"

namespace scalingperf {

namespace {

/// Rows gathered before they are written out as columns.
constexpr std::size_t rows_per_flush = 1024;
/// Points between updates of the shared progress counter.
constexpr std::uint64_t progress_step = 4096;

bool passes(const std::vector<Bound>& bounds, const RowInputs& row) {
  for (const Bound& b : bounds) {
    const double v = column_value(row, b.column);
    if (v < b.lo || v > b.hi) return false;  // NaN bounds compare false: no bound
  }
  return true;
}

/// The inner block's layouts for one micro-batch: derived (dp, microbatches) but not yet
/// checked against a model, and each prepared the first time a model accepts it (the
/// resolved layout does not depend on which model accepted it).
struct BlockLayouts {
  std::int64_t batch;
  std::vector<std::optional<Layout>> derived;  ///< nullopt: the derivation failed
  std::vector<std::optional<PreparedLayout>> prepared;
};

BlockLayouts derive_block(const Grid& g, const LayoutBlock& block,
                          std::vector<std::uint32_t>& digits, const Workload& work) {
  BlockLayouts out{work.batch, {}, {}};
  out.derived.reserve(block.size);
  out.prepared.resize(block.size);
  std::fill(digits.begin() + static_cast<std::ptrdiff_t>(block.first_axis), digits.end(), 0);
  for (std::uint64_t offset = 0; offset < block.size; ++offset) {
    Layout layout = layout_values(g, digits);
    out.derived.push_back(derive_layout(g, work, layout) ? std::optional<Layout>(layout)
                                                         : std::nullopt);
    for (std::size_t a = digits.size(); a-- > block.first_axis;) {  // next inner digits
      if (++digits[a] < g.axes[a].values.size()) break;
      digits[a] = 0;
    }
  }
  return out;
}

/// A layout of the inner block that is valid for the current model and micro-batch.
struct Choice {
  std::uint64_t offset;
  const PreparedLayout* layout;
};

/// The valid layouts of the inner block for one model, in offset order.
void choose_layouts(BlockLayouts& block, const LayoutLimits& model, std::vector<Choice>& out) {
  out.clear();
  for (std::uint64_t offset = 0; offset < block.derived.size(); ++offset) {
    if (!block.derived[offset]) continue;
    Layout layout = *block.derived[offset];
    if (!check_layout(model, layout)) continue;
    if (!block.prepared[offset]) block.prepared[offset] = prepare(layout);
    out.push_back({offset, &*block.prepared[offset]});
  }
}

/// Seconds of one instance of each section under one tensor split.
struct SplitSeconds {
  std::int64_t tp;
  bool sequence_parallel;
  InstanceSeconds seconds;
};

/// A model's shape (all but its depth) under one workload, with its roofline seconds per
/// tensor split: kept while only the depth and the axes inside it change.
struct ShapeEntry {
  bool ready = false;
  ModelShape shape;
  InstanceSeconds at_tp1;
  std::vector<SplitSeconds> splits;
};

/// Where a grid's depth axis is, and how the outer axes inside it number the shapes that
/// each depth shares: entry = mixed radix of the digits of axes (depth, last).
class DepthReuse {
 public:
  /// Shapes kept per thread at most; beyond, no reuse.
  static constexpr std::uint64_t max_entries = 1024;

  DepthReuse(const Grid& g, std::size_t outer_axes) {
    for (std::size_t a = 0; a < outer_axes; ++a) {
      if (g.axes[a].kind == AxisKind::n_layers) depth_ = a;
    }
    if (depth_ == none) return;
    std::uint64_t count = 1;
    for (std::size_t a = depth_ + 1; a < outer_axes; ++a) {
      count *= g.axes[a].values.size();
      if (count > max_entries) {
        depth_ = none;
        return;
      }
    }
    last_ = outer_axes;
    entries_.resize(count);
  }
  /// At every outer point: forgets every shape when an axis outside the depth changed.
  void moved(std::size_t changed_axis) {
    if (depth_ != none && changed_axis < depth_) {
      for (ShapeEntry& e : entries_) e.ready = false;
    }
  }
  /// The entry for the cursor's digits; nullptr when the grid has no reusable depth axis.
  ShapeEntry* entry(const std::vector<std::uint32_t>& digits, const Grid& g) {
    if (depth_ == none) return nullptr;
    std::uint64_t k = 0;
    for (std::size_t a = depth_ + 1; a < last_; ++a) k = k * g.axes[a].values.size() + digits[a];
    return &entries_[k];
  }

 private:
  static constexpr std::size_t none = SIZE_MAX;
  std::size_t depth_ = none, last_ = 0;
  std::vector<ShapeEntry> entries_;
};

/// Calls on_row(index, &inputs) for each valid row of [begin, end) that passes the bounds
/// (with `evaluate` false: on_row(index, nullptr) for each valid point, nothing costed or
/// bounded); the consumer reads the columns it needs (fill_row, column_value). A layout
/// for which `prune` says yes, from a bound on its step, is not costed. The grid is walked
/// as outer points (model and workload, whose costs are kept while only inner digits
/// change) times a block of layouts, checked once per model and micro-batch.
/// A reduction that never skips a layout before costing it.
struct NoPruning {
  static constexpr bool active = false;
  bool operator()(const StepBound&) const { return false; }
};

template <bool evaluate = true, class OnRow, class Prune = NoPruning>
void evaluate_range(const Grid& g, const Hardware& hw, const Efficiency& e, std::uint64_t begin,
                    std::uint64_t end, SweepControl& control, OnRow&& on_row,
                    bool tp_baseline = true, Prune prune = {}) {
  if (begin >= end) return;
  const LayoutBlock block = layout_block(g);
  const Machine calibrated = machine(hw, e);
  Architecture arch;
  Workload work;
  // The model's shape and roofline seconds: its own, or kept from another depth.
  ShapeEntry own;
  DepthReuse reuse(g, evaluate ? block.first_axis : 0);  // counting needs no shapes
  ShapeEntry* shape = &own;
  ModelCosts costs;
  SectionSeconds at_tp1;
  // Section seconds depend on the layout only through its tensor split (tp, sequence
  // parallel): a few per workload, kept here.
  struct Split {
    std::int64_t tp;
    bool sequence_parallel;
    SectionSeconds seconds;
  };
  std::vector<Split> splits;
  const auto split_seconds = [&](const Layout& layout) -> const InstanceSeconds& {
    for (const SplitSeconds& split : shape->splits) {
      if (split.tp == layout.tp && split.sequence_parallel == layout.sequence_parallel) {
        return split.seconds;
      }
    }
    shape->splits.push_back({layout.tp, layout.sequence_parallel,
                             instance_seconds(shape->shape, roofline(work, layout, hw, e))});
    return shape->splits.back().seconds;
  };
  // Valid layouts depend on the model, and on the workload only through the micro-batch
  // (with a global batch): derived once per micro-batch, chosen once per model and
  // micro-batch.
  std::vector<BlockLayouts> blocks;  // one per micro-batch seen
  const bool outer_layout_axes =
      block.first_axis > 0 && axis_level(g.axes[block.first_axis - 1].kind) == 2;
  // Chosen layouts depend on the model only through its LayoutLimits: kept by limits and
  // micro-batch across models (many shapes share their limits), up to a bound.
  struct ChoicesKey {
    LayoutLimits limits;
    std::int64_t batch;
    bool operator==(const ChoicesKey& o) const { return limits == o.limits && batch == o.batch; }
  };
  struct ChoicesHash {
    std::size_t operator()(const ChoicesKey& k) const {
      std::size_t h = 0;
      for (std::int64_t v : {k.limits.n_layers, k.limits.n_heads, k.limits.n_kv_heads,
                             k.limits.n_experts, std::int64_t{k.limits.moe}, k.batch}) {
        h = h * 1000003u ^ std::hash<std::int64_t>{}(v);
      }
      return h;
    }
  };
  constexpr std::size_t max_kept_choices = 4096;
  std::unordered_map<ChoicesKey, std::vector<Choice>, ChoicesHash> kept_choices;
  // The current model's choices by micro-batch, found without hashing while it lasts.
  std::vector<std::pair<std::int64_t, const std::vector<Choice>*>> model_choices;
  const std::vector<Choice>* choices = nullptr;
  std::vector<std::uint32_t> digits(g.axes.size(), 0);
  std::uint64_t outer = begin / block.size;
  GridCursor cursor(g, outer, block.first_axis);
  int changed = 0;  // the outermost level whose digits changed since the last outer point
  bool model_ok = false, workload_ok = false;
  std::uint64_t unreported = 0;
  for (; outer * block.size < end; ++outer, changed = cursor.advance()) {
    if (control.cancel.load(std::memory_order_relaxed)) return;
    std::copy(cursor.digits().begin(), cursor.digits().end(), digits.begin());
    const std::uint64_t base = outer * block.size;
    const std::uint64_t lo = std::max(begin, base) - base;
    const std::uint64_t hi = std::min(end, base + block.size) - base;
    if (outer != begin / block.size) reuse.moved(cursor.changed_axis());
    if (changed == 0) model_ok = model_point(g, digits, arch);
    // With layout axes outside the block, every outer point has other layouts.
    if (outer_layout_axes) {
      kept_choices.clear();
      blocks.clear();
    }
    if (changed == 0 || outer_layout_axes) model_choices.clear();
    if (model_ok && changed <= 1) {
      workload_ok = workload_point(g, digits, arch, work);
      if (evaluate && workload_ok) {
        ShapeEntry* kept = reuse.entry(digits, g);
        shape = kept != nullptr ? kept : &own;
        if (kept == nullptr || !shape->ready) {
          shape->shape = model_shape(arch, work);
          shape->at_tp1 = instance_seconds(
              shape->shape, roofline(work, single_device_tensor(g.layout), hw, e));
          shape->splits.clear();
          shape->ready = true;
        }
        costs = model_costs(shape->shape, arch);
        at_tp1 = section_seconds(shape->at_tp1, costs.instances);
        splits.clear();
      }
    }
    if (model_ok && workload_ok && (changed <= 1 || outer_layout_axes)) {
      choices = nullptr;
      for (const auto& [batch, list] : model_choices) {
        if (batch == work.batch) choices = list;
      }
    }
    if (model_ok && workload_ok && choices == nullptr) {
      const ChoicesKey key{layout_limits(arch), work.batch};
      auto found = kept_choices.find(key);
      if (found == kept_choices.end()) {
        BlockLayouts* layouts = nullptr;
        for (BlockLayouts& b : blocks) {
          if (b.batch == work.batch) layouts = &b;
        }
        if (layouts == nullptr) {
          blocks.push_back(derive_block(g, block, digits, work));
          layouts = &blocks.back();
        }
        if (kept_choices.size() >= max_kept_choices) {
          kept_choices.clear();
          model_choices.clear();
        }
        found = kept_choices.emplace(key, std::vector<Choice>{}).first;
        choose_layouts(*layouts, key.limits, found->second);
      }
      choices = &found->second;
      model_choices.emplace_back(work.batch, choices);
    }
    if (model_ok && workload_ok) {
      for (const Choice& choice : *choices) {
        if (choice.offset < lo) continue;
        if (choice.offset >= hi) break;
        if constexpr (!evaluate) {
          on_row(base + choice.offset, nullptr);
          continue;
        }
        const Layout& layout = choice.layout->layout;
        const SectionSeconds* at_layout = &at_tp1;
        if (layout.tp > 1 || layout.sequence_parallel) {
          at_layout = nullptr;
          for (const Split& split : splits) {
            if (split.tp == layout.tp && split.sequence_parallel == layout.sequence_parallel) {
              at_layout = &split.seconds;
            }
          }
          if (at_layout == nullptr) {
            splits.push_back({layout.tp, layout.sequence_parallel,
                              section_seconds(split_seconds(layout), costs.instances)});
            at_layout = &splits.back().seconds;
          }
        }
        if constexpr (Prune::active) {
          if (prune(step_bound(arch, work, costs, *choice.layout, calibrated, *at_layout))) {
            continue;
          }
        }
        const TrainingReport report =
            estimate_training(arch, work, costs, *choice.layout, calibrated, at_tp1, *at_layout,
                              tp_baseline);
        const RowInputs row{g, arch, work, layout, report};
        if (passes(g.bounds, row)) on_row(base + choice.offset, &row);
      }
    }
    unreported += hi - lo;
    if (unreported >= progress_step) {
      control.done.fetch_add(unreported, std::memory_order_relaxed);
      unreported = 0;
    }
  }
  control.done.fetch_add(unreported, std::memory_order_relaxed);
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

/// A key (as minimised) bounded below by a StepBound: the columns monotone in the step
/// time, in the direction that makes a shorter step better. Others: nothing is skipped.
bool bounded_by_step(int column, bool descending) {
  switch (static_cast<Column>(column)) {
    case Column::step_time: return !descending;
    case Column::tokens_per_s:
    case Column::mfu:
    case Column::hfu: return descending;
    default: return false;
  }
}

/// Top-k pruning (for a bounded_by_step column): once a thread holds k rows, a layout
/// whose key cannot beat its k-th is not costed.
struct TopPruning {
  static constexpr bool active = true;
  const std::vector<Keyed>* heap;
  std::size_t k;
  Column column;
  bool operator()(const StepBound& b) const {
    if (heap->size() < k || k == 0) return false;
    const double key_bound = column == Column::step_time      ? b.step
                             : column == Column::tokens_per_s ? -b.tokens_per_s
                             : column == Column::mfu          ? -b.mfu
                                                              : -b.hfu;
    return key_bound > heap->front().key;
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
                                fill_row(*row, buffer.data() + held * column_count);
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
    if (axis_level(axis.kind) > 0) per_model *= axis.values.size();
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

std::vector<std::uint64_t> sweep_top(const Grid& g, const Hardware& hw, const Efficiency& e,
                                     std::uint64_t begin, std::uint64_t end, std::size_t k,
                                     int column, bool descending, unsigned requested_threads,
                                     SweepControl& control) {
  const std::uint64_t n = end - begin;
  const unsigned threads = sweep_threads(requested_threads, n);
  std::vector<std::vector<Keyed>> heaps(threads);
  const bool tp_baseline = reads_tp_efficiency(g, {column});
  run_ranges(static_cast<std::size_t>(n), threads,
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
               if (bounded_by_step(column, descending)) {
                 evaluate_range(g, hw, e, begin + first, begin + last, control, keep,
                                tp_baseline,
                                TopPruning{&heap, k, static_cast<Column>(column)});
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
  run_ranges(static_cast<std::size_t>(n), threads,
             [&](unsigned t, std::size_t first, std::size_t last) {
               evaluate_range(
                   g, hw, e, begin + first, begin + last, control,
                   [&](std::uint64_t i, const RowInputs* row) {
                     const double vx = column_value(*row, x), vy = column_value(*row, y);
                     fronts[t].add(x_descending ? -vx : vx, y_descending ? -vy : vy, i);
                   },
                   tp_baseline);
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
