"""Unit conversions around a training run: FLOPs and PF-days, GPU-hours and cost on a
device at a given MFU, tokens and bytes of text, tokens for a parameter count.

These are conversions between units, not cost models: the FLOPs, bytes and seconds of a
model come from the C++ core (`scalingperf.estimate`). Every function takes plain numbers
and raises a ValueError naming the argument when one is not a positive, finite number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from . import _format, _validate
from .devices import Hardware, get_hardware

__all__ = [
    "FLOPS_PER_PF_DAY",
    "SECONDS_PER_DAY",
    "LanguageRate",
    "bytes_per_token",
    "bytes_to_tokens",
    "flops_to_pf_days",
    "format_bytes",
    "format_flops",
    "gpu_hours",
    "languages",
    "peak_flops",
    "pf_days_to_flops",
    "tokenizer_caveat",
    "tokens_to_bytes",
    "training_cost",
    "training_days",
    "training_tokens",
]

SECONDS_PER_DAY = 86_400.0
#: One petaFLOP/s-day: 1e15 FLOP/s sustained for a day (Kaplan et al. 2020, section 2.1).
FLOPS_PER_PF_DAY = 1e15 * SECONDS_PER_DAY


def _positive(field: str, value: Any) -> float:
    """``value`` as a finite float > 0, or a ValueError naming ``field``."""
    result = _validate.real(field, value)
    if result <= 0:
        msg = f"{field}={result!r} is invalid: it must be positive"
        raise ValueError(msg)
    return result


def _fraction(field: str, value: Any) -> float:
    """``value`` as a float in (0, 1], or a ValueError naming ``field``."""
    result = _positive(field, value)
    if result > 1:
        msg = f"{field}={result!r} is invalid: it must be in (0, 1]"
        raise ValueError(msg)
    return result


# --- compute -------------------------------------------------------------------------


def flops_to_pf_days(flops: float) -> float:
    """FLOPs in petaFLOP/s-days.

    Parameters
    ----------
    flops : float
        Floating-point operations, > 0.

    Returns
    -------
    float
        ``flops / 8.64e19`` (1 PF-day = 1e15 FLOP/s x 86,400 s, Kaplan et al. 2020).

    Examples
    --------
    >>> round(flops_to_pf_days(3.14e23))  # GPT-3 175B, Brown et al. 2020, Table D.1
    3634
    """
    return _positive("flops", flops) / FLOPS_PER_PF_DAY


def pf_days_to_flops(pf_days: float) -> float:
    """PetaFLOP/s-days in FLOPs (the inverse of `flops_to_pf_days`).

    Parameters
    ----------
    pf_days : float
        Compute in PF-days, > 0.

    Returns
    -------
    float
        ``pf_days * 8.64e19``.
    """
    return _positive("pf_days", pf_days) * FLOPS_PER_PF_DAY


def peak_flops(hardware: str | Hardware, dtype: str = "bf16") -> float:
    """The dense peak FLOP/s of a device in a number format.

    Parameters
    ----------
    hardware : str or Hardware
        A built-in device name or alias (see `scalingperf.hardware`) or a `Hardware`.
    dtype : str
        A key of ``hardware.peak_flops``: "fp32", "tf32", "bf16", "fp16" or "fp8".

    Returns
    -------
    float
        ``hardware.peak_flops[dtype]``, FLOP/s.

    Raises
    ------
    ValueError
        If the device is unknown or has no peak for ``dtype``.
    """
    device = get_hardware(hardware)
    dtype = _validate.text("dtype", dtype)
    peak = device.peak_flops.get(dtype)
    if peak is None or not peak > 0:
        known = sorted(k for k, v in device.peak_flops.items() if v)
        msg = (f"dtype={dtype!r} is invalid: {device.name} has no {dtype} peak "
               f"(it has {', '.join(known)})")
        raise ValueError(msg)
    return float(peak)


def gpu_hours(flops: float, hardware: str | Hardware, *, mfu: float,
              dtype: str = "bf16") -> float:
    """Device-hours to execute ``flops`` at a model FLOPs utilisation.

    Parameters
    ----------
    flops : float
        Training FLOPs, > 0 (for example ``report.flops.model`` times the steps).
    hardware : str or Hardware
        A built-in device name or alias, or a `Hardware`.
    mfu : float
        Achieved fraction of the peak, in (0, 1].
    dtype : str
        Number format whose peak is used (``hardware.peak_flops[dtype]``).

    Returns
    -------
    float
        ``flops / (peak * mfu) / 3600``.
    """
    flops = _positive("flops", flops)
    mfu = _fraction("mfu", mfu)
    return flops / (peak_flops(hardware, dtype) * mfu) / 3600.0


def training_days(flops: float, hardware: str | Hardware, *, devices: int, mfu: float,
                  dtype: str = "bf16") -> float:
    """Wall-clock days for ``flops`` on ``devices`` devices at a given MFU.

    Parameters
    ----------
    flops : float
        Training FLOPs, > 0.
    hardware : str or Hardware
        A built-in device name or alias, or a `Hardware`.
    devices : int
        Number of devices, > 0; MFU is per device, so the time is GPU-hours / devices.
    mfu : float
        Achieved fraction of the peak, in (0, 1].
    dtype : str
        Number format whose peak is used.

    Returns
    -------
    float
        ``gpu_hours(...) / devices / 24``.
    """
    count = _validate.integer("devices", devices)
    if count <= 0:
        msg = f"devices={count} is invalid: it must be positive"
        raise ValueError(msg)
    return gpu_hours(flops, hardware, mfu=mfu, dtype=dtype) / count / 24.0


def training_cost(flops: float, hardware: str | Hardware, *, mfu: float,
                  price_per_gpu_hour: float, dtype: str = "bf16") -> float:
    """Cost of ``flops`` at a price per device-hour.

    Parameters
    ----------
    flops : float
        Training FLOPs, > 0.
    hardware : str or Hardware
        A built-in device name or alias, or a `Hardware`.
    mfu : float
        Achieved fraction of the peak, in (0, 1].
    price_per_gpu_hour : float
        Price of one device for one hour, > 0, in any currency; the result is in the same.
    dtype : str
        Number format whose peak is used.

    Returns
    -------
    float
        ``gpu_hours(...) * price_per_gpu_hour``.
    """
    price = _positive("price_per_gpu_hour", price_per_gpu_hour)
    return gpu_hours(flops, hardware, mfu=mfu, dtype=dtype) * price


# --- tokens and text -----------------------------------------------------------------


@dataclass(frozen=True)
class LanguageRate:
    """Bytes of UTF-8 text per token for one language (package data).

    Attributes
    ----------
    code : str
        Short code, e.g. "en".
    name : str
    bytes_per_token : float
        The planning figure used by default.
    low, high : float
        The usual range across tokenizers trained with the language in their mix.
    kind : str
        "rule of thumb" or "estimate".
    source : str
        Where the number comes from.
    """

    code: str
    name: str
    bytes_per_token: float
    low: float
    high: float
    kind: str
    source: str


@cache
def _token_table() -> tuple[str, dict[str, LanguageRate], dict[str, str]]:
    text = resources.files("scalingperf").joinpath("data/bytes_per_token.json").read_text(
        encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    rates: dict[str, LanguageRate] = {}
    aliases: dict[str, str] = {}
    for code, entry in data["languages"].items():
        low, high = entry["range"]
        rates[code] = LanguageRate(code=code, name=entry["name"],
                                   bytes_per_token=float(entry["bytes_per_token"]),
                                   low=float(low), high=float(high), kind=entry["kind"],
                                   source=entry["source"])
        for alias in (code, entry["name"], *entry.get("aliases", ())):
            aliases[alias.lower()] = code
    return str(data["caveat"]), rates, aliases


def tokenizer_caveat() -> str:
    """Why bytes per token is a property of a tokenizer, not of a language (package data)."""
    return _token_table()[0]


def languages() -> Mapping[str, LanguageRate]:
    """The built-in bytes-per-token table, by language code.

    The figures depend on the tokenizer far more than on the language (see
    `tokenizer_caveat`); pass ``bytes_per_token=`` to the conversions for your own.
    """
    return dict(_token_table()[1])


def bytes_per_token(language: str = "en") -> float:
    """The built-in bytes of UTF-8 text per token for ``language``.

    Parameters
    ----------
    language : str
        A code or name from `languages` ("en", "english", "ko", "Korean", ...).

    Returns
    -------
    float
        English 4.0, Korean 6.5 (see ``languages()[code].source``).
    """
    _, rates, aliases = _token_table()
    key = _validate.text("language", language).lower()
    if key not in aliases:
        msg = (f"language={language!r} is invalid: known languages are "
               f"{', '.join(rates)}; or pass bytes_per_token=")
        raise ValueError(msg)
    return rates[aliases[key]].bytes_per_token


def _rate(language: str, override: float | None) -> float:
    if override is not None:
        return _positive("bytes_per_token", override)
    return bytes_per_token(language)


def tokens_to_bytes(tokens: float, language: str = "en", *,
                    bytes_per_token: float | None = None) -> float:
    """Bytes of raw UTF-8 text that ``tokens`` tokens stand for.

    Parameters
    ----------
    tokens : float
        Number of tokens, > 0.
    language : str
        Language whose built-in rate is used (ignored with ``bytes_per_token``).
    bytes_per_token : float, optional
        Your tokenizer's measured rate on your text; overrides the table.

    Returns
    -------
    float
        ``tokens * bytes_per_token``.
    """
    return _positive("tokens", tokens) * _rate(language, bytes_per_token)


def bytes_to_tokens(n_bytes: float, language: str = "en", *,
                    bytes_per_token: float | None = None) -> float:
    """Tokens in ``n_bytes`` bytes of raw UTF-8 text (the inverse of `tokens_to_bytes`).

    Parameters
    ----------
    n_bytes : float
        Bytes of text, > 0.
    language : str
        Language whose built-in rate is used (ignored with ``bytes_per_token``).
    bytes_per_token : float, optional
        Your tokenizer's measured rate on your text; overrides the table.

    Returns
    -------
    float
        ``n_bytes / bytes_per_token``.
    """
    return _positive("n_bytes", n_bytes) / _rate(language, bytes_per_token)


def training_tokens(params: float, tokens_per_param: float = 20.0) -> float:
    """Training tokens for a model of ``params`` parameters at a tokens-per-parameter ratio.

    Parameters
    ----------
    params : float
        Parameter count, > 0.
    tokens_per_param : float
        Tokens per parameter, > 0. The default 20 is the compute-optimal ratio of
        Hoffmann et al. 2022 (Chinchilla: 70B parameters, 1.4T tokens).

    Returns
    -------
    float
        ``params * tokens_per_param``.
    """
    return _positive("params", params) * _positive("tokens_per_param", tokens_per_param)


# --- formatting ----------------------------------------------------------------------


def format_flops(flops: float) -> str:
    """FLOPs with an SI prefix and in PF-days: ``"314 ZFLOP (3.63e+03 PF-days)"``."""
    value = _positive("flops", flops)
    return f"{_format.si(value, 'FLOP')} ({flops_to_pf_days(value):.3g} PF-days)"


def format_bytes(n_bytes: float) -> str:
    """Bytes with a decimal SI prefix: ``"1.2 TB"``."""
    value = _validate.real("n_bytes", n_bytes)
    if value < 0:
        msg = f"n_bytes={value!r} is invalid: it must not be negative"
        raise ValueError(msg)
    return _format.si(value, "B")
