"""``scalingperf laws`` (the published laws side by side at a budget) and ``scalingperf fit``
(a law fitted to your runs, with confidence intervals)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
from typing import Any

#: CSV column names fit accepts for each quantity (the first one found is used).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "N": ("N", "params", "parameters"), "D": ("D", "tokens"), "loss": ("loss",)}
#: The mixture-of-experts forms fit takes, and the column each needs besides N, D and loss:
#: Ludziejewski et al. 2025 (eq. 6) the experts E, Krajewski et al. 2024 (eq. 9) the
#: granularity G; the precision-aware form, Kumar et al. 2024 (eq. 5), the training bits P.
_FORM_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ludziejewski": ("E", ("E", "experts")), "krajewski": ("G", ("G", "granularity")),
    "kumar": ("P", ("P", "bits"))}


def add_parsers(verbs: Any) -> None:
    from ._cli_plan import positive_number

    laws = verbs.add_parser(
        "laws", help="every published law side by side at a budget or a size",
        description="Every registered scaling law (scalingperf.laws.compare) side by side: "
                    "the loss-optimal parameters and tokens of a FLOP budget (--compute), "
                    "the tokens for a size (--params), or either with the tokens fixed, and "
                    "each law's loss there.")
    laws.add_argument("--compute", type=positive_number, default=None, metavar="FLOPS",
                      help="training FLOPs (default Gopher's 5.76e23 when nothing is given)")
    laws.add_argument("--params", type=positive_number, default=None, metavar="N",
                      help="a model size: the tokens each law recommends for it")
    laws.add_argument("--tokens", type=positive_number, default=None, metavar="D",
                      help="training tokens, with --compute or --params (C = 6 N D)")
    laws.add_argument("--json", action="store_true", help="print JSON instead of a table")

    fit = verbs.add_parser(
        "fit", help="fit L = E + A/N^alpha + B/D^beta to a CSV of runs, with intervals",
        description="Hoffmann et al. 2022's approach 3 (Huber loss on log-loss, L-BFGS from "
                    "a grid of starts) on a CSV with a header and one row per run: columns "
                    "N (or params), D (or tokens) and loss. Needs SciPy "
                    "(pip install 'scalingperf[fit]').")
    fit.add_argument("runs", metavar="RUNS.csv", help="the runs")
    fit.add_argument("--form", default="chinchilla", choices=("chinchilla", *_FORM_COLUMNS),
                     help="the law's form: chinchilla (default); ludziejewski (needs an E "
                          "column of experts), krajewski (a G column of granularities) or "
                          "kumar (a P column of training bits), fitted without intervals")
    fit.add_argument("--bootstrap", type=int, default=100,
                     help="bootstrap refits for the intervals (default 100; 0 for none)")
    fit.add_argument("--ci", type=float, default=0.8,
                     help="central mass of the intervals (default 0.8, as the paper)")
    fit.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    fit.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run_laws(args: argparse.Namespace) -> int:
    from .laws import GOPHER_FLOPS, compare

    given = (args.compute, args.params, args.tokens)
    compute = GOPHER_FLOPS if given == (None, None, None) else args.compute
    result = compare(compute=compute, params=args.params, tokens=args.tokens)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result)
    return 0


def _number(path: str, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        msg = (f"runs={path!r} is invalid: line {line}, column {column}: {text!r} is not a "
               "finite number")
        raise ValueError(msg)
    return value


def read_runs(path: str, form: str = "chinchilla") -> dict[str, list[float]]:
    """The N, D and loss columns of a CSV of runs (with a header), and the column the
    ``form`` needs besides."""
    from ._files import read_text_file

    text = read_text_file("runs", path, "a CSV file of runs")
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    chosen: dict[str, str] = {}
    columns = dict(_COLUMNS)
    if form in _FORM_COLUMNS:
        quantity, names = _FORM_COLUMNS[form]
        columns[quantity] = names
    for quantity, names in columns.items():
        found = next((name for name in names if name in header), None)
        if found is None:
            msg = (f"runs={path!r} is invalid: no {' or '.join(names)} column (the header "
                   f"is {', '.join(header) or 'empty'})")
            raise ValueError(msg)
        chosen[quantity] = found
    values: dict[str, list[float]] = {quantity: [] for quantity in chosen}
    for line, row in enumerate(reader, start=2):
        for quantity, column in chosen.items():
            values[quantity].append(_number(path, line, column, (row[column] or "").strip()))
    return values


def run_fit(args: argparse.Namespace) -> int:
    from ._format import table
    from .laws import fit

    runs = read_runs(args.runs, args.form)
    try:
        if args.form in _FORM_COLUMNS:
            return _print_form_fit(args, runs)
        result = fit(runs["N"], runs["D"], runs["loss"], n_bootstrap=args.bootstrap,
                     ci=args.ci, seed=args.seed)
    except ImportError:
        msg = "fit needs SciPy: pip install 'scalingperf[fit]' (or pip install scipy)"
        raise ValueError(msg) from None
    law = result.law
    point = {"E": law.E, "A": law.A, "B": law.B, "alpha": law.alpha, "beta": law.beta,
             "a": result.a, "b": result.b}
    if args.json:
        print(json.dumps({"runs": result.n_runs, "constants": point,
                          "ci": {k: list(v) for k, v in result.ci.items()},
                          "ci_level": args.ci, "converged": result.converged,
                          "objective": result.objective}, indent=2))
        return 0
    print(f"L = E + A / N^alpha + B / D^beta fitted to {result.n_runs} runs "
          f"(Hoffmann et al. 2022, approach 3; a and b: N_opt ~ C^a, D_opt ~ C^b)\n")
    rows = []
    for name, value in point.items():
        low, high = result.ci.get(name, (math.nan, math.nan))
        rows.append([name, f"{value:.4g}", f"{low:.4g}", f"{high:.4g}"])
    print(table(["constant", "value", f"{args.ci:.0%} CI low", "high"], rows, left=1))
    if not result.converged:
        print("\nL-BFGS did not report convergence at the optimum: treat the fit with care.")
    return 0


def _print_form_fit(args: argparse.Namespace, runs: dict[str, list[float]]) -> int:
    """A mixture-of-experts loss form fitted to the runs: its constants (no intervals)."""
    from ._format import table
    from .laws import fit_loss_form

    extra, _ = _FORM_COLUMNS[args.form]
    inputs: dict[str, Any] = {extra: runs[extra]}
    result = fit_loss_form(args.form, runs["N"], runs["D"], runs["loss"], **inputs)
    if args.json:
        print(json.dumps({"runs": result.n_runs, "form": args.form,
                          "constants": result.constants, "converged": result.converged,
                          "rms_log_residual": result.rms_log_residual,
                          "objective": result.objective}, indent=2))
        return 0
    print(f"{type(result.law).__name__} fitted to {result.n_runs} runs (RMS log-residual "
          f"{result.rms_log_residual:.3g})\n")
    print(table(["constant", "value"],
                [[name, f"{value:.4g}"] for name, value in result.constants.items()], left=1))
    return 0
