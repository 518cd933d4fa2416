#include "scalingperf/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>

#include "checks.hpp"
#include "scalingperf/parallel_for.hpp"

namespace scalingperf {

namespace {

constexpr Column all_columns[] = {
    Column::d_model, Column::n_layers, Column::n_heads, Column::n_kv_heads, Column::head_dim,
    Column::d_ff, Column::ffn, Column::n_experts, Column::top_k, Column::n_shared_experts,
    Column::d_ff_expert, Column::vocab_size, Column::seq_len, Column::batch, Column::recompute,
    Column::tp, Column::pp, Column::dp, Column::ep, Column::zero, Column::microbatches,
    Column::params_total, Column::params_embedding, Column::params_non_embedding,
    Column::params_active, Column::flops_forward, Column::flops_backward,
    Column::flops_forward_causal, Column::flops_model, Column::flops_hardware,
    Column::flops_per_token, Column::flops_per_step, Column::memory_weights,
    Column::memory_gradients, Column::memory_optimizer, Column::memory_activations,
    Column::memory_activations_in_flight, Column::memory_per_gpu, Column::fits,
    Column::step_time, Column::tokens_per_s, Column::mfu, Column::hfu, Column::tp_efficiency,
    Column::pipeline_bubble, Column::devices, Column::aspect_ratio, Column::tokens_at_budget,
    Column::train_days};

/// Rows gathered before they are written out as columns.
constexpr std::size_t rows_per_flush = 1024;
/// Points between updates of the shared progress counter.
constexpr std::uint64_t progress_step = 4096;

bool passes(const std::vector<Bound>& bounds, const double* row) {
  for (const Bound& b : bounds) {
    const double v = row[b.column];
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
void choose_layouts(BlockLayouts& block, const Architecture& arch, std::vector<Choice>& out) {
  out.clear();
  for (std::uint64_t offset = 0; offset < block.derived.size(); ++offset) {
    if (!block.derived[offset]) continue;
    Layout layout = *block.derived[offset];
    if (!check_layout(arch, layout)) continue;
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

/// Calls on_row(index, row) for each valid row of [begin, end) that passes the bounds
/// (with `evaluate` false: on_row(index, nullptr) for each valid point, nothing costed or
/// bounded). The grid is walked as outer points (model and workload, whose costs are kept
/// while only inner digits change) times a block of layouts, checked once per model and
/// micro-batch.
template <bool evaluate = true, class OnRow>
void evaluate_range(const Grid& g, const Hardware& hw, const Efficiency& e, std::uint64_t begin,
                    std::uint64_t end, SweepControl& control, OnRow&& on_row,
                    bool tp_baseline = true) {
  if (begin >= end) return;
  const LayoutBlock block = layout_block(g);
  const Machine calibrated = machine(hw, e);
  Architecture arch;
  Workload work;
  // The model's shape and roofline seconds: its own, or kept from another depth.
  ShapeEntry own;
  DepthReuse reuse(g, block.first_axis);
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
  std::vector<std::pair<std::int64_t, std::vector<Choice>>> choices_by_batch;
  const std::vector<Choice>* choices = nullptr;
  std::vector<std::uint32_t> digits(g.axes.size(), 0);
  double row[column_count];
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
    // Choices hold for one model; with layout axes outside the block, every outer point
    // has other layouts.
    if (changed == 0 || outer_layout_axes) choices_by_batch.clear();
    if (outer_layout_axes) blocks.clear();
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
    if (model_ok && workload_ok && (changed <= 1 || choices_by_batch.empty())) {
      choices = nullptr;
      for (const auto& [batch, list] : choices_by_batch) {
        if (batch == work.batch) choices = &list;
      }
      if (choices == nullptr) {
        BlockLayouts* layouts = nullptr;
        for (BlockLayouts& b : blocks) {
          if (b.batch == work.batch) layouts = &b;
        }
        if (layouts == nullptr) {
          blocks.push_back(derive_block(g, block, digits, work));
          layouts = &blocks.back();
        }
        choices_by_batch.emplace_back(work.batch, std::vector<Choice>{});
        choose_layouts(*layouts, arch, choices_by_batch.back().second);
        choices = &choices_by_batch.back().second;
      }
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
        const TrainingReport report =
            estimate_training(arch, work, costs, *choice.layout, calibrated, at_tp1, *at_layout,
                              tp_baseline);
        fill_row(g, arch, work, layout, report, row);
        if (passes(g.bounds, row)) on_row(base + choice.offset, row);
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

const char* name_of(Column column) {
  switch (column) {
    case Column::d_model: return "d_model";
    case Column::n_layers: return "n_layers";
    case Column::n_heads: return "n_heads";
    case Column::n_kv_heads: return "n_kv_heads";
    case Column::head_dim: return "head_dim";
    case Column::d_ff: return "d_ff";
    case Column::ffn: return "ffn";
    case Column::n_experts: return "n_experts";
    case Column::top_k: return "top_k";
    case Column::n_shared_experts: return "n_shared_experts";
    case Column::d_ff_expert: return "d_ff_expert";
    case Column::vocab_size: return "vocab_size";
    case Column::seq_len: return "seq_len";
    case Column::batch: return "batch";
    case Column::recompute: return "recompute";
    case Column::tp: return "tp";
    case Column::pp: return "pp";
    case Column::dp: return "dp";
    case Column::ep: return "ep";
    case Column::zero: return "zero";
    case Column::microbatches: return "microbatches";
    case Column::params_total: return "params_total";
    case Column::params_embedding: return "params_embedding";
    case Column::params_non_embedding: return "params_non_embedding";
    case Column::params_active: return "params_active";
    case Column::flops_forward: return "flops_forward";
    case Column::flops_backward: return "flops_backward";
    case Column::flops_forward_causal: return "flops_forward_causal";
    case Column::flops_model: return "flops_model";
    case Column::flops_hardware: return "flops_hardware";
    case Column::flops_per_token: return "flops_per_token";
    case Column::flops_per_step: return "flops_per_step";
    case Column::memory_weights: return "memory_weights";
    case Column::memory_gradients: return "memory_gradients";
    case Column::memory_optimizer: return "memory_optimizer";
    case Column::memory_activations: return "memory_activations";
    case Column::memory_activations_in_flight: return "memory_activations_in_flight";
    case Column::memory_per_gpu: return "memory_per_gpu";
    case Column::fits: return "fits";
    case Column::step_time: return "step_time";
    case Column::tokens_per_s: return "tokens_per_s";
    case Column::mfu: return "mfu";
    case Column::hfu: return "hfu";
    case Column::tp_efficiency: return "tp_efficiency";
    case Column::pipeline_bubble: return "pipeline_bubble";
    case Column::devices: return "devices";
    case Column::aspect_ratio: return "aspect_ratio";
    case Column::tokens_at_budget: return "tokens_at_budget";
    case Column::train_days: return "train_days";
  }
  return "?";
}

bool is_integer(Column column) {
  if (static_cast<int>(column) < configuration_columns) return true;
  switch (column) {
    case Column::params_total:
    case Column::params_embedding:
    case Column::params_non_embedding:
    case Column::params_active:
    case Column::devices: return true;
    default: return false;
  }
}

int parse_column(const std::string& name) {
  return static_cast<int>(detail::parse("column", name, all_columns));
}

void fill_configuration(const Architecture& a, const Workload& w, const Layout& l, double* row) {
  auto set = [row](Column c, double v) { row[static_cast<int>(c)] = v; };
  auto integer = [](std::int64_t v) { return static_cast<double>(v); };
  set(Column::d_model, integer(a.d_model));
  set(Column::n_layers, integer(a.n_layers));
  set(Column::n_heads, integer(a.n_heads));
  set(Column::n_kv_heads, integer(a.n_kv_heads));
  set(Column::head_dim, integer(a.head_dim));
  set(Column::d_ff, integer(a.d_ff));
  set(Column::ffn, static_cast<double>(a.ffn));
  set(Column::n_experts, integer(a.n_experts));
  set(Column::top_k, integer(a.top_k));
  set(Column::n_shared_experts, integer(a.n_shared_experts));
  set(Column::d_ff_expert, integer(a.d_ff_expert));
  set(Column::vocab_size, integer(a.vocab_size));
  set(Column::seq_len, integer(w.seq_len));
  set(Column::batch, integer(w.batch));
  set(Column::recompute, static_cast<double>(w.recompute));
  set(Column::tp, integer(l.tp));
  set(Column::pp, integer(l.pp));
  set(Column::dp, integer(l.dp));
  set(Column::ep, integer(l.ep));
  set(Column::zero, integer(l.zero));
  set(Column::microbatches, integer(l.microbatches));
}

void fill_row(const Grid& grid, const Architecture& a, const Workload& w, const Layout& l,
              const TrainingReport& r, double* row) {
  fill_configuration(a, w, l, row);
  auto set = [row](Column c, double v) { row[static_cast<int>(c)] = v; };
  auto integer = [](std::int64_t v) { return static_cast<double>(v); };
  const ParamCounts& p = r.totals.params;
  set(Column::params_total, integer(p.total));
  set(Column::params_embedding, integer(p.embedding));
  set(Column::params_non_embedding, integer(p.non_embedding));
  set(Column::params_active, integer(p.active));
  const FlopCounts& f = r.totals.flops;
  set(Column::flops_forward, f.forward);
  set(Column::flops_backward, f.backward);
  set(Column::flops_forward_causal, f.forward_causal);
  set(Column::flops_model, f.model);
  set(Column::flops_hardware, f.hardware);
  set(Column::flops_per_token, f.per_token);
  set(Column::flops_per_step, r.flops_per_step);
  set(Column::memory_weights, r.memory.weights);
  set(Column::memory_gradients, r.memory.gradients);
  set(Column::memory_optimizer, r.memory.optimizer);
  set(Column::memory_activations, r.memory.activations);
  set(Column::memory_activations_in_flight, r.memory.activations_in_flight);
  set(Column::memory_per_gpu, r.memory.per_gpu);
  set(Column::fits, r.memory.fits ? 1.0 : 0.0);
  set(Column::step_time, r.time.step);
  set(Column::tokens_per_s, r.time.tokens_per_s);
  set(Column::mfu, r.mfu);
  set(Column::hfu, r.hfu);
  set(Column::tp_efficiency, r.tp_efficiency);
  set(Column::pipeline_bubble, r.pipeline_bubble);
  set(Column::devices, integer(r.devices));
  set(Column::aspect_ratio, static_cast<double>(a.d_model) / static_cast<double>(a.n_layers));
  // A FLOP budget buys budget / (executed FLOPs per token) tokens, at this step rate.
  const double tokens = grid.compute > 0 ? grid.compute / (r.flops_per_step / r.time.tokens_per_step) : 0;
  set(Column::tokens_at_budget, tokens);
  set(Column::train_days, tokens / r.time.tokens_per_s / 86400);
}

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
                                     [&](std::uint64_t, const double*) { ++counts[t]; });
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
                              [&](std::uint64_t i, const double* row) {
                                std::copy(row, row + column_count, buffer.data() + held * column_count);
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
               evaluate_range(
                   g, hw, e, begin + first, begin + last, control,
                   [&](std::uint64_t i, const double* row) {
                     const Keyed item{descending ? -row[column] : row[column], i};
                     if (heap.size() < k) {
                       heap.push_back(item);
                       std::push_heap(heap.begin(), heap.end());
                     } else if (k > 0 && item < heap.front()) {
                       std::pop_heap(heap.begin(), heap.end());
                       heap.back() = item;
                       std::push_heap(heap.begin(), heap.end());
                     }
                   },
                   tp_baseline);
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
                   [&](std::uint64_t i, const double* row) {
                     fronts[t].add(x_descending ? -row[x] : row[x],
                                   y_descending ? -row[y] : row[y], i);
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
