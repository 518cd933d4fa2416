"""Muennighoff et al. 2023, "Scaling Data-Constrained Language Models"."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import overload

import numpy as np
import numpy.typing as npt

from . import _kernels
from ._base import (
    F64,
    Bounds,
    broadcast,
    check_range,
    counts,
    floating,
    isoflop_tokens,
    output,
    positive_scalar,
    ranges,
)
from ._chinchilla import ParametricLaw

#: Runs of 7M to 9B parameters on up to 900B tokens; the decay constants were fit on runs
#: of 1 to 500 epochs.
MUENNIGHOFF_RANGE: dict[str, Bounds] = {"N": (7e6, 9e9), "D": (0.0, 9e11),
                                        "epochs": (1.0, 500.0)}
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def _repeats(unique: F64, total: F64, r_star: float) -> F64:
    out = np.empty_like(total)
    _kernels.effective_repeats(unique, total, r_star, out)
    return out


def _with_unique(name: str, value: npt.ArrayLike, unique_tokens: npt.ArrayLike,
                 ) -> tuple[tuple[int, ...], F64, F64]:
    """The shape, ``value`` and ``unique_tokens``, checked and broadcast."""
    shape, (x, u) = broadcast(**{name: counts(name, value)},
                              unique_tokens=counts("unique_tokens", unique_tokens))
    return shape, x, u


class Muennighoff2023(ParametricLaw):
    """Muennighoff et al. 2023, "Scaling Data-Constrained Language Models" (NeurIPS 2023,
    arXiv:2305.16264): the Chinchilla form in effective data and parameters, for training
    that repeats data.

    With ``U`` unique tokens seen ``D / U`` times (eqs. 5 and 6)::

        U_D = min(U, D),  R_D = D / U_D - 1,  D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*))
        U_N = min(N, N_opt(U_D)),  R_N = N / U_N - 1,  N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*))
        L = E + A / N'^alpha + B / D'^beta

    where ``N_opt(U_D)`` is the compute-optimal size for ``U_D`` tokens (``0.051 U_D``
    with these constants). Repeated tokens are worth less and less: with ``R_D* = 15.4``
    the effective data never exceeds ``16.4 U``, and parameters beyond ``N_opt(U_D)``
    decay faster still (``R_N* = 5.3``).

    Constants: the C4 fit of Appendix B with ``alpha = beta`` tied, given there in log
    space (``e = 0.6254804``, ``a = 6.255414``, ``b = 7.3049974``, ``alpha = beta =
    0.3526596``), i.e. ``E = 1.87``, ``A = 521``, ``B = 1488``; and the decay constants
    ``R_N* = 5.309743``, ``R_D* = 15.387756`` fit on 182 runs with the base law fixed.

    ``N`` is taken as the total parameter count (:attr:`params_convention` ``TOTAL``),
    after Hoffmann et al. 2022 whose method the paper follows; this was not verified in
    the paper itself.

    ``N``, ``D``, ``C`` and ``unique_tokens`` must be finite and from 1 to 1e40
    (:data:`~scalingperf.laws._base.COUNT_RANGE`); other values raise a ValueError naming
    the argument.

    Parameters
    ----------
    E, A, B, alpha, beta, r_n_star, r_d_star : float
        Override a published constant.
    fitted_range : dict, optional
        Default: N from 7M to 9B, D up to 900B tokens, up to 500 epochs. ``{}`` turns the
        :class:`ExtrapolationWarning` checks off.
    """

    def __init__(self, E: float = math.exp(0.6254804), A: float = math.exp(6.255414),
                 B: float = math.exp(7.3049974), alpha: float = 0.3526596,
                 beta: float = 0.3526596, *, r_n_star: float = 5.309743,
                 r_d_star: float = 15.387756,
                 fitted_range: Mapping[str, Bounds] | None = None) -> None:
        super().__init__(E, A, B, alpha, beta, name="Muennighoff2023")
        self.r_n_star = positive_scalar("r_n_star", r_n_star)
        self.r_d_star = positive_scalar("r_d_star", r_d_star)
        self.fitted_range = ranges(MUENNIGHOFF_RANGE, fitted_range, ("N", "D", "epochs"))

    def _optimal_params_for_tokens(self, d: F64) -> F64:
        # Invert D_opt = G^-1 (C/6)^b, then N_opt = G (C/6)^a.
        g = self.G
        result: F64 = g * (g * d) ** (self.a / self.b)
        return result

    def _effective(self, n: F64, d: F64, u: F64) -> tuple[F64, F64]:
        d_eff = _repeats(u, d, self.r_d_star)
        n_eff = _repeats(self._optimal_params_for_tokens(np.minimum(u, d)), n, self.r_n_star)
        return n_eff, d_eff

    def _constrained_loss(self, n: F64, d: F64, u: F64) -> F64:
        n_eff, d_eff = self._effective(n, d, u)
        return self._loss(n_eff, d_eff)

    def _check_all(self, n: F64, d: F64, u: F64, suffix: str = "") -> None:
        self._check_nd(n, d, suffix)
        check_range(self.name, "epochs", d / np.minimum(u, d), self.fitted_range.get("epochs"),
                    "epoch count")

    def _unique(self, unique_tokens: npt.ArrayLike | None, d: F64) -> F64:
        return d if unique_tokens is None else counts("unique_tokens", unique_tokens)

    @overload
    def loss(self, N: float, D: float, *, unique_tokens: float | None = None) -> float: ...
    @overload
    def loss(self, N: npt.ArrayLike, D: npt.ArrayLike, *,
             unique_tokens: npt.ArrayLike | None = None) -> F64: ...
    @floating
    def loss(self, N: npt.ArrayLike, D: npt.ArrayLike, *,
             unique_tokens: npt.ArrayLike | None = None) -> float | F64:
        """Loss of ``N`` parameters trained on ``D`` tokens drawn from ``unique_tokens``
        distinct ones (default: all unique).

        Parameters
        ----------
        N, D : float or array
            Parameters and training tokens (repeats counted).
        unique_tokens : float or array, optional
            Unique tokens ``U``; ``D / U`` is the number of epochs.

        Returns
        -------
        float or numpy.ndarray
        """
        n, d = counts("N", N), counts("D", D)
        shape, (n, d, u) = broadcast(N=n, D=d, unique_tokens=self._unique(unique_tokens, d))
        self._check_all(n, d, u)
        return output(self._constrained_loss(n, d, u), shape, N=n, D=d, unique_tokens=u)

    @overload
    def effective_data(self, D: float, unique_tokens: float) -> float: ...
    @overload
    def effective_data(self, D: npt.ArrayLike, unique_tokens: npt.ArrayLike) -> F64: ...
    @floating
    def effective_data(self, D: npt.ArrayLike, unique_tokens: npt.ArrayLike) -> float | F64:
        """Eq. 5: ``D'``, what ``D`` tokens drawn from ``unique_tokens`` are worth.

        Parameters
        ----------
        D, unique_tokens : float or array

        Returns
        -------
        float or numpy.ndarray
        """
        shape, d, u = _with_unique("D", D, unique_tokens)
        return output(_repeats(u, d, self.r_d_star), shape, D=d, unique_tokens=u)

    @overload
    def effective_params(self, N: float, unique_tokens: float) -> float: ...
    @overload
    def effective_params(self, N: npt.ArrayLike, unique_tokens: npt.ArrayLike) -> F64: ...
    @floating
    def effective_params(self, N: npt.ArrayLike, unique_tokens: npt.ArrayLike) -> float | F64:
        """Eq. 6: ``N'``, what ``N`` parameters are worth when ``unique_tokens`` tokens
        only support ``N_opt(unique_tokens)`` of them.

        Parameters
        ----------
        N, unique_tokens : float or array

        Returns
        -------
        float or numpy.ndarray
        """
        shape, n, u = _with_unique("N", N, unique_tokens)
        values = _repeats(self._optimal_params_for_tokens(u), n, self.r_n_star)
        return output(values, shape, N=n, unique_tokens=u)

    @overload
    def compute_optimal(self, C: float, *,
                        unique_tokens: float | None = None) -> tuple[float, float]: ...
    @overload
    def compute_optimal(self, C: npt.ArrayLike, *,
                        unique_tokens: npt.ArrayLike | None = None) -> tuple[F64, F64]: ...
    @floating
    def compute_optimal(self, C: npt.ArrayLike, *, unique_tokens: npt.ArrayLike | None = None,
                        ) -> tuple[float | F64, float | F64]:
        """The allocation ``(N, D)`` with ``6 N D = C`` of least loss, given
        ``unique_tokens`` unique tokens (default: unlimited, the closed form of eq. 4).

        With a data constraint there is no closed form: the loss along the isoFLOP
        profile is minimised numerically (a log-spaced scan over four decades either side
        of the unconstrained optimum, refined by golden-section search to a relative
        1e-9 in N).

        Parameters
        ----------
        C : float or array
            Training FLOPs.
        unique_tokens : float or array, optional

        Returns
        -------
        (N, D) : tuple of float or numpy.ndarray
        """
        if unique_tokens is None:
            return super().compute_optimal(C)
        shape, c, u = _with_unique("C", C, unique_tokens)
        n = self._minimise_isoflop(c, u)
        d = c / (6.0 * n)
        result = output(n, shape, C=c, unique_tokens=u), output(d, shape, C=c, unique_tokens=u)
        self._check_all(n, d, u, "_opt")
        return result

    def _minimise_isoflop(self, c: F64, u: F64) -> F64:
        centre = np.log(self._compute_optimal(c)[0])
        offsets = np.linspace(-4.0, 4.0, 321) * math.log(10.0)
        grid = centre[:, None] + offsets[None, :]

        def profile(x: F64, budget: F64, unique: F64) -> F64:
            n = np.exp(x)
            return self._constrained_loss(n, budget / (6.0 * n), unique)

        values = profile(grid.ravel(), np.repeat(c, offsets.size),
                         np.repeat(u, offsets.size)).reshape(grid.shape)
        best = np.clip(values.argmin(axis=1), 1, offsets.size - 2)
        rows = np.arange(c.size)
        low, high = grid[rows, best - 1], grid[rows, best + 1]
        x1 = high - _GOLDEN * (high - low)
        x2 = low + _GOLDEN * (high - low)
        f1, f2 = profile(x1, c, u), profile(x2, c, u)
        for _ in range(80):
            left = f1 < f2
            high = np.where(left, x2, high)
            low = np.where(left, low, x1)
            x1_new = high - _GOLDEN * (high - low)
            x2_new = low + _GOLDEN * (high - low)
            x1, x2 = np.where(left, x1_new, x2), np.where(left, x1, x2_new)
            new = profile(np.where(left, x1, x2), c, u)
            f1, f2 = np.where(left, new, f2), np.where(left, f1, new)
            if float(np.max(high - low, initial=0.0)) < 1e-9:  # initial: no budgets
                break
        result: F64 = np.exp(0.5 * (low + high))
        return result

    @overload
    def isoflop(self, C: float, N_grid: float, *,
                unique_tokens: float | None = None) -> float: ...
    @overload
    def isoflop(self, C: npt.ArrayLike, N_grid: npt.ArrayLike, *,
                unique_tokens: npt.ArrayLike | None = None) -> F64: ...
    @floating
    def isoflop(self, C: npt.ArrayLike, N_grid: npt.ArrayLike, *,
                unique_tokens: npt.ArrayLike | None = None) -> float | F64:
        """Loss along the isoFLOP profile ``D = C / (6 N)``, given ``unique_tokens``
        (``N_grid`` above ``C / 6`` leaves less than one token and raises a ValueError).

        Parameters
        ----------
        C, N_grid : float or array
        unique_tokens : float or array, optional

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (c, n) = broadcast(C=counts("C", C), N_grid=counts("N_grid", N_grid))
        d = isoflop_tokens(c, n).reshape(shape)
        shape, (c, n, d, u) = broadcast(C=c.reshape(shape), N_grid=n.reshape(shape), D=d,
                                        unique_tokens=self._unique(unique_tokens, d))
        self._check_all(n, d, u)
        return output(self._constrained_loss(n, d, u), shape, C=c, N_grid=n, unique_tokens=u)
