"""Gadre et al. 2024: the loss of over-trained models in compute and tokens per
parameter, and the average downstream top-1 error as a function of the loss."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from ._base import (
    F64,
    LOSS_RANGE,
    Bounds,
    ParamConvention,
    broadcast,
    choice,
    counts,
    documented,
    floating,
    output,
    positive,
    positive_scalar,
    ranges,
    within,
)
from ._chinchilla import ParametricLaw, _LossFrontier, _Wrapping
from ._compare import register

Dataset = Literal["rpj", "c4", "rw"]
_DATASETS: tuple[Dataset, ...] = ("rpj", "c4", "rw")
_TASKS = (17, 46)

# The authors' fits, run with their code on their data (github.com/mlfoundations/scaling
# at commit a003c49, scaling/shared.py `fit_ds`, C4 eval loss, the four small models at
# M = 20 and the 11M model at M = 320; the error law adds the 1.4B model at M = 20), to
# ten digits. The repository prints no constants, only what they predict: the notebook
# scaling_explorer.ipynb's "reproduce figure 1" cell, which these reproduce to its four
# digits (tests/test_laws_gadre.py; seven digits would miss one). Converted from the
# code's ``alpha N^p + beta 6^(p/2) (M N)^p + E`` to the paper's form: eta = -p / 2,
# a = alpha 6^eta, b = beta.
#: (E, a, b, eta) of L(C, M) = E + (a M^eta + b M^-eta) C^-eta, by training set.
GADRE_LOSS: dict[Dataset, tuple[float, float, float, float]] = {
    "rpj": (1.836648409, 212.2361217, 366.687198, 0.1364253531),
    "c4": (1.508260544, 141.2772553, 189.5155215, 0.1212361196),
    "rw": (1.734462089, 157.1162841, 246.2066862, 0.1271974223),
}
#: (k, gamma, epsilon) of Err(L) = epsilon - k exp(-gamma L), by training set and by
#: the 17-task or 46-task split of the average top-1 error.
GADRE_ERROR: dict[tuple[Dataset, int], tuple[float, float, float]] = {
    ("rpj", 17): (2.206490091, 0.714590553, 0.8569919276),
    ("rpj", 46): (1.322898887, 0.8907078483, 0.76084951),
    ("c4", 17): (2.078907162, 0.7561208818, 0.8497420147),
    ("c4", 46): (1.28851604, 0.972164293, 0.7589494443),
    ("rw", 17): (2.214814844, 0.7070485013, 0.8652795375),
    ("rw", 46): (1.128074225, 0.8215227603, 0.7676792131),
}
#: The runs behind the loss fit: 10.6M to 412M parameters, 211M to 8.2B tokens.
GADRE_RANGE: dict[str, Bounds] = {"N": (1.0569312e7, 4.11616256e8),
                                   "D": (2.1138624e8, 8.23232512e9)}
#: The C4 eval losses behind each training set's error fit (its six runs, 11M to 1.4B).
GADRE_LOSS_RANGE: dict[Dataset, Bounds] = {
    "rpj": (2.768757, 5.387021), "c4": (2.656859, 5.220676), "rw": (2.763351, 5.271892)}


class Gadre2024(_Wrapping):
    """Gadre et al. 2024, "Language models scale reliably with over-training and on
    downstream tasks" (arXiv:2403.08540): the C4 eval loss of a model trained with ``C =
    6 N D`` FLOPs at ``M = D / N`` tokens per parameter, and the average downstream top-1
    error that loss predicts.

    The paper's loss law and error law::

        L(C, M) = E + (a M^eta + b M^-eta) C^-eta
        Err(L)  = epsilon - k exp(-gamma L)

    In ``N`` and ``D`` the loss is Hoffmann et al.'s form with equal exponents, ``E +
    A / N^(2 eta) + B / D^(2 eta)`` with ``A = a 6^-eta`` and ``B = b 6^-eta``, so its
    compute-optimal allocation keeps ``M`` fixed at ``(b / a)^(1 / (2 eta))`` (7.4 for
    RedPajama), and over-training by a factor ``M / M_opt`` costs the same loss at every
    budget (the paper's observation that the reducible loss lines are parallel).

    Constants: the authors' own fit with their published code and runs
    (github.com/mlfoundations/scaling, commit a003c49, ``fit_ds`` in scaling/shared.py on
    exp_data/models and exp_data/evals); the paper's text was not available here to
    compare them with any it prints. With the RedPajama defaults
    they predict the 1.4B model trained on 921B tokens (M = 640) at a C4 loss of 2.520 and
    the 6.9B model on 138B tokens (M = 20) at 2.443, 0.71 % and 0.73 % from the measured
    2.502 and 2.425, and the 17-task top-1 error of those runs 3.6 % and 0.05 % from the
    measurement: the relative errors the authors' notebook prints for Figure 1.

    Parameters
    ----------
    dataset : {"rpj", "c4", "rw"}
        The training set: RedPajama (default, the paper's Figure 1), C4 or RefinedWeb.
    tasks : {17, 46}
        The error averaged over the 17-task split (default, Figure 1) or all 46 tasks.
    E, a, b, eta, k, gamma, epsilon : float, optional
        Override a constant of the chosen fit.
    fitted_range : dict, optional
        ``{"N": ..., "D": ..., "loss": ...}``; default the runs behind the fits (10.6M to
        412M parameters, 211M to 8.2B tokens; the error fit's losses). ``{}`` turns the
        :class:`ExtrapolationWarning` checks off.

    Examples
    --------
    >>> import warnings
    >>> from scalingperf.laws import ExtrapolationWarning
    >>> law = Gadre2024()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", ExtrapolationWarning)
    ...     print(round(law.loss(1.4397952e9, 9.21468928e11), 3))
    2.52
    """

    #: Every parameter, as the runs' ``params`` field counts them (untied embeddings).
    params_convention: ParamConvention

    def __init__(self, dataset: Dataset = "rpj", tasks: Literal[17, 46] = 17, *,
                 E: float | None = None, a: float | None = None, b: float | None = None,
                 eta: float | None = None, k: float | None = None,
                 gamma: float | None = None, epsilon: float | None = None,
                 fitted_range: Mapping[str, Bounds] | None = None) -> None:
        self.dataset = choice("dataset", dataset, _DATASETS)
        self.tasks = choice("tasks", tasks, _TASKS)
        e0, a0, b0, eta0 = GADRE_LOSS[self.dataset]
        k0, gamma0, epsilon0 = GADRE_ERROR[self.dataset, self.tasks]
        self.E = e0 if E is None else E
        self.a = positive_scalar("a", a0 if a is None else a)
        self.b = positive_scalar("b", b0 if b is None else b)
        self.eta = positive_scalar("eta", eta0 if eta is None else eta)
        self.k = positive_scalar("k", k0 if k is None else k)
        self.gamma = positive_scalar("gamma", gamma0 if gamma is None else gamma)
        self.epsilon = positive_scalar("epsilon", epsilon0 if epsilon is None else epsilon)
        self.name = "Gadre2024"
        default = {**GADRE_RANGE, "loss": GADRE_LOSS_RANGE[self.dataset]}
        self.fitted_range = ranges(default, fitted_range, ("N", "D", "loss"))
        scale = 6.0 ** -self.eta
        self._law: ParametricLaw = ParametricLaw(self.E, self.a * scale, self.b * scale,
                                                 2 * self.eta, 2 * self.eta, fitted_range={},
                                                 name=self.name)
        self.E = self._law.E
        self.params_convention = self._law.params_convention

    def __repr__(self) -> str:
        return (f"Gadre2024(dataset={self.dataset!r}, tasks={self.tasks}, E={self.E:.7g}, "
                f"a={self.a:.7g}, b={self.b:.7g}, eta={self.eta:.7g}, k={self.k:.7g}, "
                f"gamma={self.gamma:.7g}, epsilon={self.epsilon:.7g})")

    @property
    def parametric(self) -> ParametricLaw:
        """The loss as a :class:`ParametricLaw` in ``N`` and ``D`` (``alpha = beta = 2
        eta``)."""
        law = self._law
        return ParametricLaw(law.E, law.A, law.B, law.alpha, law.beta,
                             fitted_range={k: v for k, v in self.fitted_range.items()
                                           if k in ("N", "D")}, name=self.name)

    @property
    def optimal_tokens_per_param(self) -> float:
        """``M`` of every compute-optimal allocation: ``(b / a)^(1 / (2 eta))``."""
        return math.exp(math.log(self.b / self.a) / (2.0 * self.eta))


    budget_for = documented(_LossFrontier.budget_for, """
        Training FLOPs for which ``N`` parameters is the compute-optimal size: ``6 M_opt
        N^2``.

        Parameters
        ----------
        N : float or array

        Returns
        -------
        float or numpy.ndarray
        """)

    @overload
    def loss_at(self, C: float, M: float) -> float: ...
    @overload
    def loss_at(self, C: npt.ArrayLike, M: npt.ArrayLike) -> F64: ...
    @floating
    def loss_at(self, C: npt.ArrayLike, M: npt.ArrayLike) -> float | F64:
        """The paper's ``L(C, M) = E + (a M^eta + b M^-eta) C^-eta``: the loss of the model
        trained with ``C`` FLOPs on ``M`` tokens per parameter (``N = sqrt(C / (6 M))``,
        ``D = M N``).

        Parameters
        ----------
        C : float or array
            Training FLOPs (1 to 1e40).
        M : float or array
            Tokens per parameter, finite and > 0; ``C / (6 M)`` must be at least 1.

        Returns
        -------
        float or numpy.ndarray
        """
        shape, (c, m) = broadcast(C=counts("C", C), M=positive("M", M))
        n = np.sqrt(c / (6.0 * m))
        if (n < 1).any():
            i = int(np.flatnonzero(n < 1)[0])
            msg = (f"M={float(m[i])!r} is invalid with C={float(c[i])!r}: it leaves N = "
                   f"sqrt(C / (6 M)) = {float(n[i]):.3g} parameters; M must be at most C / 6")
            raise ValueError(msg)
        self._check_nd(n, m * n)
        reducible = (self.a * m ** self.eta + self.b * m ** -self.eta) * c ** -self.eta
        return output(self.E + reducible, shape, C=c, M=m)

    @overload
    def error(self, loss: float) -> float: ...
    @overload
    def error(self, loss: npt.ArrayLike) -> F64: ...
    @floating
    def error(self, loss: npt.ArrayLike) -> float | F64:
        """Average top-1 error over the split's tasks at a C4 eval ``loss``: ``epsilon - k
        exp(-gamma L)``.

        Parameters
        ----------
        loss : float or array
            Above ``ln(k / epsilon) / gamma``, where the predicted error reaches 0, and at
            most 1e3.

        Returns
        -------
        float or numpy.ndarray
            A fraction, below ``epsilon``.
        """
        floor = max(math.log(self.k / self.epsilon) / self.gamma, LOSS_RANGE[0])
        values = within("loss", loss, LOSS_RANGE[0], LOSS_RANGE[1])
        if (values <= floor).any():
            first = float(values[values <= floor].flat[0])
            msg = (f"loss={first!r} is invalid: it must be above {floor:.4g}, where this "
                   "law's predicted error ln(k / epsilon) / gamma reaches 0")
            raise ValueError(msg)
        shape, (ell,) = broadcast(loss=values)
        self._check("loss", "loss", ell, "loss")
        return output(self.epsilon - self.k * np.exp(-self.gamma * ell), shape, loss=ell)

    @overload
    def downstream_error(self, N: float, D: float) -> float: ...
    @overload
    def downstream_error(self, N: npt.ArrayLike, D: npt.ArrayLike) -> F64: ...
    def downstream_error(self, N: npt.ArrayLike, D: npt.ArrayLike) -> float | F64:
        """Average top-1 error of a model of ``N`` parameters trained on ``D`` tokens:
        :meth:`error` of :meth:`loss`, as the paper chains them.

        Parameters
        ----------
        N, D : float or array

        Returns
        -------
        float or numpy.ndarray
        """
        return self.error(self.loss(N, D))


register(Gadre2024(), source="Gadre et al. 2024, L(C, M) on RedPajama (authors' fit)")
