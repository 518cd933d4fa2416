"""Golden test of the Blackwell entries of scalingperf/data/devices.json (B300, GB200,
GB300): each number is the datasheet value cited beside it, and an NVL72 rack is one
72-GPU NVLink domain, so tensor-parallel traffic of a tp = 8 x dp = 9 job stays on NVLink."""

import dataclasses
import math

import numpy as np
import pytest

import scalingperf as sp

# Per GPU, dense (sparse datasheet figures halved), bytes and bytes/s per direction.
EXPECTED = {
    # NVIDIA Blackwell Architecture Technical Brief v2.1, Table 3 (HGX B300 per GPU):
    # FP8 4.5 / 9, FP16/BF16 2.2 / 4.5, TF32 1.1 / 2.2 PF (dense / sparse), FP32 75 TF,
    # 270 GB HBM3e at 7.7 TB/s. NVIDIA HGX page, HGX B300 (8 GPUs): FP8 72, BF16 36,
    # TF32 18 PF with sparsity, FP32 600 TF; NVLink 1.8 TB/s per GPU (both directions);
    # networking 1.6 TB/s = 8x ConnectX-8 at 800 Gb/s (100 GB/s per GPU per direction).
    "B300": dict(
        peak_flops={"fp32": 600e12 / 8, "tf32": 2.2e15 / 2, "bf16": 36e15 / 8 / 2,
                    "fp16": 36e15 / 8 / 2, "fp8": 72e15 / 8 / 2, "mxfp8": 72e15 / 8 / 2,
                    "nvfp4": 14e15},  # dense FP4 per GPU, the B300 entry's source note
        memory=270e9, memory_bandwidth=7.7e12, intra_node_bandwidth=1.8e12 / 2,
        inter_node_bandwidth=800e9 / 8, devices_per_node=8),
    # NVIDIA GB200 NVL72 product page, rack column (72 GPUs): FP8/FP6 720, FP16/BF16 360,
    # TF32 180 PF ("Specification in sparse. Dense is one-half sparse spec shown."),
    # FP32 5,760 TF, 13.4 TB HBM3E at 576 TB/s, NVLink 130 TB/s (1.8 TB/s per GPU).
    # DGX GB200 User Guide, compute tray: 4x ConnectX-7 400G OSFP per 4 GPUs.
    "GB200": dict(
        peak_flops={"fp32": 5760e12 / 72, "tf32": 180e15 / 72 / 2, "bf16": 360e15 / 72 / 2,
                    "fp16": 360e15 / 72 / 2, "fp8": 720e15 / 72 / 2,
                    "mxfp8": 720e15 / 72 / 2,  # block-scaled FP8: the FP8 rate
                    "nvfp4": 1440e15 / 72 / 2},  # FP4 1,440 PF sparse per rack
        memory=186e9,  # 13.4 TB / 72 = 186 GB; Superchip column 372 GB / 2 GPUs
        memory_bandwidth=576e12 / 72, intra_node_bandwidth=1.8e12 / 2,
        inter_node_bandwidth=400e9 / 8, devices_per_node=72),
    # NVIDIA GB300 NVL72 product page (72 GPUs, Tensor Core figures with sparsity):
    # FP8/FP6 720, FP16/BF16 360, TF32 180 PF, FP32 6 PF, 20 TB at up to 576 TB/s,
    # NVLink 130 TB/s. Blackwell Technical Brief v2.1: up to 279 GB HBM3e per GPU and
    # 800 Gb/s of ConnectX-8 networking per GPU.
    "GB300": dict(
        peak_flops={"fp32": 6e15 / 72, "tf32": 180e15 / 72 / 2, "bf16": 360e15 / 72 / 2,
                    "fp16": 360e15 / 72 / 2, "fp8": 720e15 / 72 / 2,
                    "mxfp8": 720e15 / 72 / 2,  # block-scaled FP8: the FP8 rate
                    "nvfp4": 1080e15 / 72},  # FP4 1,080 PF dense per rack
        memory=279e9,  # 20 TB / 72 = 278 GB (72 x 279 GB = 20.1 TB, printed as "20 TB")
        memory_bandwidth=576e12 / 72, intra_node_bandwidth=1.8e12 / 2,
        inter_node_bandwidth=800e9 / 8, devices_per_node=72),
}

LLAMA_70B = sp.Architecture.preset("llama-3-70b")


def layout_on_72(hardware):
    return sp.estimate(LLAMA_70B, batch=1, seq_len=8192, hardware=hardware, tp=8, pp=1,
                       dp=9)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_numbers_are_the_cited_datasheet_values(name):
    device = sp.hardware()[name]
    expected = EXPECTED[name]
    assert device.peak_flops.keys() == expected["peak_flops"].keys()
    for fmt, value in expected["peak_flops"].items():
        # 6 PF / 72 is stored as 83.3 TF; every other value is exact.
        assert device.peak_flops[fmt] == pytest.approx(value, rel=1e-3), fmt
    for field in ("memory", "memory_bandwidth", "intra_node_bandwidth",
                  "inter_node_bandwidth", "devices_per_node"):
        assert getattr(device, field) == pytest.approx(expected[field]), field
    for field in ("peak_flops", "memory", "memory_bandwidth", "intra_node_bandwidth",
                  "inter_node_bandwidth", "devices_per_node", "latency"):
        assert device.sources[field], field


@pytest.mark.parametrize(("alias", "name"), [
    ("b300-sxm", "B300"), ("DGX-B300", "B300"), ("gb200-nvl72", "GB200"),
    ("DGX-GB200", "GB200"), ("GB300-NVL72", "GB300"), ("dgx-gb300", "GB300")])
def test_aliases(alias, name):
    assert layout_on_72(alias).hardware.name == name


@pytest.mark.parametrize("name", ["GB200", "GB300"])
def test_nvl72_is_one_72_gpu_nvlink_domain(name):
    device = sp.hardware()[name]
    assert device.devices_per_node == 72
    assert device.sources["devices_per_node"].count("72") >= 2
    assert "rack / 72" in device.sources["peak_flops"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tp8_dp9_on_72_gpus(name):
    device = sp.hardware()[name]
    report = layout_on_72(name)
    time = report.time
    assert math.isfinite(time.step)
    assert time.step > 0
    assert time.tp_communication > 0
    # A slower, later network between nodes leaves tensor-parallel traffic unchanged: the
    # 8-way groups of adjacent ranks sit inside one NVLink domain on every device.
    far = dataclasses.replace(device, inter_node_bandwidth=1e9, inter_node_latency=1e-3)
    assert layout_on_72(far).time.tp_communication == time.tp_communication
    if device.devices_per_node == 72:
        # The whole 72-GPU job is one NVLink domain: data-parallel traffic stays on it too.
        assert layout_on_72(far).time.dp_communication == time.dp_communication
        # Split into its 4-GPU compute trays, tp = 8 would cross them and slow down.
        trays = dataclasses.replace(device, devices_per_node=4)
        assert layout_on_72(trays).time.tp_communication > time.tp_communication
    else:
        # 8-GPU nodes: the data-parallel groups (stride 8) cross nodes.
        assert layout_on_72(far).time.dp_communication > time.dp_communication


# stas00/ml-engineering compute/accelerator/README.md (commit 744d01e), "Maximum Achievable
# Matmul FLOPS comparison table": the best measured matmul fraction of the peak, BF16 and
# FP8 (float8_e4m3fn). GB300 has no row: it takes the B300's (the same GPU).
MAMF = {"H100-SXM": (80.3, 70.9), "H200": (80.3, 73.4), "B200": (77.6, 76.3),
        "B300": (78.6, 74.5), "GB200": (72.9, 72.3), "GB300": (78.6, 74.5)}


# The reduction width K of each best shape (the same table's "Best Shape MxNxK"), BF16 and
# FP8: where a device loses time at short reductions (gemm_k0), its fractions are taken to
# their large-K limit from these.
MAMF_K = {"H100-SXM": (13312, 14336), "H200": (13312, 12032)}


@pytest.mark.parametrize("name", sorted(MAMF))
def test_matmul_fractions_follow_the_measured_table(name):
    """matmul: the A100 anchor (0.75 at A100's 86.9 %) scaled by the device's BF16 fraction;
    fp8_matmul_ratio: its FP8 fraction over its BF16 one; each at its large-K limit,
    K / (K + k0) with FP8's k0 twice the 16-bit one."""
    bf16, fp8 = MAMF[name]
    efficiency = sp.hardware()[name].default_efficiency
    k0 = efficiency.gemm_k0
    k_bf16, k_fp8 = MAMF_K.get(name, (1, 1))
    assert k0 == 0 or name in MAMF_K
    limit_bf16, limit_fp8 = (k_bf16 + k0) / k_bf16, (k_fp8 + 2 * k0) / k_fp8
    assert efficiency.matmul == pytest.approx(0.75 * bf16 / 86.9 * limit_bf16, abs=5e-4)
    assert efficiency.fp8_matmul_ratio == pytest.approx(
        fp8 / bf16 * limit_fp8 / limit_bf16, abs=5e-4)


# deepseek-ai/DeepGEMM pull request #348, "Dense GEMM perf (B200, CUDA 12.9, vs cublasTest
# 13.3 direct binary)", cuBLAS column: the best published block-scaled FP4 GEMM on B200,
# 5,239 TFLOP/s at 8192^3, of its dense FP4 peak of 9,000.
B200_FP4_PERCENT = 100 * 5239 / 9000


@pytest.mark.parametrize("name", sorted(MAMF))
def test_fp4_matmul_ratio_is_the_b200s_measured_fp4_fraction_over_its_bf16_one(name):
    """Every Blackwell device takes the B200's (the only published measurement); devices
    without FP4 tensor cores keep 1, which nothing reads."""
    device = sp.hardware()[name]
    ratio = device.default_efficiency.fp4_matmul_ratio
    if "nvfp4" not in device.peak_flops:
        assert ratio == 1.0
        return
    assert ratio == pytest.approx(B200_FP4_PERCENT / MAMF["B200"][0], abs=5e-4)


# deepseek-ai/DeepGEMM README.md (commit a6d97a1), "Normal GEMMs for dense models", H800
# (the H100's SMs and clocks), FP8, M = 4096: (N, K, TFLOPS). The N = 2112 row (fewer
# output tiles than two waves of SMs) is left out.
DEEPGEMM = [(32768, 512, 590), (24576, 1536, 990), (7168, 2048, 1025), (4096, 7168, 1304),
            (7168, 16384, 1358)]


def test_hopper_gemm_k0_is_deepgemms_falloff_at_the_16_bit_rate():
    """TFLOPS = E K / (K + k0) fitted by least squares in log time gives k0 = 720 FP8
    elements (every point within 3 %); the device table's 16-bit gemm_k0 is half that (the
    same fixed time per tile, a main loop half as fast per element)."""
    from scipy.optimize import least_squares

    k = np.array([row[1] for row in DEEPGEMM], dtype=float)
    tflops = np.array([row[2] for row in DEEPGEMM], dtype=float)
    fit = least_squares(lambda p: np.log(p[0] * k / (k + p[1])) - np.log(tflops), [1400, 500])
    peak, k0_fp8 = fit.x
    assert k0_fp8 == pytest.approx(720, abs=1)
    assert np.all(np.abs(peak * k / (k + k0_fp8) / tflops - 1) < 0.03)
    for name in ("H100-SXM", "H200", "H100-PCIe"):
        assert sp.hardware()[name].default_efficiency.gemm_k0 == pytest.approx(k0_fp8 / 2, abs=1)
    for name in ("A100-SXM4-80GB", "B200", "GB200"):
        assert sp.hardware()[name].default_efficiency.gemm_k0 == 0
