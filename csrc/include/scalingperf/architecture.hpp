#pragma once
/// The description of a decoder-only transformer, and the one place that says what is
/// legal. Every other part of the core assumes an Architecture that went through
/// `resolve`, so sizes are positive, divisible where they must be, and small enough that
/// no count overflows.

#include <cstdint>
#include <string>
#include <vector>

namespace scalingperf {

/// Feed-forward block: two matrices (GELU, ReLU) or three for the gated variants
/// (SwiGLU, GeGLU; Shazeer 2020, "GLU Variants Improve Transformer").
/// reglu: ReLU-gated (Shazeer 2020, "GLU Variants Improve Transformer", eq. 6: ReGLU);
/// appended last so that the sweep's codes of the other kinds stay as they were.
enum class FfnKind : std::uint8_t { gelu, relu, swiglu, geglu, xielu, none, reglu };
/// How positions enter the model: a learned table (GPT-2/3), rotary (Su et al. 2021), or none.
enum class PositionKind : std::uint8_t { learned, rotary, none };
/// LayerNorm has a weight and a bias per feature; RMSNorm (Zhang & Sennrich 2019) a weight;
/// layernorm_nobias a weight only (OLMo-2's predecessors, Cohere, StableLM-2); weightless
/// LayerNorm no parameters (OLMo-1's non-parametric LayerNorm, Groeneveld et al. 2024 §2.1).
enum class NormKind : std::uint8_t { layernorm, rmsnorm, layernorm_nobias, weightless };
/// Where a layer's norms sit: before each sub-layer (pre, GPT-2/Llama); before and after
/// each (sandwich: Gemma 2/3's four norms per layer); only after each sub-layer's output,
/// before its residual add (post: OLMo-2, OLMo et al. 2024 §3.2); or after each residual
/// add, with no norm before the head (post_residual: the original Transformer's Post-LN,
/// Vaswani et al. 2017 §3.1, Xiong et al. 2020 Fig. 1(a); GPT-1, BERT).
enum class NormPlacement : std::uint8_t { pre, sandwich, post, post_residual };
/// Normalisation of queries and keys before attention (Dehghani et al. 2023): none; head
/// (one weight of head_dim shared by every head: Qwen3, Gemma-3); full (a weight for every
/// query and key channel: OLMo-2 over the whole projection, Cohere per head).
enum class QkNorm : std::uint8_t { none, head, full };
/// The attention of the layers that have a window: a sliding window of the last
/// `attention_window` keys (Beltagy et al. 2020; Mistral, Gemma 2/3, GPT-OSS), or causal
/// attention within fixed chunks of that length (Llama 4's chunked attention).
enum class WindowKind : std::uint8_t { sliding, chunked };
/// The token mixer of the layers without attention in a hybrid: none (every layer has
/// attention); gated DeltaNet linear attention (Yang et al. 2025, Gated Delta Networks;
/// Qwen3-Next); Mamba-2's state-space duality layer (Dao & Gu 2024; Bamba, Nemotron-H); or
/// Mamba-1's selective scan (Gu & Dao 2023, Algorithm 2; Mamba, Falcon-Mamba); or LFM2's
/// gated short convolution (Liquid AI; transformers' Lfm2ShortConv: no recurrence).
enum class LinearMixer : std::uint8_t { none, gated_deltanet, mamba2, mamba, short_conv };

/// The token mixer of one layer: full attention, windowed attention, the hybrid's linear
/// mixer, or none (an FFN block alone, ffn_layers).
enum class MixerKind : std::uint8_t { attention, window_attention, linear, none };
/// The channel mixer of one layer: a dense FFN, routed experts, or none (ffn "none", or a
/// mixer alone next to ffn_layers' blocks).
enum class FfnBlock : std::uint8_t { dense, moe, none };
/// What one layer is, as the op list builds it.
struct LayerKind {
  MixerKind mixer = MixerKind::attention;
  FfnBlock ffn = FfnBlock::dense;
  bool operator==(const LayerKind& o) const { return mixer == o.mixer && ffn == o.ffn; }
  bool operator!=(const LayerKind& o) const { return !(*this == o); }
};

/// True when a layer has norms before its sub-layers (pre and sandwich).
constexpr bool has_pre_norm(NormPlacement placement) {
  return placement == NormPlacement::pre || placement == NormPlacement::sandwich;
}

/// True for the gated FFNs, which have an extra d_model x d_ff matrix.
constexpr bool is_gated(FfnKind kind) {
  return kind == FfnKind::swiglu || kind == FfnKind::geglu || kind == FfnKind::reglu;
}

/// A decoder-only transformer. Fields left at 0 are derived by `resolve`.
struct Architecture {
  std::int64_t d_model = 0;
  std::int64_t n_layers = 0;
  std::int64_t n_heads = 0;
  std::int64_t n_kv_heads = 0;  ///< 0: n_heads (multi-head attention)
  std::int64_t head_dim = 0;    ///< 0: d_model / n_heads, which must divide
  std::int64_t d_ff = 0;        ///< 0: 4 d_model, or 8/3 d_model rounded up to 256 if gated
  FfnKind ffn = FfnKind::gelu;
  std::int64_t vocab_size = 0;
  std::int64_t max_position_embeddings = 0;
  PositionKind position = PositionKind::learned;
  NormKind norm = NormKind::layernorm;
  NormPlacement norm_placement = NormPlacement::pre;
  QkNorm qk_norm = QkNorm::none;
  bool parallel_block = false;  ///< attention and MLP read one shared norm's output
  bool embedding_norm = false;  ///< a norm on the token embeddings (BLOOM)
  bool qkv_bias = false;
  bool out_bias = false;
  bool mlp_bias = false;
  bool lm_head_bias = false;
  bool tie_embeddings = false;
  bool attention_sinks = false;       ///< a learned logit per head in the softmax (GPT-OSS)
  bool attention_output_gate = false;  ///< sigmoid(x W_g) gates the attention output (Qwen3-Next)
  // Sliding-window / chunked attention (0: every layer attends to the whole sequence).
  std::int64_t attention_window = 0;
  WindowKind window_kind = WindowKind::sliding;
  std::int64_t global_every = 0;  ///< layer i is global when (i + 1) % global_every == 0 ...
  std::vector<std::int64_t> global_layers;  ///< ... or i is listed here; the rest windowed
  // Multi-head latent attention (DeepSeek-V2 §2.1): on when kv_lora_rank > 0.
  std::int64_t kv_lora_rank = 0;
  std::int64_t q_lora_rank = 0;  ///< 0: queries projected directly from d_model
  std::int64_t qk_nope_head_dim = 0;
  std::int64_t qk_rope_head_dim = 0;
  std::int64_t v_head_dim = 0;  ///< 0: qk_nope_head_dim
  // Hybrids: layers without attention have the linear mixer. With one, layer i has
  // attention when (i + 1) % attention_every == 0 or i is in attention_layers.
  LinearMixer linear_mixer = LinearMixer::none;
  std::int64_t attention_every = 0;
  std::vector<std::int64_t> attention_layers;
  /// Layers that are an FFN block alone, dense or MoE, with no mixer (Nemotron-H's "mlp"
  /// and "moe" blocks); when any is listed every other layer is a mixer alone, no FFN.
  std::vector<std::int64_t> ffn_layers;
  /// Head width of the full-attention layers of a model with windowed ones (Gemma 4: 512
  /// on its global layers); 0: head_dim, as every other layer.
  std::int64_t global_head_dim = 0;
  /// Key/value heads of the windowed layers (MiMo-V2-Flash: twice the full layers'); 0:
  /// n_kv_heads.
  std::int64_t window_kv_heads = 0;
  bool window_sinks = false;  ///< attention sinks on the windowed layers alone (MiMo-V2-Flash)
  std::int64_t linear_heads = 0;      ///< value heads (gated DeltaNet) / heads (Mamba-2)
  std::int64_t linear_head_dim = 0;   ///< value head width / Mamba-2's head width
  std::int64_t linear_key_heads = 0;  ///< key heads / Mamba-2's groups of B and C
  std::int64_t linear_key_dim = 0;    ///< key head width / Mamba-2's state size
  std::int64_t linear_conv_kernel = 4;  ///< width of the depthwise causal convolution
  bool linear_conv_bias = false;
  std::int64_t linear_dt_rank = 0;  ///< Mamba-1's rank of the step-size projection
  bool linear_inner_norms = false;  ///< Mamba-1 with norms on dt, B and C (Jamba)
  bool attention_gate_bias = false;  ///< a learned bias per head on the output gate (Beam)
  bool moe_post_norm = false;  ///< a norm on each MoE block's output (A.X-K1), pre-norm only
  bool last_out_bias = false;  ///< the last layer alone has an attention output bias (GPT-NeoX Japanese)
  bool sub_norms = false;  ///< norms on the attention output and the MLP hidden (BitNet)
  bool attention_head_gate = false;  ///< a sigmoid gate per head from its own projection (LFM3)
  /// Tensors of the FFN's hidden width its activation function saves for backward in the
  /// huggingface profile (transformers' module for the config's activation name); 0: the
  /// kind's default (GPT-2's gelu_new: 4 for gelu; 1 otherwise).
  std::int64_t activation_saves = 0;
  // Mixture of experts (dense when n_experts is 0 or 1).
  std::int64_t n_experts = 0;
  std::int64_t top_k = 1;
  std::int64_t n_shared_experts = 0;
  std::int64_t d_ff_expert = 0;   ///< 0: d_ff
  std::int64_t d_ff_shared = 0;   ///< width of each shared expert; 0: d_ff_expert
  bool shared_expert_gate = false;  ///< sigmoid gate on the shared experts (Qwen2-MoE)
  bool router_bias = false;         ///< a bias per expert on the router's logits (GPT-OSS)
  std::int64_t moe_every = 1;       ///< layer i is MoE when (i + 1) % moe_every == 0 ...
  std::int64_t first_dense_layers = 0;  ///< ... and i >= first_dense_layers ...
  std::vector<std::int64_t> dense_layers;  ///< ... and i is not listed here.
  double capacity_factor = 0.0;  ///< 0: dropless routing (every token reaches top_k experts)
  /// Multi-token prediction modules (DeepSeek-AI 2024, DeepSeek-V3 §2.2; D = 1 in
  /// DeepSeek-V3): module k norms the previous depth's hidden state and the shared
  /// embedding of the token k ahead, projects their concatenation (2 d_model -> d_model,
  /// no bias), runs one layer of the kind of the model's last layer (as Megatron-Core's
  /// MTP block takes the decoder's last layer spec), norms it and reuses the output head
  /// for a loss of its own. On the last pipeline stage. 0: none.
  std::int64_t mtp_layers = 0;
  // Derived by resolve.
  std::int64_t n_moe_layers = 0;
  std::int64_t n_window_layers = 0;  ///< layers with windowed (sliding or chunked) attention
  std::int64_t n_linear_layers = 0;  ///< layers with the linear mixer instead of attention
  std::int64_t n_mixer_layers = 0;  ///< layers with a mixer (all but ffn_layers' blocks)
  std::int64_t n_ffn_layers = 0;    ///< layers with an FFN (all, or ffn_layers' blocks)
  /// The kind of layer each MTP module runs: that of the last layer (n_layers - 1). Set
  /// only with mtp_layers > 0 (a default LayerKind otherwise).
  LayerKind mtp_kind{};
};

/// Fills the derived fields and checks every field; throws std::invalid_argument naming
/// the field, its value and the allowed range.
Architecture resolve(Architecture arch);
/// The same without an exception (sweeps refuse many points): false when refused, with
/// the message `resolve` would throw in `why` (built only when asked for).
bool resolve_in_place(Architecture& arch, std::string* why = nullptr);

/// True when the architecture has routed experts in at least one layer.
inline bool is_moe(const Architecture& arch) { return arch.n_moe_layers > 0; }
/// True for multi-head latent attention.
inline bool is_mla(const Architecture& arch) { return arch.kv_lora_rank > 0; }

FfnKind parse_ffn_kind(const std::string& name);
PositionKind parse_position_kind(const std::string& name);
NormKind parse_norm_kind(const std::string& name);
NormPlacement parse_norm_placement(const std::string& name);
QkNorm parse_qk_norm(const std::string& name);
WindowKind parse_window_kind(const std::string& name);
LinearMixer parse_linear_mixer(const std::string& name);
const char* name_of(FfnKind kind);
const char* name_of(NormPlacement placement);
const char* name_of(QkNorm qk_norm);
const char* name_of(WindowKind kind);
const char* name_of(LinearMixer mixer);
const char* name_of(PositionKind kind);
const char* name_of(NormKind kind);

/// Largest accepted value of each size: far above any model built so far, and small
/// enough that every parameter count fits a 64-bit integer exactly.
namespace limits {
constexpr std::int64_t d_model = std::int64_t{1} << 20;
constexpr std::int64_t n_layers = std::int64_t{1} << 16;
constexpr std::int64_t n_heads = std::int64_t{1} << 16;
constexpr std::int64_t head_dim = std::int64_t{1} << 16;
constexpr std::int64_t d_ff = std::int64_t{1} << 24;
constexpr std::int64_t vocab_size = std::int64_t{1} << 24;
constexpr std::int64_t max_position_embeddings = std::int64_t{1} << 24;
constexpr std::int64_t n_experts = std::int64_t{1} << 16;
constexpr std::int64_t n_shared_experts = std::int64_t{1} << 10;
constexpr std::int64_t mtp_layers = std::int64_t{1} << 10;
constexpr double capacity_factor = 1024.0;
/// 10^15 parameters: a thousand times today's largest models, and exact in a double.
constexpr double total_params = 1e15;
}  // namespace limits

}  // namespace scalingperf
