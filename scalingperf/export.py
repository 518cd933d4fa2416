"""Writing sweep results to files: CSV, JSON and Parquet by the file's extension."""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Callable
from importlib.util import find_spec
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sweep import SweepResult


class WriteError(OSError):
    """``write_result`` could not write the file; ``filename`` is the path asked for."""


#: The formats ``write_result`` writes, by file extension.
SUFFIXES = (".csv", ".json", ".parquet")


def check_target(path: str | PathLike[str], suffixes: tuple[str, ...] = SUFFIXES) -> Path:
    """Check, before any work, that ``write_result`` (or :func:`write_file` with these
    ``suffixes``) can write ``path``.

    The extension must be one of ``suffixes``: by default ``.csv``, ``.json`` or
    ``.parquet`` (pyarrow installed); the folder must exist and be writable (the rows are written to a temporary file there
    first); the target must not be a folder, a device, a FIFO or a symbolic link (an
    existing regular file is replaced). Returns the path; raises a ValueError naming the
    problem otherwise.
    """
    target = Path(path)
    name = str(path)
    suffix = target.suffix.lower()
    if suffix not in suffixes:
        allowed = (f"{', '.join(suffixes[:-1])} or {suffixes[-1]}" if len(suffixes) > 1
                   else suffixes[0])
        msg = f"out={name!r} is invalid: use a {allowed} file"
        raise ValueError(msg)
    if suffix == ".parquet" and find_spec("pyarrow") is None:
        msg = f"out={name!r} is invalid: .parquet needs pyarrow (pip install pyarrow)"
        raise ValueError(msg)
    try:
        mode: int | None = os.lstat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:  # e.g. a file where a folder should be on the way
        mode = None
        if not isinstance(error, NotADirectoryError):
            msg = f"out={name!r} is invalid: cannot look at it ({error.strerror})"
            raise ValueError(msg) from None
    if mode is not None and stat.S_ISLNK(mode):
        msg = (f"out={name!r} is invalid: it is a symbolic link; give the file it points to, "
               "or another name")
        raise ValueError(msg)
    if mode is not None and stat.S_ISDIR(mode):
        msg = f"out={name!r} is invalid: it is a folder; give a file name"
        raise ValueError(msg)
    if mode is not None and not stat.S_ISREG(mode):
        what = "a FIFO" if stat.S_ISFIFO(mode) else "a device or other special file"
        msg = f"out={name!r} is invalid: it is {what}, not a regular file"
        raise ValueError(msg)
    folder = target.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        msg = f"out={name!r} is invalid: the folder {str(folder)!r} {what}"
        raise ValueError(msg)
    if mode is not None and not os.access(target, os.W_OK):
        msg = f"out={name!r} is invalid: the file is not writable"
        raise ValueError(msg)
    if not os.access(folder, os.W_OK | os.X_OK):
        msg = f"out={name!r} is invalid: the folder {str(folder)!r} is not writable"
        raise ValueError(msg)
    return target


def write_result(result: SweepResult, path: str | PathLike[str]) -> Path:
    """Write ``result`` to ``path``: ``.csv`` and ``.json`` need nothing more, ``.parquet``
    needs pyarrow. Returns the path written; the path is checked first (see
    :func:`check_target`).

    The rows go to a temporary file in the same folder, which then replaces ``path`` in
    one step: a reader never sees half a file, a failed write leaves the old file as it
    was, and a symbolic link put at ``path`` is replaced, never written through.
    """
    suffix = Path(path).suffix.lower()

    def write(temporary: Path) -> None:
        if suffix == ".csv":
            if _has_pandas():
                result.to_pandas().to_csv(temporary, index=False)
            else:
                _write_csv(result, temporary)
        elif suffix == ".json":
            columns = {name: values.tolist() for name, values in result.to_dict().items()}
            temporary.write_text(json.dumps(columns))
        else:
            import pyarrow.parquet as pq

            pq.write_table(result.to_arrow(), temporary)

    return write_file(path, write)


def write_file(path: str | PathLike[str], write: Callable[[Path], object],
               suffixes: tuple[str, ...] = SUFFIXES) -> Path:
    """Check ``path`` (:func:`check_target` with ``suffixes``), then call ``write`` on a
    temporary file beside it and move that file over ``path`` in one step. Returns the
    path; an OSError while writing becomes a :class:`WriteError` naming ``path``."""
    target = check_target(path, suffixes)
    temporary = _temporary_file(target)
    try:
        write(temporary)
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _write_error(error, path) from None
        raise
    return target


def _write_error(error: OSError, path: str | PathLike[str]) -> WriteError:
    """``error`` naming the file asked for, not the temporary one (pandas' and pyarrow's
    write errors name no file at all)."""
    return WriteError(error.errno, error.strerror or str(error), str(path))


def _temporary_file(target: Path) -> Path:
    """A new, empty file beside ``target``, with the mode a new ``target`` would have
    (from the umask), or that of ``target`` where it exists."""
    existing = target.stat().st_mode if target.exists() else None
    for _ in range(100):
        candidate = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise _write_error(error, target) from None
        try:
            if existing is not None:
                os.chmod(fd, stat.S_IMODE(existing))
        except OSError as error:
            candidate.unlink(missing_ok=True)
            raise _write_error(error, target) from None
        finally:
            os.close(fd)
        return candidate
    msg = f"out={str(target)!r}: no free temporary file name in its folder"
    raise ValueError(msg)


def _has_pandas() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def _write_csv(result: SweepResult, target: Path) -> None:
    columns = result.to_dict()
    names = list(columns)
    with target.open("w") as out:
        out.write(",".join(names) + "\n")
        for i in range(len(result)):
            out.write(",".join(str(columns[name][i].item()) for name in names) + "\n")
