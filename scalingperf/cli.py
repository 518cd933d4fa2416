"""The ``scalingperf`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from . import __version__, _cli_laws, _cli_plan, _cli_plot
from ._files import read_json_file, read_text_file
from ._format import attention_curves, count, duration, gemm_falloff, gib, si, table
from .architecture import Architecture
from .devices import hardware
from .estimate import Report, estimate
from .export import WriteError, check_target, write_result
from .grid import AXES, RECOMPUTE, Grid
from .presets import presets
from .sweep import SweepWarning, sweep

DEFAULT_PRESET = "llama-2-7b"


class _UsageError(ValueError):
    """A command line argparse refuses (unknown option, bad choice, missing value)."""


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one line, like every other error of the command
    (``main`` prints it and exits with status 2, as argparse itself would)."""

    def error(self, message: str) -> NoReturn:
        msg = f"{message} (see `{self.prog} --help`)"
        raise _UsageError(msg)


def _at_least(minimum: int) -> Any:
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            msg = f"{text!r} is invalid: give an integer of at least {minimum}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scalingperf",
        description="Which transformer to train for a budget, what each layer costs, whether "
                    "it fits and how long it takes: FLOPs, parameters, memory and step time "
                    "before any GPU-hour is spent.",
    )
    parser.add_argument("--version", action="version", version=f"scalingperf {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True)

    est = verbs.add_parser("estimate", help="per-layer table and totals of one configuration")
    source = est.add_mutually_exclusive_group()
    source.add_argument("--preset", default=None,
                        help=f"a built-in architecture (default {DEFAULT_PRESET}; see `presets`)")
    source.add_argument("--hf-config", metavar="PATH",
                        help="a Hugging Face config.json (or the folder holding it)")
    _architecture_flags(est)
    est.add_argument("--batch", type=int, default=1, help="sequences per micro-batch (default 1)")
    est.add_argument("--seq-len", type=int, default=None,
                     help="tokens per sequence (default: the model's context length)")
    est.add_argument("--recompute", choices=RECOMPUTE, default="none",
                     help="activation recomputation (default none)")
    est.add_argument("--hardware", default="H100-SXM",
                     help="a built-in device (see `hardware`) or a JSON file (default H100-SXM)")
    est.add_argument("--dtype", default="bf16",
                     choices=("bf16", "fp16", "fp32", "tf32", "fp8", "mxfp8", "nvfp4"))
    for degree, meaning in (("tp", "tensor"), ("pp", "pipeline"), ("dp", "data"),
                            ("ep", "expert"), ("cp", "context")):
        est.add_argument(f"--{degree}", type=int, default=1, help=f"{meaning}-parallel degree")
    est.add_argument("--etp", type=int, default=None,
                     help="expert-tensor-parallel degree (default tp)")
    est.add_argument("--shard", type=int, default=None,
                     help="ranks a ZeRO stage shards over (HSDP; default dp x cp)")
    est.add_argument("--ep-dispatcher", default="all_to_all", choices=("all_to_all", "deepep"),
                     help="expert-parallel token exchange: NCCL all-to-all, or DeepEP / "
                          "Hybrid-EP (once per node over the network, NVLink forwarding)")
    est.add_argument("--layers-per-stage", default=None, metavar="N,N,...|RULE",
                     help="uneven pipeline stages: layers per device, or embedding, loss, "
                          "embedding+loss")
    est.add_argument("--recompute-modules", default=None, metavar="NAME,NAME,...",
                     help="with --recompute selective, Megatron-Core's modules it redoes: "
                          "core_attn (the default), layernorm, moe_act, mla_up_proj, mlp, moe, "
                          "shared_experts")
    est.add_argument("--recompute-every", type=int, default=None, metavar="N",
                     help="full recomputation of every N-th layer (torchtitan's)")
    est.add_argument("--offload-layers", type=int, default=None, metavar="N",
                     help="activations of N layers offloaded to host memory (Megatron-Core's "
                          "cpu_offloading_num_layers; pp 1, no recomputation)")
    est.add_argument("--fp32-gradients", action="store_true",
                     help="gradients kept and reduced in float32 (Megatron-LM's default with "
                          "bf16)")
    est.add_argument("--tp-overlap", type=float, default=None, metavar="FRACTION",
                     help="share of the tensor-parallel collectives hidden (async TP)")
    est.add_argument("--ep-overlap", type=float, default=None, metavar="FRACTION",
                     help="share of the expert-parallel all-to-alls hidden behind another "
                          "micro-batch's compute (Megatron's overlap_moe_expert_parallel_comm)")
    est.add_argument("--dp-overlap", type=float, default=None, metavar="FRACTION",
                     help="share of the overlap window the data-parallel collectives use "
                          "(1: prefetching FSDP, Megatron --overlap-grad-reduce)")
    est.add_argument("--attention-kernel", default=None, metavar="NAME",
                     help="fused attention kernel with a published efficiency on the device "
                          "(fa2, cudnn, fa3)")
    est.add_argument("--zero", type=int, default=0, choices=(0, 1, 2, 3), help="ZeRO stage")
    est.add_argument("--microbatches", type=int, default=None,
                     help="micro-batches per step and replica (default pp)")
    est.add_argument("--interleave", type=int, default=1, help="virtual pipeline stages")
    est.add_argument("--optimizer", default="adamw",
                     choices=("adamw", "adamw-bf16", "adamw-bf16-moments", "sgd"))
    est.add_argument("--implementation", default="megatron", choices=("megatron", "huggingface"),
                     help="whose saved tensors the activation memory follows")
    est.add_argument("--sequence-parallel", action="store_true")
    est.add_argument("--dropout", action="store_true")
    est.add_argument("--no-flash-attention", dest="flash_attention", action="store_false",
                     help="an unfused attention kernel (s x s scores in memory)")
    est.add_argument("--no-fused-elementwise", dest="fused_elementwise", action="store_false",
                     help="eager PyTorch: each aten op of RMSNorm, the gated activation and "
                          "the rotary embedding its own kernel (no torch.compile)")
    est.add_argument("--tokens", type=float, default=None,
                     help="a training budget in tokens: print days, GPU-hours and PF-days")
    est.add_argument("--json", action="store_true", help="print JSON instead of tables")

    sw = verbs.add_parser(
        "sweep", help="evaluate a grid of configurations in the C++ core",
        description="Axes as NAME=START:STOP:STEP (integers, STOP included, at most "
                    f"{MAX_AXIS_VALUES:,} values per axis) or NAME=V1,V2,...; fixed "
                    "values as NAME=VALUE. Example: scalingperf sweep d_model=1024:8192:256 "
                    "n_layers=8:96:4 head_dim=128 ffn=swiglu tp=1,2,4,8 n_gpus=64 "
                    "global_batch=512 seq_len=4096 batch=1 --top 10 --by=-mfu")
    sw.add_argument("spec", nargs="*", metavar="NAME=VALUES", help="axes and fixed values")
    sw.add_argument("--grid", metavar="FILE", default=None,
                    help="axes and fixed values from a .json or .yaml file: a mapping of NAME "
                         "to a value, a list, or 'START:STOP:STEP' (YAML needs PyYAML: pip "
                         "install 'scalingperf[yaml]'); NAME=VALUES given too are added")
    reduce = sw.add_mutually_exclusive_group()
    reduce.add_argument("--top", type=_at_least(1), default=None, help="keep the best K rows")
    reduce.add_argument("--pareto", metavar="X,Y", default=None,
                        help="keep the Pareto front of two columns ('-' prefix: maximise)")
    sw.add_argument("--by", default="step_time", help="column for --top; --by=-COLUMN maximises it")
    sw.add_argument("--threads", type=_at_least(1), default=None,
                    help="worker threads (default: all)")
    sw.add_argument("--out", default=None,
                    help="write the rows to a .csv, .json or .parquet file (checked before "
                         "the sweep starts)")
    sw.add_argument("--show", type=_at_least(0), default=20, help="rows to print (default 20)")
    sw.add_argument("--no-progress", dest="progress", action="store_false",
                    help="no progress bar on stderr")
    sw.add_argument("--yes", action="store_true",
                    help=f"run a sweep estimated to take over {CONFIRM_SECONDS:.0f} s")
    sw.add_argument("--include-infeasible", action="store_true",
                    help="let --top/--pareto rank configurations that do not fit in memory")

    verbs.add_parser("presets", help="list the built-in architectures")
    verbs.add_parser("hardware", help="list the built-in devices")
    val = verbs.add_parser("validate", help="predicted vs measured step times of published runs")
    val.add_argument("--json", action="store_true", help="print JSON instead of tables")
    val.add_argument("--source", action="append", default=None, metavar="NAME",
                     help="only this source (repeatable; default: all)")
    _cli_plan.add_parser(verbs)
    _cli_laws.add_parsers(verbs)
    _cli_plot.add_parser(verbs)
    return parser


#: Architecture fields the estimate verb takes as flags (--d-model 4096 ...), and their types.
_ARCH_FLAGS: tuple[tuple[str, Any, str], ...] = (
    ("d_model", int, "model width"), ("n_layers", int, "layers"),
    ("n_heads", int, "attention heads (default d_model / head_dim)"),
    ("n_kv_heads", int, "key/value heads (default n_heads)"),
    ("head_dim", int, "per-head width (default d_model / n_heads)"),
    ("d_ff", int, "FFN width (default 4 d_model; 8/3 d_model when gated)"),
    ("ffn", str, "gelu, relu, swiglu, geglu, reglu, xielu or none (default gelu)"),
    ("vocab_size", int, "vocabulary (default 50,257)"),
    ("max_position_embeddings", int, "context length (default 2,048)"),
    ("position", str, "learned, rotary or none (default learned)"),
    ("norm", str, "layernorm or rmsnorm (default layernorm)"),
    ("n_experts", int, "routed experts (default 0: dense)"),
    ("top_k", int, "experts per token (default 1)"),
)


def _architecture_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "architecture from flags",
        "instead of --preset or --hf-config: --d-model and --n-layers, and any other field "
        "of scalingperf.Architecture (its defaults otherwise)")
    for name, kind, meaning in _ARCH_FLAGS:
        group.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None,
                           dest=f"arch_{name}", help=meaning)
    group.add_argument("--tie-embeddings", action="store_true", default=None,
                       dest="arch_tie_embeddings", help="share the input and output embedding")
    parser.add_argument("--mtp-layers", type=int, default=None, metavar="N",
                        help="multi-token prediction modules trained with the model, whatever "
                             "its source (DeepSeek-V3: --preset deepseek-v3 --mtp-layers 1)")


def _flag_architecture(args: argparse.Namespace) -> Architecture | None:
    """The Architecture the --d-model, --n-layers, ... flags give, or None without them."""
    fields = {name: getattr(args, f"arch_{name}")
              for name in (*(flag[0] for flag in _ARCH_FLAGS), "tie_embeddings")
              if getattr(args, f"arch_{name}") is not None}
    if not fields:
        return None
    if args.preset is not None or args.hf_config is not None:
        given = "--preset" if args.preset is not None else "--hf-config"
        msg = (f"{given} and --{next(iter(fields)).replace('_', '-')} are invalid together: "
               "describe the model by one of a preset, a config.json or flags")
        raise ValueError(msg)
    missing = [name for name in ("d_model", "n_layers") if name not in fields]
    if missing:
        msg = (f"{missing[0]} is missing: an architecture from flags needs "
               f"--d-model and --n-layers")
        raise ValueError(msg)
    return Architecture(**fields)


def _estimate(args: argparse.Namespace) -> int:
    from_flags = _flag_architecture(args)
    if from_flags is not None:
        arch = from_flags
    elif args.hf_config is not None:
        arch = Architecture.from_hf_config(_hf_config(args.hf_config))
    else:
        arch = Architecture.preset(args.preset or DEFAULT_PRESET)
    if args.mtp_layers is not None:
        arch = arch.replace(mtp_layers=args.mtp_layers)
    seq_len = args.seq_len if args.seq_len is not None else arch.max_position_embeddings
    report = estimate(
        arch, batch=args.batch, seq_len=seq_len, recompute=args.recompute,
        hardware=_hardware_spec(args.hardware), dtype=args.dtype, tp=args.tp, pp=args.pp,
        dp=args.dp, ep=args.ep, zero=args.zero, microbatches=args.microbatches,
        interleave=args.interleave, optimizer=args.optimizer, implementation=args.implementation,
        sequence_parallel=args.sequence_parallel, dropout=args.dropout,
        flash_attention=args.flash_attention, fused_elementwise=args.fused_elementwise,
        cp=args.cp, etp=args.etp, shard=args.shard,
        ep_dispatcher=args.ep_dispatcher, layers_per_stage=_stages(args.layers_per_stage),
        recompute_every=args.recompute_every, recompute_modules=args.recompute_modules,
        offload_layers=args.offload_layers, fp32_gradients=args.fp32_gradients,
        tp_overlap=args.tp_overlap, dp_overlap=args.dp_overlap, ep_overlap=args.ep_overlap,
        attention_kernel=args.attention_kernel)
    budget = report.training(args.tokens) if args.tokens is not None else None
    if args.json:
        data = report.to_dict()
        data["assumptions"] = _assumptions(args, report)
        if budget is not None:
            data["training"] = budget
        print(json.dumps(data, indent=2))
        return 0
    name = report.architecture.name or "architecture"
    print(f"{name}: batch {report.batch} x seq_len {report.seq_len} = "
          f"{count(report.tokens, 'tokens')} per micro-batch on {report.devices} x "
          f"{report.hardware.name}\n")
    print(_assumptions_text(args, report))
    print("\nPer op, for ONE instance (one layer of that type) and one micro-batch; the model\n"
          "has `count` of each. FLOP: matmul FLOPs (2 per multiply-add); elementwise: norms,\n"
          "softmax, activations, residuals; saved: bytes kept for backward.\n")
    print(report.layers)
    print("\nTotals: FLOPs of one micro-batch, memory on the busiest GPU, time per step.\n")
    print(report.summary())
    memory = report.memory
    if not memory.fits:
        print(f"\ndoes NOT fit: {gib(memory.per_gpu)} needed per GPU, {gib(memory.capacity)} "
              f"available; step time and MFU assume it did")
    if budget is not None:
        caveat = "" if budget["fits"] else " (if it fit: it does not)"
        print(f"\n{args.tokens:.3g} tokens: {budget['days']:.3g} days, "
              f"{budget['gpu_hours']:.3g} GPU-hours, {budget['pf_days']:.3g} PF-days{caveat}")
    return 0


def _stages(text: str | None) -> list[int] | str | None:
    """--layers-per-stage: a rule name as it is, or comma-separated layer counts."""
    if text is None or not text[:1].isdigit():
        return text
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        msg = (f"layers_per_stage={text!r} is invalid: give layer counts separated by commas "
               "or a rule (embedding, loss, embedding+loss)")
        raise ValueError(msg) from None


def _hf_config(path: str) -> dict[str, Any]:
    """The parsed config.json at ``path``, or in the folder ``path``."""
    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
    return read_json_file("hf_config", path)


def _hardware_spec(spec: str) -> str | dict[str, Any]:
    """A device name as given; a JSON file (as ``get_hardware`` tells them apart, by the
    .json ending) read here, so that a device, a FIFO or a huge file is refused."""
    return read_json_file("hardware", spec) if spec.endswith(".json") else spec


def _assumptions(args: argparse.Namespace, report: Report) -> dict[str, Any]:
    """What the estimate assumed, for --json."""
    efficiency = report.efficiency
    return {
        "dtype": args.dtype, "optimizer": args.optimizer, "zero": args.zero,
        "recompute": report.recompute, "recompute_modules": list(report.recompute_modules),
        "tp": args.tp, "pp": args.pp, "dp": args.dp,
        "ep": args.ep, "ep_dispatcher": args.ep_dispatcher, "cp": args.cp,
        "devices": report.devices, "hardware": report.hardware.name,
        "device_memory": report.memory.capacity, "batch": report.batch,
        "seq_len": report.seq_len, "microbatches": report.microbatches,
        "interleave": args.interleave, "flash_attention": args.flash_attention,
        "fused_elementwise": args.fused_elementwise, "offload_layers": args.offload_layers or 0,
        "fp32_gradients": args.fp32_gradients,
        "sequence_parallel": args.sequence_parallel, "dropout": args.dropout,
        "implementation": args.implementation,
        "efficiency": {"matmul": efficiency.matmul, "attention": efficiency.attention,
                       "memory": efficiency.memory, "network": efficiency.network,
                       "dp_overlap": efficiency.dp_overlap, "tp_overlap": efficiency.tp_overlap,
                       "ep_overlap": efficiency.ep_overlap,
                       "fp8_matmul_ratio": efficiency.fp8_matmul_ratio,
                       "fp4_matmul_ratio": efficiency.fp4_matmul_ratio,
                       "gemm_k0": efficiency.gemm_k0},
        "layers": "values per instance (one layer of that type) and one micro-batch; the "
                  "model has `count` instances of each",
    }


_ZERO = ("weights, gradients and optimizer states replicated over dp",
         "optimizer states sharded over dp", "optimizer states and gradients sharded over dp",
         "optimizer states, gradients and weights sharded over dp")
_RECOMPUTE = {"none": "every activation kept for backward",
              "selective": "attention scores and values recomputed in backward",
              "full": "each layer's forward recomputed in backward",
              "per_op": "torchtitan's per-op checkpointing: every second matmul of a block and "
                        "its memory-bound ops recomputed in backward, attention kept"}


def _recomputation(report: Report) -> str:
    modules = report.recompute_modules
    if report.recompute == "selective" and modules != ("core_attn",):
        return (f"selective: Megatron-Core's modules {', '.join(modules)} recomputed in "
                "backward")
    return f"{report.recompute}: {_RECOMPUTE.get(report.recompute, '')}"


def _assumptions_text(args: argparse.Namespace, report: Report) -> str:
    mixed = args.dtype in ("bf16", "fp16")
    master = ", fp32 master weights" if mixed else ""
    optimizer = {
        "adamw": f"AdamW, fp32 momentum and variance{master}",
        "adamw-bf16": f"AdamW, momentum and variance in {args.dtype}, no master weights",
        "adamw-bf16-moments": f"AdamW, bf16 momentum and variance{master}",
        "sgd": f"SGD with fp32 momentum{master}",
    }.get(args.optimizer, args.optimizer)
    precision = ("fp32 weights and activations, tf32 matmuls" if args.dtype == "tf32"
                 else f"{args.dtype} weights, activations and matmuls")
    gradients = ("fp32" if args.fp32_gradients or args.dtype in ("fp32", "tf32")
                 else "fp16" if args.dtype == "fp16" else "bf16")
    precision += f"; gradients kept and reduced in {gradients}"
    layout = f"tp {args.tp} x pp {args.pp} x dp {args.dp}"
    dispatch = ("NCCL all-to-all" if args.ep_dispatcher == "all_to_all"
                else "DeepEP: once per node over the network, NVLink forwarding")
    extra = [f"ep {args.ep} ({dispatch})"] if args.ep > 1 else []
    if args.interleave > 1:
        extra.append(f"{args.interleave} virtual pipeline stages per device")
    if args.sequence_parallel:
        extra.append("sequence parallel")
    devices = (f"{layout} = {report.devices:,} x {report.hardware.name} "
               f"({gib(report.memory.capacity)} each)"
               + "".join(f"; {item}" for item in extra))
    source = " (the model's context length)" if args.seq_len is None else ""
    m = report.microbatches
    batch = (f"{report.batch} sequence{'s' if report.batch != 1 else ''} x {report.seq_len:,} "
             f"tokens{source}; {m} micro-batch{'es' if m != 1 else ''} per step and replica")
    flash = ("yes: fused kernel, no s x s scores kept" if args.flash_attention
             else "no: s x s attention scores kept in memory")
    elementwise = ("fused: each memory-bound op one kernel" if args.fused_elementwise
                   else "eager: every aten op of RMSNorm, the gated activation and the rotary "
                        "embedding its own kernel")
    whose = "Megatron-LM" if args.implementation == "megatron" else "Hugging Face transformers"
    activations = f"saved tensors as in {whose}, {'with' if args.dropout else 'no'} dropout"
    if args.offload_layers:
        activations += (f"; {args.offload_layers} layers' offloaded to host memory over "
                        f"{si(report.hardware.host_bandwidth or 0, 'B/s')} each way, "
                        f"{duration(report.time.offload)} per micro-batch exposed")
    e = report.efficiency
    bandwidth = (f"{e.memory:.0%} of memory and network bandwidth" if e.memory == e.network
                 else f"{e.memory:.0%} of memory and {e.network:.0%} of network bandwidth")
    efficiency = (f"{e.matmul:.0%} of peak matmul FLOP/s{gemm_falloff(e)} (attention "
                  f"{e.attention:.0%}{attention_curves(e)}"
                  + (f", FP8 GEMMs {e.matmul * e.fp8_matmul_ratio:.0%}"
                     if args.dtype in ("fp8", "mxfp8") else "")
                  + (f", FP4 GEMMs {e.matmul * e.fp4_matmul_ratio:.0%}"
                     if args.dtype == "nvfp4" else "")
                  + f"), {bandwidth}; gradient reduction "
                  + (f"overlapped with compute ({e.dp_overlap:.0%} of the window)"
                     if e.dp_overlap else "not overlapped"))
    rows = [("precision", precision),
            ("optimizer", f"{args.optimizer}: {optimizer}"),
            ("ZeRO stage", f"{args.zero}: {_ZERO[args.zero]}"),
            ("recomputation", _recomputation(report)),
            ("devices", devices), ("micro-batch", batch), ("flash attention", flash),
            ("elementwise ops", elementwise),
            ("activations", activations), ("efficiency", efficiency)]
    width = max(len(label) for label, _ in rows)
    return "Assumptions\n" + "\n".join(f"  {label.ljust(width)}  {text}" for label, text in rows)


#: Values one axis of a command-line sweep may hold. The count is worked out from START,
#: STOP and STEP before any list is built; building a Grid axis of 10^7 values alone took
#: 2.8 s and 0.8 GB here, 10^6 values 0.3 s.
MAX_AXIS_VALUES = 1_000_000
_SPEC_SYNTAX = ("give NAME=START:STOP:STEP (integers, STOP included), NAME=V1,V2,... "
                "or NAME=VALUE")
#: Grid options that take true or false, a pair of bounds, or a number; the Python API
#: takes these as Python values, the command line checks them here.
_FLAG_SPECS = frozenset({"qkv_bias", "out_bias", "mlp_bias", "tie_embeddings",
                         "shared_expert_gate", "flash_attention", "dropout",
                         "sequence_parallel", "fused_elementwise", "fp32_gradients"})
_PAIR_SPECS = frozenset({"params", "active_params", "aspect"})
_REAL_SPECS = frozenset({"capacity_factor", "compute"})


def _parse_value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _parse_range(name: str, text: str) -> range:
    """``START:STOP:STEP`` (STOP included) as a range, its size checked before it exists."""
    parts = text.split(":")
    if len(parts) != 3:
        msg = (f"{name}={text!r} is invalid: a range is {name}=START:STOP:STEP with STOP "
               f"included, e.g. {name}=1024:8192:256; list values as {name}=V1,V2,... or fix "
               f"one as {name}=VALUE")
        raise ValueError(msg)
    try:
        start, stop, step = (int(part) for part in parts)
    except ValueError:
        msg = (f"{name}={text!r} is invalid: START, STOP and STEP of a range must be integers; "
               f"list other values as {name}=V1,V2,...")
        raise ValueError(msg) from None
    if step < 1:
        msg = f"{name}={text!r} is invalid: STEP={step} must be 1 or more"
        raise ValueError(msg)
    if start < 0:
        msg = (f"{name}={text!r} is invalid: START={start} is negative; axis values are sizes "
               f"and counts, 0 or more")
        raise ValueError(msg)
    if start > stop:
        msg = f"{name}={text!r} is invalid: START={start} is above STOP={stop} (the range is empty)"
        raise ValueError(msg)
    count = (stop - start) // step + 1
    if count > MAX_AXIS_VALUES:
        msg = (f"{name}={text!r} is invalid: it has {count:,} values, over the limit of "
               f"{MAX_AXIS_VALUES:,} per axis; raise STEP or narrow the range")
        raise ValueError(msg)
    return range(start, stop + 1, step)


def _checked(name: str, text: str, value: Any) -> Any:
    """Options whose value the Grid takes as a Python object, checked as typed text."""
    values = value if isinstance(value, list) else [value]
    if name in _FLAG_SPECS and (isinstance(value, list) or not isinstance(value, bool)):
        msg = f"{name}={text!r} is invalid: give {name}=true or {name}=false"
        raise ValueError(msg)
    if name in _PAIR_SPECS and (len(values) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)):
        msg = f"{name}={text!r} is invalid: give two numbers, {name}=LO,HI"
        raise ValueError(msg)
    if name in _REAL_SPECS and (isinstance(value, list) or not isinstance(value, (int, float))
                                or isinstance(value, bool)):
        msg = f"{name}={text!r} is invalid: give one number"
        raise ValueError(msg)
    if name == "dense_layers":
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            msg = f"{name}={text!r} is invalid: give layer indices, {name}=I1,I2,..."
            raise ValueError(msg)
        return values
    if name == "where":
        msg = (f"where={text!r} is invalid on the command line: bound rows with params=LO,HI, "
               f"active_params=LO,HI, aspect=LO,HI or max_memory=SIZE, or use --pareto/--top")
        raise ValueError(msg)
    return value


def _load_grid_text(path: str, text: str) -> Any:
    """The document in a .json, .yaml or .yml grid file."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as error:
            msg = f"grid={path!r} is invalid: not JSON ({error})"
            raise ValueError(msg) from None
    if suffix not in (".yaml", ".yml"):
        msg = f"grid={path!r} is invalid: give a .json, .yaml or .yml file"
        raise ValueError(msg)
    try:
        import yaml  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        msg = (f"grid={path!r} needs PyYAML to read YAML: pip install 'scalingperf[yaml]' "
               "(or give the grid as JSON)")
        raise ValueError(msg) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1} column {where.column + 1}" if where else ""
        msg = f"grid={path!r} is invalid: not YAML ({getattr(error, 'problem', error)}{at})"
        raise ValueError(msg) from None


def _grid_file(path: str) -> dict[str, Any]:
    """Grid keywords from a JSON or YAML mapping: a value, a list of values, or the text
    'START:STOP:STEP' (STOP included) for an axis, as on the command line."""
    document = _load_grid_text(path, read_text_file("grid", path, "a grid file"))
    if not isinstance(document, dict) or not all(isinstance(k, str) for k in document):
        msg = (f"grid={path!r} is invalid: expected a mapping of names to values, e.g. "
               "{\"d_model\": [2048, 4096], \"n_layers\": \"8:32:8\", \"tp\": 8}")
        raise ValueError(msg)
    spec: dict[str, Any] = {}
    for name, value in document.items():
        if isinstance(value, str) and ":" in value:
            spec.update(_parse_spec([f"{name}={value}"]))
        elif name == "hardware" and isinstance(value, str):
            spec[name] = _hardware_spec(value)
        else:
            spec[name] = value
    return spec


def _parse_spec(items: Sequence[str]) -> dict[str, Any]:
    """``NAME=START:STOP:STEP``, ``NAME=V1,V2,...`` and ``NAME=VALUE`` as Grid keywords."""
    spec: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name or not text:
            msg = f"{item!r} is invalid: {_SPEC_SYNTAX}"
            raise ValueError(msg)
        if name in spec:
            msg = f"{name}={text!r} is invalid: {name} is given twice; give each name once"
            raise ValueError(msg)
        if name == "hardware":
            spec[name] = _hardware_spec(text)
        elif ":" in text and name in AXES:
            spec[name] = _parse_range(name, text)
        elif ":" in text:
            msg = (f"{name}={text!r} is invalid: {name} is not an axis, give one value; "
                   f"the axes are {', '.join(AXES)}")
            raise ValueError(msg)
        elif "," in text:
            spec[name] = _checked(name, text, [_parse_value(part) for part in text.split(",")])
        else:
            spec[name] = _checked(name, text, _parse_value(text))
    return spec


_bar_open = False  # a progress bar is drawn on stderr and its line not yet ended


def _progress_bar(done: int, total: int) -> None:
    global _bar_open
    width = 40
    filled = int(width * done / max(total, 1))
    # Marked open before it is drawn: a Ctrl-C may land between any two statements, and
    # the message after it needs the bar's line ended.
    _bar_open = True
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}")
    if done >= total:
        sys.stderr.write("\n")
        _bar_open = False
    sys.stderr.flush()


def _end_progress_line() -> None:
    """End a half-drawn progress bar's line, so that a message after it has its own."""
    global _bar_open
    if _bar_open:
        sys.stderr.write("\n")
        _bar_open = False


#: Sweeps estimated to take longer than this ask for --yes first.
CONFIRM_SECONDS = 60.0


def _sweep(args: argparse.Namespace) -> int:
    if args.out:
        check_target(args.out)  # before the work: a bad --out is refused at once, not after it
    spec = _grid_file(args.grid) if args.grid else {}
    for name, value in _parse_spec(args.spec).items():
        if name in spec:
            msg = (f"{name} is invalid: it is given both in grid={args.grid!r} and as "
                   f"{name}=...; give each name once")
            raise ValueError(msg)
        spec[name] = value
    if not spec:
        msg = f"the sweep is empty: give NAME=VALUES or --grid FILE ({_SPEC_SYNTAX})"
        raise ValueError(msg)
    grid = Grid(**spec)
    pareto = tuple(args.pareto.split(",")) if args.pareto else None
    if pareto is not None and len(pareto) != 2:
        msg = f"pareto={args.pareto!r} is invalid: give two columns, X,Y"
        raise ValueError(msg)
    if not args.yes and len(grid) > 100_000:
        seconds = grid.estimate_seconds(threads=args.threads)
        if seconds > CONFIRM_SECONDS:
            msg = (f"this sweep of {len(grid):,} points would take about {duration(seconds)} "
                   "here (timed on a sample); pass --yes to run it, or sweep fewer values")
            raise ValueError(msg)
    progress = _progress_bar if args.progress else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SweepWarning)  # the summary below says it
        result = sweep(grid, threads=args.threads, top=args.top,
                       by=args.by if args.top else None, pareto=pareto, progress=progress,
                       feasible=False if args.include_infeasible else None)
    if args.out:
        write_result(result, args.out)
    print(result.table(args.show))
    fixed = [f"{name}={value}" for name, value in sorted(grid.spec.items())
             if name not in grid.swept and not isinstance(value, (list, tuple, range, dict))]
    if grid.spec.get("recompute_modules") is not None:  # a list, yet one option
        modules = grid.spec["recompute_modules"]
        names = modules.split(",") if isinstance(modules, str) else modules
        fixed.append(f"recompute_modules={','.join(names)} (selective rows)")
    print(f"\nfixed: {', '.join(fixed)}; {grid.hardware.name}")
    print(result.skipped)
    if len(result) and "fits" in result.columns:
        fitting = int(result["fits"].sum())
        if fitting < len(result):
            print(f"{fitting:,} of the {len(result):,} rows fit in {grid.hardware.name}'s "
                  "memory; the others' times assume they did (fits=False)")
    if len(result) > args.show:
        print("(--show N for more rows, --out FILE for all)")
    return 0


_FORMAT_ORDER = ("fp32", "tf32", "bf16", "fp16", "fp8", "mxfp8", "nvfp4")


def _hardware() -> int:
    devices = hardware()
    named = {fmt for device in devices.values() for fmt in device.peak_flops}
    formats = [fmt for fmt in _FORMAT_ORDER if fmt in named] + sorted(named - set(_FORMAT_ORDER))
    rows = [[name, *(f"{peak / 1e12:,.4g}" if (peak := device.peak_flops.get(fmt)) else "n/a"
                     for fmt in formats),
             si(device.memory, "B"), si(device.memory_bandwidth, "B/s"),
             str(device.devices_per_node)]
            for name, device in devices.items()]
    print("Dense peak TFLOP/s by number format (no sparsity; n/a: the device lacks the format), "
          "memory (GB = 1e9 bytes), memory bandwidth per device and devices per node; sources "
          "in scalingperf/data/devices.json.\n")
    print(table(["device", *formats, "memory", "memory bw", "per node"], rows, left=1))
    return 0


def _validate_verb(args: argparse.Namespace) -> int:
    from .validate import validate

    result = validate(args.source)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result)
    return 0


def _run(argv: Sequence[str] | None) -> int:
    parser = _parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as done:  # --help: printed, nothing else to do
        return done.code if isinstance(done.code, int) else 0
    if extra and args.verb == "sweep" and not any(item.startswith("-") for item in extra):
        args.spec += extra  # NAME=VALUES after an option: argparse leaves them over
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.verb == "estimate":
        return _estimate(args)
    if args.verb == "hardware":
        return _hardware()
    if args.verb == "sweep":
        return _sweep(args)
    if args.verb == "validate":
        return _validate_verb(args)
    if args.verb == "plan":
        return _cli_plan.run(args)
    if args.verb == "laws":
        return _cli_laws.run_laws(args)
    if args.verb == "fit":
        return _cli_laws.run_fit(args)
    if args.verb == "plot":
        return _cli_plot.run(args)
    for name, source in presets().items():
        print(f"{name:20s} {source}")
    return 0


def _one_line(text: str) -> str:
    """``text`` with line breaks and other unprintable characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Warnings as ``scalingperf: warning: ...``, without the source line Python adds."""
    print(f"scalingperf: warning: {message}", file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at os.devnull, so that the interpreter's last flush of what its buffer
    still holds fails no more (the Python docs' recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file behind sys.stdout (in tests)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status.

    0: done. 2: bad input, usage errors included, with one line on stderr,
    ``scalingperf: error: ...``. 1: the output (stdout or the --out file) could not be
    written; when stdout's reader closed the pipe early (``scalingperf estimate | head -1``)
    the command exits with 1 quietly, as the Python docs recommend, and on other write
    errors (a full disk) with one line. 130: interrupted (Ctrl-C), one line.
    """
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            status = _run(argv)
        sys.stdout.flush()  # here, not at exit: a closed pipe or a full disk is caught below
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        _end_progress_line()
        print("scalingperf: interrupted", file=sys.stderr)
        return 130
    except ValueError as error:
        _end_progress_line()
        print(f"scalingperf: error: {_one_line(str(error))}", file=sys.stderr)
        return 2
    except WriteError as error:
        _end_progress_line()
        print(f"scalingperf: error: cannot write out={error.filename!r}: "
              f"{error.strerror}", file=sys.stderr)
        return 1
    except OSError as error:
        _end_progress_line()
        if error.filename is None:  # writing to stdout failed
            _silence_stdout()
            print(f"scalingperf: error: cannot write the output: {error.strerror or error}",
                  file=sys.stderr)
            return 1
        print(f"scalingperf: error: {_one_line(str(error.filename))}: {error.strerror}",
              file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
