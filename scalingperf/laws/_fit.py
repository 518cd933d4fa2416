"""Fitting a user's own runs: Hoffmann et al. 2022's three approaches.

- :func:`fit`: approach 3, the parametric loss fit by Huber regression on log-loss;
- :func:`fit_isoflop`: approach 2, parabolas through isoFLOP profiles;
- :func:`fit_envelope`: approach 1, the envelope of training curves.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt

from . import _kernels
from ._base import (
    F64,
    TOTAL,
    ExtrapolationWarning,
    ParamConvention,
    as_numbers,
    choice,
    counts,
    param_convention,
    positive,
    positive_scalar,
    scalar,
    user_stacklevel,
)
from ._chinchilla import ParametricLaw, PowerLawFrontier
from ._fit_form import LOSS_FORMS, LossFormFit, fit_loss_form

if TYPE_CHECKING:
    from collections.abc import Callable

#: Hoffmann et al. 2022, Appendix D.2: the grid of starting points of L-BFGS,
#: alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1}, a, b in {0, 5, ..., 25}.
PAPER_GRID = {"a": np.arange(0.0, 26.0, 5.0), "b": np.arange(0.0, 26.0, 5.0),
              "e": np.arange(-1.0, 1.01, 0.5), "alpha": np.arange(0.0, 2.01, 0.5),
              "beta": np.arange(0.0, 2.01, 0.5)}
_NAMES = ("E", "A", "B", "alpha", "beta", "a", "b")
#: An exponent counts as determined by the runs when its estimate lies at least this many
#: standard errors above 0 (one-sided, about 97.5 % under a normal approximation).
MIN_T = 2.0


def _lbfgs() -> Callable[..., Any]:
    try:
        from scipy.optimize import minimize  # type: ignore[import-untyped, unused-ignore]
    except ImportError as error:  # pragma: no cover - scipy is installed in the tests
        error.add_note("scalingperf.laws.fit uses SciPy's L-BFGS: pip install scipy")
        raise
    result: Callable[..., Any] = minimize
    return result


def _runs(loss: npt.ArrayLike, **sizes: npt.ArrayLike) -> tuple[F64, F64, F64]:
    """The two count arrays ``sizes`` (in :data:`COUNT_RANGE`) and ``loss`` (> 0) as
    equally long 1-D float64 arrays, or a ValueError naming the argument at fault."""
    arrays = {**{name: counts(name, value) for name, value in sizes.items()},
              "loss": positive("loss", loss)}
    for name, array in arrays.items():
        if array.ndim != 1:
            msg = (f"{name} is invalid: it must be a 1-D array with one entry per run, not of "
                   f"shape {array.shape}")
            raise ValueError(msg)
    lengths = [array.size for array in arrays.values()]
    if len(set(lengths)) > 1:
        msg = (f"{', '.join(arrays)} are invalid together: they must be equally long, one "
               f"entry per run, not of {', '.join(map(str, lengths))} entries")
        raise ValueError(msg)
    x, y = (arrays[name] for name in sizes)
    return x, y, arrays["loss"]


#: Upper bounds on the sizes a caller picks, checked before anything is allocated or run:
#: the paper's FLOP grid has 1,500 budgets, and 100,000 log-spaced ones are finer than
#: any training curve is sampled;
MAX_BUDGETS = 100_000
#: bootstrap percentiles settle long before 10,000 resamples, each a full L-BFGS refit;
MAX_BOOTSTRAP = 10_000
#: and the paper's grid of starting points has 4,500 points (and L-BFGS starts from the
#: ``n_starts`` best of them).
MAX_GRID = 100_000


def _counts(*limits: tuple[str, object, int, int, str]) -> None:
    """Check each ``(name, count, low, high, why)``: ``count`` must be an integer from
    ``low`` to ``high``; ``why`` explains the bound."""
    for name, count, low, high, why in limits:
        if (isinstance(count, bool) or not isinstance(count, (int, np.integer))
                or not low <= count <= high):
            msg = f"{name}={count!r} is invalid: it must be an integer from {low} to {high}{why}"
            raise ValueError(msg)


def _data_range(n: F64, d: F64) -> dict[str, tuple[float, float]]:
    """The ``fitted_range`` of a law fit to the sizes ``n`` and token counts ``d``."""
    return {"N": (float(n.min()), float(n.max())), "D": (float(d.min()), float(d.max()))}


@dataclass(frozen=True)
class ParametricFit:
    """The result of :func:`fit`.

    Attributes
    ----------
    law : ParametricLaw
        The fitted ``E + A / N^alpha + B / D^beta``; its ``fitted_range`` is the data's.
    a, b : float
        Compute-optimal exponents ``N_opt ∝ C^a``, ``D_opt ∝ C^b``.
    ci : dict
        ``(low, high)`` bootstrap percentile interval of each of E, A, B, alpha, beta, a, b
        (empty without bootstrap).
    bootstrap : numpy.ndarray
        One row per bootstrap refit, columns E, A, B, alpha, beta, a, b.
    objective : float
        Sum over runs of the Huber loss of the log-loss residuals at the optimum.
    converged : bool
        Whether L-BFGS reported convergence at the optimum.
    n_runs : int
    """

    law: ParametricLaw
    a: float
    b: float
    ci: dict[str, tuple[float, float]]
    bootstrap: F64 = field(repr=False)
    objective: float
    converged: bool
    n_runs: int


class _Objective:
    """The Huber objective of eq. 3 on fixed data, scaled by 1/delta: with summed (not
    averaged) losses divided by delta the objective is of order one per run, so that
    L-BFGS's relative stopping tests do not end the search early."""

    def __init__(self, n: F64, d: F64, loss: F64, delta: float) -> None:
        self.log_n, self.log_d, self.log_loss = np.log(n), np.log(d), np.log(loss)
        self.delta = delta
        self.grad = np.empty(5)

    def __call__(self, theta: F64) -> tuple[float, F64]:
        value = _kernels.huber_lse(self.log_n, self.log_d, self.log_loss,
                                   np.ascontiguousarray(theta, dtype=np.float64), self.delta,
                                   self.grad)
        return value / self.delta, self.grad / self.delta

    def many(self, thetas: F64) -> F64:
        out = np.empty(thetas.shape[0])
        _kernels.huber_lse_many(self.log_n, self.log_d, self.log_loss,
                                np.ascontiguousarray(thetas, dtype=np.float64), self.delta, out)
        return out / self.delta


def _minimise(objective: _Objective, starts: F64, minimize: Callable[..., Any],
              ) -> tuple[F64, float, bool]:
    best: tuple[F64, float, bool] | None = None
    for start in starts:
        result = minimize(objective, start, jac=True, method="L-BFGS-B",
                          options={"maxiter": 5000, "ftol": 1e-14, "gtol": 1e-9})
        value = float(result.fun)
        if np.isfinite(value) and (best is None or value < best[1]):
            best = (np.asarray(result.x, dtype=np.float64), value, bool(result.success))
    if best is None:  # pragma: no cover - every start diverged
        msg = "fit found no finite optimum from any starting point"
        raise ValueError(msg)
    return best


def _row(theta: F64) -> F64:
    """E, A, B, alpha, beta, a, b at ``theta`` = (a, b, e, alpha, beta); inf where
    e^a, e^b or e^e leave float64, NaN where alpha + beta = 0."""
    a, b, e, alpha, beta = (float(t) for t in theta)
    total = alpha + beta
    with np.errstate(over="ignore"):
        return np.array([np.exp(e), np.exp(a), np.exp(b), alpha, beta,
                         beta / total if total else np.nan, alpha / total if total else np.nan])


def _standard_errors(objective: _Objective, theta: F64) -> F64:
    """Approximate standard errors of (a, b, e, alpha, beta) at ``theta``: least squares'
    ``sigma^2 (J^T J)^-1`` on the log-loss residuals (the Huber fit has no simpler
    estimate), huge or infinite along directions the runs do not constrain."""
    a, b, e, alpha, beta = theta
    log_n, log_d = objective.log_n, objective.log_d
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    top = terms.max(axis=0)
    weights = np.exp(terms - top)
    total = weights.sum(axis=0)
    residuals = top + np.log(total) - objective.log_loss
    weights /= total
    jac = np.column_stack([weights[0], weights[1], weights[2], -weights[0] * log_n,
                           -weights[1] * log_d])
    sigma2 = residuals @ residuals / max(log_n.size - 5, 1)
    # Columns scaled to unit norm for the SVD; a column of zeros (a term that vanishes at
    # every run) leaves its parameters unconstrained.
    scale = np.linalg.norm(jac, axis=0)
    dead = scale == 0
    scale[dead] = 1.0
    _, singular, vt = np.linalg.svd(jac / scale, full_matrices=False)
    singular = np.maximum(singular, singular[0] * 1e-12)
    errors: F64 = np.sqrt(sigma2 * ((vt / singular[:, None]) ** 2).sum(axis=0)) / scale
    errors[dead] = np.inf
    return errors


def _check_determined(objective: _Objective, theta: F64, point: F64) -> None:
    """Refuse a best fit that N, D and loss do not support or determine: a constant
    beyond float64, an exponent <= 0, or one within :data:`MIN_T` standard errors of 0."""
    for name, value, variable in (("alpha", point[3], "N"), ("beta", point[4], "D")):
        if not value > 0:
            msg = (f"N, D and loss do not support the law: its best fit has {name}={value:.3g}, "
                   f"a loss that does not fall as {variable} grows ({name} must be > 0); the "
                   f"data do not determine {name}")
            raise ValueError(msg)
    for name, value in (("A", point[1]), ("B", point[2]), ("E", point[0])):
        if not np.isfinite(value) or (name != "E" and value == 0):
            msg = (f"N, D and loss do not determine {name}: the best fit takes it to {value:.3g}, "
                   "beyond float64")
            raise ValueError(msg)
    errors = _standard_errors(objective, theta)
    for name, value, error in (("alpha", point[3], errors[3]), ("beta", point[4], errors[4])):
        if not value >= MIN_T * error:
            msg = (f"N, D and loss do not determine {name}: the best fit's {name}={value:.3g} "
                   f"has a standard error of {error:.3g}, so it is not {MIN_T:g} standard "
                   "errors above 0; the runs are too few or too noisy for the law, or do not "
                   "follow it")
            raise ValueError(msg)


@overload
def fit(N: npt.ArrayLike, D: npt.ArrayLike, loss: npt.ArrayLike,
        form: Literal["chinchilla"] = "chinchilla", *, delta: float = 1e-3,
        grid: dict[str, npt.ArrayLike] | None = None, n_starts: int = 16,
        n_bootstrap: int = 100, ci: float = 0.8, seed: int | None = 0,
        params_convention: ParamConvention | str = TOTAL) -> ParametricFit: ...
@overload
def fit(N: npt.ArrayLike, D: npt.ArrayLike, loss: npt.ArrayLike,
        form: Literal["ludziejewski", "krajewski", "kumar"], *, delta: float = 1e-3,
        grid: None = None, n_starts: int = 16, n_bootstrap: int = 100, ci: float = 0.8,
        seed: int | None = 0, params_convention: ParamConvention | str = TOTAL,
        **extra: npt.ArrayLike) -> LossFormFit: ...
def fit(N: npt.ArrayLike, D: npt.ArrayLike, loss: npt.ArrayLike,
        form: str = "chinchilla", *, delta: float = 1e-3,
        grid: dict[str, npt.ArrayLike] | None = None, n_starts: int = 16,
        n_bootstrap: int = 100, ci: float = 0.8, seed: int | None = 0,
        params_convention: ParamConvention | str = TOTAL,
        **extra: Any) -> ParametricFit | LossFormFit:
    """Fit ``L = E + A / N^alpha + B / D^beta`` to runs, as Hoffmann et al. 2022 approach 3.

    The objective is eq. 3 of the paper (Appendix D.2): the sum over runs of the Huber
    loss (``delta = 1e-3``) of ``LSE(a - alpha log N, b - beta log D, e) - log L``, with
    ``A = e^a``, ``B = e^b``, ``E = e^e``. It is evaluated by the Cython kernels at every
    point of the paper's grid of initialisations; L-BFGS (SciPy) then starts from the
    ``n_starts`` best of them and the lowest optimum wins. Following Besiroglu et al.
    2024, the losses are summed, not averaged, and the tolerances are tight, so that the
    optimiser does not stop early.

    Confidence intervals: ``n_bootstrap`` refits on runs resampled with replacement, each
    started from the full-data optimum, and their ``(1 - ci) / 2`` and ``(1 + ci) / 2``
    percentiles (the paper reports 80 % intervals).

    Parameters
    ----------
    N, D, loss : array
        One entry per run: parameters and training tokens (from 1 to 1e40) and final
        loss (> 0).
    form : {"chinchilla", "ludziejewski", "krajewski", "kumar"}
        The functional form: Hoffmann et al.'s parametric loss, or a law with one more
        input, passed by keyword (``E=`` experts for Ludziejewski et al. 2025's eq. 6,
        ``G=`` granularities for Krajewski et al. 2024's eq. 9, ``P=`` training bits for
        Kumar et al. 2024's eq. 5). Those three are fitted by :func:`fit_loss_form` with ``delta`` and
        ``n_starts`` and return a :class:`LossFormFit`; the other options are approach
        3's.
    delta : float
        Huber threshold on log-loss residuals.
    grid : dict, optional
        Starting values per parameter name (``a``, ``b``, ``e``, ``alpha``, ``beta``);
        default :data:`PAPER_GRID` (4500 points); at most :data:`MAX_GRID` (100,000)
        points.
    n_starts : int
        L-BFGS runs, from the best grid points (all of them if there are fewer).
    n_bootstrap : int
        Bootstrap refits (0 for none), at most :data:`MAX_BOOTSTRAP` (10,000).
    ci : float
        Central mass of the bootstrap interval, in (0, 1).
    seed : int, optional
        Of the bootstrap resampling (>= 0).
    params_convention : ParamConvention or str
        Which parameters your ``N`` counts (default ``"total"``, as Hoffmann et al.;
        ``"non_embedding"`` as Kaplan et al.): the fitted law's ``params_convention``.

    Returns
    -------
    ParametricFit

    Raises
    ------
    ValueError
        On bad input, fewer than 10 runs, or data that cannot identify the five
        parameters (a single N or D, or D a fixed power of N). Also when the runs do not
        determine the law, naming the constant: the best fit has an exponent <= 0, a
        constant beyond float64, or an exponent within :data:`MIN_T` (2) approximate
        standard errors of 0 (noise, or too few runs); or a bootstrap refit finds no
        finite value of a constant, so that its interval would be infinite or NaN.
    """
    if isinstance(form, str) and form in LOSS_FORMS:
        if grid is not None:
            msg = f"grid is invalid with form={form!r}: it starts from its own (LOSS_FORMS)"
            raise ValueError(msg)
        return fit_loss_form(form, N, D, loss, delta=delta, n_starts=n_starts, **extra)
    choice("form", form, ("chinchilla", *LOSS_FORMS))
    for name in extra:
        msg = f"{name} is invalid with form='chinchilla': it takes N, D and loss only"
        raise ValueError(msg)
    convention = param_convention(params_convention)
    n, d, values = _runs(loss, N=N, D=D)
    delta = positive_scalar("delta", delta)
    if not 0 < scalar("ci", as_numbers("ci", ci)) < 1:
        msg = f"ci={ci!r} is invalid: it must be a number in (0, 1)"
        raise ValueError(msg)
    _counts(("n_starts", n_starts, 1, MAX_GRID, " (the most points a grid may have)"),
            ("n_bootstrap", n_bootstrap, 0, MAX_BOOTSTRAP,
             ": percentiles settle long before, and each resample is a full refit"))
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        msg = f"seed={seed!r} is invalid: it must be None or an integer >= 0"
        raise ValueError(msg)
    _check_identifiable(n, d, values)
    starts_grid = _grid(grid)
    minimize = _lbfgs()
    objective = _Objective(n, d, values, delta)
    ranked = starts_grid[np.argsort(objective.many(starts_grid), kind="stable")[:n_starts]]
    theta, value, converged = _minimise(objective, ranked, minimize)
    point = _row(theta)
    _check_determined(objective, theta, point)
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_bootstrap):
        pick = rng.integers(0, n.size, n.size)
        resampled = _Objective(n[pick], d[pick], values[pick], delta)
        rows.append(_row(_minimise(resampled, theta[None, :], minimize)[0]))
    boot = np.array(rows).reshape(-1, len(_NAMES))
    for name, column in zip(_NAMES, boot.T, strict=True):
        if not np.isfinite(column).all():
            msg = (f"N, D and loss do not determine {name}: {int((~np.isfinite(column)).sum())} "
                   f"of {n_bootstrap} bootstrap refits on resampled runs find no finite {name}")
            raise ValueError(msg)
    intervals: dict[str, tuple[float, float]] = {}
    if n_bootstrap:
        low_q, high_q = np.percentile(boot, [50 * (1 - ci), 50 * (1 + ci)], axis=0)
        intervals = {name: (float(lo), float(hi))
                     for name, lo, hi in zip(_NAMES, low_q, high_q, strict=True)}
    law = ParametricLaw(*(float(x) for x in point[:5]), fitted_range=_data_range(n, d),
                        name="fit", params_convention=convention)
    return ParametricFit(law=law, a=float(point[5]), b=float(point[6]), ci=intervals,
                         bootstrap=boot, objective=value * delta, converged=converged,
                         n_runs=int(n.size))


def _grid(grid: object) -> F64:
    chosen = PAPER_GRID if grid is None else grid
    keys = ("a", "b", "e", "alpha", "beta")
    if not isinstance(chosen, Mapping) or set(chosen) != set(keys):
        names = sorted(map(str, chosen)) if isinstance(chosen, Mapping) else chosen
        msg = f"grid={names!r} is invalid: it must be a dict giving each of {', '.join(keys)}"
        raise ValueError(msg)
    axes = []
    for key in keys:
        axis = np.atleast_1d(as_numbers(f"grid[{key!r}]", chosen[key]))
        if axis.ndim != 1 or axis.size == 0 or not np.isfinite(axis).all():
            msg = f"grid[{key!r}] is invalid: it must be a non-empty 1-D array of finite numbers"
            raise ValueError(msg)
        axes.append(axis)
    points = math.prod(axis.size for axis in axes)
    if points > MAX_GRID:
        msg = (f"grid is invalid: it has {points} points, more than {MAX_GRID} (the paper's "
               "has 4,500)")
        raise ValueError(msg)
    return np.array(list(itertools.product(*axes)), dtype=np.float64)


def _check_identifiable(n: F64, d: F64, values: F64) -> None:
    if n.size < 10:
        msg = (f"fit needs at least 10 runs (entries of N, D and loss) to estimate 5 "
               f"parameters, got {n.size}: too few points")
        raise ValueError(msg)
    for name, array in (("N", n), ("D", d)):
        if np.unique(array).size < 3:
            msg = (f"{name} takes fewer than 3 distinct values: the data are degenerate and "
                   f"cannot identify the {'alpha' if name == 'N' else 'beta'} exponent")
            raise ValueError(msg)
    if np.ptp(values) == 0:
        msg = "loss is the same for every run: the data are degenerate"
        raise ValueError(msg)
    log_n, log_d = np.log(n), np.log(d)
    design = np.column_stack([np.ones_like(log_n), log_n - log_n.mean(), log_d - log_d.mean()])
    singular = np.linalg.svd(design / np.linalg.norm(design, axis=0), compute_uv=False)
    if singular[-1] < 1e-6 * singular[0]:
        msg = ("log D is a linear function of log N (e.g. a fixed tokens-per-parameter "
               "ratio): the data are degenerate and cannot tell alpha from beta")
        raise ValueError(msg)


@dataclass(frozen=True)
class FrontierFit:
    """The result of :func:`fit_isoflop` and :func:`fit_envelope`.

    Attributes
    ----------
    law : PowerLawFrontier
        ``N_opt = n_coeff C^a``, ``D_opt = d_coeff C^b``.
    a, b : float
        The exponents.
    budgets, n_opt, d_opt, loss_opt : numpy.ndarray
        The optima the power laws were fit to: per isoFLOP budget (approach 2), or per
        point of the FLOP grid (approach 1).
    """

    law: PowerLawFrontier
    a: float
    b: float
    budgets: F64 = field(repr=False)
    n_opt: F64 = field(repr=False)
    d_opt: F64 = field(repr=False)
    loss_opt: F64 = field(repr=False)


def _frontier(budgets: F64, n_opt: F64, loss_opt: F64, name: str,
              convention: ParamConvention) -> FrontierFit:
    """Power laws through the optima ``n_opt`` at ``budgets``, with ``D_opt = C / (6
    N_opt)``."""
    d_opt = budgets / (6.0 * n_opt)
    log_c = np.log(budgets)
    slope_n, icept_n = np.polyfit(log_c, np.log(n_opt), 1)
    slope_d, icept_d = np.polyfit(log_c, np.log(d_opt), 1)
    if not (slope_n > 0 and slope_d > 0 and np.ptp(n_opt) > 0):
        msg = (f"{name}: the optimal N or D does not grow with compute (exponents "
               f"{slope_n:.3g}, {slope_d:.3g}): the data are degenerate")
        raise ValueError(msg)
    with np.errstate(over="ignore", under="ignore"):
        n_coeff, d_coeff = float(np.exp(icept_n)), float(np.exp(icept_d))
    for coeff, value, log in (("n_coeff", n_coeff, icept_n), ("d_coeff", d_coeff, icept_d)):
        if not 0 < value < math.inf:
            msg = (f"{name}: the power law through the optima has {coeff}=e^{log:.4g}, beyond "
                   "float64: the data do not determine N_opt(C) and D_opt(C)")
            raise ValueError(msg)
    law = PowerLawFrontier(n_coeff, float(slope_n), d_coeff, float(slope_d),
                           fitted_range=_data_range(n_opt, d_opt), name=name,
                           params_convention=convention)
    return FrontierFit(law=law, a=float(slope_n), b=float(slope_d), budgets=budgets,
                       n_opt=n_opt, d_opt=d_opt, loss_opt=loss_opt)


def fit_isoflop(C: npt.ArrayLike, N: npt.ArrayLike, loss: npt.ArrayLike, *,
                params_convention: ParamConvention | str = TOTAL) -> FrontierFit:
    """Hoffmann et al. 2022 approach 2: a parabola in ``log N`` through each isoFLOP
    profile, and power laws through the minima.

    Runs are grouped by budget ``C`` (equal values). For each budget the loss is fit by
    ``p log(N)^2 + q log(N) + r``; its vertex is ``N_opt(C)``, and ``D_opt(C) = C / (6
    N_opt)``. ``N_opt ∝ C^a`` and ``D_opt ∝ C^b`` are then least-squares lines in log-log
    (``a + b = 1``). A vertex outside the sampled sizes of its budget warns with
    :class:`ExtrapolationWarning`.

    Parameters
    ----------
    C, N, loss : array
        One entry per run: training FLOPs, parameters and final loss.
    params_convention : ParamConvention or str
        Which parameters your ``N`` counts (default ``"total"``, as Hoffmann et al.;
        ``"non_embedding"`` as Kaplan et al.): the fitted law's ``params_convention``.

    Returns
    -------
    FrontierFit

    Raises
    ------
    ValueError
        On bad input, fewer than 2 budgets, a budget with fewer than 3 sizes, or a
        profile that is not convex.
    """
    convention = param_convention(params_convention)
    c, n, values = _runs(loss, C=C, N=N)
    keys = np.round(np.log(c), 9)
    budgets = np.unique(keys)
    if budgets.size < 2:
        msg = (f"fit_isoflop needs at least 2 compute budgets (distinct values of C), got "
               f"{budgets.size}: too few points")
        raise ValueError(msg)
    n_opt, loss_opt, exact = [], [], []
    for key in budgets:
        mask = keys == key
        budget = float(c[mask][0])
        log_n = np.log(n[mask])
        if np.unique(log_n).size < 3:
            msg = (f"the isoFLOP profile at C={budget:.3g} has {np.unique(log_n).size} distinct "
                   "model sizes; a parabola needs at least 3: too few points")
            raise ValueError(msg)
        # The parabola in u = (log N - centre) / half, which spans [-1, 1]: well
        # conditioned however close together the sizes are.
        centre, half = (log_n.max() + log_n.min()) / 2, (log_n.max() - log_n.min()) / 2
        u = (log_n - centre) / half
        (p, q, r), _, rank, _ = np.linalg.lstsq(np.column_stack([u * u, u, np.ones_like(u)]),
                                                values[mask], rcond=None)
        if rank < 3:
            msg = (f"the isoFLOP profile at C={budget:.3g} has model sizes too close together "
                   "(in N) to fit a parabola")
            raise ValueError(msg)
        if not p > 0:
            msg = (f"the isoFLOP profile at C={budget:.3g} is not convex in log N (curvature "
                   f"{p / half**2:.3g}): it has no minimum; the data are degenerate")
            raise ValueError(msg)
        vertex, least = centre - half * q / (2 * p), r - q * q / (4 * p)
        if not 0 <= vertex <= math.log(budget / 6) or not least > 0:
            msg = (f"the isoFLOP profile at C={budget:.3g} has its minimum at N=10^"
                   f"{vertex / math.log(10):.3g} and loss={least:.3g}, where N or D = C / (6 N) "
                   "is below 1 or the loss is not > 0: N and loss do not determine the optimum "
                   "there")
            raise ValueError(msg)
        if not log_n.min() <= vertex <= log_n.max():
            msg = (f"fit_isoflop: the minimum of the profile at C={budget:.3g} lies at "
                   f"N={np.exp(vertex):.3g}, outside the sampled sizes {np.exp(log_n.min()):.3g}"
                   f" to {np.exp(log_n.max()):.3g}; sample around it")
            warnings.warn(msg, ExtrapolationWarning, stacklevel=user_stacklevel())
        n_opt.append(np.exp(vertex))
        loss_opt.append(least)
        exact.append(budget)
    return _frontier(np.array(exact), np.array(n_opt), np.array(loss_opt), "fit_isoflop",
                     convention)


def fit_envelope(N: npt.ArrayLike, D: npt.ArrayLike, loss: npt.ArrayLike, *,
                 runs: npt.ArrayLike | None = None, n_budgets: int = 1500,
                 min_runs: int = 2,
                 params_convention: ParamConvention | str = TOTAL) -> FrontierFit:
    """Hoffmann et al. 2022 approach 1: the envelope of training curves.

    Each checkpoint of each run is a point ``(C = 6 N D, loss)``. Each run's curve is
    interpolated linearly in ``log C``; at ``n_budgets`` log-spaced budgets the run of
    least loss gives ``N_opt(C)``, with ``D_opt(C) = C / (6 N_opt)``; power laws are
    fit through them in log-log. Only budgets reached by at least ``min_runs`` runs
    count, and so do only budgets where a run other than the smallest or the largest
    wins (elsewhere the optimum may lie beyond the sizes trained).

    Parameters
    ----------
    N, D, loss : array
        One entry per checkpoint: parameters, tokens seen so far, and loss.
    runs : array, optional
        Run label per checkpoint (default: runs are told apart by ``N``).
    n_budgets : int
        FLOP values on the grid (the paper uses 1500), at most :data:`MAX_BUDGETS`
        (100,000: finer than any training curve is sampled).
    min_runs : int
        Budgets covered by fewer runs are left out (at most the number of runs).
    params_convention : ParamConvention or str
        Which parameters your ``N`` counts (default ``"total"``, as Hoffmann et al.;
        ``"non_embedding"`` as Kaplan et al.): the fitted law's ``params_convention``.

    Returns
    -------
    FrontierFit

    Raises
    ------
    ValueError
        On bad input, fewer than 2 runs, a run with a single checkpoint, or an envelope
        that never changes run.
    """
    convention = param_convention(params_convention)
    n, d, values = _runs(loss, N=N, D=D)
    labels = n if runs is None else _labels(runs, n.shape)
    _counts(("n_budgets", n_budgets, 2, MAX_BUDGETS, ": finer than any training curve"))
    names = np.unique(labels)
    if names.size < 2:
        msg = (f"fit_envelope needs at least 2 runs, got {names.size} (distinct labels in runs, "
               "or values of N without runs): too few points")
        raise ValueError(msg)
    _counts(("min_runs", min_runs, 1, names.size, " (the number of runs)"))
    log_c = np.log(6.0 * n * d)
    grid = np.linspace(log_c.min(), log_c.max(), n_budgets)
    # The envelope, one run at a time: its least loss at each budget, the size of the run
    # that reaches it (the first in label order on ties) and how many runs reach it.
    least = np.full(n_budgets, np.inf)
    winner = np.zeros(n_budgets)
    reached = np.zeros(n_budgets, dtype=np.int64)
    sizes = np.empty(names.size)
    for i, name in enumerate(names):
        mask = labels == name
        if np.unique(n[mask]).size != 1:
            msg = f"run {name.item()!r} has checkpoints with different N"
            raise ValueError(msg)
        order = np.argsort(log_c[mask], kind="stable")
        x, y = log_c[mask][order], values[mask][order]
        if np.unique(x).size < 2:
            msg = (f"run {name.item()!r} has a single checkpoint (one value of 6 N D); a "
                   "training curve needs at least 2")
            raise ValueError(msg)
        sizes[i] = n[mask][0]
        inside = np.flatnonzero((grid >= x[0]) & (grid <= x[-1]))
        curve = np.interp(grid[inside], x, y)
        reached[inside] += 1
        lower = curve < least[inside]
        least[inside[lower]] = curve[lower]
        winner[inside[lower]] = sizes[i]
    covered = reached >= min_runs
    if covered.sum() < 2:
        msg = (f"fewer than 2 budgets 6 N D are reached by min_runs={min_runs} runs: too few "
               "points")
        raise ValueError(msg)
    best = winner[covered]
    # Where the smallest or the largest run wins, the optimum may lie beyond it: such
    # budgets are censored and left out.
    interior = (best > sizes.min()) & (best < sizes.max())
    if interior.sum() < 2 or np.unique(best[interior]).size < 2:
        msg = ("the envelope of N, D and loss is the smallest or the largest run, or the same "
               "run, at every budget: the runs do not bracket the compute-optimal size; the "
               "data are degenerate")
        raise ValueError(msg)
    budgets = np.exp(grid[covered][interior])
    return _frontier(budgets, best[interior], least[covered][interior], "fit_envelope",
                     convention)


def _labels(runs: object, shape: tuple[int, ...]) -> npt.NDArray[Any]:
    """``runs`` as an array of one label (integer, string or finite number) per
    checkpoint, or a ValueError naming it."""
    try:
        labels = np.asarray(runs)
    except (ValueError, TypeError):
        labels = np.asarray(None)
    if labels.dtype.kind not in "iuUSf" or (labels.dtype.kind == "f"
                                            and not np.isfinite(labels).all()):
        msg = (f"runs is invalid: its labels must be integers, strings or finite numbers, "
               f"not {labels.dtype}")
        raise ValueError(msg)
    if labels.shape != shape:
        msg = f"runs is invalid: it must have one label per checkpoint, {labels.shape} against {shape}"
        raise ValueError(msg)
    return labels
