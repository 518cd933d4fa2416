"""Step times checked against published, measured training runs.

The runs are package data, one file per source (``data/validation/<source>.json``), each
record with its architecture, device, layout, number format, the measured quantity as the
source printed it, how the source counts FLOPs, and where it comes from. A record's
``model`` is a preset name, a dict of Architecture fields, or a dict naming a ``preset``
and the fields the run changes (``{"preset": "deepseek-v3", "mtp_layers": 1}``). :func:`validate`
estimates every record that the model can express with the default :class:`Efficiency`,
converts the predicted step time into the measured quantity the way the source counts it,
and reports signed and absolute relative errors; records it cannot express (uneven
pipeline stages, a device not in ``devices.json``, an architecture not modelled) are listed
with the reason.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ._format import duration, table
from .architecture import Architecture
from .devices import Hardware, get_hardware
from .estimate import estimate

#: Measured quantities a record may carry, with what they are.
QUANTITIES = {"step_time_s": "step time", "tokens_per_s_per_gpu": "tokens/s/GPU",
              "tflops_per_gpu": "TFLOP/s/GPU", "mfu": "MFU"}
_DTYPES = ("bf16", "fp16", "fp32", "tf32", "fp8", "mxfp8", "nvfp4")
_LAYOUT_FIELDS = ("gpus", "tp", "pp", "dp", "cp", "ep", "zero", "global_batch", "micro_batch",
                  "seq_len", "recompute", "sequence_parallel", "interleave", "flash_attention",
                  "dropout")


# ----------------------------------------------------------------- the sources' FLOP counts
def _narayanan(arch: Architecture, sequences: int, seq_len: int) -> float:
    """Narayanan et al. 2021, eq. 3: ``96 B s l h^2 (1 + s/6h + V/16lh)``, forward, backward
    and the recomputed forward of full recomputation (the logits are not recomputed)."""
    h, layers, vocab = arch.d_model, arch.n_layers, arch.vocab_size
    return (96 * sequences * seq_len * layers * h * h
            * (1 + seq_len / (6 * h) + vocab / (16 * layers * h)))


def _korthikanti(arch: Architecture, sequences: int, seq_len: int) -> float:
    """Korthikanti et al. 2022, model FLOPs (what their MFU counts):
    ``72 B s l h^2 (1 + s/6h + V/12lh)``."""
    h, layers, vocab = arch.d_model, arch.n_layers, arch.vocab_size
    return (72 * sequences * seq_len * layers * h * h
            * (1 + seq_len / (6 * h) + vocab / (12 * layers * h)))


def _derived(value: int | None) -> int:
    """A width the Architecture has derived (None only where the model has none of it:
    d_ff with ``ffn="none"``, which these transformer formulas do not describe)."""
    if value is None:
        msg = ("ffn='none' is invalid here: the closed-form FLOP formulas describe layers "
               "with an MLP")
        raise ValueError(msg)
    return value


def _megatron_r08(arch: Architecture, sequences: int, seq_len: int) -> float:
    """Megatron-LM core_r0.8.0 ``num_floating_point_operations`` (training.py)."""
    h, layers = arch.d_model, arch.n_layers
    heads, groups = _derived(arch.n_heads), _derived(arch.n_kv_heads)
    head_dim = _derived(arch.head_dim)
    routed = arch.top_k if arch.n_experts > 1 else 1
    ffn = _derived(arch.d_ff_expert if arch.n_experts > 1 else arch.d_ff)
    gated = 1.5 if arch.ffn in ("swiglu", "geglu") else 1.0
    return (12 * sequences * seq_len * layers * h * h * (
        (1 + groups / heads + seq_len / h) * (heads * head_dim / h)
        + (ffn / h) * routed * gated
        + arch.vocab_size / (2 * layers * h)))


def megatron_core_moe(arch: Architecture, sequences: int, seq_len: int, *,
                      causal: bool = True) -> float:
    """Megatron-Core's ``num_floating_point_operations`` for a transformer, MoE or dense
    (Megatron-LM ``megatron/training/training.py``, ``transformer_flops``, unpacked BSHD
    batches; read at commit d98e8a64ddf34856e74b24714e3bedb2f5a39553, the causal halving of
    core attention since 8873b55d6a, "Fixes in number of floating-point operation estimates
    for MoE and attention layer", 2025-03-06). Written from the formula, not copied.

    Every GEMM counts ``3 x 2`` (forward, wgrad, dgrad; multiply-add), no recomputation.
    With ``T = sequences * seq_len`` tokens, ``h = d_model``, ``q = n_heads * head_dim``,
    ``kv = n_kv_heads * head_dim``, ``f = 3`` for a gated FFN and 2 otherwise::

        6 T [ h f (d_ff * dense_layers + (d_ff_expert * top_k
                                          + n_shared_experts * d_ff_shared) * moe_layers)
              + layers * (h (q + 2 kv) + q h)
              + h V ]
        + 6 T seq_len * q * layers * (1 if causal else 2)

    The routed experts count ``top_k`` experts of width ``moe_ffn_hidden_size`` (our
    ``d_ff_expert``); the shared experts one FFN of ``moe_shared_expert_intermediate_size``
    (``n_shared_experts * d_ff_shared``) per MoE layer; which layers are MoE follows the
    architecture (Megatron's ``--moe-layer-freq``: ``moe_every``, ``first_dense_layers``,
    ``dense_layers``). ``causal=False`` is the count before 8873b55d6a (core attention
    ``QK^T`` and ``AV`` over the full ``seq_len^2``; with every layer MoE and no shared
    expert it equals :func:`_megatron_r08`). Not counted, as in the source: router, norms,
    softmax, the shared-expert gate. Not expressible here (so not implemented): multi-latent
    attention, MTP layers, latent MoE, linear-attention layers, the attention output gate.
    ``V`` is ``vocab_size`` as the record gives it; Megatron uses the padded vocabulary
    (a multiple of ``make_vocab_size_divisible_by * tp``), so records give that one.
    """
    h, layers, vocab = arch.d_model, arch.n_layers, arch.vocab_size
    heads, groups = _derived(arch.n_heads), _derived(arch.n_kv_heads)
    head_dim = _derived(arch.head_dim)
    query, key_value = heads * head_dim, groups * head_dim
    ffn_factor = 3 if arch.ffn in ("swiglu", "geglu") else 2
    moe_layers = arch.n_moe_layers
    dense_layers = layers - moe_layers
    mlp = h * ffn_factor * _derived(arch.d_ff) * dense_layers
    if moe_layers:
        routed = _derived(arch.d_ff_expert) * arch.top_k
        shared = arch.n_shared_experts * _derived(arch.d_ff_shared)
        mlp += h * ffn_factor * (routed + shared) * moe_layers
    projections = layers * (h * (query + 2 * key_value) + query * h)
    logits = h * vocab
    tokens = sequences * seq_len
    core_attention = 6 * tokens * seq_len * query * layers * (1 if causal else 2)
    return float(6 * tokens * (mlp + projections + logits) + core_attention)


#: FLOP counts of the sources, by the name records give in ``flops_convention``: FLOPs of
#: one iteration of ``sequences`` sequences of ``seq_len`` tokens.
FLOP_CONVENTIONS: dict[str, Callable[[Architecture, int, int], float]] = {
    "narayanan2021_eq3": _narayanan,
    "korthikanti2022_model": _korthikanti,
    "megatron_core_r0.8": _megatron_r08,
    "megatron_core_moe": megatron_core_moe,
}


# ------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class ValidationRow:
    """One published run: what was measured and what the model predicts.

    ``error`` is signed, ``(predicted - measured) / measured``; ``predicted`` and ``error``
    are None, and ``reason`` says why, when the model cannot express the run. ``dominant``
    names the largest term of the predicted step, ``step_terms`` gives each term's seconds
    (see :func:`step_terms`).
    """

    source: str
    id: str
    model: str
    hardware: str
    dtype: str
    gpus: int
    quantity: str
    measured: float
    predicted: float | None
    error: float | None
    reason: str | None
    predicted_step_s: float | None = None
    fits: bool | None = None
    dominant: str | None = None
    step_terms: tuple[tuple[str, float], ...] = ()
    flops_convention: str | None = None
    approximations: tuple[str, ...] = ()
    citation: str = ""

    @property
    def abs_error(self) -> float | None:
        """``|error|``, or None when not predicted."""
        return None if self.error is None else abs(self.error)

    @property
    def speed_error(self) -> float | None:
        """The relative error of the predicted throughput, whatever was measured: ``error``
        for rates (tokens/s, TFLOP/s, MFU), ``measured / predicted - 1`` for step times;
        positive when the model is optimistic."""
        if self.error is None or self.predicted is None:
            return None
        if self.quantity == "step_time_s":
            return self.measured / self.predicted - 1
        return self.error

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for JSON."""
        out = dataclasses.asdict(self)
        out["approximations"] = list(self.approximations)
        out["step_terms"] = dict(self.step_terms)
        out["abs_error"] = self.abs_error
        out["speed_error"] = self.speed_error
        return out


@dataclass(frozen=True)
class SummaryRow:
    """Errors over a group of predicted runs (a source, a device, or all of them): mean,
    median and max ``|error|``, and ``bias``, the mean :attr:`ValidationRow.speed_error`
    (positive: the model predicts faster training than measured)."""

    group: str
    name: str
    runs: int
    predicted: int
    mean: float | None
    median: float | None
    max: float | None
    bias: float | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _summary_row(group: str, name: str, rows: Sequence[ValidationRow]) -> SummaryRow:
    absolute = [abs(r.error) for r in rows if r.error is not None]
    speed = [r.speed_error for r in rows if r.speed_error is not None]
    if not absolute:
        return SummaryRow(group, name, len(rows), 0, None, None, None, None)
    return SummaryRow(group, name, len(rows), len(absolute), statistics.fmean(absolute),
                      statistics.median(absolute), max(absolute), statistics.fmean(speed))


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def _value(quantity: str, value: float | None) -> str:
    if value is None:
        return "-"
    if quantity == "step_time_s":
        return duration(value)
    if quantity == "tokens_per_s_per_gpu":
        return f"{value:,.0f} tok/s"
    if quantity == "tflops_per_gpu":
        return f"{value:.1f} TFLOP/s"
    return f"{value:.1%}"


#: The terms a predicted step divides into, as :func:`dominant_term` names them.
TERMS = ("compute", "tensor-parallel", "expert-parallel", "context-parallel",
         "pipeline bubble", "data-parallel", "optimizer", "activation offloading")


def step_terms(time: Any, microbatches: int) -> dict[str, float]:
    """A predicted step's seconds by term, which add up to the step: the micro-batches'
    compute (forward, backward, recomputation), their tensor-, expert- and context-parallel
    communication, the pipeline's bubble and stage-to-stage sends, the exposed
    data-parallel reduction, the optimizer's pass and activation offloading's exposed
    copies."""
    m = float(microbatches)
    seconds = (m * (time.forward + time.backward + time.recompute), m * time.tp_communication,
               m * time.ep_communication, m * time.cp_communication,
               time.bubble + m * time.pp_communication, time.dp_communication, time.optimizer,
               m * time.offload)
    return dict(zip(TERMS, seconds, strict=True))


def dominant_term(time: Any, microbatches: int) -> str:
    """The largest of :func:`step_terms`."""
    return _largest(step_terms(time, microbatches))


def _largest(terms: Mapping[str, float]) -> str:
    return max(terms, key=terms.__getitem__)


class ValidationResult:
    """The rows of :func:`validate` and their error summary.

    Attributes
    ----------
    rows : list of ValidationRow
        Every record, predicted or not (``reason`` set).
    """

    def __init__(self, rows: Sequence[ValidationRow]) -> None:
        self.rows = list(rows)

    @property
    def predicted(self) -> list[ValidationRow]:
        """The rows the model expresses."""
        return [r for r in self.rows if r.error is not None]

    @property
    def not_expressible(self) -> list[ValidationRow]:
        """The rows the model cannot express, each with its ``reason``."""
        return [r for r in self.rows if r.error is None]

    @property
    def over_memory(self) -> list[ValidationRow]:
        """The predicted runs whose modelled memory exceeds their device's: they ran, so the
        memory model is above what their framework kept (offloading, which is not
        modelled, or a tensor counted that the framework frees)."""
        return [r for r in self.predicted if r.fits is False]

    def summary(self) -> list[SummaryRow]:
        """Mean, median and max ``|error|`` and the bias (mean signed error of the predicted
        throughput, positive when optimistic) per source, per device, per dominant term of
        the predicted step (``term``: the predicted runs only) and overall; ``runs`` counts
        every record, ``predicted`` those expressed."""
        out: list[SummaryRow] = []
        for group, key in (("source", "source"), ("device", "hardware"), ("term", "dominant")):
            names = sorted({getattr(r, key) for r in self.rows if getattr(r, key) is not None},
                           key=lambda n: (TERMS.index(n) if n in TERMS else -1, n))
            out.extend(_summary_row(group, name, [r for r in self.rows if getattr(r, key) == name])
                       for name in names)
        out.append(_summary_row("overall", "all", self.rows))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Rows and summary as plain values, for JSON."""
        return {"rows": [r.to_dict() for r in self.rows],
                "summary": [s.to_dict() for s in self.summary()]}

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame([r.to_dict() for r in self.rows])

    def rows_table(self) -> str:
        """The predicted rows: measured, predicted and signed error."""
        body = [[r.id, r.hardware, QUANTITIES[r.quantity], _value(r.quantity, r.measured),
                 _value(r.quantity, r.predicted), _signed(r.error)] for r in self.predicted]
        return table(["run", "device", "quantity", "measured", "predicted", "error"], body,
                     left=3)

    def summary_table(self) -> str:
        """Mean / median / max |error| and bias per source, per device and overall."""
        body = [[s.group, s.name, str(s.runs), str(s.predicted), _percent(s.mean),
                 _percent(s.median), _percent(s.max), _signed(s.bias)] for s in self.summary()]
        return table(["by", "name", "runs", "predicted", "mean |err|", "median |err|",
                      "max |err|", "bias"], body)

    def reasons_table(self) -> str:
        """The rows the model cannot express, and why."""
        body = [[r.id, r.reason or ""] for r in self.not_expressible]
        return table(["run", "not expressible because"], body)

    def __str__(self) -> str:
        title = (f"{len(self.rows)} published runs, {len(self.predicted)} predicted "
                 "(each device's default efficiency). error = (predicted - measured) / measured "
                 "of the "
                 "quantity the source measured;\nbias = mean signed error of the predicted "
                 "throughput (+: the model is optimistic, predicts faster training)\n")
        parts = [title, self.rows_table(), "", self.summary_table()]
        if self.not_expressible:
            parts += ["", self.reasons_table()]
        over = self.over_memory
        if over:
            parts += ["", f"memory: {len(over)} of the {len(self.predicted)} predicted runs "
                      "need more than their device holds in this model, though they ran "
                      "(times assume they fit): "
                      + ", ".join(r.id for r in over)]
        return "\n".join(parts)

    def __repr__(self) -> str:
        overall = self.summary()[-1]
        return (f"<ValidationResult {overall.runs} runs, {overall.predicted} predicted, "
                f"mean |error| {_percent(overall.mean)}, median {_percent(overall.median)}>")


# ------------------------------------------------------------------------------ the data
@cache
def _files() -> dict[str, dict[str, Any]]:
    folder = resources.files("scalingperf").joinpath("data/validation")
    out: dict[str, dict[str, Any]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            data: dict[str, Any] = json.loads(entry.read_text())
            out[data["source"]] = data
    return out


def sources() -> dict[str, str]:
    """The published sources shipped with the package, each with its citation."""
    return {name: data["citation"] for name, data in _files().items()}


def records(source: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The raw records, of one source or all of them, as (source name, record) pairs; each
    record a deep copy."""
    files = _files()
    names = list(files) if source is None else [_check_source(source)]
    return [(name, copy.deepcopy(rec)) for name in names for rec in files[name]["records"]]


def _check_source(name: str) -> str:
    if name not in _files():
        msg = f"source={name!r} is invalid: known sources are {', '.join(_files())}"
        raise ValueError(msg)
    return name


def _architecture(spec: Any) -> Architecture:
    """A record's ``model``: a preset name; a dict of Architecture fields; or a dict naming
    a ``preset`` with fields that override it (``{"preset": "deepseek-v3",
    "mtp_layers": 1}``: the published shape trained with what the run adds)."""
    if isinstance(spec, str):
        return Architecture.preset(spec)
    if isinstance(spec, Mapping):
        if "preset" not in spec:
            return Architecture(**spec)
        fields = dict(spec)
        name = fields.pop("preset")
        if not isinstance(name, str):
            msg = f"preset={name!r} is invalid: it must be a preset name"
            raise ValueError(msg)
        return Architecture.preset(name).replace(**fields)
    msg = (f"model={spec!r} is invalid: a preset name, a dict of Architecture fields, or a "
           "dict with a preset and the fields it overrides")
    raise ValueError(msg)


def _hardware(name: str, overrides: Mapping[str, Any] | None) -> Hardware:
    device = get_hardware(name)
    if overrides:
        label = ", ".join(f"{k}={_label(v)}" for k, v in overrides.items())
        device = dataclasses.replace(device, name=f"{device.name} ({label})", **overrides)
    return device


def _label(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {v:g}" for k, v in value.items() if v) + "}"
    return f"{value:g}"


def _static_reasons(rec: Mapping[str, Any], layout: Mapping[str, Any]) -> list[str]:
    """Why a record cannot be expressed, found without estimating it."""
    reasons = list(rec.get("unsupported", ()))
    if rec["dtype"] not in _DTYPES:
        reasons.append(f"{rec['dtype']} not modelled (estimate() takes {', '.join(_DTYPES)})")
    try:
        get_hardware(rec["hardware"])
    except ValueError:
        reasons.append(f"device {rec['hardware']!r} not in devices.json")
    if rec.get("model") is None and not rec.get("unsupported"):
        reasons.append("no architecture given")
    quantity = rec["measured"]["quantity"]
    convention = rec.get("flops_convention")
    if quantity in ("tflops_per_gpu", "mfu") and convention not in FLOP_CONVENTIONS:
        reasons.append(f"FLOP convention {convention!r} not implemented")
    return reasons


def _layout(rec: Mapping[str, Any]) -> dict[str, Any]:
    layout = dict(rec["layout"])
    missing = [f for f in _LAYOUT_FIELDS if f not in layout]
    if missing:
        msg = f"record {rec['id']!r}: layout lacks {', '.join(missing)}"
        raise ValueError(msg)
    product = layout["tp"] * layout["pp"] * layout["dp"] * layout["cp"]
    if product != layout["gpus"]:
        msg = (f"record {rec['id']!r}: tp x pp x dp x cp = {product} is not gpus = "
               f"{layout['gpus']}")
        raise ValueError(msg)
    return layout


def convert(rec: Mapping[str, Any], arch: Architecture, step: float) -> float:
    """A step time of ``rec``'s whole layout in the quantity its source measured, counted as
    the source counts it: tokens/s/GPU from the global batch, TFLOP/s per GPU and MFU from
    the source's own FLOP formula (``flops_convention``), never from ours."""
    layout = rec["layout"]
    quantity = rec["measured"]["quantity"]
    if quantity == "step_time_s":
        return float(step)
    gpus, sequences = int(layout["gpus"]), int(layout["global_batch"])
    seq_len = int(layout["seq_len"])
    if quantity == "tokens_per_s_per_gpu":
        return float(sequences * seq_len / step / gpus)
    if quantity not in ("tflops_per_gpu", "mfu"):
        msg = f"record {rec['id']!r}: unknown measured quantity {quantity!r}"
        raise ValueError(msg)
    flops = FLOP_CONVENTIONS[rec["flops_convention"]](arch, sequences, seq_len)
    per_gpu: float = flops / step / gpus
    if quantity == "tflops_per_gpu":
        return per_gpu / 1e12
    peak = get_hardware(rec["hardware"]).peak_flops.get(rec["dtype"])
    if not peak:
        msg = f"record {rec['id']!r}: {rec['hardware']} has no {rec['dtype']} peak"
        raise ValueError(msg)
    return per_gpu / float(peak)


def _row(source: str, rec: Mapping[str, Any], citation: str) -> ValidationRow:
    layout = _layout(rec)
    measured = rec["measured"]
    if measured["quantity"] not in QUANTITIES:
        msg = f"record {rec['id']!r}: unknown measured quantity {measured['quantity']!r}"
        raise ValueError(msg)
    value = float(measured["value"])

    def row(predicted: float | None = None, reason: str | None = None,
            step: float | None = None, fits: bool | None = None,
            dominant: str | None = None,
            terms: tuple[tuple[str, float], ...] = ()) -> ValidationRow:
        return ValidationRow(
            source=source, id=rec["id"], model=rec.get("model_name", ""),
            hardware=rec["hardware"], dtype=rec["dtype"], gpus=layout["gpus"],
            quantity=measured["quantity"], measured=value, predicted=predicted,
            error=None if predicted is None else (predicted - value) / value, reason=reason,
            predicted_step_s=step, fits=fits, dominant=dominant, step_terms=terms,
            flops_convention=rec.get("flops_convention"),
            approximations=tuple(rec.get("approximations", ())),
            citation=f"{citation} {json.dumps(rec.get('source', {}))}")

    reasons = _static_reasons(rec, layout)
    if reasons:
        return row(reason="; ".join(reasons))
    try:
        arch = _architecture(rec["model"])
        dp, micro = layout["dp"], layout["micro_batch"]
        if layout["global_batch"] % (dp * micro):
            msg = (f"global batch {layout['global_batch']} is not a multiple of dp x "
                   f"micro-batch = {dp * micro}")
            raise ValueError(msg)
        report = estimate(
            arch, batch=micro, seq_len=layout["seq_len"], dtype=rec["dtype"],
            hardware=_hardware(rec["hardware"], rec.get("hardware_overrides")),
            tp=layout["tp"], pp=layout["pp"], dp=dp, ep=layout["ep"], cp=layout["cp"],
            zero=layout["zero"], optimizer=layout.get("optimizer", "adamw"),
            recompute=layout["recompute"], flash_attention=layout["flash_attention"],
            fused_elementwise=layout.get("fused_elementwise", True),
            sequence_parallel=layout["sequence_parallel"], dropout=layout["dropout"],
            microbatches=layout["global_batch"] // (dp * micro),
            interleave=layout["interleave"],
            layers_per_stage=layout.get("layers_per_stage"), etp=layout.get("etp"),
            attention_kernel=rec.get("attention_kernel"),
            dp_overlap=layout.get("dp_overlap"), tp_overlap=layout.get("tp_overlap"),
            ep_overlap=layout.get("ep_overlap"),
            ep_dispatcher=layout.get("ep_dispatcher", "all_to_all"),
            recompute_modules=layout.get("recompute_modules"),
            offload_layers=layout.get("offload_layers"),
            fp32_gradients=layout.get("fp32_gradients", False))
    except ValueError as error:
        return row(reason=str(error))
    step = report.time.step
    terms = step_terms(report.time, report.microbatches)
    return row(predicted=convert(rec, arch, step), step=step, fits=report.memory.fits,
               dominant=_largest(terms), terms=tuple(terms.items()))


def validate(sources: str | Iterable[str] | None = None) -> ValidationResult:
    """Predict every published run shipped with the package and compare.

    Parameters
    ----------
    sources : str or iterable of str, optional
        Source names (``from scalingperf.validate import sources``); all of them by default.

    Returns
    -------
    ValidationResult
        One row per record: measured and predicted value, signed relative error, or the
        reason the run cannot be expressed; ``summary()`` per source, device and overall.
    """
    files = _files()
    if sources is None:
        names = list(files)
    elif isinstance(sources, str):
        names = [_check_source(sources)]
    else:
        names = [_check_source(name) for name in sources]
    return ValidationResult([_row(name, rec, files[name]["citation"])
                             for name in names for rec in files[name]["records"]])
