"""The CLI as a user types it."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["scalingperf", *args], capture_output=True, text=True, check=False)


def test_estimate_defaults_prints_table_and_totals():
    result = run("estimate")
    assert result.returncode == 0, result.stderr
    assert "llama-2-7b: batch 1 x seq_len 4096" in result.stdout
    assert "mlp_gate" in result.stdout
    assert "6.74 G" in result.stdout


def test_estimate_preset_json():
    result = run("estimate", "--preset", "gpt2-small", "--batch", "4", "--seq-len", "1024",
                 "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["params"]["total"] == 124_439_808
    assert data["tokens"] == 4096
    assert "lm_head" in data["layers"]["op"]


def test_estimate_hf_config(tmp_path):
    config = {"model_type": "mistral", "hidden_size": 128, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 1, "intermediate_size": 256,
              "vocab_size": 500, "max_position_embeddings": 256}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = run("estimate", "--hf-config", str(path), "--seq-len", "64", "--recompute", "full")
    assert result.returncode == 0, result.stderr
    assert "hardware (recompute=full)" in result.stdout


def test_errors_are_one_line_and_exit_2():
    result = run("estimate", "--preset", "gpt2-small", "--seq-len", "4096")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "scalingperf: error: seq_len=4096 is invalid: a learned position table has "
        "max_position_embeddings=1024 rows")
    assert run("estimate", "--hf-config", "no/such/config.json").returncode == 2


def test_presets_and_module_entry_point(tmp_path):
    listed = run("presets")
    assert listed.returncode == 0
    assert "mixtral-8x7b" in listed.stdout
    # From another folder, so that `-m` imports the installed package, not the source tree.
    module = subprocess.run([sys.executable, "-m", "scalingperf.cli", "presets"],
                            capture_output=True, text=True, check=False, cwd=tmp_path)
    assert module.stdout == listed.stdout


def test_estimate_parallel_layout_with_budget():
    result = run("estimate", "--preset", "llama-3-70b", "--seq-len", "8192", "--tp", "8",
                 "--pp", "4", "--dp", "32", "--zero", "1", "--microbatches", "16",
                 "--sequence-parallel", "--recompute", "selective", "--tokens", "15e12",
                 "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["memory"]["fits"] is True
    assert 0 < data["mfu"] < 1
    assert data["pipeline_bubble"] == 3 / 16
    assert data["training"]["days"] > 0
    assert "saved_bytes" in data["layers"]


def test_estimate_bad_layout_is_one_line():
    result = run("estimate", "--preset", "llama-2-7b", "--tp", "3")
    assert result.returncode == 2
    assert result.stderr.startswith("scalingperf: error: tp=3 is invalid: it must divide n_heads=32")


def test_hardware_listing():
    result = run("hardware")
    assert result.returncode == 0
    assert "H100-SXM" in result.stdout
    assert "989 TFLOP/s" in result.stdout


SWEEP = ["sweep", "d_model=1024:4096:512", "n_layers=8:32:8", "head_dim=128", "ffn=swiglu",
         "position=rotary", "tp=1,2,4", "n_gpus=16", "global_batch=64", "seq_len=2048",
         "batch=1", "--no-progress"]


def test_sweep_top_to_parquet_and_csv(tmp_path):
    parquet = tmp_path / "rows.parquet"
    result = run(*SWEEP, "--top", "3", "--by=-mfu", "--out", str(parquet))
    assert result.returncode == 0, result.stderr
    assert "3 rows of 84 grid points" in result.stdout
    import pyarrow.parquet as pq

    table = pq.read_table(parquet)
    assert table.num_rows == 3
    mfu = table.column("mfu").to_pylist()
    assert mfu == sorted(mfu, reverse=True)
    csv = tmp_path / "rows.csv"
    assert run(*SWEEP, "--out", str(csv)).returncode == 0
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("d_model,n_layers")
    assert len(lines) > 10


def test_sweep_progress_and_errors():
    result = run(*SWEEP[:-1], "--pareto", "step_time,memory_per_gpu")
    assert result.returncode == 0, result.stderr
    assert "84/84" in result.stderr  # the progress bar's last state
    bad = run("sweep", "d_model=abc", "n_layers=2", "head_dim=64", "seq_len=8", "batch=1")
    assert bad.returncode == 2
    assert "d_model='abc' is invalid" in bad.stderr
    empty = run("sweep", "d_model=1024", "n_layers=4", "head_dim=128", "seq_len=4096", "batch=1",
                "--no-progress")
    assert "skipped because seq_len=4096 is invalid" in empty.stdout
