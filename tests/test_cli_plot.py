"""`scalingperf plot KIND ... -o FILE` as a user types it: files that open at the size the
command reports, and one-line refusals with exit status 2 before any work."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalingperf import cli

pytest.importorskip("matplotlib")
from matplotlib.image import imread


def run(cwd, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["scalingperf", "plot", *args], capture_output=True, text=True,
                          check=False, cwd=cwd)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("scalingperf: error: ")
    return lines[0]


def reported_size(stdout: str) -> tuple[int, int]:
    match = re.fullmatch(r"wrote .+ \(\S+, (\d+) x (\d+) px\)\n", stdout)
    assert match, stdout
    return int(match[1]), int(match[2])


def test_isoflop_png_opens_at_the_size_it_reports(tmp_path):
    result = run(tmp_path, "isoflop", "--compute", "1e20,1e22", "--law", "chinchilla",
                 "--dpi", "60", "-o", "iso.png")
    assert result.returncode == 0, result.stderr
    width, height = reported_size(result.stdout)
    image = imread(tmp_path / "iso.png")
    assert image.shape[:2] == (height, width)
    assert image[..., :3].std() > 0.05


def test_layers_from_a_config_json_as_svg(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"model_type": "llama", "hidden_size": 512, "num_hidden_layers": 4, '
                      '"num_attention_heads": 8, "intermediate_size": 1376, '
                      '"vocab_size": 32000, "max_position_embeddings": 1024}')
    result = run(tmp_path, "layers", "--hf-config", "config.json", "--batch", "2",
                 "--per", "layer", "-o", "layers.svg")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote layers.svg (layers, SVG)\n"
    text = (tmp_path / "layers.svg").read_text()
    assert ET.fromstring(text).tag.endswith("svg")
    assert "one layer of each type" in text
    assert "micro-batch of 2 x 1024 tokens" in text


@pytest.mark.parametrize(("argv", "title"), [
    (["frontier", "--compute", "5.76e23"], "Scaling-law frontiers"),
    (["tp-efficiency", "--params", "1e9", "--tp", "2,4", "--seq-len", "2048"],
     "Tensor-parallel efficiency against width and depth"),
    (["validation", "--by", "device", "--source", "narayanan2021"], "Predicted against measured"),
    (["pareto", "d_model=1024:4096:512", "n_layers=8:32:8", "head_dim=128", "tp=1,2,4",
      "n_gpus=16", "global_batch=256", "seq_len=2048", "batch=1", "compute=1e20"],
     "configurations: predicted loss against training time"),
    (["pareto", "d_model=1024:4096:512", "n_layers=8:32:8", "head_dim=128", "tp=1,2,4",
      "seq_len=2048", "batch=1", "-x", "step_time", "-y=-mfu"],
     "configurations: MFU against step time"),
])
def test_every_kind_in_process(tmp_path, capsys, argv, title):
    target = tmp_path / "picture.svg"
    assert cli.main(["plot", *argv, "-o", str(target)]) == 0
    out = capsys.readouterr()
    assert out.out == f"wrote {target} ({argv[0]}, SVG)\n"
    assert "Traceback" not in out.err
    assert title in target.read_text()


@pytest.mark.parametrize(("argv", "message"), [
    (["bogus", "-o", "x.png"], "invalid choice: 'bogus'"),
    (["isoflop", "-o", "x.txt"], "out='x.txt' is invalid: use a .png or .svg file"),
    (["isoflop", "-o", "missing/x.png"], "the folder 'missing' does not exist"),
    (["isoflop", "-o", "."], "use a .png or .svg file"),
    (["isoflop"], "the following arguments are required: -o/--out"),
    (["isoflop", "--compute", "1e19,-5", "-o", "x.png"], "'-5' is invalid"),
    (["isoflop", "--law", "chinchilla-2", "-o", "x.png"], "no loss surface"),
    (["frontier", "--law", "nonsense", "-o", "x.png"], "law='nonsense' is invalid"),
    (["layers", "--preset", "gpt-5", "-o", "x.png"], "preset='gpt-5' is invalid"),
    (["layers", "--tp", "0", "-o", "x.png"], "'0' is invalid: give an integer from 1"),
    (["pareto", "d_model=1024", "n_layers=8", "--gpus", "8", "-o", "x.png"],
     "--gpus is invalid with a sweep"),
    (["pareto", "--gpus", "0", "-o", "x.png"], "'0' is invalid: give an integer from 1"),
    (["pareto", "--hardware", "Z80", "-o", "x.png"], "Z80"),
    (["pareto", "d_model=1024", "n_layers=8", "head_dim=128", "seq_len=2048", "batch=1",
      "-o", "x.png"], "tokens is missing"),
    (["pareto", "d_model=1024", "n_layers=8", "head_dim=128", "seq_len=2048", "batch=1",
      "-x", "step_time", "-y", "nonsense", "-o", "x.png"], "column='nonsense' is invalid"),
    (["tp-efficiency", "--tp", "1", "-o", "x.png"], "no rows with tp > 1"),
    (["validation", "--source", "nowhere", "-o", "x.png"], "nowhere"),
])
def test_refusals_are_one_line_exit_2_and_write_nothing(tmp_path, argv, message):
    line = one_line_error(run(tmp_path, *argv))
    assert message in line
    assert os.listdir(tmp_path) == []


def test_pareto_of_a_plan_marks_its_pick(tmp_path):
    from scalingperf.plan import plan

    result = run(tmp_path, "pareto", "--compute", "1e21", "--gpus", "16", "-o", "plan.svg")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "plan.svg").read_text()
    chosen = plan(compute=1e21, gpus=16)
    best = chosen.candidates.row(0)
    assert f"plan's pick: d_model {best['d_model']}, {best['n_layers']} layers" in text
    assert f"{len(chosen.candidates):,} candidates that fit" in text
    assert "training time (days)" in text


def test_out_is_checked_before_any_work(tmp_path, monkeypatch):
    """A bad -o is refused before the (slow) picture is drawn."""
    from scalingperf import _cli_plot

    def fail(args):
        pytest.fail("drew the picture before checking -o")

    monkeypatch.setitem(_cli_plot._DRAW, "validation", fail)
    assert cli.main(["plot", "validation", "-o", str(tmp_path / "v.jpeg")]) == 2


def test_missing_matplotlib_is_one_line_naming_the_extra(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr("scalingperf._cli_plot.find_spec",
                        lambda name: None if name == "matplotlib" else real(name))
    assert cli.main(["plot", "isoflop", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err == ("scalingperf: error: plot needs matplotlib, which is not installed: "
                   "pip install 'scalingperf[plot]'\n")


def test_plot_help_lists_every_kind(tmp_path):
    result = run(tmp_path, "--help")
    assert result.returncode == 0
    for kind in ("isoflop", "frontier", "pareto", "layers", "tp-efficiency", "validation"):
        assert kind in result.stdout
    result = run(tmp_path, "layers", "--help")
    assert "--preset" in result.stdout
    assert "-o FILE, --out FILE" in result.stdout


def test_an_existing_picture_is_replaced_whole(tmp_path):
    target = tmp_path / "pic.png"
    target.write_bytes(b"old")
    result = run(tmp_path, "frontier", "--dpi", "30", "-o", "pic.png")
    assert result.returncode == 0, result.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == ["pic.png"]  # no temporary file left


def test_module_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "scalingperf.cli", "plot", "frontier",
                             "--dpi", "30", "-o", "f.png"], capture_output=True, text=True,
                            cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "f.png").stat().st_size > 1000


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=12), st.floats(allow_nan=True).map(repr),
                 st.integers(-2**30, 2**30).map(str)))
def test_numeric_options_accept_exactly_their_range(text):
    import argparse

    from scalingperf._cli_plot import _budgets, _integer

    dpi = _integer(20, 600)
    whole = _parsed(int, text)
    if whole is not None and 20 <= whole <= 600:
        assert dpi(text) == whole
    else:
        with pytest.raises(argparse.ArgumentTypeError, match=r"give an integer from 20 to 600"):
            dpi(text)
    if "," in text:
        return
    value = _parsed(float, text)
    if value is not None and 1 <= value <= 1e40:
        assert _budgets(text) == [value]
    else:
        with pytest.raises(argparse.ArgumentTypeError, match=r"give a number from 1 to 1e\+40"):
            _budgets(text)


def _parsed(convert, text):
    """What Python's own parser makes of ``text``, or None."""
    try:
        return convert(text)
    except ValueError:
        return None


def test_the_readmes_plot_commands_run_as_printed(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Pictures"):]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)[1].replace("\\\n", " ")
    commands = [shlex.split(line, comments=True) for line in block.splitlines()]
    kinds = {command[2] for command in commands}
    assert kinds == {"isoflop", "frontier", "pareto", "layers", "tp-efficiency", "validation"}
    for command in commands:
        assert command[:2] == ["scalingperf", "plot"]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path,
                                check=False)
        assert result.returncode == 0, (command, result.stderr)
        target = tmp_path / command[command.index("-o") + 1]
        if target.suffix == ".png":
            assert imread(target).shape[:2] == reported_size(result.stdout)[::-1]
        else:
            assert ET.parse(target).getroot().tag.endswith("svg")
