"""Measured sliding-window attention kernels, from NVIDIA cudnn-frontend's training benchmark.

Reads the result CSVs of ``benchmark/sdpa_benchmark_training`` (cuDNN fused attention,
BF16, causal from the top left, a sliding window of ``sliding_window_size`` keys, forward
pass) at one commit of a local clone of https://github.com/NVIDIA/cudnn-frontend, and writes
tests/data/attention_window_kernels.json: one row per device and sequence length with the
forward TFLOP/s the benchmark printed. The benchmark counts 2 GEMMs x 2 FLOPs per
multiply-add over the unmasked query-key pairs, W (W + 1) / 2 + (S - W) W per head: the
causal pairs scalingperf counts for a sliding window. Nothing is fitted to these rows: they
check, out of sample, the window falloff scalingperf derives from each device's
full-attention curve (Efficiency.attention_k0)::

    python tools/make_attention_window_kernels.py path/to/cudnn-frontend
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

COMMIT = "3929da2"
RESULTS = "benchmark/sdpa_benchmark_training/results"
#: (device as devices.json names it, CSV under RESULTS)
FILES = [
    ("GB200", "gpt_oss/gb200/gpt_oss_20260424_100011.csv"),
    ("GB300", "gpt_oss/gb300/gpt_oss_20260424_100022.csv"),
    ("H200", "h200_919_only_cudnn/gpt_oss_20260227_034819.csv"),
]
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "attention_window_kernels.json"


def _forward_rows(device: str, text: str) -> list[dict[str, object]]:
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        if (row["backend"], row["data_type"], row["success"]) != ("cudnn", "bfloat16", "True"):
            continue
        # Two layouts: a row per pass (profile_pass fwd / bwd, tflops) or both in one row.
        if row["profile_pass"] == "fwd":
            tflops = float(row["tflops"])
        elif row["profile_pass"] == "both":
            tflops = float(row["fwd_tflops"])
        else:
            continue
        rows.append({"device": device, "gpu_name": row["gpu_name"],
                     "cudnn": row["cudnn_backend_version"], "batch": int(row["batch_size"]),
                     "seq_len": int(row["q_seqlen"]), "heads": int(row["num_q_heads"]),
                     "kv_heads": int(row["num_kv_heads"]), "head_dim": int(row["head_dim_qk"]),
                     "window": int(row["sliding_window_size"]), "forward_tflops": tflops})
    return rows


def main(clone: str) -> None:
    rows = []
    for device, path in FILES:
        text = subprocess.run(["git", "-C", clone, "show", f"{COMMIT}:{RESULTS}/{path}"],
                              check=True, capture_output=True, text=True).stdout
        rows += _forward_rows(device, text)
    data = {"_about": ("cuDNN sliding-window attention, forward, BF16, measured by NVIDIA's "
                       "cudnn-frontend training benchmark; TFLOP/s over the window's "
                       "unmasked pairs"),
            "source": {"repo": "NVIDIA/cudnn-frontend", "commit": COMMIT,
                       "paths": [f"{RESULTS}/{path}" for _, path in FILES]},
            "rows": rows}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
