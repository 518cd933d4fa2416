"""The README's examples run as printed: every ```python block, top to bottom in one
namespace, the quick start's `scalingperf plan`, and the CLI transcripts."""

from __future__ import annotations

import re
import shlex
import subprocess
import warnings
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"

def blocks(language: str) -> list[tuple[int, str]]:
    """The README's fenced blocks of ``language``, each with the line it starts on."""
    text = README.read_text()
    pattern = re.compile(rf"^```{language}\n(.*?)^```", re.DOTALL | re.MULTILINE)
    return [(text.count("\n", 0, match.start()) + 2, match.group(1))
            for match in pattern.finditer(text)]


def test_readme_python_blocks_run_as_printed(tmp_path, monkeypatch):
    """As a reader pastes them, outside the checkout, with nothing supplied: every name a
    block uses, the README defines."""
    from scalingperf import laws

    python = blocks("python")
    assert len(python) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "readme"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for line, code in python:
            exec(compile(code, f"README.md, block at line {line}", "exec"), namespace)  # noqa: S102
    # The README says that values beyond a law's data warn; nothing else may.
    others = [w for w in caught if not issubclass(w.category, laws.ExtrapolationWarning)]
    assert not others, [str(w.message) for w in others]
    # What the blocks claim in their comments, checked where they give a number.
    assert namespace["r"].memory.fits  # llama-3-70b over 1,024 GPUs fits
    assert 0.4 < namespace["fit"].a < 0.5  # the stand-in runs were made with a = 0.45


def test_readme_quick_start_plans_the_gopher_budget(tmp_path):
    quick_start = blocks("bash")[0][1]
    commands = [shlex.split(part) for line in quick_start.splitlines()
                for part in line.split("&&") if part.strip().startswith("scalingperf")]
    assert commands == [["scalingperf", "plan"]]
    result = subprocess.run(commands[0], capture_output=True, text=True, check=False,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    # As the README says: Gopher's budget on 1,024 H100s, the laws side by side, the
    # answer, why it won and the assumptions, in that order.
    assert out.startswith("Plan for 5.76e23 FLOPs on 1,024 x H100-SXM")
    assert (out.index("Loss-optimal size by law") < out.index("Answer")
            < out.index("Why this one") < out.index("Assumptions"))
    assert "interval" in out


def test_estimate_on_its_defaults_states_its_assumptions(tmp_path):
    result = subprocess.run(["scalingperf", "estimate"], capture_output=True, text=True,
                            check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "llama-2-7b: batch 1 x seq_len 4096" in out
    assumptions = out.split("Assumptions\n", 1)[1].split("\n\n", 1)[0].splitlines()
    labels = [line.split("  ")[1] for line in assumptions]
    assert labels == ["precision", "optimizer", "ZeRO stage", "recomputation", "devices",
                      "micro-batch", "flash attention", "elementwise ops", "activations",
                      "efficiency"]
    assert out.index("Assumptions") < out.index("mlp_gate") < out.index("6.74 B params")


def test_readme_transcripts_are_what_the_cli_prints(tmp_path):
    """Every ```text block that starts with ``$ scalingperf ...`` shows that command's
    output as it prints now (all of it, or its end after a ``...`` line)."""
    transcripts = [code for _, code in blocks("text") if code.startswith("$ scalingperf")]
    assert len(transcripts) >= 3
    for code in transcripts:
        lines = code.splitlines()
        command = []
        while True:
            line = lines.pop(0).removeprefix("$ ").strip()
            command.append(line.removesuffix("\\").strip())
            if not line.endswith("\\"):
                break
        args = shlex.split(" ".join(command))
        if args[1] == "sweep":
            args.append("--no-progress")
        result = subprocess.run(args, capture_output=True, text=True, check=False,
                                cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        shown = "\n".join(lines).rstrip()
        printed = result.stdout.rstrip()
        if shown.startswith("...\n"):
            assert printed.endswith(shown.removeprefix("...\n")), " ".join(args)
        else:
            assert printed == shown, " ".join(args)
