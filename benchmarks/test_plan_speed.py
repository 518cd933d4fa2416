"""Speed of the planner: ``scalingperf plan`` on its defaults (Gopher's 5.76e23 FLOPs on
1,024 H100-SXM), as a user runs it, and ``plan()`` from Python.

Run the timings (from the repository root)::

    pytest benchmarks/test_plan_speed.py --benchmark-only

The target: the command prints its complete, explained answer in under 2 s (start-up of
the interpreter and the package included). The measured medians go into
``benchmark.extra_info`` (``median_s``, ``meets_target``); no test asserts on time, as this
runs on small, shared machines. Each benchmarked call is checked for a complete answer.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

import scalingperf

COMMAND_TARGET_S = 2.0


def _median_s(benchmark: Any) -> float | None:
    if benchmark.stats is None:
        return None
    return float(benchmark.stats.stats.median)


@pytest.mark.benchmark(group="plan")
def test_plan_command_on_defaults(benchmark: Any, tmp_path: Any) -> None:
    def command() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["scalingperf", "plan"], capture_output=True, text=True,
                              check=False, cwd=tmp_path)

    result = benchmark.pedantic(command, rounds=5, warmup_rounds=1)
    assert result.returncode == 0, result.stderr
    for part in ("Plan for 5.76e23 FLOPs", "Answer", "Why this one", "Assumptions"):
        assert part in result.stdout
    median = _median_s(benchmark)
    benchmark.extra_info["target_s"] = COMMAND_TARGET_S
    if median is not None:
        benchmark.extra_info["median_s"] = median
        benchmark.extra_info["meets_target"] = median <= COMMAND_TARGET_S


@pytest.mark.benchmark(group="plan")
@pytest.mark.parametrize("question", [{}, {"days": 30}])
def test_plan_from_python(benchmark: Any, question: dict[str, float]) -> None:
    result = benchmark.pedantic(scalingperf.plan, kwargs=question, rounds=5, warmup_rounds=1)
    assert result.best.memory.fits
    assert len(result.candidates) > 0
    if "days" in question:
        assert result.days == pytest.approx(question["days"])
    median = _median_s(benchmark)
    if median is not None:
        benchmark.extra_info["median_s"] = median
