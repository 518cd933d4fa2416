"""What every law shares: input checks, broadcasting onto the Cython kernels, fitted
ranges and the warning raised outside them."""

from __future__ import annotations

import abc
import functools
import inspect
import math
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

import numpy as np
import numpy.typing as npt

from . import _kernels

if TYPE_CHECKING:
    from ..architecture import Architecture
    from ..estimate import Report

#: One petaflop/s-day in FLOPs (Kaplan et al. 2020 give compute in PF-days).
PF_DAY = 1e15 * 24 * 3600

F64 = npt.NDArray[np.float64]
#: ``(low, high)`` bounds of a fitted variable; ``0`` and ``inf`` leave a side open.
Bounds = tuple[float, float]
_Method = TypeVar("_Method", bound=Callable[..., Any])


class ExtrapolationWarning(UserWarning):
    """A law evaluated outside the range of the data it was fitted on.

    The message says which variable, by what factor and in how many decades it lies
    outside. Silence it with ``warnings.simplefilter("ignore", ExtrapolationWarning)``, or
    pass ``fitted_range={}`` to a law to stop checking.
    """


#: Every count a law takes (parameters, tokens, FLOPs, unique tokens, steps, batch
#: sizes, experts) lies in ``[1, 1e40]``: below one of a thing is meaningless, and 1e40
#: is 13 decades beyond the largest training runs (~1e26 FLOPs) while leaving room for
#: every power the published laws take of it in float64.
COUNT_RANGE: Bounds = (1.0, 1e40)
#: A loss in nats per token, as Kaplan et al.'s critical batch takes it: two decades
#: beyond any language model's (about 1.5 to 11) at each end.
LOSS_RANGE: Bounds = (1e-3, 1e3)


def as_numbers(name: str, value: object) -> F64:
    """``value`` as a float64 array, or a ValueError naming ``name`` if it is not a
    number or an array of numbers (bools, strings, None and ragged lists are not)."""
    try:
        raw = np.asarray(value)
    except (ValueError, TypeError):
        raw = np.asarray(None)
    if raw.dtype == np.bool_ or raw.dtype.kind not in "iuf":
        msg = f"{name}={value!r} is invalid: it must be a number or an array of numbers"
        raise ValueError(msg)
    with np.errstate(over="ignore"):  # a long double beyond float64 becomes inf: refused
        return raw.astype(np.float64, copy=False)


def within(name: str, value: object, low: float = 0.0, high: float = math.inf) -> F64:
    """``value`` as a float64 array whose elements are all finite and in ``[low,
    high]`` (``> 0`` if ``low`` is 0), or a ValueError naming ``name``, the first bad
    value and the range."""
    array = as_numbers(name, value)
    inside = np.isfinite(array) & (array > low if low == 0 else array >= low) & (array <= high)
    if not inside.all():
        first = float(array[~inside].flat[0])
        where = f" ({int((~inside).sum())} of {array.size} values)" if array.ndim else ""
        allowed = "finite and > 0" if low == 0 and high == math.inf else (
            f"a finite number from {low:g} to {high:g}")
        msg = f"{name}={first!r} is invalid: it must be {allowed}{where}"
        raise ValueError(msg)
    return array


def positive(name: str, value: object) -> F64:
    """``value`` as a float64 array whose elements are all finite and > 0, or a
    ValueError naming ``name``."""
    return within(name, value)


def counts(name: str, value: object) -> F64:
    """``value`` as a float64 array of counts in :data:`COUNT_RANGE`, or a ValueError
    naming ``name``."""
    return within(name, value, *COUNT_RANGE)


def scalar(name: str, array: F64) -> float:
    """The single number in ``array``, or a ValueError naming ``name``."""
    if array.ndim:
        msg = f"{name} is invalid: it must be a single number, not an array"
        raise ValueError(msg)
    return float(array)


def positive_scalar(name: str, value: object) -> float:
    """A finite float > 0, or a ValueError naming ``name``."""
    return scalar(name, positive(name, value))


def finite_scalar(name: str, value: object) -> float:
    """A finite float, or a ValueError naming ``name``."""
    number = scalar(name, as_numbers(name, value))
    if not math.isfinite(number):
        msg = f"{name}={number!r} is invalid: it must be a finite number"
        raise ValueError(msg)
    return number


def non_negative_scalar(name: str, value: object) -> float:
    """A finite float >= 0 (an irreducible loss, a penalty), or a ValueError naming
    ``name``."""
    number = scalar(name, as_numbers(name, value))
    if not (math.isfinite(number) and number >= 0):
        msg = f"{name}={number!r} is invalid: it must be finite and >= 0"
        raise ValueError(msg)
    return number


_Choice = TypeVar("_Choice")


def choice(name: str, value: object, options: tuple[_Choice, ...]) -> _Choice:
    """The option equal to ``value``, or a ValueError naming ``name`` and the options.
    Integer options take any integer but a bool; string options a string."""
    kind = str if isinstance(options[0], str) else Integral
    if isinstance(value, kind) and not isinstance(value, bool) and value in options:
        return options[options.index(value)]
    allowed = ", ".join(repr(o) for o in options)
    msg = f"{name}={value!r} is invalid: it must be one of {allowed}"
    raise ValueError(msg)


def broadcast(**arrays: F64) -> tuple[tuple[int, ...], list[F64]]:
    """Broadcast the arrays together; return the common shape and each one flattened to
    a contiguous 1-D float64 array (what the kernels take)."""
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {a.shape}" for k, a in arrays.items())
        msg = f"the shapes of {shapes} do not broadcast together"
        raise ValueError(msg) from None
    flat = [np.ascontiguousarray(np.broadcast_to(a, shape), dtype=np.float64).ravel()
            for a in arrays.values()]
    return shape, flat


def power(x: F64, coeff: float, exponent: float) -> F64:
    """``coeff x^exponent`` on a flat float64 array, through the kernel."""
    out = np.empty_like(x)
    _kernels.power_law(x, coeff, exponent, out)
    return out


def documented(method: _Method, doc: str) -> _Method:
    """``method`` under the docstring ``doc``: how a law gives an inherited method its
    own wording and sources without restating the method's overloads."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    wrapper.__doc__ = inspect.cleandoc(doc)
    return cast("_Method", wrapper)


def floating(method: _Method) -> _Method:
    """``method`` without NumPy's floating-point warnings: a result beyond float64 is
    refused by :func:`output` with a ValueError instead."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return method(*args, **kwargs)

    return cast("_Method", wrapper)


def output(values: F64, shape: tuple[int, ...], **inputs: F64) -> float | F64:
    """A float for scalar inputs, else an array of ``shape``; or, where a value is not
    finite and > 0 (it left float64: only extreme constants get there from inputs in
    range), a ValueError naming the flat, broadcast ``inputs`` that gave it."""
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = ", ".join(f"{key}={float(array[i])!r}" for key, array in inputs.items())
        msg = (f"{where} is out of range for this law: the result there, "
               f"{float(values[i])!r}, is beyond float64; with these constants the inputs "
               "must stay where it is finite and > 0")
        raise ValueError(msg)
    if not shape:
        return float(values[0])
    return values.reshape(shape)


def isoflop_tokens(c: F64, n: F64) -> F64:
    """``D = C / (6 N)`` on an isoFLOP profile, or a ValueError if it is below one token."""
    d = c / (6.0 * n)
    if (d < 1).any():
        i = int(np.flatnonzero(d < 1)[0])
        msg = (f"N_grid={float(n[i])!r} is invalid with C={float(c[i])!r}: it leaves "
               f"D = C / (6 N) = {float(d[i]):.3g} tokens; N_grid must be at most C / 6")
        raise ValueError(msg)
    return d


def user_stacklevel() -> int:
    """The stack level of the first caller outside this package, so that a warning
    points at the user's line."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(
            "scalingperf.laws"):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def check_range(law: str, label: str, values: F64, bounds: Bounds | None, noun: str) -> None:
    """Warn with :class:`ExtrapolationWarning` if any of ``values`` lies outside
    ``bounds``, saying how far."""
    if bounds is None or values.size == 0:
        return
    low, high = bounds
    parts = []
    below, above = values < low, values > high
    if below.any():
        value = float(values.min())
        factor = low / value
        parts.append(f"{label}={value:.3g} is {factor:.3g}x ({math.log10(factor):.2g} decades) "
                     f"below the smallest {noun} it was fitted on ({low:.3g})")
    if above.any():
        value = float(values.max())
        factor = value / high
        parts.append(f"{label}={value:.3g} is {factor:.3g}x ({math.log10(factor):.2g} decades) "
                     f"above the largest {noun} it was fitted on ({high:.3g})")
    if not parts:
        return
    count = int(below.sum() + above.sum())
    where = f" ({count} of {values.size} values outside)" if values.size > 1 else ""
    msg = f"{law}: {'; '.join(parts)}{where}; the result is an extrapolation"
    warnings.warn(msg, ExtrapolationWarning, stacklevel=user_stacklevel())


def ranges(default: Mapping[str, Bounds], given: object, keys: tuple[str, ...],
           ) -> dict[str, Bounds]:
    """The law's fitted ranges: ``given`` if passed (``{}`` turns the checks off), each
    keyed by one of ``keys``."""
    chosen = default if given is None else given
    if not isinstance(chosen, Mapping):
        msg = (f"fitted_range={given!r} is invalid: it must be a dict of (low, high) bounds "
               f"keyed by {', '.join(keys)}")
        raise ValueError(msg)
    result: dict[str, Bounds] = {}
    for key, bounds in chosen.items():
        if key not in keys:
            msg = f"fitted_range[{key!r}] is invalid: the keys are {', '.join(keys)}"
            raise ValueError(msg)
        pair = as_numbers(f"fitted_range[{key!r}]", bounds)
        if pair.shape != (2,) or not (0 <= pair[0] < pair[1]) or not math.isfinite(pair[0]):
            msg = (f"fitted_range[{key!r}]={bounds!r} is invalid: it must be (low, high), "
                   "0 <= low < high, low finite")
            raise ValueError(msg)
        result[key] = (float(pair[0]), float(pair[1]))
    return result


@dataclass(frozen=True)
class ParamConvention:
    """Which parameters a law's ``N`` counts.

    Published laws differ here, and the difference moves their allocations: Kaplan et al.
    2020 (§2.1) count non-embedding parameters, leaving out the token and position tables
    (and, GPT-2's output projection being tied to the token table, the head); Hoffmann et
    al. 2022 count every parameter. Pearce & Song 2024 (arXiv:2406.12907) trace most of
    the gap between Kaplan's ``N_opt ∝ C^0.73`` and Chinchilla's ``C^0.50`` to this
    choice at small scale; Porian et al. 2024 (arXiv:2406.19146) to the head's cost left
    out of Kaplan's count, with warm-up and optimiser tuning.

    Attributes
    ----------
    embeddings : bool
        The token (and learned position) embedding tables are counted.
    head : bool
        The output projection (``vocab_size x d_model``) is counted. When it is tied to
        the token table and ``embeddings`` is true, the shared matrix counts once.
    experts : {"active", "all"}
        For a mixture of experts: the parameters one token passes through (its ``top_k``
        routed experts, the shared ones, attention), or every expert.
    """

    embeddings: bool
    head: bool
    experts: Literal["active", "all"] = "active"

    @property
    def name(self) -> str:
        """``"total"``, ``"non_embedding"``, ``"non_embedding_with_head"`` or
        ``"total_without_head"``, with ``"+all_experts"`` when every expert counts."""
        base = {(True, True): "total", (False, False): "non_embedding",
                (False, True): "non_embedding_with_head",
                (True, False): "total_without_head"}[(self.embeddings, self.head)]
        return base if self.experts == "active" else f"{base}+all_experts"

    def __str__(self) -> str:
        return self.name

    def count(self, model: Architecture | Report) -> float:
        """The parameters of ``model`` (an :class:`~scalingperf.Architecture` or the
        :class:`~scalingperf.Report` of :func:`~scalingperf.estimate`) in this
        convention."""
        from ..architecture import Architecture
        from ..estimate import Report, estimate

        if isinstance(model, Architecture):
            model = estimate(model, 1, 1)
        if not isinstance(model, Report):
            msg = (f"model={model!r} is invalid: it must be a scalingperf.Architecture or "
                   "the Report of scalingperf.estimate")
            raise ValueError(msg)
        arch, counts = model.architecture, model.params
        active = self.experts == "active"
        body = counts.active_non_embedding if active else counts.non_embedding
        head = arch.vocab_size * arch.d_model
        tied = bool(arch.tie_embeddings)
        # ParamCounts.embedding holds the token and position tables and an untied head.
        tables = counts.embedding - (0 if tied else head)
        n = body + (tables if self.embeddings else 0)
        if self.head and not (tied and self.embeddings):
            n += head
        return float(n)


#: Kaplan et al. 2020's N: no embedding table, no (tied) output projection.
NON_EMBEDDING = ParamConvention(embeddings=False, head=False)
#: Hoffmann et al. 2022's N: every parameter.
TOTAL = ParamConvention(embeddings=True, head=True)
#: The conventions by name, as :func:`param_convention` accepts them.
PARAM_CONVENTIONS: dict[str, ParamConvention] = {
    c.name: c for c in (TOTAL, NON_EMBEDDING, ParamConvention(False, True),
                        ParamConvention(True, False))}


def param_convention(value: object) -> ParamConvention:
    """``value`` as a :class:`ParamConvention`: one already, or the name of one in
    :data:`PARAM_CONVENTIONS`; else a ValueError naming the options."""
    if isinstance(value, ParamConvention):
        return value
    if isinstance(value, str) and value in PARAM_CONVENTIONS:
        return PARAM_CONVENTIONS[value]
    allowed = ", ".join(repr(k) for k in PARAM_CONVENTIONS)
    msg = f"params_convention={value!r} is invalid: it must be a ParamConvention or one of {allowed}"
    raise ValueError(msg)


#: Pearce & Song 2024 (arXiv:2406.12907), the fit through the configurations of
#: Hoffmann et al. 2022's Table A9 (vocabulary 32k): ``N_T = N_\E + 47491 N_\E^(1/3)``.
PEARCE_SONG_GAMMA = 47491.0


def total_from_non_embedding(n_non_embedding: npt.ArrayLike,
                             gamma: float = PEARCE_SONG_GAMMA) -> float | F64:
    """Total parameters of a model with ``n_non_embedding`` non-embedding ones, for the
    family of shapes Pearce & Song 2024 fit: ``N_T = N_\\E + gamma
    N_\\E^(1/3)``: the embedding grows with ``d_model``, which grows as ``N_\\E^(1/3)`` at
    a fixed aspect ratio. Broadcasts; ValueError outside :data:`COUNT_RANGE`."""
    g = positive_scalar("gamma", gamma)
    shape, (n,) = broadcast(N=counts("n_non_embedding", n_non_embedding))
    return output(n + g * np.cbrt(n), shape, n_non_embedding=n)


class Convention:
    """What a law's ``N`` counts: the :attr:`params_convention` attribute and
    :meth:`params_of`, shared by every law."""

    #: Which parameters ``N`` counts (see :class:`ParamConvention`).
    params_convention: ParamConvention = TOTAL

    def params_of(self, model: Architecture | Report) -> float:
        """``N`` of ``model`` (an :class:`~scalingperf.Architecture` or a
        :class:`~scalingperf.Report`) as this law counts it, to pass to its methods."""
        return self.params_convention.count(model)


class ScalingLaw(Convention, abc.ABC):
    """A loss law in parameters ``N`` and training tokens ``D``, and the compute-optimal
    allocation it implies under ``C = 6 N D``.

    Every method takes scalars or NumPy arrays, broadcast together, and returns a float
    for scalar inputs and an array otherwise. ``N``, ``D`` and ``C`` must be finite and in
    :data:`COUNT_RANGE` (1 to 1e40), else a ValueError names the argument, its value and
    the range; so must a result (a ValueError names the inputs where extreme constants
    take it beyond float64). Values outside the law's ``fitted_range`` warn with
    :class:`ExtrapolationWarning`. ``N`` counts the parameters :attr:`params_convention`
    says (total by default; :meth:`params_of` counts them on a model). Subclasses
    implement the ``_loss``,
    ``_compute_optimal`` and ``_tokens_for`` hooks on flat, checked arrays, and
    ``_budget_for`` where they can invert their allocation (:meth:`budget_for`).
    """

    #: Short name used in warnings.
    name: str = "ScalingLaw"
    #: Ranges of the data the law was fitted on, keyed by variable ("N", "D", ...).
    fitted_range: dict[str, Bounds]

    def _check(self, key: str, label: str, values: F64, noun: str) -> None:
        check_range(self.name, label, values, self.fitted_range.get(key), noun)

    def _check_nd(self, n: F64, d: F64, suffix: str = "") -> None:
        self._check("N", "N" + suffix, n, "model")
        self._check("D", "D" + suffix, d, "token count")

    @abc.abstractmethod
    def _loss(self, n: F64, d: F64) -> F64:
        """The loss at flat, checked, equally long ``n`` and ``d``."""

    @abc.abstractmethod
    def _compute_optimal(self, c: F64) -> tuple[F64, F64]:
        """``(N_opt, D_opt)`` at flat, checked budgets ``c`` in FLOPs."""

    @abc.abstractmethod
    def _tokens_for(self, n: F64) -> F64:
        """Recommended tokens at flat, checked ``n``."""

    def _budget_for(self, n: F64) -> F64:
        """FLOPs ``C`` with ``N_opt(C) = n`` at flat, checked ``n``."""
        msg = f"{self.name} does not invert its compute-optimal allocation: it has no budget_for"
        raise NotImplementedError(msg)

    @floating
    def _per_model(self, N: npt.ArrayLike, hook: Callable[[F64], F64]) -> float | F64:
        """``hook`` applied to the checked parameter counts ``N``, shaped like them."""
        shape, (n,) = broadcast(N=counts("N", N))
        self._check("N", "N", n, "model")
        return output(hook(n), shape, N=n)

    @overload
    def loss(self, N: float, D: float) -> float: ...
    @overload
    def loss(self, N: npt.ArrayLike, D: npt.ArrayLike) -> F64: ...
    @floating
    def loss(self, N: npt.ArrayLike, D: npt.ArrayLike) -> float | F64:
        """Predicted loss of a model of ``N`` parameters trained on ``D`` tokens.

        Parameters
        ----------
        N, D : float or array
            Parameters and training tokens, broadcast together.

        Returns
        -------
        float or numpy.ndarray
            The loss in nats per token.
        """
        shape, (n, d) = broadcast(N=counts("N", N), D=counts("D", D))
        self._check_nd(n, d)
        return output(self._loss(n, d), shape, N=n, D=d)

    @overload
    def compute_optimal(self, C: float) -> tuple[float, float]: ...
    @overload
    def compute_optimal(self, C: npt.ArrayLike) -> tuple[F64, F64]: ...
    @floating
    def compute_optimal(self, C: npt.ArrayLike) -> tuple[float | F64, float | F64]:
        """The allocation that minimises the loss for a training budget of ``C`` FLOPs.

        Parameters
        ----------
        C : float or array
            Training FLOPs.

        Returns
        -------
        (N, D) : tuple of float or numpy.ndarray
            Parameters and tokens.
        """
        shape, (c,) = broadcast(C=counts("C", C))
        n, d = self._compute_optimal(c)
        result = output(n, shape, C=c), output(d, shape, C=c)
        self._check_nd(n, d, "_opt")
        return result

    @overload
    def tokens_for(self, N: float) -> float: ...
    @overload
    def tokens_for(self, N: npt.ArrayLike) -> F64: ...
    def tokens_for(self, N: npt.ArrayLike) -> float | F64:
        """Training tokens the law recommends for a model of ``N`` parameters.

        Parameters
        ----------
        N : float or array
            Parameters.

        Returns
        -------
        float or numpy.ndarray
            Tokens.
        """
        return self._per_model(N, self._tokens_for)

    @overload
    def budget_for(self, N: float) -> float: ...
    @overload
    def budget_for(self, N: npt.ArrayLike) -> F64: ...
    def budget_for(self, N: npt.ArrayLike) -> float | F64:
        """Training FLOPs for which ``N`` parameters is the compute-optimal size.

        Parameters
        ----------
        N : float or array

        Returns
        -------
        float or numpy.ndarray
            FLOPs ``C`` with ``N_opt(C) = N``.
        """
        return self._per_model(N, self._budget_for)

    @overload
    def isoflop(self, C: float, N_grid: float) -> float: ...
    @overload
    def isoflop(self, C: npt.ArrayLike, N_grid: npt.ArrayLike) -> F64: ...
    @floating
    def isoflop(self, C: npt.ArrayLike, N_grid: npt.ArrayLike) -> float | F64:
        """Loss along the isoFLOP profile of budget ``C``: ``loss(N, C / (6 N))`` for each
        ``N`` of ``N_grid`` (broadcast against ``C``). ``N_grid`` above ``C / 6`` leaves
        less than one token and raises a ValueError.

        Parameters
        ----------
        C : float or array
            Training FLOPs.
        N_grid : float or array
            Parameter counts to evaluate.

        Returns
        -------
        float or numpy.ndarray
            The loss; its minimum over ``N_grid`` approximates the compute-optimal model.
        """
        shape, (c, n) = broadcast(C=counts("C", C), N_grid=counts("N_grid", N_grid))
        d = isoflop_tokens(c, n)
        self._check_nd(n, d)
        return output(self._loss(n, d), shape, C=c, N_grid=n)
