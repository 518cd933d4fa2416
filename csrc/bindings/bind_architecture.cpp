#include "pybind11.hpp"

#include "scalingperf/architecture.hpp"

namespace sp = scalingperf;

void bind_architecture(py::module_& m) {
  py::class_<sp::Architecture>(m, "Architecture",
                               "A decoder-only transformer as the core sees it.")
      .def(py::init([](std::int64_t d_model, std::int64_t n_layers, std::int64_t n_heads,
                       std::int64_t n_kv_heads, std::int64_t head_dim, std::int64_t d_ff,
                       const std::string& ffn, std::int64_t vocab_size,
                       std::int64_t max_position_embeddings, const std::string& position,
                       const std::string& norm, bool qkv_bias, bool out_bias, bool mlp_bias,
                       bool tie_embeddings, std::int64_t n_experts, std::int64_t top_k,
                       std::int64_t n_shared_experts, std::int64_t d_ff_expert,
                       std::int64_t d_ff_shared, bool shared_expert_gate,
                       std::int64_t moe_every, std::int64_t first_dense_layers,
                       std::vector<std::int64_t> dense_layers, double capacity_factor,
                       const std::string& norm_placement, const std::string& qk_norm,
                       bool parallel_block, bool embedding_norm, bool lm_head_bias,
                       bool attention_sinks, bool attention_output_gate,
                       std::int64_t attention_window, const std::string& window_kind,
                       std::int64_t global_every, std::vector<std::int64_t> global_layers,
                       std::int64_t kv_lora_rank, std::int64_t q_lora_rank,
                       std::int64_t qk_nope_head_dim, std::int64_t qk_rope_head_dim,
                       std::int64_t v_head_dim, bool router_bias,
                       const std::string& linear_mixer, std::int64_t attention_every,
                       std::vector<std::int64_t> attention_layers, std::int64_t linear_heads,
                       std::int64_t linear_head_dim, std::int64_t linear_key_heads,
                       std::int64_t linear_key_dim, std::int64_t linear_conv_kernel,
                       bool linear_conv_bias, std::int64_t activation_saves,
                       std::int64_t linear_dt_rank, bool linear_inner_norms,
                       bool attention_gate_bias, bool moe_post_norm,
                       bool last_out_bias, bool sub_norms, bool attention_head_gate,
                       std::vector<std::int64_t> ffn_layers, std::int64_t global_head_dim,
                       std::int64_t window_kv_heads, bool window_sinks,
                       std::int64_t mtp_layers) {
             sp::Architecture a;
             a.d_model = d_model;
             a.n_layers = n_layers;
             a.n_heads = n_heads;
             a.n_kv_heads = n_kv_heads;
             a.head_dim = head_dim;
             a.d_ff = d_ff;
             a.ffn = sp::parse_ffn_kind(ffn);
             a.vocab_size = vocab_size;
             a.max_position_embeddings = max_position_embeddings;
             a.position = sp::parse_position_kind(position);
             a.norm = sp::parse_norm_kind(norm);
             a.qkv_bias = qkv_bias;
             a.out_bias = out_bias;
             a.mlp_bias = mlp_bias;
             a.tie_embeddings = tie_embeddings;
             a.n_experts = n_experts;
             a.top_k = top_k;
             a.n_shared_experts = n_shared_experts;
             a.d_ff_expert = d_ff_expert;
             a.d_ff_shared = d_ff_shared;
             a.shared_expert_gate = shared_expert_gate;
             a.moe_every = moe_every;
             a.first_dense_layers = first_dense_layers;
             a.dense_layers = std::move(dense_layers);
             a.capacity_factor = capacity_factor;
             a.norm_placement = sp::parse_norm_placement(norm_placement);
             a.qk_norm = sp::parse_qk_norm(qk_norm);
             a.parallel_block = parallel_block;
             a.embedding_norm = embedding_norm;
             a.lm_head_bias = lm_head_bias;
             a.attention_sinks = attention_sinks;
             a.attention_output_gate = attention_output_gate;
             a.attention_window = attention_window;
             a.window_kind = sp::parse_window_kind(window_kind);
             a.global_every = global_every;
             a.global_layers = std::move(global_layers);
             a.kv_lora_rank = kv_lora_rank;
             a.q_lora_rank = q_lora_rank;
             a.qk_nope_head_dim = qk_nope_head_dim;
             a.qk_rope_head_dim = qk_rope_head_dim;
             a.v_head_dim = v_head_dim;
             a.router_bias = router_bias;
             a.linear_mixer = sp::parse_linear_mixer(linear_mixer);
             a.attention_every = attention_every;
             a.attention_layers = std::move(attention_layers);
             a.linear_heads = linear_heads;
             a.linear_head_dim = linear_head_dim;
             a.linear_key_heads = linear_key_heads;
             a.linear_key_dim = linear_key_dim;
             a.linear_conv_kernel = linear_conv_kernel;
             a.linear_conv_bias = linear_conv_bias;
             a.activation_saves = activation_saves;
             a.linear_dt_rank = linear_dt_rank;
             a.linear_inner_norms = linear_inner_norms;
             a.attention_gate_bias = attention_gate_bias;
             a.moe_post_norm = moe_post_norm;
             a.last_out_bias = last_out_bias;
             a.sub_norms = sub_norms;
             a.attention_head_gate = attention_head_gate;
             a.ffn_layers = std::move(ffn_layers);
             a.global_head_dim = global_head_dim;
             a.window_kv_heads = window_kv_heads;
             a.window_sinks = window_sinks;
             a.mtp_layers = mtp_layers;
             return a;
           }),
           py::kw_only(), py::arg("d_model"), py::arg("n_layers"), py::arg("n_heads"),
           py::arg("n_kv_heads") = 0, py::arg("head_dim") = 0, py::arg("d_ff") = 0,
           py::arg("ffn") = "gelu", py::arg("vocab_size"),
           py::arg("max_position_embeddings"), py::arg("position") = "learned",
           py::arg("norm") = "layernorm", py::arg("qkv_bias") = false,
           py::arg("out_bias") = false, py::arg("mlp_bias") = false,
           py::arg("tie_embeddings") = false, py::arg("n_experts") = 0,
           py::arg("top_k") = 1, py::arg("n_shared_experts") = 0,
           py::arg("d_ff_expert") = 0, py::arg("d_ff_shared") = 0,
           py::arg("shared_expert_gate") = false, py::arg("moe_every") = 1,
           py::arg("first_dense_layers") = 0,
           py::arg("dense_layers") = std::vector<std::int64_t>{},
           py::arg("capacity_factor") = 0.0, py::arg("norm_placement") = "pre",
           py::arg("qk_norm") = "none", py::arg("parallel_block") = false,
           py::arg("embedding_norm") = false, py::arg("lm_head_bias") = false,
           py::arg("attention_sinks") = false, py::arg("attention_output_gate") = false,
           py::arg("attention_window") = 0, py::arg("window_kind") = "sliding",
           py::arg("global_every") = 0,
           py::arg("global_layers") = std::vector<std::int64_t>{},
           py::arg("kv_lora_rank") = 0, py::arg("q_lora_rank") = 0,
           py::arg("qk_nope_head_dim") = 0, py::arg("qk_rope_head_dim") = 0,
           py::arg("v_head_dim") = 0, py::arg("router_bias") = false,
           py::arg("linear_mixer") = "none", py::arg("attention_every") = 0,
           py::arg("attention_layers") = std::vector<std::int64_t>{},
           py::arg("linear_heads") = 0, py::arg("linear_head_dim") = 0,
           py::arg("linear_key_heads") = 0, py::arg("linear_key_dim") = 0,
           py::arg("linear_conv_kernel") = 4, py::arg("linear_conv_bias") = false,
           py::arg("activation_saves") = 0, py::arg("linear_dt_rank") = 0,
           py::arg("linear_inner_norms") = false, py::arg("attention_gate_bias") = false,
           py::arg("moe_post_norm") = false, py::arg("last_out_bias") = false,
           py::arg("sub_norms") = false, py::arg("attention_head_gate") = false,
           py::arg("ffn_layers") = std::vector<std::int64_t>{},
           py::arg("global_head_dim") = 0, py::arg("window_kv_heads") = 0,
           py::arg("window_sinks") = false, py::arg("mtp_layers") = 0)
      .def("resolved", &sp::resolve,
           "A copy with derived fields filled in; raises ValueError for an invalid field.")
      .def_readonly("d_model", &sp::Architecture::d_model)
      .def_readonly("n_layers", &sp::Architecture::n_layers)
      .def_readonly("n_heads", &sp::Architecture::n_heads)
      .def_readonly("n_kv_heads", &sp::Architecture::n_kv_heads)
      .def_readonly("head_dim", &sp::Architecture::head_dim)
      .def_readonly("d_ff", &sp::Architecture::d_ff)
      .def_property_readonly("ffn", [](const sp::Architecture& a) { return sp::name_of(a.ffn); })
      .def_readonly("vocab_size", &sp::Architecture::vocab_size)
      .def_readonly("max_position_embeddings", &sp::Architecture::max_position_embeddings)
      .def_property_readonly("position",
                             [](const sp::Architecture& a) { return sp::name_of(a.position); })
      .def_property_readonly("norm", [](const sp::Architecture& a) { return sp::name_of(a.norm); })
      .def_readonly("qkv_bias", &sp::Architecture::qkv_bias)
      .def_readonly("out_bias", &sp::Architecture::out_bias)
      .def_readonly("mlp_bias", &sp::Architecture::mlp_bias)
      .def_readonly("tie_embeddings", &sp::Architecture::tie_embeddings)
      .def_readonly("n_experts", &sp::Architecture::n_experts)
      .def_readonly("top_k", &sp::Architecture::top_k)
      .def_readonly("n_shared_experts", &sp::Architecture::n_shared_experts)
      .def_readonly("d_ff_expert", &sp::Architecture::d_ff_expert)
      .def_readonly("d_ff_shared", &sp::Architecture::d_ff_shared)
      .def_readonly("shared_expert_gate", &sp::Architecture::shared_expert_gate)
      .def_readonly("moe_every", &sp::Architecture::moe_every)
      .def_readonly("first_dense_layers", &sp::Architecture::first_dense_layers)
      .def_readonly("dense_layers", &sp::Architecture::dense_layers)
      .def_readonly("capacity_factor", &sp::Architecture::capacity_factor)
      .def_readonly("n_moe_layers", &sp::Architecture::n_moe_layers)
      .def_property_readonly(
          "norm_placement", [](const sp::Architecture& a) { return sp::name_of(a.norm_placement); })
      .def_property_readonly("qk_norm",
                             [](const sp::Architecture& a) { return sp::name_of(a.qk_norm); })
      .def_readonly("parallel_block", &sp::Architecture::parallel_block)
      .def_readonly("embedding_norm", &sp::Architecture::embedding_norm)
      .def_readonly("lm_head_bias", &sp::Architecture::lm_head_bias)
      .def_readonly("attention_sinks", &sp::Architecture::attention_sinks)
      .def_readonly("attention_output_gate", &sp::Architecture::attention_output_gate)
      .def_readonly("attention_window", &sp::Architecture::attention_window)
      .def_property_readonly(
          "window_kind", [](const sp::Architecture& a) { return sp::name_of(a.window_kind); })
      .def_readonly("global_every", &sp::Architecture::global_every)
      .def_readonly("global_layers", &sp::Architecture::global_layers)
      .def_readonly("kv_lora_rank", &sp::Architecture::kv_lora_rank)
      .def_readonly("q_lora_rank", &sp::Architecture::q_lora_rank)
      .def_readonly("qk_nope_head_dim", &sp::Architecture::qk_nope_head_dim)
      .def_readonly("qk_rope_head_dim", &sp::Architecture::qk_rope_head_dim)
      .def_readonly("v_head_dim", &sp::Architecture::v_head_dim)
      .def_readonly("router_bias", &sp::Architecture::router_bias)
      .def_readonly("n_window_layers", &sp::Architecture::n_window_layers)
      .def_property_readonly(
          "linear_mixer", [](const sp::Architecture& a) { return sp::name_of(a.linear_mixer); })
      .def_readonly("attention_every", &sp::Architecture::attention_every)
      .def_readonly("attention_layers", &sp::Architecture::attention_layers)
      .def_readonly("linear_heads", &sp::Architecture::linear_heads)
      .def_readonly("linear_head_dim", &sp::Architecture::linear_head_dim)
      .def_readonly("linear_key_heads", &sp::Architecture::linear_key_heads)
      .def_readonly("linear_key_dim", &sp::Architecture::linear_key_dim)
      .def_readonly("linear_conv_kernel", &sp::Architecture::linear_conv_kernel)
      .def_readonly("linear_conv_bias", &sp::Architecture::linear_conv_bias)
      .def_readonly("activation_saves", &sp::Architecture::activation_saves)
      .def_readonly("linear_dt_rank", &sp::Architecture::linear_dt_rank)
      .def_readonly("linear_inner_norms", &sp::Architecture::linear_inner_norms)
      .def_readonly("attention_gate_bias", &sp::Architecture::attention_gate_bias)
      .def_readonly("moe_post_norm", &sp::Architecture::moe_post_norm)
      .def_readonly("last_out_bias", &sp::Architecture::last_out_bias)
      .def_readonly("sub_norms", &sp::Architecture::sub_norms)
      .def_readonly("attention_head_gate", &sp::Architecture::attention_head_gate)
      .def_readonly("ffn_layers", &sp::Architecture::ffn_layers)
      .def_readonly("global_head_dim", &sp::Architecture::global_head_dim)
      .def_readonly("window_kv_heads", &sp::Architecture::window_kv_heads)
      .def_readonly("window_sinks", &sp::Architecture::window_sinks)
      .def_readonly("mtp_layers", &sp::Architecture::mtp_layers)
      .def_readonly("n_linear_layers", &sp::Architecture::n_linear_layers);
}
