"""Uneven pipeline stages as estimate() and grids take them (``layers_per_stage``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import _validate

#: The rules layers_per_stage may name: what counts as a layer in an even split.
RULES = ("embedding", "loss", "embedding+loss")


def stage_split(value: Any, pp: Any) -> tuple[int, int, int] | str | None:
    """``layers_per_stage`` as the core takes it: None, a rule, or the (first, middle, last)
    layers of a list whose stages between are equal (middle 0 with two stages). The core
    checks that they sum to the model's layers."""
    if value is None or (isinstance(value, str) and value in RULES):
        return value
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # a NumPy array
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        msg = (f"layers_per_stage={value!r} is invalid: give a list of layers per pipeline "
               f"stage or one of {', '.join(map(repr, RULES))}")
        raise ValueError(msg)
    layers = [_validate.integer("layers_per_stage", v) for v in value]
    stages = pp if type(pp) is int else _validate.integer("pp", pp)
    if len(layers) != stages or len(layers) < 2:
        msg = (f"layers_per_stage={list(value)!r} is invalid: it must list the layers of each "
               f"of the pp={stages} stages (pp >= 2)")
        raise ValueError(msg)
    if any(n < 0 for n in layers) or len(set(layers[1:-1])) > 1:
        msg = (f"layers_per_stage={list(value)!r} is invalid: counts must be >= 0 and the "
               "stages between the first and the last must hold the same number")
        raise ValueError(msg)
    return layers[0], layers[1] if stages > 2 else 0, layers[-1]
