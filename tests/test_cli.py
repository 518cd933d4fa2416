"""The CLI as a user types it."""

from __future__ import annotations

import json
import subprocess
import sys

import scalingperf as sp


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["scalingperf", *args], capture_output=True, text=True, check=False)


def test_estimate_defaults_prints_table_and_totals():
    result = run("estimate")
    assert result.returncode == 0, result.stderr
    assert "llama-2-7b: batch 1 x seq_len 4096" in result.stdout
    assert "mlp_gate" in result.stdout
    assert "6.74 B params" in result.stdout


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


def test_hardware_listing_shows_every_format_and_na_for_missing_ones():
    result = run("hardware")
    assert result.returncode == 0, result.stderr
    assert "FLOP/s" not in result.stdout.split("device")[1]  # numbers, in TFLOP/s as stated
    assert result.stdout.startswith("Dense peak TFLOP/s by number format")
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("device"))
    assert header.split() == ["device", "fp32", "tf32", "bf16", "fp16", "fp8", "mxfp8",
                              "nvfp4", "memory", "memory", "bw", "per", "node"]
    rows = {line.split()[0]: line.split()[1:6] for line in lines
            if line.split() and line.split()[0] in ("V100-SXM2-32GB", "H100-SXM", "TPU-v4")}
    # V100 has no tf32, bf16 or fp8; a device lacking a format is never shown as 0 FLOP/s.
    assert rows["V100-SXM2-32GB"] == ["15.7", "n/a", "n/a", "125", "n/a"]
    assert rows["H100-SXM"] == ["66.9", "494.7", "989.4", "989.4", "1,979"]
    assert rows["TPU-v4"] == ["n/a", "n/a", "275", "n/a", "n/a"]
    assert " 0 " not in result.stdout


SWEEP = ["sweep", "d_model=1024:4096:512", "n_layers=8:32:8", "head_dim=128", "ffn=swiglu",
         "position=rotary", "tp=1,2,4", "n_gpus=16", "global_batch=64", "seq_len=2048",
         "batch=1", "--no-progress"]


def test_sweep_top_to_parquet_and_csv(tmp_path):
    parquet = tmp_path / "rows.parquet"
    result = run(*SWEEP, "--top", "3", "--by=-mfu", "--out", str(parquet))
    assert result.returncode == 0, result.stderr
    assert "84 grid points: 84 valid configurations, 3 rows kept (top 3 by -mfu)" in result.stdout
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
                "tp=3", "--no-progress")
    assert empty.returncode == 0, empty.stderr
    assert "tp does not divide the heads" in empty.stdout + empty.stderr


SHAPE = ["n_layers=2", "head_dim=64", "seq_len=8", "batch=1", "--no-progress"]


def test_sweep_range_errors_name_the_axis_syntax():
    missing_step = run("sweep", "d_model=1:1000000", *SHAPE)
    assert missing_step.returncode == 2
    assert missing_step.stderr == (
        "scalingperf: error: d_model='1:1000000' is invalid: a range is "
        "d_model=START:STOP:STEP with STOP included, e.g. d_model=1024:8192:256; list values "
        "as d_model=V1,V2,... or fix one as d_model=VALUE\n")
    cases = {
        "d_model=1024:2048:0": "d_model='1024:2048:0' is invalid: STEP=0 must be 1 or more",
        "d_model=1024:2048:-256": "STEP=-256 must be 1 or more",
        "d_model=2048:1024:256": "START=2048 is above STOP=1024 (the range is empty)",
        "d_model=-64:128:64": "START=-64 is negative",
        "d_model=64:1e3:64": "START, STOP and STEP of a range must be integers",
        "n_gpus=8:64:8": "n_gpus='8:64:8' is invalid: n_gpus is not an axis, give one value",
    }
    for item, message in cases.items():
        result = run("sweep", item, *SHAPE)
        assert result.returncode == 2, item
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("scalingperf: error: "), item
        assert message in lines[0], item


def test_sweep_huge_range_is_refused_by_its_count_before_any_list():
    import time

    started = time.perf_counter()
    # 10^15 values: building them would take days; counting them takes nothing.
    result = run("sweep", "d_model=1:1000000000000000:1", *SHAPE)
    elapsed = time.perf_counter() - started
    assert result.returncode == 2
    assert result.stderr == (
        "scalingperf: error: d_model='1:1000000000000000:1' is invalid: it has "
        "1,000,000,000,000,000 values, over the limit of 1,000,000 per axis; raise STEP or "
        "narrow the range\n")
    assert elapsed < 5
    over = run("sweep", "d_model=1:100000000:1", *SHAPE)
    assert "it has 100,000,000 values, over the limit of 1,000,000 per axis" in over.stderr
    # The limit itself is allowed: 1,000,000 values (d_model is at most 2^20: a d_model
    # axis that long has values the core refuses by name).
    at_limit = run("sweep", "d_model=64", "n_layers=2", "head_dim=64", "batch=1",
                   "seq_len=1:1000000:1", "--top", "1", "--no-progress")
    assert at_limit.returncode == 0, at_limit.stderr
    assert "1,000,000 grid points: 1,000,000 valid configurations, 1 rows kept" in at_limit.stdout
    too_wide = run("sweep", "d_model=64:64000000:64", *SHAPE, "--top", "1")
    assert too_wide.stderr.startswith("scalingperf: error: d_model=1048640 is invalid: axis "
                                      "values must be whole numbers in [1, 1048576]")


def test_sweep_typed_options_are_checked_on_the_command_line():
    cases = {
        "qkv_bias=1": "qkv_bias='1' is invalid: give qkv_bias=true or qkv_bias=false",
        "params=5": "params='5' is invalid: give two numbers, params=LO,HI",
        "aspect=1,2,3": "aspect='1,2,3' is invalid: give two numbers, aspect=LO,HI",
        "capacity_factor=1,2": "capacity_factor='1,2' is invalid: give one number",
        "dense_layers=a": "dense_layers='a' is invalid: give layer indices",
        "where=mfu": "where='mfu' is invalid on the command line",
        "seq_len=16": "seq_len='8' is invalid: seq_len is given twice",
    }
    for item, message in cases.items():
        result = run("sweep", "d_model=128", item, *SHAPE)
        assert result.returncode == 2, item
        assert result.stderr.startswith(f"scalingperf: error: {message}"), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
    # A single dense layer index is a list of one, as the Grid wants it.
    one = run("sweep", "d_model=128", "dense_layers=0", "n_experts=4", *SHAPE)
    assert one.returncode == 0, one.stderr


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("scalingperf: error: ")
    return lines[0]


def test_out_is_checked_before_the_sweep_starts(tmp_path):
    sweep = SWEEP[:-1]  # with the progress bar: it would show on stderr had the work begun
    cases = {
        str(tmp_path / "missing" / "rows.csv"):
            f"the folder {str(tmp_path / 'missing')!r} does not exist",
        str(tmp_path / "rows.txt"): "use a .csv, .json or .parquet file",
        str(tmp_path / "rows"): "use a .csv, .json or .parquet file",
    }
    (tmp_path / "folder.csv").mkdir()
    cases[str(tmp_path / "folder.csv")] = "it is a folder; give a file name"
    (tmp_path / "file").write_text("")
    cases[str(tmp_path / "file" / "rows.json")] = "is a file, not a folder"
    for out, message in cases.items():
        line = one_error_line(run(*sweep, "--out", out))
        assert line.startswith(f"scalingperf: error: out={out!r} is invalid: "), line
        assert message in line
    assert not (tmp_path / "missing").exists()


def test_check_target_refuses_a_folder_it_cannot_write(tmp_path, monkeypatch):
    import pytest

    from scalingperf import export

    assert export.check_target(tmp_path / "rows.csv") == tmp_path / "rows.csv"
    # Root may write anywhere, so the refusal is shown with os.access saying no.
    monkeypatch.setattr(export.os, "access", lambda path, mode: False)
    with pytest.raises(ValueError, match=r"folder .* is not writable"):
        export.check_target(tmp_path / "rows.csv")
    (tmp_path / "old.json").write_text("{}")
    with pytest.raises(ValueError, match="the file is not writable"):
        export.check_target(tmp_path / "old.json")


def closed_stdout(*argv: str) -> subprocess.CompletedProcess[str]:
    import os

    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte: every write fails
    try:
        return subprocess.run(["scalingperf", *argv], stdout=write, stderr=subprocess.PIPE,
                              text=True, check=False)
    finally:
        os.close(write)


def test_a_closed_stdout_exits_1_quietly_for_every_verb():
    for argv in (["estimate"], ["estimate", "--json"], ["hardware"], ["presets"], SWEEP):
        result = closed_stdout(*argv)
        assert result.returncode == 1, (argv, result.stderr)
        assert result.stderr == "", (argv, result.stderr)
    for argv in (["--help"], ["estimate", "--help"]):
        result = closed_stdout(*argv)
        assert result.returncode == 0, (argv, result.stderr)  # argparse ignores the error
        assert result.stderr == "", (argv, result.stderr)


def test_a_full_disk_on_stdout_is_one_line():
    with open("/dev/full", "w") as full:
        result = subprocess.run(["scalingperf", "hardware"], stdout=full, stderr=subprocess.PIPE,
                                text=True, check=False)
    assert result.returncode == 1
    assert result.stderr == "scalingperf: error: cannot write the output: No space left on device\n"


def test_ctrl_c_is_one_line_and_exit_130():
    import os
    import signal
    import time

    # 10^9 models: minutes of work, interrupted once the progress bar shows.
    process = subprocess.Popen(
        ["scalingperf", "sweep", "d_model=128", "vocab_size=1:1000000:1", "n_layers=1:1000:1",
         "head_dim=64", "seq_len=8", "batch=1", "--top", "1", "--yes"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stderr is not None
    started = time.monotonic()
    # The bar's first draw: the sweep runs. (os.read: communicate() below reads the pipe
    # itself and would miss what a buffered read took.)
    assert os.read(process.stderr.fileno(), 2) == b"\r["
    process.send_signal(signal.SIGINT)
    out, err_bytes = process.communicate(timeout=60)
    err = err_bytes.decode()
    assert time.monotonic() - started < 30
    assert process.returncode == 130, err
    assert "Traceback" not in err
    bar, interrupted = err.rsplit("\n", 2)[-3:-1]
    assert bar.endswith("/1,000,000,000")  # the bar's line is ended before the message
    assert interrupted == "scalingperf: interrupted"
    assert out == b""


def test_usage_errors_are_one_line():
    assert one_error_line(run()) == (
        "scalingperf: error: the following arguments are required: verb "
        "(see `scalingperf --help`)")
    assert one_error_line(run("estimate", "--batch", "x")) == (
        "scalingperf: error: argument --batch: invalid int value: 'x' "
        "(see `scalingperf estimate --help`)")
    assert "argument --top: '0' is invalid: give an integer of at least 1" in one_error_line(
        run(*SWEEP, "--top", "0"))
    assert "unrecognized arguments: --nope" in one_error_line(run("hardware", "--nope"))


def test_input_files_that_cannot_be_read_are_one_line(tmp_path):
    missing = str(tmp_path / "none.json")
    assert one_error_line(run("estimate", "--hf-config", missing)) == (
        f"scalingperf: error: hf_config={missing!r} is invalid: cannot read it "
        "(No such file or directory)")
    line = one_error_line(run("estimate", "--hardware", missing))
    assert line.startswith(f"scalingperf: error: hardware={missing!r} is invalid: ")
    folder = tmp_path / "device.json"
    folder.mkdir()
    assert "Is a directory" in one_error_line(run("estimate", "--hardware", str(folder)))


def test_estimate_states_its_assumptions_and_units():
    import scalingperf as sp

    result = run("estimate")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    head, rest = out.split("Per op, for ONE instance (one layer of that type)", 1)
    # The assumptions come before the tables.
    for line in (("  precision        bf16 weights, activations and matmuls; gradients kept and "
                  "reduced in bf16"),
                 "  optimizer        adamw: AdamW, fp32 momentum and variance, fp32 master weights",
                 "  ZeRO stage       0: weights, gradients and optimizer states replicated over dp",
                 "  recomputation    none: every activation kept for backward",
                 "  devices          tp 1 x pp 1 x dp 1 = 1 x H100-SXM (74.5 GiB each)",
                 ("  micro-batch      1 sequence x 4,096 tokens (the model's context length); "
                  "1 micro-batch per step and replica"),
                 "  flash attention  yes: fused kernel, no s x s scores kept"):
        assert line + "\n" in head, line
    assert "mlp_gate" in rest
    assert "params  total                            6.74 B params" in rest.replace("  ", " ") or \
        "6.74 B params" in rest
    assert "62.9 TFLOP" in rest  # FLOPs always say FLOP; parameter counts say params
    report = sp.estimate(sp.Architecture.preset("llama-2-7b"), batch=1, seq_len=4096)
    assert not report.memory.fits
    needed = f"{report.memory.per_gpu / 2**30:.3g}"
    assert out.rstrip().endswith(
        f"does NOT fit: {needed} GiB needed per GPU, 74.5 GiB available; step time and MFU "
        "assume it did")
    assert "step (as if it fit)" in out
    assert "MFU / HFU (as if it fit)" in out


def test_estimate_that_fits_says_nothing_of_not_fitting():
    result = run("estimate", "--preset", "gpt2-small", "--seq-len", "1024", "--recompute",
                 "full", "--zero", "3", "--dp", "8", "--no-flash-attention",
                 "--optimizer", "sgd", "--dtype", "fp32")
    assert result.returncode == 0, result.stderr
    assert "NOT fit" not in result.stdout
    assert "as if it fit" not in result.stdout
    assert "  recomputation    full: each layer's forward recomputed in backward\n" in result.stdout
    assert "  ZeRO stage       3: optimizer states, gradients and weights sharded over dp\n" \
        in result.stdout
    assert "  devices          tp 1 x pp 1 x dp 8 = 8 x H100-SXM" in result.stdout
    assert "  optimizer        sgd: SGD with fp32 momentum\n" in result.stdout
    assert "  flash attention  no: s x s attention scores kept in memory\n" in result.stdout


def test_estimate_json_has_the_assumptions():
    result = run("estimate", "--preset", "llama-3-70b", "--seq-len", "8192", "--tp", "8",
                 "--pp", "4", "--dp", "32", "--zero", "1", "--microbatches", "16",
                 "--recompute", "selective", "--json")
    assert result.returncode == 0, result.stderr
    assumptions = json.loads(result.stdout)["assumptions"]
    assert {key: assumptions[key] for key in (
        "dtype", "optimizer", "zero", "recompute", "tp", "pp", "dp", "devices", "hardware",
        "batch", "seq_len", "microbatches", "flash_attention")} == dict(
        dtype="bf16", optimizer="adamw", zero=1, recompute="selective", tp=8, pp=4, dp=32,
        devices=1024, hardware="H100-SXM", batch=1, seq_len=8192, microbatches=16,
        flash_attention=True)
    # The efficiency the estimate used: the device's own (H100-SXM: matmul 0.712), not
    # Efficiency()'s 0.75.
    import scalingperf as sp

    used = sp.hardware()["H100-SXM"].default_efficiency
    assert assumptions["efficiency"]["matmul"] == used.matmul == 0.712
    assert assumptions["efficiency"]["attention"] == used.attention == 0.52
    assert "per instance" in assumptions["layers"]


def test_sweep_values_may_follow_options():
    result = run("sweep", "--no-progress", "--top", "1", "d_model=128", "n_layers=2",
                 "--by=-mfu", "head_dim=64", "seq_len=8", "batch=1")
    assert result.returncode == 0, result.stderr
    assert "1 grid points" in result.stdout
    assert "unrecognized arguments: --nope" in one_error_line(
        run("sweep", "d_model=128", "--nope", "n_layers=2"))


def test_estimate_takes_the_layouts_and_kernels_real_runs_use():
    """--cp, --etp, --shard, --layers-per-stage, --recompute-every, the overlaps and the
    attention kernel reach estimate(): the JSON equals the Python call's."""
    import scalingperf as sp

    flags = ["--preset", "llama-3-8b", "--seq-len", "32768", "--cp", "2", "--dp", "8",
             "--zero", "3", "--shard", "8", "--pp", "2", "--layers-per-stage", "15,17",
             "--recompute-every", "2", "--dp-overlap", "1", "--tp-overlap", "0.5",
             "--attention-kernel", "fa2", "--dtype", "fp8"]
    result = run("estimate", *flags, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    report = sp.estimate(sp.Architecture.preset("llama-3-8b"), batch=1, seq_len=32768, cp=2,
                         dp=8, zero=3, shard=8, pp=2, layers_per_stage=[15, 17],
                         recompute_every=2, dp_overlap=1.0, tp_overlap=0.5,
                         attention_kernel="fa2", dtype="fp8")
    assert data["time"]["step"] == report.time.step
    assert data["assumptions"]["cp"] == 2
    assert data["assumptions"]["efficiency"]["attention"] == 0.32
    assert data["assumptions"]["efficiency"]["dp_overlap"] == 1.0


def test_estimate_bad_kernel_or_stages_is_one_line():
    kernel = run("estimate", "--attention-kernel", "xformers")
    assert kernel.returncode == 2
    assert kernel.stderr.startswith("scalingperf: error: attention_kernel='xformers' is invalid")
    assert kernel.stderr.count("\n") == 1
    stages = run("estimate", "--pp", "2", "--layers-per-stage", "15,x")
    assert stages.returncode == 2
    assert stages.stderr.startswith("scalingperf: error: layers_per_stage='15,x' is invalid")


def test_a_full_sweep_says_how_many_rows_fit():
    result = run("sweep", "d_model=4096,8192", "n_layers=32", "head_dim=128", "tp=1,2,4",
                 "cp=1,2", "n_gpus=64", "seq_len=32768", "batch=1", "dtype=fp8",
                 "--no-progress", "--show", "2")
    assert result.returncode == 0, result.stderr
    grid = sp.Grid(d_model=[4096, 8192], n_layers=32, head_dim=128, tp=[1, 2, 4], cp=[1, 2],
                   n_gpus=64, seq_len=32768, batch=1, dtype="fp8")
    fitting = int(sp.sweep(grid)["fits"].sum())
    assert 0 < fitting < 12
    assert (f"{fitting} of the 12 rows fit in H100-SXM's memory; the others' times assume "
            "they did" in result.stdout)
