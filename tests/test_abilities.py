"""Emergent abilities (Wei et al. 2022, Table 1): data schema, lookups, monotone in FLOPs."""

from __future__ import annotations

import dataclasses
import json
import math
from importlib import resources

import pytest

from scalingperf import abilities as ab
from scalingperf import units

# Wei et al. 2022 (TMLR), Table 1, a few rows as printed: (name, FLOPs, params, model).
TABLE_1_SAMPLE = [
    ("Addition/subtraction (3 digit)", 2.3e22, 13e9, "GPT-3"),
    ("Truthfulness (Truthful QA)", 5.0e23, 280e9, "Gopher"),
    ("MMLU Benchmark (30 topics)", 5.0e23, 70e9, "Chinchilla"),
    ("Word in Context (WiC) benchmark", 2.5e24, 540e9, "PaLM"),
    ("Scratchpad: 8-digit addition (finetuning)", 8.9e19, 40e6, "LaMDA"),
    ("Chain-of-thought: Math word problems", 1.3e23, 68e9, "LaMDA"),
    ("Calibration via P(True)", 2.6e23, 52e9, "Anthropic"),
]


def _data():
    text = resources.files("scalingperf").joinpath("data/emergent_abilities.json").read_text(
        encoding="utf-8")
    return json.loads(text)


def test_data_schema():
    data = _data()
    assert data["schema"] == 1
    assert "Table 1" in data["source"]
    assert "Wei" in data["source"]
    rows = data["abilities"]
    assert len(rows) == 22  # Table 1 has 23 rows; "Many BIG-Bench tasks" has no numbers
    assert [r["name"] for r in data["not_tabulated"]] == ["Many BIG-Bench tasks (see Appendix E)"]
    fields = {"key", "name", "category", "model", "train_flops", "params", "reference",
              "benchmark", "verified", "note"}
    for row in rows:
        assert set(row) == fields, row["key"]
        assert row["category"] in ab.CATEGORIES
        assert isinstance(row["verified"], bool)
        assert math.isfinite(row["train_flops"])
        assert 1e19 < row["train_flops"] < 1e25
        assert 1e7 < row["params"] < 1e12
        assert row["reference"].endswith(")")
    assert len({r["key"] for r in rows}) == len(rows)
    assert len({r["name"] for r in rows}) == len(rows)
    assert sum(r["category"] == "few-shot" for r in rows) == 9
    assert sum(r["category"] == "augmented" for r in rows) == 13


def test_training_flops_are_about_6nd():
    """A sanity check on the table: FLOPs / (6 N) gives a plausible token count."""
    for ability in ab.abilities():
        tokens = ability.train_flops / (6 * ability.params)
        assert 1e10 < tokens < 5e12, ability.key


@pytest.mark.parametrize(("name", "flops", "params", "model"), TABLE_1_SAMPLE)
def test_table_1_values(name, flops, params, model):
    ability = ab.emergence_for(name)
    assert ability.name == name
    assert ability.train_flops == flops
    assert ability.params == params
    assert ability.model == model
    assert ability.verified


def test_abilities_are_frozen_dataclasses():
    ability = ab.abilities()[0]
    assert dataclasses.is_dataclass(ability)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ability.train_flops = 1.0  # type: ignore[misc]


def test_abilities_order_and_categories():
    rows = ab.abilities()
    assert len(rows) == 22
    assert [a.train_flops for a in rows] == sorted(a.train_flops for a in rows)
    few_shot = ab.abilities("few-shot")
    augmented = ab.abilities("augmented")
    assert len(few_shot) + len(augmented) == len(rows)
    assert {a.category for a in few_shot} == {"few-shot"}
    assert rows[0].key == "scratchpad-8-digit-addition"
    assert rows[-1].key == "word-in-context"


def test_abilities_at_is_monotone_and_covers_the_table():
    rows = ab.abilities()
    budgets = sorted({a.train_flops for a in rows} | {1e18, 1e21, 1e23, 1e26})
    previous: set[str] = set()
    for budget in budgets:
        current = {a.key for a in ab.abilities_at(budget)}
        assert previous <= current
        previous = current
    assert ab.abilities_at(1e18) == []
    assert ab.abilities_at(1e26) == rows
    # At exactly an ability's FLOPs it has emerged ("at or below").
    for ability in rows:
        assert ability in ab.abilities_at(ability.train_flops)
        assert ability not in ab.abilities_at(ability.train_flops * 0.999)


def test_abilities_at_gpt3():
    # GPT-3 175B: 3.14e23 FLOPs (Brown et al. 2020, Table D.1) is above Table 1's 3.1e23.
    keys = {a.key for a in ab.abilities_at(units.pf_days_to_flops(3640))}
    assert {"addition-subtraction-4-5-digit", "mmlu-57-topics", "zero-shot-chain-of-thought",
            "calibration-p-true"} <= keys
    assert "truthfulqa" not in keys  # Gopher, 5.0e23
    assert "word-in-context" not in keys  # PaLM, 2.5e24
    assert [a.key for a in ab.abilities_at(3.14e23, "few-shot")] == [
        "toxicity-classification-civilcomments", "addition-subtraction-3-digit",
        "addition-subtraction-4-5-digit", "mmlu-57-topics", "grounded-conceptual-mappings"]


@pytest.mark.parametrize("spelling", ["calibration-p-true", "Calibration via P(True)",
                                      "calibration via p true", "CALIBRATION_P_TRUE"])
def test_emergence_for_spellings(spelling):
    assert ab.emergence_for(spelling).key == "calibration-p-true"


def test_bad_input():
    with pytest.raises(ValueError, match=r"^name='telepathy' is invalid"):
        ab.emergence_for("telepathy")
    with pytest.raises(ValueError, match=r"^name=3 is invalid"):
        ab.emergence_for(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^category='zero-shot' is invalid"):
        ab.abilities("zero-shot")
    for bad in (0, -1e20, math.nan, math.inf, "1e20", None):
        with pytest.raises(ValueError, match=r"^flops="):
            ab.abilities_at(bad)  # type: ignore[arg-type]
