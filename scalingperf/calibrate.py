"""Fitting the time model's efficiencies to measured step times: ``calibrate()``.

The model's step time depends on a handful of achieved fractions of the device's peaks
(:class:`Efficiency`). Given step times measured on one cluster, :func:`calibrate` finds
the fractions that make the model reproduce them: a bounded least-squares fit of
``log(predicted / measured)`` over the runs, starting from the device's default. Fields
the runs cannot tell apart (no run depends on them, or they only ever move together with
another field) are left at the device's default and reported as undetermined, rather than
given an arbitrary value.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike, fspath
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _core, _validate
from ._format import duration, table
from .architecture import Architecture
from .devices import _EFFICIENCY_FIELDS, Hardware, get_hardware
from .estimate import Efficiency, estimate

#: Efficiency fields calibrate() can fit (``tile`` is an integer, not a fraction).
FITTABLE = ("matmul", "attention", "memory", "network", "dp_overlap", "tp_overlap")
#: Fields fitted as they are (0 allowed), not as logarithms.
_OVERLAPS = ("dp_overlap", "tp_overlap")
#: The default fields to fit.
DEFAULT_FIT = ("matmul", "attention", "network", "dp_overlap")
#: Largest |relative error| a run may keep after the fit before the runs are called
#: inconsistent with one set of efficiencies.
INCONSISTENT = 0.5
#: The log step-time residual beyond which a run counts less in the fit (SciPy's soft-L1
#: loss): a run from another cluster, or a typo, then stands out instead of pulling every
#: efficiency its way. 0.05: about the run-to-run spread of a well-kept cluster.
ROBUST_SCALE = 0.05
#: A field is undetermined when, across the runs, the RMS change of log(step time) per unit
#: change of the field (per e-fold for the fractions, per unit for the overlaps) that no other
#: fitted field can reproduce is below this.
SENSITIVITY = 1e-3

_LOWER = {"matmul": 1e-3, "attention": 1e-3, "memory": 1e-3, "network": 1e-3, "dp_overlap": 0.0,
          "tp_overlap": 0.0}
_UPPER = 1.0
_Vector = Sequence[float] | npt.NDArray[np.float64]
_ARCH_TYPES = {f.name: f.type for f in dataclasses.fields(Architecture)
               if f.init and f.name != "name"}
_ARCH_FIELDS = tuple(_ARCH_TYPES)
_INTEGER_OPTIONS = ("batch", "seq_len", "tp", "cp", "pp", "dp", "ep", "zero", "microbatches",
                    "interleave", "offload_layers")
_FLAG_OPTIONS = ("flash_attention", "dropout", "sequence_parallel", "fused_elementwise",
                 "fp32_gradients")
_TEXT_OPTIONS = ("dtype", "recompute", "implementation", "optimizer")
_OPTIONS = (*_INTEGER_OPTIONS, *_FLAG_OPTIONS, *_TEXT_OPTIONS)
_ARCH_INTEGERS = tuple(n for n, t in _ARCH_TYPES.items() if t in ("int", "int | None"))
_ARCH_FLAGS = tuple(n for n, t in _ARCH_TYPES.items() if t == "bool")
_LABELS = ("name", "id")
_KNOWN = ("model", "arch", "step_time", "hardware", *_LABELS, *_OPTIONS, *_ARCH_FIELDS)


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class CalibratedRun:
    """One measured run: its step time, and what the model predicts before (the device's
    default efficiency) and after the fit. Errors are signed, ``(predicted - measured) /
    measured``."""

    label: str
    measured: float
    predicted_before: float
    predicted: float

    @property
    def error_before(self) -> float:
        """Relative error with the device's default efficiency."""
        return self.predicted_before / self.measured - 1

    @property
    def error(self) -> float:
        """Relative error with the calibrated efficiency."""
        return self.predicted / self.measured - 1

    def to_dict(self) -> dict[str, Any]:
        """The run as plain values."""
        return {"run": self.label, "measured": self.measured,
                "predicted_before": self.predicted_before, "error_before": self.error_before,
                "predicted": self.predicted, "error": self.error}


def _mean_abs(errors: Iterable[float]) -> float:
    """Mean |relative error| of the runs."""
    return float(np.mean([abs(e) for e in errors]))


@dataclass(frozen=True)
class Calibration:
    """What :func:`calibrate` found.

    Attributes
    ----------
    efficiency : Efficiency
        The calibrated fractions: pass as ``estimate(..., efficiency=...)``.
    hardware : Hardware
        The device with ``efficiency`` as its default (``hardware=`` anywhere a device goes).
    default : Efficiency
        The device's default, where the fit started.
    fields : tuple of str
        The fields asked for.
    fitted : dict
        The fields the runs determine, with their fitted values.
    undetermined : dict
        Field: why the runs do not determine it. Those fields keep the device's default
        (``attention`` follows ``matmul`` when the device has no attention value of its own).
    uncertainty : dict
        Approximate standard error of each fitted value, from the residual scatter (0 when
        the runs are reproduced exactly, or when there are no degrees of freedom left).
    runs : tuple of CalibratedRun
        Each run's measured and predicted step time, before and after.
    """

    efficiency: Efficiency
    hardware: Hardware
    default: _core.Efficiency
    fields: tuple[str, ...]
    fitted: Mapping[str, float]
    undetermined: Mapping[str, str]
    uncertainty: Mapping[str, float]
    runs: tuple[CalibratedRun, ...]

    @property
    def mean_abs_error(self) -> float:
        """Mean |relative error| after the fit."""
        return _mean_abs(r.error for r in self.runs)

    @property
    def max_abs_error(self) -> float:
        """Largest |relative error| after the fit."""
        return max(abs(r.error) for r in self.runs)

    @property
    def mean_abs_error_before(self) -> float:
        """Mean |relative error| with the device's default efficiency."""
        return _mean_abs(r.error_before for r in self.runs)

    @property
    def max_abs_error_before(self) -> float:
        """Largest |relative error| with the device's default efficiency."""
        return max(abs(r.error_before) for r in self.runs)

    def to_pandas(self) -> Any:
        """The runs as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame([r.to_dict() for r in self.runs])

    def __str__(self) -> str:
        title = (f"Calibration of {self.hardware.name} on {len(self.runs)} runs: |error| mean "
                 f"{self.mean_abs_error_before:.1%} -> {self.mean_abs_error:.1%}, max "
                 f"{self.max_abs_error_before:.1%} -> {self.max_abs_error:.1%}")
        rows = []
        for name in self.fields:
            after = getattr(self.efficiency, name)
            if name in self.fitted:
                note = f"+/- {self.uncertainty[name]:.4f}"
                note += " (at its bound)" if after in (_LOWER[name], _UPPER) else ""
            else:
                note = "undetermined"
            rows.append([name, f"{getattr(self.default, name):.4g}", f"{after:.4g}", note])
        fields = table(["field", "default", "calibrated", "std. error"], rows, left=1)
        fields += "".join(f"\n{name}: undetermined, kept at the default: {why}"
                          for name, why in self.undetermined.items())
        body = [[r.label, duration(r.measured), duration(r.predicted_before),
                 f"{r.error_before:+.1%}", duration(r.predicted), f"{r.error:+.1%}"]
                for r in self.runs]
        runs = table(["run", "measured", "default", "error", "calibrated", "error"], body,
                     left=1)
        return f"{title}\n\n{fields}\n\n{runs}"

    def __repr__(self) -> str:
        fitted = ", ".join(f"{k}={v:.4g}" for k, v in self.fitted.items())
        undetermined = ", ".join(self.undetermined)
        return (f"Calibration({self.hardware.name}, {len(self.runs)} runs, fitted: {fitted or '-'}"
                f"; undetermined: {undetermined or '-'}; mean |error| "
                f"{self.mean_abs_error_before:.1%} -> {self.mean_abs_error:.1%})")


# --------------------------------------------------------------------------- reading runs
def _absent(value: Any) -> bool:
    """None, NaN, pandas' NA or an empty CSV cell: the field is not given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _records(runs: Any) -> tuple[list[Mapping[str, Any]], bool]:
    """The runs as mappings, and whether their values are CSV text."""
    if isinstance(runs, (str, PathLike)):
        name = fspath(runs)
        try:
            with open(name, newline="", encoding="utf-8-sig") as file:
                return list(csv.DictReader(file)), True
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            msg = f"runs={name!r} is invalid: cannot read it as CSV ({error})"
            raise ValueError(msg) from None
    if hasattr(runs, "to_dict") and hasattr(runs, "columns"):  # a pandas DataFrame
        return list(runs.to_dict("records")), False
    if isinstance(runs, Mapping) or not isinstance(runs, Iterable):
        msg = (f"runs={runs!r} is invalid: give a list of dicts, a pandas DataFrame or the "
               "path of a CSV file")
        raise ValueError(msg)
    records = list(runs)
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            msg = f"run {i} is invalid: {record!r} is not a dict of the run's fields"
            raise ValueError(msg)
    return records, False


def _from_text(field: str, text: str) -> Any:
    """A CSV cell as the type ``field`` takes (the validators then name a bad value)."""
    text = text.strip()
    if field in (*_INTEGER_OPTIONS, *_ARCH_INTEGERS):
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return text
    if field in (*_FLAG_OPTIONS, *_ARCH_FLAGS):
        flags = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        return flags.get(text.lower(), text)
    if field in ("step_time", "capacity_factor"):
        try:
            return float(text)
        except ValueError:
            return text
    if field == "dense_layers":
        parts = text.strip("[]()").replace(";", " ").replace(",", " ").split()
        try:
            return tuple(int(p) for p in parts)
        except ValueError:
            return text
    return text


@dataclass(frozen=True)
class _Run:
    label: str
    arch: Architecture
    options: dict[str, Any]
    measured: float


class _Invalid(Exception):
    """Why one run is refused (re-raised as a ValueError naming the run)."""


def _run(i: int, record: Mapping[str, Any], text: bool, device: Hardware) -> _Run:
    values = {str(k): (_from_text(str(k), v) if text and isinstance(v, str) else v)
              for k, v in record.items() if not _absent(v)}
    if isinstance(record.get("step_time"), float):  # NaN is a bad value here, not a gap
        values["step_time"] = record["step_time"]
    name = values.get("name", values.get("id"))
    label = f"run {i}" + (f" ({name})" if name is not None else "")
    try:
        arch, options, measured = _parse(values, device)
    except _Invalid as reason:
        msg = f"{label} is invalid: {reason}"
        raise ValueError(msg) from None
    return _Run(label, arch, options, measured)


def _parse(values: Mapping[str, Any], device: Hardware
           ) -> tuple[Architecture, dict[str, Any], float]:
    """The run's architecture, estimate() options and measured step time, or _Invalid."""
    unknown = [k for k in values if k not in _KNOWN]
    if unknown:
        msg = (f"unknown fields {', '.join(map(repr, unknown))} (a run gives model or the "
               "architecture's fields, batch, seq_len, the layout and step_time)")
        raise _Invalid(msg)
    if "step_time" not in values:
        msg = "step_time (the measured seconds per step) is missing"
        raise _Invalid(msg)
    try:
        measured = _validate.real("step_time", values["step_time"])
    except ValueError as error:
        raise _Invalid(str(error)) from None
    if measured <= 0:
        msg = f"step_time={measured!r} must be > 0 seconds"
        raise _Invalid(msg)
    if "hardware" in values:
        try:
            same = get_hardware(values["hardware"]) == device
        except ValueError as error:
            raise _Invalid(str(error)) from None
        if not same:
            msg = (f"hardware={values['hardware']!r} is not the device calibrated, "
                   f"{device.name!r}: calibrate each device on its own runs")
            raise _Invalid(msg)
    for field in ("batch", "seq_len"):
        if field not in values:
            msg = f"{field} is missing"
            raise _Invalid(msg)
    fields = {k: v for k, v in values.items() if k in _ARCH_FIELDS}
    given = values.get("arch")
    if given is not None and not isinstance(given, Architecture):
        msg = f"arch={given!r} must be a scalingperf.Architecture"
        raise _Invalid(msg)
    model = values.get("model")
    if model is not None and not isinstance(model, str):
        msg = f"model={model!r} must be a preset name"
        raise _Invalid(msg)
    if given is None and model is None and "d_model" not in fields:
        msg = ("give model (a preset name) or the architecture's fields (d_model, n_layers, "
               "n_heads, ...)")
        raise _Invalid(msg)
    options = {k: v for k, v in values.items() if k in _OPTIONS}
    try:
        if given is None and model is None:
            arch = Architecture(**fields)
        else:
            arch = given if given is not None else Architecture.preset(str(model))
            arch = arch.replace(**fields) if fields else arch
        estimate(arch, hardware=device, **options)
    except (ValueError, TypeError) as error:
        msg = f"the model cannot express it: {error}"
        raise _Invalid(msg) from None
    return arch, options, measured


# ------------------------------------------------------------------------------- fitting
class _Model:
    """Step times of the runs as a function of the free fields, in fit coordinates:
    log(value) for the fractions, the value itself for the overlaps."""

    def __init__(self, runs: Sequence[_Run], device: Hardware, base: dict[str, Any],
                 tied_attention: bool) -> None:
        self.runs = runs
        self.device = device
        self.base = base
        self.tied_attention = tied_attention
        self.measured = np.array([r.measured for r in runs])

    @staticmethod
    def to_u(name: str, value: float) -> float:
        return value if name in _OVERLAPS else math.log(value)

    @staticmethod
    def from_u(name: str, u: float) -> float:
        value = u if name in _OVERLAPS else math.exp(u)
        return min(max(value, _LOWER[name]), _UPPER)

    @staticmethod
    def bounds(free: Sequence[str]) -> tuple[list[float], list[float]]:
        lower = [_Model.to_u(n, _LOWER[n]) for n in free]
        return lower, [_Model.to_u(n, _UPPER) for n in free]

    def efficiency(self, free: Sequence[str], u: _Vector) -> Efficiency:
        values: dict[str, Any] = dict(self.base)
        values.update({n: self.from_u(n, float(x)) for n, x in zip(free, u, strict=True)})
        if self.tied_attention:
            values["attention"] = values["matmul"]
        return Efficiency(**values)

    def predict(self, efficiency: _core.Efficiency) -> npt.NDArray[np.float64]:
        return np.array([estimate(r.arch, hardware=self.device, efficiency=efficiency,
                                  **r.options).time.step for r in self.runs])

    def residuals(self, free: Sequence[str], u: _Vector) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.float64] = np.log(self.predict(self.efficiency(free, u))
                                              / self.measured)
        return out

    def jacobian(self, free: Sequence[str], u: _Vector) -> npt.NDArray[np.float64]:
        """d log(step) / d u by one-sided differences stepping inside the bounds."""
        u = np.asarray(u, dtype=float)
        lower, upper = self.bounds(free)
        r0 = self.residuals(free, u)
        columns = []
        for j in range(len(free)):
            step = 1e-6 if u[j] + 1e-6 <= upper[j] else -1e-6
            if not lower[j] <= u[j] + step <= upper[j]:  # pragma: no cover - bounds are wide
                step = -step
            shifted = u.copy()
            shifted[j] += step
            columns.append((self.residuals(free, shifted) - r0) / step)
        return np.column_stack(columns) if columns else np.zeros((len(r0), 0))


def _undetermined(free: Sequence[str], jac: npt.NDArray[np.float64]) -> dict[str, str]:
    """The free fields (taken in order) whose column adds no direction to those before it."""
    kept: list[int] = []
    out: dict[str, str] = {}
    n = jac.shape[0]
    for j, name in enumerate(free):
        column = jac[:, j]
        if np.linalg.norm(column) / math.sqrt(n) < SENSITIVITY:
            out[name] = "no run's step time depends on it"
            continue
        if kept:
            basis = jac[:, kept]
            coef = np.linalg.lstsq(basis, column, rcond=None)[0]
            if np.linalg.norm(column - basis @ coef) / math.sqrt(n) < SENSITIVITY:
                weight = np.abs(coef) * np.linalg.norm(basis, axis=0)
                alike = [free[k] for k, w in zip(kept, weight, strict=True)
                         if w > 1e-3 * np.linalg.norm(column)]
                others = " and ".join(alike)
                out[name] = (f"the runs' step times change with it only as they do with "
                             f"{others}, so the runs cannot tell it apart from {others}")
                continue
        kept.append(j)
    return out


def _least_squares() -> Any:
    try:
        from scipy.optimize import least_squares  # type: ignore[import-untyped, unused-ignore]
    except ImportError as error:  # pragma: no cover - scipy is installed in the tests
        error.add_note("scalingperf.calibrate uses SciPy's least_squares: "
                       'pip install scipy (or pip install "scalingperf[fit]")')
        raise
    return least_squares


def _kept(efficiency: _core.Efficiency) -> dict[str, Any]:
    """The Efficiency fields a calibration carries over as they are (every one not fitted)."""
    return {n: getattr(efficiency, n) for n in _EFFICIENCY_FIELDS if n not in FITTABLE}


def calibrate(runs: Any, hardware: str | Hardware | Mapping[str, Any] | PathLike[str],
              fit: Iterable[str] = DEFAULT_FIT) -> Calibration:
    """Fit the device's efficiencies to measured step times.

    Parameters
    ----------
    runs : list of dict, pandas DataFrame or CSV path
        One record per measured run: the architecture (``model``, a preset name, and/or
        the fields of :class:`Architecture`; from Python also ``arch``, an Architecture),
        ``batch``, ``seq_len``, the layout as :func:`estimate` takes it (``tp``, ``pp``,
        ``dp``, ``ep``, ``zero``, ``microbatches``, ``recompute``, ``sequence_parallel``,
        ``dtype``, ...), and ``step_time``, the measured seconds per step. Optional
        ``name`` or ``id`` label the run; ``hardware``, if given, must be the device
        calibrated. Empty cells, None and NaN mean "not given".
    hardware : str, Hardware, dict or path
        The device the runs were measured on (required: a calibration is of one device).
    fit : iterable of str
        The :class:`Efficiency` fields to fit, among matmul, attention, memory, network and
        dp_overlap; the others keep the device's default. Listed first, first determined:
        when two fields always move together, the later one is reported undetermined.

    Returns
    -------
    Calibration

    Raises
    ------
    ValueError
        An unknown field in ``fit``; fewer runs than fitted fields + 1; a run without a
        finite, positive ``step_time``, or one the model cannot express (naming the run
        and why); runs that no single set of efficiencies brings within 50 % of every
        measurement (listing the worst).
    ImportError
        Without SciPy (``pip install "scalingperf[fit]"``).
    """
    if isinstance(fit, str):
        fit = (fit,)
    fields = tuple(fit)
    for name in fields:
        if name not in FITTABLE:
            why = " (an integer, not a fraction)" if name == "tile" else ""
            msg = (f"fit={fields!r} is invalid: {name!r} is not a fittable Efficiency field"
                   f"{why}; choose among {', '.join(FITTABLE)}")
            raise ValueError(msg)
    if len(set(fields)) != len(fields):
        msg = f"fit={fields!r} is invalid: a field is listed twice"
        raise ValueError(msg)
    device = get_hardware(hardware)
    records, text = _records(runs)
    if len(records) < len(fields) + 1:
        msg = (f"runs is invalid: {len(records)} runs cannot fit {len(fields)} fields "
               f"({', '.join(fields)}); give at least {len(fields) + 1}")
        raise ValueError(msg)
    parsed = [_run(i, record, text, device) for i, record in enumerate(records)]
    least_squares = _least_squares()

    default = device.default_efficiency
    base: dict[str, Any] = {n: float(getattr(default, n)) for n in FITTABLE} | _kept(default)
    explicit_attention = device.efficiency is not None and "attention" in device.efficiency
    model = _Model(parsed, device, base, tied_attention=False)
    before = model.predict(default)

    undetermined: dict[str, str] = {}
    free = list(fields)
    while True:  # each pass drops a field or ends
        model.tied_attention = "attention" not in free and not explicit_attention
        u0 = [model.to_u(n, base[n]) for n in free]
        lost = _undetermined(free, model.jacobian(free, u0))
        if lost:
            undetermined.update(lost)
            free = [n for n in free if n not in lost]
            continue
        if not free:
            u = np.zeros(0)
            break
        lower, upper = model.bounds(free)
        names = tuple(free)
        result = least_squares(lambda x, names=names: model.residuals(names, x), u0, bounds=(lower, upper),
                               method="trf", loss="soft_l1", f_scale=ROBUST_SCALE,
                               ftol=1e-12, xtol=1e-12, gtol=1e-12,
                               max_nfev=200 * (len(free) + 1))
        u = result.x
        lost = _undetermined(free, model.jacobian(free, u))
        if not lost:
            break
        undetermined.update(lost)
        free = [n for n in free if n not in lost]

    efficiency = model.efficiency(free, u)
    after = model.predict(efficiency)
    rows = tuple(CalibratedRun(r.label, r.measured, float(b), float(a))
                 for r, b, a in zip(parsed, before, after, strict=True))
    _check_consistent(rows, free)
    uncertainty = _uncertainty(model, free, u)
    calibrated = {n: float(getattr(efficiency, n)) for n in FITTABLE}
    fitted = {n: calibrated[n] for n in free}
    source = (f"scalingperf.calibrate on {len(rows)} measured runs: fitted "
              f"{', '.join(free) or 'nothing'} (mean |error| "
              f"{_mean_abs(r.error for r in rows):.1%}); "
              f"the rest from {device.name}'s default")
    device_out = dataclasses.replace(
        device, efficiency={**calibrated, **_kept(efficiency), "source": source})
    return Calibration(efficiency=efficiency, hardware=device_out, default=default,
                       fields=fields, fitted=fitted,
                       undetermined={n: undetermined[n] for n in fields if n in undetermined},
                       uncertainty=uncertainty, runs=rows)


def _check_consistent(rows: Sequence[CalibratedRun], free: Sequence[str]) -> None:
    worst = sorted(rows, key=lambda r: -abs(r.error))
    if abs(worst[0].error) <= INCONSISTENT:
        return
    listed = "; ".join(f"{r.label}: predicted {duration(r.predicted)}, measured "
                       f"{duration(r.measured)} ({r.error:+.0%})"
                       for r in worst[:3] if abs(r.error) > INCONSISTENT)
    msg = (f"runs are inconsistent with one set of efficiencies: after fitting "
           f"{', '.join(free) or 'nothing'} some runs are still more than "
           f"{INCONSISTENT:.0%} off (worst: {listed}); check their layout and step_time, or "
           "calibrate them apart")
    raise ValueError(msg)


def _uncertainty(model: _Model, free: Sequence[str], u: npt.NDArray[np.float64]
                 ) -> dict[str, float]:
    """Standard errors of the fitted values from the residual scatter, linearised."""
    if not free:
        return {}
    r = model.residuals(free, u)
    dof = len(r) - len(free)
    if dof <= 0:
        return dict.fromkeys(free, 0.0)
    jac = model.jacobian(free, u)
    sigma2 = float(r @ r) / dof
    try:
        cov = np.linalg.inv(jac.T @ jac) * sigma2
    except np.linalg.LinAlgError:  # pragma: no cover - columns were checked independent
        return dict.fromkeys(free, math.inf)
    out = {}
    for j, name in enumerate(free):
        se = math.sqrt(max(float(cov[j, j]), 0.0))
        out[name] = se if name in _OVERLAPS else model.from_u(name, float(u[j])) * se
    return out
