"""``scalingperf plan``: the planner on the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any


def positive_number(text: str) -> float:
    """An argparse type: a finite number above 0 (5.76e23, 30, 1.4e12)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        msg = f"{text!r} is invalid: give a number above 0, such as 5.76e23"
        raise argparse.ArgumentTypeError(msg)
    return value


def add_parser(verbs: Any) -> None:
    from .plan import DEFAULT_GLOBAL_BATCH, DEFAULT_GPUS, DEFAULT_SEQ_LEN

    verb = verbs.add_parser(
        "plan", help="which transformer to train for a budget, on which layout, how long",
        description="The loss-optimal model for a FLOP budget (--compute), for GPUs x days "
                    "(--days), or for a fixed dataset (--tokens, unique tokens): every "
                    "law's optimum side by side, concrete shapes around it swept over every "
                    "parallel layout of the GPUs, and the winner explained. With no budget: "
                    "Gopher's 5.76e23 FLOPs on 1,024 H100-SXM.")
    verb.add_argument("--compute", type=positive_number, default=None, metavar="FLOPS",
                      help="training FLOPs (default 5.76e23 unless --days is given)")
    verb.add_argument("--gpus", type=int, default=None,
                      help=f"devices (default {DEFAULT_GPUS:,})")
    verb.add_argument("--days", type=positive_number, default=None,
                      help="wall-clock days: each layout trains on what it processes in that time")
    verb.add_argument("--hardware", default="H100-SXM",
                      help="a built-in device (see `hardware`) or a JSON file (default H100-SXM)")
    verb.add_argument("--tokens", type=positive_number, default=None,
                      help="unique tokens of data: rank by the data-constrained law "
                           "(Muennighoff et al. 2023)")
    verb.add_argument("--law", default="chinchilla",
                      choices=("chinchilla", "besiroglu", "kaplan", "muennighoff"),
                      help="the law that sizes and ranks (default chinchilla, approach 3)")
    verb.add_argument("--seq-len", type=int, default=DEFAULT_SEQ_LEN,
                      help=f"tokens per sequence (default {DEFAULT_SEQ_LEN:,})")
    verb.add_argument("--global-batch", type=int, default=DEFAULT_GLOBAL_BATCH,
                      help=f"sequences per optimizer step (default {DEFAULT_GLOBAL_BATCH:,})")
    verb.add_argument("--dtype", default="bf16",
                      choices=("bf16", "fp16", "fp32", "tf32", "fp8", "mxfp8", "nvfp4"))
    verb.add_argument("--tolerance", type=float, default=0.05,
                      help="losses within what this share more compute buys count as ties, "
                           "won by the shorter run (default 0.05; 0: loss alone)")
    verb.add_argument("--inference-tokens", type=positive_number, default=None, metavar="D",
                      help="tokens the model will serve: --compute is then lifetime FLOPs "
                           "(Sardana et al. 2024)")
    verb.add_argument("--moe", action="store_true",
                      help="try routed-expert (mixture-of-experts) variants too, ranked by "
                           "Clark et al. 2022's effective size (an extrapolation beyond its "
                           "1.3B-parameter fits)")
    verb.add_argument("--show", type=int, default=10,
                      help="models to list after the explanation (default 10)")
    verb.add_argument("--json", action="store_true", help="print JSON instead of text")
    verb.add_argument("--out", default=None,
                      help="write every candidate to a .csv, .json or .parquet file "
                           "(checked before the search starts)")


def run(args: argparse.Namespace) -> int:
    from .export import check_target, write_result
    from .plan import plan

    if args.out:
        check_target(args.out)
    hardware: Any = args.hardware
    if hardware.endswith(".json"):
        from ._files import read_json_file

        hardware = read_json_file("hardware", hardware)
    result = plan(compute=args.compute, gpus=args.gpus, days=args.days, hardware=hardware,
                  tokens=args.tokens, law=args.law, seq_len=args.seq_len,
                  global_batch=args.global_batch, dtype=args.dtype, moe=args.moe,
                  inference_tokens=args.inference_tokens, tolerance=args.tolerance)
    if args.out:
        write_result(result.candidates, args.out)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(result.explain())
    if args.show > 0:
        print(f"\nThe best {args.show} models, each on its best layout (all "
              f"{len(result.candidates):,} configurations: --out FILE)")
        print(result.table(args.show))
    return 0
