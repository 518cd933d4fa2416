"""Draw the README's pictures into docs/ (needs matplotlib: pip install 'scalingperf[plot]').

    python tools/make_pictures.py            # every picture
    python tools/make_pictures.py isoflop    # some of them

Each picture is the command the README prints next to it; rerun after a change to the
cost model, the laws or the validation data.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scalingperf as sp
from scalingperf import laws
from scalingperf.presets import preset

DOCS = Path(__file__).resolve().parent.parent / "docs"
#: Dots per inch of the README's PNGs: readable on a page, small in the repository.
DPI = 72


def isoflop() -> Any:
    """`scalingperf plot isoflop -o docs/isoflop.png`"""
    return sp.plot.isoflop()


def pareto() -> Any:
    """`scalingperf plot pareto -o docs/pareto.png`: the plan of `scalingperf plan` (Gopher's
    budget on 1,024 H100s), its candidates' predicted loss against training days."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", laws.ExtrapolationWarning)  # the laws' data ends at 16B
        chosen = sp.plan()
    return sp.plot.pareto(chosen)


def layers() -> Any:
    """`scalingperf plot layers --preset llama-2-7b --tp 8 --recompute selective`"""
    report = sp.estimate(preset("llama-2-7b"), batch=1, seq_len=4096, tp=8,
                         recompute="selective")
    return sp.plot.layers(report)


def validation() -> Any:
    """`scalingperf plot validation -o docs/validation.png`"""
    return sp.plot.validation()


PICTURES: dict[str, Callable[[], Any]] = {
    "isoflop": isoflop, "pareto": pareto, "layers": layers, "validation": validation}


def main(names: list[str]) -> None:
    unknown = sorted(set(names) - set(PICTURES))
    if unknown:
        sys.exit(f"unknown picture {unknown[0]!r}: choose from {', '.join(PICTURES)}")
    DOCS.mkdir(exist_ok=True)
    for name in names or PICTURES:
        target = DOCS / f"{name}.png"
        PICTURES[name]().savefig(target, dpi=DPI)
        print(f"wrote {target.relative_to(DOCS.parent)} ({target.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
