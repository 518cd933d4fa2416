"""Clark et al. 2022, "Unified Scaling Laws for Routed Language Models"."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from ._base import (
    F64,
    Bounds,
    Convention,
    broadcast,
    check_range,
    choice,
    counts,
    finite_scalar,
    floating,
    output,
    positive_scalar,
    ranges,
)

Routing = Literal["s-base", "rl-r", "hash"]
_ROUTINGS: tuple[Routing, ...] = ("s-base", "rl-r", "hash")

# Table 3 of the paper (fits of eq. 1 with the saturating transformation, logs base 10):
# a, b, c, d, E_start, E_max.
_CONSTANTS: dict[str, tuple[float, float, float, float, float, float]] = {
    "s-base": (-0.082, -0.108, 0.009, 1.104, 1.847, 314.478),
    "rl-r": (-0.083, -0.126, 0.012, 1.111, 1.880, 469.982),
    "hash": (-0.087, -0.136, 0.012, 1.157, 4.175, 477.741),
}
# The dense size beyond which more experts stop helping, as the paper prints it (§5,
# models trained on 130B tokens).
_PUBLISHED_CUTOFF = {"s-base": 937e9, "rl-r": 85e9, "hash": 83e9}

#: Dense base models of 15M to 1.3B parameters, routed over 1 to 512 experts.
CLARK_RANGE: dict[str, Bounds] = {"N": (1.5e7, 1.3e9), "E": (1.0, 512.0)}


class Clark2022(Convention):
    """Clark et al. 2022, "Unified Scaling Laws for Routed Language Models" (ICML 2022,
    arXiv:2202.01169): the loss of a routed (mixture-of-experts) model as a function of
    the parameter count ``N`` of its dense base model and its number of experts ``E``.

    Eq. 1 with the saturating transformation of the expert count, logs base 10::

        log L(N, E) = a log N + b log Ê + c log N log Ê + d
        1 / Ê = 1 / (E - 1 + (1 / E_start - 1 / E_max)^-1) + 1 / E_max

    ``Ê`` grows like ``E`` for a few experts and saturates at ``E_max``; at ``E = 1``
    it equals ``E_start``. Because ``c > 0``, the benefit of experts, ``-(b + c log N)``
    per decade of ``Ê``, vanishes at ``N_cutoff = 10^(-b / c)``.

    Constants (Table 3), per routing method: S-BASE a = -0.082, b = -0.108, c = 0.009,
    d = 1.104, E_start = 1.847, E_max = 314.478; RL-R -0.083, -0.126, 0.012, 1.111, 1.880,
    469.982; HASH -0.087, -0.136, 0.012, 1.157, 4.175, 477.741. All models saw 130B tokens,
    so the law has no data axis, and this class no compute-optimal allocation.

    Not reproducible from the printed constants: the paper's cutoffs, 937B (S-BASE), 85B
    (RL-R) and 83B (HASH). ``c`` is printed to one significant digit for S-BASE and two
    for the others, and ``-b / c`` moves by 0.5 decade for a change of ``c`` by 0.0005:
    the printed constants give 1.0e12, 3.2e10 and 2.2e11 (:attr:`n_cutoff`). The printed
    cutoffs are kept as :attr:`published_n_cutoff`.

    These constants were checked against a secondary transcription of the paper's
    Table 3, not against the PDF itself.

    ``N`` is the dense base model's parameter count (per token, so ``experts="active"``).
    Whether the paper's N includes the embedding tables was not verified here;
    :attr:`params_convention` is ``TOTAL``, the count of the DeepMind papers of the
    period (Hoffmann et al. 2022).

    ``N`` and ``E`` must be finite and from 1 to 1e40
    (:data:`~scalingperf.laws._base.COUNT_RANGE`); other values raise a ValueError naming
    the argument.

    Parameters
    ----------
    routing : {"s-base", "rl-r", "hash"}
    a, b, c, d, e_start, e_max : float, optional
        Override a published constant (finite; ``1 <= e_start < e_max``).
    fitted_range : dict, optional
        Default: N from 15M to 1.3B, E from 1 to 512. ``{}`` turns the
        :class:`ExtrapolationWarning` checks off.
    """

    def __init__(self, routing: Routing = "s-base", *, a: float | None = None,
                 b: float | None = None, c: float | None = None, d: float | None = None,
                 e_start: float | None = None, e_max: float | None = None,
                 fitted_range: Mapping[str, Bounds] | None = None) -> None:
        self.routing = choice("routing", routing, _ROUTINGS)
        a0, b0, c0, d0, start0, max0 = _CONSTANTS[self.routing]
        self.a = finite_scalar("a", a0 if a is None else a)
        self.b = finite_scalar("b", b0 if b is None else b)
        self.c = finite_scalar("c", c0 if c is None else c)
        self.d = finite_scalar("d", d0 if d is None else d)
        self.e_start = positive_scalar("e_start", start0 if e_start is None else e_start)
        self.e_max = positive_scalar("e_max", max0 if e_max is None else e_max)
        # 1 / e_start - 1 / e_max > 0 also refuses an e_start that float64 cannot tell
        # from e_max, where the offset of Ê would divide by zero.
        if not (self.e_start >= 1.0 and 1.0 / self.e_start - 1.0 / self.e_max > 0):
            msg = (f"e_start={self.e_start:g} and e_max={self.e_max:g} are invalid together: "
                   "they must be 1 <= e_start < e_max")
            raise ValueError(msg)
        self.published_n_cutoff = _PUBLISHED_CUTOFF[self.routing]
        self.fitted_range = ranges(CLARK_RANGE, fitted_range, ("N", "E"))
        self.name = f"Clark2022({self.routing!r})"

    def __repr__(self) -> str:
        return (f"Clark2022({self.routing!r}, a={self.a:g}, b={self.b:g}, c={self.c:g}, "
                f"d={self.d:g}, e_start={self.e_start:g}, e_max={self.e_max:g})")

    def _ehat(self, e: F64) -> F64:
        offset = 1.0 / (1.0 / self.e_start - 1.0 / self.e_max)
        result: F64 = 1.0 / (1.0 / (e - 1.0 + offset) + 1.0 / self.e_max)
        return result

    def _log_loss(self, log_n: F64, log_ehat: F64) -> F64:
        result: F64 = self.a * log_n + self.b * log_ehat + self.c * log_n * log_ehat + self.d
        return result

    def _inputs(self, N: npt.ArrayLike, E: npt.ArrayLike) -> tuple[tuple[int, ...], F64, F64]:
        shape, (n, e) = broadcast(N=counts("N", N), E=counts("E", E))
        check_range(self.name, "E", e, self.fitted_range.get("E"), "expert count")
        check_range(self.name, "N", n, self.fitted_range.get("N"), "dense model")
        return shape, n, e

    @overload
    def expert_saturation(self, E: float) -> float: ...
    @overload
    def expert_saturation(self, E: npt.ArrayLike) -> F64: ...
    @floating
    def expert_saturation(self, E: npt.ArrayLike) -> float | F64:
        """The saturated expert count ``Ê(E)``.

        Parameters
        ----------
        E : float or array
            Experts (>= 1).

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (e,) = broadcast(E=counts("E", E))
        check_range(self.name, "E", e, self.fitted_range.get("E"), "expert count")
        return output(self._ehat(e), shape, E=e)

    @overload
    def loss(self, N: float, E: float) -> float: ...
    @overload
    def loss(self, N: npt.ArrayLike, E: npt.ArrayLike) -> F64: ...
    @floating
    def loss(self, N: npt.ArrayLike, E: npt.ArrayLike) -> float | F64:
        """Validation loss of a model with dense base size ``N`` routed over ``E`` experts
        (trained on 130B tokens).

        Parameters
        ----------
        N, E : float or array
            Dense parameters and experts (``E = 1`` is the dense model), broadcast.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, n, e = self._inputs(N, E)
        values = 10.0 ** self._log_loss(np.log10(n), np.log10(self._ehat(e)))
        return output(values, shape, N=n, E=e)

    @overload
    def effective_params(self, N: float, E: float) -> float: ...
    @overload
    def effective_params(self, N: npt.ArrayLike, E: npt.ArrayLike) -> F64: ...
    @floating
    def effective_params(self, N: npt.ArrayLike, E: npt.ArrayLike) -> float | F64:
        """Effective parameter count: the size ``N̄`` of the dense model (``E = 1``) with
        the same loss, ``L(N̄, 1) = L(N, E)``.

        Solving eq. 1 for it::

            log N̄ = ((a + c log Ê) log N + b (log Ê - log Ê(1))) / (a + c log Ê(1))

        with ``Ê(1) = E_start``. Example (S-BASE): a 5M model with 128 experts is worth
        52M dense parameters with the printed constants; the paper's text gives about
        55M.

        Parameters
        ----------
        N, E : float or array

        Returns
        -------
        float or numpy.ndarray
        """
        shape, n, e = self._inputs(N, E)
        log_e = np.log10(self._ehat(e))
        log_one = math.log10(self.e_start)
        slope = self.a + self.c * log_one
        if slope == 0:
            msg = (f"a={self.a!r}, c={self.c!r} and e_start={self.e_start!r} give a dense loss "
                   "that does not depend on N (a + c log10(e_start) = 0): no dense size "
                   "matches a routed model")
            raise ValueError(msg)
        log_bar = ((self.a + self.c * log_e) * np.log10(n) + self.b * (log_e - log_one)) / slope
        return output(10.0**log_bar, shape, N=n, E=e)

    @property
    def n_cutoff(self) -> float:
        """``10^(-b / c)``: the dense size beyond which more experts raise the loss;
        ``inf`` if there is none (``c <= 0``) or it lies beyond float64."""
        if self.c <= 0:
            return math.inf
        try:
            return float(10.0 ** (-self.b / self.c))
        except OverflowError:
            return math.inf
