"""The ``scalingperf`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .architecture import Architecture
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
                     help="activation recomputation counted in hardware FLOPs")
    est.add_argument("--json", action="store_true", help="print JSON instead of tables")

    verbs.add_parser("presets", help="list the built-in architectures")
    return parser


def _estimate(args: argparse.Namespace) -> int:
    if args.hf_config is not None:
        arch = Architecture.from_hf_config(args.hf_config)
    else:
        arch = Architecture.preset(args.preset or DEFAULT_PRESET)
    seq_len = args.seq_len if args.seq_len is not None else arch.max_position_embeddings
    report = estimate(arch, batch=args.batch, seq_len=seq_len, recompute=args.recompute)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.verb == "estimate":
            return _estimate(args)
        for name, source in presets().items():
            print(f"{name:20s} {source}")
        return 0
    except ValueError as error:
        print(f"scalingperf: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
