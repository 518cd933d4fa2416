"""The command line driven as a user types it: in a folder outside the source tree, through
the installed ``scalingperf`` entry point; exit codes, stdout, the files written, and a
pipe closed early (``| head``) without a traceback."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

VERBS = ("estimate", "sweep", "plan", "laws", "fit", "validate", "hardware", "presets", "plot")


def run(cwd: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["scalingperf", *args], capture_output=True, text=True, check=False,
                          cwd=cwd, env=env)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("scalingperf: error: ")
    return lines[0]


def test_version(tmp_path):
    from scalingperf import __version__

    result = run(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"scalingperf {__version__}"


@pytest.mark.parametrize("verb", VERBS)
def test_help_on_every_verb(tmp_path, verb):
    result = run(tmp_path, verb, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: scalingperf {verb}")


def test_plan_on_defaults_answers_the_gopher_question(tmp_path):
    result = run(tmp_path, "plan")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Plan for 5.76e23 FLOPs on 1,024 x H100-SXM (bf16)")
    for part in ("Loss-optimal size by law", "Chinchilla2022(approach=3)", "Answer",
                 "Why this one", "Assumptions", "days", "GiB", "MFU", "TP efficiency",
                 "The best 10 models"):
        assert part in out
    assert list(tmp_path.iterdir()) == []  # nothing written without --out
    # The pick comes with a learning rate and batch, the law named, beside the plan's batch.
    answer = out.split("Answer\n")[1].split("\n\n")[0]
    lr = next(line for line in answer.splitlines() if line.startswith("  lr "))
    assert " peak by DeepSeek 2024* (eq. 1 at C = M D = " in lr
    assert "; Step Law 2025*: " in lr
    batch = answer.split("  batch ")[1]
    assert "sequences) by DeepSeek 2024*; Step Law 2025*: " in batch
    assert "the plan steps with 2.1 M tokens (1,024 sequences), " in batch


def test_plan_json_and_out(tmp_path):
    result = run(tmp_path, "plan", "--compute", "1e22", "--gpus", "64", "--json",
                 "--out", "candidates.csv")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["question"]["compute"] == 1e22
    assert data["question"]["gpus"] == 64
    assert data["best"]["days"] > 0
    deepseek, steplaw = data["best"]["hyperparameters"]
    assert (deepseek["law"], steplaw["law"]) == ("DeepSeek2024", "StepLaw2025")
    assert 0 < steplaw["learning_rate"] < 1
    assert deepseek["batch_tokens"] > 0
    assert deepseek["plan_batch_ratio"] == pytest.approx(
        data["question"]["seq_len"] * data["question"]["global_batch"]
        / deepseek["batch_tokens"])
    with open(tmp_path / "candidates.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == data["candidates"]["count"]
    assert float(rows[0]["loss"]) == pytest.approx(data["best"]["loss"])
    assert {row["n_experts"] for row in rows} <= {"0", "1"}
    assert {row["family"] for row in rows} <= {"standard", "deep-narrow", "kaplan-aspect"}


def test_plan_out_parquet_names_its_categories(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    result = run(tmp_path, "plan", "--compute", "1e21", "--gpus", "32",
                 "--show", "0", "--out", "candidates.parquet")
    assert result.returncode == 0, result.stderr
    table = pq.read_table(tmp_path / "candidates.parquet")
    assert set(table.column("family").to_pylist()) <= {"standard", "deep-narrow",
                                                       "kaplan-aspect"}
    assert set(table.column("recompute").to_pylist()) <= {"none", "selective", "full", "per_op"}
    assert table.num_rows > 0


def test_plan_inverse_from_gpus_and_days(tmp_path):
    result = run(tmp_path, "plan", "--gpus", "256", "--days", "14", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["question"]["days"] == 14
    assert data["best"]["days"] == pytest.approx(14)
    assert 0 < data["assumed_mfu"] < 1


def test_plan_for_a_fixed_dataset_and_for_serving(tmp_path):
    data = run(tmp_path, "plan", "--compute", "1e23", "--gpus", "512", "--tokens", "2e11",
               "--json")
    assert data.returncode == 0, data.stderr
    answer = json.loads(data.stdout)
    assert answer["question"]["unique_tokens"] == 2e11
    assert answer["question"]["law"].startswith("Muennighoff 2023")
    serving = run(tmp_path, "plan", "--compute", "1e23", "--gpus", "512",
                  "--inference-tokens", "5e12")
    assert serving.returncode == 0, serving.stderr
    assert "serving 5 T tokens after training" in serving.stdout


def test_plan_with_routed_variants(tmp_path):
    result = run(tmp_path, "plan", "--compute", "1e22", "--gpus", "64", "--moe", "--show", "0",
                 "--out", "candidates.csv")
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "candidates.csv", newline="") as file:
        families = {row["family"] for row in csv.DictReader(file)}
    assert "moe" in families


def test_plan_on_another_device(tmp_path):
    result = run(tmp_path, "plan", "--compute", "1e21", "--gpus", "64", "--hardware",
                 "A100-SXM4-80GB", "--show", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Plan for 1e21 FLOPs on 64 x A100-SXM4-80GB (bf16)")
    assert "The best 3 models" in result.stdout


def test_plan_refuses_an_unwritable_out_before_the_search(tmp_path):
    message = one_line_error(run(tmp_path, "plan", "--out", "no/such/folder/x.csv"))
    assert "out=" in message
    message = one_line_error(run(tmp_path, "plan", "--out", "x.txt"))
    assert ".csv" in message


@pytest.mark.parametrize(("args", "needle"), [
    (("plan", "--compute", "-1"), "--compute"),
    (("plan", "--days", "0"), "--days"),
    (("plan", "--gpus", "0"), "gpus=0"),
    (("plan", "--law", "gpt"), "--law"),
    (("plan", "--gpus", "1"), "nothing fits"),
    (("laws", "--compute", "abc"), "--compute"),
    (("sweep",), "the sweep is empty"),
    (("estimate", "--d-model", "512"), "n_layers is missing"),
    (("estimate", "--preset", "gpt2-small", "--d-model", "512"), "--preset and --d-model"),
    (("fit", "missing.csv"), "runs='missing.csv'"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, needle):
    assert needle in one_line_error(run(tmp_path, *args))


def test_laws_json_side_by_side(tmp_path):
    result = run(tmp_path, "laws", "--compute", "1e24", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["compute"] == 1e24
    rows = {row["law"]: row for row in data["rows"]}
    assert {"Chinchilla2022(approach=3)", "Kaplan2020", "Muennighoff2023"} <= set(rows)
    # The rule of thumb: 20 tokens per parameter, C = 6 N D.
    rule = rows["TokensPerParameter(20)"]
    assert rule["tokens"] == pytest.approx(20 * rule["params"])
    assert 6 * rule["params"] * rule["tokens"] == pytest.approx(1e24)
    table = run(tmp_path, "laws", "--params", "7e9")
    assert table.returncode == 0
    assert "Scaling laws at params=7e+09" in table.stdout


def test_fit_a_csv_of_runs(tmp_path):
    from scalingperf.laws import ParametricLaw

    # Runs drawn from a known law (Hoffmann et al. 2022's eq. 10 constants, 0.3 % noise):
    # the fit must find its exponents within the reported intervals' spread.
    truth = ParametricLaw(1.69, 406.4, 410.7, 0.34, 0.28, fitted_range={})
    rng = np.random.default_rng(0)
    path = tmp_path / "runs.csv"
    with open(path, "w") as file:
        file.write("params,tokens,loss\n")
        file.writelines(f"{n},{d},{truth.loss(n, d) * np.exp(rng.normal(0, 0.003))}\n"
                        for n in (1e8, 3e8, 1e9, 3e9) for d in (5e9, 1.5e10, 5e10, 1.5e11))
    result = run(tmp_path, "fit", "runs.csv", "--bootstrap", "10", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["runs"] == 16
    assert data["constants"]["alpha"] == pytest.approx(0.34, abs=0.08)
    assert data["constants"]["beta"] == pytest.approx(0.28, abs=0.08)
    lo, hi = data["ci"]["E"]
    assert lo <= data["constants"]["E"] <= hi


def test_fit_a_mixture_of_experts_form(tmp_path):
    from scalingperf.laws import Ludziejewski2025

    # Noiseless runs from Ludziejewski et al. 2025's published constants (eq. 6): the fit
    # must give them back.
    truth = Ludziejewski2025(fitted_range={})
    (tmp_path / "runs.csv").write_text("N,D,E,loss\n" + "".join(
        f"{n},{d},{e},{truth.loss(n, d, e)}\n"
        for n in (1e8, 3e8, 1e9) for d in (5e9, 2e10, 8e10) for e in (1, 8, 32)))
    result = run(tmp_path, "fit", "runs.csv", "--form", "ludziejewski", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["runs"] == 27
    for name in ("alpha", "beta", "delta", "gamma"):
        assert data["constants"][name] == pytest.approx(getattr(truth, name), rel=1e-3)
    missing = run(tmp_path, "fit", "runs.csv", "--form", "krajewski")
    assert "no G or granularity column" in one_line_error(missing)


def test_fit_names_a_bad_cell(tmp_path):
    (tmp_path / "runs.csv").write_text("N,D,loss\n1e9,2e10,oops\n")
    assert "line 2, column loss" in one_line_error(run(tmp_path, "fit", "runs.csv"))
    (tmp_path / "runs.csv").write_text("size,D,loss\n1e9,2e10,2.1\n")
    assert "no N or params or parameters column" in one_line_error(
        run(tmp_path, "fit", "runs.csv"))


GRID = {"d_model": [1024, 2048], "n_layers": "8:16:8", "head_dim": 128, "tp": [1, 2],
        "n_gpus": 8, "global_batch": 64, "seq_len": 2048, "batch": 1}


def test_sweep_from_a_json_grid_file(tmp_path):
    (tmp_path / "grid.json").write_text(json.dumps(GRID))
    result = run(tmp_path, "sweep", "--grid", "grid.json", "--out", "rows.json",
                 "--no-progress")
    assert result.returncode == 0, result.stderr
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert len(rows["d_model"]) == 8  # 2 widths x 2 depths x 2 tp degrees
    assert "d_model" in result.stdout


def test_sweep_from_a_yaml_grid_file_with_axes_added_on_the_line(tmp_path):
    pytest.importorskip("yaml")
    text = "\n".join(f"{k}: {json.dumps(v)}" for k, v in GRID.items() if k != "tp")
    (tmp_path / "grid.yaml").write_text(text + "\n")
    result = run(tmp_path, "sweep", "--grid", "grid.yaml", "tp=1,2,4", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "12 rows kept" in result.stdout
    duplicate = run(tmp_path, "sweep", "--grid", "grid.yaml", "d_model=512")
    assert "given both" in one_line_error(duplicate)


def test_yaml_without_pyyaml_says_how_to_get_it(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "yaml.py").write_text("raise ImportError('no yaml here')\n")
    (tmp_path / "grid.yaml").write_text("d_model: 1024\n")
    env = {**__import__("os").environ, "PYTHONPATH": str(shadow)}
    message = one_line_error(run(tmp_path, "sweep", "--grid", "grid.yaml", env=env))
    assert "pip install 'scalingperf[yaml]'" in message


def test_estimate_from_flags(tmp_path):
    result = run(tmp_path, "estimate", "--d-model", "4096", "--n-layers", "32", "--n-heads",
                 "32", "--ffn", "swiglu", "--d-ff", "11008", "--vocab-size", "32000",
                 "--position", "rotary", "--norm", "rmsnorm", "--seq-len", "4096", "--json")
    assert result.returncode == 0, result.stderr
    # The flags describe Llama-2-7B: 6,738,415,616 parameters (Touvron et al. 2023; its
    # Hugging Face checkpoint), as the preset of that name.
    assert json.loads(result.stdout)["params"]["total"] == 6_738_415_616


@pytest.mark.parametrize("args", [("plan",), ("laws",), ("estimate",), ("hardware",)])
def test_a_pipe_closed_early_leaves_no_traceback(tmp_path, args):
    command = f"{sys.executable} -m scalingperf.cli {' '.join(args)} | head -1"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                            check=False, cwd=tmp_path)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == ""
