"""Sweep speed of two builds of scalingperf, side by side in one run (rounds alternate, so
both see the same machine). Each build is a folder made with ``pip install --target DIR
.``; both are timed on the benchmark grids of ``benchmarks/test_sweep_speed.py``.

    python tools/compare_builds.py OLD_SITE NEW_SITE [--rounds 7]
    python tools/compare_builds.py OLD_SITE NEW_SITE --callgrind [--sweeps 10]

Prints, per case, the median over rounds of each round's best of five, for each build, and
their ratio (new / old). With ``--callgrind`` it counts instructions instead (valgrind's
callgrind, which a noisy machine does not scatter): each case's sweeps in one interpreter,
less the count of the same interpreter that only imports and builds the grid.
"""

from __future__ import annotations

import argparse
import json
import os
import site
import statistics
import subprocess
import sys
import tempfile

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


# One case under callgrind: import, build the grid, then run the sweep argv[3] times (0:
# the baseline that is subtracted).
_COUNTED = r"""
import sys, warnings
import scalingperf as sp
sys.path.insert(0, sys.argv[1])
from test_sweep_speed import SEARCH, SHAPES
warnings.simplefilter("ignore")
options = {
    "search": (SEARCH, {}),
    "shapes": (SHAPES, {}),
    "top": (SEARCH, {"top": 10, "by": "-mfu"}),
    "pareto": (SEARCH, {"pareto": ("step_time", "memory_per_gpu")}),
}
spec, kwargs = options[sys.argv[2]]
grid = sp.Grid(**spec)
for _ in range(int(sys.argv[3])):
    sp.sweep(grid, **kwargs)
"""


def _environment(site_dir: str) -> dict[str, str]:
    paths = os.pathsep.join([site_dir, *site.getsitepackages()])
    return {**os.environ, "PYTHONPATH": paths}


def instructions(site_dir: str, benchmarks: str, case: str, sweeps: int) -> int:
    """Instructions callgrind counts for ``sweeps`` sweeps of ``case`` on one build."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        sys.executable, "-S", "-c", _COUNTED, benchmarks, case, str(sweeps)],
                       env=_environment(site_dir), capture_output=True, check=True, cwd="/")
        with open(out) as counts:
            for line in counts:
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
    message = f"callgrind wrote no instruction total for {case}"
    raise RuntimeError(message)


def count(old: str, new: str, benchmarks: str, sweeps: int) -> None:
    for case in ("top", "pareto", "search", "shapes"):
        old_count, new_count = (
            instructions(folder, benchmarks, case, sweeps)
            - instructions(folder, benchmarks, case, 0) for folder in (old, new))
        print(f"{case:8s} old {old_count / 1e6:9.1f} M  new {new_count / 1e6:9.1f} M  "
              f"new/old {new_count / old_count:.3f}", flush=True)


def run(site_dir: str, benchmarks: str) -> dict[str, float]:
    env = _environment(site_dir)
    # -S: no .pth files, so an editable install cannot shadow the build under test.
    done = subprocess.run([sys.executable, "-S", "-c", _ROUND, benchmarks], env=env,
                          capture_output=True, text=True, check=True, cwd="/")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--callgrind", action="store_true",
                        help="count instructions under valgrind instead of timing")
    parser.add_argument("--sweeps", type=int, default=10, help="sweeps per counted case")
    args = parser.parse_args()
    benchmarks = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")
    if args.callgrind:
        count(os.path.abspath(args.old), os.path.abspath(args.new), benchmarks, args.sweeps)
        return
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
