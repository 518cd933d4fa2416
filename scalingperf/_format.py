"""Human-readable numbers and plain-text tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_PREFIXES = ((1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"),
             (1e6, "M"), (1e3, "k"))


def si(value: float, unit: str = "") -> str:
    """``value`` with an SI prefix and three significant digits: 1.23 TFLOP."""
    magnitude = abs(value)
    for scale, prefix in _PREFIXES:
        if magnitude >= scale:
            return f"{value / scale:.3g} {prefix}{unit}".rstrip()
    if value == int(value):
        return f"{int(value)} {unit}".rstrip()
    return f"{value:.3g} {unit}".rstrip()


_COUNT_PREFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def count(value: float, noun: str) -> str:
    """A count with the prefix English uses for model sizes, three significant digits:
    6.74 B params, 124 M params, 4.1 k tokens."""
    for scale, prefix in _COUNT_PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix} {noun}"
    return f"{value:.3g} {noun}"


def gib(nbytes: float) -> str:
    """Bytes in GiB (2^30 bytes), three significant digits: 74.5 GiB."""
    return f"{nbytes / 2**30:.3g} GiB"


def duration(seconds: float) -> str:
    """Seconds in s, ms or us, three significant digits."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms")):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-6:.3g} us"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 2) -> str:
    """A plain-text table: the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [str(c).ljust(w) if i < left else str(c).rjust(w)
                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def attention_curves(efficiency: Any) -> str:
    """Which published curves scale an efficiency's attention, as assumptions state it:
    empty when it is flat."""
    along = [name for name, curve in (("tokens per call", efficiency.attention_curve),
                                       ("head dim", efficiency.attention_head_curve)) if curve]
    return f" at 4k tokens and head dim 128, along its kernel's curves by {' and '.join(along)}" \
        if along else ""


def gemm_falloff(efficiency: Any) -> str:
    """An efficiency's GEMM falloff at short reductions (gemm_k0), as assumptions state
    it: empty when it has none."""
    k0 = efficiency.gemm_k0
    return f" for long reductions, x K / (K + {k0:g}) at width K" if k0 else ""
