"""Sweep speed of two builds of scalingperf, side by side in one run (rounds alternate, so
both see the same machine). Each build is a folder made with ``pip install --target DIR
.``; both are timed on the benchmark grids of ``benchmarks/test_sweep_speed.py``.

    python tools/compare_builds.py OLD_SITE NEW_SITE [--rounds 7]

Prints, per case, the median over rounds of each round's best of five, for each build, and
their ratio (new / old).
"""

from __future__ import annotations

import argparse
import json
import os
import site
import statistics
import subprocess
import sys

# One round of every case in a fresh interpreter that imports the given build; it prints
# {case: seconds}. Reductions on the new build are also timed with feasible=False, the
# semantics of a build without feasibility.
_ROUND = r"""
import json, sys, time, warnings
import scalingperf as sp
sys.path.insert(0, sys.argv[1])
from test_sweep_speed import SEARCH, SHAPES
warnings.simplefilter("ignore")
new = hasattr(sp, "SweepWarning")
cases = {
    "search, every column": (SEARCH, {}),
    "shapes, every column": (SHAPES, {}),
    "search, top-10 by -mfu": (SEARCH, {"top": 10, "by": "-mfu"}),
    "search, Pareto step_time x memory": (SEARCH, {"pareto": ("step_time", "memory_per_gpu")}),
}
out = {}
for name, (spec, options) in cases.items():
    grid = sp.Grid(**spec)
    if new and options:
        options = {**options, "feasible": False}
    sp.sweep(grid, **options)  # warm: threads, caches
    best = float("inf")
    for _ in range(5):  # the best of five: a round's figure is its quietest moment
        start = time.perf_counter()
        sp.sweep(grid, **options)
        best = min(best, time.perf_counter() - start)
    out[name] = best
print(json.dumps(out))
"""


def run(site_dir: str, benchmarks: str) -> dict[str, float]:
    paths = os.pathsep.join([site_dir, *site.getsitepackages()])
    env = {**os.environ, "PYTHONPATH": paths}
    # -S: no .pth files, so an editable install cannot shadow the build under test.
    done = subprocess.run([sys.executable, "-S", "-c", _ROUND, benchmarks], env=env,
                          capture_output=True, text=True, check=True, cwd="/")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    benchmarks = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")
    times: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
    for _ in range(args.rounds):
        for label, folder in (("old", args.old), ("new", args.new)):
            for case, seconds in run(os.path.abspath(folder), benchmarks).items():
                times[label].setdefault(case, []).append(seconds)
    for case in times["old"]:
        old = statistics.median(times["old"][case])
        new = statistics.median(times["new"][case])
        print(f"{case:36s} old {old * 1e3:8.1f} ms  new {new * 1e3:8.1f} ms  "
              f"new/old {new / old:.3f}")


if __name__ == "__main__":
    main()
