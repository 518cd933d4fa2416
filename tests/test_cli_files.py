"""The command line's input files (--hf-config, --hardware) and its --out file, as a user
types them: hostile paths end in one line on stderr, never a traceback, a hang or a
MemoryError; --out replaces its target in one step."""

from __future__ import annotations

import ctypes
import json
import os
import resource
import subprocess
from pathlib import Path

SWEEP = ["sweep", "d_model=64:128:64", "n_layers=2", "head_dim=64", "seq_len=8", "batch=1",
         "--no-progress"]
HF_CONFIG = {"model_type": "llama", "hidden_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "intermediate_size": 256, "vocab_size": 500,
             "max_position_embeddings": 256}


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    # The timeout turns a hang (a FIFO opened for reading or writing) into a failure.
    return subprocess.run(["scalingperf", *args], capture_output=True, text=True, check=False,
                          timeout=20, **kwargs)  # type: ignore[call-overload]


def error_line(result: subprocess.CompletedProcess[str], status: int = 2) -> str:
    assert result.returncode == status, (result.returncode, result.stderr)
    assert result.stderr.startswith("scalingperf: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
    return result.stderr.rstrip("\n")


def run_all(*commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Run the commands side by side (each takes a Python start-up), in order."""
    processes = []
    results = []
    try:
        for argv in commands:
            processes.append(subprocess.Popen(["scalingperf", *argv], stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True))
        for argv, process in zip(commands, processes, strict=True):
            out, err = process.communicate(timeout=20)
            results.append(subprocess.CompletedProcess(argv, process.returncode, out, err))
    finally:
        for process in processes:  # a hang, or a reader of /dev/zero, is not left behind
            process.kill()
            process.wait()
    return results


def hostile_inputs(folder: Path) -> list[tuple[str, str, str]]:
    """(option, path, the reason given) for input files that used to end in a traceback,
    a MemoryError or a hang."""
    cases = [("--hf-config", "/dev/zero", "not a regular file (a device)")]
    zero = folder / "zero.json"
    zero.symlink_to("/dev/zero")  # --hardware reads only names ending in .json
    cases.append(("--hardware", str(zero), "not a regular file (a device)"))
    fifo = folder / "fifo.json"
    os.mkfifo(fifo)  # used to wait forever for a writer
    big = folder / "big.json"
    with big.open("wb") as sparse:
        sparse.truncate(17 * 2**20)  # no disk used
    device_folder = folder / "device.json"
    device_folder.mkdir()
    cases.append(("--hardware", str(device_folder), "cannot read it (Is a directory)"))
    unquoted = ("not JSON (Expecting property name enclosed in double quotes at line 2 "
                "column 2)")
    contents = {
        "null": (b"null", "expected a JSON object {...}, found null"),
        "list": (b"[1, 2]", "expected a JSON object {...}, found an array"),
        "string": (b'"H100-SXM"', "expected a JSON object {...}, found a string"),
        "invalid": (b'{"a": 1,\n bad', unquoted),
        "latin-1": (b'{"name": "caf\xe9"}', "not UTF-8 text (byte 13 is 0xe9)"),
        "deep": (b"[" * 100_000, "not usable JSON (nested too deeply)"),
    }
    too_big = "17,825,792 bytes, over the limit of 16,777,216 (16 MiB) for a JSON input file"
    for option in ("--hf-config", "--hardware"):
        cases += [(option, str(fifo), "not a regular file (a FIFO)"), (option, str(big), too_big)]
    # Both options read through the same code: each content once, the options taking turns.
    for i, (name, (content, reason)) in enumerate(contents.items()):
        path = folder / f"{name}.json"
        path.write_bytes(content)
        cases.append((("--hf-config", "--hardware")[i % 2], str(path), reason))
    return cases


def test_hostile_input_files_are_one_line_each(tmp_path):
    cases = hostile_inputs(tmp_path)
    results = run_all(*(["estimate", option, path] for option, path, _ in cases))
    for (option, path, reason), result in zip(cases, results, strict=True):
        field = option.removeprefix("--").replace("-", "_")
        line = error_line(result)
        assert line == f"scalingperf: error: {field}={path!r} is invalid: {reason}", option


def test_hf_config_folder(tmp_path):
    # --hf-config takes the folder holding config.json, and names the config.json it could
    # not use.
    (tmp_path / "config.json").write_text(json.dumps(HF_CONFIG))
    empty = tmp_path / "empty"
    empty.mkdir()
    odd = tmp_path / "odd"
    (odd / "config.json").mkdir(parents=True)
    ok, missing, folder = run_all(
        ["estimate", "--hf-config", str(tmp_path), "--seq-len", "16", "--json"],
        ["estimate", "--hf-config", str(empty)], ["estimate", "--hf-config", str(odd)])
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["params"]["total"] > 0
    prefix = "scalingperf: error: hf_config="
    assert error_line(missing) == (f"{prefix}{str(empty / 'config.json')!r} is invalid: "
                                   "cannot read it (No such file or directory)")
    assert error_line(folder) == (f"{prefix}{str(odd / 'config.json')!r} is invalid: "
                                  "cannot read it (Is a directory)")


def test_sweep_hardware_file_is_read_the_same_way(tmp_path):
    fifo = tmp_path / "device.json"
    os.mkfifo(fifo)
    line = error_line(run(*SWEEP, f"hardware={fifo}"))
    assert line == (f"scalingperf: error: hardware={str(fifo)!r} is invalid: not a regular "
                    "file (a FIFO)")


def no_temporary_files(folder: Path) -> None:
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_out_symlink_and_fifo_are_refused_before_the_sweep(tmp_path):
    # A symlink used to be written through: the file it pointed to was overwritten.
    precious = tmp_path / "precious.csv"
    precious.write_text("keep me\n")
    link = tmp_path / "rows.csv"
    link.symlink_to(precious)
    line = error_line(run(*SWEEP, "--out", str(link)))
    assert line == (f"scalingperf: error: out={str(link)!r} is invalid: it is a symbolic link; "
                    "give the file it points to, or another name")
    assert precious.read_text() == "keep me\n"
    assert link.is_symlink()
    # A FIFO used to block the write until a reader came.
    fifo = tmp_path / "rows.json"
    os.mkfifo(fifo)
    line = error_line(run(*SWEEP, "--out", str(fifo)))
    assert line == (f"scalingperf: error: out={str(fifo)!r} is invalid: it is a FIFO, not a "
                    "regular file")
    no_temporary_files(tmp_path)


def _as_a_plain_user() -> None:
    """Drop root's permission override (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) in the
    child, so that a folder's mode binds it as it binds any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_out_in_an_unwritable_folder(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    preexec = _as_a_plain_user if os.geteuid() == 0 else None
    try:
        out = folder / "rows.csv"
        line = error_line(run(*SWEEP, "--out", str(out), preexec_fn=preexec))
        assert line == (f"scalingperf: error: out={str(out)!r} is invalid: the folder "
                        f"{str(folder)!r} is not writable")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_out_replaces_the_file_in_one_step(tmp_path):
    out = tmp_path / "rows.csv"
    out.write_text("old\n")
    out.chmod(0o640)
    # A second name of the same file: writing in place would change it too.
    other = tmp_path / "other-name.csv"
    os.link(out, other)
    result = run(*SWEEP, "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("d_model,n_layers")
    assert len(lines) == 3
    assert other.read_text() == "old\n"
    assert out.stat().st_mode & 0o777 == 0o640
    no_temporary_files(tmp_path)


def _small_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))  # a disk that fills up


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    out = tmp_path / "rows.json"
    out.write_text("{}")
    line = error_line(run(*SWEEP, "--out", str(out), preexec_fn=_small_file_limit), status=1)
    assert line == f"scalingperf: error: cannot write out={str(out)!r}: File too large"
    assert out.read_text() == "{}"
    no_temporary_files(tmp_path)
