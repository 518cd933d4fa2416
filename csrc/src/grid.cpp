#include "scalingperf/grid.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "checks.hpp"

namespace scalingperf {

namespace {
constexpr AxisKind all_axes[] = {
    AxisKind::d_model, AxisKind::n_layers, AxisKind::n_heads, AxisKind::head_dim,
    AxisKind::n_kv_heads, AxisKind::gqa_group, AxisKind::d_ff, AxisKind::ffn_ratio,
    AxisKind::ffn, AxisKind::n_experts, AxisKind::top_k, AxisKind::n_shared_experts,
    AxisKind::d_ff_expert, AxisKind::attention_window, AxisKind::global_every,
    AxisKind::vocab_size, AxisKind::seq_len, AxisKind::batch,
    AxisKind::recompute, AxisKind::tp, AxisKind::cp, AxisKind::pp, AxisKind::dp, AxisKind::ep,
    AxisKind::zero, AxisKind::microbatches};

constexpr FfnKind ffn_kinds[] = {FfnKind::gelu, FfnKind::relu, FfnKind::swiglu, FfnKind::geglu,
                                 FfnKind::xielu, FfnKind::none, FfnKind::reglu};
constexpr Recompute recompute_modes[] = {Recompute::none, Recompute::selective, Recompute::full,
                                         Recompute::per_op};

// A C string: most points of a grid fail some check, and building a std::string for every
// one of them (when nobody asked why) cost more than the checks.
bool fail(std::string* why, const char* reason) {
  if (why != nullptr) *why = reason;
  return false;
}
}  // namespace

const char* name_of(AxisKind kind) {
  switch (kind) {
    case AxisKind::d_model: return "d_model";
    case AxisKind::n_layers: return "n_layers";
    case AxisKind::n_heads: return "n_heads";
    case AxisKind::head_dim: return "head_dim";
    case AxisKind::n_kv_heads: return "n_kv_heads";
    case AxisKind::gqa_group: return "gqa_group";
    case AxisKind::d_ff: return "d_ff";
    case AxisKind::ffn_ratio: return "ffn_ratio";
    case AxisKind::ffn: return "ffn";
    case AxisKind::n_experts: return "n_experts";
    case AxisKind::top_k: return "top_k";
    case AxisKind::n_shared_experts: return "n_shared_experts";
    case AxisKind::d_ff_expert: return "d_ff_expert";
    case AxisKind::attention_window: return "attention_window";
    case AxisKind::global_every: return "global_every";
    case AxisKind::vocab_size: return "vocab_size";
    case AxisKind::seq_len: return "seq_len";
    case AxisKind::batch: return "batch";
    case AxisKind::recompute: return "recompute";
    case AxisKind::tp: return "tp";
    case AxisKind::cp: return "cp";
    case AxisKind::pp: return "pp";
    case AxisKind::dp: return "dp";
    case AxisKind::ep: return "ep";
    case AxisKind::zero: return "zero";
    case AxisKind::microbatches: return "microbatches";
  }
  return "?";
}

AxisKind parse_axis(const std::string& name) { return detail::parse("axis", name, all_axes); }

int axis_level(AxisKind kind) {
  if (kind <= AxisKind::vocab_size) return 0;
  if (kind <= AxisKind::recompute) return 1;
  return 2;
}

namespace {
/// The range the core accepts for an axis's values.
struct AxisRange {
  double lo, hi;
  bool whole;
};

AxisRange axis_range(AxisKind kind) {
  constexpr double max_degree = double(std::int64_t{1} << 20);
  switch (kind) {
    case AxisKind::d_model: return {1, double(limits::d_model), true};
    case AxisKind::n_layers: return {1, double(limits::n_layers), true};
    case AxisKind::n_heads: return {1, double(limits::n_heads), true};
    case AxisKind::head_dim: return {1, double(limits::head_dim), true};
    case AxisKind::n_kv_heads: return {1, double(limits::n_heads), true};
    case AxisKind::gqa_group: return {1, double(limits::n_heads), true};
    case AxisKind::d_ff: return {1, double(limits::d_ff), true};
    // d_ff = ratio x d_model must stay within d_ff's limit for some d_model.
    case AxisKind::ffn_ratio: return {1.0 / 1024, double(limits::d_ff), false};
    case AxisKind::ffn: return {0, 3, true};
    case AxisKind::n_experts: return {0, double(limits::n_experts), true};
    case AxisKind::top_k: return {1, double(limits::n_experts), true};
    case AxisKind::n_shared_experts: return {0, double(limits::n_shared_experts), true};
    case AxisKind::d_ff_expert: return {1, double(limits::d_ff), true};
    case AxisKind::attention_window: return {0, double(limits::max_position_embeddings), true};
    case AxisKind::global_every: return {0, double(limits::n_layers), true};
    case AxisKind::vocab_size: return {1, double(limits::vocab_size), true};
    case AxisKind::seq_len: return {1, double(limits::seq_len), true};
    case AxisKind::batch: return {1, double(limits::batch), true};
    case AxisKind::recompute:
      return {0, static_cast<double>(std::size(recompute_modes) - 1), true};
    case AxisKind::tp: case AxisKind::cp: case AxisKind::pp: case AxisKind::dp:
    case AxisKind::ep:
      return {1, max_degree, true};
    case AxisKind::zero: return {0, 3, true};
    case AxisKind::microbatches: return {1, double(std::int64_t{1} << 24), true};
  }
  return {0, 0, true};
}
}  // namespace

void check_axis(const Axis& axis) {
  const AxisRange range = axis_range(axis.kind);
  for (double v : axis.values) {
    // NaN fails every comparison: refused here too.
    if (!(v >= range.lo && v <= range.hi) || (range.whole && v != std::floor(v))) {
      std::ostringstream msg;
      msg.precision(17);  // every digit the user gave, never rounded into the range
      msg << name_of(axis.kind) << "=";
      if (std::abs(v) < 9e15 && v == std::floor(v)) {
        msg << static_cast<std::int64_t>(v);  // exact: whole and far inside int64
      } else {
        msg << v;
      }
      msg << " is invalid: ";
      if (range.whole) {
        msg << "axis values must be whole numbers in [" << static_cast<std::int64_t>(range.lo)
            << ", " << static_cast<std::int64_t>(range.hi) << "]";
      } else {
        msg << "axis values must be in [" << range.lo << ", " << range.hi << "]";
      }
      throw std::invalid_argument(msg.str());
    }
  }
}

std::uint64_t grid_size(const Grid& grid) {
  constexpr std::uint64_t limit = std::uint64_t{1} << 62;
  std::uint64_t size = 1;
  for (std::size_t a = 0; a < grid.axes.size(); ++a) {
    const Axis& axis = grid.axes[a];
    if (axis.values.empty()) {
      throw std::invalid_argument(std::string("axis ") + name_of(axis.kind) + " has no values");
    }
    if (axis.follows) {
      const Axis* leader = a > 0 ? &grid.axes[a - 1] : nullptr;
      if (leader == nullptr || axis_level(leader->kind) != axis_level(axis.kind)) {
        throw std::invalid_argument(std::string("axis ") + name_of(axis.kind) +
                                    " is zipped with an axis of another kind: zip model axes "
                                    "with model axes, workload with workload, layout with layout");
      }
      if (leader->values.size() != axis.values.size()) {
        throw std::invalid_argument(
            std::string("zipped axes ") + name_of(leader->kind) + " and " + name_of(axis.kind) +
            " have " + std::to_string(leader->values.size()) + " and " +
            std::to_string(axis.values.size()) + " values: zipped axes need as many each");
      }
      continue;
    }
    const std::uint64_t n = axis.values.size();
    if (size > limit / n) {
      throw std::invalid_argument(
          "grid is too large: more than 2^62 configurations; reduce or coarsen some axes");
    }
    size *= n;
  }
  return size;
}

GridCursor::GridCursor(const Grid& grid, std::uint64_t index, std::size_t axes) {
  const std::size_t n = std::min(axes, grid.axes.size());
  digits_.resize(n);
  sizes_.resize(n);
  levels_.resize(n);
  follows_.resize(n);
  for (std::size_t a = n; a-- > 0;) {
    const std::uint64_t size = grid.axes[a].values.size();
    sizes_[a] = static_cast<std::uint32_t>(size);
    levels_[a] = axis_level(grid.axes[a].kind);
    follows_[a] = grid.axes[a].follows;
    if (follows_[a]) continue;
    digits_[a] = static_cast<std::uint32_t>(index % size);
    index /= size;
  }
  for (std::size_t a = 1; a < n; ++a) {
    if (follows_[a]) digits_[a] = digits_[a - 1];
  }
}

namespace {
/// Moves `digits` from axis `first` on to the next combination, the last axis fastest
/// (an axis that follows takes its leader's digit); returns the outermost axis whose digit
/// changed without wrapping, or SIZE_MAX when all of them wrapped to zero.
template <class Size, class Follows>
std::size_t step_digits(std::vector<std::uint32_t>& digits, std::size_t first, Size&& size,
                        Follows&& follows) {
  for (std::size_t a = digits.size(); a-- > first;) {
    if (follows(a)) continue;
    const bool carry = ++digits[a] == size(a);
    if (carry) digits[a] = 0;
    for (std::size_t f = a + 1; f < digits.size() && follows(f); ++f) digits[f] = digits[a];
    if (!carry) return a;
  }
  return SIZE_MAX;
}
}  // namespace

int GridCursor::advance() {
  const std::size_t a = step_digits(
      digits_, 0, [&](std::size_t i) { return sizes_[i]; },
      [&](std::size_t i) { return static_cast<bool>(follows_[i]); });
  if (a == SIZE_MAX) {
    changed_axis_ = 0;
    return 0;  // wrapped past the end: every digit changed
  }
  changed_axis_ = a;
  return levels_[a];
}

bool next_digits(const Grid& grid, std::vector<std::uint32_t>& digits, std::size_t first) {
  return step_digits(
             digits, first, [&](std::size_t a) { return grid.axes[a].values.size(); },
             [&](std::size_t a) { return grid.axes[a].follows; }) != SIZE_MAX;
}

namespace {
/// The axes of one level, read at the cursor's digits.
template <class Set>
void decode(const Grid& grid, int level, const std::vector<std::uint32_t>& digits, Set&& set) {
  for (std::size_t a = 0; a < grid.axes.size(); ++a) {
    const Axis& axis = grid.axes[a];
    if (axis_level(axis.kind) == level) set(axis.kind, axis.values[digits[a]]);
  }
}
}  // namespace

namespace {
/// A model point's axis values over the base's. They are decoded and checked before the
/// base is copied: the copy (the whole Architecture, its layer lists included) cost more
/// than the checks, and half the points of a shape grid fail them.
struct ModelAxes {
  std::int64_t d_model, n_layers, n_heads, head_dim, n_kv_heads, gqa_group, d_ff;
  double ffn_ratio;
  FfnKind ffn;
  std::int64_t n_experts, top_k, n_shared_experts, d_ff_expert, attention_window,
      global_every, vocab_size;

  explicit ModelAxes(const Architecture& a)
      : d_model(a.d_model), n_layers(a.n_layers), n_heads(a.n_heads), head_dim(a.head_dim),
        n_kv_heads(a.n_kv_heads), gqa_group(0), d_ff(a.d_ff), ffn_ratio(0), ffn(a.ffn),
        n_experts(a.n_experts), top_k(a.top_k), n_shared_experts(a.n_shared_experts),
        d_ff_expert(a.d_ff_expert), attention_window(a.attention_window),
        global_every(a.global_every), vocab_size(a.vocab_size) {}

  void set(AxisKind kind, double value) {
    const auto integer = static_cast<std::int64_t>(value);
    switch (kind) {
      case AxisKind::d_model: d_model = integer; break;
      case AxisKind::n_layers: n_layers = integer; break;
      case AxisKind::n_heads: n_heads = integer; break;
      case AxisKind::head_dim: head_dim = integer; break;
      case AxisKind::n_kv_heads: n_kv_heads = integer; break;
      case AxisKind::gqa_group: gqa_group = integer; break;
      case AxisKind::d_ff: d_ff = integer; break;
      case AxisKind::ffn_ratio: ffn_ratio = value; break;
      case AxisKind::ffn: ffn = ffn_kinds[integer]; break;
      case AxisKind::n_experts: n_experts = integer; break;
      case AxisKind::top_k: top_k = integer; break;
      case AxisKind::n_shared_experts: n_shared_experts = integer; break;
      case AxisKind::d_ff_expert: d_ff_expert = integer; break;
      case AxisKind::attention_window: attention_window = integer; break;
      case AxisKind::global_every: global_every = integer; break;
      case AxisKind::vocab_size: vocab_size = integer; break;
      default: break;
    }
  }

  /// Derived dimensions; cheap divisibility checks before the core's full validation.
  bool derive(const Grid& grid, std::string* why) {
    if (grid.derive_heads) {
      if (head_dim <= 0 || d_model % head_dim != 0) {
        return fail(why, "head_dim does not divide d_model");
      }
      n_heads = d_model / head_dim;
    }
    if (n_heads <= 0 || (head_dim == 0 && d_model % n_heads != 0)) {
      return fail(why, "n_heads does not divide d_model");
    }
    if (gqa_group > 0) {
      if (n_heads % gqa_group != 0) return fail(why, "gqa_group does not divide n_heads");
      n_kv_heads = n_heads / gqa_group;
    }
    if (n_kv_heads > 0 && n_heads % n_kv_heads != 0) {
      return fail(why, "n_kv_heads does not divide n_heads");
    }
    if (ffn_ratio > 0) {
      const double multiple = static_cast<double>(grid.ffn_multiple);
      const double width = std::ceil(ffn_ratio * static_cast<double>(d_model) / multiple) *
                           multiple;  // in floating point: checked before it is an integer
      if (width > static_cast<double>(limits::d_ff)) {
        return fail(why, "ffn_ratio x d_model is above d_ff's limit");
      }
      d_ff = static_cast<std::int64_t>(width);
    }
    if (n_experts <= 1 && top_k > 1) return fail(why, "top_k > 1 needs experts");
    if (n_experts > 1 && top_k > n_experts) return fail(why, "top_k > n_experts");
    return true;
  }

  void apply(Architecture& a) const {
    a.d_model = d_model;
    a.n_layers = n_layers;
    a.n_heads = n_heads;
    a.head_dim = head_dim;
    a.n_kv_heads = n_kv_heads;
    a.d_ff = d_ff;
    a.ffn = ffn;
    a.n_experts = n_experts;
    a.top_k = top_k;
    a.n_shared_experts = n_shared_experts;
    a.d_ff_expert = d_ff_expert;
    a.attention_window = attention_window;
    a.global_every = global_every;
    a.vocab_size = vocab_size;
  }
};
}  // namespace

bool model_point(const Grid& grid, const std::vector<std::uint32_t>& digits, Architecture& arch,
                 std::string* why) {
  ModelAxes axes(grid.base);
  decode(grid, 0, digits, [&](AxisKind kind, double value) { axes.set(kind, value); });
  if (!axes.derive(grid, why)) return false;
  arch = grid.base;
  axes.apply(arch);
  return resolve_in_place(arch, why);
}

bool workload_point(const Grid& grid, const std::vector<std::uint32_t>& digits,
                    const Architecture& arch, Workload& work, std::string* why) {
  work = grid.work;
  decode(grid, 1, digits, [&](AxisKind kind, double value) {
    const auto integer = static_cast<std::int64_t>(value);
    switch (kind) {
      case AxisKind::seq_len: work.seq_len = integer; break;
      case AxisKind::batch: work.batch = integer; break;
      case AxisKind::recompute: work.recompute = recompute_modes[integer]; break;
      default: break;
    }
  });
  return is_valid(arch, work, why);
}

Layout layout_values(const Grid& grid, const std::vector<std::uint32_t>& digits) {
  Layout layout = grid.layout;
  decode(grid, 2, digits, [&](AxisKind kind, double value) {
    const auto integer = static_cast<std::int64_t>(value);
    switch (kind) {
      case AxisKind::tp: layout.tp = integer; break;
      case AxisKind::cp: layout.cp = integer; break;
      case AxisKind::pp: layout.pp = integer; break;
      case AxisKind::dp: layout.dp = integer; break;
      case AxisKind::ep: layout.ep = integer; break;
      case AxisKind::zero: layout.zero = integer; break;
      case AxisKind::microbatches: layout.microbatches = integer; break;
      default: break;
    }
  });
  return layout;
}

bool derive_layout(const Grid& grid, const Workload& work, Layout& layout, std::string* why) {
  if (grid.n_gpus > 0) {
    const std::int64_t model = layout.tp * layout.cp * layout.pp;
    if (model <= 0 || grid.n_gpus % model != 0) {
      return fail(why, "tp x cp x pp does not divide n_gpus");
    }
    layout.dp = grid.n_gpus / model;
  }
  if (grid.global_batch > 0) {
    const std::int64_t per_step = work.batch * layout.dp;
    if (per_step <= 0 || grid.global_batch % per_step != 0) {
      return fail(why, "batch x dp does not divide global_batch");
    }
    layout.microbatches = grid.global_batch / per_step;
  }
  if (layout.cp > 1 && work.seq_len % (2 * layout.cp) != 0) {
    return fail(why, "2 x cp does not divide seq_len");
  }
  if (work.offload_layers > 0 && layout.pp > 1) {
    return fail(why, "offload_layers needs pp=1 (Megatron-Core offloads no pipeline stage)");
  }
  return true;
}

bool check_layout(const LayoutLimits& model, Layout& layout, std::string* why) {
  if (layout.tp <= 0 || model.n_heads % layout.tp != 0 || model.n_kv_heads % layout.tp != 0) {
    return fail(why, "tp does not divide the heads");
  }
  const bool even = layout.first_stage_layers < 0 && layout.last_stage_layers < 0 &&
                    !layout.embedding_in_split && !layout.loss_in_split;
  if (layout.pp <= 0 || (even && model.n_layers % layout.pp != 0)) {
    return fail(why, "pp does not divide n_layers");
  }
  if (layout.ep > 1 &&
      (model.n_experts % layout.ep != 0 ||
       (layout.tp * data_ranks(layout)) % (layout.ep * expert_tp(layout)) != 0)) {
    return fail(why, "ep does not divide n_experts, or ep x etp does not divide tp x cp x dp");
  }
  if (layout.zero > 0 && data_ranks(layout) == 1) return fail(why, "ZeRO needs dp x cp > 1");
  return resolve_in_place(model, layout, why);
}

bool layout_point(const Grid& grid, const std::vector<std::uint32_t>& digits,
                  const Architecture& arch, const Workload& work, Layout& layout,
                  std::string* why) {
  layout = layout_values(grid, digits);
  return derive_layout(grid, work, layout, why) &&
         check_layout(layout_limits(arch), layout, why);
}

LayoutBlock layout_block(const Grid& grid, std::uint64_t max_size) {
  LayoutBlock block{grid.axes.size(), 1};
  while (block.first_axis > 0) {
    const Axis& axis = grid.axes[block.first_axis - 1];
    const std::uint64_t n = extent(axis);
    if (axis_level(axis.kind) != 2 || (block.size > 1 && block.size * n > max_size)) break;
    block.size *= n;
    --block.first_axis;
  }
  // A zip is never split: axes that follow one outside the block stay outside with it.
  while (block.first_axis < grid.axes.size() && grid.axes[block.first_axis].follows) {
    ++block.first_axis;
  }
  return block;
}

bool grid_point(const Grid& grid, std::uint64_t index, Architecture& arch, Workload& work,
                Layout& layout, std::string* why) {
  const GridCursor cursor(grid, index);
  return model_point(grid, cursor.digits(), arch, why) &&
         workload_point(grid, cursor.digits(), arch, work, why) &&
         layout_point(grid, cursor.digits(), arch, work, layout, why);
}

}  // namespace scalingperf
