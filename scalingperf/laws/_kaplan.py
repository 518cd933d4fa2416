"""Kaplan et al. 2020, "Scaling Laws for Neural Language Models"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import overload

import numpy as np
import numpy.typing as npt

from . import _kernels
from ._base import (
    F64,
    LOSS_RANGE,
    NON_EMBEDDING,
    PF_DAY,
    Bounds,
    ScalingLaw,
    broadcast,
    check_range,
    counts,
    documented,
    floating,
    output,
    positive_scalar,
    power,
    ranges,
    within,
)

#: Kaplan et al. trained models of 768 to 1.5e9 non-embedding parameters on 22M to 23B
#: tokens of WebText2 (§1, Figure 1), for up to 2.5e5 steps.
KAPLAN_RANGE: dict[str, Bounds] = {"N": (768.0, 1.5e9), "D": (2.2e7, 2.3e10),
                                   "S": (1.0, 2.5e5)}


class Kaplan2020(ScalingLaw):
    """Kaplan et al. 2020, "Scaling Laws for Neural Language Models" (arXiv:2001.08361).

    ``N`` counts non-embedding parameters, ``D`` tokens, ``S`` optimisation steps,
    ``B`` the batch in tokens and ``L`` the loss in nats per token on WebText2. Compute
    is taken in FLOPs everywhere and converted to PF-days (``PF_DAY`` = 8.64e19 FLOPs)
    for the constants the paper gives in PF-days.

    - ``loss_params(N)``, eq. 1.1: ``(N_c / N)^alpha_N``, alpha_N = 0.076, N_c = 8.8e13
      (converged, ample data);
    - ``loss_tokens(D)``, eq. 1.2: ``(D_c / D)^alpha_D``, alpha_D = 0.095, D_c = 5.4e13
      (large models, early stopped);
    - ``loss_compute(C)``, eq. 1.3: ``(C_c / C_min)^alpha_C``, alpha_C = 0.050,
      C_c = 3.1e8 PF-days;
    - ``critical_batch(L)``, eq. 1.4: ``B* / L^(1 / alpha_B)``, B* = 2e8 tokens,
      alpha_B = 0.21;
    - ``loss(N, D)``, eq. 1.5 with the Table 2 fit: ``((N_c / N)^(alpha_N / alpha_D) +
      D_c / D)^alpha_D``, alpha_N = 0.076, alpha_D = 0.103, N_c = 6.4e13, D_c = 1.8e13;
    - ``loss_steps(N, S)``, eq. 1.6: ``(N_c / N)^alpha_N + (S_c / S_min)^alpha_S``,
      alpha_S = 0.76, S_c = 2.1e3, with eq. 1.1's N_c and alpha_N;
    - ``compute_optimal(C)``, eq. 1.7 and Figure 14: ``N_opt = 1.3e9 C_min^0.73`` (C_min
      in PF-days), and ``D = C / (6 N)``;
    - ``tokens_for(N)``, eq. 4.4: the least data that avoids overfitting,
      ``D ≳ 5e3 N^0.74``;
    - ``min_steps(S, B, L)`` and ``min_compute(C, B, L)``, §5.1:
      ``S_min = S / (1 + B_crit(L) / B)`` and ``C_min = C / (1 + B / B_crit(L))``.

    Kaplan's ``D`` in eq. 1.5 is the size of a dataset trained on to early stopping
    (possibly for several epochs), and ``C_min`` the compute at a batch far below the
    critical one: neither is Hoffmann et al.'s single-epoch ``C = 6 N D``.

    ``N`` is non-embedding (:attr:`params_convention` is ``NON_EMBEDDING``; §2.1: "the
    number of model parameters, excluding all vocabulary and positional embeddings"):
    take it from a model with :meth:`params_of`.

    Every constant is an attribute and a keyword argument of the constructor. ``N``,
    ``D``, ``C``, ``S`` and ``B`` must be finite and from 1 to 1e40
    (:data:`~scalingperf.laws._base.COUNT_RANGE`), a loss ``L`` from 1e-3 to 1e3 nats per
    token; other values raise a ValueError naming the argument.

    Parameters
    ----------
    fitted_range : dict, optional
        Default: N from 768 to 1.5e9, D from 22M to 23B tokens, S up to 2.5e5 steps. The
        compute range of ``loss_compute`` is where ``N_opt(C)`` lies in the N range.
        ``{}`` turns the :class:`ExtrapolationWarning` checks off.
    """

    params_convention = NON_EMBEDDING

    def __init__(self, *, alpha_n: float = 0.076, n_c: float = 8.8e13,
                 alpha_d: float = 0.095, d_c: float = 5.4e13,
                 alpha_c: float = 0.050, c_c: float = 3.1e8,
                 alpha_b: float = 0.21, b_star: float = 2e8,
                 nd_alpha_n: float = 0.076, nd_alpha_d: float = 0.103,
                 nd_n_c: float = 6.4e13, nd_d_c: float = 1.8e13,
                 alpha_s: float = 0.76, s_c: float = 2.1e3,
                 n_opt_coeff: float = 1.3e9, n_opt_exponent: float = 0.73,
                 overfit_coeff: float = 5e3, overfit_exponent: float = 0.74,
                 fitted_range: Mapping[str, Bounds] | None = None) -> None:
        self.alpha_n = positive_scalar("alpha_n", alpha_n)
        self.n_c = positive_scalar("n_c", n_c)
        self.alpha_d = positive_scalar("alpha_d", alpha_d)
        self.d_c = positive_scalar("d_c", d_c)
        self.alpha_c = positive_scalar("alpha_c", alpha_c)
        self.c_c = positive_scalar("c_c", c_c)
        self.alpha_b = positive_scalar("alpha_b", alpha_b)
        self.b_star = positive_scalar("b_star", b_star)
        self.nd_alpha_n = positive_scalar("nd_alpha_n", nd_alpha_n)
        self.nd_alpha_d = positive_scalar("nd_alpha_d", nd_alpha_d)
        self.nd_n_c = positive_scalar("nd_n_c", nd_n_c)
        self.nd_d_c = positive_scalar("nd_d_c", nd_d_c)
        self.alpha_s = positive_scalar("alpha_s", alpha_s)
        self.s_c = positive_scalar("s_c", s_c)
        self.n_opt_coeff = positive_scalar("n_opt_coeff", n_opt_coeff)
        self.n_opt_exponent = positive_scalar("n_opt_exponent", n_opt_exponent)
        self.overfit_coeff = positive_scalar("overfit_coeff", overfit_coeff)
        self.overfit_exponent = positive_scalar("overfit_exponent", overfit_exponent)
        self.name = "Kaplan2020"
        self.fitted_range = ranges(KAPLAN_RANGE, fitted_range, ("N", "D", "S"))

    def __repr__(self) -> str:
        return (f"Kaplan2020(alpha_n={self.alpha_n:g}, n_c={self.n_c:g}, "
                f"alpha_d={self.alpha_d:g}, d_c={self.d_c:g}, ...)")

    def _compute_range(self) -> Bounds | None:
        bounds = self.fitted_range.get("N")
        if bounds is None:
            return None
        low, high = PF_DAY * power(np.array(bounds) / self.n_opt_coeff, 1.0,
                                   1.0 / self.n_opt_exponent)
        return float(low), float(high)

    # The hooks of the common interface.
    def _loss(self, n: F64, d: F64) -> F64:
        out = np.empty_like(n)
        _kernels.kaplan_loss(n, d, self.nd_n_c, self.nd_d_c, self.nd_alpha_n,
                             self.nd_alpha_d, out)
        return out

    def _compute_optimal(self, c: F64) -> tuple[F64, F64]:
        n = power(c / PF_DAY, self.n_opt_coeff, self.n_opt_exponent)
        return n, c / (6.0 * n)

    def _tokens_for(self, n: F64) -> F64:
        return power(n, self.overfit_coeff, self.overfit_exponent)

    def _budget_for(self, n: F64) -> F64:
        return PF_DAY * power(n / self.n_opt_coeff, 1.0, 1.0 / self.n_opt_exponent)

    def _critical(self, loss: F64) -> F64:
        return power(loss, self.b_star, -1.0 / self.alpha_b)

    def _at_batch(self, name: str, value: npt.ArrayLike, B: npt.ArrayLike, L: npt.ArrayLike,
                  ) -> tuple[tuple[int, ...], F64, F64, F64]:
        """The shape, ``value``, ``B`` and ``B_crit(L)``, checked and broadcast."""
        shape, (x, b, loss) = broadcast(**{name: counts(name, value)}, B=counts("B", B),
                                        L=within("L", L, *LOSS_RANGE))
        return shape, x, b, self._critical(loss)

    # The single-variable laws.
    @overload
    def loss_params(self, N: float) -> float: ...
    @overload
    def loss_params(self, N: npt.ArrayLike) -> F64: ...
    def loss_params(self, N: npt.ArrayLike) -> float | F64:
        """Eq. 1.1: loss of a model of ``N`` non-embedding parameters trained to
        convergence on ample data.

        Parameters
        ----------
        N : float or array

        Returns
        -------
        float or numpy.ndarray
        """
        return self._per_model(N, lambda n: power(self.n_c / n, 1.0, self.alpha_n))

    @overload
    def loss_tokens(self, D: float) -> float: ...
    @overload
    def loss_tokens(self, D: npt.ArrayLike) -> F64: ...
    @floating
    def loss_tokens(self, D: npt.ArrayLike) -> float | F64:
        """Eq. 1.2: loss of a large model trained with early stopping on ``D`` tokens.

        Parameters
        ----------
        D : float or array

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (d,) = broadcast(D=counts("D", D))
        self._check("D", "D", d, "token count")
        return output(power(self.d_c / d, 1.0, self.alpha_d), shape, D=d)

    @overload
    def loss_compute(self, C: float) -> float: ...
    @overload
    def loss_compute(self, C: npt.ArrayLike) -> F64: ...
    @floating
    def loss_compute(self, C: npt.ArrayLike) -> float | F64:
        """Eq. 1.3: loss reachable with ``C`` FLOPs allocated optimally (``C_min``: at a
        batch well below the critical batch).

        Parameters
        ----------
        C : float or array
            FLOPs (not PF-days).

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (c,) = broadcast(C=counts("C", C))
        self._check_c(c)
        return output(power(self.c_c * PF_DAY / c, 1.0, self.alpha_c), shape, C=c)

    def _check_c(self, c: F64) -> None:
        check_range(self.name, "C", c, self._compute_range(), "compute-optimal budget")

    @overload
    def loss_steps(self, N: float, S: float) -> float: ...
    @overload
    def loss_steps(self, N: npt.ArrayLike, S: npt.ArrayLike) -> F64: ...
    @floating
    def loss_steps(self, N: npt.ArrayLike, S: npt.ArrayLike) -> float | F64:
        """Eq. 1.6: loss after ``S`` steps at a batch far above the critical batch
        (``S = S_min``; convert other batches with :meth:`min_steps`).

        Parameters
        ----------
        N, S : float or array
            Non-embedding parameters and steps, broadcast together.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (n, s) = broadcast(N=counts("N", N), S=counts("S", S))
        self._check("N", "N", n, "model")
        self._check("S", "S", s, "step count")
        values = power(self.n_c / n, 1.0, self.alpha_n) + power(self.s_c / s, 1.0, self.alpha_s)
        return output(values, shape, N=n, S=s)

    @overload
    def critical_batch(self, L: float) -> float: ...
    @overload
    def critical_batch(self, L: npt.ArrayLike) -> F64: ...
    @floating
    def critical_batch(self, L: npt.ArrayLike) -> float | F64:
        """Eq. 1.4: the critical batch size in tokens at loss ``L``, ``B* / L^(1/alpha_B)``.

        Parameters
        ----------
        L : float or array
            Loss in nats per token.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (loss,) = broadcast(L=within("L", L, *LOSS_RANGE))
        return output(self._critical(loss), shape, L=loss)

    @overload
    def min_steps(self, S: float, B: float, L: float) -> float: ...
    @overload
    def min_steps(self, S: npt.ArrayLike, B: npt.ArrayLike, L: npt.ArrayLike) -> F64: ...
    @floating
    def min_steps(self, S: npt.ArrayLike, B: npt.ArrayLike, L: npt.ArrayLike) -> float | F64:
        """§5.1: ``S_min = S / (1 + B_crit(L) / B)``, the steps ``S`` taken at batch ``B``
        would have been at a batch far above the critical one.

        Parameters
        ----------
        S, B, L : float or array
            Steps, batch in tokens and the loss reached.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, s, b, crit = self._at_batch("S", S, B, L)
        return output(s / (1.0 + crit / b), shape, S=s, B=b)

    @overload
    def min_compute(self, C: float, B: float, L: float) -> float: ...
    @overload
    def min_compute(self, C: npt.ArrayLike, B: npt.ArrayLike, L: npt.ArrayLike) -> F64: ...
    @floating
    def min_compute(self, C: npt.ArrayLike, B: npt.ArrayLike, L: npt.ArrayLike) -> float | F64:
        """§5.1: ``C_min = C / (1 + B / B_crit(L))``, the compute ``C`` spent at batch ``B``
        would have been at a batch far below the critical one.

        Parameters
        ----------
        C, B, L : float or array
            FLOPs, batch in tokens and the loss reached.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, c, b, crit = self._at_batch("C", C, B, L)
        return output(c / (1.0 + b / crit), shape, C=c, B=b)

    budget_for = documented(ScalingLaw.budget_for, """
        FLOPs ``C_min`` for which ``N`` is the compute-efficient size (eq. 1.7 inverted).

        Parameters
        ----------
        N : float or array

        Returns
        -------
        float or numpy.ndarray
        """)
