"""Conversion of user values at the Python boundary: each failure is a ValueError naming
the field. Ranges are checked once, in the C++ core."""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np

_INT64_MAX = 2**63 - 1


def integer(field: str, value: Any) -> int:
    """``value`` as a Python int, or a ValueError naming ``field``.

    Integers (numpy's included) and whole reals (``2.0``, ``np.float32(4)``,
    ``Fraction(4, 2)``) are accepted; booleans, fractions of a unit and other types are
    refused rather than truncated.
    """
    if type(value) is int and -_INT64_MAX - 1 <= value <= _INT64_MAX:
        return value  # the common case first: a grid's axes hold thousands of these
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"{field}={value!r} is invalid: it must be an integer, not {type(value).__name__}"
        raise ValueError(msg)
    if isinstance(value, numbers.Integral):
        result = operator.index(value)
    elif (whole := float(value)).is_integer() and whole == value:
        result = int(whole)
    else:
        msg = f"{field}={value!r} is invalid: it must be a whole number"
        raise ValueError(msg)
    if not -_INT64_MAX - 1 <= result <= _INT64_MAX:
        msg = f"{field}={value!r} is invalid: it does not fit a 64-bit integer"
        raise ValueError(msg)
    return result


def optional_integer(field: str, value: Any) -> int:
    """``value`` as an int, with None meaning 0 (derive it)."""
    return 0 if value is None else integer(field, value)


def derived_integer(field: str, value: Any) -> int:
    """``value`` as an int, with None (and only None) meaning 0, "derive it".

    An explicit 0 is refused rather than read as "derive": it is not a size.
    """
    if value is None:
        return 0
    result = integer(field, value)
    if result == 0:
        msg = f"{field}=0 is invalid: allowed range is >= 1 (leave it None to derive it)"
        raise ValueError(msg)
    return result


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


def number(field: str, value: Any) -> float:
    """``value`` as a float, checked for type only: the core checks its range (NaN and
    infinities included) and names the field in its own words."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"{field}={value!r} is invalid: it must be a number, not {type(value).__name__}"
        raise ValueError(msg)
    return float(value)


def flag(field: str, value: Any) -> bool:
    """``value`` as a bool (True/False or numpy's bool only)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    msg = f"{field}={value!r} is invalid: it must be True or False"
    raise ValueError(msg)


def text(field: str, value: Any) -> str:
    """``value`` as a str; the C++ core checks it against the allowed names."""
    if not isinstance(value, str):
        msg = f"{field}={value!r} is invalid: it must be a string, not {type(value).__name__}"
        raise ValueError(msg)
    try:
        value.encode()
    except UnicodeEncodeError:
        msg = f"{field}={value!r} is invalid: it is not valid Unicode text"
        raise ValueError(msg) from None
    return str(value)
