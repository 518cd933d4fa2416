"""Writing sweep results to files: CSV, JSON and Parquet by the file's extension."""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sweep import SweepResult


def write_result(result: SweepResult, path: str | PathLike[str]) -> Path:
    """Write ``result`` to ``path``: ``.csv`` and ``.json`` need nothing more, ``.parquet``
    needs pyarrow. Returns the path written."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        result.to_pandas().to_csv(target, index=False) if _has_pandas() else _write_csv(result, target)
    elif suffix == ".json":
        columns = {name: values.tolist() for name, values in result.to_dict().items()}
        target.write_text(json.dumps(columns))
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(result.to_arrow(), target)
    else:
        msg = f"out={str(path)!r} is invalid: use a .csv, .json or .parquet file"
        raise ValueError(msg)
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
