"""The ``scalingperf`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ._format import si, table
from .architecture import Architecture
from .devices import hardware
from .estimate import estimate
from .presets import presets

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
        for name, source in presets().items():
            print(f"{name:20s} {source}")
        return 0
    except ValueError as error:
        print(f"scalingperf: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
