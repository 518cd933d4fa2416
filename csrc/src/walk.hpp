#pragma once
// The walk over a grid that every sweep output shares (private to the core): outer points
// (model and workload) times a block of layouts, with what is kept across them.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scalingperf/columns.hpp"
#include "scalingperf/grid.hpp"
#include "scalingperf/model_costs.hpp"
#include "scalingperf/sweep.hpp"
#include "scalingperf/training.hpp"

namespace scalingperf::detail {

/// Points between updates of the shared progress counter.
constexpr std::uint64_t progress_step = 4096;

/// The first bound a row fails, or -1 when it passes them all.
inline int failed_bound(const std::vector<Bound>& bounds, const RowInputs& row) {
  for (std::size_t b = 0; b < bounds.size(); ++b) {
    const double v = column_value(row, bounds[b].column);
    if (v < bounds[b].lo || v > bounds[b].hi) return static_cast<int>(b);  // NaN: no bound
  }
  return -1;
}

/// What a walk left out after costing, summed per thread and added to the shared counts
/// once, when the walk ends.
struct LeftOut {
  std::uint64_t rejected[max_bounds] = {};
  std::uint64_t pruned = 0;
  void report(SweepControl& control, std::size_t bounds) const {
    for (std::size_t b = 0; b < bounds; ++b) {
      if (rejected[b] != 0) control.rejected[b].fetch_add(rejected[b], std::memory_order_relaxed);
    }
    if (pruned != 0) control.pruned.fetch_add(pruned, std::memory_order_relaxed);
  }
};

/// The inner block's layouts for one micro-batch: derived (dp, microbatches) but not yet
/// checked against a model, and each prepared the first time a model accepts it (the
/// resolved layout does not depend on which model accepted it).
struct BlockLayouts {
  std::int64_t batch;
  std::vector<std::optional<Layout>> derived;  ///< nullopt: the derivation failed
  std::vector<std::optional<PreparedLayout>> prepared;
};

inline BlockLayouts derive_block(const Grid& g, const LayoutBlock& block,
                          std::vector<std::uint32_t>& digits, const Workload& work) {
  BlockLayouts out{work.batch, {}, {}};
  out.derived.reserve(block.size);
  out.prepared.resize(block.size);
  std::fill(digits.begin() + static_cast<std::ptrdiff_t>(block.first_axis), digits.end(), 0);
  for (std::uint64_t offset = 0; offset < block.size; ++offset) {
    Layout layout = layout_values(g, digits);
    out.derived.push_back(derive_layout(g, work, layout) ? std::optional<Layout>(layout)
                                                         : std::nullopt);
    next_digits(g, digits, block.first_axis);
  }
  return out;
}

/// A layout of the inner block that is valid for the current model and micro-batch.
struct Choice {
  std::uint64_t offset;
  const PreparedLayout* layout;
  /// Numbers runs of consecutive choices with the same StepBound (same_step_bound).
  std::uint32_t bound_group;
};

/// The valid layouts of the inner block for one model, in offset order, gathered in
/// `scratch` first so that `out` is allocated once at its size.
inline void choose_layouts(BlockLayouts& block, const LayoutLimits& model,
                           std::vector<Choice>& scratch, std::vector<Choice>& out) {
  scratch.clear();
  for (std::uint64_t offset = 0; offset < block.derived.size(); ++offset) {
    if (!block.derived[offset]) continue;
    Layout layout = *block.derived[offset];
    if (!check_layout(model, layout)) continue;
    if (!block.prepared[offset]) block.prepared[offset] = prepare(layout);
    const bool same_bound =
        !scratch.empty() && same_step_bound(scratch.back().layout->layout, layout);
    const std::uint32_t group =
        scratch.empty() ? 0 : scratch.back().bound_group + (same_bound ? 0 : 1);
    scratch.push_back({offset, &*block.prepared[offset], group});
  }
  out.assign(scratch.begin(), scratch.end());
}

/// A layout's tensor split as a key: tp, sequence parallelism and cp (attention's rate
/// follows seq_len / cp), ep and expert tp (a device reads only its own experts' weights,
/// whose GEMMs take ep ranks' tokens). Degrees are below 2^21 (parallel.cpp's bounds).
struct SplitKey {
  std::uint64_t parallel, experts;
  bool operator==(const SplitKey& other) const {
    return parallel == other.parallel && experts == other.experts;
  }
};
inline SplitKey split_key(std::int64_t tp, bool sequence_parallel, std::int64_t cp,
                          std::int64_t ep, std::int64_t etp) {
  const auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
  return {u(tp) | u(cp) << 21 | u(sequence_parallel ? 1 : 0) << 42, u(ep) | u(etp) << 21};
}
inline SplitKey split_key(const Layout& l) {
  return split_key(l.tp, l.sequence_parallel, l.cp, l.ep, expert_tp(l));
}
/// The key of single_device_tensor(l), without building it.
inline SplitKey split_key_at_tp1(const Layout& l) {
  return split_key(1, false, l.cp, l.ep, l.etp > 0 ? l.etp : 1);
}

/// Seconds of one instance of each section under one tensor split.
struct SplitSeconds {
  SplitKey key;
  InstanceSeconds seconds;
};

/// A model's shape (all but its depth) under one workload, with its roofline seconds per
/// tensor split: kept while only the depth and the axes inside it change.
struct ShapeEntry {
  // User-provided, so that DepthReuse's resize does not zero every entry's op records
  // (value-initialisation zeroes a class whose default constructor is implicit): kilobytes
  // per entry, per chunk of rows; an entry is read only once `ready`.
  ShapeEntry() {}  // NOLINT(modernize-use-equals-default): `= default` would zero it
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
    // Zipped with another axis, the depth's digit changes the shape too: no reuse.
    const bool zipped = g.axes[depth_].follows ||
                        (depth_ + 1 < g.axes.size() && g.axes[depth_ + 1].follows);
    if (zipped) {
      depth_ = none;
      return;
    }
    std::uint64_t count = 1;
    for (std::size_t a = depth_ + 1; a < outer_axes; ++a) {
      count *= extent(g.axes[a]);
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
    for (std::size_t a = depth_ + 1; a < last_; ++a) {
      if (!g.axes[a].follows) k = k * g.axes[a].values.size() + digits[a];
    }
    return &entries_[k];
  }

 private:
  static constexpr std::size_t none = SIZE_MAX;
  std::size_t depth_ = none, last_ = 0;
  std::vector<ShapeEntry> entries_;
};

/// The current model's section seconds under each split (SplitKey) its layouts use, computed the first time one
/// needs them: from the shape's instance seconds for that split (kept across depths in its
/// ShapeEntry) and the model's instances. A reference from at() lasts until the next
/// at(), one from at_tp1() until the next at_tp1(): the two keep apart lists.
class TensorSplits {
 public:
  TensorSplits(const Hardware& hw, const Efficiency& e) : hw_(hw), e_(e) {}
  /// For a new model or workload: its shape, costs and seconds at tp = 1 of the grid's
  /// base layout (its cp and expert split).
  void reset(ShapeEntry& shape, const Workload& work, const ModelCosts& costs,
             const Layout& base) {
    shape_ = &shape;
    work_ = &work;
    instances_ = &costs.instances;
    base_ = split_key_at_tp1(base);
    at_tp1_ = section_seconds(shape.at_tp1, costs.instances);
    splits_.clear();
    tp1_by_cp_.clear();
  }
  /// The seconds at tp = 1 with the layout's cp: the tensor-parallel efficiency's baseline.
  const SectionSeconds& at_tp1(const Layout& layout) {
    const SplitKey key = split_key_at_tp1(layout);
    if (key == base_) return at_tp1_;
    return kept(tp1_by_cp_, key, [&] { return seconds(single_device_tensor(layout), key); });
  }
  const SectionSeconds& at(const Layout& layout) {
    const SplitKey key = split_key(layout);
    if (key == base_) return at_tp1_;
    return kept(splits_, key, [&] { return seconds(layout, key); });
  }

 private:
  SectionSeconds seconds(const Layout& layout, const SplitKey& key) {
    // The shape's instance seconds under this split, kept across depths.
    const InstanceSeconds& instance = kept(shape_->splits, key, [&] {
      return instance_seconds(shape_->shape, roofline(*work_, layout, hw_, e_));
    });
    return section_seconds(instance, *instances_);
  }

  /// The seconds kept in `splits` for the split `key`, computed by `make` the first time.
  template <class Splits, class Make>
  static const decltype(Splits::value_type::seconds)& kept(Splits& splits, const SplitKey& key,
                                                          Make&& make) {
    for (const auto& split : splits) {
      if (split.key == key) return split.seconds;
    }
    splits.push_back({key, make()});
    return splits.back().seconds;
  }
  struct Split {
    SplitKey key;
    SectionSeconds seconds;
  };
  const Hardware& hw_;
  const Efficiency& e_;
  ShapeEntry* shape_ = nullptr;
  const Workload* work_ = nullptr;
  const std::array<double, section_count>* instances_ = nullptr;
  SectionSeconds at_tp1_;
  std::vector<Split> splits_, tp1_by_cp_;
  SplitKey base_{};  ///< the grid's base layout at tp = 1: what at_tp1_ was computed for
};

/// What the rows of the current outer point share when they are bounded: the model,
/// workload, costs and tensor splits, and the last StepBound computed with its
/// Choice::bound_group (layouts next to each other often differ only in their ZeRO stage).
struct OuterBounds {
  const Architecture& arch;
  const Workload& work;
  const ModelCosts& costs;
  const Machine& machine;
  TensorSplits& splits;
  bool valid = false;  ///< whether `last` is of the current choices
  std::uint32_t group = 0;
  StepBound last{};
};

/// What a layout's row is known to be before it is costed, each part computed the first
/// time a reduction asks for it: the bound on its step (StepBound), a floor under its
/// memory and its memory.
class RowBounds {
 public:
  RowBounds(OuterBounds& outer, const Choice& choice) : outer_(outer), choice_(choice) {}
  // Inlined: most rows reuse their neighbour's bound.
  [[gnu::always_inline]] const StepBound& step() {
    if (outer_.valid && outer_.group == choice_.bound_group) return outer_.last;
    return new_step();
  }
  double memory_floor() {
    const PreparedLayout& l = *choice_.layout;
    return scalingperf::memory_floor(outer_.arch, outer_.work, outer_.costs, l.layout, l.factors);
  }
  double memory_per_gpu() {
    if (!memory_per_gpu_) {
      const PreparedLayout& l = *choice_.layout;
      memory_per_gpu_ = memory(outer_.arch, outer_.work, outer_.costs, l.layout, l.factors,
                               outer_.machine.hw)
                            .per_gpu;
    }
    return *memory_per_gpu_;
  }

 private:
  [[gnu::noinline]] const StepBound& new_step() {
    const PreparedLayout& layout = *choice_.layout;
    outer_.last = step_bound(outer_.arch, outer_.work, outer_.costs, layout, outer_.machine,
                             outer_.splits.at(layout.layout));
    outer_.valid = true;
    outer_.group = choice_.bound_group;
    return outer_.last;
  }
  OuterBounds& outer_;
  const Choice& choice_;
  std::optional<double> memory_per_gpu_;
};

/// A reduction that never skips a layout before costing it.
struct NoPruning {
  static constexpr bool active = false;
  bool operator()(RowBounds&) const { return false; }
};


/// Calls on_row(index, &inputs) for each valid row of [begin, end) that passes the bounds
/// (with `evaluate` false: on_row(index, nullptr) for each valid point, nothing costed or
/// bounded); the consumer reads the columns it needs (fill_row, column_value). A layout
/// for which `prune` says yes, from its RowBounds, is not costed. The grid is walked
/// as outer points (model and workload, whose costs are kept while only inner digits
/// change) times a block of layouts, checked once per model and micro-batch.
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
  bool totals_ready = false;  // costs.totals: left until a row of a pruning walk needs them
  TensorSplits splits(hw, e);
  OuterBounds bounds{arch, work, costs, calibrated, splits};
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
  std::vector<Choice> scratch_choices;
  // The current model's choices by micro-batch, found without hashing while it lasts.
  std::vector<std::pair<std::int64_t, const std::vector<Choice>*>> model_choices;
  const std::vector<Choice>* choices = nullptr;
  std::vector<std::uint32_t> digits(g.axes.size(), 0);
  std::uint64_t outer = begin / block.size;
  GridCursor cursor(g, outer, block.first_axis);
  int changed = 0;  // the outermost level whose digits changed since the last outer point
  bool model_ok = false, workload_ok = false;
  std::uint64_t unreported = 0;
  LeftOut left_out;
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
        // An MTP module copies the last layer's kind, which the depth may change.
        if (kept == nullptr || !shape->ready || shape->shape.mtp_kind != arch.mtp_kind) {
          model_shape(arch, work, shape->shape);
          shape->at_tp1 = instance_seconds(
              shape->shape, roofline(work, single_device_tensor(g.layout), hw, e));
          shape->splits.clear();
          shape->ready = true;
        }
        model_costs(shape->shape, arch, costs, !Prune::active);
        totals_ready = !Prune::active;
        splits.reset(*shape, work, costs, single_device_tensor(g.layout));
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
        choose_layouts(*layouts, key.limits, scratch_choices, found->second);
      }
      choices = &found->second;
      model_choices.emplace_back(work.batch, choices);
    }
    if (model_ok && workload_ok) {
      bounds.valid = false;  // the choices, model or workload may have changed
      for (const Choice& choice : *choices) {
        if (choice.offset < lo) continue;
        if (choice.offset >= hi) break;
        if constexpr (!evaluate) {
          on_row(base + choice.offset, nullptr);
          continue;
        }
        if constexpr (Prune::active) {
          RowBounds row_bounds(bounds, choice);
          if (prune(row_bounds)) {
            ++left_out.pruned;
            continue;
          }
          if (!totals_ready) {
            add_totals(shape->shape, costs);
            totals_ready = true;
          }
        }
        const Layout& layout = choice.layout->layout;
        const TrainingReport report =
            estimate_training(arch, work, costs, *choice.layout, calibrated,
                              splits.at_tp1(layout), splits.at(layout), tp_baseline);
        const RowInputs row{g, arch, work, layout, report};
        const int failed = failed_bound(g.bounds, row);
        if (failed < 0) {
          on_row(base + choice.offset, &row);
        } else {
          ++left_out.rejected[failed];
        }
      }
    }
    unreported += hi - lo;
    if (unreported >= progress_step) {
      control.done.fetch_add(unreported, std::memory_order_relaxed);
      unreported = 0;
    }
  }
  control.done.fetch_add(unreported, std::memory_order_relaxed);
  left_out.report(control, g.bounds.size());
}

}  // namespace scalingperf::detail
