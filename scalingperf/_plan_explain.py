"""A plan in words and numbers: the laws side by side, the winner, and why it won."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from ._format import attention_curves, count, duration, gemm_falloff, gib, si, table

if TYPE_CHECKING:
    from .plan import Plan

#: Extrapolation notes printed under a plan; the rest stay in ``plan.caveats``.
_SHOWN_CAVEATS = 3


def _days(value: float) -> str:
    return f"{value:.3g} days"


def sci(value: float) -> str:
    """A large number as 5.76e23 (no "+" in the exponent)."""
    return f"{value:.3g}".replace("e+", "e")


def _rate(value: float) -> str:
    """A learning rate as 3.33e-4."""
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _law_name(law: Any) -> str:
    name = type(law).__name__
    return {"Chinchilla2022": "Chinchilla 2022 approach 3", "Besiroglu2024": "Besiroglu 2024",
            "Kaplan2020": "Kaplan 2020",
            "Muennighoff2023": "Muennighoff 2023 (data-constrained)"}.get(name, repr(law))


def _shape(row: dict[str, Any]) -> str:
    heads = row["d_model"] // row["head_dim"] if row["n_heads"] == 0 else row["n_heads"]
    text = (f"d_model {row['d_model']:,} x {row['n_layers']} layers, {heads} heads of "
            f"{row['head_dim']}, {row['ffn']} d_ff {row['d_ff']:,}")
    if row["n_experts"] > 1:
        text += f", {row['n_experts']} experts top-{row['top_k']}"
    return text


def _short(row: dict[str, Any]) -> str:
    experts = f", {row['n_experts']}E top-{row['top_k']}" if row["n_experts"] > 1 else ""
    return f"{row['d_model']} x {row['n_layers']}{experts} ({row['family']})"


def _layout(row: dict[str, Any]) -> str:
    expert = f" x ep {row['ep']}" if row["ep"] > 1 else ""
    m = row["microbatches"]
    return (f"tp {row['tp']} x pp {row['pp']}{expert} x dp {row['dp']}, ZeRO-{row['zero']}, "
            f"micro-batch {row['batch']}, {m} micro-batch{'es' if m != 1 else ''} per step, "
            f"recompute {row['recompute']}")


def _question(p: Plan) -> str:
    device = f"{p.gpus:,} x {p.hardware.name} ({p.dtype})"
    if p.days_limit is not None:
        head = (f"Plan for {p.days_limit:.3g} days on {device}: {sci(p.compute)} FLOPs at "
                f"{p.assumed_mfu:.1%} MFU (what a first search's winner reached)")
        if p.compute_limit is not None and p.compute_limit <= p.compute:
            head += f" (capped by the {sci(p.compute_limit)}-FLOP budget)"
    else:
        head = f"Plan for {sci(p.compute)} FLOPs on {device}"
    tokens = p.seq_len * p.global_batch
    head += (f"\n  sequences of {p.seq_len:,} tokens, {p.global_batch:,} per step "
             f"({count(tokens, 'tokens')}); ranked by {_law_name(p.law)}")
    if p.inference_tokens is not None:
        head += (f"\n  serving {count(p.inference_tokens, 'tokens')} after training: the "
                 "budget is lifetime FLOPs, sized by Sardana et al. 2024")
    if p.unique_tokens is not None:
        head += (f"\n  {count(p.unique_tokens, 'unique tokens')} of data: epochs beyond the "
                 "first are worth less (Muennighoff et al. 2023)")
    return head


def _laws_table(p: Plan) -> str:
    """Each law's allocation of the budget: law, what its N counts, N, D, D/N and the loss
    there (* where the law extrapolates beyond its data)."""
    rows = [[row.law + ("*" if row.extrapolated else ""), row.params_convention,
             "-" if row.params is None else count(row.params, "").rstrip(),
             "-" if row.tokens is None else count(row.tokens, "").rstrip(),
             "-" if row.tokens_per_param is None else f"{row.tokens_per_param:.3g}",
             "-" if row.loss is None else f"{row.loss:.4g}"]
            for row in p.laws.rows if row.params is not None]
    return table(["law", "N counts", "params", "tokens", "tokens/param", "loss"], rows)


def _laws(p: Plan) -> str:
    return (f"Loss-optimal size by law at {sci(p.compute)} FLOPs (* extrapolated beyond "
            "the law's data)\n  " + _laws_table(p).replace("\n", "\n  "))


_HYPER_NAMES = {"DeepSeek2024": "DeepSeek 2024", "StepLaw2025": "Step Law 2025"}


def _hyper_rows(p: Plan) -> list[tuple[str, str]]:
    """The learning rate and batch each law predicts, the first law's in front, and how the
    plan's own batch compares (* where the law extrapolates)."""
    if not p.hyperparameters:
        return []
    marks = [_HYPER_NAMES.get(h.law, h.law) + ("*" if h.extrapolated else "")
             for h in p.hyperparameters]
    first, *others = p.hyperparameters
    inputs = first.inputs
    where = (f"C = M D = {sci(inputs['C'])} FLOPs" if "C" in inputs
             else ", ".join(f"{k} {sci(v)}" for k, v in inputs.items()))
    lr = (f"{_rate(first.learning_rate)} peak by {marks[0]} ({first.source.split(', ')[-1]} at "
          f"{where})" + "".join(f"; {m}: {_rate(h.learning_rate)}"
                                for m, h in zip(marks[1:], others, strict=True)))
    batch = (f"{count(first.batch_tokens, 'tokens')} ({first.batch_sequences:,.0f} sequences) "
             f"by {marks[0]}" + "".join(
                 f"; {m}: {count(h.batch_tokens, 'tokens')} ({h.batch_sequences:,.0f})"
                 for m, h in zip(marks[1:], others, strict=True)))
    ratios = " and ".join(f"{h.plan_batch_ratio:.2g}x" for h in p.hyperparameters)
    own = (f"the plan steps with {count(p.seq_len * p.global_batch, 'tokens')} "
           f"({p.global_batch:,} sequences), {ratios} those; --global-batch times another")
    rows = [("lr", lr), ("batch", batch), ("", own)]
    if any(h.extrapolated for h in p.hyperparameters):
        rows.append(("", "* beyond the runs the law was fitted on (plan.caveats)"))
    return rows


def _answer(p: Plan, row: dict[str, Any]) -> str:
    r = p.best
    training = r.training(p.tokens)
    if p.compute_limit is None:  # the time is given: how many tokens it buys is uncertain
        low, high = p.tokens_interval()
        spread = (f"{p.level:.0%} interval {count(low, '').rstrip()} to "
                  f"{count(high, 'tokens')}")
    else:
        lo, hi = p.days_interval()
        spread = f"{p.level:.0%} interval {lo:.3g}-{hi:.3g} days"
    m = r.memory
    active = (f", {count(r.params.active, 'active per token')}"
              if r.params.active != r.params.total else "")
    rows = [
        ("model", f"{_shape(row)} ({p.family} family)"),
        ("", f"{count(r.params.total, 'params')}{active}"),
        ("layout", _layout(row)),
        ("training", (f"{count(p.tokens, 'tokens')} in {_days(p.days)} ({spread}, from "
                      f"the validation residuals); {si(float(training['gpu_hours']))} "
                      "GPU-hours")),
        ("loss", f"{p.loss:.4g} predicted by {_law_name(p.law)}"
                 + ("; routed experts counted as Clark et al. 2022's effective dense size"
                    if row["n_experts"] > 1 else "")),
        ("memory", (f"{gib(m.per_gpu)} of {gib(m.capacity)} per GPU "
                    f"({1 - m.per_gpu / m.capacity:.0%} headroom)")),
        ("speed", (f"step {duration(r.time.step)}, {count(r.time.tokens_per_s, 'tokens/s')}, "
                   f"MFU {r.mfu:.1%}, TP efficiency {r.tp_efficiency:.1%}, pipeline bubble "
                   f"{r.pipeline_bubble:.1%}")),
        *_hyper_rows(p),
    ]
    width = max(len(label) for label, _ in rows)
    return "Answer\n" + "\n".join(f"  {label.ljust(width)}  {text}" for label, text in rows)


def _versus(p: Plan, i: int, what: str) -> str:
    c = p.candidates
    row = c.row(i)
    loss = row["loss"] - p.loss
    faster = 1 - row["days"] / p.days
    speed = (f"{abs(faster):.0%} {'sooner' if faster > 0 else 'later'}" if abs(faster) >= 0.005
             else "about as long")
    return (f"{what}: {_short(row)} on {_layout(row).split(',')[0]}: loss {loss:+.4f}, "
            f"{_days(row['days'])} ({speed}), MFU {row['mfu']:.1%}, TP efficiency "
            f"{row['tp_efficiency']:.1%}, {gib(row['memory_per_gpu'])}/GPU")


def _reasons(p: Plan, row: dict[str, Any]) -> list[str]:
    c = p.candidates
    shape_keys = np.stack([c["d_model"], c["n_layers"], c["head_dim"], c["n_experts"],
                           c["top_k"]], axis=1)
    same = np.all(shape_keys == shape_keys[0], axis=1)
    tried = (f"{len(c):,} configurations that fit in memory ({p.shapes} shapes x the "
             f"layouts of {p.gpus:,} GPUs: {p.layouts_tried:,} tried)")
    lowest = int(np.argmin(c["loss"]))
    if p.slack > 0:
        ties = int(np.count_nonzero(c["loss"] <= c["loss"][lowest] + p.slack))
        lines = [(f"Shortest run of the {ties:,} of {tried} whose predicted loss is "
                  f"within {p.slack:.4f} of the lowest: what {p.tolerance:.0%} more compute "
                  "buys at the optimum.")]
        if lowest != 0:
            lines.append(_versus(p, lowest, "Lowest predicted loss"))
    else:
        lines = [f"Lowest predicted loss of {tried}."]
    others = np.flatnonzero(~same)
    if len(others):
        lines.append(_versus(p, int(others[0]), "Runner-up shape"))
    dense = np.flatnonzero(c["n_experts"] <= 1)
    if row["n_experts"] > 1 and len(dense):
        lines.append(_versus(p, int(dense[0]), "Best dense model"))
    fastest = int(np.argmin(c["days"]))
    if c["days"][fastest] < p.days * 0.995:
        lines.append(_versus(p, fastest, "Shortest run"))
    layouts = np.flatnonzero(same)
    if len(layouts) > 1:
        second = int(layouts[1])
        step = c["step_time"][second] / c["step_time"][0] - 1
        lines.append(f"Layout: the fastest of the {len(layouts):,} layouts of this model that "
                     f"fit; the next ({_layout(c.row(second))}) steps "
                     f"{step:.1%} slower.")
    if row["tp"] > 1:
        lines.append(f"Tensor parallel {row['tp']} keeps {p.best.tp_efficiency:.1%} of the "
                     "per-GPU throughput of tp 1 (GEMM shapes and all-reduces), traded for "
                     "the memory it saves.")
    return lines


def _assumptions(p: Plan) -> str:
    e = p.hardware.default_efficiency
    rows = [("precision", (f"{p.dtype} weights, activations and matmuls; AdamW with fp32 "
                          "master weights, momentum and variance")),
            ("attention", ("flash (fused) kernels, no dropout; activations saved as in "
                          "Megatron-LM")),
            ("efficiency", (f"{p.hardware.name} defaults: {e.matmul:.0%} of peak matmul "
                           f"FLOP/s{gemm_falloff(e)}, attention {e.attention:.0%}"
                           f"{attention_curves(e)}, {e.memory:.0%} of memory bandwidth, "
                           f"{e.network:.0%} of network bandwidth")),
            ("model", "rotary positions, RMSNorm, SwiGLU, 32,000-token vocabulary")]
    width = max(len(label) for label, _ in rows)
    return "Assumptions\n" + "\n".join(f"  {label.ljust(width)}  {text}" for label, text in rows)


def explain(p: Plan) -> str:
    row = p.candidates.row(0)
    parts = [_question(p), _laws(p), _answer(p, row),
             "Why this one\n" + "\n".join(f"  - {line}" for line in _reasons(p, row)),
             _assumptions(p)]
    if p.caveats:
        shown = p.caveats[:_SHOWN_CAVEATS]
        more = len(p.caveats) - len(shown)
        parts.append("Extrapolation\n" + "\n".join(f"  - {text}" for text in shown)
                     + (f"\n  ({more} more in plan.caveats)" if more else ""))
    return "\n\n".join(parts)


def plan_dict(p: Plan, rows: int = 10) -> dict[str, Any]:
    """The plan as plain Python values, for JSON."""
    lo, hi = p.days_interval()
    keep = min(rows, len(p.candidates))
    return {
        "question": {"compute": p.compute_limit, "days": p.days_limit, "gpus": p.gpus,
                     "hardware": p.hardware.name, "dtype": p.dtype,
                     "unique_tokens": p.unique_tokens, "seq_len": p.seq_len,
                     "global_batch": p.global_batch, "law": _law_name(p.law),
                     "inference_tokens": p.inference_tokens},
        "compute": p.compute,
        "assumed_mfu": p.assumed_mfu,
        "laws": p.laws.to_dict()["rows"],
        "best": {"family": p.family, "layout": p.layout,
                 "tokens_interval": list(p.tokens_interval()),
                 "architecture": p.best.architecture.to_dict(),
                 "params": p.best.params.total, "active_params": p.best.params.active,
                 "tokens": p.tokens, "days": p.days, "days_interval": [lo, hi],
                 "level": p.level, "loss": p.loss, "memory_per_gpu": p.best.memory.per_gpu,
                 "memory_capacity": p.best.memory.capacity, "mfu": p.best.mfu,
                 "tp_efficiency": p.best.tp_efficiency, "step_time": p.best.time.step,
                 "tokens_per_s": p.best.time.tokens_per_s,
                 "hyperparameters": [asdict(h) for h in p.hyperparameters]},
        "candidates": {"count": len(p.candidates), "shapes": p.shapes,
                       "layouts_tried": p.layouts_tried,
                       "top": [p.candidates.row(i) for i in range(keep)]},
        "caveats": list(p.caveats),
    }


def candidates_table(p: Plan, rows: int = 10) -> str:
    """The best ``rows`` models, each on its best layout: shape, family, layout, size,
    memory, speed, tokens, days and loss, each with its unit."""
    c = p.candidates
    body: list[list[str]] = []
    seen: set[tuple[int, ...]] = set()
    for i in range(len(c)):
        if len(body) >= rows:
            break
        row = c.row(i)
        key = tuple(row[k] for k in ("d_model", "n_layers", "head_dim", "n_experts", "top_k"))
        if key in seen:
            continue
        seen.add(key)
        experts = f" {row['n_experts']}E/{row['top_k']}" if row["n_experts"] > 1 else ""
        layout = f"{row['tp']}/{row['pp']}/{row['ep']}/{row['dp']}"
        body.append([f"{row['d_model']} x {row['n_layers']}{experts}", row["family"],
                     layout, str(row["zero"]), str(row["batch"]), row["recompute"],
                     count(row["params_total"], "").rstrip(), gib(row["memory_per_gpu"]),
                     f"{row['mfu']:.1%}", count(row["tokens"], "").rstrip(),
                     f"{row['days']:.3g}", f"{row['loss']:.4f}"])
    return table(["model", "family", "tp/pp/ep/dp", "ZeRO", "micro-batch", "recompute",
                  "params", "memory/GPU", "MFU", "tokens", "days", "loss"], body, left=2)
