"""Kumar et al. 2024, "Scaling Laws for Precision": low-precision training as fewer
effective parameters, post-training quantisation as a loss that grows with data, and the
precision a compute budget is best trained in."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import overload

import numpy as np
import numpy.typing as npt

from ._base import (
    F64,
    NON_EMBEDDING,
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
    within,
)
from ._compare import register

#: Bits of each number format the time model trains in (``dtype`` of
#: :func:`scalingperf.estimate`): sign, exponent and mantissa bits of one element.
#: TF32 keeps FP32's 8 exponent bits and 10 mantissa bits; MXFP8 elements are FP8 (E4M3),
#: their shared 8-bit scale per 32 elements not counted; NVFP4's are E2M1 (4 bits), their
#: FP8 scale per 16 not counted.
DTYPE_BITS: dict[str, float] = {"fp32": 32.0, "tf32": 19.0, "bf16": 16.0, "fp16": 16.0,
                                "fp8": 8.0, "mxfp8": 8.0, "nvfp4": 4.0}
#: A precision is a number of bits from 1 to 64.
BITS_RANGE: Bounds = (1.0, 64.0)
#: §2.3: N of 30M to 220M non-embedding parameters, D of 1.5B to 26B tokens; weights,
#: activations and KV cache trained in 3 to 12 bits and BF16 (§4).
KUMAR_RANGE: dict[str, Bounds] = {"N": (3e7, 2.2e8), "D": (1.5e9, 2.6e10), "P": (3.0, 16.0)}
#: Golden-section steps for the compute-optimal precision: the bracket (1 to 64 bits)
#: shrinks by 0.618 each, to below 1e-12 bits.
_STEPS = 70


def precision_bits(name: str, value: object) -> F64:
    """``value`` in bits: a number (or array) from 1 to 64, or a ``dtype`` name of
    :data:`DTYPE_BITS`; anything else a ValueError naming ``name``."""
    if isinstance(value, str):
        if value not in DTYPE_BITS:
            allowed = ", ".join(DTYPE_BITS)
            msg = f"{name}={value!r} is invalid: give bits (1 to 64) or one of {allowed}"
            raise ValueError(msg)
        return np.asarray(DTYPE_BITS[value], dtype=np.float64)
    return within(name, value, *BITS_RANGE)


class Kumar2024(Convention):
    """Kumar et al. 2024, "Scaling Laws for Precision" (ICLR 2025, arXiv:2411.04330): the
    loss of a model of ``N`` non-embedding parameters trained on ``D`` tokens with its
    weights, activations and KV cache in ``P_w``, ``P_a``, ``P_kv`` bits (integer
    quantisation of the forward pass), eqs. 3-4 and Finding 2::

        L = A N_eff^-alpha + B D^-beta + E
        N_eff = N prod_x (1 - exp(-P_x / gamma_x + n_x)),  x in {w, a, kv}

    and the loss a model trained in BF16 or more adds when its weights are rounded to
    ``P_post`` bits afterwards, eq. 2 (Finding 1)::

        delta_PTQ = C_T D^gamma_D / N^gamma_N exp(-P_post / gamma_post + b)

    Constants: Appendix K, Table 2 -- A = 4.299e3, alpha = beta = 0.4965 (tied, as they
    fit them), B = 1.806e4, E = 2.7648; gamma_w = 2.6745, n_w = 0.3037; gamma_a = 2.2102,
    n_a = 1.4072 (the table's "i"); gamma_kv = 0.9578, n_kv = 2.4185; C_T = 0.0598,
    gamma_D = 0.5068, gamma_N = 0.3439, gamma_post = 0.5907, b = 1.1277. Appendix K says
    the exponents carry biases the main text leaves out ("e^(x/gamma_x)" computed as
    "e^(x/gamma_x + n)"); with ``x = -P`` and the bias added, as written here, the table
    reproduces the paper's compute-optimal precision (see below), which subtracting it or
    shifting ``P`` by it do not (2 and 5.6 bits).

    Training compute is ``C = (6/16) N D P`` (eq. 5: cost linear in bits, ``6 N D`` at 16).
    :meth:`compute_optimal` allocates a budget at a fixed precision (eq. 6);
    :meth:`compute_optimal_precision` is eq. 7's ``P*``: with ``alpha = beta`` the loss at
    the optimum depends on ``P`` only through ``N_eff D / N D = f(P) / P`` (all three parts
    in ``P`` bits), so ``P*`` maximises ``f(P) / P`` whatever the budget (Finding 3).

    Precisions are bits from 1 to 64 or the time model's ``dtype`` names
    (:data:`DTYPE_BITS`: bf16 16, fp8 8, ...). The constants were fitted on integer
    quantisation; floating-point training fits the same form with slightly lower loss
    (Figure 6, Appendix N: gamma_w = 2.8111, bias 0.1240 for floating-point weights).

    Reproduced: :meth:`compute_optimal_precision` gives 7.0 bits, where §4.3.2 finds it
    "around 7-8 bits"; at 4 bits for all three parts ``N_eff = 0.19 N``, so a 4-bit model
    must be 5.2x larger to match one trained in high precision, where §4.3.2 says "more
    than 4x". With the biases the activations keep no parameters at 3 bits
    (``1 - exp(-3 / 2.2102 + 1.4072) < 0``), where Appendix L reports runs with 3-bit
    activations diverging (and leaves them out of the fit); a precision at which a part
    keeps none raises a ValueError. Not reproduced: ``gamma_post`` and ``b`` are read from the table's unnamed
    "gamma" and "b" rows after gamma_N (the PTQ constants); no printed number of the paper
    checks that reading. Eq. 8-9's degradation after low-precision training needs C_w,
    C_a, C_kv, which Table 2 does not give, so :meth:`ptq_degradation` takes models trained
    in BF16 or above only.

    Inputs must be finite: N, D, C from 1 to 1e40, bits from 1 to 64; other values raise a
    ValueError naming them. Outside N 30M-220M, D 1.5B-26B, or bits 3-16 results warn
    with :class:`ExtrapolationWarning`.

    Parameters
    ----------
    A, alpha, B, beta, E : float, optional
        The Chinchilla-form constants (``beta`` defaults to ``alpha``, tied as fitted).
    gamma_w, n_w, gamma_a, n_a, gamma_kv, n_kv : float, optional
        Sensitivity (> 0) and bias (finite) of each part's factor in ``N_eff``.
    C_T, gamma_D, gamma_N, gamma_post, b : float, optional
        Eq. 2 (``b`` finite, the others > 0).
    fitted_range : dict, optional
        ``{"N": ..., "D": ..., "P": ...}``; ``{}`` turns the checks off.
    params_convention : ParamConvention or str, optional
        Default non-embedding parameters, as the paper counts N (§2.3).
    """

    params_convention = NON_EMBEDDING

    def __init__(self, *, A: float = 4.299e3, alpha: float = 0.4965, B: float = 1.806e4,
                 beta: float | None = None, E: float = 2.7648, gamma_w: float = 2.6745,
                 n_w: float = 0.3037, gamma_a: float = 2.2102, n_a: float = 1.4072,
                 gamma_kv: float = 0.9578, n_kv: float = 2.4185, C_T: float = 0.0598,
                 gamma_D: float = 0.5068, gamma_N: float = 0.3439, gamma_post: float = 0.5907,
                 b: float = 1.1277, fitted_range: Mapping[str, Bounds] | None = None,
                 params_convention: ParamConvention | str = NON_EMBEDDING) -> None:
        self.A = positive_scalar("A", A)
        self.alpha = positive_scalar("alpha", alpha)
        self.B = positive_scalar("B", B)
        self.beta = positive_scalar("beta", self.alpha if beta is None else beta)
        self.E = non_negative_scalar("E", E)
        self.gamma_w = positive_scalar("gamma_w", gamma_w)
        self.n_w = finite_scalar("n_w", n_w)
        self.gamma_a = positive_scalar("gamma_a", gamma_a)
        self.n_a = finite_scalar("n_a", n_a)
        self.gamma_kv = positive_scalar("gamma_kv", gamma_kv)
        self.n_kv = finite_scalar("n_kv", n_kv)
        self.C_T = positive_scalar("C_T", C_T)
        self.gamma_D = positive_scalar("gamma_D", gamma_D)
        self.gamma_N = positive_scalar("gamma_N", gamma_N)
        self.gamma_post = positive_scalar("gamma_post", gamma_post)
        self.b = finite_scalar("b", b)
        self.fitted_range = ranges(KUMAR_RANGE, fitted_range, ("N", "D", "P"))
        self.params_convention = param_convention(params_convention)
        self.name = "Kumar2024"

    def __repr__(self) -> str:
        return (f"Kumar2024(A={self.A:g}, alpha={self.alpha:g}, B={self.B:g}, "
                f"beta={self.beta:g}, E={self.E:g}, gamma_w={self.gamma_w:g}, "
                f"n_w={self.n_w:g}, gamma_a={self.gamma_a:g}, n_a={self.n_a:g}, "
                f"gamma_kv={self.gamma_kv:g}, n_kv={self.n_kv:g}, C_T={self.C_T:g}, "
                f"gamma_D={self.gamma_D:g}, gamma_N={self.gamma_N:g}, "
                f"gamma_post={self.gamma_post:g}, b={self.b:g})")

    def _check(self, key: str, label: str, values: F64, noun: str) -> None:
        check_range(self.name, label, values, self.fitted_range.get(key), noun)

    def _factor(self, p: F64, gamma: float, bias: float) -> F64:
        """``1 - exp(-P / gamma + bias)``: the share of parameters one part keeps."""
        result: F64 = -np.expm1(-p / gamma + bias)
        return result

    def _fraction(self, pw: F64, pa: F64, pkv: F64) -> F64:
        """``N_eff / N``, or a ValueError where a part's precision leaves none."""
        parts = (self._factor(pw, self.gamma_w, self.n_w), self._factor(pa, self.gamma_a, self.n_a),
                 self._factor(pkv, self.gamma_kv, self.n_kv))
        f: F64 = parts[0] * parts[1] * parts[2]
        bad = ~((parts[0] > 0) & (parts[1] > 0) & (parts[2] > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = (f"P_w={float(pw[i])!r}, P_a={float(pa[i])!r}, P_kv={float(pkv[i])!r} is "
                   "invalid: at so few bits a part keeps no effective parameters under "
                   "these constants (1 - exp(-P / gamma + n) <= 0); train in more bits")
            raise ValueError(msg)
        return f

    def _precisions(self, P_w: object, P_a: object, P_kv: object,
                    **others: F64) -> tuple[tuple[int, ...], list[F64]]:
        pw = precision_bits("P_w", P_w)
        pa = pw if P_a is None else precision_bits("P_a", P_a)
        pkv = pw if P_kv is None else precision_bits("P_kv", P_kv)
        shape, arrays = broadcast(**others, P_w=pw, P_a=pa, P_kv=pkv)
        given = (True, P_a is not None, P_kv is not None)
        for label, values, check in zip(("P_w", "P_a", "P_kv"), arrays[-3:], given, strict=True):
            if check:
                self._check("P", label, values, "precision (bits)")
        return shape, arrays

    @overload
    def effective_params(self, N: float, P_w: float | str = 16.0, P_a: float | str | None = None,
                         P_kv: float | str | None = None) -> float: ...
    @overload
    def effective_params(self, N: npt.ArrayLike, P_w: npt.ArrayLike | str = 16.0,
                         P_a: npt.ArrayLike | str | None = None,
                         P_kv: npt.ArrayLike | str | None = None) -> F64: ...
    @floating
    def effective_params(self, N: npt.ArrayLike, P_w: npt.ArrayLike | str = 16.0,
                         P_a: npt.ArrayLike | str | None = None,
                         P_kv: npt.ArrayLike | str | None = None) -> float | F64:
        """``N_eff`` (eq. 4 with Table 2's biases): the parameters a model trained in high
        precision would need to reach the loss of one of ``N`` trained at these precisions.

        Parameters
        ----------
        N : float or array
            Non-embedding parameters.
        P_w, P_a, P_kv : float, array or str
            Bits (or a ``dtype`` name) of the weights, activations and KV cache in
            training; ``P_a`` and ``P_kv`` default to ``P_w`` (all in one format, as
            pretraining in that format). Broadcast with ``N``.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (n, pw, pa, pkv) = self._precisions(P_w, P_a, P_kv, N=counts("N", N))
        self._check("N", "N", n, "model")
        return output(n * self._fraction(pw, pa, pkv), shape, N=n, P_w=pw)

    @overload
    def loss(self, N: float, D: float, P_w: float | str = 16.0, P_a: float | str | None = None,
             P_kv: float | str | None = None) -> float: ...
    @overload
    def loss(self, N: npt.ArrayLike, D: npt.ArrayLike, P_w: npt.ArrayLike | str = 16.0,
             P_a: npt.ArrayLike | str | None = None,
             P_kv: npt.ArrayLike | str | None = None) -> F64: ...
    @floating
    def loss(self, N: npt.ArrayLike, D: npt.ArrayLike, P_w: npt.ArrayLike | str = 16.0,
             P_a: npt.ArrayLike | str | None = None,
             P_kv: npt.ArrayLike | str | None = None) -> float | F64:
        """Final loss of a model trained at these precisions (Finding 2, eqs. 3-4).

        Parameters
        ----------
        N, D : float or array
            Non-embedding parameters and training tokens.
        P_w, P_a, P_kv : float, array or str
            As :meth:`effective_params` (default BF16 throughout).

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (n, d, pw, pa, pkv) = self._precisions(P_w, P_a, P_kv, N=counts("N", N),
                                                      D=counts("D", D))
        self._check("N", "N", n, "model")
        self._check("D", "D", d, "token count")
        n_eff = n * self._fraction(pw, pa, pkv)
        result = (self.A * np.exp(-self.alpha * np.log(n_eff))
                  + self.B * np.exp(-self.beta * np.log(d)) + self.E)
        return output(result, shape, N=n, D=d, P_w=pw)

    @overload
    def ptq_degradation(self, N: float, D: float, P_post: float | str) -> float: ...
    @overload
    def ptq_degradation(self, N: npt.ArrayLike, D: npt.ArrayLike,
                        P_post: npt.ArrayLike | str) -> F64: ...
    @floating
    def ptq_degradation(self, N: npt.ArrayLike, D: npt.ArrayLike,
                        P_post: npt.ArrayLike | str) -> float | F64:
        """Eq. 2: the loss a model trained in BF16 or more adds when its weights are
        quantised to ``P_post`` bits after training (GPTQ in the paper): it grows with
        ``D`` as ``D^gamma_D`` and falls with ``N`` as ``N^-gamma_N``.

        Parameters
        ----------
        N, D : float or array
            Non-embedding parameters and training tokens.
        P_post : float, array or str
            Bits of the weights after quantisation.

        Returns
        -------
        float or numpy.ndarray
            Nats per token added to :meth:`loss`.
        """
        post = precision_bits("P_post", P_post)
        shape, (n, d, p) = broadcast(N=counts("N", N), D=counts("D", D), P_post=post)
        self._check("N", "N", n, "model")
        self._check("D", "D", d, "token count")
        self._check("P", "P_post", p, "precision (bits)")
        result = (self.C_T * np.exp(self.gamma_D * np.log(d) - self.gamma_N * np.log(n))
                  * np.exp(-p / self.gamma_post + self.b))
        return output(result, shape, N=n, D=d, P_post=p)

    @overload
    def compute_optimal(self, C: float, P: float | str = 16.0) -> tuple[float, float]: ...
    @overload
    def compute_optimal(self, C: npt.ArrayLike, P: npt.ArrayLike | str = 16.0
                        ) -> tuple[F64, F64]: ...
    @floating
    def compute_optimal(self, C: npt.ArrayLike, P: npt.ArrayLike | str = 16.0
                        ) -> tuple[float | F64, float | F64]:
        """The ``(N, D)`` of least loss for ``C = (6/16) N D P`` FLOPs with weights,
        activations and KV cache in ``P`` bits (eqs. 5-6). At a fixed ``P``, ``A N_eff^-alpha
        = A f(P)^-alpha N^-alpha`` is Hoffmann et al.'s form with a larger ``A``, and the
        budget is ``6 N D = 16 C / P``: their eq. 4's closed form.

        Parameters
        ----------
        C : float or array
            Training FLOPs.
        P : float, array or str
            Training precision in bits or a ``dtype`` name (default 16: ``C = 6 N D``).

        Returns
        -------
        (N, D) : tuple of float or numpy.ndarray
        """
        shape, (c, p, _, _) = self._precisions(P, None, None, C=counts("C", C))
        a_eff = self.A * np.exp(-self.alpha * np.log(self._fraction(p, p, p)))
        g = np.exp((np.log(self.alpha * a_eff) - math.log(self.beta * self.B))
                   / (self.alpha + self.beta))
        six_nd = 16.0 * c / p
        n = g * np.exp(self.beta / (self.alpha + self.beta) * np.log(six_nd / 6.0))
        d = six_nd / (6.0 * n)
        self._check("N", "N_opt", n, "model")
        self._check("D", "D_opt", d, "token count")
        return output(n, shape, C=c, P=p), output(d, shape, C=c, P=p)

    @overload
    def tokens_for(self, N: float, P: float | str = 16.0) -> float: ...
    @overload
    def tokens_for(self, N: npt.ArrayLike, P: npt.ArrayLike | str = 16.0) -> F64: ...
    @floating
    def tokens_for(self, N: npt.ArrayLike, P: npt.ArrayLike | str = 16.0) -> float | F64:
        """The tokens that make ``N`` parameters trained in ``P`` bits compute-optimal:
        ``D = (beta B / (alpha A f(P)^-alpha))^(1/beta) N^(alpha/beta)``, eq. 4 inverted.

        Parameters
        ----------
        N : float or array
        P : float, array or str

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (n, p, _, _) = self._precisions(P, None, None, N=counts("N", N))
        self._check("N", "N", n, "model")
        a_eff = self.A * np.exp(-self.alpha * np.log(self._fraction(p, p, p)))
        log_d = (math.log(self.beta * self.B) - np.log(self.alpha * a_eff)
                 + self.alpha * np.log(n)) / self.beta
        d = np.exp(log_d)
        self._check("D", "D_opt", d, "token count")
        return output(d, shape, N=n, P=p)

    def compute_optimal_precision(self) -> float:
        """Eq. 7's ``P*``: the training precision (weights, activations and KV cache
        together) of least loss for any budget, when ``N``, ``D`` and ``P`` are all free.
        With ``alpha = beta`` it maximises ``f(P) / P`` (golden-section search from 1 to 64
        bits); otherwise ``P*`` depends on the budget and a ValueError says so.

        Returns
        -------
        float
            Bits (7.0 with the paper's constants).
        """
        if not math.isclose(self.alpha, self.beta, rel_tol=1e-12):
            msg = (f"alpha={self.alpha!r} and beta={self.beta!r} differ: P* is independent of "
                   "the budget only with alpha = beta (as fitted); use compute_optimal at "
                   "several P instead")
            raise ValueError(msg)

        def gain(bits: float) -> float:
            p = np.array([bits])
            parts = [float(self._factor(p, gamma, bias)[0]) for gamma, bias in (
                (self.gamma_w, self.n_w), (self.gamma_a, self.n_a), (self.gamma_kv, self.n_kv))]
            if min(parts) <= 0:
                return -math.inf
            return parts[0] * parts[1] * parts[2] / bits

        grid = np.linspace(*BITS_RANGE, 631)
        best = int(np.argmax([gain(float(x)) for x in grid]))
        lo, hi = float(grid[max(best - 1, 0)]), float(grid[min(best + 1, grid.size - 1)])
        ratio = (math.sqrt(5.0) - 1.0) / 2.0
        for _ in range(_STEPS):
            left, right = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
            if gain(left) > gain(right):
                hi = right
            else:
                lo = left
        return 0.5 * (lo + hi)


register(Kumar2024(), source="Kumar et al. 2024, eqs. 3-5, Table 2", loss=True,
         note="at BF16 (C = 6 N D); loss(N, D, P_w, P_a, P_kv), effective_params, "
              "compute_optimal(C, P) and ptq_degradation take other precisions or dtypes")
