"""Efficiency.ep_overlap / estimate(ep_overlap=...): the share of the expert-parallel
all-to-alls hidden behind another micro-batch's compute (Megatron-Core's
overlap_moe_expert_parallel_comm), never more than that compute."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from typing import Any

import pytest

import scalingperf as sp

MIXTRAL = sp.Architecture.preset("mixtral-8x7b")
OPTIONS = dict(batch=1, seq_len=4096, tp=2, dp=32, ep=8, hardware="H100-SXM")


def _time(**changes: object) -> Any:
    return sp.estimate(MIXTRAL, **OPTIONS, **changes).time


def test_the_share_hidden_is_taken_off_the_all_to_alls():
    exposed, half, hidden = _time(), _time(ep_overlap=0.5), _time(ep_overlap=True)
    assert exposed.ep_communication > 0
    compute = exposed.forward + exposed.backward + exposed.recompute
    assert exposed.ep_communication < compute  # here all of it fits beside the compute
    assert half.ep_communication == pytest.approx(exposed.ep_communication / 2, rel=1e-12)
    assert hidden.ep_communication == 0
    assert hidden.step < half.step < exposed.step
    assert hidden.forward == exposed.forward
    assert hidden.tp_communication == exposed.tp_communication


def test_no_more_than_the_compute_beside_it_is_hidden():
    # A slow network: the all-to-alls outlast the micro-batch's compute.
    device = sp.hardware()["H100-SXM"]
    slow = dataclasses.replace(device, name="slow IB", inter_node_bandwidth=2e9)
    options = {**OPTIONS, "hardware": slow}
    exposed = sp.estimate(MIXTRAL, **options).time
    hidden = sp.estimate(MIXTRAL, ep_overlap=1.0, **options).time
    compute = exposed.forward + exposed.backward + exposed.recompute
    assert exposed.ep_communication > compute
    assert hidden.ep_communication == pytest.approx(exposed.ep_communication - compute,
                                                    rel=1e-12)


def test_an_efficiency_carries_it_into_sweeps():
    efficiency = sp.Efficiency(matmul=0.7, attention=0.5, ep_overlap=0.75)
    grid = sp.Grid(d_model=[1024, 2048], n_layers=[8], n_heads=16, n_experts=8, top_k=2,
                   seq_len=2048, batch=1, dp=16, ep=[1, 8], efficiency=efficiency)
    result = sp.sweep(grid)
    for i in range(len(result)):
        assert result.report(i).time.step == result["step_time"][i]
    assert repr(efficiency).count("ep_overlap=0.75") == 1


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "most"])
def test_bad_values_are_refused_by_name(value):
    with pytest.raises(ValueError, match="ep_overlap"):
        sp.estimate(MIXTRAL, ep_overlap=value, **OPTIONS)
    with pytest.raises(ValueError, match="ep_overlap"):
        sp.Efficiency(ep_overlap=value)


def test_the_cli_takes_it():
    base = ["scalingperf", "estimate", "--preset", "mixtral-8x7b", "--seq-len", "4096",
            "--dp", "32", "--ep", "8", "--json"]
    plain = json.loads(subprocess.run(base, capture_output=True, text=True, check=True).stdout)
    overlapped = json.loads(subprocess.run([*base, "--ep-overlap", "1"], capture_output=True,
                                           text=True, check=True).stdout)
    assert overlapped["assumptions"]["efficiency"]["ep_overlap"] == 1
    assert overlapped["time"]["ep_communication"] < plain["time"]["ep_communication"]
    bad = subprocess.run([*base, "--ep-overlap", "2"], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "ep_overlap" in bad.stderr
