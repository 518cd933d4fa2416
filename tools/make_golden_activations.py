#!/usr/bin/env python3
"""Generate golden activation-memory measurements with an independent oracle.

The oracle is PyTorch autograd itself running Hugging Face ``transformers``
models built FROM CONFIG OBJECTS ONLY (random init, no weights, no hub
access).  Nothing here uses the scalingperf package.

Install (CPU-only torch; the exact pin keeps pip from pulling a CUDA build):

    pip install torch==2.13.0
    pip install transformers "torch==2.13.0"

Run from anywhere (paths are resolved relative to this file):

    python tools/make_golden_activations.py

It writes ``tests/data/golden_activations.json``.

What is measured
----------------
One training forward pass (``model.train()``) plus a cross-entropy loss that
this script computes itself on upcast logits::

    loss = F.cross_entropy(logits.float().view(-1, V), labels.view(-1))

runs inside ``torch.autograd.graph.saved_tensors_hooks``.  The pack hook sees
every tensor an autograd node saves for backward (``SavedVariable`` of
built-in ops and ``ctx.save_for_backward`` of custom Functions).  For each
one it records shape, dtype, the tensor's own bytes (numel * element_size)
and its storage (``untyped_storage()``: data_ptr and nbytes).

Accounting rules:
  * a storage is counted once, with the storage's full ``nbytes``, in the
    bucket during whose forward it was FIRST saved (a view of a storage
    counts the whole storage; a storage saved twice counts once);
  * storages that belong to a model parameter (weights, also when saved
    through a view such as ``weight.t()`` or ``gate_up_proj[e]``) are not
    activations and are excluded;
  * buckets: ``embedding`` (everything before the first decoder layer's
    forward), one per decoder layer, ``final_norm_and_head`` (after the last
    layer until the model's forward returns) and ``loss`` (the upcast +
    cross-entropy computed here).  The current bucket is tracked with forward
    pre-hooks/hooks on the decoder layers and the root model; the innermost
    running module path is tracked with hooks on every submodule;
  * ``layers_tensor_bytes`` instead sums the saved tensors' own bytes
    (numel * element_size) over DISTINCT saved views, a view being
    identified by (storage, storage_offset, numel, element_size) so that
    reshaped/transposed views of the same region (e.g. a 4-D attention
    output and its 2-D reshape fed to o_proj) count once, in the bucket
    where the view's storage was first saved; it differs from ``layers``
    where only part of a storage is saved (e.g. the query slice of GPT-2's
    fused c_attn output) or where an expanded (stride-0) view is saved;
  * ``layers_incl_shared`` counts, per layer, every distinct storage saved
    during that layer's forward even if an earlier bucket saved it first
    (e.g. rotary cos/sin or an attention mask shared by all layers).

Per-tensor listings
-------------------
``saved_tensors_layer0`` lists every pack call made during decoder layer 0
(parameters excluded) and ``saved_tensors_outside_layers`` those of the
embedding, final_norm_and_head and loss buckets.  Each entry has shape,
dtype, own ``nbytes``, ``storage_nbytes``, ``saved_by`` / ``saved_as`` (the
autograd node and its saved-attribute name), the innermost running
``module``, a per-case ``storage_id`` (equal ids = same storage, counted
once) and ``first_saved_in`` (the bucket the storage is counted in).
``parameter_saves_excluded`` is the number of pack calls on parameter
storages.  MoE cases add ``expert_tokens``: per MoE layer, the number of
tokens routed to each expert (bincount of the ``top_k_index`` the eager
experts module receives).

Which autograd op saved a tensor
--------------------------------
The pack hook returns an integer handle (index into the record list) and the
unpack hook returns the recorded tensor and logs the handle.  After the
forward + loss, the autograd graph is walked from ``loss.grad_fn``; for each
node every ``_saved_*`` attribute (and ``saved_tensors`` of custom Functions)
is read, which calls the unpack hook, so the handles it logs are exactly the
pack calls made on behalf of that node: ``saved_by`` is ``node.name()``
(e.g. ``MmBackward0``) and ``saved_as`` the attribute name.  A saved tensor
that is not reachable from the loss would keep the module path (none occur
in these cases; the script asserts that).  Finally ``loss.backward()`` is run
to check that the graph is intact.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # must be set before transformers is imported

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _hf_models as hf
import torch
import torch.nn.functional as F

GOLDEN_ACTIVATIONS = hf.REPO_ROOT / "tests" / "data" / "golden_activations.json"
GENERATOR = "tools/make_golden_activations.py"

DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32}


# --------------------------------------------------------------------------
# Cases (the whole script runs in well under a minute on 2 CPU cores).
# --------------------------------------------------------------------------
_LLAMA = dict(hidden_size=256, intermediate_size=688, num_hidden_layers=2,
              num_attention_heads=8, num_key_value_heads=2, vocab_size=1000,
              max_position_embeddings=256)
_GPT2 = dict(n_embd=256, n_layer=2, n_head=8, n_positions=256, vocab_size=1000,
             bos_token_id=999, eos_token_id=999)
_MISTRAL = dict(hidden_size=256, intermediate_size=704, num_hidden_layers=2,
                num_attention_heads=8, num_key_value_heads=2, vocab_size=1000,
                max_position_embeddings=256, sliding_window=4096)
_MIXTRAL = dict(hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                num_attention_heads=8, num_key_value_heads=2, num_local_experts=8,
                num_experts_per_tok=2, vocab_size=1000, max_position_embeddings=256)
_QWEN2MOE = dict(hidden_size=256, intermediate_size=688, moe_intermediate_size=128,
                 shared_expert_intermediate_size=512, num_experts=8, num_experts_per_tok=2,
                 decoder_sparse_step=1, num_hidden_layers=2, num_attention_heads=8,
                 num_key_value_heads=2, vocab_size=1000, max_position_embeddings=256)


def _case(name, family, attn, dtype, cfg, seq_len=128, dropout=0.0, batch=2):
    return dict(name=name, family=family, attn=attn, dtype=dtype, cfg=cfg,
                batch=batch, seq_len=seq_len, dropout=dropout)


CASES = [
    _case("llama-gqa-eager-bf16", "llama", "eager", "bfloat16", _LLAMA),
    _case("llama-gqa-sdpa-bf16", "llama", "sdpa", "bfloat16", _LLAMA),
    _case("llama-gqa-eager-fp32", "llama", "eager", "float32", _LLAMA),
    _case("llama-gqa-eager-bf16-s64", "llama", "eager", "bfloat16", _LLAMA, seq_len=64),
    _case("llama-gqa-eager-bf16-s256", "llama", "eager", "bfloat16", _LLAMA, seq_len=256),
    _case("gpt2-eager-bf16-dropout0", "gpt2", "eager", "bfloat16", _GPT2),
    _case("gpt2-sdpa-bf16-dropout0", "gpt2", "sdpa", "bfloat16", _GPT2),
    _case("gpt2-eager-bf16-dropout0.1", "gpt2", "eager", "bfloat16", _GPT2, dropout=0.1),
    _case("gpt2-sdpa-bf16-dropout0.1", "gpt2", "sdpa", "bfloat16", _GPT2, dropout=0.1),
    # The activation function changes what the MLP saves: gelu_new (GPT-2's) keeps four
    # tensors of the hidden width, the fused gelu_pytorch_tanh one, quick_gelu two.
    _case("gpt2-tanh-eager-bf16", "gpt2", "eager", "bfloat16",
          dict(_GPT2, activation_function="gelu_pytorch_tanh")),
    _case("gpt2-quickgelu-eager-bf16", "gpt2", "eager", "bfloat16",
          dict(_GPT2, activation_function="quick_gelu")),
    _case("mistral-gqa-eager-bf16", "mistral", "eager", "bfloat16", _MISTRAL),
    _case("mistral-gqa-sdpa-bf16", "mistral", "sdpa", "bfloat16", _MISTRAL),
    # sliding window shorter than seq_len: sdpa then receives an explicit mask
    _case("mistral-gqa-sdpa-bf16-window32", "mistral", "sdpa", "bfloat16",
          dict(_MISTRAL, sliding_window=32)),
    _case("mixtral-top2-eager-bf16", "mixtral", "eager", "bfloat16", _MIXTRAL),
    _case("qwen2moe-shared-eager-bf16", "qwen2_moe", "eager", "bfloat16", _QWEN2MOE),
]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def build_model(case: dict):
    family = case["family"]
    config = hf.make_config(family, case["cfg"], dropout=case["dropout"])
    model = hf.build_model(family, config, attn=case["attn"], dtype=DTYPES[case["dtype"]])
    model.train()
    return model


def storage_key(t: torch.Tensor):
    st = t.untyped_storage()
    return (st.data_ptr(), st.nbytes())


class ActivationRecorder:
    """Pack/unpack hooks plus module hooks that attribute saved tensors."""

    def __init__(self, model):
        self.model = model
        self.records = []  # one per pack call
        self.unpacked = []  # handles logged by the unpack hook
        self.bucket = "embedding"
        self.module_stack = []
        self.handles = []
        self.param_ptrs = {p.untyped_storage().data_ptr() for p in model.parameters()}
        layers = hf.decoder_layers(model)
        self.n_layers = len(layers)
        for name, mod in model.named_modules():
            if mod is model:
                continue
            self.handles.append(mod.register_forward_pre_hook(self._push(name)))
            self.handles.append(mod.register_forward_hook(self._pop(name), always_call=True))
        for idx, layer in enumerate(layers):
            self.handles.append(layer.register_forward_pre_hook(self._enter_layer(idx)))
            self.handles.append(layer.register_forward_hook(self._leave_layer(idx), always_call=True))
        self.handles.append(model.register_forward_pre_hook(self._set_bucket("embedding")))
        self.handles.append(model.register_forward_hook(self._set_bucket("loss"), always_call=True))

    # ---- module hooks
    def _push(self, name):
        def hook(module, args):
            self.module_stack.append(name)
        return hook

    def _pop(self, name):
        def hook(module, args, output):
            assert self.module_stack, name
            assert self.module_stack[-1] == name, (self.module_stack, name)
            self.module_stack.pop()
        return hook

    def _enter_layer(self, idx):
        def hook(module, args):
            self.bucket = idx
        return hook

    def _leave_layer(self, idx):
        def hook(module, args, output):
            self.bucket = "final_norm_and_head" if idx == self.n_layers - 1 else "between_layers"
        return hook

    def _set_bucket(self, bucket):
        def hook(*_):
            self.bucket = bucket
        return hook

    # ---- saved-tensor hooks
    def pack(self, t: torch.Tensor):
        # Keeping a reference to every packed tensor keeps its storage alive,
        # so a data_ptr can never be reused by a later allocation.
        is_param = t.untyped_storage().data_ptr() in self.param_ptrs
        self.records.append(dict(
            tensor=t,
            key=storage_key(t),
            view=(storage_key(t), t.storage_offset(), t.numel(), t.element_size()),
            is_param=is_param,
            bucket=self.bucket,
            module=self.module_stack[-1] if self.module_stack else "",
            shape=list(t.shape),
            dtype=hf.dtype_name(t.dtype),
            nbytes=t.numel() * t.element_size(),
            storage_nbytes=t.untyped_storage().nbytes(),
            saved_by=None,
            saved_as=None,
        ))
        return len(self.records) - 1

    def unpack(self, handle: int):
        self.unpacked.append(handle)
        return self.records[handle]["tensor"]

    def hooks(self):
        return torch.autograd.graph.saved_tensors_hooks(self.pack, self.unpack)

    def remove(self):
        for h in self.handles:
            h.remove()

    # ---- graph walk: which node saved which packed tensor
    def attribute_nodes(self, root) -> None:
        seen, stack = set(), [root]
        while stack:
            node = stack.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            attrs = [a for a in dir(node) if a.startswith("_saved_")]
            if hasattr(node, "saved_tensors"):  # custom autograd.Function
                attrs.append("saved_tensors")
            for attr in attrs:
                self.unpacked.clear()
                try:
                    getattr(node, attr)
                except RuntimeError:
                    continue
                for h in self.unpacked:
                    rec = self.records[h]
                    if rec["saved_by"] is None:
                        rec["saved_by"] = node.name()
                        rec["saved_as"] = attr.removeprefix("_saved_")
            stack.extend(fn for fn, _ in node.next_functions)
        self.unpacked.clear()


# --------------------------------------------------------------------------
# one case
# --------------------------------------------------------------------------
def run_case(case: dict) -> dict:
    torch.manual_seed(0)
    model = build_model(case)
    batch, seq_len = case["batch"], case["seq_len"]
    vocab = model.config.vocab_size
    input_ids, labels = hf.random_batch(vocab, batch, seq_len)

    counter = None
    if case["family"] in hf.MOE_FAMILIES:
        counter = hf.ExpertTokenRecorder(model, hf.num_routed_experts(model.config))

    rec = ActivationRecorder(model)
    with rec.hooks():
        logits = model(input_ids).logits
        assert rec.bucket == "loss"
        assert logits.shape == (batch, seq_len, vocab), logits.shape
        loss = F.cross_entropy(logits.float().view(-1, vocab), labels.view(-1))
        rec.attribute_nodes(loss.grad_fn)
        loss.backward()
    rec.remove()
    if counter:
        counter.remove()

    n_layers = rec.n_layers
    buckets = [*range(n_layers), "embedding", "final_norm_and_head", "loss", "between_layers"]
    storage_bytes = {b: 0 for b in buckets}
    tensor_bytes = {b: 0 for b in buckets}
    incl_shared = {i: set() for i in range(n_layers)}
    first = {}  # storage key -> (bucket, storage id)
    views = {}  # distinct saved view -> (storage key, own bytes)
    for r in rec.records:
        if r["is_param"]:
            continue
        assert r["saved_by"] is not None, f"saved tensor not reachable from the loss: {r['module']}"
        key = r["key"]
        if key not in first:
            first[key] = (r["bucket"], len(first))
            storage_bytes[r["bucket"]] += r["storage_nbytes"]
        views[r["view"]] = (key, r["nbytes"])
        if isinstance(r["bucket"], int):
            incl_shared[r["bucket"]].add(key)
        r["storage_id"] = first[key][1]
        r["first_saved_in"] = first[key][0]
    for key, nbytes in views.values():
        tensor_bytes[first[key][0]] += nbytes
    assert storage_bytes["between_layers"] == 0, "tensors saved between decoder layers"

    def describe(r, with_bucket=False):
        out = dict(shape=r["shape"], dtype=r["dtype"], nbytes=r["nbytes"],
                   storage_nbytes=r["storage_nbytes"], saved_by=r["saved_by"],
                   saved_as=r["saved_as"], module=r["module"], storage_id=r["storage_id"],
                   first_saved_in=r["first_saved_in"])
        if with_bucket:
            out = dict(bucket=r["bucket"], **out)
        return out

    activations = [r for r in rec.records if not r["is_param"]]
    layer0 = [describe(r) for r in activations if r["bucket"] == 0]
    outside_layers = [describe(r, True) for r in activations if not isinstance(r["bucket"], int)]
    n_params_saved = sum(1 for r in rec.records if r["is_param"])

    result = dict(
        name=case["name"],
        family=case["family"],
        attn_implementation=case["attn"],
        dtype=case["dtype"],
        dropout=case["dropout"],
        hf_config=hf.jsonable(model.config.to_dict()),
        batch=batch,
        seq_len=seq_len,
        layers=[storage_bytes[i] for i in range(n_layers)],
        layers_tensor_bytes=[tensor_bytes[i] for i in range(n_layers)],
        layers_incl_shared=[sum(k[1] for k in incl_shared[i]) for i in range(n_layers)],
        embedding=storage_bytes["embedding"],
        final_norm_and_head=storage_bytes["final_norm_and_head"],
        loss=storage_bytes["loss"],
        total=sum(storage_bytes.values()),
        saved_tensors_layer0=layer0,
        saved_tensors_outside_layers=outside_layers,
        parameter_saves_excluded=n_params_saved,
    )
    assert result["total"] == sum(k[1] for k in first)
    if counter:
        result["expert_tokens"] = counter.table()
        top_k = model.config.num_experts_per_tok
        assert all(sum(row) == batch * seq_len * top_k for row in result["expert_tokens"])
    return result


def main() -> int:
    t0 = time.time()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    cases = []
    for case in CASES:
        t = time.time()
        res = run_case(case)
        cases.append(res)
        print(f"{res['name']:34s} layers={res['layers']} emb={res['embedding']} "
              f"head={res['final_norm_and_head']} loss={res['loss']} total={res['total']} "
              f"({time.time() - t:.1f}s)", flush=True)
    data = dict(
        hf.header(GENERATOR),
        method=("Bytes of distinct non-parameter storages saved for backward "
                "(torch.autograd.graph.saved_tensors_hooks pack hook) during one training "
                "forward pass plus an fp32-upcast cross-entropy loss, each storage counted "
                "once with its full nbytes in the bucket (embedding, decoder layer, "
                "final_norm_and_head, loss) during whose forward it was first saved; "
                "saving ops identified by walking the autograd graph's _saved_* attributes."),
        cases=cases,
    )
    hf.write_json(GOLDEN_ACTIVATIONS, data, indent=1)
    print(f"wrote {GOLDEN_ACTIVATIONS.relative_to(hf.REPO_ROOT)} in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
