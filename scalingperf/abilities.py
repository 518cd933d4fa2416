"""Emergent abilities and the training compute at which they appeared.

The table is Table 1 of Wei et al. 2022, "Emergent Abilities of Large Language Models"
(TMLR), shipped as package data (``data/emergent_abilities.json``) with each row's
citation and whether it was checked against the paper. An ability "emerged" at the
smallest model of a family that performed above chance; a run of the same compute in
another family, on other data or with another tokenizer need not show it. Treat these as
historical reference points, not a prediction.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from . import _validate

__all__ = ["CATEGORIES", "Ability", "abilities", "abilities_at", "emergence_for"]

#: Table 1's two groups: few-shot prompted tasks and augmented prompting strategies.
CATEGORIES = ("few-shot", "augmented")


@dataclass(frozen=True)
class Ability:
    """One emergent ability: where it appeared, in FLOPs and parameters.

    Attributes
    ----------
    key : str
        Short identifier, e.g. "calibration-p-true".
    name : str
        The row label of Table 1, e.g. "Calibration via P(True)".
    category : str
        "few-shot" (few-shot prompted task) or "augmented" (augmented prompting strategy).
    model : str
        Model family in which it emerged (GPT-3, LaMDA, Gopher, Chinchilla, PaLM, ...).
    train_flops : float
        Training FLOPs of the smallest model that showed it.
    params : float
        Parameters of that model.
    reference : str
        The paper Table 1 cites for the row.
    benchmark : str or None
        The benchmark's own paper, where the ability names one.
    verified : bool
        Whether the row was checked against Wei et al.'s Table 1.
    note : str or None
    """

    key: str
    name: str
    category: str
    model: str
    train_flops: float
    params: float
    reference: str
    benchmark: str | None
    verified: bool
    note: str | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@cache
def _table() -> tuple[Ability, ...]:
    text = resources.files("scalingperf").joinpath("data/emergent_abilities.json").read_text(
        encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return tuple(
        Ability(key=row["key"], name=row["name"], category=row["category"],
                model=row["model"], train_flops=float(row["train_flops"]),
                params=float(row["params"]), reference=row["reference"],
                benchmark=row.get("benchmark"), verified=bool(row["verified"]),
                note=row.get("note"))
        for row in data["abilities"])


@cache
def _by_name() -> dict[str, Ability]:
    names: dict[str, Ability] = {}
    for ability in _table():
        names[_slug(ability.key)] = ability
        names[_slug(ability.name)] = ability
    return names


def _ordered(rows: tuple[Ability, ...] | list[Ability]) -> list[Ability]:
    # Python's sort is stable: equal FLOPs keep Table 1's order.
    return sorted(rows, key=lambda a: a.train_flops)


def abilities(category: str | None = None) -> list[Ability]:
    """All abilities of the table, by increasing training FLOPs.

    Parameters
    ----------
    category : str, optional
        "few-shot" or "augmented" to keep one of Table 1's groups.

    Returns
    -------
    list of Ability
    """
    rows = _table()
    if category is not None:
        if category not in CATEGORIES:
            msg = f"category={category!r} is invalid: it must be one of {', '.join(CATEGORIES)}"
            raise ValueError(msg)
        rows = tuple(a for a in rows if a.category == category)
    return _ordered(rows)


def abilities_at(flops: float, category: str | None = None) -> list[Ability]:
    """The abilities that had emerged at or below ``flops`` training FLOPs.

    Parameters
    ----------
    flops : float
        Training compute, > 0 (e.g. ``units.pf_days_to_flops(3640)`` for GPT-3 175B).
    category : str, optional
        "few-shot" or "augmented" to keep one of Table 1's groups.

    Returns
    -------
    list of Ability
        Those with ``train_flops <= flops``, by increasing training FLOPs.

    Examples
    --------
    >>> [a.key for a in abilities_at(1e21)]
    ['scratchpad-8-digit-addition']
    """
    budget = _validate.real("flops", flops)
    if budget <= 0:
        msg = f"flops={budget!r} is invalid: it must be positive"
        raise ValueError(msg)
    return [a for a in abilities(category) if a.train_flops <= budget]


def emergence_for(name: str) -> Ability:
    """One ability by key or Table 1 name (case, spaces and punctuation are ignored).

    Parameters
    ----------
    name : str
        E.g. "calibration-p-true", "Calibration via P(True)" or "truthfulqa".

    Returns
    -------
    Ability
        With the training FLOPs (``train_flops``) and parameters (``params``) at which it
        emerged.
    """
    key = _slug(_validate.text("name", name))
    found = _by_name().get(key)
    if found is None:
        msg = (f"name={name!r} is invalid: known abilities are "
               f"{', '.join(a.key for a in _table())}")
        raise ValueError(msg)
    return found
