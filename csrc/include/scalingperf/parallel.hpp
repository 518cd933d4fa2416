#pragma once
/// How a training run is laid out over devices, and the alpha-beta cost of the
/// collectives that layout needs (Thakur et al. 2005; Patarasuk & Yuan 2009 for rings).

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "scalingperf/architecture.hpp"
#include "scalingperf/hardware.hpp"
#include "scalingperf/workload.hpp"

namespace scalingperf {

/// Optimizer whose states the memory model counts (bytes per parameter, see memory.hpp).
/// adamw: float32 master weights (16-bit training), momentum and variance; adamw_bf16: no
/// master copy, the moments in the weights' format; adamw_bf16_moments: float32 master
/// weights with bf16 moments (Megatron-Core's precision-aware optimizer with exp_avg_dtype
/// and exp_avg_sq_dtype bf16); sgd: momentum in float32 (and a master copy).
enum class Optimizer : std::uint8_t { adamw, adamw_bf16, sgd, adamw_bf16_moments };

/// How expert parallelism moves tokens to their experts and back: NCCL's all-to-all
/// (Megatron-Core's alltoall dispatcher), or DeepEP's (and NVIDIA's Hybrid-EP's)
/// hierarchical kernels, which send a token over the network once per node that holds
/// one of its experts and forward it there over NVLink (see node_forwarded_all_to_all).
enum class EpDispatcher : std::uint8_t { all_to_all, deepep };

/// Parallel degrees and schedule. Ranks are ordered tensor, then context, then data, then
/// pipeline (Megatron-LM's default order "tp-cp-ep-dp-pp"), so a tensor group of at most
/// one node's devices stays inside a node, and expert groups are carved out of the
/// context x data ranks (Megatron-Core's MoE parallel folding: the expert layers see
/// tp x cp x dp ranks, whatever the attention layers' split).
struct Layout {
  std::int64_t tp = 1;
  std::int64_t pp = 1;
  std::int64_t dp = 1;
  std::int64_t ep = 1;
  std::int64_t zero = 0;          ///< ZeRO stage over dp (Rajbhandari et al. 2020)
  std::int64_t microbatches = 0;  ///< per step and replica; 0: pp (the fewest for 1F1B)
  std::int64_t interleave = 1;    ///< virtual pipeline stages per device
  bool sequence_parallel = false;
  Optimizer optimizer = Optimizer::adamw;
  /// Context parallelism: each sequence split over cp ranks (ring attention, see
  /// training.cpp), which share the weights; gradients are reduced over dp x cp.
  std::int64_t cp = 1;
  /// Uneven pipeline stages: the transformer layers on the first and the last device (all
  /// of its virtual stages together), the devices between holding `middle_stage_layers`
  /// each, as Megatron-LM's --decoder-first-pipeline-num-layers and
  /// --decoder-last-pipeline-num-layers split them. -1: an even split (pp divides
  /// n_layers); resolve() derives the middle when not given, or all three from the rule
  /// below.
  std::int64_t first_stage_layers = -1;
  std::int64_t last_stage_layers = -1;
  std::int64_t middle_stage_layers = -1;
  /// Count the embedding (the loss) as one layer of the first (last) virtual stage and
  /// split n_layers + 1 (+ 1) evenly over pp x interleave virtual stages: Megatron-Core's
  /// account_for_embedding_in_pipeline_split and account_for_loss_in_pipeline_split.
  bool embedding_in_split = false;
  bool loss_in_split = false;
  /// Expert-tensor parallelism (Megatron-Core's expert_tensor_parallel_size): each expert's
  /// matrices split over etp ranks instead of tp; the tp x cp x dp ranks of a stage regroup
  /// into etp x ep x expert-data-parallel ones for the expert layers. 0: etp = tp.
  std::int64_t etp = 0;
  /// Ranks a ZeRO stage shards over (FSDP's sharding group); the dp x cp / shard groups
  /// hold replicas and all-reduce their shard of the gradients (HSDP; Megatron's
  /// num_distributed_optimizer_instances). 0: all dp x cp ranks.
  std::int64_t shard = 0;
  EpDispatcher ep_dispatcher = EpDispatcher::all_to_all;
};

/// The expert layers' tensor-parallel degree.
inline std::int64_t expert_tp(const Layout& l) { return l.etp > 0 ? l.etp : l.tp; }

/// Whether a resolved layout splits its layers unevenly over the pipeline.
inline bool uneven_stages(const Layout& l) { return l.first_stage_layers >= 0; }

/// Ranks that hold the same model shard and split the data: dp x cp.
inline std::int64_t data_ranks(const Layout& l) { return l.dp * l.cp; }

/// The ranks a ZeRO stage shards over.
inline std::int64_t shard_ranks(const Layout& l) { return l.shard > 0 ? l.shard : data_ranks(l); }

/// Checks what the workload asks of the layout: that cp can split its sequences (each rank
/// holds two chunks of seq_len / (2 cp) tokens, one from each end, so that causal
/// attention's work is the same on every rank: the load balancing of Megatron-Core and
/// Transformer Engine), and that activation offloading runs without pipeline parallelism
/// (Megatron-Core's rule). Throws std::invalid_argument naming the field.
void check_workload_layout(const Workload& work, const Layout& layout);

/// What of a model a layout is checked against: nothing else of an architecture decides
/// whether a layout fits it (a sweep keeps its layout choices by these).
struct LayoutLimits {
  std::int64_t n_layers, n_heads, n_kv_heads, n_experts;
  bool moe;
  bool operator==(const LayoutLimits& o) const {
    return n_layers == o.n_layers && n_heads == o.n_heads && n_kv_heads == o.n_kv_heads &&
           n_experts == o.n_experts && moe == o.moe;
  }
};
inline LayoutLimits layout_limits(const Architecture& a) {
  return {a.n_layers, a.n_heads, a.n_kv_heads, a.n_experts, is_moe(a)};
}

/// Checks the layout against the model; throws std::invalid_argument. Resolves
/// microbatches = 0.
Layout resolve(const LayoutLimits& model, Layout layout);
/// The same without an exception: false when refused, the message in `why` if given.
bool resolve_in_place(const LayoutLimits& model, Layout& layout, std::string* why = nullptr);
inline Layout resolve(const Architecture& arch, Layout layout) {
  return resolve(layout_limits(arch), layout);
}

Optimizer parse_optimizer(const std::string& name);
const char* name_of(Optimizer optimizer);
EpDispatcher parse_ep_dispatcher(const std::string& name);
const char* name_of(EpDispatcher dispatcher);

/// A link between the members of a communication group.
struct Link {
  double seconds_per_byte;  ///< 1 / achieved bandwidth
  double latency;           ///< seconds
};

/// A machine's two links at the calibrated network efficiency, divided out once.
struct Network {
  Link intra_node;
  Link inter_node;
  std::int64_t devices_per_node;
  /// Ranks of a node-spanning group spaced `stride` apart that share a node,
  /// floor(devices_per_node / stride), for the strides below `strides`: a sweep asks per
  /// row, and the integer division showed in its profile.
  static constexpr std::int64_t strides = 129;
  std::array<double, strides> per_node_by_stride;
};
Network network(const Hardware& hw, const Efficiency& efficiency);

/// The link a group of `size` ranks spaced `stride` apart uses: inside a node when the
/// whole group fits in one, otherwise the inter-node network.
inline Link link_for(const Network& net, std::int64_t size, std::int64_t stride) {
  return size * stride <= net.devices_per_node ? net.intra_node : net.inter_node;
}

/// Ranks of a group spaced `stride` apart that share a node, for a group that spans nodes
/// (size x stride > devices_per_node, so size itself is never the bound): at least 1.
inline double ranks_per_node(const Network& net, std::int64_t stride) {
  if (stride >= net.devices_per_node) return 1;
  if (stride < Network::strides) return net.per_node_by_stride[static_cast<std::size_t>(stride)];
  return static_cast<double>(net.devices_per_node / stride);
}

/// The link a ring collective (all-reduce, reduce-scatter, all-gather) of a group that
/// spans nodes runs at. A node holds g = min(size, devices_per_node / stride) of the
/// group's ranks, each with its own NIC (rail-optimised nodes: one NIC per GPU). NCCL
/// builds its rings (channels) across all those NICs and reduces inside the node over
/// NVLink, so the node's share of the traffic leaves through g NICs at once: g times one
/// NIC's bandwidth, never more than NVLink's, which the data also crosses (NCCL's ring
/// and tree algorithms, NVIDIA nccl-tests' bus bandwidth of multi-node all-reduce).
/// All-to-all and point-to-point traffic is each rank's own and gains nothing: link_for.
inline Link collective_link(const Network& net, std::int64_t size, std::int64_t stride) {
  if (size * stride <= net.devices_per_node) return net.intra_node;
  if (stride >= net.devices_per_node) return net.inter_node;
  return {std::max(net.inter_node.seconds_per_byte / ranks_per_node(net, stride),
                   net.intra_node.seconds_per_byte),
          net.inter_node.latency};
}

/// A ring of n ranks and the (n - 1) / n share of a buffer each rank sends, divided once
/// per layout.
struct Ring {
  std::int64_t size;
  double share;
};
inline Ring ring(std::int64_t n) {
  return {n, n > 1 ? static_cast<double>(n - 1) / static_cast<double>(n) : 0.0};
}

/// Ring all-reduce of `bytes` over n ranks: 2 (n-1)/n bytes/B + 2 (n-1) alpha.
inline double all_reduce(double bytes, const Ring& r, const Link& link) {
  if (r.size <= 1) return 0;
  return 2 * r.share * bytes * link.seconds_per_byte +
         2 * static_cast<double>(r.size - 1) * link.latency;
}
/// Ring all-gather or reduce-scatter of a `bytes` result: half an all-reduce.
inline double all_gather(double bytes, const Ring& r, const Link& link) {
  return all_reduce(bytes, r, link) / 2;
}
/// All-to-all of `bytes` per rank: (n-1)/n of it leaves, n-1 messages.
inline double all_to_all(double bytes, const Ring& r, const Link& link) {
  return all_gather(bytes, r, link);
}
/// All-to-all of `bytes` per rank over a group of r.size ranks spaced `stride` apart. A
/// group that spans nodes has g = min(size, devices_per_node / stride) ranks in each: a
/// rank's (g - 1) / n share goes to its node over NVLink while its (n - g) / n share
/// leaves through its own NIC, at the same time (DeepEP's and NCCL's all-to-alls).
inline double all_to_all(double bytes, const Ring& r, const Network& net,
                         std::int64_t stride) {
  if (r.size <= 1) return 0;
  if (r.size * stride <= net.devices_per_node) return all_to_all(bytes, r, net.intra_node);
  const auto n = static_cast<double>(r.size);
  const double per_node = ranks_per_node(net, stride);
  return std::max((per_node - 1) / n * bytes * net.intra_node.seconds_per_byte,
                  (n - per_node) / n * bytes * net.inter_node.seconds_per_byte) +
         (n - 1) * net.inter_node.latency;
}
/// DeepEP's dispatch or combine of `bytes` per rank (k routed copies of each token) over
/// a group of r.size ranks spaced `stride` apart, its `experts` spread evenly over them: a
/// token crosses the network once per other node holding one of its experts, to the GPU
/// of its own rail there, which forwards the copies over NVLink ("NVLink forwarding",
/// DeepSeek-V3 §3.2.2; DeepEP's internode kernels). With routing uniform over the
/// experts (balanced routing), a token's k choices miss a given node of N with
/// probability C(E - E/N, k) / C(E, k). Every copy bound for another GPU crosses NVLink
/// once, (g - 1) / g of them; both links run at once.
inline double node_forwarded_all_to_all(double bytes, std::int64_t k, std::int64_t experts,
                                        const Ring& r, const Network& net,
                                        std::int64_t stride) {
  if (r.size <= 1) return 0;
  if (r.size * stride <= net.devices_per_node) return all_to_all(bytes, r, net.intra_node);
  const double per_node = ranks_per_node(net, stride);
  const double nodes = static_cast<double>(r.size) / per_node;
  const auto e = static_cast<double>(experts);
  const double elsewhere = e - e / nodes;  // experts off a given node
  double miss = 1;
  for (std::int64_t i = 0; i < k && miss > 0; ++i) {
    const auto taken = static_cast<double>(i);
    miss *= std::max(0.0, elsewhere - taken) / (e - taken);
  }
  const double network_bytes = (nodes - 1) * (1 - miss) * bytes / static_cast<double>(k);
  return std::max((per_node - 1) / per_node * bytes * net.intra_node.seconds_per_byte,
                  network_bytes * net.inter_node.seconds_per_byte) +
         (nodes - 1) * net.inter_node.latency;
}
/// One point-to-point message.
inline double point_to_point(double bytes, const Link& link) {
  return bytes * link.seconds_per_byte + link.latency;
}

}  // namespace scalingperf
