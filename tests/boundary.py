"""The boundary contract the property tests share: bad input is a ValueError whose
message starts with the field and its value (``tp=3 is invalid: ...``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_NAMES_FIELD = re.compile(r"^[a-z_ *]+=")


def result_or_field_error(call: Callable[[], T]) -> T | None:
    """``call()``'s result, or None once its ValueError is checked to name the field."""
    try:
        return call()
    except ValueError as error:
        message = str(error)
    assert _NAMES_FIELD.match(message), message
    return None
