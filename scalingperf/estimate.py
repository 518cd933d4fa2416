"""One configuration's cost: ``estimate()`` and its Report."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from os import PathLike
from typing import Any

from . import _core, _validate
from ._format import count, duration, gib, si, table
from ._stages import stage_split
from .architecture import Architecture
from .devices import _EFFICIENCY_FIELDS, Hardware, get_hardware
from .layers import OpTable

ParamCounts = _core.ParamCounts
FlopCounts = _core.FlopCounts
MemoryReport = _core.MemoryReport
TimeReport = _core.TimeReport
_DEFAULT_EFFICIENCY = _core.Efficiency()


class Efficiency(_core.Efficiency):
    """Achieved fractions of the peaks: the calibratable part of the time model.

    Parameters
    ----------
    matmul, memory, network : float
        Fractions of peak FLOP/s (for a GEMM with no tile waste and a long reduction), of
        memory bandwidth and of link bandwidth for collectives, each in [0.001, 1].
    attention : float, optional
        Fraction of the 16-bit peak that attention's own GEMMs (Q K^T, P V, fused in one
        flash-attention kernel) reach, [0.001, 1]; by default the same as ``matmul``.
    tp_overlap : float
        Fraction of the tensor-parallel collectives hidden behind the GEMMs they feed
        (async TP, comm-GEMM overlap), [0, 1]; 0 (the default) exposes all of it.
    dp_overlap : float
        Share of the overlap window the data-parallel collectives use, [0, 1]: at 1, all
        but the last layer's bucket hides behind one micro-batch's compute (bucketed
        Megatron --overlap-grad-reduce, prefetching FSDP); at 0, all exposed.
    tile : int
        GEMM output tile edge for tile quantisation, [1, 65536].
    fp8_matmul_ratio : float
        FP8 training's weight GEMMs (fp8, mxfp8) reach this multiple of ``matmul``'s
        fraction of their own peak, from 0.001 to 1 / matmul: a device's best measured FP8
        matmul fraction over its best BF16 one (1, the default: the same).
    fp4_matmul_ratio : float
        The same for NVFP4's weight GEMMs: a device's best measured FP4 matmul fraction
        over its best BF16 one, from 0.001 to 1 / matmul (1, the default: the same).
    ep_overlap : float
        Share of the expert-parallel all-to-alls hidden behind another micro-batch's
        compute, [0, 1], at most that compute (Megatron-Core's
        ``overlap_moe_expert_parallel_comm``, combined 1F1B); 0 (the default) exposes all.
    attention_curve : sequence of (tokens, multiple) pairs, optional
        How ``attention`` varies with the tokens one attention call sees (``seq_len /
        cp``): at most 8 points, tokens rising in [1, 1e12], each multiple in (0, 1000]
        (attention times it is capped at 1); log-linear in the tokens between points, flat
        beyond them. Empty
        (the default): flat. ``estimate(attention_kernel=...)`` and the H100 / H200
        defaults take the kernel's published curve (``Hardware.attention_curve``).
    attention_head_curve : sequence of (head_dim, multiple) pairs, optional
        How ``attention`` varies with the head dimension its kernel runs at (Q K^T's for
        the scores, V's for the values): at most 8 points, head dims rising in [1, 65536],
        each multiple in (0, 1000]; log-linear in the head dimension between points, flat
        beyond them. Empty (the default): flat. ``estimate(attention_kernel=...)`` and the
        A100 / H100 / H200 defaults take the kernel's published curve
        (``Hardware.attention_head_curve``).
    gemm_k0 : float
        A GEMM's fixed cost per output tile (filling its pipeline, its epilogue) in
        elements of its reduction width K at the 16-bit rate, [0, 65536]: a GEMM over K
        runs at ``K / (K + gemm_k0)`` of ``matmul`` (formats whose main loop is n times
        faster lose n times the elements). Forward reduces over the input features,
        backward over the output features and the tokens. 0 (the default): no falloff;
        Hopper devices default to 375 (``sp.hardware()[...].default_efficiency``).

    A value of the wrong type or out of range is a ValueError naming the field.
    """

    def __init__(self, *, matmul: float = _DEFAULT_EFFICIENCY.matmul,
                 memory: float = _DEFAULT_EFFICIENCY.memory,
                 network: float = _DEFAULT_EFFICIENCY.network,
                 dp_overlap: float = _DEFAULT_EFFICIENCY.dp_overlap,
                 tile: int = _DEFAULT_EFFICIENCY.tile,
                 attention: float | None = None,
                 tp_overlap: float = _DEFAULT_EFFICIENCY.tp_overlap,
                 fp8_matmul_ratio: float = _DEFAULT_EFFICIENCY.fp8_matmul_ratio,
                 attention_curve: Iterable[tuple[float, float]] = (),
                 ep_overlap: float = _DEFAULT_EFFICIENCY.ep_overlap,
                 gemm_k0: float = _DEFAULT_EFFICIENCY.gemm_k0,
                 attention_head_curve: Iterable[tuple[float, float]] = (),
                 fp4_matmul_ratio: float = _DEFAULT_EFFICIENCY.fp4_matmul_ratio) -> None:
        matmul = _validate.number("matmul", matmul)
        super().__init__(matmul=matmul,
                         memory=_validate.number("memory", memory),
                         network=_validate.number("network", network),
                         dp_overlap=_validate.number("dp_overlap", dp_overlap),
                         tile=_validate.integer("tile", tile),
                         attention=matmul if attention is None
                         else _validate.number("attention", attention),
                         tp_overlap=_validate.number("tp_overlap", tp_overlap),
                         fp8_matmul_ratio=_validate.number("fp8_matmul_ratio",
                                                           fp8_matmul_ratio),
                         attention_curve=_curve("attention_curve", "tokens", attention_curve),
                         ep_overlap=_validate.number("ep_overlap", ep_overlap),
                         gemm_k0=_validate.number("gemm_k0", gemm_k0),
                         attention_head_curve=_curve("attention_head_curve", "head_dim",
                                                     attention_head_curve),
                         fp4_matmul_ratio=_validate.number("fp4_matmul_ratio",
                                                           fp4_matmul_ratio))

    def replace(self, **changes: Any) -> Efficiency:
        """A copy with the named fields changed (``hw.default_efficiency.replace(
        gemm_k0=0)``); an unknown field is a ValueError naming it."""
        return _overridden(self, changes)


def _curve(field: str, at: str, points: Any) -> list[tuple[float, float]]:
    """A curve of attention (``field``) as (``at``, multiple) float pairs, or a ValueError
    naming it."""
    try:
        pairs = [(_validate.number(f"{field} {at}", t),
                  _validate.number(f"{field} multiple", m)) for t, m in points]
    except (TypeError, ValueError) as error:
        if isinstance(error, ValueError) and field in str(error):
            raise
        msg = f"{field}={points!r} is invalid: give ({at}, multiple of attention) pairs"
        raise ValueError(msg) from None
    return pairs
_PARAM_FIELDS = ("total", "embedding", "non_embedding", "active", "active_non_embedding")
_FLOP_FIELDS = ("forward", "backward", "forward_causal", "backward_causal",
                "elementwise_forward", "elementwise_backward", "recompute", "model",
                "hardware", "per_token", "six_n_per_token")
_MEMORY_FIELDS = ("params", "weights", "gradients", "optimizer", "activations", "activations_per_layer",
                  "activations_in_flight", "logits", "temporary", "per_gpu", "capacity", "fits",
                  "kv_cache", "inference", "max_inference_batch", "pipeline_stage")
_TIME_FIELDS = ("forward", "backward", "recompute", "tp_communication", "ep_communication",
                "pp_communication", "cp_communication", "offload", "stage", "bubble",
                "dp_communication", "optimizer", "step", "tokens_per_step", "tokens_per_s")
_RATIOS = ("mfu", "hfu", "tp_efficiency", "tp_gemm_efficiency", "tp_communication_efficiency",
           "pipeline_bubble")
_FLAG_OPTIONS = ("flash_attention", "dropout", "sequence_parallel", "fused_elementwise",
                 "fp32_gradients")
_TEXT_OPTIONS = ("dtype", "recompute", "implementation", "optimizer", "ep_dispatcher")


def estimate(
    arch: Architecture,
    batch: int,
    seq_len: int,
    *,
    dtype: str = "bf16",
    hardware: str | Hardware | Mapping[str, Any] | PathLike[str] = "H100-SXM",
    tp: int = 1,
    pp: int = 1,
    dp: int = 1,
    ep: int = 1,
    cp: int = 1,
    zero: int = 0,
    optimizer: str = "adamw",
    recompute: str = "none",
    flash_attention: bool = True,
    fused_elementwise: bool = True,
    implementation: str = "megatron",
    sequence_parallel: bool = False,
    dropout: bool = False,
    microbatches: int | None = None,
    interleave: int = 1,
    efficiency: _core.Efficiency | None = None,
    tp_overlap: float | None = None,
    dp_overlap: float | None = None,
    ep_overlap: float | None = None,
    attention_kernel: str | None = None,
    layers_per_stage: Sequence[int] | str | None = None,
    recompute_every: int | None = None,
    etp: int | None = None,
    shard: int | None = None,
    ep_dispatcher: str = "all_to_all",
    recompute_modules: Sequence[str] | str | None = None,
    offload_layers: int | None = None,
    fp32_gradients: bool = False,
) -> Report:
    """Parameters, FLOPs, memory per device and step time of training ``arch``.

    Parameters
    ----------
    arch : Architecture
        The model (see :class:`Architecture`, :func:`presets`).
    batch, seq_len : int
        Sequences per micro-batch (per model replica) and tokens per sequence.
    dtype : {"bf16", "fp16", "fp32", "tf32", "fp8", "mxfp8", "nvfp4"}
        Number format of weights and activations (16-bit formats train with float32
        master weights). "fp8" runs the layers' weight GEMMs (projections, FFN, experts)
        at the device's FP8 peak and keeps attention's GEMMs, the router and the head in
        bf16, with everything stored in bf16 (Transformer Engine's recipe), each GEMM
        input cast by a kernel of its own; MFU is then against the FP8 peak. "mxfp8"
        (block scales per 32) and "nvfp4" (NVIDIA's 4-bit format, scales per 16) do the
        same at the device's peak for them (Blackwell).
    hardware : str, Hardware, dict or path
        A built-in device (see :func:`hardware`), or your own.
    tp, pp, dp, ep : int
        Tensor-, pipeline-, data- and expert-parallel degrees.
    etp : int, optional
        Expert-tensor parallelism (Megatron-Core's ``expert_tensor_parallel_size``): each
        expert's matrices split over ``etp`` ranks instead of ``tp``. The expert layers
        regroup a stage's ``tp x cp x dp`` ranks into ``etp x ep x`` expert-data-parallel
        ones (MoE parallel folding), so ``ep x etp`` must divide ``tp x cp x dp``. With
        ``etp < tp`` an MoE block's tensor-parallel collectives run over its ``etp`` group on
        the ``etp / tp`` of the tokens it holds (none for ``etp = 1``). None (the default):
        ``etp = tp``, and ``ep`` must divide ``dp x cp``.
    cp : int
        Context-parallel degree: each sequence split over cp ranks, which hold the same
        weights (world size tp x cp x pp x dp). Ring attention as in Megatron-Core and
        Transformer Engine: each rank holds two chunks of seq_len / (2 cp) tokens, one
        from each end of the sequence, so causal attention's work is equal on every rank
        (2 cp must divide seq_len); keys and values go around the cp ring point to point,
        cp - 1 steps per attention forward and again with their gradients backward, each
        step overlapped with the attention of the block it brought (exposed:
        max(0, transfer - attention / cp) per step, ``time.cp_communication``). Every
        op's work and saved activations divide by cp; gradients are reduced, and ZeRO
        shards, over dp x cp.
    zero : {0, 1, 2, 3}
        ZeRO stage over dp x cp (Rajbhandari et al. 2020); 3 is FSDP.
    shard : int, optional
        The ranks a ZeRO stage shards over, dividing ``dp x cp`` (at least 2): HSDP
        (PyTorch FSDP's hybrid sharding, torchtitan's ``data_parallel_shard_degree``;
        Megatron's distributed optimizer instances). The ZeRO collectives stay in a
        sharding group; the ``dp x cp / shard`` replicas all-reduce each rank's
        ``1 / shard`` of the gradients across groups. None (the default): all ``dp x cp``.
    ep_dispatcher : {"all_to_all", "deepep"}
        How expert parallelism moves tokens to their experts and back. "all_to_all"
        (the default): NCCL's all-to-all (Megatron-Core's ``alltoall`` dispatcher), every
        routed copy of a token sent to its expert's rank. "deepep": DeepEP's (or NVIDIA's
        Hybrid-EP's) kernels (Megatron-Core's ``flex`` dispatcher), which send a token
        over the network once per other node holding one of its experts and forward it
        there over NVLink; with balanced routing a token reaches ``(N - 1) (1 - C(E -
        E/N, k) / C(E, k))`` other nodes of the ``N`` its expert group spans.
    optimizer : {"adamw", "adamw-bf16", "adamw-bf16-moments", "sgd"}
        Whose states are counted: mixed-precision AdamW (2 + 2 + 12 bytes per parameter
        in 16-bit), AdamW with 16-bit states and no master copy, AdamW with float32 master
        weights and bf16 moments (2 + 2 + 8: Megatron-Core's precision-aware optimizer with
        ``exp_avg_dtype`` and ``exp_avg_sq_dtype`` bf16, as the DeepSeek-V3 recipes run it),
        SGD with momentum.
    recompute : {"none", "selective", "full", "per_op"}
        Activation recomputation (Korthikanti et al. 2022): selective redoes the attention
        core (or ``recompute_modules``), full every layer's forward. ``per_op`` is torchtitan's per-op selective
        checkpointing (``selective_ac_option = "op"``): in each block the outputs of the
        matmuls, of the attention kernel and of reduce-scatters are kept, except every
        second matmul in forward order (Llama: wk, wo, w3), which backward redoes with
        every memory-bound op, the MoE router and the routed experts' grouped GEMMs
        (and, with tensor parallelism, the all-gathers of sequence parallelism or the
        all-reduces without it); each block also keeps its input.
    recompute_modules : sequence of str or str, optional
        With ``recompute="selective"``, Megatron-Core's ``recompute_modules`` (a list, or
        names separated by commas); None: its default, ``("core_attn",)``. ``core_attn``,
        ``mlp`` (the dense MLP), ``moe`` (the whole MoE block, its all-to-alls again) and
        ``shared_experts`` are checkpointed whole: their input kept, their forward redone.
        ``layernorm`` (the pre-norms: their output is no longer kept by the projections
        and the router that read it), ``moe_act`` (the experts' activation: its output,
        the down projection's input, is rebuilt from its inputs) and ``mla_up_proj``
        (MLA's up projections and RoPE: Q, K and V rebuilt) discard their output after use
        and recompute it in backward.
    recompute_every : int, optional
        Full recomputation of every n-th transformer layer of each pipeline device, the
        others saving everything (needs ``recompute="none"``): torchtitan's
        ``selective_ac_option = "n"``, which counts a device's blocks from 1 and
        checkpoints block k when k % n == 0, so floor(layers / n) layers per device keep
        only their input and redo their forward (and its collectives) in backward.
        ``recompute_every=1`` is ``recompute="full"``. None (the default): no layer.
    flash_attention : bool
        A fused attention kernel: no s x s scores in memory, masked blocks skipped.
    fused_elementwise : bool
        Memory-bound ops as fused kernels, each reading its inputs and writing its output
        once (Megatron's and Transformer Engine's kernels, torch.compile): the default.
        False: eager PyTorch, where a hand-written RMSNorm (eight kernels: 36 bytes per
        element in bf16, not 4), a gated activation (10, not 6) and a rotary embedding
        (20, not 4) move their tensors once per aten op, as counted on transformers'
        Llama modules (``tools/make_golden_eager_elementwise.py``); LayerNorm stays one
        kernel.
    offload_layers : int, optional
        Activation offloading of that many layers (Megatron-Core's
        ``cpu_offloading_num_layers``, activations only): their saved tensors wait in host
        memory from their forward to their backward, so the device holds that many mean
        layers' fewer (``memory.activations``). Each layer's copy out runs beside the next
        layer's forward and its copy back beside the backward of the layer after it (Transformer
        Engine's double-buffered offload), over the device's ``host_bandwidth`` (PCIe, or
        NVLink-C2C on Grace superchips) at ``efficiency.network`` of it; what a copy takes
        beyond that compute is exposed, ``time.offload`` per micro-batch. In [1,
        n_layers - 1]; as in Megatron-Core, only with ``pp=1`` and ``recompute="none"``.
        None (the default): no layer offloaded.
    fp32_gradients : bool
        Gradients accumulated, kept and reduced in float32 under 16-bit weights:
        Megatron-LM's default with bf16 (``--accumulate-allreduce-grads-in-fp32``, set for
        bf16 unless ``--grad-reduce-in-bf16``), Megatron-Core's ``grad_reduce_in_fp32``,
        NeMo's ``grad_sync_dtype: fp32``. 4 bytes per parameter of gradients (2 + 4 + 12
        with AdamW, as Megatron-LM's distributed-optimizer docs count them) and in the
        gradient reduce-scatter or all-reduce; the distributed optimizer's weight
        all-gather stays in the weights' format. False (the default): gradients in the
        weights' format (2 + 2 + 12, Rajbhandari et al. 2020).
    implementation : {"megatron", "huggingface"}
        Whose saved tensors the activation model follows.
    sequence_parallel, dropout : bool
    microbatches : int, optional
        Micro-batches per step and replica; None (the default) means ``pp``.
    interleave : int
        Virtual pipeline stages per device (interleaved 1F1B).
    layers_per_stage : list of int or str, optional
        Uneven pipeline stages. A list of the transformer layers on each of the ``pp``
        devices (with ``interleave``, all of a device's virtual stages together): the
        first and the last may differ, the devices between hold the same number, as
        Megatron-LM's ``--decoder-first-pipeline-num-layers`` /
        ``--decoder-last-pipeline-num-layers`` split them (Llama 3 405B: 126 layers on
        16 stages, one fewer on the first and the last). Or a rule: ``"embedding"``,
        ``"loss"`` or ``"embedding+loss"`` count the embedding (the loss) as one layer of
        the first (last) virtual stage and split ``n_layers + 1 (+ 1)`` evenly over
        ``pp x interleave`` virtual stages (Megatron-Core's
        ``account_for_embedding_in_pipeline_split`` / ``account_for_loss_in_pipeline_split``).
        None (the default): ``pp`` divides ``n_layers`` evenly. The slowest device sets the
        stage time (and so the bubble), the busiest device's memory decides the fit.
    efficiency : Efficiency, optional
        Achieved fractions of peak compute (GEMMs, attention), memory and network
        bandwidth, and how much of the data-parallel reduction overlaps compute. Default:
        the device's measured fractions where its table entry has them
        (``hardware.default_efficiency``), else ``Efficiency()``.
    tp_overlap, dp_overlap : float or bool, optional
        Override the efficiency's overlaps, [0, 1] (True: 1, False: 0): the fraction of
        the tensor-parallel collectives hidden behind the GEMMs (async TP), and the share
        of the overlap window the data-parallel collectives use (see ``Efficiency``: at 1
        they hide behind one micro-batch's compute but the last layer's bucket, as
        prefetching FSDP and Megatron's --overlap-grad-reduce do).
    ep_overlap : float or bool, optional
        Override the efficiency's share of the expert-parallel all-to-alls hidden behind
        another micro-batch's compute (True: 1, as Megatron-Core's
        ``overlap_moe_expert_parallel_comm`` intends; at most that compute).
    attention_kernel : str, optional
        The fused-attention kernel the framework runs, by name: attention's GEMMs then run
        at the fraction of the 16-bit peak published for it on this device
        (``hardware.attention_kernels``: ``"fa2"``, FlashAttention-2, what PyTorch's
        ``scaled_dot_product_attention`` runs, as in torchtitan; ``"cudnn"``, Transformer
        Engine's fused attention, as in Megatron-LM; ``"fa3"``), replacing the efficiency's
        ``attention``. None (the default): the efficiency's own.

    Returns
    -------
    Report
    """
    if not isinstance(arch, Architecture):
        msg = f"arch={arch!r} is invalid: it must be a scalingperf.Architecture"
        raise ValueError(msg)
    device = get_hardware(hardware)
    changes: dict[str, Any] = {}
    if tp_overlap is not None:
        changes["tp_overlap"] = _overlap("tp_overlap", tp_overlap)
    if dp_overlap is not None:
        changes["dp_overlap"] = _overlap("dp_overlap", dp_overlap)
    if ep_overlap is not None:
        changes["ep_overlap"] = _overlap("ep_overlap", ep_overlap)
    if attention_kernel is not None:
        changes["attention"] = device.attention_efficiency(attention_kernel)
        changes["attention_curve"] = device.attention_curve(attention_kernel)
        changes["attention_head_curve"] = device.attention_head_curve(attention_kernel)
    if changes:
        efficiency = _overridden(_efficiency(efficiency) if efficiency is not None
                                 else device.default_efficiency, changes)
    args = (arch._core, device._core,
            device.default_efficiency if efficiency is None else efficiency,
            batch, seq_len, recompute, dtype, flash_attention, dropout, implementation, tp, pp,
            dp, ep, zero, microbatches, interleave, sequence_parallel, optimizer, cp,
            stage_split(layers_per_stage, pp), recompute_every, etp, shard, ep_dispatcher,
            recompute_module_names(recompute_modules, recompute), fused_elementwise,
            0 if offload_layers is None else offload_layers, fp32_gradients)
    try:
        return Report(arch, device, args, _core.estimate(*args))
    except TypeError:
        pass
    # The core takes only exact int, bool and str (and None for microbatches): convert
    # what is exactly representable (numpy integers, 2.0), name anything else, retry.
    args = (*args[:2], args[2] if efficiency is None else _efficiency(efficiency),
            *_converted(args[3:]))
    return Report(arch, device, args, _core.estimate(*args))


#: Megatron-Core's recompute_modules, as the core names them.
RECOMPUTE_MODULES: tuple[str, ...] = _core.RECOMPUTE_MODULES


def recompute_module_names(value: Any, recompute: Any) -> tuple[str, ...] | None:
    """``recompute_modules`` as a tuple of names (a comma-separated string or a sequence
    of names), None for Megatron's default; a ValueError for an unknown name, or for
    modules without ``recompute="selective"``."""
    if value is None:
        return None
    if recompute != "selective":
        module_names(value)  # an unknown name first
        msg = (f"recompute_modules={value!r} is invalid: the modules are what "
               f"recompute='selective' redoes (recompute={recompute!r})")
        raise ValueError(msg)
    return module_names(value)


def module_names(value: Any) -> tuple[str, ...]:
    """Module names from a comma-separated string, a list or a tuple, each once, or a
    ValueError naming ``recompute_modules``."""
    names = value.split(",") if isinstance(value, str) else value
    out: tuple[Any, ...] = tuple(names) if isinstance(names, (list, tuple)) else ()
    out = tuple(dict.fromkeys(out)) if all(isinstance(n, str) for n in out) else ()
    if not out or not all(n in RECOMPUTE_MODULES for n in out):
        msg = (f"recompute_modules={value!r} is invalid: give one or more of "
               f"{', '.join(RECOMPUTE_MODULES)}")
        raise ValueError(msg)
    return out


def _overlap(field: str, value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return _validate.number(field, value)


def _overridden(base: _core.Efficiency, changes: dict[str, Any]) -> Efficiency:
    """``base`` with the fields in ``changes`` replaced (Efficiency checks them)."""
    unknown = sorted(set(changes) - set(_EFFICIENCY_FIELDS))
    if unknown:
        msg = (f"{unknown[0]}={changes[unknown[0]]!r} is invalid: Efficiency has no such field "
               f"(its fields: {', '.join(_EFFICIENCY_FIELDS)})")
        raise ValueError(msg)
    return Efficiency(**{name: getattr(base, name) for name in _EFFICIENCY_FIELDS} | changes)


def _efficiency(value: Any) -> _core.Efficiency:
    if value is None:
        return _DEFAULT_EFFICIENCY
    if not isinstance(value, _core.Efficiency):
        msg = f"efficiency={value!r} is invalid: it must be a scalingperf.Efficiency"
        raise ValueError(msg)
    return value


_OPTION_NAMES = ("batch", "seq_len", "recompute", "dtype", "flash_attention", "dropout",
                 "implementation", "tp", "pp", "dp", "ep", "zero", "microbatches",
                 "interleave", "sequence_parallel", "optimizer", "cp", "layers_per_stage",
                 "recompute_every", "etp", "shard", "ep_dispatcher", "recompute_modules",
                 "fused_elementwise", "offload_layers", "fp32_gradients")


#: Where recompute_modules sits in the core's arguments (after arch, hardware, efficiency).
_ARG_MODULES = 3 + _OPTION_NAMES.index("recompute_modules")


def _converted(values: tuple[Any, ...]) -> list[Any]:
    """The options as the core's exact types, or a ValueError naming the field."""
    out: list[Any] = []
    for name, value in zip(_OPTION_NAMES, values, strict=True):
        if ((name in ("microbatches", "recompute_every", "etp", "shard") and value is None)
                or name in ("layers_per_stage", "recompute_modules")):
            out.append(value)  # None, or already exact (stage_split)
        elif name in _FLAG_OPTIONS:
            out.append(_validate.flag(name, value))
        elif name in _TEXT_OPTIONS:
            out.append(_validate.text(name, value))
        else:
            out.append(_validate.integer(name, value))
    return out


class Report:
    """What :func:`estimate` found for one configuration.

    Attributes
    ----------
    params : ParamCounts
        ``total``, ``embedding`` (token and position tables, untied output projection),
        ``non_embedding``, ``active`` (per token: top_k routed experts) and
        ``active_non_embedding`` (Kaplan's N).
    flops : FlopCounts
        Matmul FLOPs of one micro-batch: ``forward``, ``backward`` (full attention),
        ``forward_causal``, ``backward_causal``, ``model`` (forward + backward),
        ``hardware`` (model + ``recompute``), ``per_token``, ``six_n_per_token``, and
        elementwise FLOPs apart.
    memory : MemoryReport
        Bytes on the busiest device: ``weights``, ``gradients``, ``optimizer``,
        ``activations`` (saved for backward by one micro-batch, logits included: with
        ``pp = 1`` exactly ``layers.total("saved_bytes")``, the full-recomputation
        checkpoints being on the ``attn_norm`` row, less what ``offload_layers`` keeps in
        host memory), ``activations_in_flight`` (the
        micro-batches the pipeline schedule keeps), ``temporary`` (the transient peak, in
        no row of the table: the logits' gradient, or one recomputed layer's working set
        if larger), ``per_gpu`` (weights + gradients + optimizer + activations_in_flight +
        temporary), ``fits``; inference ``kv_cache``, ``inference`` and
        ``max_inference_batch``.
    time : TimeReport
        Seconds: per micro-batch ``forward``, ``backward``, ``recompute``,
        ``tp_communication``, ``ep_communication``, ``pp_communication``,
        ``cp_communication``, ``offload`` (activation offloading's exposed copies),
        ``stage``; per step
        ``bubble``, ``dp_communication``, ``optimizer``, ``step``; ``tokens_per_s``.
    mfu, hfu : float
        Model and hardware FLOPs utilisation.
    tp_efficiency : float
        Per-device throughput at this tp over that at tp = 1, the product of
        ``tp_gemm_efficiency`` and ``tp_communication_efficiency``.
    pipeline_bubble : float
        (p - 1) / (v m).
    layers : OpTable
        One row per op of every layer type (computed on first access).
    efficiency : Efficiency
        The fractions of the peaks the estimate used.
    """

    __slots__ = ("_args", "_layers", "_result", "architecture", "hardware")

    def __init__(self, arch: Architecture, device: Hardware, args: tuple[Any, ...],
                 result: _core.TrainingReport) -> None:
        self.architecture = arch
        self.hardware = device
        self._result = result
        self._args = args
        self._layers: OpTable | None = None

    @property
    def params(self) -> ParamCounts:
        """Parameter counts."""
        return self._result.params

    @property
    def flops(self) -> FlopCounts:
        """FLOPs of one micro-batch."""
        return self._result.flops

    @property
    def memory(self) -> MemoryReport:
        """Bytes on the busiest device."""
        return self._result.memory

    @property
    def time(self) -> TimeReport:
        """Seconds per micro-batch and per step."""
        return self._result.time

    batch = property(lambda self: self._args[3], doc="Sequences per micro-batch.")
    seq_len = property(lambda self: self._args[4], doc="Tokens per sequence.")
    recompute = property(lambda self: self._args[5], doc="Recomputation mode.")
    recompute_modules = property(
        lambda self: (self._args[_ARG_MODULES] or ("core_attn",))
        if self._args[5] == "selective" else (),
        doc="Under selective recomputation, Megatron-Core's modules it redoes.")
    efficiency = property(lambda self: self._args[2],
                          doc="The Efficiency the estimate used (the device's default or yours).")
    tokens = property(lambda self: self._result.tokens, doc="Tokens per micro-batch.")
    mfu = property(lambda self: self._result.mfu, doc="Model FLOPs utilisation.")
    hfu = property(lambda self: self._result.hfu, doc="Hardware FLOPs utilisation.")
    tp_efficiency = property(lambda self: self._result.tp_efficiency)
    tp_gemm_efficiency = property(lambda self: self._result.tp_gemm_efficiency)
    tp_communication_efficiency = property(lambda self: self._result.tp_communication_efficiency)
    pipeline_bubble = property(lambda self: self._result.pipeline_bubble)
    devices = property(lambda self: self._result.devices, doc="tp x cp x pp x dp.")
    microbatches = property(lambda self: self._result.microbatches)

    @property
    def layers(self) -> OpTable:
        """The per-op table."""
        if self._layers is None:
            self._layers = OpTable(_core.op_table(self._result))
        return self._layers

    def training(self, tokens: float) -> dict[str, float | bool]:
        """Seconds, days, GPU-hours and PF-days to train on ``tokens`` tokens at this step
        rate, and ``fits``: False when the configuration does not fit in the device's
        memory, in which case the time is what it would take if it did."""
        budget: dict[str, float | bool] = dict(
            _core.training_budget(self._result, _validate.real("tokens", tokens)))
        budget["fits"] = bool(self.memory.fits)
        return budget

    def step_interval(self, level: float = 0.8, *, by: str = "all") -> tuple[float, float]:
        """``(lo, hi)`` seconds per step: the step time scaled by the ``(1 - level) / 2``
        and ``(1 + level) / 2`` quantiles of measured / predicted step over the published
        runs of :func:`validate` (``by="device"``: this device's runs where there are
        enough). How far published runs fell from the model, not a statistical guarantee;
        the model is optimistic on average, so at small levels the interval may lie above
        the point estimate. See :mod:`scalingperf.intervals`."""
        from .intervals import step_factors

        lo, hi = step_factors(level, device=self.hardware.name, by=by)
        return self.time.step * lo, self.time.step * hi

    def tokens_per_s_interval(self, level: float = 0.8, *,
                              by: str = "all") -> tuple[float, float]:
        """``(lo, hi)`` tokens per second over the step interval (:meth:`step_interval`):
        the longer step gives the lower rate."""
        from .intervals import step_factors

        lo, hi = step_factors(level, device=self.hardware.name, by=by)
        return self.time.tokens_per_s / hi, self.time.tokens_per_s / lo

    def training_interval(self, tokens: float, level: float = 0.8, *,
                          by: str = "all") -> tuple[float, float]:
        """``(lo, hi)`` days to train on ``tokens`` tokens over the step interval
        (:meth:`step_interval`, :meth:`training`)."""
        from .intervals import step_factors

        lo, hi = step_factors(level, device=self.hardware.name, by=by)
        days = float(self.training(tokens)["days"])
        return days * lo, days * hi

    def to_dict(self) -> dict[str, Any]:
        """Totals, memory, time and the per-op table as plain Python values, for JSON."""
        return {
            "architecture": self.architecture.to_dict(),
            "hardware": self.hardware.name,
            "batch": self.batch,
            "seq_len": self.seq_len,
            "tokens": self.tokens,
            "params": {name: getattr(self.params, name) for name in _PARAM_FIELDS},
            "flops": {name: getattr(self.flops, name) for name in _FLOP_FIELDS},
            "memory": {name: getattr(self.memory, name) for name in _MEMORY_FIELDS},
            "time": {name: getattr(self.time, name) for name in _TIME_FIELDS},
            **{name: getattr(self, name) for name in _RATIOS},
            "layers": self.layers.to_dict(),
        }

    def summary(self) -> str:
        """The totals as a small table, each value with its unit: FLOPs of one micro-batch,
        memory on the busiest GPU (GiB), time per step (marked when the configuration does
        not fit: the time is what it would take if it did)."""
        p, f, m, t = self.params, self.flops, self.memory, self.time
        cost = "" if m.fits else " (as if it fit)"
        rows = [
            ["params", "total", count(p.total, "params")],
            ["params", "embedding", count(p.embedding, "params")],
            ["params", "non-embedding", count(p.non_embedding, "params")],
            ["params", "active per token", count(p.active, "params")],
            ["FLOPs", "forward", si(f.forward, "FLOP")],
            ["FLOPs", "forward, causal attention", si(f.forward_causal, "FLOP")],
            ["FLOPs", "backward", si(f.backward, "FLOP")],
            ["FLOPs", "model (fwd + bwd)", si(f.model, "FLOP")],
            ["FLOPs", f"hardware (recompute={self.recompute})", si(f.hardware, "FLOP")],
            ["FLOPs", "elementwise fwd + bwd",
             si(f.elementwise_forward + f.elementwise_backward, "FLOP")],
            ["FLOPs", "per token", si(f.per_token, "FLOP")],
            ["FLOPs", "6N per token (Kaplan)", si(f.six_n_per_token, "FLOP")],
            ["memory", "weights + grads + optimizer", gib(m.weights + m.gradients + m.optimizer)],
            ["memory", "activations in flight", gib(m.activations_in_flight)],
            ["memory", "per GPU" + ("" if m.fits else " (does NOT fit)"), gib(m.per_gpu)],
            ["memory", "available per GPU", gib(m.capacity)],
            ["time", "step" + cost, duration(t.step)],
            ["time", "tokens/s" + cost, count(t.tokens_per_s, "tokens/s")],
            ["time", "MFU / HFU" + cost, f"{self.mfu:.1%} / {self.hfu:.1%}"],
            ["time", "TP efficiency", f"{self.tp_efficiency:.1%}"],
            ["time", "pipeline bubble", f"{self.pipeline_bubble:.1%}"],
        ]
        if t.offload:
            rows.append(["time", "offloading exposed per micro-batch", duration(t.offload)])
        return table(["", "total", "value"], rows)

    def __str__(self) -> str:
        name = self.architecture.name or "architecture"
        title = (f"{name}: batch {self.batch} x seq_len {self.seq_len} = {si(self.tokens)} "
                 f"tokens per micro-batch on {self.devices} x {self.hardware.name}")
        return f"{title}\n\n{self.layers}\n\n{self.summary()}"

    def __repr__(self) -> str:
        m = self.memory
        return (f"<Report {self.architecture.name or 'architecture'}: batch {self.batch} x "
                f"seq_len {self.seq_len} on {self.devices} x {self.hardware.name}; "
                f"params={si(self.params.total)}, flops.model={si(self.flops.model, 'FLOP')}, "
                f"memory.per_gpu={si(m.per_gpu, 'B')} of {si(m.capacity, 'B')}, "
                f"fits={m.fits}, time.step={duration(self.time.step)}, mfu={self.mfu:.1%}>")


# Readable reprs of the core's result types: field=value with units (decimal prefixes,
# as in summary(): 1 GB = 1e9 bytes). The values themselves stay plain numbers.
def _fields(name: str, items: Iterable[tuple[str, str]]) -> str:
    return f"{name}({', '.join(f'{key}={value}' for key, value in items)})"


def _formatted(obj: Any, spec: Iterable[tuple[str, Callable[[Any], str]]]) -> Iterable[
        tuple[str, str]]:
    return ((field, fmt(getattr(obj, field))) for field, fmt in spec)


def _count(value: float) -> str:
    return si(value)


def _flop(value: float) -> str:
    return si(value, "FLOP")


def _bytes(value: float) -> str:
    return si(value, "B")


def _seconds(value: float) -> str:
    return "0 s" if value == 0 else duration(value)


_PARAM_REPR = [(name, _count) for name in _PARAM_FIELDS]
_FLOP_REPR = [(name, _flop) for name in _FLOP_FIELDS if "per_token" not in name] + [
    ("per_token", lambda v: si(v, "FLOP/token")),
    ("six_n_per_token", lambda v: si(v, "FLOP/token"))]
_MEMORY_REPR: list[tuple[str, Callable[[Any], str]]] = [
    ("per_gpu", _bytes), ("fits", repr), ("capacity", _bytes), ("params", _count),
    ("weights", _bytes), ("gradients", _bytes), ("optimizer", _bytes),
    ("activations", _bytes), ("activations_per_layer", _bytes),
    ("activations_in_flight", _bytes), ("logits", _bytes), ("temporary", _bytes),
    ("kv_cache", _bytes), ("inference", _bytes), ("max_inference_batch", repr),
    ("pipeline_stage", repr)]
_TIME_REPR: list[tuple[str, Callable[[Any], str]]] = [
    ("step", _seconds), ("tokens_per_s", lambda v: f"{si(v)} tokens/s"),
    ("tokens_per_step", lambda v: f"{si(v)} tokens"),
    *((name, _seconds) for name in _TIME_FIELDS
      if name not in ("step", "tokens_per_s", "tokens_per_step"))]


def _training_repr(r: _core.TrainingReport) -> str:
    m = r.memory
    return _fields("TrainingReport", [
        ("tokens", f"{si(r.tokens)} tokens"), ("params", si(r.params.total)),
        ("flops.model", _flop(r.flops.model)), ("memory.per_gpu", _bytes(m.per_gpu)),
        ("fits", repr(m.fits)), ("capacity", _bytes(m.capacity)),
        ("time.step", _seconds(r.time.step)), ("mfu", f"{r.mfu:.1%}"),
        ("devices", repr(r.devices))])


def _efficiency_repr(e: _core.Efficiency) -> str:
    return _fields("Efficiency", [(name, repr(getattr(e, name))) for name in
                                  ("matmul", "attention", "memory", "network", "dp_overlap",
                                   "tp_overlap", "ep_overlap", "tile", "fp8_matmul_ratio",
                                   "fp4_matmul_ratio",
                                   "attention_curve", "attention_head_curve", "gemm_k0")])


_core.ParamCounts.__repr__ = lambda self: _fields(  # type: ignore[method-assign]
    "ParamCounts", _formatted(self, _PARAM_REPR))
_core.FlopCounts.__repr__ = lambda self: _fields(  # type: ignore[method-assign]
    "FlopCounts", _formatted(self, _FLOP_REPR))
_core.MemoryReport.__repr__ = lambda self: _fields(  # type: ignore[method-assign]
    "MemoryReport", _formatted(self, _MEMORY_REPR))
_core.TimeReport.__repr__ = lambda self: _fields(  # type: ignore[method-assign]
    "TimeReport", _formatted(self, _TIME_REPR))
_core.TrainingReport.__repr__ = _training_repr  # type: ignore[method-assign,assignment]
_core.Efficiency.__repr__ = _efficiency_repr  # type: ignore[method-assign,assignment]
