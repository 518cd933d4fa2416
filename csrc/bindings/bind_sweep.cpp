#include "pybind11.hpp"

#include <chrono>
#include <cmath>
#include <future>
#include <memory>
#include <limits>
#include <thread>

#include "scalingperf/grid.hpp"
#include "scalingperf/parallel_for.hpp"
#include "scalingperf/sweep.hpp"

namespace sp = scalingperf;

namespace {

/// Runs `work` on a driver thread while this thread, holding the GIL between short waits,
/// reports progress and turns Ctrl-C into a cancel request and KeyboardInterrupt.
template <class Work>
auto run_interruptible(sp::SweepControl& control, std::uint64_t total,
                       const py::object& progress, Work&& work) {
  // A grid this small is done sooner than a driver thread starts (AutoML loops sweep
  // small grids many times a second): run it here, without the GIL.
  if (total < sp::serial_threshold) {
    auto result = [&] {
      py::gil_scoped_release release;
      return work();
    }();
    if (!progress.is_none()) progress(total, total);
    return result;
  }
  // The work runs on a cached thread (see run_on_cached_thread), this one watches it. The
  // promise is shared: the worker may still be inside set_value when this thread wakes.
  using Result = decltype(work());
  auto promise = std::make_shared<std::promise<Result>>();
  auto future = promise->get_future();
  sp::detail::run_on_cached_thread([promise, &work] {
    try {
      promise->set_value(work());
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  for (;;) {
    std::future_status status;
    {
      py::gil_scoped_release release;
      status = future.wait_for(std::chrono::milliseconds(50));
    }
    if (status == std::future_status::ready) break;
    bool failed = PyErr_CheckSignals() != 0;
    if (!failed && !progress.is_none()) {
      try {
        progress(control.done.load(std::memory_order_relaxed), total);
      } catch (py::error_already_set&) {
        failed = true;
        control.cancel = true;
        py::gil_scoped_release release;
        future.wait();
        throw;
      }
    }
    if (failed) {
      control.cancel = true;
      {
        py::gil_scoped_release release;
        future.wait();
      }
      throw py::error_already_set();
    }
  }
  auto result = future.get();  // rethrows a worker's exception
  if (!progress.is_none()) progress(total, total);
  return result;
}

void check_index_range(const sp::Grid& grid, std::uint64_t begin, std::uint64_t end) {
  const std::uint64_t size = sp::grid_size(grid);
  if (begin > end || end > size) {
    throw std::out_of_range("index range [" + std::to_string(begin) + ", " +
                            std::to_string(end) + ") is outside the grid of " +
                            std::to_string(size) + " points");
  }
}

/// What a sweep left out after costing: rows outside each bound, layouts not costed.
py::dict left_out(const sp::SweepControl& control, const sp::Grid& g) {
  py::list rejected;
  for (std::size_t b = 0; b < g.bounds.size(); ++b) rejected.append(control.rejected[b].load());
  py::dict out;
  out["rejected"] = rejected;
  out["pruned"] = control.pruned.load();
  return out;
}

}  // namespace

void bind_sweep(py::module_& m) {
  py::class_<sp::Grid>(m, "Grid", "A grid of configurations as the core sees it.")
      .def(py::init([](const sp::Architecture& base, py::list axes, std::int64_t batch,
                       std::int64_t seq_len, const std::string& recompute,
                       const std::string& dtype, bool flash_attention, bool dropout,
                       const std::string& implementation, std::int64_t tp, std::int64_t pp,
                       std::int64_t dp, std::int64_t ep, std::int64_t zero,
                       std::int64_t microbatches, std::int64_t interleave,
                       bool sequence_parallel, const std::string& optimizer,
                       std::int64_t ffn_multiple, bool derive_heads, std::int64_t n_gpus,
                       std::int64_t global_batch, double compute, py::list bounds,
                       std::int64_t cp, std::int64_t first_stage_layers,
                       std::int64_t middle_stage_layers, std::int64_t last_stage_layers, bool embedding_in_split,
                       bool loss_in_split, std::int64_t recompute_every, std::int64_t etp,
                       std::int64_t shard, const std::string& ep_dispatcher,
                       const std::vector<std::string>& recompute_modules,
                       bool fused_elementwise, std::int64_t offload_layers,
                       bool fp32_gradients) {
             sp::Grid g;
             g.base = base;
             g.work = sp::Workload{batch, seq_len, sp::parse_recompute(recompute),
                                   sp::parse_dtype(dtype), flash_attention, dropout,
                                   sp::parse_implementation(implementation),
                                   recompute_every,
                                   sp::parse_recompute_modules(recompute_modules)};
             g.work.fused_elementwise = fused_elementwise;
             g.work.offload_layers = offload_layers;
             g.work.fp32_gradients = fp32_gradients;
             g.layout = sp::Layout{tp, pp, dp, ep, zero, microbatches, interleave,
                                   sequence_parallel, sp::parse_optimizer(optimizer), cp};
             g.layout.first_stage_layers = first_stage_layers;
             g.layout.middle_stage_layers = middle_stage_layers;
             g.layout.last_stage_layers = last_stage_layers;
             g.layout.embedding_in_split = embedding_in_split;
             g.layout.loss_in_split = loss_in_split;
             g.layout.etp = etp;
             g.layout.shard = shard;
             g.layout.ep_dispatcher = sp::parse_ep_dispatcher(ep_dispatcher);
             int level = 0;
             for (auto item : axes) {
               auto spec = item.cast<std::tuple<std::string, std::vector<double>, bool>>();
               sp::Axis axis{sp::parse_axis(std::get<0>(spec)), std::move(std::get<1>(spec)),
                             std::get<2>(spec)};
               if (sp::axis_level(axis.kind) < level) {
                 throw std::invalid_argument("axes must be ordered model, workload, layout");
               }
               level = sp::axis_level(axis.kind);
               sp::check_axis(axis);
               g.axes.push_back(std::move(axis));
             }

             // Upper limits keep every product the grid forms (d_ff from ffn_ratio, dp from
             // n_gpus, micro-batches from global_batch) far from 64-bit overflow.
             constexpr std::int64_t max_world = std::int64_t{1} << 20;
             constexpr std::int64_t max_global_batch = std::int64_t{1} << 40;
             if (ffn_multiple < 1 || ffn_multiple > (std::int64_t{1} << 24)) {
               throw std::invalid_argument("ffn_multiple=" + std::to_string(ffn_multiple) +
                                           " is invalid: allowed range is [1, 16777216]");
             }
             if (n_gpus < 0 || n_gpus > max_world) {
               throw std::invalid_argument("n_gpus=" + std::to_string(n_gpus) +
                                           " is invalid: allowed range is [1, 1048576] (0: "
                                           "no fixed world size)");
             }
             if (global_batch < 0 || global_batch > max_global_batch) {
               throw std::invalid_argument("global_batch=" + std::to_string(global_batch) +
                                           " is invalid: allowed range is [1, 2^40] (0: none)");
             }
             if (bounds.size() > sp::max_bounds) {
               throw std::invalid_argument("a grid takes at most 32 bounds on its columns");
             }
             if (!(std::isfinite(compute) && compute >= 0)) {
               throw std::invalid_argument("compute must be a finite FLOP budget >= 0");
             }
             g.ffn_multiple = ffn_multiple;
             g.derive_heads = derive_heads;
             g.n_gpus = n_gpus;
             g.global_batch = global_batch;
             g.compute = compute;
             for (auto item : bounds) {
               auto bound = item.cast<std::tuple<std::string, double, double>>();
               const auto& [column, lo, hi] = bound;
               if (lo > hi) {  // NaN (no bound) compares false
                 throw std::invalid_argument("bound on " + column + " is invalid: its lower "
                                             "end is above its upper end");
               }
               g.bounds.push_back(sp::Bound{sp::parse_column(column), lo, hi});
             }
             sp::grid_size(g);  // refuse a grid whose size overflows, up front
             return g;
           }),
           py::arg("base"), py::arg("axes"), py::arg("batch"), py::arg("seq_len"),
           py::arg("recompute"), py::arg("dtype"), py::arg("flash_attention"),
           py::arg("dropout"), py::arg("implementation"), py::arg("tp"), py::arg("pp"),
           py::arg("dp"), py::arg("ep"), py::arg("zero"), py::arg("microbatches"),
           py::arg("interleave"), py::arg("sequence_parallel"), py::arg("optimizer"),
           py::arg("ffn_multiple"), py::arg("derive_heads"), py::arg("n_gpus"),
           py::arg("global_batch"), py::arg("compute"), py::arg("bounds"), py::arg("cp") = 1,
           py::arg("first_stage_layers") = -1, py::arg("middle_stage_layers") = -1,
           py::arg("last_stage_layers") = -1,
           py::arg("embedding_in_split") = false, py::arg("loss_in_split") = false,
           py::arg("recompute_every") = 0, py::arg("etp") = 0, py::arg("shard") = 0,
           py::arg("ep_dispatcher") = "all_to_all",
           py::arg("recompute_modules") = std::vector<std::string>{"core_attn"},
           py::arg("fused_elementwise") = true, py::arg("offload_layers") = 0,
           py::arg("fp32_gradients") = false)
      .def_property_readonly("size", [](const sp::Grid& g) { return sp::grid_size(g); });

  py::list names;
  for (int c = 0; c < sp::column_count; ++c) names.append(sp::name_of(static_cast<sp::Column>(c)));
  m.attr("SWEEP_COLUMNS") = py::tuple(names);

  m.def(
      "grid_point",
      [](const sp::Grid& g, std::uint64_t index, const sp::Hardware& hw,
         const sp::Efficiency& e) -> py::object {
        check_index_range(g, index, index + 1);
        sp::Architecture arch;
        sp::Workload work;
        sp::Layout layout;
        std::string why;
        if (!sp::grid_point(g, index, arch, work, layout, &why)) return py::str(why);
        const sp::TrainingReport report = sp::estimate_training(arch, work, layout, hw, e);
        std::vector<double> row(sp::column_count);
        sp::fill_row(sp::RowInputs{g, arch, work, layout, report}, row.data());
        return py::cast(row);
      },
      py::arg("grid"), py::arg("index"), py::arg("hardware"), py::arg("efficiency"),
      "The row at index (all columns), or why the point is invalid.");

  py::list integer_names;
  for (int c = 0; c < sp::column_count; ++c) {
    if (sp::is_integer(static_cast<sp::Column>(c))) {
      integer_names.append(sp::name_of(static_cast<sp::Column>(c)));
    }
  }
  m.attr("SWEEP_INTEGER_COLUMNS") = py::tuple(integer_names);
  m.attr("SWEEP_CONFIGURATION_COLUMNS") =
      py::tuple(names[py::slice(0, sp::configuration_columns, 1)]);

  m.def(
      "sweep_rows",
      [](const sp::Grid& g, const sp::Hardware& hw, const sp::Efficiency& e,
         std::uint64_t begin, std::uint64_t end, unsigned threads, const py::object& progress) {
        check_index_range(g, begin, end);
        sp::RowPlan plan;
        {
          py::gil_scoped_release release;
          plan = sp::plan_rows(g, begin, end, threads);
        }
        const auto n = static_cast<py::ssize_t>(plan.capacity);
        // One allocation for the index and every column, each a view of it: large enough
        // for NumPy to back it with huge pages, where separate column-sized arrays would
        // each take thousands of page faults as the workers first write them.
        // The configuration columns are left out: decode_configurations gives them.
        const int first = sp::configuration_columns;
        py::array_t<double> block({static_cast<py::ssize_t>(sp::column_count - first + 1), n});
        auto* base = reinterpret_cast<char*>(block.mutable_data());
        const auto slot = [&](int k) { return base + k * n * static_cast<py::ssize_t>(8); };
        const auto view = [&](const py::dtype& dtype, int k) {
          return py::array(dtype, {n}, {py::ssize_t{8}}, slot(k), block);
        };
        py::dict out;
        std::vector<void*> columns(sp::column_count, nullptr);
        for (int c = first; c < sp::column_count; ++c) {
          const auto column = static_cast<sp::Column>(c);
          columns[c] = slot(c - first + 1);
          out[sp::name_of(column)] =
              view(sp::is_integer(column) ? py::dtype::of<std::int64_t>() : py::dtype::of<double>(),
                   c - first + 1);
        }
        py::array index = view(py::dtype::of<std::int64_t>(), 0);
        auto* index_data = reinterpret_cast<std::int64_t*>(slot(0));
        sp::SweepControl control;
        // The workers touch only the fresh arrays above and the grid, which this frame
        // keeps alive: safe without the GIL.
        const std::uint64_t count = run_interruptible(control, end - begin, progress, [&] {
          return sp::sweep_rows(g, hw, e, begin, end, plan, columns.data(), index_data,
                                control);
        });
        return py::make_tuple(count, index, out, left_out(control, g));
      },
      py::arg("grid"), py::arg("hardware"), py::arg("efficiency"), py::arg("begin"),
      py::arg("end"), py::arg("threads") = 0, py::arg("progress") = py::none(),
      "Valid rows of [begin, end): (count, index, cost columns); decode_configurations "
      "gives the configuration columns from the index.");

  m.def(
      "decode_configurations",
      [](const sp::Grid& g, const py::array_t<std::int64_t, py::array::c_style |
                                                            py::array::forcecast>& index,
         unsigned threads) {
        const auto n = static_cast<std::size_t>(index.size());
        std::vector<py::array_t<std::int64_t>> arrays;
        std::vector<std::int64_t*> columns;
        for (int c = 0; c < sp::configuration_columns; ++c) {
          arrays.emplace_back(static_cast<py::ssize_t>(n));
          columns.push_back(arrays.back().mutable_data());
        }
        {
          py::gil_scoped_release release;
          sp::decode_configurations(g, index.data(), n, columns.data(), threads);
        }
        py::dict out;
        for (int c = 0; c < sp::configuration_columns; ++c) {
          out[sp::name_of(static_cast<sp::Column>(c))] = arrays[c];
        }
        return out;
      },
      py::arg("grid"), py::arg("index"), py::arg("threads") = 0,
      "The configuration columns (int64) of valid points given by their flat indices.");

  m.def(
      "sweep_top",
      [](const sp::Grid& g, const sp::Hardware& hw, const sp::Efficiency& e,
         std::uint64_t begin, std::uint64_t end, std::size_t k, const std::string& by,
         bool descending, unsigned threads, const py::object& progress) {
        check_index_range(g, begin, end);
        const int column = sp::parse_column(by);
        sp::SweepControl control;
        auto indices = run_interruptible(control, end - begin, progress, [&] {
          return sp::sweep_top(g, hw, e, begin, end, k, column, descending, threads, control);
        });
        return py::make_tuple(indices, left_out(control, g));
      },
      py::arg("grid"), py::arg("hardware"), py::arg("efficiency"), py::arg("begin"),
      py::arg("end"), py::arg("k"), py::arg("by"), py::arg("descending"),
      py::arg("threads") = 0, py::arg("progress") = py::none());

  m.def(
      "sweep_pareto",
      [](const sp::Grid& g, const sp::Hardware& hw, const sp::Efficiency& e,
         std::uint64_t begin, std::uint64_t end, const std::string& x, bool x_descending,
         const std::string& y, bool y_descending, unsigned threads, const py::object& progress) {
        check_index_range(g, begin, end);
        const int cx = sp::parse_column(x);
        const int cy = sp::parse_column(y);
        sp::SweepControl control;
        auto indices = run_interruptible(control, end - begin, progress, [&] {
          return sp::sweep_pareto(g, hw, e, begin, end, cx, x_descending, cy, y_descending,
                                  threads, control);
        });
        return py::make_tuple(indices, left_out(control, g));
      },
      py::arg("grid"), py::arg("hardware"), py::arg("efficiency"), py::arg("begin"),
      py::arg("end"), py::arg("x"), py::arg("x_descending"), py::arg("y"),
      py::arg("y_descending"), py::arg("threads") = 0, py::arg("progress") = py::none());

  m.def(
      "skip_reasons",
      [](const sp::Grid& g, std::uint64_t begin, std::uint64_t end, unsigned threads) {
        check_index_range(g, begin, end);
        sp::SkipSummary summary;
        {
          py::gil_scoped_release release;
          summary = sp::skip_reasons(g, begin, end, threads);
        }
        py::list reasons;
        for (const sp::SkipReason& r : summary.reasons) {
          reasons.append(py::make_tuple(r.reason, r.points, r.example));
        }
        return py::make_tuple(reasons, summary.valid);
      },
      py::arg("grid"), py::arg("begin"), py::arg("end"), py::arg("threads") = 0,
      "Why points of [begin, end) are not configurations, before any costing: "
      "([(reason, points, example message)], valid points).");

  m.def(
      "check_axis",
      [](const std::string& name, std::vector<double> values) {
        sp::check_axis(sp::Axis{sp::parse_axis(name), std::move(values)});
      },
      py::arg("name"), py::arg("values"),
      "Raises ValueError when a value is outside the range the core accepts for the axis.");
}
