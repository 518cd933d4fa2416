"""Writing sweep results to files: CSV, JSON and Parquet by the file's extension."""

from __future__ import annotations

import json
import os
from importlib.util import find_spec
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sweep import SweepResult


#: The formats ``write_result`` writes, by file extension.
SUFFIXES = (".csv", ".json", ".parquet")


def check_target(path: str | PathLike[str]) -> Path:
    """Check, before any work, that ``write_result`` can write ``path``.

    The extension must be ``.csv``, ``.json`` or ``.parquet`` (pyarrow installed); the
    folder must exist and be writable; the target must not be a folder (an existing file
    is replaced). Returns the path; raises a ValueError naming the problem otherwise.
    """
    target = Path(path)
    name = str(path)
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        msg = f"out={name!r} is invalid: use a .csv, .json or .parquet file"
        raise ValueError(msg)
    if suffix == ".parquet" and find_spec("pyarrow") is None:
        msg = f"out={name!r} is invalid: .parquet needs pyarrow (pip install pyarrow)"
        raise ValueError(msg)
    if target.is_dir():
        msg = f"out={name!r} is invalid: it is a folder; give a file name"
        raise ValueError(msg)
    folder = target.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        msg = f"out={name!r} is invalid: the folder {str(folder)!r} {what}"
        raise ValueError(msg)
    if target.exists():
        if not os.access(target, os.W_OK):
            msg = f"out={name!r} is invalid: the file is not writable"
            raise ValueError(msg)
    elif not os.access(folder, os.W_OK | os.X_OK):
        msg = f"out={name!r} is invalid: the folder {str(folder)!r} is not writable"
        raise ValueError(msg)
    return target


def write_result(result: SweepResult, path: str | PathLike[str]) -> Path:
    """Write ``result`` to ``path``: ``.csv`` and ``.json`` need nothing more, ``.parquet``
    needs pyarrow. Returns the path written; the path is checked first (see
    :func:`check_target`)."""
    target = check_target(path)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        result.to_pandas().to_csv(target, index=False) if _has_pandas() else _write_csv(result, target)
    elif suffix == ".json":
        columns = {name: values.tolist() for name, values in result.to_dict().items()}
        target.write_text(json.dumps(columns))
    else:
        import pyarrow.parquet as pq

        pq.write_table(result.to_arrow(), target)
    return target


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
