"""The ``scalingperf`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ._format import si, table
from .architecture import Architecture
from .devices import hardware
from .estimate import estimate
from .export import write_result
from .grid import Grid
from .presets import presets
from .sweep import sweep

DEFAULT_PRESET = "llama-2-7b"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scalingperf",
        description="FLOPs, parameters and per-layer costs of transformer architectures.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True)

    est = verbs.add_parser("estimate", help="per-layer table and totals of one configuration")
    source = est.add_mutually_exclusive_group()
    source.add_argument("--preset", default=None,
                        help=f"a built-in architecture (default {DEFAULT_PRESET}; see `presets`)")
    source.add_argument("--hf-config", metavar="PATH",
                        help="a Hugging Face config.json (or the folder holding it)")
    est.add_argument("--batch", type=int, default=1, help="sequences per micro-batch (default 1)")
    est.add_argument("--seq-len", type=int, default=None,
                     help="tokens per sequence (default: the model's context length)")
    est.add_argument("--recompute", choices=("none", "selective", "full"), default="none",
                     help="activation recomputation (default none)")
    est.add_argument("--hardware", default="H100-SXM",
                     help="a built-in device (see `hardware`) or a JSON file (default H100-SXM)")
    est.add_argument("--dtype", default="bf16", choices=("bf16", "fp16", "fp32", "tf32"))
    for degree, meaning in (("tp", "tensor"), ("pp", "pipeline"), ("dp", "data"),
                            ("ep", "expert")):
        est.add_argument(f"--{degree}", type=int, default=1, help=f"{meaning}-parallel degree")
    est.add_argument("--zero", type=int, default=0, choices=(0, 1, 2, 3), help="ZeRO stage")
    est.add_argument("--microbatches", type=int, default=None,
                     help="micro-batches per step and replica (default pp)")
    est.add_argument("--interleave", type=int, default=1, help="virtual pipeline stages")
    est.add_argument("--optimizer", default="adamw", choices=("adamw", "adamw-bf16", "sgd"))
    est.add_argument("--implementation", default="megatron", choices=("megatron", "huggingface"),
                     help="whose saved tensors the activation memory follows")
    est.add_argument("--sequence-parallel", action="store_true")
    est.add_argument("--dropout", action="store_true")
    est.add_argument("--no-flash-attention", dest="flash_attention", action="store_false",
                     help="an unfused attention kernel (s x s scores in memory)")
    est.add_argument("--tokens", type=float, default=None,
                     help="a training budget in tokens: print days, GPU-hours and PF-days")
    est.add_argument("--json", action="store_true", help="print JSON instead of tables")

    sw = verbs.add_parser(
        "sweep", help="evaluate a grid of configurations in the C++ core",
        description="Axes as NAME=START:STOP:STEP (inclusive) or NAME=V1,V2,...; fixed "
                    "values as NAME=VALUE. Example: scalingperf sweep d_model=1024:8192:256 "
                    "n_layers=8:96:4 head_dim=128 ffn=swiglu tp=1,2,4,8 n_gpus=64 "
                    "global_batch=512 seq_len=4096 batch=1 --top 10 --by=-mfu")
    sw.add_argument("spec", nargs="+", metavar="NAME=VALUES", help="axes and fixed values")
    reduce = sw.add_mutually_exclusive_group()
    reduce.add_argument("--top", type=int, default=None, help="keep the best K rows")
    reduce.add_argument("--pareto", metavar="X,Y", default=None,
                        help="keep the Pareto front of two columns ('-' prefix: maximise)")
    sw.add_argument("--by", default="step_time", help="column for --top; --by=-COLUMN maximises it")
    sw.add_argument("--threads", type=int, default=None, help="worker threads (default: all)")
    sw.add_argument("--out", default=None, help="write the rows to a .csv, .json or .parquet file")
    sw.add_argument("--show", type=int, default=20, help="rows to print (default 20)")
    sw.add_argument("--no-progress", dest="progress", action="store_false",
                    help="no progress bar on stderr")

    verbs.add_parser("presets", help="list the built-in architectures")
    verbs.add_parser("hardware", help="list the built-in devices")
    return parser


def _estimate(args: argparse.Namespace) -> int:
    if args.hf_config is not None:
        arch = Architecture.from_hf_config(args.hf_config)
    else:
        arch = Architecture.preset(args.preset or DEFAULT_PRESET)
    seq_len = args.seq_len if args.seq_len is not None else arch.max_position_embeddings
    report = estimate(
        arch, batch=args.batch, seq_len=seq_len, recompute=args.recompute,
        hardware=args.hardware, dtype=args.dtype, tp=args.tp, pp=args.pp, dp=args.dp,
        ep=args.ep, zero=args.zero, microbatches=args.microbatches, interleave=args.interleave,
        optimizer=args.optimizer, implementation=args.implementation,
        sequence_parallel=args.sequence_parallel, dropout=args.dropout,
        flash_attention=args.flash_attention)
    budget = report.training(args.tokens) if args.tokens is not None else None
    if args.json:
        data = report.to_dict()
        if budget is not None:
            data["training"] = budget
        print(json.dumps(data, indent=2))
        return 0
    print(report)
    if budget is not None:
        print(f"\n{args.tokens:.3g} tokens: {budget['days']:.3g} days, "
              f"{budget['gpu_hours']:.3g} GPU-hours, {budget['pf_days']:.3g} PF-days")
    return 0


def _parse_value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _parse_spec(items: Sequence[str]) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name or not text:
            msg = f"{item!r} is invalid: give NAME=VALUE, NAME=V1,V2 or NAME=START:STOP:STEP"
            raise ValueError(msg)
        if text.count(":") == 2:
            start, stop, step = (int(part) for part in text.split(":"))
            spec[name] = list(range(start, stop + 1, step))
        elif "," in text:
            spec[name] = [_parse_value(part) for part in text.split(",")]
        else:
            spec[name] = _parse_value(text)
    return spec


def _progress_bar(done: int, total: int) -> None:
    width = 40
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


_SHOWN = ("d_model", "n_layers", "n_heads", "n_kv_heads", "d_ff", "n_experts", "seq_len",
          "batch", "tp", "pp", "dp", "params_total", "memory_per_gpu", "step_time",
          "tokens_per_s", "mfu")


def _sweep(args: argparse.Namespace) -> int:
    grid = Grid(**_parse_spec(args.spec))
    pareto = tuple(args.pareto.split(",")) if args.pareto else None
    if pareto is not None and len(pareto) != 2:
        msg = f"pareto={args.pareto!r} is invalid: give two columns, X,Y"
        raise ValueError(msg)
    progress = _progress_bar if args.progress else None
    result = sweep(grid, threads=args.threads, top=args.top,
                   by=args.by if args.top else None, pareto=pareto, progress=progress)
    if args.out:
        write_result(result, args.out)
    rows = [[si(v) if abs(v) >= 1e5 else f"{v:.3g}" if isinstance(v, float) else str(v)
             for v in (result[c][i].item() for c in _SHOWN)]
            for i in range(min(len(result), args.show))]
    print(table(list(_SHOWN), rows))
    print(f"\n{len(result):,} rows of {len(grid):,} grid points")
    if len(result) == 0 and len(grid) > 0:
        reason = grid.why_invalid(0)
        if reason:
            print(f"the first grid point is skipped because {reason}")
    return 0


def _hardware() -> int:
    rows = [[name, device.name, si(device.peak_flops.get("bf16") or 0, "FLOP/s"),
             si(device.peak_flops.get("fp16") or 0, "FLOP/s"), si(device.memory, "B"),
             si(device.memory_bandwidth, "B/s"), str(device.devices_per_node)]
            for name, device in hardware().items()]
    print(table(["device", "name", "bf16 peak", "fp16 peak", "memory", "memory bw",
                 "per node"], rows))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.verb == "estimate":
            return _estimate(args)
        if args.verb == "hardware":
            return _hardware()
        if args.verb == "sweep":
            return _sweep(args)
        for name, source in presets().items():
            print(f"{name:20s} {source}")
        return 0
    except ValueError as error:
        print(f"scalingperf: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
