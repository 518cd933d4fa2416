"""Published scaling laws of language models, and fitting your own.

Each law is a small object whose published constants are attributes and constructor
arguments, with its source in the docstring:

- :class:`Kaplan2020`: L(N), L(D), L(C_min), L(N, D), L(N, S), the critical batch, the
  compute-efficient size and the overfitting rule D ≳ 5e3 N^0.74;
- :class:`Chinchilla2022`: Hoffmann et al.'s approaches 1, 2 (compute frontiers) and 3
  (the parametric loss E + A/N^alpha + B/D^beta);
- :class:`Besiroglu2024`: the replication's refit of approach 3;
- :class:`Muennighoff2023`: the same form in effective (repeated) data and parameters;
- :class:`Clark2022`: routed (mixture-of-experts) models, L(N, E);
- :class:`TokensPerParameter`: the 20-tokens-per-parameter rule of thumb;
- :class:`DeepSeek2024`: Bi et al.'s learning rate, batch size and model/data scale as
  power laws in compute;
- :class:`StepLaw2025`: Li et al.'s learning rate and batch size from N and D;
- :class:`Sardana2024`: the cheapest model for a loss when it will also serve inference;
- :class:`Ludziejewski2025`: dense and mixture-of-experts models in one law, L(N, D, E),
  with compute-, memory- and inference-optimal allocations;
- :class:`Krajewski2024`: fine-grained mixture of experts, L(N, D, G), and the
  compute-optimal (N, D, G) with the router's FLOPs.
- :class:`Gadre2024`: over-trained models, L(C, M) in compute and tokens per parameter,
  and the average downstream top-1 error as a function of the loss;
- :class:`Kumar2024`: precision-aware loss, low-precision training as fewer effective
  parameters (in bits or the time model's ``dtype`` names), post-training quantisation's
  degradation and the compute-optimal training precision.

Every law says which parameters its ``N`` counts (``params_convention``: non-embedding
as Kaplan et al., total as Hoffmann et al.; :class:`ParamConvention`), and
``law.params_of(model)`` counts them on an :class:`~scalingperf.Architecture` or a
:class:`~scalingperf.Report`.

The laws in N and D share ``loss(N, D)``, ``compute_optimal(C) -> (N, D)``,
``tokens_for(N)`` and ``isoflop(C, N_grid)``, all broadcasting over NumPy arrays; C is
in FLOPs. Counts (N, D, C, tokens, steps, batch sizes, experts) must be finite and from 1
to 1e40, anything else raises a ValueError naming the argument, its value and the range.
:func:`fit`, :func:`fit_isoflop` and :func:`fit_envelope` estimate a law from your runs
with Hoffmann et al.'s approaches 3, 2 and 1, and say which constant the runs do not
determine; :func:`fit_form` fits the hyper-parameter laws' power laws and
:func:`fit_loss_form` the MoE laws' forms (experts, granularity).
"""

from __future__ import annotations

try:
    from . import _kernels  # noqa: F401  (fail early, with a note, if unbuilt)
except ImportError as error:  # pragma: no cover - only without a build
    error.add_note(
        "scalingperf.laws' compiled kernels are missing: did you build the package? "
        "Install with `pip install .` (or `pip install --no-build-isolation -ve .` to develop)."
    )
    raise

from ..abilities import abilities_at
from ._base import (
    NON_EMBEDDING,
    PARAM_CONVENTIONS,
    PEARCE_SONG_GAMMA,
    PF_DAY,
    TOTAL,
    ExtrapolationWarning,
    ParamConvention,
    ScalingLaw,
    param_convention,
    total_from_non_embedding,
)
from ._chinchilla import (
    GOPHER_FLOPS,
    Besiroglu2024,
    Chinchilla2022,
    ParametricLaw,
    PowerLawFrontier,
    TokensPerParameter,
)
from ._clark import Clark2022
from ._compare import LawRow, LawTable, compare, register, registered
from ._deepseek import DeepSeek2024
from ._fit import PAPER_GRID, FrontierFit, ParametricFit, fit, fit_envelope, fit_isoflop
from ._fit_form import (
    LOSS_FORMS,
    FormFit,
    LossFormFit,
    PowerLawFit,
    fit_form,
    fit_loss_form,
    fit_power_law,
)
from ._gadre import Gadre2024
from ._kaplan import Kaplan2020
from ._krajewski import Krajewski2024
from ._kumar import DTYPE_BITS, Kumar2024
from ._ludziejewski import Ludziejewski2025
from ._muennighoff import Muennighoff2023
from ._sardana import Sardana2024
from ._steplaw import StepLaw2025

__all__ = ["DTYPE_BITS", "GOPHER_FLOPS", "LOSS_FORMS", "NON_EMBEDDING", "PAPER_GRID",
           "PARAM_CONVENTIONS", "PEARCE_SONG_GAMMA", "PF_DAY", "TOTAL", "Besiroglu2024",
           "Chinchilla2022", "Clark2022", "DeepSeek2024", "ExtrapolationWarning",
           "FormFit", "FrontierFit", "Gadre2024", "Kaplan2020", "Krajewski2024", "Kumar2024", "LawRow",
           "LawTable", "LossFormFit", "Ludziejewski2025", "Muennighoff2023", "ParamConvention",
           "ParametricFit", "ParametricLaw", "PowerLawFit", "PowerLawFrontier",
           "Sardana2024", "ScalingLaw", "StepLaw2025", "TokensPerParameter",
           "abilities_at", "compare", "fit", "fit_envelope", "fit_form", "fit_isoflop",
           "fit_loss_form", "fit_power_law", "param_convention", "register", "registered",
           "total_from_non_embedding"]
