"""Reading the command line's JSON input files (``--hf-config``, ``--hardware``) safely."""

from __future__ import annotations

import errno
import json
import os
import stat
from os import PathLike
from typing import Any, NoReturn

#: Largest input file read, in bytes. A Hugging Face config.json or a device file is a few
#: KiB; the limit only stops a mistaken path (a disk image, a log) from filling memory.
MAX_BYTES = 16 * 2**20

_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
          (stat.S_ISSOCK, "a socket"))
_JSON_TYPES = {type(None): "null", list: "an array", str: "a string", bool: "true or false",
               int: "a number", float: "a number"}


def _not_regular(mode: int) -> str:
    """Why a file of this mode is refused, in the words of a failed read where it has them."""
    if stat.S_ISDIR(mode):
        return f"cannot read it ({os.strerror(errno.EISDIR)})"
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    return f"not a regular file ({kind})"


def read_text_file(field: str, path: str | PathLike[str], what: str = "an input file") -> str:
    """The UTF-8 text of the regular file ``path``, at most :data:`MAX_BYTES` long.

    Devices, FIFOs, folders and sockets are refused before they are opened (``/dev/zero``
    never ends, a FIFO blocks until a writer comes). Every failure is a ValueError naming
    ``field`` and the path: ``hf_config='/dev/zero' is invalid: not a regular file (a device)``.
    """
    name = os.fspath(path)

    def invalid(reason: str) -> NoReturn:
        msg = f"{field}={name!r} is invalid: {reason}"
        raise ValueError(msg) from None

    try:
        info = os.stat(name)
    except OSError as error:
        invalid(f"cannot read it ({error.strerror})")
    if not stat.S_ISREG(info.st_mode):
        invalid(_not_regular(info.st_mode))
    if info.st_size > MAX_BYTES:
        invalid(f"{info.st_size:,} bytes, over the limit of {MAX_BYTES:,} "
                f"(16 MiB) for {what}")
    # O_NONBLOCK: should the path be swapped for a FIFO after the stat above, opening it
    # returns at once instead of waiting for a writer; the fstat below then refuses it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags)
    except OSError as error:
        invalid(f"cannot read it ({error.strerror})")
    with os.fdopen(fd, "rb") as file:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            invalid(_not_regular(mode))
        try:
            data = file.read(MAX_BYTES + 1)
        except OSError as error:
            invalid(f"cannot read it ({error.strerror})")
    if len(data) > MAX_BYTES:  # it grew after the stat
        invalid(f"over the limit of {MAX_BYTES:,} bytes (16 MiB) for {what}")
    try:
        text = data.decode("utf-8-sig")  # a leading byte-order mark is allowed
    except UnicodeDecodeError as error:
        invalid(f"not UTF-8 text (byte {error.start} is {data[error.start]:#04x})")
    return text


def read_json_file(field: str, path: str | PathLike[str]) -> dict[str, Any]:
    """The JSON object in the regular file ``path`` (read as :func:`read_text_file` does);
    a ValueError naming ``field`` and the path unless it holds one."""
    name = os.fspath(path)
    text = read_text_file(field, name, "a JSON input file")

    def invalid(reason: str) -> NoReturn:
        msg = f"{field}={name!r} is invalid: {reason}"
        raise ValueError(msg) from None

    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        invalid(f"not JSON ({error.msg} at line {error.lineno} column {error.colno})")
    except ValueError as error:  # an integer of more digits than Python converts
        invalid(f"not usable JSON ({error})")
    except RecursionError:
        invalid("not usable JSON (nested too deeply)")
    if not isinstance(value, dict):
        found = _JSON_TYPES.get(type(value), type(value).__name__)
        invalid(f"expected a JSON object {{...}}, found {found}")
    return value
