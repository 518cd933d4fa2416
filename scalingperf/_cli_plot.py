"""``scalingperf plot KIND ... -o FILE.png|svg``: the pictures of :mod:`scalingperf.plot`
from the command line."""

from __future__ import annotations

import argparse
import math
import sys
from importlib.util import find_spec
from typing import Any

from .grid import RECOMPUTE

#: Kinds of picture, each with what it shows.
KINDS = {
    "isoflop": "loss against model size at fixed budgets, each law's optimum marked",
    "frontier": "least loss and compute-optimal size against compute, for each law",
    "pareto": "a sweep's (or a plan's) configurations and their Pareto front",
    "layers": "per-op FLOPs, activation memory and time of one configuration",
    "tp-efficiency": "tensor-parallel efficiency against width and depth at one size",
    "validation": "predicted against measured for the published training runs",
}
SUFFIXES = (".png", ".svg")
DEFAULT_PRESET = "llama-2-7b"


def _ranged(convert: Any, low: float, high: float) -> Any:
    """An argparse type: ``convert(text)`` (int or float), finite, from ``low`` to ``high``."""
    noun = "an integer" if convert is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = math.nan
        if not low <= value <= high:
            bounds = f"{low} to {high}" if convert is int else f"{low:g} to {high:g}"
            msg = f"{text!r} is invalid: give {noun} from {bounds}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


def _number(low: float, high: float) -> Any:
    return _ranged(float, low, high)


def _integer(low: int, high: int) -> Any:
    return _ranged(int, low, high)


def _budgets(text: str) -> list[float]:
    """An argparse type: FLOP budgets separated by commas."""
    parse = _number(1, 1e40)
    return [parse(part) for part in text.split(",")]


def _integers(text: str) -> list[int]:
    parse = _integer(1, 2**20)
    return [parse(part) for part in text.split(",")]


def add_parser(subparsers: Any) -> None:
    """Add the ``plot`` verb, with one sub-command per kind of picture."""
    plot = subparsers.add_parser(
        "plot", help="draw a picture (needs matplotlib: pip install 'scalingperf[plot]')",
        description="Draw one of the package's pictures to a PNG or SVG file (matplotlib: "
                    "pip install 'scalingperf[plot]'). `scalingperf plot KIND --help` gives "
                    "each kind's options.")
    kinds = plot.add_subparsers(dest="kind", required=True, metavar="KIND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-o", "--out", required=True, metavar="FILE",
                        help="the picture to write: .png or .svg (checked before any work)")
    common.add_argument("--dpi", type=_integer(20, 600), default=100,
                        help="dots per inch of a PNG (default 100)")

    def kind(name: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = kinds.add_parser(
            name, parents=[common], help=KINDS[name], description=KINDS[name] + ".")
        return parser

    iso = kind("isoflop")
    iso.add_argument("--compute", type=_budgets, default=None, metavar="C[,C...]",
                     help="training budgets in FLOPs (default 1e19,1e20,1e21,1e22,1e23)")
    iso.add_argument("--law", action="append", default=None, metavar="NAME",
                     help="chinchilla, besiroglu or kaplan (repeatable; default all three)")

    front = kind("frontier")
    front.add_argument("--law", action="append", default=None, metavar="NAME",
                       help="chinchilla, besiroglu, kaplan, chinchilla-1 or chinchilla-2 "
                            "(repeatable; default all five)")
    front.add_argument("--compute", type=_number(1, 1e40), default=None, metavar="C",
                       help="a budget in FLOPs to mark")

    par = kind("pareto")
    par.add_argument("spec", nargs="*", metavar="NAME=VALUES",
                     help="a sweep, as `scalingperf sweep` takes it (e.g. "
                          "d_model=2048:8192:512 n_layers=16:64:8 head_dim=128 tp=1,2,4,8 "
                          "n_gpus=64 global_batch=512 seq_len=4096 batch=1 compute=1e22; the "
                          "loss column needs compute=); without one, the plan of --compute, "
                          "--gpus, --days and --hardware, its pick marked")
    par.add_argument("-x", default=None, metavar="COLUMN",
                     help="the x column, minimised ('-' in front to maximise; default "
                          "train_days, a plan's days)")
    par.add_argument("-y", default="loss", metavar="COLUMN",
                     help="the y column (default loss: the law's prediction)")
    par.add_argument("--law", default="chinchilla",
                     choices=("chinchilla", "besiroglu", "kaplan", "muennighoff"),
                     help="the law of the loss column (muennighoff: a plan with --tokens)")
    par.add_argument("--include-infeasible", action="store_true",
                     help="a sweep's front over every row, not only those that fit")
    plan = par.add_argument_group("a plan (as `scalingperf plan`), when no sweep is given")
    plan.add_argument("--compute", type=_number(1, 1e40), default=None, metavar="FLOPS",
                      help="training FLOPs (default 5.76e23 unless --days is given)")
    plan.add_argument("--gpus", type=_integer(1, 2**20), default=None,
                      help="devices (default 1,024)")
    plan.add_argument("--days", type=_number(1e-6, 1e6), default=None,
                      help="wall-clock days")
    plan.add_argument("--tokens", type=_number(1, 1e40), default=None,
                      help="unique tokens of data (the data-constrained law)")
    plan.add_argument("--hardware", default="H100-SXM",
                      help="a built-in device or a JSON file (default H100-SXM)")

    lay = kind("layers")
    source = lay.add_mutually_exclusive_group()
    source.add_argument("--preset", default=None,
                        help=f"a built-in architecture (default {DEFAULT_PRESET})")
    source.add_argument("--hf-config", metavar="PATH",
                        help="a Hugging Face config.json (or the folder holding it)")
    _workload(lay)
    for degree, meaning in (("tp", "tensor"), ("pp", "pipeline"), ("dp", "data")):
        lay.add_argument(f"--{degree}", type=_integer(1, 2**20), default=1,
                         help=f"{meaning}-parallel degree (default 1)")
    lay.add_argument("--recompute", choices=RECOMPUTE, default="none",
                     help="activation recomputation (default none)")
    lay.add_argument("--dtype", choices=("bf16", "fp16", "fp32", "tf32", "fp8", "mxfp8", "nvfp4"),
                     default="bf16", help="number format (default bf16)")
    lay.add_argument("--per", choices=("model", "layer"), default="model",
                     help="the whole model per step (default) or one layer of each type")

    tp = kind("tp-efficiency")
    tp.add_argument("--params", type=_number(1e6, 1e13), default=7e9,
                    help="non-embedding parameters of the shapes (default 7e9)")
    tp.add_argument("--tp", type=_integers, default=[2, 4, 8], metavar="T[,T...]",
                    help="tensor-parallel degrees (default 2,4,8)")
    _workload(tp, seq_len=4096)

    val = kind("validation")
    val.add_argument("--by", choices=("source", "device"), default="source",
                     help="what the colours distinguish (default source)")
    val.add_argument("--source", action="append", default=None, metavar="NAME",
                     help="only this source (repeatable; default all)")


def _workload(parser: argparse.ArgumentParser, seq_len: int | None = None) -> None:
    parser.add_argument("--batch", type=_integer(1, 2**24), default=1,
                        help="sequences per micro-batch (default 1)")
    default = "the model's context length" if seq_len is None else str(seq_len)
    parser.add_argument("--seq-len", type=_integer(1, 2**24), default=seq_len,
                        help=f"tokens per sequence (default {default})")
    parser.add_argument("--hardware", default="H100-SXM",
                        help="a built-in device or a JSON file (default H100-SXM)")


def run(args: argparse.Namespace) -> int:
    """Draw ``args.kind`` to ``args.out``. The output path and matplotlib are checked
    before any work; bad input raises ValueError (one line, exit 2, from ``main``)."""
    from .export import check_target, write_file

    check_target(args.out, SUFFIXES)
    if find_spec("matplotlib") is None:
        msg = "plot needs matplotlib, which is not installed: pip install 'scalingperf[plot]'"
        raise ValueError(msg)
    figure = _DRAW[args.kind](args)
    suffix = args.out.rsplit(".", 1)[-1].lower()
    target = write_file(args.out, lambda path: figure.savefig(path, format=suffix,
                                                              dpi=args.dpi), SUFFIXES)
    width, height = figure.get_size_inches() * args.dpi
    size = f"{round(width)} x {round(height)} px" if suffix == "png" else "SVG"
    print(f"wrote {target} ({args.kind}, {size})")
    return 0


def _isoflop(args: argparse.Namespace) -> Any:
    from . import plot

    return plot.isoflop(args.compute or plot.DEFAULT_BUDGETS, args.law or plot.DEFAULT_LAWS)


def _frontier(args: argparse.Namespace) -> Any:
    from . import plot

    laws = args.law or (*plot.DEFAULT_LAWS, "chinchilla-1", "chinchilla-2")
    return plot.frontier(laws, mark=args.compute)


def _pareto(args: argparse.Namespace) -> Any:
    from . import plot

    planned = [f"--{name}" for name in ("compute", "gpus", "days", "tokens")
               if getattr(args, name) is not None]
    if args.spec and planned:
        msg = (f"{planned[0]} is invalid with a sweep (NAME=VALUES): draw a sweep, or a plan "
               "from --compute, --gpus, --days and --tokens, not both")
        raise ValueError(msg)
    rows: Any = _swept(args) if args.spec else _planned(args)
    return plot.pareto(rows, args.x, args.y, feasible=not args.include_infeasible)


def _planned(args: argparse.Namespace) -> Any:
    from .cli import _hardware_spec
    from .plan import plan

    return _noting_extrapolation(
        lambda: plan(compute=args.compute, gpus=args.gpus, days=args.days,
                     hardware=_hardware_spec(args.hardware), tokens=args.tokens,
                     law=args.law))


def _swept(args: argparse.Namespace) -> Any:
    import warnings

    from .cli import _parse_spec
    from .grid import Grid
    from .laws import Clark2022
    from .sweep import SweepWarning, sweep

    grid = Grid(**_parse_spec(args.spec))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SweepWarning)  # an empty result is refused below
        result = sweep(grid)
    if len(result) == 0:
        msg = f"the sweep kept no rows: {result.skipped}".replace("\n", "; ")
        raise ValueError(msg)
    if "loss" in ((args.x or "").removeprefix("-"), args.y.removeprefix("-")):
        routed = Clark2022() if (result["n_experts"] > 1).any() else None
        result = _noting_extrapolation(lambda: result.with_loss(args.law, routed=routed))
    return result


def _noting_extrapolation(work: Any) -> Any:
    """``work()``, its extrapolation warnings said once each on stderr (as `scalingperf
    laws` does): the picture still shows every row."""
    import warnings

    from .laws import ExtrapolationWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExtrapolationWarning)
        result = work()
    for note in dict.fromkeys(str(w.message) for w in caught):
        print(f"scalingperf: warning: {note}", file=sys.stderr)
    return result


def _layers(args: argparse.Namespace) -> Any:
    from . import plot
    from .architecture import Architecture
    from .cli import _hardware_spec, _hf_config
    from .estimate import estimate

    if args.hf_config is not None:
        arch = Architecture.from_hf_config(_hf_config(args.hf_config))
    else:
        arch = Architecture.preset(args.preset or DEFAULT_PRESET)
    seq_len = args.seq_len if args.seq_len is not None else arch.max_position_embeddings
    report = estimate(arch, batch=args.batch, seq_len=seq_len, tp=args.tp, pp=args.pp,
                      dp=args.dp, recompute=args.recompute, dtype=args.dtype,
                      hardware=_hardware_spec(args.hardware))
    return plot.layers(report, per=args.per)


def _tp_efficiency(args: argparse.Namespace) -> Any:
    from . import plot
    from .cli import _hardware_spec
    from .grid import Grid
    from .sweep import sweep

    grid = Grid.kaplan_aspect(args.params, tp=args.tp, batch=args.batch, seq_len=args.seq_len,
                              hardware=_hardware_spec(args.hardware))
    return plot.tp_efficiency(sweep(grid))


def _validation(args: argparse.Namespace) -> Any:
    from . import plot
    from .validate import validate

    return plot.validation(validate(args.source), by=args.by)


_DRAW = {"isoflop": _isoflop, "frontier": _frontier, "pareto": _pareto, "layers": _layers,
         "tp-efficiency": _tp_efficiency, "validation": _validation}
