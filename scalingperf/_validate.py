"""Conversion of user values at the Python boundary: each failure is a ValueError naming
the field. Ranges are checked once, in the C++ core."""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

_INT64_MAX = 2**63 - 1


def integer(field: str, value: Any) -> int:
    """``value`` as a Python int, or a ValueError naming ``field``."""
    if type(value) is int and -_INT64_MAX - 1 <= value <= _INT64_MAX:
        return value  # the common case first: a grid's axes hold thousands of these
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            msg = f"{field}={value!r} is invalid: it must be an integer, not {type(value).__name__}"
            raise ValueError(msg)
    result = operator.index(value)
    if not -_INT64_MAX - 1 <= result <= _INT64_MAX:
        msg = f"{field}={result} is invalid: it does not fit a 64-bit integer"
        raise ValueError(msg)
    return result


def optional_integer(field: str, value: Any) -> int:
    """``value`` as an int, with None meaning 0 (derive it)."""
    return 0 if value is None else integer(field, value)


def real(field: str, value: Any) -> float:
    """``value`` as a finite float, or a ValueError naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"{field}={value!r} is invalid: it must be a number, not {type(value).__name__}"
        raise ValueError(msg)
    result = float(value)
    if not math.isfinite(result):
        msg = f"{field}={result} is invalid: it must be finite"
        raise ValueError(msg)
    return result


def flag(field: str, value: Any) -> bool:
    """``value`` as a bool (True/False or numpy's bool only)."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    msg = f"{field}={value!r} is invalid: it must be True or False"
    raise ValueError(msg)


def text(field: str, value: Any) -> str:
    """``value`` as a str; the C++ core checks it against the allowed names."""
    if not isinstance(value, str):
        msg = f"{field}={value!r} is invalid: it must be a string"
        raise ValueError(msg)
    return value
