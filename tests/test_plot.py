"""scalingperf.plot: each figure draws the package's own numbers, with titles, labels and
legends, and writes files that open at the size asked for."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp
from scalingperf import laws, plot
from scalingperf.presets import preset

pytest.importorskip("matplotlib")
from matplotlib.collections import PathCollection
from matplotlib.image import imread

GOPHER = 5.76e23  # Rae et al. 2021 / Hoffmann et al. 2022: Gopher's training FLOPs


@contextlib.contextmanager
def _extrapolating():
    """The tests read the laws beyond their fitted data, as the pictures draw them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", laws.ExtrapolationWarning)
        yield


def _stars(ax):
    return [line for line in ax.get_lines() if line.get_marker() == "*" and len(line.get_xdata())]


def _joined(ax, label):
    """x and y of a line drawn in two parts (solid inside the fitted data, dashed beyond)."""
    lines = ax.get_lines()
    i = next(i for i, line in enumerate(lines) if line.get_label() == label)
    x = np.asarray(lines[i].get_xdata(), dtype=float)
    y = np.where(np.isnan(lines[i].get_ydata()), lines[i + 1].get_ydata(), lines[i].get_ydata())
    return x, np.asarray(y, dtype=float)


@pytest.fixture(scope="module")
def sweep_result():
    grid = sp.Grid.isoflop(GOPHER, min_params=2e10, max_params=8e10, tp=[1, 4, 8],
                           pp=[1, 4, 8], n_gpus=512, global_batch=512, seq_len=2048, batch=1,
                           recompute=["selective", "full"])
    with pytest.warns(laws.ExtrapolationWarning):  # Chinchilla was fitted up to 16B
        return sp.sweep(grid, law="chinchilla")


def test_isoflop_marks_each_laws_own_optimum_on_its_profile():
    budgets = (1e19, 1e21)
    chosen = [laws.Chinchilla2022(approach=3), laws.Kaplan2020()]
    fig = plot.isoflop(budgets, chosen, points=30)
    assert fig.get_suptitle().startswith("IsoFLOP profiles")
    for ax, law in zip(fig.axes, chosen, strict=True):
        assert ax.get_title() == law.name
        assert ax.get_xlabel().startswith("model size N")
        assert ax.get_xscale() == "log"
        stars = _stars(ax)
        assert len(stars) == len(budgets)
        for star, c in zip(stars, budgets, strict=True):
            with _extrapolating():
                n_opt = law.compute_optimal(c)[0]
                loss = law.isoflop(c, n_opt)
            assert star.get_xdata()[0] == pytest.approx(n_opt)
            assert star.get_ydata()[0] == pytest.approx(loss)
    assert fig.axes[0].get_ylabel() == "predicted loss (nats/token)"
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:2] == ["$10^{19}$ FLOPs", "$10^{21}$ FLOPs"]
    assert "law's compute-optimal size" in labels


def test_isoflop_profile_values_are_the_laws():
    law = laws.Chinchilla2022(approach=3)
    fig = plot.isoflop([1e20], [law], points=25)
    n, loss = _joined(fig.axes[0], "$10^{20}$ FLOPs")
    assert len(n) == 25
    with _extrapolating():
        np.testing.assert_allclose(loss, law.isoflop(1e20, n), rtol=1e-12)
    # The law's optimum is the profile's minimum for a parametric law.
    assert n[np.argmin(loss)] == pytest.approx(law.compute_optimal(1e20)[0], rel=0.2)


def test_isoflop_refuses_a_law_without_a_loss_surface():
    with pytest.raises(ValueError, match="no loss surface"):
        plot.isoflop([1e21], ["chinchilla-2"])
    with pytest.raises(ValueError, match="law='nonsense' is invalid"):
        plot.isoflop([1e21], ["nonsense"])
    with pytest.raises(ValueError, match=r"laws=\[\] is invalid"):
        plot.isoflop([1e21], [])


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.floats(allow_nan=True), st.integers(-10, 10**6)))
def test_isoflop_checks_span_and_points_before_drawing(value):
    if isinstance(value, float):
        if 0.25 <= value <= 4:
            return
        with pytest.raises(ValueError, match="span="):
            plot.isoflop([1e21], span=value)
    elif not 10 <= value <= 10_000:
        with pytest.raises(ValueError, match="points="):
            plot.isoflop([1e21], points=value)


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.floats(max_value=0.999), st.floats(min_value=1.01e40),
                 st.just(float("nan")), st.just("1e21"), st.just(True)))
def test_budgets_outside_one_to_1e40_are_refused(budget):
    with pytest.raises(ValueError, match="budgets="):
        plot.isoflop([budget])


def test_frontier_loss_and_size_are_the_laws_allocation():
    fig = plot.frontier(["chinchilla", "chinchilla-1"], compute=(1e19, 1e24), mark=GOPHER,
                        points=20)
    ax_loss, ax_size = fig.axes
    law = laws.Chinchilla2022(approach=3)
    c, loss = _joined(ax_loss, law.name)
    assert c[0] == pytest.approx(1e19)
    assert c[-1] == pytest.approx(1e24)
    _, n = _joined(ax_size, law.name)
    with _extrapolating():
        np.testing.assert_allclose(loss, law.optimal_loss(c), rtol=1e-12)
        np.testing.assert_allclose(n, law.compute_optimal(c)[0], rtol=1e-12)
    # Approach 1 has no loss surface: on the size panel only.
    approach1 = laws.Chinchilla2022(approach=1).name
    assert approach1 not in [line.get_label() for line in ax_loss.get_lines()]
    assert approach1 in [line.get_label() for line in ax_size.get_lines()]
    assert [line.get_xdata()[0] for line in ax_loss.get_lines() if line.get_linestyle() == ":"] \
        == [GOPHER]
    assert ax_loss.get_xlabel() == "training compute C (FLOPs)"
    assert ax_loss.get_ylabel() == "least predicted loss (nats/token)"
    assert ax_size.get_yscale() == "log"


@pytest.mark.parametrize("compute", [(1e20,), (1e22, 1e20), (0.5, 1e20), (1e20, 1e20)])
def test_frontier_refuses_a_bad_compute_range(compute):
    with pytest.raises(ValueError, match="compute="):
        plot.frontier(compute=compute)


def test_pareto_draws_the_results_front_and_the_pick(sweep_result):
    fig = plot.pareto(sweep_result, "train_days", "loss", pick=3)
    (ax,) = fig.axes
    front = sweep_result.pareto("train_days", "loss")
    line = next(line for line in ax.get_lines() if line.get_label().startswith("Pareto front"))
    order = np.argsort(front["train_days"])
    np.testing.assert_array_equal(line.get_xdata(), front["train_days"][order])
    np.testing.assert_array_equal(line.get_ydata(), front["loss"][order])
    assert line.get_label() == f"Pareto front ({len(front)})"
    (star,) = _stars(ax)
    assert star.get_xdata()[0] == sweep_result["train_days"][3]
    assert star.get_label().startswith(f"pick: d_model {sweep_result['d_model'][3]}")
    assert ax.get_xlabel() == "training time (days)"
    assert ax.get_ylabel() == "predicted loss (nats/token)"
    assert ax.get_title().startswith(f"{len(sweep_result)} configurations")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    fits = int(sweep_result["fits"].sum())
    assert f"fits ({fits})" in labels


def test_pareto_of_a_plan_marks_its_best_first_candidate(sweep_result):
    """A plan (anything with ``candidates``, ranked best first) has row 0 marked."""
    ranked = sweep_result.top(len(sweep_result), by="loss")
    plan_like = SimpleNamespace(candidates=ranked, compute=GOPHER, gpus=512,
                                hardware=ranked.grid.hardware)
    fig = plot.pareto(plan_like, "train_days")
    (ax,) = fig.axes
    (star,) = _stars(ax)
    assert star.get_xdata()[0] == ranked["train_days"][0]
    assert star.get_ydata()[0] == ranked["loss"][0] == ranked["loss"].min()
    assert star.get_label().startswith("plan's pick: d_model")
    assert ax.get_title() == (f"Plan for $5.8 \\times 10^{{23}}$ FLOPs on 512 H100-SXM\n"
                              f"{len(ranked):,} candidates that fit")
    with pytest.raises(ValueError, match="column='days' is invalid"):
        plot.pareto(plan_like)  # a plan's own time column, which these rows lack


def test_pareto_in_display_units_and_directions(sweep_result):
    fig = plot.pareto(sweep_result, "step_time", "-mfu")
    (ax,) = fig.axes
    assert ax.get_ylabel() == "MFU (fraction of peak) (higher is better)"
    fig = plot.pareto(sweep_result, "memory_per_gpu", "step_time")
    line = next(line for line in fig.axes[0].get_lines()
                if line.get_label().startswith("Pareto front"))
    front = sweep_result.pareto("memory_per_gpu", "step_time")
    assert sorted(line.get_xdata()) == pytest.approx(sorted(front["memory_per_gpu"] / 2**30))
    assert fig.axes[0].get_xlabel() == "memory per GPU (GiB)"


def test_pareto_refusals(sweep_result):
    without_loss = sweep_result.where(np.ones(len(sweep_result), dtype=bool))
    grid = sp.Grid(d_model=[1024, 2048], n_layers=8, head_dim=128, seq_len=1024, batch=1)
    plain = sp.sweep(grid)
    with pytest.raises(ValueError, match=r"column='loss' is invalid.*with_loss"):
        plot.pareto(plain, "train_days", "loss")
    with pytest.raises(ValueError, match="pick=99999 is invalid"):
        plot.pareto(without_loss, pick=99999)
    with pytest.raises(ValueError, match="result=str is invalid"):
        plot.pareto("rows")
    with pytest.raises(ValueError, match="no rows"):
        plot.pareto(plain.where(np.zeros(len(plain), dtype=bool)), "step_time", "mfu")


def test_layers_bars_add_up_to_the_reports_totals():
    report = sp.estimate(preset("llama-2-7b"), batch=1, seq_len=4096, tp=8,
                         recompute="selective")
    fig = plot.layers(report)
    flops, memory, time = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["FLOPs", "Activation memory", "Time"]
    assert fig.get_suptitle().startswith("llama-2-7b: whole model, micro-batch of 1 x 4096")
    table = report.layers

    def total(ax, label):
        container = next(c for c in ax.containers if c.get_label() == label)
        return sum(bar.get_width() for bar in container)

    assert total(flops, "forward") == pytest.approx(
        (table.total("flops_forward") + table.total("elementwise_forward")) / 1e12)
    assert total(flops, "recompute") == pytest.approx(table.total("flops_recompute") / 1e12)
    assert total(memory, "saved activations") == pytest.approx(
        report.memory.activations / 2**30)
    assert total(time, "backward") == pytest.approx(table.total("time_backward") * 1e3)
    assert flops.get_yticklabels()[0].get_text() == "embedding · token_embedding"
    assert flops.get_xlabel() == "FLOPs of one micro-batch (TFLOP)"


def test_layers_per_layer_and_refusals():
    report = sp.estimate(preset("gpt2-small"), batch=2, seq_len=1024)
    fig = plot.layers(report, per="layer")
    container = next(c for c in fig.axes[0].containers if c.get_label() == "backward")
    row = report.layers.row("qkv_proj")
    widths = {t.get_text(): bar.get_width() for t, bar in
              zip(fig.axes[0].get_yticklabels(), container, strict=True)}
    assert widths["attention · qkv_proj"] == pytest.approx(
        (row["flops_backward"] + row["elementwise_backward"]) / 1e12)  # its bias add
    assert not [c for c in fig.axes[0].containers if c.get_label() == "recompute"]
    with pytest.raises(ValueError, match="per='step' is invalid"):
        plot.layers(report, per="step")
    with pytest.raises(ValueError, match="report=Architecture is invalid"):
        plot.layers(preset("gpt2-small"))


def test_tp_efficiency_draws_the_column_per_degree():
    grid = sp.Grid.kaplan_aspect(1e9, tp=[1, 2, 4], seq_len=2048, batch=1)
    result = sp.sweep(grid)
    fig = plot.tp_efficiency(result)
    width, depth = fig.axes
    assert [line.get_label() for line in width.get_lines()] == ["TP = 2", "TP = 4"]
    assert width.get_xlabel() == "width d_model"
    assert depth.get_xlabel() == "depth n_layers"
    assert width.get_ylabel().startswith("tensor-parallel efficiency")
    line = depth.get_lines()[1]
    rows = result["tp"] == 4
    assert sorted(line.get_ydata()) == pytest.approx(sorted(result["tp_efficiency"][rows]))
    # The DeepNarrow trade-off: the narrowest shape is the least efficient.
    x, y = width.get_lines()[0].get_xdata(), width.get_lines()[0].get_ydata()
    assert y[np.argmin(x)] < y[np.argmax(x)]
    with pytest.raises(ValueError, match="no rows with tp > 1"):
        plot.tp_efficiency(sp.sweep(sp.Grid.kaplan_aspect(1e9, seq_len=2048, batch=1)))


def test_validation_one_point_per_predicted_run():
    result = sp.validate()
    fig = plot.validation(result, by="device")
    points = sum(len(c.get_offsets()) for ax in fig.axes for c in ax.collections
                 if isinstance(c, PathCollection))
    assert points == len(result.predicted)
    titles = [ax.get_title() for ax in fig.axes]
    assert "step time: 10 runs" in titles or all(": " in t and t.endswith("runs") for t in titles)
    assert fig.get_suptitle().startswith(f"Predicted against measured: {len(result.predicted)}")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert set(legend) >= {r.hardware for r in result.predicted} | {"predicted = measured"}
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="by='colour' is invalid"):
        plot.validation(result, by="colour")


@pytest.mark.parametrize("dpi", [50, 100])
def test_png_opens_at_figure_size_times_dpi(tmp_path, dpi):
    fig = plot.frontier(["chinchilla"], points=10)
    target = tmp_path / "frontier.png"
    fig.savefig(target, dpi=dpi)
    image = imread(target)
    width, height = fig.get_size_inches() * dpi
    assert image.shape[:2] == (round(height), round(width))
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_svg_is_xml_with_the_title(tmp_path):
    fig = plot.frontier(["chinchilla"], points=10)
    target = tmp_path / "frontier.svg"
    fig.savefig(target)
    root = ET.parse(target).getroot()
    assert root.tag.endswith("svg")
    assert "Scaling-law frontiers" in target.read_text()


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"scalingperf\[plot\]"):
        plot.frontier()


def test_import_scalingperf_does_not_import_matplotlib(tmp_path):
    code = "import sys, scalingperf as sp; sp.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"


def test_readme_pictures_exist_and_are_the_ones_the_tool_draws(tmp_path):
    import importlib.util
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    shown = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", readme)
    assert len(shown) >= 2
    spec = importlib.util.spec_from_file_location("make_pictures", root / "tools/make_pictures.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert set(shown) == {f"docs/{name}.png" for name in tool.PICTURES}
    for path in shown:
        image = imread(root / path)
        assert image.shape[0] > 200
        assert image.shape[1] > 400
        assert (root / path).stat().st_size < 200_000  # small enough for the repository
    # The tool redraws a picture at the README's size.
    tool.DOCS = tmp_path
    tool.main(["isoflop"])
    redrawn = imread(tmp_path / "isoflop.png")
    assert redrawn.shape == imread(root / "docs/isoflop.png").shape
