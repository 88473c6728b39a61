"""The peer of bench/llm_gpu.sh on the same CUDA machine: transformers' Qwen2ForCausalLM with
randomly initialised weights of Qwen2.5-32B's shape (bench/qwen2.5-32b-config.json), bf16, as its
users run it — `generate` greedy with the default dynamic cache and with a StaticCache (eager,
not compiled: compiling takes minutes) — at batch 1 and 32 after 128-token prompts, 64 new tokens,
and the time to first token of a 2,000-token prompt.

Then, on the same weights, the decode step our `cb-llm-node` runs (the same libtorch operators in
the same order: RMSNorm in f32, separate q/k/v/o and MLP projections, RoPE by index_select,
scatter into a preallocated KV cache, SDPA with a boolean mask and GQA), timed and profiled, so
that a gap between the two is traced to the operator that causes it.

Prints one JSON object and a short table. Needs a GPU with ~80 GB free, torch and transformers.
"""

import json
import os
import sys
import time

import torch

ROOT = os.path.dirname(os.path.abspath(__file__))
PROMPT, GEN, BATCHES, TTFT = 128, 64, (1, 32), 2000


def sync():
    torch.cuda.synchronize()


def hf_model():
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg = AutoConfig.from_pretrained(os.path.join(ROOT, "qwen2.5-32b-config.json"))
    with torch.device("cuda"):
        try:
            model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
        except TypeError:
            model = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16)
    return model.eval()


def ids(b, n, salt, vocab):
    g = torch.Generator().manual_seed(salt)
    return torch.randint(0, vocab, (b, n), generator=g).cuda()


@torch.no_grad()
def hf_decode(model, b, cache):
    vocab = model.config.vocab_size
    x = ids(b, PROMPT, b, vocab)
    kw = dict(do_sample=False, pad_token_id=0)
    if cache:
        kw["cache_implementation"] = cache
    model.generate(x, max_new_tokens=4, min_new_tokens=4, **kw)  # warm-up
    sync()
    t = time.perf_counter()
    model.generate(x, max_new_tokens=1, min_new_tokens=1, **kw)
    sync()
    first = time.perf_counter() - t
    t = time.perf_counter()
    model.generate(x, max_new_tokens=GEN, min_new_tokens=GEN, **kw)
    sync()
    total = time.perf_counter() - t
    steps = GEN - 1
    s = total - first
    return {"batch": b, "cache": cache or "dynamic", "decode_seconds": s,
            "tokens_per_s": b * steps / s, "per_sequence_tokens_per_s": steps / s}


@torch.no_grad()
def hf_ttft(model):
    x = ids(1, TTFT, 99, model.config.vocab_size)
    model(x[:, :16])
    sync()
    t = time.perf_counter()
    logits = model(x).logits
    int(logits[0, -1].argmax())
    return time.perf_counter() - t


class Ours:
    """The decode step of llm-node/src/models/decoder.rs, operator for operator."""

    def __init__(self, model, slots, capacity):
        c = model.config
        self.m = model.model
        self.lm_head = model.lm_head.weight
        self.eps = c.rms_norm_eps
        self.h, self.kvh = c.num_attention_heads, c.num_key_value_heads
        self.d = c.hidden_size // c.num_attention_heads
        # transformers 5 keeps rope_theta under rope_parameters
        theta = getattr(c, "rope_parameters", None) or {}
        theta = theta.get("rope_theta") or getattr(c, "rope_theta", 1e6)
        half = self.d // 2
        inv = torch.exp(torch.arange(half, dtype=torch.float32) * (2.0 / self.d) * -torch.log(torch.tensor(theta)))
        f = torch.outer(torch.arange(capacity, dtype=torch.float32), inv)
        emb = torch.cat([f, f], -1)
        self.cos, self.sin = emb.cos().cuda().bfloat16(), emb.sin().cuda().bfloat16()
        shape = (slots, self.kvh, capacity, self.d)
        n = len(self.m.layers)
        self.k = [torch.zeros(shape, dtype=torch.bfloat16, device="cuda") for _ in range(n)]
        self.v = [torch.zeros(shape, dtype=torch.bfloat16, device="cuda") for _ in range(n)]

    def rms(self, x, w):
        xf = x.float()
        var = xf.pow(2).mean(-1, keepdim=True)
        return w * (xf * torch.rsqrt(var + self.eps)).to(x.dtype)

    def rope(self, x, pos):
        b = pos.shape[0]
        cos = self.cos.index_select(0, pos.flatten()).view(b, 1, 1, self.d)
        sin = self.sin.index_select(0, pos.flatten()).view(b, 1, 1, self.d)
        half = self.d // 2
        rot = torch.cat([-x[..., half:], x[..., :half]], 3)
        return x * cos + rot * sin

    @torch.no_grad()
    def step(self, tok, pos, masked=True):
        b = tok.shape[0]
        x = torch.nn.functional.embedding(tok.view(b, 1), self.m.embed_tokens.weight)
        span = int(pos.max()) + 1
        for i, layer in enumerate(self.m.layers):
            a = layer.self_attn
            h = self.rms(x, layer.input_layernorm.weight)
            q = torch.nn.functional.linear(h, a.q_proj.weight, a.q_proj.bias).view(b, 1, self.h, self.d).transpose(1, 2)
            k = torch.nn.functional.linear(h, a.k_proj.weight, a.k_proj.bias).view(b, 1, self.kvh, self.d).transpose(1, 2)
            v = torch.nn.functional.linear(h, a.v_proj.weight, a.v_proj.bias).view(b, 1, self.kvh, self.d).transpose(1, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            index = pos.view(b, 1, 1, 1).expand(b, self.kvh, 1, self.d)
            kc, vc = self.k[i][:b], self.v[i][:b]
            kc.scatter_(2, index, k)
            vc.scatter_(2, index, v)
            keys, values = kc[:, :, :span], vc[:, :, :span]
            mask = None
            if masked:
                mask = (torch.arange(span, device="cuda").view(1, span) <= pos).view(b, 1, 1, span)
            y = torch.nn.functional.scaled_dot_product_attention(q, keys, values, attn_mask=mask, enable_gqa=True)
            y = y.transpose(1, 2).contiguous().view(b, 1, self.h * self.d)
            x = x + torch.nn.functional.linear(y, a.o_proj.weight)
            h = self.rms(x, layer.post_attention_layernorm.weight)
            mlp = layer.mlp
            g = torch.nn.functional.linear(h, mlp.gate_proj.weight)
            u = torch.nn.functional.linear(h, mlp.up_proj.weight)
            x = x + torch.nn.functional.linear(torch.nn.functional.silu(g) * u, mlp.down_proj.weight)
        return torch.nn.functional.linear(self.rms(x, self.m.norm.weight), self.lm_head).squeeze(1).float()


def ours_decode(ours, b, masked):
    tok = torch.ones(b, dtype=torch.long, device="cuda")
    pos = torch.full((b, 1), PROMPT, dtype=torch.long, device="cuda")
    ours.step(tok, pos, masked)
    sync()
    t = time.perf_counter()
    for _ in range(GEN):
        logits = ours.step(tok, pos, masked)
        tok = logits.argmax(-1).cpu().cuda()
        pos = pos + 1
    sync()
    s = time.perf_counter() - t
    return {"batch": b, "masked_sdpa": masked, "decode_seconds": s, "tokens_per_s": b * GEN / s,
            "per_sequence_tokens_per_s": GEN / s}


def profile(ours, b):
    from torch.profiler import ProfilerActivity, profile as prof

    tok = torch.ones(b, dtype=torch.long, device="cuda")
    pos = torch.full((b, 1), PROMPT, dtype=torch.long, device="cuda")
    with prof(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as p:
        for _ in range(3):
            ours.step(tok, pos)
        sync()
    return p.key_averages().table(sort_by="cuda_time_total", row_limit=15)


def main():
    out = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__}
    t = time.perf_counter()
    model = hf_model()
    sync()
    out["hf_made_s"] = time.perf_counter() - t
    import transformers

    out["transformers"] = transformers.__version__
    out["hf"] = []
    # A StaticCache makes transformers 5 compile the model (torch.compile) inside generate: over
    # two minutes per shape on this machine, so the eager dynamic cache is what is timed.
    for cache in ([] if "--replica-only" in sys.argv else [None]):
        for b in BATCHES:
            try:
                r = hf_decode(model, b, cache)
            except Exception as e:  # report and go on: one failure must not lose the rest
                r = {"batch": b, "cache": cache or "dynamic", "error": repr(e)[:300]}
            out["hf"].append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
    try:
        if "--replica-only" not in sys.argv:
            out["hf_ttft_s"] = hf_ttft(model)
    except Exception as e:
        out["hf_ttft_error"] = repr(e)[:300]
    ours = Ours(model, max(BATCHES), PROMPT + GEN + 8)
    out["ours_replica"] = []
    for b in BATCHES:
        for masked in (True, False):
            r = ours_decode(ours, b, masked)
            out["ours_replica"].append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
    print(profile(ours, 1), file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
