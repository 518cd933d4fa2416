"""Type stubs of the compiled core (private: use the scalingperf package)."""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

class Architecture:
    def __init__(
        self,
        *,
        d_model: int,
        n_layers: int,
        n_heads: int,
        n_kv_heads: int = 0,
        head_dim: int = 0,
        d_ff: int = 0,
        ffn: str = "gelu",
        vocab_size: int,
        max_position_embeddings: int,
        position: str = "learned",
        norm: str = "layernorm",
        qkv_bias: bool = False,
        out_bias: bool = False,
        mlp_bias: bool = False,
        tie_embeddings: bool = False,
        n_experts: int = 0,
        top_k: int = 1,
        n_shared_experts: int = 0,
        d_ff_expert: int = 0,
        d_ff_shared: int = 0,
        shared_expert_gate: bool = False,
        moe_every: int = 1,
        first_dense_layers: int = 0,
        dense_layers: list[int] = ...,
        capacity_factor: float = 0.0,
        norm_placement: str = "pre",
        qk_norm: str = "none",
        parallel_block: bool = False,
        embedding_norm: bool = False,
        lm_head_bias: bool = False,
        attention_sinks: bool = False,
        attention_output_gate: bool = False,
        attention_window: int = 0,
        window_kind: str = "sliding",
        global_every: int = 0,
        global_layers: list[int] = ...,
        kv_lora_rank: int = 0,
        q_lora_rank: int = 0,
        qk_nope_head_dim: int = 0,
        qk_rope_head_dim: int = 0,
        v_head_dim: int = 0,
        router_bias: bool = False,
        linear_mixer: str = "none",
        attention_every: int = 0,
        attention_layers: list[int] = ...,
        linear_heads: int = 0,
        linear_head_dim: int = 0,
        linear_key_heads: int = 0,
        linear_key_dim: int = 0,
        linear_conv_kernel: int = 4,
        linear_conv_bias: bool = False,
        activation_saves: int = 0,
        linear_dt_rank: int = 0,
        linear_inner_norms: bool = False,
        attention_gate_bias: bool = False,
        moe_post_norm: bool = False,
        last_out_bias: bool = False,
        sub_norms: bool = False,
        attention_head_gate: bool = False,
        ffn_layers: list[int] = ...,
        global_head_dim: int = 0,
        window_kv_heads: int = 0,
        window_sinks: bool = False,
        mtp_layers: int = 0,
    ) -> None: ...
    def resolved(self) -> Architecture: ...
    @property
    def d_model(self) -> int: ...
    @property
    def n_layers(self) -> int: ...
    @property
    def n_heads(self) -> int: ...
    @property
    def n_kv_heads(self) -> int: ...
    @property
    def head_dim(self) -> int: ...
    @property
    def d_ff(self) -> int: ...
    @property
    def ffn(self) -> str: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def max_position_embeddings(self) -> int: ...
    @property
    def position(self) -> str: ...
    @property
    def norm(self) -> str: ...
    @property
    def qkv_bias(self) -> bool: ...
    @property
    def out_bias(self) -> bool: ...
    @property
    def mlp_bias(self) -> bool: ...
    @property
    def tie_embeddings(self) -> bool: ...
    @property
    def n_experts(self) -> int: ...
    @property
    def top_k(self) -> int: ...
    @property
    def n_shared_experts(self) -> int: ...
    @property
    def d_ff_expert(self) -> int: ...
    @property
    def d_ff_shared(self) -> int: ...
    @property
    def shared_expert_gate(self) -> bool: ...
    @property
    def moe_every(self) -> int: ...
    @property
    def first_dense_layers(self) -> int: ...
    @property
    def dense_layers(self) -> list[int]: ...
    @property
    def capacity_factor(self) -> float: ...
    @property
    def n_moe_layers(self) -> int: ...
    @property
    def norm_placement(self) -> str: ...
    @property
    def qk_norm(self) -> str: ...
    @property
    def parallel_block(self) -> bool: ...
    @property
    def embedding_norm(self) -> bool: ...
    @property
    def lm_head_bias(self) -> bool: ...
    @property
    def attention_sinks(self) -> bool: ...
    @property
    def attention_output_gate(self) -> bool: ...
    @property
    def attention_window(self) -> int: ...
    @property
    def window_kind(self) -> str: ...
    @property
    def global_every(self) -> int: ...
    @property
    def global_layers(self) -> list[int]: ...
    @property
    def kv_lora_rank(self) -> int: ...
    @property
    def q_lora_rank(self) -> int: ...
    @property
    def qk_nope_head_dim(self) -> int: ...
    @property
    def qk_rope_head_dim(self) -> int: ...
    @property
    def v_head_dim(self) -> int: ...
    @property
    def router_bias(self) -> bool: ...
    @property
    def n_window_layers(self) -> int: ...
    @property
    def linear_mixer(self) -> str: ...
    @property
    def attention_every(self) -> int: ...
    @property
    def attention_layers(self) -> list[int]: ...
    @property
    def linear_heads(self) -> int: ...
    @property
    def linear_head_dim(self) -> int: ...
    @property
    def linear_key_heads(self) -> int: ...
    @property
    def linear_key_dim(self) -> int: ...
    @property
    def linear_conv_kernel(self) -> int: ...
    @property
    def linear_conv_bias(self) -> bool: ...
    @property
    def activation_saves(self) -> int: ...
    @property
    def linear_dt_rank(self) -> int: ...
    @property
    def linear_inner_norms(self) -> bool: ...
    @property
    def attention_gate_bias(self) -> bool: ...
    @property
    def moe_post_norm(self) -> bool: ...
    @property
    def last_out_bias(self) -> bool: ...
    @property
    def sub_norms(self) -> bool: ...
    @property
    def attention_head_gate(self) -> bool: ...
    @property
    def ffn_layers(self) -> list[int]: ...
    @property
    def global_head_dim(self) -> int: ...
    @property
    def window_kv_heads(self) -> int: ...
    @property
    def window_sinks(self) -> bool: ...
    @property
    def mtp_layers(self) -> int: ...
    @property
    def n_linear_layers(self) -> int: ...

class Hardware:
    def __init__(
        self,
        *,
        peak_fp32: float,
        peak_tf32: float,
        peak_bf16: float,
        peak_fp16: float,
        memory: float,
        memory_bandwidth: float,
        intra_node_bandwidth: float,
        inter_node_bandwidth: float,
        intra_node_latency: float,
        inter_node_latency: float,
        devices_per_node: int,
        peak_fp8: float = 0.0,
        peak_mxfp8: float = 0.0,
        peak_nvfp4: float = 0.0,
        host_bandwidth: float = 0.0,
    ) -> None: ...
    @property
    def peak_fp32(self) -> float: ...
    @property
    def peak_tf32(self) -> float: ...
    @property
    def peak_bf16(self) -> float: ...
    @property
    def peak_fp16(self) -> float: ...
    @property
    def peak_fp8(self) -> float: ...
    @property
    def peak_mxfp8(self) -> float: ...
    @property
    def peak_nvfp4(self) -> float: ...
    @property
    def memory(self) -> float: ...
    @property
    def memory_bandwidth(self) -> float: ...
    @property
    def intra_node_bandwidth(self) -> float: ...
    @property
    def inter_node_bandwidth(self) -> float: ...
    @property
    def intra_node_latency(self) -> float: ...
    @property
    def inter_node_latency(self) -> float: ...
    @property
    def devices_per_node(self) -> int: ...
    @property
    def host_bandwidth(self) -> float: ...

# Physically meaningful [lo, hi] of a device's numbers: peak_flops (FLOP/s), memory
# (bytes), memory_bandwidth and link_bandwidth (bytes/s), latency (seconds, [lo, hi)).
HARDWARE_LIMITS: dict[str, tuple[float, float]]

class Efficiency:
    def __init__(
        self,
        *,
        matmul: float = 0.75,
        memory: float = 0.8,
        network: float = 0.8,
        dp_overlap: float = 0.0,
        tile: int = 128,
        attention: float = 0.75,
        tp_overlap: float = 0.0,
        fp8_matmul_ratio: float = 1.0,
        attention_curve: Sequence[tuple[float, float]] = ...,
        ep_overlap: float = 0.0,
        gemm_k0: float = 0.0,
        attention_head_curve: Sequence[tuple[float, float]] = ...,
        fp4_matmul_ratio: float = 1.0,
    ) -> None: ...
    @property
    def ep_overlap(self) -> float: ...
    @property
    def gemm_k0(self) -> float: ...
    @property
    def attention_k0(self) -> float: ...
    @property
    def attention_curve(self) -> tuple[tuple[float, float], ...]: ...
    @property
    def attention_head_curve(self) -> tuple[tuple[float, float], ...]: ...
    @property
    def matmul(self) -> float: ...
    @property
    def memory(self) -> float: ...
    @property
    def network(self) -> float: ...
    @property
    def dp_overlap(self) -> float: ...
    @property
    def tile(self) -> int: ...
    @property
    def attention(self) -> float: ...
    @property
    def tp_overlap(self) -> float: ...
    @property
    def fp8_matmul_ratio(self) -> float: ...
    @property
    def fp4_matmul_ratio(self) -> float: ...

class ParamCounts:
    @property
    def total(self) -> int: ...
    @property
    def embedding(self) -> int: ...
    @property
    def non_embedding(self) -> int: ...
    @property
    def active(self) -> int: ...
    @property
    def active_non_embedding(self) -> int: ...

class FlopCounts:
    @property
    def forward(self) -> float: ...
    @property
    def backward(self) -> float: ...
    @property
    def forward_causal(self) -> float: ...
    @property
    def backward_causal(self) -> float: ...
    @property
    def elementwise_forward(self) -> float: ...
    @property
    def elementwise_backward(self) -> float: ...
    @property
    def recompute(self) -> float: ...
    @property
    def model(self) -> float: ...
    @property
    def hardware(self) -> float: ...
    @property
    def per_token(self) -> float: ...
    @property
    def six_n_per_token(self) -> float: ...

class MemoryReport:
    @property
    def params(self) -> float: ...
    @property
    def weights(self) -> float: ...
    @property
    def gradients(self) -> float: ...
    @property
    def optimizer(self) -> float: ...
    @property
    def activations(self) -> float: ...
    @property
    def activations_per_layer(self) -> float: ...
    @property
    def activations_in_flight(self) -> float: ...
    @property
    def logits(self) -> float: ...
    @property
    def temporary(self) -> float: ...
    @property
    def per_gpu(self) -> float: ...
    @property
    def capacity(self) -> float: ...
    @property
    def fits(self) -> bool: ...
    @property
    def kv_cache(self) -> float: ...
    @property
    def inference(self) -> float: ...
    @property
    def max_inference_batch(self) -> int: ...
    @property
    def pipeline_stage(self) -> int: ...

class TimeReport:
    @property
    def forward(self) -> float: ...
    @property
    def backward(self) -> float: ...
    @property
    def recompute(self) -> float: ...
    @property
    def tp_communication(self) -> float: ...
    @property
    def ep_communication(self) -> float: ...
    @property
    def pp_communication(self) -> float: ...
    @property
    def cp_communication(self) -> float: ...
    @property
    def offload(self) -> float: ...
    @property
    def stage(self) -> float: ...
    @property
    def bubble(self) -> float: ...
    @property
    def dp_communication(self) -> float: ...
    @property
    def optimizer(self) -> float: ...
    @property
    def step(self) -> float: ...
    @property
    def tokens_per_step(self) -> float: ...
    @property
    def tokens_per_s(self) -> float: ...

class TrainingReport:
    @property
    def params(self) -> ParamCounts: ...
    @property
    def flops(self) -> FlopCounts: ...
    @property
    def tokens(self) -> float: ...
    @property
    def memory(self) -> MemoryReport: ...
    @property
    def time(self) -> TimeReport: ...
    @property
    def mfu(self) -> float: ...
    @property
    def hfu(self) -> float: ...
    @property
    def tp_efficiency(self) -> float: ...
    @property
    def tp_gemm_efficiency(self) -> float: ...
    @property
    def tp_communication_efficiency(self) -> float: ...
    @property
    def pipeline_bubble(self) -> float: ...
    @property
    def flops_per_step(self) -> float: ...
    @property
    def devices(self) -> int: ...
    @property
    def microbatches(self) -> int: ...

# estimate() and op_table() bind no argument names: all arguments are positional.
def estimate(
    arch: Architecture,
    hardware: Hardware,
    efficiency: Efficiency,
    batch: int,
    seq_len: int,
    recompute: str,
    dtype: str,
    flash_attention: bool,
    dropout: bool,
    implementation: str,
    tp: int,
    pp: int,
    dp: int,
    ep: int,
    zero: int,
    microbatches: int | None,
    interleave: int,
    sequence_parallel: bool,
    optimizer: str,
    cp: int,
    layers_per_stage: tuple[int, int, int] | str | None,
    recompute_every: int | None,
    etp: int | None,
    shard: int | None,
    ep_dispatcher: str,
    recompute_modules: Sequence[str] | None,
    fused_elementwise: bool,
    offload_layers: int,
    fp32_gradients: bool,
    /,
) -> TrainingReport: ...
def training_budget(report: TrainingReport, tokens: float) -> dict[str, float]: ...
def op_table(report: TrainingReport) -> dict[str, Any]: ...
RECOMPUTE_MODULES: tuple[str, ...]
SWEEP_COLUMNS: tuple[str, ...]
SWEEP_INTEGER_COLUMNS: tuple[str, ...]
SWEEP_CONFIGURATION_COLUMNS: tuple[str, ...]

class Grid:
    def __init__(
        self,
        base: Architecture,
        axes: list[tuple[str, list[float], bool]],
        batch: int,
        seq_len: int,
        recompute: str,
        dtype: str,
        flash_attention: bool,
        dropout: bool,
        implementation: str,
        tp: int,
        pp: int,
        dp: int,
        ep: int,
        zero: int,
        microbatches: int,
        interleave: int,
        sequence_parallel: bool,
        optimizer: str,
        ffn_multiple: int,
        derive_heads: bool,
        n_gpus: int,
        global_batch: int,
        compute: float,
        bounds: list[tuple[str, float, float]],
        cp: int = 1,
        first_stage_layers: int = -1,
        middle_stage_layers: int = -1,
        last_stage_layers: int = -1,
        embedding_in_split: bool = False,
        loss_in_split: bool = False,
        recompute_every: int = 0,
        etp: int = 0,
        shard: int = 0,
        ep_dispatcher: str = "all_to_all",
        recompute_modules: list[str] = ...,
        fused_elementwise: bool = True,
        offload_layers: int = 0,
        fp32_gradients: bool = False,
    ) -> None: ...
    @property
    def size(self) -> int: ...

def grid_point(
    grid: Grid, index: int, hardware: Hardware, efficiency: Efficiency
) -> list[float] | str: ...
def sweep_rows(
    grid: Grid,
    hardware: Hardware,
    efficiency: Efficiency,
    begin: int,
    end: int,
    threads: int = 0,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[
    int,
    npt.NDArray[np.int64],
    dict[str, npt.NDArray[np.float64] | npt.NDArray[np.int64]],
    dict[str, Any],
]: ...

def decode_configurations(
    grid: Grid, index: npt.ArrayLike, threads: int = 0
) -> dict[str, npt.NDArray[np.int64]]: ...
def sweep_top(
    grid: Grid,
    hardware: Hardware,
    efficiency: Efficiency,
    begin: int,
    end: int,
    k: int,
    by: str,
    descending: bool,
    threads: int = 0,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[list[int], dict[str, Any]]: ...
def sweep_pareto(
    grid: Grid,
    hardware: Hardware,
    efficiency: Efficiency,
    begin: int,
    end: int,
    x: str,
    x_descending: bool,
    y: str,
    y_descending: bool,
    threads: int = 0,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[list[int], dict[str, Any]]: ...
def skip_reasons(
    grid: Grid, begin: int, end: int, threads: int = 0
) -> tuple[list[tuple[str, int, str]], int]: ...
def check_axis(name: str, values: list[float]) -> None: ...
