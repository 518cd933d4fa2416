"""Ludziejewski et al. 2025, "Joint MoE Scaling Laws": the loss of dense and
mixture-of-experts models in active parameters, training tokens and experts."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import overload

import numpy as np
import numpy.typing as npt

from ._base import (
    F64,
    TOTAL,
    Bounds,
    Convention,
    ParamConvention,
    broadcast,
    check_range,
    counts,
    finite_scalar,
    floating,
    non_negative_scalar,
    output,
    param_convention,
    positive_scalar,
    ranges,
)
from ._chinchilla import ParametricLaw
from ._compare import register
from ._sardana import Sardana2024, _inference_tokens

#: Appendix E: 79M to 2.7B active parameters (embeddings included), 500M to 80B tokens,
#: 1 to 32 experts.
LUDZIEJEWSKI_RANGE: dict[str, Bounds] = {"N": (7.9e7, 2.7e9), "D": (5e8, 8e10),
                                         "E": (1.0, 32.0)}
#: The GPT-2 tokenizer's vocabulary, which the paper's parameter counts assume (A.1).
GPT2_VOCAB = 50257


class Ludziejewski2025(Convention):
    """Ludziejewski et al. 2025, "Joint MoE Scaling Laws: Mixture of Experts Can Be Memory
    Efficient" (ICML 2025, arXiv:2502.05172): one law for dense (``E = 1``) and
    mixture-of-experts models, eq. 6::

        L(N, D, E) = a Ê^delta N^(alpha + gamma ln Ê) + b Ê^omega D^(beta + zeta ln Ê) + c

    with ``N`` the active parameters (embedding and unembedding included, A.1), ``D`` the
    training tokens and ``Ê`` Clark et al.'s saturating transform of the expert count
    (eq. 4): ``1/Ê = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max``. Switch layers:
    each token goes to one expert.

    Constants (Table 3): a = 35.91, alpha = -0.1889, delta = -0.2285, gamma = 0.0098,
    b = 35.98, beta = -0.1775, omega = 0.5529, zeta = -0.0259, E_start = 2.0732,
    E_max = 290.4521, c = 1.3637. For a fixed ``E`` it is Hoffmann et al.'s form (Table 4,
    :meth:`reduced`), so the compute-optimal allocation under ``C = 6 N D`` is eq. 7.

    Reproduced: Table 1's compute-optimal ``N`` and ``D`` for 1 to 32 experts at 1e20,
    1e21 and 1e22 FLOPs, all 36 within the digits printed (1.7B for 1.73B) or, where three
    are printed, 1.3 % (Table 3's constants are themselves rounded); Table 4's reduced
    coefficients within 0.3 % and its exponents within 2e-4. Not reproduced: Table 2's
    memory-optimal expert counts (with a 16k-token KV cache) agree in 9 of 12 cells with
    :meth:`memory_optimal` plus the cache, whose exact accounting the paper does not give.

    Also: :meth:`learning_rate`, eq. 8's peak learning rate; :meth:`inference_optimal`,
    the joint training-and-inference budget of §4.4 (Sardana et al. 2024's problem);
    :meth:`memory_optimal`, §4.2's limit on total parameters with the paper's shapes
    (``N_blocks = d_model / 64``, eqs. 9 and 10).

    Inputs must be finite and from 1 to 1e40; other values raise a ValueError naming them.

    Parameters
    ----------
    a, alpha, delta, gamma, b, beta, omega, zeta, c : float, optional
        Eq. 6's constants (``a``, ``b`` > 0, ``c`` >= 0, the others finite).
    e_start, e_max : float, optional
        Eq. 4 (``1 <= e_start < e_max``).
    fitted_range : dict, optional
        Default: N from 79M to 2.7B, D from 500M to 80B, E from 1 to 32. ``{}`` turns the
        :class:`ExtrapolationWarning` checks off.
    params_convention : ParamConvention or str, optional
        Default every active parameter, embeddings included (A.1).
    """

    def __init__(self, *, a: float = 35.91, alpha: float = -0.1889, delta: float = -0.2285,
                 gamma: float = 0.0098, b: float = 35.98, beta: float = -0.1775,
                 omega: float = 0.5529, zeta: float = -0.0259, e_start: float = 2.0732,
                 e_max: float = 290.4521, c: float = 1.3637,
                 fitted_range: Mapping[str, Bounds] | None = None,
                 params_convention: ParamConvention | str = TOTAL) -> None:
        self.a = positive_scalar("a", a)
        self.b = positive_scalar("b", b)
        self.alpha = finite_scalar("alpha", alpha)
        self.delta = finite_scalar("delta", delta)
        self.gamma = finite_scalar("gamma", gamma)
        self.beta = finite_scalar("beta", beta)
        self.omega = finite_scalar("omega", omega)
        self.zeta = finite_scalar("zeta", zeta)
        self.c = non_negative_scalar("c", c)
        self.e_start = positive_scalar("e_start", e_start)
        self.e_max = positive_scalar("e_max", e_max)
        if not (self.e_start >= 1.0 and 1.0 / self.e_start - 1.0 / self.e_max > 0):
            msg = (f"e_start={self.e_start:g} and e_max={self.e_max:g} are invalid together: "
                   "they must be 1 <= e_start < e_max")
            raise ValueError(msg)
        self.fitted_range = ranges(LUDZIEJEWSKI_RANGE, fitted_range, ("N", "D", "E"))
        self.params_convention = param_convention(params_convention)
        self.name = "Ludziejewski2025"

    def __repr__(self) -> str:
        return (f"Ludziejewski2025(a={self.a:g}, alpha={self.alpha:g}, delta={self.delta:g}, "
                f"gamma={self.gamma:g}, b={self.b:g}, beta={self.beta:g}, "
                f"omega={self.omega:g}, zeta={self.zeta:g}, e_start={self.e_start:g}, "
                f"e_max={self.e_max:g}, c={self.c:g})")

    # The law at fixed E -----------------------------------------------------------------

    def _ehat(self, e: F64) -> F64:
        offset = 1.0 / (1.0 / self.e_start - 1.0 / self.e_max)
        result: F64 = 1.0 / (1.0 / (e - 1.0 + offset) + 1.0 / self.e_max)
        return result

    def _terms(self, e: F64) -> tuple[F64, F64, F64, F64]:
        """Table 4's (A, alpha, B, beta) at ``e`` experts: ``L = A N^-alpha + B D^-beta +
        c`` (the exponents as decay rates, > 0 for a law that falls)."""
        ehat = self._ehat(e)
        log_ehat = np.log(ehat)
        return (self.a * ehat**self.delta, -(self.alpha + self.gamma * log_ehat),
                self.b * ehat**self.omega, -(self.beta + self.zeta * log_ehat))

    def _check(self, **values: F64) -> None:
        nouns = {"N": "active parameter count", "D": "token count", "E": "expert count"}
        for key, array in values.items():
            check_range(self.name, key, array, self.fitted_range.get(key.split("_")[0]),
                        nouns[key.split("_")[0]])

    def reduced(self, E: float = 1.0) -> ParametricLaw:
        """The law at a fixed expert count as Hoffmann et al.'s ``E + A / N^alpha + B /
        D^beta`` (Table 4), to use wherever a :class:`ParametricLaw` goes (e.g.
        :class:`Sardana2024`).

        Parameters
        ----------
        E : float
            Experts (1 to 1e40); the result keeps this law's N and D ranges.

        Returns
        -------
        ParametricLaw
        """
        e = counts("E", E)
        if e.ndim:
            msg = "E is invalid: it must be a single number, not an array"
            raise ValueError(msg)
        self._check(E=e.reshape(1))
        big_a, alpha, big_b, beta = (float(t[0]) for t in self._terms(e.reshape(1)))
        if not (alpha > 0 and beta > 0):
            msg = (f"E={float(e)!r} is out of range for this law: its loss does not fall with "
                   f"N and D there (exponents {alpha:.3g}, {beta:.3g})")
            raise ValueError(msg)
        bounds: dict[str, Bounds] = {key: self.fitted_range[key] for key in ("N", "D")
                                     if key in self.fitted_range}
        return ParametricLaw(self.c, big_a, big_b, alpha, beta, fitted_range=bounds,
                             name=f"Ludziejewski2025(E={float(e):g})",
                             params_convention=self.params_convention)

    # Public methods -------------------------------------------------------------------

    @overload
    def expert_saturation(self, E: float) -> float: ...
    @overload
    def expert_saturation(self, E: npt.ArrayLike) -> F64: ...
    @floating
    def expert_saturation(self, E: npt.ArrayLike) -> float | F64:
        """``Ê(E)`` of eq. 4; ``Ê(1) = E_start``.

        Parameters
        ----------
        E : float or array

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (e,) = broadcast(E=counts("E", E))
        self._check(E=e)
        return output(self._ehat(e), shape, E=e)

    @overload
    def loss(self, N: float, D: float, E: float = 1.0) -> float: ...
    @overload
    def loss(self, N: npt.ArrayLike, D: npt.ArrayLike, E: npt.ArrayLike = 1.0) -> F64: ...
    @floating
    def loss(self, N: npt.ArrayLike, D: npt.ArrayLike, E: npt.ArrayLike = 1.0) -> float | F64:
        """Final training loss of a model with ``N`` active parameters trained on ``D``
        tokens with ``E`` experts (1: dense). Eq. 6.

        Parameters
        ----------
        N, D, E : float or array
            Broadcast together.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (n, d, e) = broadcast(N=counts("N", N), D=counts("D", D), E=counts("E", E))
        self._check(N=n, D=d, E=e)
        big_a, alpha, big_b, beta = self._terms(e)
        values = big_a * np.exp(-alpha * np.log(n)) + big_b * np.exp(-beta * np.log(d)) + self.c
        return output(values, shape, N=n, D=d, E=e)

    @overload
    def compute_optimal(self, C: float, E: float = 1.0) -> tuple[float, float]: ...
    @overload
    def compute_optimal(self, C: npt.ArrayLike, E: npt.ArrayLike = 1.0) -> tuple[F64, F64]: ...
    @floating
    def compute_optimal(self, C: npt.ArrayLike, E: npt.ArrayLike = 1.0,
                        ) -> tuple[float | F64, float | F64]:
        """Active parameters and tokens of least loss for ``C = 6 N D`` FLOPs at ``E``
        experts (eq. 7).

        Parameters
        ----------
        C, E : float or array
            Broadcast together.

        Returns
        -------
        (N, D) : tuple of float or numpy.ndarray
        """
        shape, (c, e) = broadcast(C=counts("C", C), E=counts("E", E))
        self._check(E=e)
        big_a, alpha, big_b, beta = self._terms(e)
        bad = ~((alpha > 0) & (beta > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = (f"E={float(e[i])!r} is out of range for this law: its loss does not fall "
                   "with N and D there, so it has no compute-optimal allocation")
            raise ValueError(msg)
        log_g = (np.log(alpha * big_a) - np.log(beta * big_b)) / (alpha + beta)
        log_half = np.log(c / 6.0)
        n = np.exp(log_g + beta / (alpha + beta) * log_half)
        d = np.exp(log_half) / n
        result = output(n, shape, C=c, E=e), output(d, shape, C=c, E=e)
        self._check(N_opt=n, D_opt=d)
        return result

    @overload
    def inference_optimal(self, C: float, inference_tokens: float,
                          E: float = 1.0) -> tuple[float, float]: ...
    @overload
    def inference_optimal(self, C: npt.ArrayLike, inference_tokens: npt.ArrayLike,
                          E: npt.ArrayLike = 1.0) -> tuple[F64, F64]: ...
    def inference_optimal(self, C: npt.ArrayLike, inference_tokens: npt.ArrayLike,
                          E: npt.ArrayLike = 1.0) -> tuple[float | F64, float | F64]:
        """§4.4: the ``(N, D)`` of least loss whose training and inference FLOPs, ``6 N D +
        2 N D_inf``, are ``C``, at ``E`` experts.

        Parameters
        ----------
        C : float or array
            Joint budget (at least ``6 + 2 inference_tokens``).
        inference_tokens : float or array
            Tokens served (0 to 1e40).
        E : float or array

        Returns
        -------
        (N, D) : tuple of float or numpy.ndarray
        """
        def solve(law: ParametricLaw, c: F64, served: F64) -> tuple[F64, F64]:
            n, d = Sardana2024(law).compute_optimal(c, served)
            return np.asarray(n, dtype=np.float64), np.asarray(d, dtype=np.float64)

        return self._per_expert_count(solve, C=C, inference_tokens=inference_tokens, E=E)

    @overload
    def memory_optimal(self, C: float, max_params: float, E: float = 1.0, *,
                       vocab_size: int = GPT2_VOCAB) -> tuple[float, float]: ...
    @overload
    def memory_optimal(self, C: npt.ArrayLike, max_params: npt.ArrayLike,
                       E: npt.ArrayLike = 1.0, *,
                       vocab_size: int = GPT2_VOCAB) -> tuple[F64, F64]: ...
    def memory_optimal(self, C: npt.ArrayLike, max_params: npt.ArrayLike,
                       E: npt.ArrayLike = 1.0, *, vocab_size: int = GPT2_VOCAB,
                       ) -> tuple[float | F64, float | F64]:
        """§4.2: the ``(N, D)`` of least loss with ``6 N D = C`` and at most
        ``max_params`` total parameters, at ``E`` experts.

        The loss along ``6 N D = C`` falls until the compute-optimal ``N``, so the optimum
        is the smaller of that and the largest model that fits. Total and active counts
        follow the paper's shapes: ``N_blocks = d_model / 64`` (A.3), ``N_total = 2 d_model
        V + (4 + 9 E) N_blocks d_model^2`` and ``N_act = 2 d_model V + 13 N_blocks
        d_model^2`` (eqs. 9, 10).

        Parameters
        ----------
        C : float or array
            Training FLOPs.
        max_params : float or array
            Total parameters allowed (at least the embeddings' ``2 V``).
        E : float or array
        vocab_size : int
            ``V``; the paper's GPT-2 tokenizer has 50,257.

        Returns
        -------
        (N, D) : tuple of float or numpy.ndarray
        """
        vocab = positive_scalar("vocab_size", vocab_size)

        def solve(law: ParametricLaw, c: F64, limit: F64, e: float) -> tuple[F64, F64]:
            width = _width_for_total(limit, e, vocab)
            cap = 2.0 * width * vocab + 13.0 / 64.0 * width**3
            n_opt, _ = law.compute_optimal(c)
            n = np.minimum(np.asarray(n_opt, dtype=np.float64), cap)
            return n, c / (6.0 * n)

        return self._per_expert_count(solve, C=C, max_params=max_params, E=E)

    @overload
    def learning_rate(self, N: float, E: float = 1.0) -> float: ...
    @overload
    def learning_rate(self, N: npt.ArrayLike, E: npt.ArrayLike = 1.0) -> F64: ...
    @floating
    def learning_rate(self, N: npt.ArrayLike, E: npt.ArrayLike = 1.0) -> float | F64:
        """Eq. 8, the peak learning rate the paper trained with: ``exp(8.39 - 0.81 ln N -
        0.25 ln E)`` with ``N`` the active non-embedding parameters (not this law's N).

        Parameters
        ----------
        N : float or array
            Active non-embedding parameters.
        E : float or array
            Experts.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (n, e) = broadcast(N=counts("N", N), E=counts("E", E))
        self._check(E=e)
        return output(np.exp(8.39 - 0.81 * np.log(n) - 0.25 * np.log(e)), shape, N=n, E=e)

    def _per_expert_count(self, solve: Callable[..., tuple[F64, F64]], *, C: npt.ArrayLike,
                          E: npt.ArrayLike, **extra: npt.ArrayLike,
                          ) -> tuple[float | F64, float | F64]:
        """``solve(reduced law, C, extra, E)`` on the inputs broadcast together, once per
        distinct expert count, reassembled in the inputs' shape."""
        (name, value), = extra.items()
        checked = (_inference_tokens(value) if name == "inference_tokens"
                   else counts(name, value))
        shape, (c, other, e) = broadcast(C=counts("C", C), **{name: checked},
                                         E=counts("E", E))
        n = np.empty_like(c)
        d = np.empty_like(c)
        for count in np.unique(e):
            mask = e == count
            law = self.reduced(float(count))
            args = (law, c[mask], other[mask]) + ((float(count),) if name == "max_params" else ())
            n[mask], d[mask] = (np.asarray(x, dtype=np.float64).reshape(-1) for x in solve(*args))
        return output(n, shape, C=c, E=e), output(d, shape, C=c, E=e)


def _width_for_total(total: F64, experts: float, vocab: float) -> F64:
    """``d_model`` whose ``2 d V + (4 + 9 E) d^3 / 64`` is ``total`` (increasing in d),
    by bisection in log space; a ValueError where even ``d = 1`` does not fit."""
    def size(width: F64) -> F64:
        result: F64 = 2.0 * width * vocab + (4.0 + 9.0 * experts) / 64.0 * width**3
        return result

    small = size(np.ones_like(total)) > total
    if small.any():
        i = int(np.flatnonzero(small)[0])
        msg = (f"max_params={float(total[i])!r} is invalid: it must leave room for the "
               f"embeddings, at least {float(size(np.ones(1))[0]):g} parameters")
        raise ValueError(msg)
    lo = np.zeros_like(total)
    hi = np.full_like(total, math.log(1e14))
    for _ in range(120):
        mid = 0.5 * (lo + hi)
        fits = size(np.exp(mid)) <= total
        lo = np.where(fits, mid, lo)
        hi = np.where(fits, hi, mid)
    result: F64 = np.exp(lo)
    return result


register(Ludziejewski2025(), source="Ludziejewski et al. 2025, eq. 6, Table 3",
         note="dense (E = 1) here; loss(N, D, E), compute_optimal(C, E), memory_optimal and "
              "inference_optimal take the expert count")
