"""Every registered law side by side at one budget, model size or token count."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard

from .._format import count, table
from ._base import (
    ExtrapolationWarning,
    ParamConvention,
    counts,
    param_convention,
    scalar,
)
from ._chinchilla import Besiroglu2024, Chinchilla2022, TokensPerParameter
from ._clark import Clark2022
from ._kaplan import Kaplan2020
from ._muennighoff import Muennighoff2023

if TYPE_CHECKING:
    from ..architecture import Architecture
    from ..estimate import Report


@dataclass(frozen=True)
class LawRow:
    """One law's answer. ``params``, ``tokens`` and ``compute`` (``6 N D`` FLOPs unless
    the budget was given) are ``None`` where the law gives no allocation, ``loss`` where
    it has no loss surface; ``note`` says why."""

    law: str
    params: float | None
    tokens: float | None
    tokens_per_param: float | None
    compute: float | None
    loss: float | None
    params_convention: str
    extrapolated: bool
    source: str
    note: str = ""


@dataclass(frozen=True)
class LawTable:
    """What :func:`compare` returns: the query and one :class:`LawRow` per law, printable,
    with :meth:`to_dict` and :meth:`to_pandas`."""

    compute: float | None
    params: float | None
    tokens: float | None
    rows: tuple[LawRow, ...] = field(default=())
    model: str | None = None

    def __getitem__(self, law: str) -> LawRow:
        for row in self.rows:
            if row.law == law:
                return row
        msg = f"law={law!r} is not in the table: its laws are {', '.join(self.labels)}"
        raise KeyError(msg)

    @property
    def labels(self) -> list[str]:
        """The laws, in table order."""
        return [row.law for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """``{"compute": ..., "params": ..., "tokens": ..., "model": ..., "rows": [row
        dicts]}`` (``model`` names the model ``params`` was given as, else None)."""
        return {"compute": self.compute, "params": self.params, "tokens": self.tokens,
                "model": self.model, "rows": [asdict(row) for row in self.rows]}

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame indexed by law (needs pandas)."""
        import pandas as pd

        return pd.DataFrame([asdict(row) for row in self.rows]).set_index("law")

    def __str__(self) -> str:
        header = ["law", "source", "N counts", "N", "D", "D/N", "C (FLOPs)", "loss"]
        rows = []
        for row in self.rows:
            rows.append([
                row.law + ("*" if row.extrapolated else ""), row.source, row.params_convention,
                _cell(row.params, "count"), _cell(row.tokens, "count"),
                _cell(row.tokens_per_param, ".3g"), _cell(row.compute, ".3g"),
                _cell(row.loss, ".4g")])
        given = ", ".join([f"{name}={value:.3g}" for name, value in
                           (("compute", self.compute), ("params", self.params),
                            ("tokens", self.tokens)) if value is not None]
                          + ([f"model={self.model} (N as each law counts it)"]
                             if self.model else []))
        lines = [f"Scaling laws at {given}", table(header, rows, left=3)]
        if any(row.extrapolated for row in self.rows):
            lines.append("* outside the range the law was fitted on (an extrapolation)")
        lines += [f"{row.law}: {row.note}" for row in self.rows if row.note]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"LawTable({len(self.rows)} laws)\n{self}"


@dataclass(frozen=True)
class _Entry:
    law: Any
    source: str
    loss: bool
    note: str


_REGISTRY: dict[str, _Entry] = {}


def register(law: Any, *, label: str | None = None, source: str | None = None,
             loss: bool = True, note: str = "", replace: bool = False) -> None:
    """Add ``law`` to the laws :func:`compare` lists.

    Parameters
    ----------
    law : object
        A law instance. :func:`compare` calls its ``compute_optimal(C)`` (``N, D``),
        ``tokens_for(N)`` and ``loss(N, D)`` where it has them, and reads its
        ``params_convention``.
    label : str, optional
        The row's name; default ``law.name`` or the class name.
    source : str, optional
        The paper and where in it; default the first line of the class docstring.
    loss : bool
        Whether ``law.loss(N, D)`` is a loss in ``N`` and ``D`` (``False`` for a law whose
        ``loss`` takes other arguments).
    note : str
        Shown under the table, e.g. why a column is empty.
    replace : bool
        Replace a law already registered under ``label`` (else a ValueError).
    """
    name = label if label is not None else str(getattr(law, "name", type(law).__name__))
    if not isinstance(name, str) or not name:
        msg = f"label={label!r} is invalid: it must be a non-empty string"
        raise ValueError(msg)
    if name in _REGISTRY and not replace:
        msg = f"label={name!r} is invalid: a law is registered under it (pass replace=True)"
        raise ValueError(msg)
    param_convention(getattr(law, "params_convention", None))
    doc = (type(law).__doc__ or type(law).__name__).strip().splitlines()[0]
    _REGISTRY[name] = _Entry(law, source if source is not None else doc, loss, note)


def registered() -> dict[str, Any]:
    """The registered laws by label, in registration order."""
    return {label: entry.law for label, entry in _REGISTRY.items()}


def _cell(value: float | None, style: str) -> str:
    if value is None:
        return "-"
    return count(value, "").strip() if style == "count" else format(value, style)


def _optional(name: str, value: object) -> float | None:
    return None if value is None else scalar(name, counts(name, value))


def compare(compute: float | None = None, params: float | Architecture | Report | None = None,
            tokens: float | None = None) -> LawTable:
    """Every registered law side by side (:func:`register` adds one).

    Give one or two of:

    - ``compute`` alone: each law's compute-optimal ``N`` and ``D`` for ``C`` FLOPs;
    - ``params`` alone: the tokens each law recommends for ``N`` parameters, and ``C = 6 N
      D``;
    - two of them: the third from ``C = 6 N D``, the same for every law.

    ``params`` may also be a model, an :class:`~scalingperf.Architecture` or the
    :class:`~scalingperf.Report` of :func:`~scalingperf.estimate`: each law then takes its
    ``N`` as that law counts it (``law.params_of(model)``), and ``C = 6 N D`` with that N.

    The loss is each law's prediction at its ``N`` and ``D``, where it has a loss surface.
    ``N`` is in each law's own convention (the "N counts" column: Kaplan et al. count
    non-embedding parameters, Hoffmann et al. all of them), so the same model has a
    different ``N`` in each. Results outside a law's fitted range are marked instead of
    warning with :class:`ExtrapolationWarning`.

    Returns
    -------
    LawTable
        Printable; ``.to_dict()``, ``.to_pandas()``, ``table["Kaplan2020"]``.

    Examples
    --------
    >>> row = compare(compute=5.76e23)["Chinchilla2022(approach=3)"]
    >>> round(row.params / 1e9)
    40
    """
    model = params if _is_model(params) else None
    c, n, d = (_optional("compute", compute),
               _optional("params", None if model is not None else params),
               _optional("tokens", tokens))
    counted = {label: _counted(entry.law, model) if model is not None else n
               for label, entry in _REGISTRY.items()}
    given = [v is not None for v in (c, n if model is None else model, d)]
    if sum(given) == 0 or sum(given) == 3 or (d is not None and sum(given) == 1):
        msg = (f"compute={compute!r}, params={params!r}, tokens={tokens!r} are invalid "
               "together: give compute, params, or two of compute, params and tokens")
        raise ValueError(msg)
    if c is not None and d is not None and c / (6.0 * d) < 1:
        msg = (f"compute={c!r} is invalid with tokens={d!r}: C / 6 must be at least that, "
               "to leave one parameter")
        raise ValueError(msg)
    largest = max((v for v in counted.values() if v is not None), default=None)
    if c is not None and largest is not None and c / (6.0 * largest) < 1:
        msg = (f"compute={c!r} is invalid with params={largest!r}: C / 6 must be at least "
               "that, to leave one token")
        raise ValueError(msg)
    rows = tuple(_row(label, entry, c, counted[label], d)
                 for label, entry in _REGISTRY.items())
    return LawTable(c, n, d, rows, None if model is None else _model_name(model))


def _is_model(value: object) -> TypeGuard[Architecture | Report]:
    from ..architecture import Architecture
    from ..estimate import Report

    return isinstance(value, Architecture | Report)


def _model_name(model: Architecture | Report) -> str:
    arch = model.architecture if hasattr(model, "architecture") else model
    return str(getattr(arch, "name", None) or type(arch).__name__)


def _counted(law: Any, model: Architecture | Report) -> float:
    """``N`` of ``model`` as ``law`` counts it."""
    return param_convention(law.params_convention).count(model)


def _row(label: str, entry: _Entry, c: float | None, n: float | None,
         d: float | None) -> LawRow:
    law = entry.law
    convention: ParamConvention = param_convention(law.params_convention)
    note = entry.note
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if c is not None and n is None and d is None:
            n, d = _call(law, "compute_optimal", c) or (None, None)
        elif n is not None and c is None and d is None:
            d = _call(law, "tokens_for", n)
        elif c is not None and n is not None:
            d = c / (6.0 * n)
        elif c is not None and d is not None:
            n = c / (6.0 * d)
        if n is not None and d is not None and c is None:
            c = 6.0 * n * d
        loss = _call(law, "loss", n, d) if entry.loss and n is not None and d is not None else None
    extrapolated = False
    for warning in caught:
        if issubclass(warning.category, ExtrapolationWarning):
            extrapolated = True
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    if n is None and not note:
        note = "gives no compute-optimal allocation"
    return LawRow(label, _number(n), _number(d),
                  None if n is None or d is None else float(d) / float(n),
                  _number(c if n is not None else None), _number(loss), convention.name,
                  extrapolated, entry.source, note)


def _call(law: Any, method: str, *args: float) -> Any:
    """``law.method(*args)``, or None where the law has no such method or it is not
    defined for this law (a frontier's loss)."""
    function = getattr(law, method, None)
    if function is None:
        return None
    try:
        return function(*args)
    except NotImplementedError:
        return None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


for _law, _source in (
        (Chinchilla2022(approach=1), "Hoffmann et al. 2022, Table 3 (approach 1)"),
        (Chinchilla2022(approach=2), "Hoffmann et al. 2022, Table A3 (approach 2)"),
        (Chinchilla2022(approach=3), "Hoffmann et al. 2022, eq. 10 (approach 3)"),
        (Besiroglu2024(), "Besiroglu et al. 2024, eq. 4"),
        (Kaplan2020(), "Kaplan et al. 2020, eqs. 1.5, 1.7"),
        (Muennighoff2023(), "Muennighoff et al. 2023, Appendix B (unique data)"),
        (TokensPerParameter(), "20 tokens per parameter (Hoffmann et al. 2022)")):
    register(_law, label=getattr(_law, "name", "TokensPerParameter(20)"), source=_source)
register(Clark2022(), source="Clark et al. 2022, eq. 1, Table 3", loss=False,
         note="no compute-optimal allocation: every run saw 130B tokens; its loss(N, E) "
              "takes the expert count, not tokens")
