"""The plan's learning rate and batch size: Bi et al. 2024 (DeepSeek LLM) from the training
compute, Li et al. 2025 (the Step Law) from the parameters and tokens, side by side."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

from . import laws


@dataclass(frozen=True)
class HyperParameters:
    """The peak learning rate and the batch one law predicts for a run.

    Attributes
    ----------
    law : str
        The law's class in :mod:`scalingperf.laws`: ``"DeepSeek2024"`` or ``"StepLaw2025"``.
    source : str
        Paper and equation.
    learning_rate : float
        Peak (post-warm-up) AdamW learning rate, dimensionless.
    batch_tokens : float
        Tokens per optimizer step.
    batch_sequences : float
        ``batch_tokens`` in sequences of the run's length (not rounded).
    plan_batch_ratio : float
        The run's own tokens per step over ``batch_tokens``: below 1, the run steps with a
        smaller batch than the law's optimum.
    inputs : dict of str to float
        What the law was evaluated at, in its units: ``M`` (non-embedding FLOPs per token),
        ``D`` (tokens) and ``C = M D`` (FLOPs) for DeepSeek2024; ``N`` (non-embedding
        parameters) and ``D`` (tokens) for StepLaw2025.
    extrapolated : bool
        Whether an input lies outside the runs the law was fitted on.
    """

    law: str
    source: str
    learning_rate: float
    batch_tokens: float
    batch_sequences: float
    plan_batch_ratio: float
    inputs: dict[str, float]
    extrapolated: bool


def flops_per_token(non_embedding_params: float, n_layers: int, attention_width: int,
                    seq_len: int) -> float:
    """Bi et al. 2024's model scale ``M``, non-embedding training FLOPs per token with
    attention's (§3.1): ``6 N + 12 n_layer d_attn l_seq``. With ``N = 12 n_layer d_model^2``
    and ``d_attn = d_model`` it is their eq. 2, ``72 n_layer d_model^2 + 12 n_layer d_model
    l_seq``; written with ``N`` it also holds for gated feed-forwards and grouped queries."""
    return 6.0 * non_embedding_params + 12.0 * n_layers * attention_width * seq_len


def _quietly(call: Callable[[], tuple[float, float]]) -> tuple[float, float, list[str]]:
    """``call()``, with the ExtrapolationWarnings it raises returned as text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", laws.ExtrapolationWarning)
        lr, batch = call()
    notes = [str(w.message) for w in caught if issubclass(w.category, laws.ExtrapolationWarning)]
    for w in caught:
        if not issubclass(w.category, laws.ExtrapolationWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return lr, batch, notes


def predict(non_embedding_params: float, n_layers: int, attention_width: int, seq_len: int,
            tokens: float, global_batch: int, *,
            deepseek: laws.DeepSeek2024 | None = None,
            steplaw: laws.StepLaw2025 | None = None
            ) -> tuple[tuple[HyperParameters, HyperParameters], list[str]]:
    """DeepSeek2024's and StepLaw2025's learning rate and batch for a model of
    ``non_embedding_params`` (active per token, embeddings and output projection out),
    ``n_layers`` layers of ``attention_width`` query channels, trained on ``tokens`` tokens in
    steps of ``global_batch`` sequences of ``seq_len``.

    DeepSeek2024 (eq. 1) takes the compute ``C = M D`` with ``M`` from
    :func:`flops_per_token`; StepLaw2025 takes ``N`` and ``D``. Both were fitted on dense
    models: for a routed model they see its active parameters.

    Returns
    -------
    ((deepseek, steplaw), notes)
        The two predictions, and the text of each extrapolation warning they raised.
    """
    deepseek = laws.DeepSeek2024() if deepseek is None else deepseek
    steplaw = laws.StepLaw2025() if steplaw is None else steplaw
    m = flops_per_token(non_embedding_params, n_layers, attention_width, seq_len)
    compute = m * tokens
    plan_tokens = float(seq_len * global_batch)
    lr, batch, ds_notes = _quietly(lambda: (deepseek.learning_rate(compute),
                                            deepseek.batch_size(compute)))
    first = HyperParameters("DeepSeek2024", "Bi et al. 2024, eq. 1", lr, batch,
                            batch / seq_len, plan_tokens / batch,
                            {"M": m, "D": float(tokens), "C": compute}, bool(ds_notes))
    lr, batch, step_notes = _quietly(lambda: (steplaw.learning_rate(non_embedding_params, tokens),
                                              steplaw.batch_size(tokens)))
    second = HyperParameters("StepLaw2025", "Li et al. 2025, the Step Law", lr, batch,
                             batch / seq_len, plan_tokens / batch,
                             {"N": float(non_embedding_params), "D": float(tokens)},
                             bool(step_notes))
    notes = list(dict.fromkeys(ds_notes + step_notes))
    return (first, second), notes
