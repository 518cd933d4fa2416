"""The grid and sweep contract as a new user meets it: workload fields from the grid or
from sweep(), modern defaults, only feasible rankings, results that say why points were
skipped, categorical and boolean columns, paired axes, and duration estimates."""

from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np
import pytest
from boundary import result_or_field_error
from hypothesis import given, settings
from hypothesis import strategies as st

import scalingperf as sp


def test_a_grid_is_a_description_the_workload_can_come_later():
    grid = sp.Grid(d_model=[2048], n_layers=[16], head_dim=128)
    assert len(grid) == 1
    result = sp.sweep(grid, batch=1, seq_len=4096)
    assert len(result) == 1
    assert result["seq_len"][0] == 4096
    for preset in (sp.Grid.deep_narrow(1e9), sp.Grid.uniform(1e9)):
        assert len(sp.sweep(preset, batch=1, seq_len=2048, top=3, by="-mfu")) == 3
    with pytest.raises(ValueError, match="batch is missing: give batch= to the Grid or to"):
        sp.sweep(grid, seq_len=4096)


def test_grids_default_to_a_modern_decoder():
    # An isoFLOP grid at 4,096 tokens: GPT-2's learned table of 2,048 rows emptied it.
    result = sp.sweep(sp.Grid.isoflop(1e21, min_params=1e8, max_params=1e9), batch=1,
                      seq_len=4096)
    assert len(result) > 0
    assert set(result["ffn"]) == {"swiglu"}
    arch = result.architecture(0)
    assert (arch.position, arch.norm, arch.ffn, arch.vocab_size) == (
        "rotary", "rmsnorm", "swiglu", 32000)
    assert result.report(0).time.step == result["step_time"][0]
    learned = sp.Grid(d_model=[1024], n_layers=[8], head_dim=64, position="learned",
                      max_position_embeddings=2048, seq_len=4096, batch=1)
    with pytest.warns(sp.SweepWarning, match="max_position_embeddings=2048"):
        assert len(sp.sweep(learned)) == 0


def _big_model_grid(**extra):
    return sp.Grid(d_model=range(1024, 8193, 1024), n_layers=range(8, 97, 8), head_dim=128,
                   seq_len=4096, batch=8, **extra)


def test_reductions_rank_only_what_fits_unless_told_otherwise():
    grid = _big_model_grid()
    table = sp.sweep(grid)
    assert table["fits"].dtype == np.bool_
    assert not table["fits"].all()  # the table keeps every row, and says which fit
    top = sp.sweep(grid, top=5, by="-mfu")
    assert top["fits"].all()
    assert np.array_equal(top.index, table.top(5, by="-mfu").index)
    everything = sp.sweep(grid, top=5, by="-mfu", feasible=False)
    assert not everything["fits"].all()
    assert np.array_equal(everything.index, table.top(5, by="-mfu", feasible=False).index)
    front = sp.sweep(grid, pareto=("step_time", "-params_total"))
    assert front["fits"].all()
    assert np.array_equal(front.index, table.pareto("step_time", "-params_total").index)
    assert front.skipped.as_dict()["does not fit in H100-SXM's memory (feasible=True)"] > 0


def test_the_skip_summary_accounts_for_every_point():
    grid = sp.Grid(d_model=[1000, 1024, 2048], n_layers=[6, 8], n_heads=16,
                   gqa_group=[1, 3], tp=[1, 2, 3], seq_len=1024, batch=1)
    result = sp.sweep(grid, where={"mfu": (0.2, None)})
    skipped = result.skipped
    checks = sum(count for reason, count, _ in skipped.reasons if not reason.startswith("where"))
    assert checks + skipped.valid == skipped.points == len(grid)
    rejected = skipped.as_dict()["where mfu in (0.2, None)"]
    # The where clause drops exactly the valid points under its bound, and some of them.
    below = int((np.asarray(sp.sweep(grid)["mfu"]) < 0.2).sum())
    assert rejected == below > 0
    assert skipped.valid - rejected == len(result) == skipped.kept
    reasons = skipped.as_dict()
    assert reasons["n_heads does not divide d_model"] == 2 * 2 * 3  # d_model=1000
    assert "tp does not divide the heads" in reasons
    text = str(result)
    assert "grid points" in text
    assert "tp does not divide the heads" in text


def test_an_empty_sweep_warns_with_its_reasons_and_why_invalid_names_the_bound():
    grid = _big_model_grid(max_memory="40GB", params=(5e9, 5.5e9))
    with pytest.warns(sp.SweepWarning) as caught:
        result = sp.sweep(grid)
    assert len(result) == 0
    message = str(caught[0].message)
    assert "max_memory='40GB'" in message
    assert "params=" in message
    reasons = [grid.why_invalid(i) for i in range(len(grid))]
    assert all(reason is not None for reason in reasons)
    assert any("max_memory" in reason for reason in reasons if reason)


def test_categorical_columns_are_names_everywhere(tmp_path):
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    from scalingperf.export import write_result

    grid = sp.Grid(d_model=[1024], n_layers=[8], head_dim=64, ffn=["gelu", "swiglu"],
                   recompute=["none", "full"], seq_len=1024, batch=1)
    result = sp.sweep(grid)
    assert list(result["ffn"]) == ["gelu", "gelu", "swiglu", "swiglu"]
    assert list(result["recompute"]) == ["none", "full", "none", "full"]
    assert result.row(0)["fits"] is True
    frame = result.to_pandas()
    assert isinstance(frame["ffn"].dtype, pd.CategoricalDtype)
    assert list(frame["recompute"]) == ["none", "full", "none", "full"]
    assert frame["fits"].dtype == bool
    table = result.to_arrow()
    assert pa.types.is_dictionary(table.schema.field("ffn").type)
    assert table.column("recompute").to_pylist() == ["none", "full", "none", "full"]
    write_result(result, tmp_path / "rows.json")
    data = json.loads((tmp_path / "rows.json").read_text())
    assert data["ffn"][0] == "gelu"
    assert data["fits"][0] is True
    write_result(result, tmp_path / "rows.csv")
    assert "swiglu" in (tmp_path / "rows.csv").read_text()


def _rows_equal_single_points(grid, result):
    core = grid._build()
    for r, i in enumerate(result.index):
        point = sp._core.grid_point(core, int(i), grid.hardware._core, grid.efficiency)
        row = np.array([result._raw(c)[r] for c in sp.sweep_columns()], dtype=np.float64)
        assert np.array_equal(row, np.asarray(point))


def test_paired_axes_walk_together():
    pairs = [(1024, 8), (2048, 16), (4096, 32)]
    grid = sp.Grid(d_model=[d for d, _ in pairs], n_layers=[n for _, n in pairs],
                   zip=[("d_model", "n_layers")], head_dim=128, seq_len=2048, batch=1,
                   tp=[1, 2])
    assert len(grid) == 6
    result = sp.sweep(grid)
    assert sorted(set(zip(result["d_model"], result["n_layers"], strict=True))) == pairs
    _rows_equal_single_points(grid, result)
    shapes = sp.Grid(shapes=[{"d_model": d, "n_layers": n} for d, n in pairs], head_dim=128,
                     seq_len=2048, batch=1, tp=[1, 2])
    assert np.array_equal(sp.sweep(shapes).index, result.index)
    # Zipped layouts (tp, pp) and a zipped depth with axes inside it (no shape reuse).
    layouts = sp.Grid(d_model=[2048, 4096], n_layers=[16, 32], head_dim=128,
                      gqa_group=[1, 4], seq_len=[1024, 2048], batch=1, tp=[1, 2, 4],
                      pp=[4, 2, 1], zip=[("tp", "pp"), ("n_layers", "gqa_group")],
                      n_gpus=8, global_batch=64)
    assert len(layouts) == 2 * 2 * 2 * 3
    zipped = sp.sweep(layouts)
    assert set(zip(zipped["tp"], zipped["pp"], strict=True)) <= {(1, 4), (2, 2), (4, 1)}
    assert np.all(zipped["tp"] * zipped["pp"] * zipped["dp"] == 8)
    _rows_equal_single_points(layouts, zipped)


def test_scalar_derived_values_are_applied():
    grid = sp.Grid(d_model=[4096], n_layers=[8], head_dim=128, gqa_group=8, ffn_ratio=4.0,
                   ffn="gelu", seq_len=1024, batch=1)
    row = sp.sweep(grid).row(0)
    assert row["n_kv_heads"] == 4
    assert row["d_ff"] == 4 * 4096


def test_a_sweep_says_how_long_it_will_take():
    grid = _big_model_grid()
    seconds = grid.estimate_seconds()
    assert math.isfinite(seconds)
    assert seconds > 0
    # Per point, about what the sweep costs (within a wide margin: this machine is noisy).
    assert seconds / len(grid) < 1e-3
    with pytest.raises(ValueError, match="samples=0"):
        grid.estimate_seconds(samples=0)


def test_thread_counts_are_capped_at_a_multiple_of_the_cores():
    grid = sp.Grid(d_model=range(512, 4097, 64), n_layers=range(2, 40), head_dim=64,
                   seq_len=512, batch=1)
    reference = sp.sweep(grid, threads=1)
    assert np.array_equal(sp.sweep(grid, threads=500).index, reference.index)
    tasks = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 0
    assert tasks <= 4 * (os.cpu_count() or 1) + 16


huge_or_odd = st.one_of(
    st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([2**63 - 1, 2**63, -2**63, 9.22e18, 1e300, 5e-324, 0, -1, 1.5]))


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(["d_model", "n_layers", "head_dim", "gqa_group", "ffn_ratio",
                              "n_experts", "vocab_size", "seq_len", "batch", "tp", "pp",
                              "zero", "microbatches"]),
       value=huge_or_odd, as_axis=st.booleans())
def test_any_value_is_refused_by_name_or_gives_sane_rows(field, value, as_axis):
    spec = dict(d_model=[1024], n_layers=[4], head_dim=128, seq_len=256, batch=1)
    spec[field] = [value] if as_axis else value
    grid = result_or_field_error(lambda: sp.Grid(**spec))
    if grid is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SweepWarning)
        result = result_or_field_error(lambda: sp.sweep(grid))
    if result is None:
        return
    for column in ("step_time", "memory_per_gpu", "mfu", "params_total"):
        assert np.all(np.isfinite(result[column].astype(float)))
        assert np.all(result[column] > 0)


_FILTERED_SWEEP = """
import resource, warnings
resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
import scalingperf as sp
warnings.simplefilter("ignore", sp.SweepWarning)
grid = sp.Grid(d_model=range(256, 16385, 16), n_layers=range(1, 129), head_dim=16,
               seq_len=[512, 1024, 2048, 4096, 8192, 16384], batch=[1, 2, 4, 8],
               recompute=["none", "full"], where={"mfu": (0.9, None)})
result = sp.sweep(grid, chunk=2**17)
print(len(grid), len(result))
"""


def test_a_filtered_sweep_keeps_only_its_rows_in_memory(tmp_path):
    # 6.2 M points in 47 chunks of 30 MiB under a 1 GiB address-space limit: each chunk's
    # buffer (room for every point, as rows are only known once costed) is let go once
    # its kept rows are copied out (it was kept to the end: 1.4 GiB).
    import subprocess
    import sys

    # Run outside the source tree, which would shadow the installed package.
    done = subprocess.run([sys.executable, "-c", _FILTERED_SWEEP], capture_output=True,
                          text=True, check=False, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    points, kept = map(int, done.stdout.split())
    assert points == 1009 * 128 * 6 * 4 * 2
    assert kept == 0


@pytest.mark.parametrize(("extra", "outcome"), [
    # d_ff = ratio x d_model rounded to the multiple: formed in floating point and checked
    # against d_ff's limit before it becomes an integer (it overflowed int64 before).
    (dict(ffn_ratio=[2**24], ffn_multiple=2**24), "ffn_ratio x d_model is above d_ff's limit"),
    # tp x pp and batch x dp: each factor is range-checked first, so no product overflows.
    (dict(tp=[2**20], pp=[2**20], n_gpus=2**20), "tp x cp x pp does not divide n_gpus"),
    (dict(n_gpus=2**62), "n_gpus=4611686018427387904 is invalid"),
    (dict(global_batch=2**62), "global_batch=4611686018427387904 is invalid"),
])
def test_products_of_extreme_values_are_refused_not_overflowed(extra, outcome):
    spec = dict(d_model=[2**20], n_layers=[4], head_dim=128, seq_len=8, batch=[2**24], **extra)
    if "is invalid" in outcome:
        with pytest.raises(ValueError, match=outcome):
            sp.Grid(**spec)
        return
    with pytest.warns(sp.SweepWarning):
        result = sp.sweep(sp.Grid(**spec))
    assert result.skipped.as_dict() == {outcome: 1}
