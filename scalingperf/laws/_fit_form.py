"""Fitting the power-law forms of the hyper-parameter laws to a user's runs: each target
(learning rate, batch size, model or data scale) is ``k prod(x_i^e_i)``, a straight line
in logs, fitted by least squares once for every law that has that form."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ._base import F64, as_numbers, counts, positive
from ._deepseek import DeepSeek2024
from ._steplaw import StepLaw2025

#: A design (a column of ones and the log inputs, columns scaled to unit norm) whose
#: smallest singular value is below this share of its largest cannot separate the
#: exponents: an input that does not vary, or one that is a power of another.
_RANK_TOLERANCE = 1e-9


@dataclass(frozen=True)
class PowerLawFit:
    """``target = coeff prod(x^exponent)`` fitted by least squares on logs.

    Attributes
    ----------
    coeff : float
    exponents : dict
        One exponent per input, by name.
    stderr : dict
        Standard errors of ``log(coeff)`` (key ``"log_coeff"``) and of each exponent
        (``inf`` with as many runs as constants).
    rms_log_residual : float
        Root-mean-square residual of ``log(target)``: 0.1 is about 10 % scatter.
    n_runs : int
    """

    coeff: float
    exponents: dict[str, float]
    stderr: dict[str, float]
    rms_log_residual: float
    n_runs: int


def fit_power_law(target: str, values: npt.ArrayLike,
                  inputs: Mapping[str, npt.ArrayLike]) -> PowerLawFit:
    """Fit ``values = coeff prod(inputs[name]^e_name)`` by least squares on logs.

    Parameters
    ----------
    target : str
        Name of ``values`` in messages.
    values : array
        One positive value per run.
    inputs : dict
        One array of counts (1 to 1e40) per input, each as long as ``values``.

    Returns
    -------
    PowerLawFit

    Raises
    ------
    ValueError
        Naming the array at fault: not 1-D, unequal lengths, out of range; fewer runs
        than constants; inputs that do not vary independently (e.g. one value, or one a
        power of another).
    """
    y = positive(target, values)
    xs = {name: counts(name, value) for name, value in inputs.items()}
    for name, array in {target: y, **xs}.items():
        if array.ndim != 1:
            msg = (f"{name} is invalid: it must be a 1-D array with one entry per run, not of "
                   f"shape {array.shape}")
            raise ValueError(msg)
        if array.size != y.size:
            msg = (f"{name} and {target} are invalid together: they must be equally long, "
                   f"one entry per run, not of {array.size} and {y.size} entries")
            raise ValueError(msg)
    constants = len(xs) + 1
    if y.size < constants:
        msg = (f"{target} has {y.size} runs: at least {constants} are needed to fit its "
               f"{constants} constants")
        raise ValueError(msg)
    design = np.column_stack([np.ones(y.size)] + [np.log(x) for x in xs.values()])
    scale = np.linalg.norm(design, axis=0)
    singular = np.linalg.svd(design / scale, compute_uv=False)
    if singular[-1] < _RANK_TOLERANCE * singular[0]:
        names = ", ".join(xs)
        msg = (f"{names} do not vary independently across the runs (a single value, or one "
               f"a power of another): the data are degenerate and cannot determine the "
               f"exponents of {target}")
        raise ValueError(msg)
    log_y = np.log(y)
    solution, _, _, _ = np.linalg.lstsq(design, log_y, rcond=None)
    residual = log_y - design @ solution
    dof = y.size - constants
    if dof > 0:
        sigma2 = float(residual @ residual) / dof
        cov = sigma2 * np.linalg.inv(design.T @ design)
        errors = np.sqrt(np.maximum(np.diag(cov), 0.0))
    else:
        errors = np.full(constants, math.inf)
    labels = ["log_coeff", *xs]
    return PowerLawFit(
        coeff=float(np.exp(solution[0])),
        exponents={name: float(e) for name, e in zip(xs, solution[1:], strict=True)},
        stderr={name: float(e) for name, e in zip(labels, errors, strict=True)},
        rms_log_residual=float(np.sqrt(np.mean(residual**2))),
        n_runs=int(y.size))


@dataclass(frozen=True)
class FormFit:
    """The result of :func:`fit_form`.

    Attributes
    ----------
    law : DeepSeek2024 or StepLaw2025
        The law with the fitted constants (the published ones where a target was not
        given), its ``fitted_range`` the runs'.
    fits : dict
        One :class:`PowerLawFit` per fitted target.
    """

    law: DeepSeek2024 | StepLaw2025
    fits: dict[str, PowerLawFit] = field(default_factory=dict)


def _range(array: F64) -> tuple[float, float]:
    low, high = float(array.min()), float(array.max())
    return (low, high) if high > low else (low, math.nextafter(low, math.inf))


def _deepseek(runs: Mapping[str, npt.ArrayLike]) -> FormFit:
    c = runs["C"]
    targets = {"learning_rate": ("lr_coeff", "lr_exponent"),
               "batch_size": ("batch_coeff", "batch_exponent"),
               "model_scale": ("m_coeff", "m_exponent"),
               "tokens": ("d_coeff", "d_exponent")}
    fits = {name: fit_power_law(name, runs[name], {"C": c})
            for name in targets if name in runs}
    constants: dict[str, Any] = {}
    for name, result in fits.items():
        coeff, exponent = targets[name]
        constants[coeff] = result.coeff
        constants[exponent] = result.exponents["C"]
    law = DeepSeek2024(**constants, fitted_range={"C": _range(counts("C", c))})
    return FormFit(law=law, fits=fits)


def _steplaw(runs: Mapping[str, npt.ArrayLike]) -> FormFit:
    n, d = runs["N"], runs["D"]
    fits: dict[str, PowerLawFit] = {}
    constants: dict[str, Any] = {}
    if "learning_rate" in runs:
        result = fit_power_law("learning_rate", runs["learning_rate"], {"N": n, "D": d})
        fits["learning_rate"] = result
        constants.update(lr_coeff=result.coeff, lr_n_exponent=result.exponents["N"],
                         lr_d_exponent=result.exponents["D"])
    if "batch_size" in runs:
        result = fit_power_law("batch_size", runs["batch_size"], {"D": d})
        fits["batch_size"] = result
        constants.update(batch_coeff=result.coeff, batch_exponent=result.exponents["D"])
    law = StepLaw2025(**constants, fitted_range={"N": _range(counts("N", n)),
                                                 "D": _range(counts("D", d))})
    return FormFit(law=law, fits=fits)


#: Each form: the inputs it needs, the targets it can fit, and how to build the law.
FORMS: dict[str, tuple[tuple[str, ...], tuple[str, ...],
                       Callable[[Mapping[str, npt.ArrayLike]], FormFit]]] = {
    "deepseek": (("C",), ("learning_rate", "batch_size", "model_scale", "tokens"), _deepseek),
    "steplaw": (("N", "D"), ("learning_rate", "batch_size"), _steplaw),
}


def fit_form(form: str, **runs: npt.ArrayLike) -> FormFit:
    """Fit a hyper-parameter law's power-law form to your runs.

    - ``"deepseek"`` (Bi et al. 2024): runs ``C`` (FLOPs, ``M D``) with any of
      ``learning_rate``, ``batch_size`` (tokens), ``model_scale`` (``M_opt``, FLOPs per
      token) and ``tokens`` (``D_opt``), each fitted as ``k C^e`` (eqs. 1 and 4);
    - ``"steplaw"`` (Li et al. 2025): runs ``N`` (non-embedding parameters) and ``D``
      with ``learning_rate`` (``k N^a D^b``) and/or ``batch_size`` (``k D^b``).

    Each target is a least-squares line through the logs (as both papers fit them), so
    the result is exact for noiseless power laws. A target not given keeps the paper's
    constants.

    Parameters
    ----------
    form : {"deepseek", "steplaw"}
    **runs : array
        One entry per run (for example, each the best of a learning-rate and batch sweep
        at one budget), by the names above.

    Returns
    -------
    FormFit

    Raises
    ------
    ValueError
        An unknown form or run name, a missing input, no target, or runs that cannot
        determine the constants (see :func:`fit_power_law`).
    """
    if not isinstance(form, str) or form not in FORMS:
        allowed = ", ".join(repr(name) for name in FORMS)
        msg = f"form={form!r} is invalid: it must be one of {allowed}"
        raise ValueError(msg)
    inputs, targets, build = FORMS[form]
    for name in runs:
        if name not in inputs + targets:
            msg = (f"{name} is invalid for form={form!r}: the runs it takes are "
                   f"{', '.join(inputs + targets)}")
            raise ValueError(msg)
    for name in inputs:
        if name not in runs:
            msg = f"{name} is missing: form={form!r} needs {', '.join(inputs)} for every run"
            raise ValueError(msg)
    if not any(name in runs for name in targets):
        msg = f"form={form!r} needs at least one of {', '.join(targets)} to fit"
        raise ValueError(msg)
    return build({name: as_numbers(name, value) for name, value in runs.items()})
