"""The README's examples run as printed: every ```python block, top to bottom in one
namespace, and the quick start's `scalingperf estimate`."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"

#: A Hugging Face config.json as `Architecture.from_hf_config("config.json")` reads it
#: (Mistral-7B-v0.1's shape).
CONFIG = {"model_type": "mistral", "architectures": ["MistralForCausalLM"],
          "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
          "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 32000,
          "max_position_embeddings": 32768, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
          "tie_word_embeddings": False, "hidden_act": "silu"}

#: Names the README's examples leave to the reader: a grid of model sizes and the
#: reader's own training runs. Everything else a block uses, the README defines.
USER_DATA = ("N_grid", "N", "D", "loss", "C", "run_id")


def blocks(language: str) -> list[tuple[int, str]]:
    """The README's fenced blocks of ``language``, each with the line it starts on."""
    text = README.read_text()
    pattern = re.compile(rf"^```{language}\n(.*?)^```", re.DOTALL | re.MULTILINE)
    return [(text.count("\n", 0, match.start()) + 2, match.group(1))
            for match in pattern.finditer(text)]


def user_runs() -> dict[str, Any]:
    """Training runs as a reader would have them, made with Chinchilla's approach-3 law:
    isoFLOP runs at budgets doubling from 1e18 FLOPs, nine sizes each, with checkpoints at
    a quarter, a half and all of each run's tokens (a checkpoint's FLOPs are the budget two
    or one steps down, so the isoFLOP profiles are exact)."""
    from scalingperf import laws

    budgets = 1e18 * 2.0 ** np.arange(-2, 5)
    sizes = np.geomspace(2e7, 2e9, 9)
    n, d, c, run_id = [], [], [], []
    for k in range(2, len(budgets)):
        for j, size in enumerate(sizes):
            for m in range(3):
                n.append(size)
                c.append(budgets[k - m])
                d.append(budgets[k - m] / (6 * size))
                run_id.append(f"C{k}-N{j}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", laws.ExtrapolationWarning)
        loss = laws.Chinchilla2022(approach=3).loss(np.array(n), np.array(d))
    return {"N_grid": np.geomspace(1e8, 1e11, 20), "N": np.array(n), "D": np.array(d),
            "loss": loss, "C": np.array(c), "run_id": run_id}


def test_readme_python_blocks_run_as_printed(tmp_path, monkeypatch):
    from scalingperf import laws

    python = blocks("python")
    assert len(python) >= 5
    text = README.read_text()
    for name in USER_DATA:  # still used, so the list does not outlive the README
        assert re.search(rf"\b{name}\b", text), name
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "readme", **user_runs()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for line, code in python:
            exec(compile(code, f"README.md, block at line {line}", "exec"), namespace)  # noqa: S102
    # The README says that values beyond a law's data warn; nothing else may.
    others = [w for w in caught if not issubclass(w.category, laws.ExtrapolationWarning)]
    assert not others, [str(w.message) for w in others]
    # What the blocks claim in their comments, checked where they give a number.
    assert namespace["arch"].d_model == CONFIG["hidden_size"]  # read from config.json
    assert namespace["r"].memory.fits  # llama-3-70b over 1,024 GPUs fits
    assert 0.4 < namespace["fit"].a < 0.5  # the runs were made with a = 0.45


def test_readme_quick_start_estimate_runs_and_states_its_assumptions():
    quick_start = blocks("bash")[0][1]
    commands = [shlex.split(part) for line in quick_start.splitlines()
                for part in line.split("&&") if part.strip().startswith("scalingperf")]
    assert commands == [["scalingperf", "estimate"]]
    result = subprocess.run(commands[0], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "llama-2-7b: batch 1 x seq_len 4096" in out  # as the README says
    assumptions = out.split("Assumptions\n", 1)[1].split("\n\n", 1)[0].splitlines()
    labels = [line.split("  ")[1] for line in assumptions]
    assert labels == ["precision", "optimizer", "ZeRO stage", "recomputation", "devices",
                      "micro-batch", "flash attention", "activations", "efficiency"]
    assert out.index("Assumptions") < out.index("mlp_gate") < out.index("6.74 B params")
