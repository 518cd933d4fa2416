"""Krajewski et al. 2024, "Scaling Laws for Fine-Grained Mixture of Experts": the loss in
parameters, tokens and granularity, and the compute-optimal (N, D, G) with routing in the
FLOP count."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from ._base import (
    F64,
    Bounds,
    Convention,
    ParamConvention,
    broadcast,
    check_range,
    choice,
    counts,
    floating,
    non_negative_scalar,
    output,
    param_convention,
    positive_scalar,
    ranges,
)
from ._compare import register

#: Table 1: (a, alpha, b, beta, g, gamma, c) of eq. 9 for MoE, and of eq. 1 for the dense
#: baseline (no granularity term).
_CONSTANTS = {"moe": (18.1, 0.115, 30.8, 0.147, 2.1, 0.58, 0.47),
              "dense": (16.3, 0.126, 26.7, 0.127, 0.0, 0.0, 0.47)}
_MODELS: tuple[Literal["moe", "dense"], ...] = ("moe", "dense")
#: §5: models of 129M to 3.7B parameters on 16B to 130B tokens, granularity 1 to 16.
KRAJEWSKI_RANGE: dict[str, Bounds] = {"N": (1.29e8, 3.7e9), "D": (1.6e10, 1.3e11),
                                      "G": (1.0, 16.0)}
#: N counts every expert's parameters, no embeddings (§5).
ALL_EXPERTS_NON_EMBEDDING = ParamConvention(embeddings=False, head=False, experts="all")
#: Granularities :meth:`Krajewski2024.compute_optimal` chooses from by default.
GRANULARITIES = (1, 2, 4, 8, 16, 32, 64, 128)
#: Golden-section steps over log d_model: the bracket shrinks by 0.618 each, from a
#: width of ln(1e7) to below 1e-12.
_STEPS = 80


class Krajewski2024(Convention):
    """Krajewski, Ludziejewski et al. 2024, "Scaling Laws for Fine-Grained Mixture of
    Experts" (ICML 2024, arXiv:2402.07871): the loss of a mixture of experts with
    expansion rate ``E`` as a function of its total non-embedding parameters ``N``, its
    training tokens ``D`` and its granularity ``G = d_ff / d_expert`` (a token goes to ``G``
    experts of ``d_ff / G``, so active parameters do not change with ``G``). Eq. 9::

        L(N, D, G) = c + (g / G^gamma + a) / N^alpha + b / D^beta

    Table 1: a = 18.1, alpha = 0.115, b = 30.8, beta = 0.147, g = 2.1, gamma = 0.58,
    c = 0.47 (``model="moe"``, fitted at E = 64); the dense baseline of eq. 1 is a = 16.3,
    alpha = 0.126, b = 26.7, beta = 0.127, c = 0.47 (``model="dense"``, no ``G`` term).

    Training FLOPs count the router (eq. 10, Appendix E): ``F = (12 d^2 c_f + d E G c_r) D
    n_blocks`` with ``c_f = 6``, ``c_r = 14``, ``d = d_model = 64 n_blocks`` and ``N = (8 E
    + 4) d^2 n_blocks`` (§6.1). :meth:`compute_optimal` minimises the loss over ``d`` for
    each candidate ``G`` at a budget (§6.2 does it with Brent's method) and keeps the best.

    Reproduced: Table 2's seven compute-optimal configurations from their printed FLOPs:
    the same granularity each time (8 to 64), the active parameters within 3 % and the
    tokens within 3 %; the FLOPs of the printed (N, D, G) within 0.5 %; the losses 0.012
    to 0.023 below the printed ones (within 0.8 %: Table 1's constants are rounded to 2
    or 3 digits).

    Inputs must be finite and from 1 to 1e40; other values raise a ValueError naming them.

    Parameters
    ----------
    model : {"moe", "dense"}
    a, alpha, b, beta, g, gamma, c : float, optional
        Override Table 1 (``a``, ``b``, exponents > 0; ``g``, ``gamma``, ``c`` >= 0).
    expansion : float, optional
        ``E = N_MoE / N_ff``: total over active feed-forward parameters (default 64 for
        ``"moe"`` as in the paper, 1 for ``"dense"``).
    c_f, c_r : float, optional
        FLOPs per active parameter and token in the network (6) and in the router (14;
        0 for ``"dense"``).
    fitted_range : dict, optional
        Default: N from 129M to 3.7B, D from 16B to 130B, G from 1 to 16. ``{}`` turns the
        :class:`ExtrapolationWarning` checks off.
    params_convention : ParamConvention or str, optional
        Default: every expert's parameters, no embeddings.
    """

    def __init__(self, model: Literal["moe", "dense"] = "moe", *, a: float | None = None,
                 alpha: float | None = None, b: float | None = None,
                 beta: float | None = None, g: float | None = None,
                 gamma: float | None = None, c: float | None = None,
                 expansion: float | None = None, c_f: float = 6.0, c_r: float | None = None,
                 fitted_range: Mapping[str, Bounds] | None = None,
                 params_convention: ParamConvention | str = ALL_EXPERTS_NON_EMBEDDING,
                 ) -> None:
        self.model = choice("model", model, _MODELS)
        a0, alpha0, b0, beta0, g0, gamma0, c0 = _CONSTANTS[self.model]
        self.a = positive_scalar("a", a0 if a is None else a)
        self.alpha = positive_scalar("alpha", alpha0 if alpha is None else alpha)
        self.b = positive_scalar("b", b0 if b is None else b)
        self.beta = positive_scalar("beta", beta0 if beta is None else beta)
        self.g = non_negative_scalar("g", g0 if g is None else g)
        self.gamma = non_negative_scalar("gamma", gamma0 if gamma is None else gamma)
        self.c = non_negative_scalar("c", c0 if c is None else c)
        dense = self.model == "dense"
        self.expansion = positive_scalar(
            "expansion", (1.0 if dense else 64.0) if expansion is None else expansion)
        if self.expansion < 1:
            msg = f"expansion={self.expansion!r} is invalid: it must be at least 1"
            raise ValueError(msg)
        self.c_f = positive_scalar("c_f", c_f)
        self.c_r = non_negative_scalar("c_r", (0.0 if dense else 14.0) if c_r is None else c_r)
        self.fitted_range = ranges(KRAJEWSKI_RANGE, fitted_range, ("N", "D", "G"))
        self.params_convention = param_convention(params_convention)
        self.name = f"Krajewski2024({self.model!r})"

    def __repr__(self) -> str:
        return (f"Krajewski2024({self.model!r}, a={self.a:g}, alpha={self.alpha:g}, "
                f"b={self.b:g}, beta={self.beta:g}, g={self.g:g}, gamma={self.gamma:g}, "
                f"c={self.c:g}, expansion={self.expansion:g})")

    def _check(self, **values: F64) -> None:
        nouns = {"N": "model", "D": "token count", "G": "granularity"}
        for key, array in values.items():
            base = key.split("_")[0]
            check_range(self.name, key, array, self.fitted_range.get(base), nouns[base])

    def _loss(self, n: F64, d: F64, g: F64) -> F64:
        result: F64 = (self.c + (self.g * np.exp(-self.gamma * np.log(g)) + self.a)
                       * np.exp(-self.alpha * np.log(n)) + self.b * np.exp(-self.beta * np.log(d)))
        return result

    def _width(self, n: F64) -> F64:
        """``d_model`` of a model of ``n`` total non-embedding parameters (§6.1)."""
        result: F64 = np.cbrt(64.0 * n / (8.0 * self.expansion + 4.0))
        return result

    def _flops_per_token(self, width: F64, g: F64) -> F64:
        result: F64 = ((12.0 * width**2 * self.c_f + width * self.expansion * g * self.c_r)
                       * width / 64.0)
        return result

    @overload
    def loss(self, N: float, D: float, G: float = 1.0) -> float: ...
    @overload
    def loss(self, N: npt.ArrayLike, D: npt.ArrayLike, G: npt.ArrayLike = 1.0) -> F64: ...
    @floating
    def loss(self, N: npt.ArrayLike, D: npt.ArrayLike, G: npt.ArrayLike = 1.0) -> float | F64:
        """Eq. 9 (eq. 1 for ``model="dense"``).

        Parameters
        ----------
        N, D, G : float or array
            Total non-embedding parameters, tokens and granularity, broadcast.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (n, d, g) = broadcast(N=counts("N", N), D=counts("D", D), G=counts("G", G))
        self._check(N=n, D=d, G=g)
        return output(self._loss(n, d, g), shape, N=n, D=d, G=g)

    @overload
    def training_flops(self, N: float, D: float, G: float = 1.0) -> float: ...
    @overload
    def training_flops(self, N: npt.ArrayLike, D: npt.ArrayLike,
                       G: npt.ArrayLike = 1.0) -> F64: ...
    @floating
    def training_flops(self, N: npt.ArrayLike, D: npt.ArrayLike,
                       G: npt.ArrayLike = 1.0) -> float | F64:
        """Eq. 10: training FLOPs with the router's ``d E G c_r`` per layer and token, for
        the paper's shapes (``d_model = 64 n_blocks``).

        Parameters
        ----------
        N, D, G : float or array

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (n, d, g) = broadcast(N=counts("N", N), D=counts("D", D), G=counts("G", G))
        return output(self._flops_per_token(self._width(n), g) * d, shape, N=n, D=d, G=g)

    def active_params(self, N: npt.ArrayLike) -> float | F64:
        """``12 d^2 n_blocks``, the non-embedding parameters a token uses, of a model of
        ``N`` total non-embedding ones (so ``N / active`` is ``(8 E + 4) / 12``)."""
        shape, (n,) = broadcast(N=counts("N", N))
        return output(12.0 * self._width(n) ** 3 / 64.0, shape, N=n)

    def compute_optimal(self, C: npt.ArrayLike, granularities: Sequence[float] = GRANULARITIES,
                        ) -> tuple[float | F64, float | F64, float | F64]:
        """The ``(N, D, G)`` of least loss for ``C`` training FLOPs (eq. 10), ``G`` from
        ``granularities``.

        Parameters
        ----------
        C : float or array
            Training FLOPs.
        granularities : sequence of float
            Candidates (each from 1 to 1e40); default 1, 2, 4, ..., 128.

        Returns
        -------
        (N, D, G) : tuple of float or numpy.ndarray
            Total non-embedding parameters, tokens and granularity.
        """
        shape, (c,) = broadcast(C=counts("C", C))
        candidates = counts("granularities", np.asarray(granularities, dtype=np.float64)
                            if not isinstance(granularities, str) else granularities)
        if candidates.ndim != 1 or candidates.size == 0:
            msg = "granularities is invalid: it must be a non-empty sequence of numbers"
            raise ValueError(msg)
        if self.model == "dense":
            candidates = np.ones(1)
        with np.errstate(all="ignore"):
            best = [self._optimum(c, float(g)) for g in candidates]
        losses = np.stack([loss for loss, _, _ in best])
        pick = np.argmin(losses, axis=0)
        columns = np.arange(c.size)
        n = np.stack([n for _, n, _ in best])[pick, columns]
        d = np.stack([d for _, _, d in best])[pick, columns]
        g = candidates[pick]
        result = (output(n, shape, C=c), output(d, shape, C=c), output(g, shape, C=c))
        self._check(N_opt=n, D_opt=d, G_opt=g)
        return result

    def _optimum(self, c: F64, g: float) -> tuple[F64, F64, F64]:
        """Golden-section search over ``log d_model`` of the loss on the budget ``c`` at
        granularity ``g``: along ``F = const`` the loss falls, then rises, with width."""
        grain = np.full_like(c, g)

        def profile(log_width: F64) -> tuple[F64, F64, F64]:
            width = np.exp(log_width)
            n = (8.0 * self.expansion + 4.0) * width**3 / 64.0
            d = c / self._flops_per_token(width, grain)
            return self._loss(n, np.maximum(d, 1.0), grain), n, d

        ratio = (math.sqrt(5.0) - 1.0) / 2.0
        lo = np.zeros_like(c)
        hi = np.full_like(c, math.log(1e7))
        for _ in range(_STEPS):
            left, right = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
            lower = profile(left)[0] < profile(right)[0]
            hi = np.where(lower, right, hi)
            lo = np.where(lower, lo, left)
        return profile(0.5 * (lo + hi))


class _ComparedAllocation:
    """Krajewski2024 as :func:`~scalingperf.laws.compare` lists it: its ``(N, D)``, the
    granularity chosen along with them left out of the table."""

    def __init__(self, law: Krajewski2024) -> None:
        self.law = law
        self.name = law.name
        self.params_convention = law.params_convention

    def compute_optimal(self, C: float) -> tuple[float | F64, float | F64]:
        n, d, _ = self.law.compute_optimal(C)
        return n, d


register(_ComparedAllocation(Krajewski2024()), source="Krajewski et al. 2024, eq. 9, Table 1",
         loss=False,
         note="N counts every expert (E = 64), no embeddings; its compute_optimal also "
              "picks the granularity G, with the router's FLOPs (eq. 10)")
