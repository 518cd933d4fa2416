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


def outcome(entry: dict) -> tuple[str, str]:
    """('exact' | 'inexact' | 'refused', detail) of one built family."""
    try:
        arch = sp.Architecture.from_hf_config(entry["hf_config"])
    except ValueError as error:
        return "refused", str(error)
    report = sp.estimate(arch, batch=entry["batch"], seq_len=entry["seq_len"])
    # transformers' Llama 4 runs every expert on every token (zero weights for the ones
    # not routed to); a training kernel, and this model, computes the top_k routed ones.
    unrouted = 0
    if entry["family"] == "llama4_text":
        tokens = entry["batch"] * entry["seq_len"]
        unrouted = (arch.n_moe_layers * (arch.n_experts - arch.top_k) * tokens
                    * 2 * 3 * arch.d_model * arch.d_ff_expert)
    forward = (report.flops.forward + unrouted) / entry["flops_forward"] - 1
    model = (report.flops.model + 3 * unrouted) / entry["flops_forward_backward"] - 1
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
