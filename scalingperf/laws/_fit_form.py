"""Fitting the newer laws' forms to a user's runs, once for every law of a kind:

- the hyper-parameter laws (DeepSeek2024, StepLaw2025): each target (learning rate,
  batch size, model or data scale) is ``k prod(x_i^e_i)``, a straight line in logs,
  fitted by least squares;
- the loss laws with more inputs than N and D (Ludziejewski2025's experts,
  Krajewski2024's granularity): a Huber regression on log-loss, as their papers fit
  them, by L-BFGS from the best points of a grid of starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ._base import F64, as_numbers, counts, positive, positive_scalar
from ._deepseek import DeepSeek2024
from ._krajewski import Krajewski2024
from ._kumar import Kumar2024
from ._ludziejewski import Ludziejewski2025
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


# Loss laws with inputs beyond N and D ------------------------------------------------------

@dataclass(frozen=True)
class LossFormFit:
    """The result of :func:`fit_loss_form`.

    Attributes
    ----------
    law : Ludziejewski2025, Krajewski2024 or Kumar2024
        The law with the fitted constants, its ``fitted_range`` the runs'.
    constants : dict
        The fitted constants by the law's constructor names.
    objective : float
        Sum over runs of the Huber loss of the log-loss residuals, over ``delta``.
    rms_log_residual : float
    converged : bool
        Whether the optimiser reported convergence at the optimum.
    n_runs : int
    """

    law: Ludziejewski2025 | Krajewski2024 | Kumar2024
    constants: dict[str, float]
    objective: float
    rms_log_residual: float
    converged: bool
    n_runs: int


@dataclass(frozen=True)
class _LossForm:
    """A loss law as :func:`fit_loss_form` fits it: its inputs besides N and D, the
    names of its free constants (those named ``log_*`` are fitted in logs), a grid of
    starting values for each, the log-loss it predicts, and how to build the law."""

    extra: str
    names: tuple[str, ...]
    starts: tuple[tuple[float, ...], ...]
    log_loss: Callable[[F64, F64, F64, F64], F64]
    build: Callable[[dict[str, float], dict[str, tuple[float, float]]],
                    Ludziejewski2025 | Krajewski2024 | Kumar2024]


def _ludziejewski_log_loss(theta: F64, n: F64, d: F64, e: F64) -> F64:
    """Eq. 6's log-loss; ``theta`` is one point (k,) or a column per point (k, P)."""
    log_a, alpha, delta, gamma, log_b, beta, omega, zeta, log_c = (
        np.asarray(t, dtype=np.float64)[..., None] for t in theta)
    log_e = np.log(Ludziejewski2025(fitted_range={})._ehat(e))
    first = log_a + delta * log_e + (alpha + gamma * log_e) * np.log(n)
    second = log_b + omega * log_e + (beta + zeta * log_e) * np.log(d)
    result: F64 = np.logaddexp(np.logaddexp(first, second), log_c + 0.0 * first)
    return result


def _krajewski_log_loss(theta: F64, n: F64, d: F64, g: F64) -> F64:
    """Eq. 9's log-loss; ``theta`` is one point (k,) or a column per point (k, P)."""
    log_a, alpha, log_b, beta, log_g, gamma, log_c = (
        np.asarray(t, dtype=np.float64)[..., None] for t in theta)
    first = np.logaddexp(log_g - gamma * np.log(g), log_a) - alpha * np.log(n)
    second = log_b - beta * np.log(d)
    result: F64 = np.logaddexp(np.logaddexp(first, second), log_c + 0.0 * first)
    return result


def _kumar_log_loss(theta: F64, n: F64, d: F64, p: F64) -> F64:
    """Kumar et al. 2024's eq. 5 log-loss, weights, activations and KV cache in ``p``
    bits with one sensitivity and bias; ``theta`` is one point (k,) or a column per point."""
    log_a, alpha, log_b, beta, log_gamma, bias, log_c = (
        np.asarray(t, dtype=np.float64)[..., None] for t in theta)
    kept = np.log(-np.expm1(-p / np.exp(log_gamma) + bias))  # NaN where no bits are kept
    first = log_a - alpha * (np.log(n) + 3.0 * kept)
    second = log_b - beta * np.log(d)
    result: F64 = np.logaddexp(np.logaddexp(first, second), log_c + 0.0 * first)
    return result


def _build_ludziejewski(values: dict[str, float], bounds: dict[str, tuple[float, float]],
                        ) -> Ludziejewski2025:
    return Ludziejewski2025(
        a=math.exp(values["log_a"]), alpha=values["alpha"], delta=values["delta"],
        gamma=values["gamma"], b=math.exp(values["log_b"]), beta=values["beta"],
        omega=values["omega"], zeta=values["zeta"], c=math.exp(values["log_c"]),
        fitted_range={"N": bounds["N"], "D": bounds["D"], "E": bounds["E"]})


def _build_krajewski(values: dict[str, float], bounds: dict[str, tuple[float, float]],
                     ) -> Krajewski2024:
    return Krajewski2024(
        a=math.exp(values["log_a"]), alpha=values["alpha"], b=math.exp(values["log_b"]),
        beta=values["beta"], g=math.exp(values["log_g"]), gamma=values["gamma"],
        c=math.exp(values["log_c"]),
        fitted_range={"N": bounds["N"], "D": bounds["D"], "G": bounds["G"]})


def _build_kumar(values: dict[str, float], bounds: dict[str, tuple[float, float]],
                 ) -> Kumar2024:
    gamma, bias = math.exp(values["log_gamma"]), values["bias"]
    return Kumar2024(
        A=math.exp(values["log_a"]), alpha=values["alpha"], B=math.exp(values["log_b"]),
        beta=values["beta"], E=math.exp(values["log_c"]), gamma_w=gamma, n_w=bias,
        gamma_a=gamma, n_a=bias, gamma_kv=gamma, n_kv=bias,
        fitted_range={"N": bounds["N"], "D": bounds["D"], "P": bounds["P"]})


#: The loss forms :func:`fit_loss_form` knows. Starting grids follow the papers' own
#: (Ludziejewski et al. 2025, Appendix B: exponents in {0.05, 0.25, 0.5}, interaction
#: terms in {-0.5, 0, 0.5}, coefficients in {30, 100, 300}, c in {0.5, 1, 2}), the
#: exponents negative as eq. 6 writes them; Krajewski et al. 2024 give none, so theirs
#: spans the same orders of magnitude.
LOSS_FORMS: dict[str, _LossForm] = {
    "ludziejewski": _LossForm(
        "E", ("log_a", "alpha", "delta", "gamma", "log_b", "beta", "omega", "zeta", "log_c"),
        (tuple(np.log([30.0, 100.0, 300.0])), (-0.05, -0.25, -0.5), (-0.5, 0.0, 0.5),
         (-0.5, 0.0, 0.5), tuple(np.log([30.0, 100.0, 300.0])), (-0.05, -0.25, -0.5),
         (-0.5, 0.0, 0.5), (-0.5, 0.0, 0.5), tuple(np.log([0.5, 1.0, 2.0]))),
        _ludziejewski_log_loss, _build_ludziejewski),
    "krajewski": _LossForm(
        "G", ("log_a", "alpha", "log_b", "beta", "log_g", "gamma", "log_c"),
        (tuple(np.log([3.0, 30.0, 300.0])), (0.05, 0.25, 0.5), tuple(np.log([3.0, 30.0, 300.0])),
         (0.05, 0.25, 0.5), tuple(np.log([0.3, 3.0])), (0.25, 0.75), tuple(np.log([0.5, 1.5]))),
        _krajewski_log_loss, _build_krajewski),
    # Kumar et al. 2024 (Table 2): A 4.3e3 and B 1.8e4 with exponents near 0.5, gammas of 1
    # to 2.7 bits and biases of 0.3 to 2.4; E 2.8 nats on their data.
    "kumar": _LossForm(
        "P", ("log_a", "alpha", "log_b", "beta", "log_gamma", "bias", "log_c"),
        (tuple(np.log([3e2, 3e3, 3e4])), (0.25, 0.5), tuple(np.log([3e2, 3e3, 3e4])),
         (0.25, 0.5), tuple(np.log([1.0, 2.5])), (0.0, 1.0), tuple(np.log([1.0, 2.5]))),
        _kumar_log_loss, _build_kumar),
}


def _huber_rows(residual: F64, delta: float) -> F64:
    """Huber loss of the residuals, summed along the last axis, over ``delta``; NaN as
    infinite."""
    size = np.abs(residual)
    total = np.sum(np.where(size <= delta, 0.5 * residual**2, delta * (size - 0.5 * delta)),
                   axis=-1) / delta
    result: F64 = np.where(np.isfinite(total), total, np.inf)
    return result


def _huber(residual: F64, delta: float) -> float:
    return float(_huber_rows(residual, delta))


def fit_loss_form(form: str, N: npt.ArrayLike, D: npt.ArrayLike, loss: npt.ArrayLike, *,
                  delta: float = 1e-3, n_starts: int = 8,
                  **extra: npt.ArrayLike) -> LossFormFit:
    """Fit a loss law with an input besides ``N`` and ``D`` to runs, by Huber regression
    on log-loss (the papers' objective; Hoffmann et al.'s ``delta``).

    - ``"ludziejewski"``: eq. 6 of Ludziejewski et al. 2025 with ``E=`` the expert
      counts; ``E_start`` and ``E_max`` keep the paper's values (Table 3), which the
      other nine constants do not determine without many expert counts;
    - ``"krajewski"``: eq. 9 of Krajewski et al. 2024 with ``G=`` the granularities (at
      the expansion rate of your runs);
    - ``"kumar"``: eq. 5 of Kumar et al. 2024 with ``P=`` the bits each run trained its
      weights, activations and KV cache in (one format throughout, as pretraining in it):
      ``A [N (1 - exp(-P / gamma + bias))^3]^-alpha + B D^-beta + E``, one sensitivity
      and bias for the three parts (which runs in one format cannot tell apart).

    The objective is evaluated on every point of the form's grid of starts
    (:data:`LOSS_FORMS`), and SciPy's trust-region least squares with a Huber loss runs
    from the ``n_starts`` best; the lowest optimum wins.

    Parameters
    ----------
    form : {"ludziejewski", "krajewski", "kumar"}
    N, D, loss : array
        One entry per run: N as the law counts it (active parameters with embeddings;
        every expert's non-embedding parameters; non-embedding parameters), tokens, final
        loss.
    delta : float
        Huber threshold on log-loss residuals.
    n_starts : int
        L-BFGS runs (1 to the grid's size).
    **extra : array
        ``E=``, ``G=`` or ``P=`` (bits, 1 to 1e40 like the counts), one entry per run.

    Returns
    -------
    LossFormFit

    Raises
    ------
    ValueError
        Naming the argument at fault: an unknown form, a missing or unknown input, arrays
        not 1-D or unequal, values out of range, fewer runs than twice the constants, an
        input that takes fewer than 3 values, or a fit whose constants leave float64 or
        whose loss does not fall with N and D.
    """
    if not isinstance(form, str) or form not in LOSS_FORMS:
        allowed = ", ".join(repr(name) for name in LOSS_FORMS)
        msg = f"form={form!r} is invalid: it must be one of {allowed}"
        raise ValueError(msg)
    spec = LOSS_FORMS[form]
    for name in extra:
        if name != spec.extra:
            msg = f"{name} is invalid for form={form!r}: it takes {spec.extra}= besides N, D, loss"
            raise ValueError(msg)
    if spec.extra not in extra:
        msg = f"{spec.extra} is missing: form={form!r} needs {spec.extra}= for every run"
        raise ValueError(msg)
    arrays = {"N": counts("N", N), "D": counts("D", D),
              spec.extra: counts(spec.extra, extra[spec.extra]), "loss": positive("loss", loss)}
    sizes = {name: array.size for name, array in arrays.items()}
    for name, array in arrays.items():
        if array.ndim != 1:
            msg = (f"{name} is invalid: it must be a 1-D array with one entry per run, not of "
                   f"shape {array.shape}")
            raise ValueError(msg)
    if len(set(sizes.values())) > 1:
        msg = (f"{', '.join(sizes)} are invalid together: they must be equally long, one "
               f"entry per run, not of {', '.join(map(str, sizes.values()))} entries")
        raise ValueError(msg)
    n, d, x, values = arrays["N"], arrays["D"], arrays[spec.extra], arrays["loss"]
    if n.size < 2 * len(spec.names):
        msg = (f"fit_loss_form({form!r}) needs at least {2 * len(spec.names)} runs (twice its "
               f"{len(spec.names)} constants), got {n.size}: too few points")
        raise ValueError(msg)
    for name, array in (("N", n), ("D", d), (spec.extra, x)):
        if np.unique(array).size < 3:
            msg = (f"{name} takes fewer than 3 distinct values: the data are degenerate and "
                   f"cannot determine the constants that depend on {name}")
            raise ValueError(msg)
    delta = positive_scalar("delta", delta)
    grid = np.array(np.meshgrid(*spec.starts, indexing="ij")).reshape(len(spec.names), -1).T
    if (isinstance(n_starts, bool) or not isinstance(n_starts, (int, np.integer))
            or not 1 <= n_starts <= grid.shape[0]):
        msg = f"n_starts={n_starts!r} is invalid: it must be an integer from 1 to {grid.shape[0]}"
        raise ValueError(msg)
    log_loss = np.log(values)

    def residuals(theta: F64) -> F64:
        with np.errstate(all="ignore"):
            result: F64 = spec.log_loss(theta, n, d, x) - log_loss
        return np.where(np.isfinite(result), result, 1e3)

    from scipy.optimize import least_squares  # type: ignore[import-untyped, unused-ignore]

    with np.errstate(all="ignore"):
        scores = [_huber_rows(spec.log_loss(chunk.T, n, d, x) - log_loss, delta)
                  for chunk in np.array_split(grid, max(1, grid.shape[0] // 2048))]
    ranked = grid[np.argsort(np.concatenate(scores), kind="stable")[:n_starts]]
    best: tuple[F64, float, bool] | None = None
    for start in ranked:
        # Huber regression (loss "huber" with f_scale = delta) by a trust-region method.
        result = least_squares(residuals, start, loss="huber", f_scale=delta,
                               x_scale="jac", ftol=1e-15, xtol=1e-15, gtol=1e-15,
                               max_nfev=20000)
        value = _huber(np.asarray(result.fun, dtype=np.float64), delta)
        if best is None or value < best[1]:
            best = (np.asarray(result.x, dtype=np.float64), value, bool(result.success))
    assert best is not None
    theta, value, converged = best
    constants = {name: float(t) for name, t in zip(spec.names, theta, strict=True)}
    bounds = {name: _range(array) for name, array in (("N", n), ("D", d), (spec.extra, x))}
    try:
        law = spec.build(constants, bounds)
    except (ValueError, OverflowError) as error:
        msg = (f"N, D, {spec.extra} and loss do not determine the law of form={form!r}: its "
               f"best fit has constants the law refuses ({error})")
        raise ValueError(msg) from None
    residual = residuals(theta)
    named = {(name.removeprefix("log_")):
             (math.exp(v) if name.startswith("log_") else v) for name, v in constants.items()}
    return LossFormFit(law=law, constants=named, objective=value,
                       rms_log_residual=float(np.sqrt(np.mean(residual**2))),
                       converged=converged, n_runs=int(n.size))
