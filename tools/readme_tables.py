"""Rewrite the README's snapshots of the validation suite: the summary table of
``scalingperf validate``, the prediction-interval section's held-out coverage table, its
pooled coverage and step factors, and every CLI transcript (a ```text block starting with
``$ scalingperf``) as the CLI prints it now (tests/test_intervals.py and
tests/test_readme.py check that the README quotes what the code computes).

    python tools/readme_tables.py
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
from pathlib import Path

import scalingperf as sp
from scalingperf import intervals

README = Path(__file__).resolve().parent.parent / "README.md"


def _replace_block(text: str, heading: str, block: str) -> str:
    """The first ```text block after ``heading`` replaced by ``block``."""
    start = text.index("```text", text.index(heading))
    end = text.index("```\n", start + 7) + 4
    return text[:start] + "```text\n" + block.rstrip("\n") + "\n```\n" + text[end:]


def _transcripts(text: str) -> str:
    """Each ```text block that starts with ``$ scalingperf`` rerun; a block shown from a
    ``...`` line keeps only as many last lines as it showed."""
    out, pos = [], 0
    for match in re.finditer(r"```text\n(\$ scalingperf.*?)```\n", text, flags=re.DOTALL):
        lines = match.group(1).rstrip("\n").splitlines()
        command = []
        while True:
            line = lines.pop(0)
            command.append(line)
            if not line.endswith("\\"):
                break
        args = shlex.split(" ".join(c.removeprefix("$ ").removesuffix("\\") for c in command))
        if args[1] == "sweep":
            args.append("--no-progress")
        with tempfile.TemporaryDirectory() as folder:
            printed = subprocess.run(args, capture_output=True, text=True, check=True,
                                     cwd=folder).stdout.rstrip().splitlines()
        if lines and lines[0] == "...":
            printed = ["...", *printed[-(len(lines) - 1):]]
        out += [text[pos:match.start()], "```text\n", "\n".join([*command, *printed]), "\n```\n"]
        pos = match.end()
    return "".join(out) + text[pos:]


def main() -> None:
    text = README.read_text()
    result = sp.validate()
    text = _replace_block(text, "## Validation against published runs", result.summary_table())
    text = re.sub(r"`result.over_memory`:\s+\d+ of \d+;",
                  f"`result.over_memory`:\n{len(result.over_memory)} of {len(result.predicted)};",
                  text, count=1)
    text = _replace_block(text, "### Prediction intervals", intervals.coverage_table(0.8))
    pooled = intervals.held_out_coverage(0.8)["pooled"].fraction
    by_device = intervals.held_out_coverage(0.8, by="device")["pooled"].fraction
    low, high = intervals.step_factors(0.8)
    section = text.index("### Prediction intervals")
    head, tail = text[:section], text[section:]
    tail = re.sub(r"over the\s+\d+ runs `validate\(\)` predicts",
                  f"over the\n{len(result.predicted)} runs `validate()` predicts", tail, count=1)
    tail = re.sub(r"\d+ % where 80 % was asked", f"{pooled * 100:.0f} % where 80 % was asked",
                  tail, count=1)
    half, most = (intervals.held_out_coverage(v)["pooled"].fraction for v in (0.5, 0.9))
    tail = re.sub(r"\(\d+ % at 50 %, \d+ % at 90 %, tested\)",
                  f"({half * 100:.0f} % at 50 %, {most * 100:.0f} % at 90 %, tested)", tail,
                  count=1)
    plain = intervals.plain_held_out_coverage(0.8)
    tail = re.sub(r"quantiles covered only \d+ %", f"quantiles covered only {plain * 100:.0f} %",
                  tail, count=1)
    tail = re.sub(r"does a little worse held out \(\d+ %\)",
                  f"does a little worse held out ({by_device * 100:.0f} %)", tail, count=1)
    r70 = sp.estimate(sp.Architecture.preset("llama-3-70b"), 1, 8192, tp=8, pp=4, dp=16,
                      microbatches=16)
    lo, hi = r70.step_interval(0.8)
    days = r70.training_interval(15e12, 0.8)
    tail = re.sub(r"# \([\d.]+, [\d.]+\) s around [\d.]+ s: factors [\d.]+ and [\d.]+",
                  f"# ({lo:.2f}, {hi:.2f}) s around {r70.time.step:.2f} s: factors {low:.2f} "
                  f"and {high:.2f}", tail, count=1)
    tail = re.sub(r"# \(\d+, \d+\) days on 15T tokens, estimate \d+",
                  f"# ({days[0]:.0f}, {days[1]:.0f}) days on 15T tokens, estimate "
                  f"{r70.training(15e12)['days']:.0f}", tail, count=1)
    README.write_text(_transcripts(head + tail))


if __name__ == "__main__":
    main()
