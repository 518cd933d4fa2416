"""Li et al. 2025 (Step Law): the optimal learning rate and batch size as power laws in
parameters and training tokens."""

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
    ranges,
)
from ._compare import register

#: The dense runs behind the fit (the authors' data/dense_lr_bs_loss.csv): 214.7M to
#: 1.07B non-embedding parameters, 4B to 100B tokens.
STEPLAW_RANGE: dict[str, Bounds] = {"N": (2.1466368e8, 1.073741824e9), "D": (4e9, 1e11)}


class StepLaw2025(Convention):
    """Li et al. 2025, "Predictable Scale: Part I, Step Law -- Optimal Hyperparameter
    Scaling Law in Large Language Model Pretraining" (arXiv:2503.04715): the optimal peak
    learning rate and batch size of AdamW pre-training from the non-embedding parameter
    count ``N`` and the training tokens ``D``::

        eta_opt(N, D) = 1.79 N^-0.713 D^0.307
        B_opt(D)      = 0.58 D^0.571          (tokens; independent of N)

    The constants are the means of the authors' 1,000 bootstrap fits, which they publish
    (github.com/step-law/steplaw, data/1004_fitted_lr_bs_scaling_model_parameters.csv:
    ``exp(lr_intercept)`` = 1.797, ``lr_coefN`` = -0.7129, ``lr_coefD`` = 0.3075,
    ``exp(bs_intercept)`` = 0.581, ``bs_coefD`` = 0.5709), printed rounded in the paper.
    Their fitting code counts the batch in tokens, sequences of 2048 times the batch in
    sequences.

    Reproduced: the grid optimum of each (N, D) of the authors' dense runs (17 pairs,
    data/dense_lr_bs_loss.csv) lies within a factor 2 of the law in both learning rate and
    batch: the landscape is flat near its minimum (the paper's point), and the grid's
    learning rates are spaced by sqrt(2).

    ``N`` and ``D`` must be finite and from 1 to 1e40; other values raise a ValueError.

    Parameters
    ----------
    lr_coeff, lr_n_exponent, lr_d_exponent : float, optional
        The learning-rate law (coefficient > 0, exponents finite).
    batch_coeff, batch_exponent : float, optional
        The batch law.
    fitted_range : dict, optional
        Default: N from 214.7M to 1.07B, D from 4B to 100B. ``{}`` turns the
        :class:`ExtrapolationWarning` checks off.
    params_convention : ParamConvention or str, optional
        Which parameters ``N`` counts (default non-embedding, as the paper).
    """

    #: ``N`` counts parameters without the embeddings: in the authors' data N = n_layer
    #: (4 d_model^2 + 3 d_model d_ffn), attention and SwiGLU weights, no vocabulary.
    params_convention = NON_EMBEDDING

    def __init__(self, *, lr_coeff: float = 1.79, lr_n_exponent: float = -0.713,
                 lr_d_exponent: float = 0.307, batch_coeff: float = 0.58,
                 batch_exponent: float = 0.571,
                 fitted_range: Mapping[str, Bounds] | None = None,
                 params_convention: ParamConvention | str = NON_EMBEDDING) -> None:
        self.lr_coeff = positive_scalar("lr_coeff", lr_coeff)
        self.lr_n_exponent = finite_scalar("lr_n_exponent", lr_n_exponent)
        self.lr_d_exponent = finite_scalar("lr_d_exponent", lr_d_exponent)
        self.batch_coeff = positive_scalar("batch_coeff", batch_coeff)
        self.batch_exponent = finite_scalar("batch_exponent", batch_exponent)
        self.params_convention = param_convention(params_convention)
        self.fitted_range = ranges(STEPLAW_RANGE, fitted_range, ("N", "D"))
        self.name = "StepLaw2025"

    def __repr__(self) -> str:
        return (f"StepLaw2025(eta_opt = {self.lr_coeff:g} N^{self.lr_n_exponent:g} "
                f"D^{self.lr_d_exponent:g}, B_opt = {self.batch_coeff:g} "
                f"D^{self.batch_exponent:g})")

    @overload
    def learning_rate(self, N: float, D: float) -> float: ...
    @overload
    def learning_rate(self, N: npt.ArrayLike, D: npt.ArrayLike) -> F64: ...
    @floating
    def learning_rate(self, N: npt.ArrayLike, D: npt.ArrayLike) -> float | F64:
        """Optimal peak learning rate of a model of ``N`` non-embedding parameters trained
        on ``D`` tokens.

        Parameters
        ----------
        N, D : float or array
            Broadcast together.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (n, d) = broadcast(N=counts("N", N), D=counts("D", D))
        check_range(self.name, "N", n, self.fitted_range.get("N"), "model")
        check_range(self.name, "D", d, self.fitted_range.get("D"), "token count")
        log_lr = (np.log(self.lr_coeff) + self.lr_n_exponent * np.log(n)
                  + self.lr_d_exponent * np.log(d))
        return output(np.exp(log_lr), shape, N=n, D=d)

    @overload
    def batch_size(self, D: float) -> float: ...
    @overload
    def batch_size(self, D: npt.ArrayLike) -> F64: ...
    @floating
    def batch_size(self, D: npt.ArrayLike) -> float | F64:
        """Optimal batch size in tokens for a run of ``D`` tokens.

        Parameters
        ----------
        D : float or array

        Returns
        -------
        float or numpy.ndarray
            Tokens per batch (divide by the sequence length for sequences).
        """
        shape, (d,) = broadcast(D=counts("D", D))
        check_range(self.name, "D", d, self.fitted_range.get("D"), "token count")
        return output(self.batch_coeff * np.exp(self.batch_exponent * np.log(d)), shape, D=d)


register(StepLaw2025(), source="Li et al. 2025, the Step Law", loss=False,
         note="hyper-parameters only: learning_rate(N, D) and batch_size(D), no allocation")
