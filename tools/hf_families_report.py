#!/usr/bin/env python3
"""Which transformers causal-LM families ``from_hf_config`` reads exactly, and why the
others are refused, from the golden data of ``tools/make_golden_hf_families.py``.

    python tools/hf_families_report.py            # the summary line
    python tools/hf_families_report.py --list     # one line per family
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import scalingperf as sp

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "data" / "hf_families.json"


def unrouted_expert_flops(entry: dict, arch: sp.Architecture) -> int:
    """Forward FLOPs transformers' Llama 4 code spends on the experts a token was not routed
    to: it runs every expert on every token with a zero routing weight. A training kernel
    (and this model) computes only the top_k routed ones."""
    if entry["family"] != "llama4_text":
        return 0
    tokens = entry["batch"] * entry["seq_len"]
    return (arch.n_moe_layers * (arch.n_experts - arch.top_k) * tokens
            * 2 * 3 * arch.d_model * arch.d_ff_expert)


def expected_flops(entry: dict, arch: sp.Architecture) -> tuple[float, float]:
    """The golden forward and forward + backward FLOPs less what FlopCounterMode counts
    and this model does not:

    - Llama 4's unrouted experts (:func:`unrouted_expert_flops`; 3 times in both);
    - a hybrid's scan, which transformers' CPU path runs as chunked matmuls and the core
      reports as elementwise work (``linear_scan``), set apart by the generator;
    - the depthwise convolution's outputs for the K - 1 padding positions, which
      transformers computes and drops (a causal kernel does not), and in the backward
      FlopCounterMode's ``convolution_backward`` formula, which leaves out groups and so
      counts a depthwise convolution's weight gradient once per channel: the golden
      convolution backward is replaced by twice the forward (input and weight gradients,
      each one forward's work), over the S kept outputs.
    """
    unrouted = unrouted_expert_flops(entry, arch)
    forward = entry["flops_forward"] - unrouted
    both = entry["flops_forward_backward"] - 3 * unrouted
    if entry.get("linear_mixers"):
        s, k = entry["seq_len"], arch.linear_conv_kernel
        conv = entry["forward_conv"]
        forward -= entry["forward_scan"] + conv * (k - 1) / (s + k - 1)
        both += (-entry["forward_backward_scan"] - entry["forward_backward_conv"]
                 + 3 * conv * s / (s + k - 1))
    return forward, both


def outcome(entry: dict) -> tuple[str, str]:
    """('exact' | 'inexact' | 'refused', detail) of one built family."""
    try:
        arch = sp.Architecture.from_hf_config(entry["hf_config"])
    except ValueError as error:
        return "refused", str(error)
    report = sp.estimate(arch, batch=entry["batch"], seq_len=entry["seq_len"])
    golden_forward, golden_both = expected_flops(entry, arch)
    forward = report.flops.forward / golden_forward - 1
    model = report.flops.model / golden_both - 1
    exact = (report.params.total == entry["params"] and abs(forward) <= 1e-3
             and abs(model) <= 1e-3)
    detail = (f"params {report.params.total - entry['params']:+d}, forward {forward:+.4%}, "
              f"forward+backward {model:+.4%}")
    return ("exact" if exact else "inexact"), detail


def main(argv: list[str]) -> int:
    data = json.loads(GOLDEN.read_text())
    counts: dict[str, int] = {}
    lines = []
    for entry in data["families"]:
        if entry["status"] != "built":
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
            lines.append(f"{entry['family']:28s} {entry['status']:13s} {entry['reason']}")
            continue
        kind, detail = outcome(entry)
        counts[kind] = counts.get(kind, 0) + 1
        lines.append(f"{entry['family']:28s} {kind:13s} {detail}")
    if "--list" in argv:
        print("\n".join(lines))
    built = sum(counts.get(k, 0) for k in ("exact", "inexact", "refused"))
    print(f"transformers {data['transformers']}: {len(data['families'])} causal-LM families, "
          f"{built} built as decoders: {counts.get('exact', 0)} read exactly, "
          f"{counts.get('inexact', 0)} read inexactly, {counts.get('refused', 0)} refused; "
          f"{counts.get('skipped', 0)} skipped (encoders, encoder-decoders, wrappers), "
          f"{counts.get('build_failed', 0) + counts.get('config_failed', 0)} did not build")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
