"""The command line under arbitrary argv: every command either succeeds (exit 0) or is
refused with exit status 2 and one line on stderr, ``scalingperf: error: ...``; never a
traceback. In-process through ``main(argv)`` for the bulk, a few real processes for what
only a process shows (a pipe closed early)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalingperf import presets
from scalingperf.cli import main
from scalingperf.grid import AXES

# capsys is function-scoped; each example reads (and so empties) it before the next.
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

#: Text a user might mistype: empty, blanks, signs, separators, numbers that do not fit.
junk = st.one_of(
    st.sampled_from(["", " ", "-", "--", "=", ":", ",", "::", "1:", ":1", "nan", "inf", "-inf",
                     "-1", "0", "1e400", "9" * 30, "0x10", "1_000", "true", "none", "é",
                     "a\nb", "\x00"]),
    st.text(max_size=8),
)
small_int = st.integers(-3, 4100).map(str)
number = st.one_of(small_int, st.floats(allow_nan=True, allow_infinity=True).map(repr), junk)


def option(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(values.map(lambda v: [name, v]), values.map(lambda v: [f"{name}={v}"]))


ESTIMATE_OPTIONS = st.one_of(
    option("--preset", st.one_of(st.sampled_from(sorted(presets())), junk)),
    option("--hf-config", st.sampled_from(["no/such/config.json", "/", "/dev/null"])),
    option("--hardware", st.one_of(st.sampled_from(["H100-SXM", "a100", "TPU-v4", "V100",
                                                    "nope.json", "/"]), junk)),
    *(option(f"--{name}", st.one_of(small_int, junk))
      for name in ("batch", "seq-len", "tp", "pp", "dp", "ep", "zero", "microbatches",
                   "interleave")),
    option("--recompute", st.sampled_from(["none", "selective", "full", "some"])),
    option("--dtype", st.sampled_from(["bf16", "fp16", "fp32", "tf32", "fp8"])),
    option("--optimizer", st.sampled_from(["adamw", "adamw-bf16", "sgd", "lion"])),
    option("--implementation", st.sampled_from(["megatron", "huggingface", "jax"])),
    option("--tokens", number),
    st.sampled_from([["--sequence-parallel"], ["--dropout"], ["--no-flash-attention"],
                     ["--json"], ["--nope"], ["-x"], ["extra"]]),
)


@st.composite
def axis_value(draw: Any) -> str:
    """An axis or fixed value as typed: a small range, a list, one value, or junk (ranges
    too long for the limit are in; long ones under it are not: they would only be slow)."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        start = draw(st.integers(-2, 4096))
        step = draw(st.integers(-1, 1024))
        stop = start + step * draw(st.integers(-1, 6))
        return f"{start}:{stop}:{step}"
    if kind == 1:
        return f"1:{draw(st.integers(10**6 + 1, 10**30))}:1"
    if kind == 2:
        return ",".join(draw(st.lists(st.one_of(small_int, junk), min_size=1, max_size=4)))
    if kind == 3:
        return draw(st.sampled_from(["swiglu", "gelu", "relu", "rotary", "learned", "rmsnorm",
                                     "selective", "full", "true", "false", "80GiB", "device",
                                     "H100-SXM", "bf16", "1e9,2e9"]))
    return draw(st.one_of(small_int, junk))


NAMES = st.sampled_from([*AXES, "n_gpus", "global_batch", "max_memory", "params", "aspect",
                         "active_params", "compute", "dtype", "hardware", "position", "norm",
                         "qkv_bias", "tie_embeddings", "dense_layers", "capacity_factor",
                         "max_position_embeddings", "where", "efficiency", "interleave",
                         "ffn_multiple", "optimizer", "threads", "d_modle", ""])
SPEC = st.builds(lambda name, value: f"{name}={value}", NAMES, axis_value())
BASE = ["d_model=256", "n_layers=2", "head_dim=64", "seq_len=64", "batch=1"]
SWEEP_OPTIONS = st.one_of(
    option("--top", st.one_of(small_int, junk)),
    option("--show", st.one_of(small_int, junk)),
    option("--threads", st.sampled_from(["1", "2", "0", "-1", "x"])),
    option("--by", st.sampled_from(["step_time", "-mfu", "mfu", "nope", "-", ""])),
    option("--pareto", st.sampled_from(["step_time,memory_per_gpu", "-mfu,params_total",
                                        "mfu", "a,b", "mfu,mfu,mfu", ","])),
    option("--out", st.sampled_from(["OUT/rows.csv", "OUT/rows.json", "OUT/rows.parquet",
                                     "OUT/rows.txt", "OUT/none/rows.csv", "OUT", "OUT/.csv"])),
    st.sampled_from([["--no-progress"], ["--include-infeasible"], ["--nope"]]),
)


def check(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """``main(argv)`` exits 0, or 2 with one line on stderr that says it is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # as in a process: pytest makes warnings errors
        status = main(argv)
    out, err = capsys.readouterr()
    if status == 0:
        assert "Traceback" not in err
        return
    assert status == 2, (argv, status, err)
    assert err.startswith("scalingperf: error: "), (argv, err)
    assert err.count("\n") == 1, (argv, err)
    assert err.endswith("\n"), (argv, err)
    assert out == "", (argv, out)


@SETTINGS
@given(options=st.lists(ESTIMATE_OPTIONS, max_size=5))
def test_estimate_argv(options: list[list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    check(["estimate", *(token for item in options for token in item)], capsys)


@SETTINGS
@given(specs=st.lists(SPEC, max_size=4), keep=st.lists(st.booleans(), min_size=5, max_size=5),
       options=st.lists(SWEEP_OPTIONS, max_size=3), options_first=st.booleans())
def test_sweep_argv(specs: list[str], keep: list[bool], options: list[list[str]],
                    options_first: bool, capsys: pytest.CaptureFixture[str]) -> None:
    base = [item for item, kept in zip(BASE, keep, strict=True) if kept]
    with tempfile.TemporaryDirectory() as folder:
        tokens = [token.replace("OUT", folder) for item in options for token in item]
        values = [*base, *specs]
        argv = [*tokens, *values] if options_first else [*values, *tokens]
        check(["sweep", "--no-progress", *argv], capsys)


@SETTINGS
@given(argv=st.lists(st.one_of(st.sampled_from(["estimate", "sweep", "presets", "hardware",
                                                "-h", "--help", "--json", "--top", "1",
                                                "d_model=64", "--"]), junk), max_size=4))
def test_any_argv(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    check(argv, capsys)


# ---- real processes -------------------------------------------------------------------

def scalingperf(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["scalingperf", *argv], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("argv", [
    ["estimate", "--batch", "0"],
    ["estimate", "--tokens", "nan"],
    ["sweep", "d_model=1:1000000", "n_layers=2"],
    ["sweep", *BASE, "--out", "/no/such/folder/rows.csv"],
    ["presets", "extra"],
    ["--no-such-option"],
])
def test_refusals_in_a_process_are_one_line(argv: list[str]) -> None:
    result = scalingperf(*argv)
    assert result.returncode == 2
    assert result.stderr.startswith("scalingperf: error: ")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


@pytest.mark.parametrize("argv", [
    ["estimate"],
    ["hardware"],
    ["sweep", "d_model=64:8192:64", "n_layers=1:32:1", "head_dim=64", "seq_len=64", "batch=1",
     "--show", "5000", "--no-progress"],
])
def test_head_1_closes_the_pipe_early_without_a_traceback(argv: list[str]) -> None:
    # `scalingperf ... | head -1`: read one line, close the pipe, let the command go on.
    process = subprocess.Popen(["scalingperf", *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read().decode()
    process.stderr.close()
    status = process.wait(timeout=60)
    assert first.strip()
    assert "Traceback" not in err
    assert err == ""
    assert status in (0, 1)  # 1 when it still had output to write (see main's docstring)


def test_head_1_in_a_shell_pipeline() -> None:
    # Output far beyond a pipe's buffer, so that the writes after `head` exits do fail.
    command = ("scalingperf sweep d_model=64:8192:64 n_layers=1:32:1 head_dim=64 seq_len=64 "
               "batch=1 --show 5000 --no-progress | head -1; echo \"status ${PIPESTATUS[0]}\"")
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                            check=False, env={**os.environ, "LC_ALL": "C.UTF-8"})
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[1] == "status 1"
    assert result.stderr == ""
