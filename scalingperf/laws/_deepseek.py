"""Bi et al. 2024 (DeepSeek LLM): the optimal learning rate, batch size, model scale and
data scale as power laws in the training compute."""

from __future__ import annotations

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
    output,
    param_convention,
    positive_scalar,
    power,
    ranges,
)
from ._compare import register

#: The compute budgets of the small-scale runs behind the fits: eight isoFLOP budgets
#: from 1e17 to 3e20 FLOPs (§3.2, Figure 4).
DEEPSEEK_RANGE: dict[str, Bounds] = {"C": (1e17, 3e20)}


class DeepSeek2024(Convention):
    """Bi et al. 2024, "DeepSeek LLM: Scaling Open-Source Language Models with
    Longtermism" (arXiv:2401.02954), §3: hyper-parameters and the model/data allocation as
    power laws in the compute budget ``C``.

    The paper measures model scale as ``M``, the non-embedding FLOPs per token (eq. 2,
    :meth:`flops_per_token`: ``72 n_layer d_model^2 + 12 n_layer d_model l_seq``), and
    compute as ``C = M D`` (not ``6 N D``). Its fits::

        eta_opt = 0.3118 C^-0.1250          (eq. 1, learning rate)
        B_opt   = 0.2920 C^0.3271           (eq. 1, batch size in tokens)
        M_opt   = 0.1715 C^0.5243           (eq. 4, FLOPs per token)
        D_opt   = 5.8316 C^0.4757           (eq. 4, tokens)

    The allocation exponents sum to 1 and the product of its coefficients is 1.0001, as
    ``C = M D`` requires.

    Reproduced: Table 2's hyper-parameters of the 7B (30 layers, d_model 4096, 4096-token
    context, 2T tokens: learning rate 4.2e-4, batch 2304 sequences = 9.4M tokens) and the
    67B (95 layers, d_model 8192: 3.2e-4, 4608 sequences = 18.9M tokens). With ``C = M
    D`` and eq. 2, the law gives 4.24e-4 and 9.2M tokens for the 7B and 3.12e-4 and
    20.7M for the 67B: the learning rates within 3 %, the batches within 10 % (the paper
    rounds them to whole sequences per device).

    The constants were checked against secondary transcriptions of eqs. 1 and 4 and of
    Table 2 (two independent summaries of the paper), not against the PDF itself; the
    Table 2 reproduction above confirms eq. 1.

    ``C`` must be finite and from 1 to 1e40; other values raise a ValueError naming it.

    Parameters
    ----------
    lr_coeff, lr_exponent, batch_coeff, batch_exponent : float, optional
        Eq. 1 (coefficients > 0, exponents finite).
    m_coeff, m_exponent, d_coeff, d_exponent : float, optional
        Eq. 4.
    fitted_range : dict, optional
        ``{"C": (low, high)}``; default 1e17 to 3e20 FLOPs. ``{}`` turns the
        :class:`ExtrapolationWarning` checks off.
    params_convention : ParamConvention or str, optional
        Which parameters ``N`` counts (default non-embedding, as the paper).
    """

    #: Model scale is ``M``, non-embedding FLOPs per token: ``6 N`` with ``N`` the
    #: non-embedding parameters, plus attention's ``12 n_layer d_model l_seq``.
    params_convention = NON_EMBEDDING

    def __init__(self, *, lr_coeff: float = 0.3118, lr_exponent: float = -0.1250,
                 batch_coeff: float = 0.2920, batch_exponent: float = 0.3271,
                 m_coeff: float = 0.1715, m_exponent: float = 0.5243,
                 d_coeff: float = 5.8316, d_exponent: float = 0.4757,
                 fitted_range: Mapping[str, Bounds] | None = None,
                 params_convention: ParamConvention | str = NON_EMBEDDING) -> None:
        self.lr_coeff = positive_scalar("lr_coeff", lr_coeff)
        self.lr_exponent = finite_scalar("lr_exponent", lr_exponent)
        self.batch_coeff = positive_scalar("batch_coeff", batch_coeff)
        self.batch_exponent = finite_scalar("batch_exponent", batch_exponent)
        self.m_coeff = positive_scalar("m_coeff", m_coeff)
        self.m_exponent = finite_scalar("m_exponent", m_exponent)
        self.d_coeff = positive_scalar("d_coeff", d_coeff)
        self.d_exponent = finite_scalar("d_exponent", d_exponent)
        self.params_convention = param_convention(params_convention)
        self.fitted_range = ranges(DEEPSEEK_RANGE, fitted_range, ("C",))
        self.name = "DeepSeek2024"

    def __repr__(self) -> str:
        return (f"DeepSeek2024(eta_opt = {self.lr_coeff:g} C^{self.lr_exponent:g}, "
                f"B_opt = {self.batch_coeff:g} C^{self.batch_exponent:g}, "
                f"M_opt = {self.m_coeff:g} C^{self.m_exponent:g}, "
                f"D_opt = {self.d_coeff:g} C^{self.d_exponent:g})")

    @property
    def a(self) -> float:
        """Exponent of ``M_opt ∝ C^a``."""
        return self.m_exponent

    @property
    def b(self) -> float:
        """Exponent of ``D_opt ∝ C^b``."""
        return self.d_exponent

    def _budget(self, C: npt.ArrayLike) -> tuple[tuple[int, ...], F64]:
        shape, (c,) = broadcast(C=counts("C", C))
        check_range(self.name, "C", c, self.fitted_range.get("C"), "compute budget")
        return shape, c

    @overload
    def learning_rate(self, C: float) -> float: ...
    @overload
    def learning_rate(self, C: npt.ArrayLike) -> F64: ...
    @floating
    def learning_rate(self, C: npt.ArrayLike) -> float | F64:
        """Near-optimal peak learning rate for a budget of ``C`` FLOPs (eq. 1).

        Parameters
        ----------
        C : float or array
            Training FLOPs, ``M D``.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, c = self._budget(C)
        return output(power(c, self.lr_coeff, self.lr_exponent), shape, C=c)

    @overload
    def batch_size(self, C: float) -> float: ...
    @overload
    def batch_size(self, C: npt.ArrayLike) -> F64: ...
    @floating
    def batch_size(self, C: npt.ArrayLike) -> float | F64:
        """Near-optimal batch size in tokens for a budget of ``C`` FLOPs (eq. 1).

        Parameters
        ----------
        C : float or array
            Training FLOPs, ``M D``.

        Returns
        -------
        float or numpy.ndarray
            Tokens per batch (divide by the sequence length for sequences).
        """
        shape, c = self._budget(C)
        return output(power(c, self.batch_coeff, self.batch_exponent), shape, C=c)

    @overload
    def compute_optimal(self, C: float) -> tuple[float, float]: ...
    @overload
    def compute_optimal(self, C: npt.ArrayLike) -> tuple[F64, F64]: ...
    @floating
    def compute_optimal(self, C: npt.ArrayLike) -> tuple[float | F64, float | F64]:
        """The model scale and data scale that minimise the loss at ``C`` FLOPs (eq. 4).

        Parameters
        ----------
        C : float or array
            Training FLOPs, ``M D``.

        Returns
        -------
        (M, D) : tuple of float or numpy.ndarray
            Non-embedding FLOPs per token and tokens.
        """
        shape, c = self._budget(C)
        m = power(c, self.m_coeff, self.m_exponent)
        d = power(c, self.d_coeff, self.d_exponent)
        return output(m, shape, C=c), output(d, shape, C=c)

    @overload
    @staticmethod
    def flops_per_token(n_layer: float, d_model: float, seq_len: float) -> float: ...
    @overload
    @staticmethod
    def flops_per_token(n_layer: npt.ArrayLike, d_model: npt.ArrayLike,
                        seq_len: npt.ArrayLike) -> F64: ...
    @staticmethod
    @floating
    def flops_per_token(n_layer: npt.ArrayLike, d_model: npt.ArrayLike,
                        seq_len: npt.ArrayLike) -> float | F64:
        """``M = 72 n_layer d_model^2 + 12 n_layer d_model l_seq`` (eq. 2): the
        non-embedding training FLOPs per token, attention's included, vocabulary's not.

        Parameters
        ----------
        n_layer, d_model, seq_len : float or array
            Layers, hidden size and sequence length (each from 1 to 1e40), broadcast.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (layers, width, seq) = broadcast(n_layer=counts("n_layer", n_layer),
                                                d_model=counts("d_model", d_model),
                                                seq_len=counts("seq_len", seq_len))
        m: F64 = 72.0 * layers * width * width + 12.0 * layers * width * seq
        return output(np.asarray(m, dtype=np.float64), shape, n_layer=layers,
                      d_model=width, seq_len=seq)


class _ComparedAllocation:
    """DeepSeek2024's eq. 4 as :func:`~scalingperf.laws.compare` lists it: ``N = M_opt /
    6``, so that ``C = M D = 6 N D`` (``N`` then counts attention's FLOPs per token as
    parameters)."""

    name = "DeepSeek2024"

    def __init__(self, law: DeepSeek2024) -> None:
        self.law = law
        self.params_convention = law.params_convention

    def compute_optimal(self, C: float) -> tuple[float, float]:
        m, d = self.law.compute_optimal(C)
        return m / 6.0, d


register(_ComparedAllocation(DeepSeek2024()), source="Bi et al. 2024, eq. 4", loss=False,
         note="N is M_opt / 6 (M: non-embedding FLOPs per token, attention included); "
              "learning_rate(C) and batch_size(C) give its hyper-parameters")
