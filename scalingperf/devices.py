"""Accelerators: the built-in table (package data, with the datasheet behind each number)
and user-defined devices."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

from . import _core, _validate
from ._format import duration, si, table

_FORMATS = ("fp32", "tf32", "bf16", "fp16", "fp8", "mxfp8", "nvfp4")
_REQUIRED = ("peak_flops", "memory", "memory_bandwidth", "intra_node_bandwidth",
             "inter_node_bandwidth", "devices_per_node")


#: The core's Efficiency (inside Hardware, ``_core`` names its field).
_CoreEfficiency = _core.Efficiency


@dataclass(frozen=True)
class Hardware:
    """One accelerator and its links.

    Every number must lie in a physically meaningful range (``_core.HARDWARE_LIMITS``;
    far beyond today's devices either way, and narrow enough that every estimate stays
    finite), or a ValueError names the field, the value and the range.

    Parameters
    ----------
    name : str
    peak_flops : dict
        Dense peak FLOP/s per number format ("fp32", "tf32", "bf16", "fp16", "fp8", "mxfp8",
        "nvfp4"), each
        in [1e9, 1e18]; a missing or None entry means the device does not support that
        format (0 is refused). At least one of fp32, tf32, bf16, fp16 is needed.
    memory : float
        Device memory, bytes, in [1e6, 1e15].
    memory_bandwidth : float
        Bytes/s, in [1e9, 1e17].
    intra_node_bandwidth, inter_node_bandwidth : float
        Bytes/s per device, one direction, in [1e6, 1e15]; inter-node at most intra-node
        (a device reaches other nodes through its own links).
    devices_per_node : int
        In [1, 2^20].
    intra_node_latency, inter_node_latency : float
        Seconds per message step (the alpha of the alpha-beta model), in [0, 1);
        inter-node at least intra-node.
    host_bandwidth : float, optional
        Bytes/s per device, one direction, between the device and its host's memory (its
        PCIe link, or its share of NVLink-C2C on a Grace superchip), in [1e6, 1e15]:
        what activation offloading (``estimate(offload_layers=...)``) moves over. None
        (the default): unknown, and offloading is refused on the device.
    sources : dict
        Where each number comes from.
    efficiency : dict, optional
        The device's measured fractions of its peaks (``Efficiency`` fields, such as
        ``matmul`` and ``attention``), used when an estimate or a grid gives no
        ``efficiency``; where absent, ``Efficiency()``'s defaults apply.
    attention_kernels : dict, optional
        Published fractions of the 16-bit peak that named fused-attention kernels reach on
        this device (``{"fa2": 0.32, "cudnn": 0.52, ..., "source": "..."}``), each in
        (0, 1]: ``estimate(attention_kernel="fa2")`` runs attention's GEMMs at that
        fraction instead of the default efficiency's ``attention``.
    attention_curves : dict, optional
        Per kernel, its published throughput against the tokens per attention call
        (``{"fa2": [[512, 191], ..., [4096, 319], ...], "source": "..."}``, any unit, with
        a point at 4,096 tokens, at most 8 points): the kernel's fraction is scaled by the
        curve over its 4,096-token value. An ``efficiency`` dict's ``attention_kernel``
        names the curve its ``attention`` follows.
    attention_head_curves : dict, optional
        Per kernel, its published throughput against the head dimension
        (``{"cudnn": [[64, 363], [128, 518], [256, 483]], "source": "..."}``, any unit,
        with a point at 128, at most 8 points): the kernel's fraction is scaled by the
        curve over its head-dimension-128 value. Followed like ``attention_curves``.
    """

    name: str
    peak_flops: Mapping[str, float | None]
    memory: float
    memory_bandwidth: float
    intra_node_bandwidth: float
    inter_node_bandwidth: float
    devices_per_node: int
    intra_node_latency: float = 3e-6
    inter_node_latency: float = 8e-6
    host_bandwidth: float | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    efficiency: Mapping[str, Any] | None = field(default=None, compare=False)
    attention_kernels: Mapping[str, Any] | None = field(default=None, compare=False)
    attention_curves: Mapping[str, Any] | None = field(default=None, compare=False)
    attention_head_curves: Mapping[str, Any] | None = field(default=None, compare=False)
    _core: _core.Hardware = field(init=False, repr=False, compare=False)
    _efficiency: _CoreEfficiency = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            msg = f"name={self.name!r} is invalid: it must be a string"
            raise ValueError(msg)
        peaks = _peaks(self.peak_flops)
        if not isinstance(self.sources, Mapping):
            msg = f"sources={self.sources!r} is invalid: it must be a dict of field: source"
            raise ValueError(msg)
        core = _core.Hardware(
            **{f"peak_{fmt}": peaks[fmt] for fmt in _FORMATS},
            memory=_validate.number("memory", self.memory),
            memory_bandwidth=_validate.number("memory_bandwidth", self.memory_bandwidth),
            intra_node_bandwidth=_validate.number("intra_node_bandwidth", self.intra_node_bandwidth),
            inter_node_bandwidth=_validate.number("inter_node_bandwidth", self.inter_node_bandwidth),
            intra_node_latency=_validate.number("intra_node_latency", self.intra_node_latency),
            inter_node_latency=_validate.number("inter_node_latency", self.inter_node_latency),
            devices_per_node=_validate.integer("devices_per_node", self.devices_per_node),
            host_bandwidth=_host_bandwidth(self.host_bandwidth),
        )
        object.__setattr__(self, "_core", core)
        _check_attention_kernels(self.attention_kernels)
        _check_attention_curves("attention_curves", "tokens", 4096, self.attention_curves)
        _check_attention_curves("attention_head_curves", "head dimensions", 128,
                                self.attention_head_curves)
        object.__setattr__(self, "_efficiency", _default_efficiency(self.efficiency, self))

    @property
    def default_efficiency(self) -> _CoreEfficiency:
        """What an estimate on this device uses unless given ``efficiency=``."""
        return self._efficiency

    def attention_curve(self, kernel: str) -> tuple[tuple[float, float], ...]:
        """``kernel``'s published throughput against the tokens per attention call, as
        (tokens, multiple of its 4,096-token value) points; () where none is published."""
        return _normalised((self.attention_curves or {}).get(kernel), 4096)

    def attention_head_curve(self, kernel: str) -> tuple[tuple[float, float], ...]:
        """``kernel``'s published throughput against the head dimension, as (head dim,
        multiple of its head-dimension-128 value) points; () where none is published."""
        return _normalised((self.attention_head_curves or {}).get(kernel), 128)

    def attention_efficiency(self, kernel: str) -> float:
        """The published fraction of the 16-bit peak ``kernel`` reaches on this device."""
        known = {k: v for k, v in (self.attention_kernels or {}).items() if k != "source"}
        if kernel not in known:
            allowed = ", ".join(sorted(known)) or "none: pass efficiency=Efficiency(attention=...)"
            msg = (f"attention_kernel={kernel!r} is invalid for {self.name}: kernels with a "
                   f"published efficiency on it are {allowed}")
            raise ValueError(msg)
        return float(known[kernel])

    def __repr__(self) -> str:
        peaks = ", ".join(f"{fmt}: {si(value, 'FLOP/s')}" for fmt in _FORMATS
                          if (value := self.peak_flops.get(fmt)))
        fields = [
            f"name={self.name!r}", f"peak_flops={{{peaks}}}", f"memory={si(self.memory, 'B')}",
            f"memory_bandwidth={si(self.memory_bandwidth, 'B/s')}",
            f"intra_node_bandwidth={si(self.intra_node_bandwidth, 'B/s')}",
            f"inter_node_bandwidth={si(self.inter_node_bandwidth, 'B/s')}",
            f"devices_per_node={self.devices_per_node}",
            f"intra_node_latency={duration(self.intra_node_latency)}",
            f"inter_node_latency={duration(self.inter_node_latency)}",
        ]
        if self.host_bandwidth is not None:
            fields.append(f"host_bandwidth={si(self.host_bandwidth, 'B/s')}")
        return f"Hardware({', '.join(fields)})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str | None = None) -> Hardware:
        """A device from a dict with the fields of the built-in table."""
        if not isinstance(data, Mapping):
            msg = f"hardware={data!r} is invalid: it must be a dict of the device's fields"
            raise ValueError(msg)
        missing = [key for key in _REQUIRED if key not in data]
        if missing:
            msg = f"hardware={dict(data)!r} is invalid: it is missing {', '.join(missing)}"
            raise ValueError(msg)
        fields = {key: data[key] for key in (*_REQUIRED, "intra_node_latency",
                                              "inter_node_latency", "host_bandwidth",
                                              "sources", "efficiency",
                                              "attention_kernels", "attention_curves",
                                              "attention_head_curves")
                  if key in data}
        return cls(name=name or data.get("name", "custom"), **fields)

    @classmethod
    def from_json(cls, path: str | PathLike[str]) -> Hardware:
        """A device from a JSON file holding one device's fields."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as error:
            msg = f"hardware={str(path)!r} is invalid: {error}"
            raise ValueError(msg) from None
        return cls.from_dict(data)


def _host_bandwidth(value: Any) -> float:
    """The core's host_bandwidth: 0 for None (unknown); 0 itself is refused, as a peak's is."""
    if value is None:
        return 0.0
    number = _validate.number("host_bandwidth", value)
    if number == 0:
        lo, hi = _core.HARDWARE_LIMITS["link_bandwidth"]
        msg = (f"host_bandwidth={value!r} is invalid: allowed range is [{lo:g}, {hi:g}] bytes/s "
               "(absent or None: unknown)")
        raise ValueError(msg)
    return number


def _peaks(peak_flops: Any) -> dict[str, float]:
    """FLOP/s per format (0.0: unsupported), each checked against the physical range."""
    formats = ", ".join(_FORMATS)
    if not isinstance(peak_flops, Mapping):
        msg = (f"peak_flops={peak_flops!r} is invalid: it must be a dict of dense FLOP/s per "
               f"number format ({formats}; None or absent: unsupported)")
        raise ValueError(msg)
    unknown = set(peak_flops) - set(_FORMATS)
    if unknown:
        msg = (f"peak_flops={dict(peak_flops)!r} is invalid: unknown formats "
               f"{', '.join(sorted(map(repr, unknown)))} (known: {formats})")
        raise ValueError(msg)
    lo, hi = _core.HARDWARE_LIMITS["peak_flops"]
    peaks = {}
    for fmt in _FORMATS:
        value = peak_flops.get(fmt)
        if value is None:
            peaks[fmt] = 0.0
            continue
        field = f"peak_flops[{fmt!r}]"
        peaks[fmt] = _validate.number(field, value)
        if not lo <= peaks[fmt] <= hi:
            msg = (f"{field}={value!r} is invalid: allowed range is [{lo:g}, {hi:g}] FLOP/s "
                   "(None or absent: the device lacks the format)")
            raise ValueError(msg)
    if not any(peaks[fmt] for fmt in ("fp32", "tf32", "bf16", "fp16")):
        msg = (f"peak_flops={dict(peak_flops)!r} is invalid: at least one of fp32, tf32, bf16, "
               "fp16 needs a peak")
        raise ValueError(msg)
    return peaks


@cache
def _table() -> dict[str, Any]:
    text = resources.files("scalingperf").joinpath("data/devices.json").read_text()
    data: dict[str, Any] = json.loads(text)["devices"]
    return data


@cache
def _builtin(key: str) -> Hardware:
    return Hardware.from_dict(_table()[key], name=key)


@cache
def _aliases() -> dict[str, str]:
    names = {}
    for key, entry in _table().items():
        for alias in (key, *entry.get("aliases", ())):
            names[alias.lower()] = key
    return names


@cache
def _by_name() -> dict[str, Hardware]:
    return {name: _builtin(key) for name, key in _aliases().items()} | {
        key: _builtin(key) for key in _table()}


class HardwareTable(dict[str, Hardware]):
    """Devices by name: a plain dict of :class:`Hardware` that prints as a table."""

    def __repr__(self) -> str:
        def peak(hw: Hardware, fmt: str) -> str:
            value = hw.peak_flops.get(fmt)
            return si(value, "FLOP/s") if value else "-"

        rows = [[name, peak(hw, "bf16"), peak(hw, "fp8"), si(hw.memory, "B"),
                 si(hw.memory_bandwidth, "B/s"), si(hw.intra_node_bandwidth, "B/s"),
                 si(hw.inter_node_bandwidth, "B/s"), str(hw.devices_per_node),
                 si(hw.host_bandwidth, "B/s") if hw.host_bandwidth else "-"]
                for name, hw in self.items()]
        header = ["name", "bf16 peak", "fp8 peak", "memory", "memory bandwidth",
                  "intra-node", "inter-node", "per node", "host link"]
        return table(header, rows, left=1)

    __str__ = __repr__


def _core_repr(hw: _core.Hardware) -> str:
    peaks = [f"peak_{fmt}={si(getattr(hw, f'peak_{fmt}'), 'FLOP/s')}"
             for fmt in _FORMATS]
    fields = [*peaks, f"memory={si(hw.memory, 'B')}",
              f"memory_bandwidth={si(hw.memory_bandwidth, 'B/s')}",
              f"intra_node_bandwidth={si(hw.intra_node_bandwidth, 'B/s')}",
              f"inter_node_bandwidth={si(hw.inter_node_bandwidth, 'B/s')}",
              f"intra_node_latency={duration(hw.intra_node_latency)}",
              f"inter_node_latency={duration(hw.inter_node_latency)}",
              f"devices_per_node={hw.devices_per_node}",
              f"host_bandwidth={si(hw.host_bandwidth, 'B/s') if hw.host_bandwidth else 'unknown'}"]
    return f"Hardware({', '.join(fields)})"


_core.Hardware.__repr__ = _core_repr  # type: ignore[method-assign,assignment]


def hardware() -> HardwareTable:
    """The built-in devices, by name (dense peaks; bandwidths per device, one direction)."""
    return HardwareTable((key, _builtin(key)) for key in _table())


def get_hardware(spec: str | Hardware | Mapping[str, Any] | PathLike[str]) -> Hardware:
    """A device from a built-in name or alias, a Hardware, a dict, or a JSON file path."""
    if type(spec) is str:
        by_name = _by_name()
        if spec in by_name:
            return by_name[spec]
    if isinstance(spec, Hardware):
        return spec
    if isinstance(spec, Mapping):
        return Hardware.from_dict(spec)
    if isinstance(spec, str):
        key = _aliases().get(spec.lower())
        if key is not None:
            return _builtin(key)
        if not spec.endswith(".json"):
            msg = f"hardware={spec!r} is invalid: known devices are {', '.join(_table())}"
            raise ValueError(msg)
    if isinstance(spec, (str, PathLike)):
        return Hardware.from_json(spec)
    msg = f"hardware={spec!r} is invalid: give a device name, a Hardware, a dict or a JSON path"
    raise ValueError(msg)


#: The Efficiency fields a device's table entry may set.
_EFFICIENCY_FIELDS = ("matmul", "attention", "memory", "network", "dp_overlap", "tp_overlap",
                      "ep_overlap", "fp8_matmul_ratio", "fp4_matmul_ratio", "tile",
                      "attention_curve", "gemm_k0", "attention_head_curve")


def _check_attention_kernels(values: Mapping[str, Any] | None) -> None:
    if values is None:
        return
    if not isinstance(values, Mapping):
        msg = (f"attention_kernels={values!r} is invalid: give a dict of kernel name: "
               "fraction of the 16-bit peak (and its source)")
        raise ValueError(msg)
    for name, value in values.items():
        if name == "source":
            continue
        fraction = _validate.number(f"attention_kernels[{name!r}]", value)
        if not 0 < fraction <= 1:
            msg = (f"attention_kernels[{name!r}]={value!r} is invalid: a fraction of the peak "
                   "in (0, 1]")
            raise ValueError(msg)


def _normalised(points: Any, anchor_at: float) -> tuple[tuple[float, float], ...]:
    """A published curve as (x, multiple of its value at ``anchor_at``) points."""
    if not points:
        return ()
    anchor = {float(x): float(v) for x, v in points}[float(anchor_at)]
    return tuple((float(x), float(v) / anchor) for x, v in points)


def _check_attention_curves(field: str, along: str, anchor: int,
                            values: Mapping[str, Any] | None) -> None:
    """A device's published curves per kernel (``attention_curves`` against the tokens,
    ``attention_head_curves`` against the head dimension), or a ValueError naming it."""
    if values is None:
        return
    rule = (f"give a dict of kernel name: [[x, throughput], ...] with rising {along}, "
            f"a point at {anchor} and at most 8 points (and its source)")
    if not isinstance(values, Mapping):
        msg = f"{field}={values!r} is invalid: {rule}"
        raise ValueError(msg)
    for name, points in values.items():
        if name == "source":
            continue
        try:
            pairs = [(float(x), float(v)) for x, v in points]
        except (TypeError, ValueError):
            pairs = []
        xs = [x for x, _ in pairs]
        if (not 0 < len(pairs) <= 8 or float(anchor) not in xs or xs != sorted(set(xs))
                or not all(v > 0 for _, v in pairs)):
            msg = f"{field}[{name!r}]={points!r} is invalid: {rule}"
            raise ValueError(msg)


def _default_efficiency(values: Mapping[str, Any] | None, device: Hardware) -> _CoreEfficiency:
    from .estimate import Efficiency

    if values is None:
        return Efficiency()
    if not isinstance(values, Mapping) or set(values) - {*_EFFICIENCY_FIELDS, "source",
                                                          "attention_kernel"}:
        msg = (f"efficiency={values!r} is invalid: give a dict of "
               f"{', '.join(_EFFICIENCY_FIELDS)}, attention_kernel (and its source)")
        raise ValueError(msg)
    given: dict[str, Any] = {name: value for name, value in values.items()
                             if name not in ("source", "attention_kernel")}
    if "attention_kernel" in values:  # its attention follows that kernel's published curve
        given["attention_curve"] = device.attention_curve(values["attention_kernel"])
        given["attention_head_curve"] = device.attention_head_curve(values["attention_kernel"])
    return Efficiency(**given)
