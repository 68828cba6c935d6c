#!/usr/bin/env python3
"""The MA-AFS model in PyTorch, built from the same preset JSON as the Rust model, for
side-by-side throughput (`cargo xtask bench` runs it beside `crates/mafs-train/benches/
throughput.rs`). It mirrors the Rust modules layer for layer:

- `ImageVit` (crates/mafs-encoders/src/vit.rs): conv1 (no bias), class token, positions,
  ln_pre, pre-norm blocks with a fused [d, 3d] in-projection, ln_post, `proj` on every token;
  the class token's last-layer attention row for the attention-entropy signal.
- `TextTransformer` (text.rs): token + positional embedding, causal pre-norm blocks with key
  padding, ln_final, `text_projection` on every token, pooled at the end-of-text token.
- signals (mafs-signals): prototype entropy (K = 32 shared prototypes, tau_c = 0.1),
  attention entropy, cosine agreement, predictive entropy (VQA), energy.
- `MlpScheduler` (mafs-scheduler/src/mlp.rs): shared 2-layer MLP (hidden 32, GELU) on each
  modality's signal vector, per-modality prior, masked softmax at temperature tau.
- `QueryFusionHead` (mafs-fusion): 8 learned queries, 2 layers of self-attention, one
  cross-attention per modality scaled by its weight, MLP; ln_final; mean pool.
- heads (mafs-heads): VQA answer MLP (d -> 2d, LayerNorm, GELU -> answers, soft BCE) and the
  shared unimodal answer head; ITC (bias-free projections, learned logit scale, InfoNCE both
  ways) and ITM on a one-layer pair fusion over [image, side text, caption] with hard
  negatives (3 pairs per item); the captioning decoder (2 pre-norm layers, 4 heads, final
  LayerNorm, tied output projection with bias).
- loss: task + 0.5 unimodal + 0.01 KL(w || U) + 0.1 prototype loss (+ ITM); AdamW (weight
  decay 0.05) with global-norm clipping at 1.0.

Inputs are random tensors of the shapes the Rust batcher produces (the numbers do not matter
for throughput; the data pipeline is timed on the Rust side). Attention uses
`F.scaled_dot_product_attention`, what a PyTorch user would write.

    python bench/torch_mafs.py --preset crates/mafs-encoders/presets/tiny.json \
        --task vqa --mode train --batch 64 --iters 5 --threads 2

Prints one JSON object on the last line, with the same keys as the Rust bench.
"""

import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# --- encoders ------------------------------------------------------------------------------


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.in_proj = nn.Linear(d, 3 * d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, x, mask=None, causal=False, row=None):
        """x [b, n, d]; mask [b, 1, n, n] bool (True = attend) or None; row: query index per
        instance whose head-averaged weights to return ([b] long) or None."""
        b, n, d = x.shape
        h = self.heads
        q, k, v = self.in_proj(x).view(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        if causal and mask is None:
            ctx = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            if causal:
                tri = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
                mask = mask & tri
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        weights = None
        if row is not None:
            qr = q[torch.arange(b), :, row].unsqueeze(2)  # [b, h, 1, dh]
            s = qr @ k.transpose(-1, -2) / math.sqrt(d // h)
            if mask is not None:
                m = mask[torch.arange(b), :, row].unsqueeze(2) if mask.shape[2] > 1 else mask
                s = s.masked_fill(~m, float("-inf"))
            if causal:
                keys = torch.arange(n, device=x.device)
                s = s.masked_fill((keys.view(1, 1, 1, n) > row.view(b, 1, 1, 1)), float("-inf"))
            weights = s.softmax(-1).mean(1).squeeze(1)  # [b, n]
        return self.out_proj(ctx.transpose(1, 2).reshape(b, n, d)), weights


class Mlp(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.c_fc = nn.Linear(d, hidden)
        self.c_proj = nn.Linear(hidden, d)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, d, heads, ratio):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = SelfAttention(d, heads)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = Mlp(d, int(d * ratio))

    def forward(self, x, mask=None, causal=False, row=None):
        a, w = self.attn(self.ln_1(x), mask, causal, row)
        x = x + a
        return x + self.mlp(self.ln_2(x)), w


class Transformer(nn.Module):
    def __init__(self, d, layers, heads, ratio):
        super().__init__()
        self.resblocks = nn.ModuleList(Block(d, heads, ratio) for _ in range(layers))

    def forward(self, x, mask=None, causal=False, row=None):
        w = None
        last = len(self.resblocks) - 1
        for i, blk in enumerate(self.resblocks):
            x, w = blk(x, mask, causal, row if i == last else None)
        return x, w


class ImageVit(nn.Module):
    def __init__(self, cfg, embed_dim):
        super().__init__()
        d, p = cfg["width"], cfg["patch_size"]
        n = (cfg["image_size"] // p) ** 2
        self.conv1 = nn.Conv2d(3, d, p, stride=p, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(d) * d**-0.5)
        self.positional_embedding = nn.Parameter(torch.randn(n + 1, d) * d**-0.5)
        self.ln_pre = nn.LayerNorm(d)
        self.transformer = Transformer(d, cfg["layers"], cfg["heads"], cfg.get("mlp_ratio", 4.0))
        self.ln_post = nn.LayerNorm(d)
        self.proj = nn.Parameter(torch.randn(d, embed_dim) * d**-0.5)

    def forward(self, images):
        b = images.shape[0]
        x = self.conv1(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(b, 1, -1), x], 1) + self.positional_embedding
        x = self.ln_pre(x)
        rows = torch.zeros(b, dtype=torch.long, device=x.device)
        x, w = self.transformer(x, None, False, rows)
        tokens = self.ln_post(x) @ self.proj
        pad = torch.zeros(b, tokens.shape[1], dtype=torch.bool, device=x.device)
        return tokens, pad, tokens[:, 0], w


class TextTransformer(nn.Module):
    def __init__(self, cfg, embed_dim):
        super().__init__()
        d = cfg["width"]
        self.token_embedding = nn.Embedding(cfg["vocab_size"], d)
        self.positional_embedding = nn.Parameter(torch.randn(cfg["context_length"], d) * 0.01)
        self.transformer = Transformer(d, cfg["layers"], cfg["heads"], cfg.get("mlp_ratio", 4.0))
        self.ln_final = nn.LayerNorm(d)
        self.text_projection = nn.Parameter(torch.randn(d, embed_dim) * d**-0.5)
        self.causal = cfg.get("causal", True)

    def forward(self, ids, pad):
        b, n = ids.shape
        x = self.token_embedding(ids) + self.positional_embedding[:n]
        keep = ~pad
        mask = keep.view(b, 1, 1, n).expand(b, 1, n, n)
        eot = (keep.sum(1) - 1).clamp(min=0)
        x, w = self.transformer(x, mask, self.causal, eot)
        tokens = self.ln_final(x) @ self.text_projection
        return tokens, pad, tokens[torch.arange(b), eot], w


# --- signals, scheduler, fusion ------------------------------------------------------------


def entropy(logits):
    lp = logits.log_softmax(-1)
    return -(lp.exp() * lp).sum(-1)


class Prototypes(nn.Module):
    def __init__(self, d, k=32, tau_c=0.1, sharpen=0.5):
        super().__init__()
        self.prototypes = nn.Parameter(torch.randn(k, d) * 0.02)
        self.tau_c, self.sharpen, self.k = tau_c, sharpen, k

    def scores(self, z):
        return F.normalize(z, dim=-1) @ F.normalize(self.prototypes, dim=-1).t() / self.tau_c

    def loss(self, zs, present):
        s = torch.stack([self.scores(z) for z in zs], 1)  # [b, m, k]
        target = (s / self.sharpen).softmax(-1).detach()
        ce = -(target * s.log_softmax(-1)).sum(-1)  # [b, m]
        mean_q = s.softmax(-1)[present].mean(0)
        balance = math.log(self.k) - entropy(mean_q.log())
        return (ce * present).sum() / present.sum().clamp(min=1) / math.log(self.k) + balance


class Scheduler(nn.Module):
    def __init__(self, n_signals, m, hidden=32):
        super().__init__()
        self.fc1 = nn.Linear(n_signals, hidden)
        self.fc2 = nn.Linear(hidden, 1)
        self.prior = nn.Parameter(torch.zeros(m))

    def forward(self, values, present, tau):
        logits = self.fc2(F.gelu(self.fc1(values))).squeeze(-1) + self.prior
        return (logits.masked_fill(~present, float("-inf")) / tau).softmax(-1)


class CrossAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(d, d)
        self.kv_proj = nn.Linear(d, 2 * d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, x, mem, pad):
        b, q, d = x.shape
        n, h = mem.shape[1], self.heads
        qh = self.q_proj(x).view(b, q, h, d // h).transpose(1, 2)
        k, v = self.kv_proj(mem).view(b, n, 2, h, d // h).permute(2, 0, 3, 1, 4)
        mask = (~pad).view(b, 1, 1, n)
        ctx = F.scaled_dot_product_attention(qh, k, v, attn_mask=mask)
        # rows whose keys are all padding give NaN in SDPA; the Rust path gives zeros
        ctx = torch.nan_to_num(ctx)
        return self.out_proj(ctx.transpose(1, 2).reshape(b, q, d))


class QueryLayer(nn.Module):
    def __init__(self, d, heads, m):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.self_attn = SelfAttention(d, heads)
        self.ln_cross = nn.LayerNorm(d)
        self.cross_attn = nn.ModuleList(CrossAttention(d, heads) for _ in range(m))
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = Mlp(d, 4 * d)

    def forward(self, h, memories):
        h = h + self.self_attn(self.ln_1(h))[0]
        hn = self.ln_cross(h)
        h = h + sum(ca(hn, t, p) * w.view(-1, 1, 1) for ca, (t, p, w) in zip(self.cross_attn, memories))
        return h + self.mlp(self.ln_2(h))


class QueryFusion(nn.Module):
    def __init__(self, d, m, layers=2, n_queries=8, heads=4):
        super().__init__()
        self.queries = nn.Parameter(torch.randn(n_queries, d) * 0.02)
        self.layers = nn.ModuleList(QueryLayer(d, heads, m) for _ in range(layers))
        self.ln_final = nn.LayerNorm(d)

    def forward(self, encoded, weights, present):
        b = weights.shape[0]
        w = weights * present
        memories = [
            (t * p.view(-1, 1, 1), pad, w[:, i])
            for i, ((t, pad, _, _), p) in enumerate(zip(encoded, present.t()))
        ]
        h = self.queries.expand(b, -1, -1)
        for layer in self.layers:
            h = layer(h, memories)
        tokens = self.ln_final(h)
        return tokens, tokens.mean(1)


class AnswerClassifier(nn.Module):
    def __init__(self, d, n_answers):
        super().__init__()
        self.fc1 = nn.Linear(d, 2 * d)
        self.norm = nn.LayerNorm(2 * d)
        self.fc2 = nn.Linear(2 * d, n_answers)

    def forward(self, x):
        return self.fc2(F.gelu(self.norm(self.fc1(x))))


class Itc(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.item_proj = nn.Linear(d, d, bias=False)
        self.caption_proj = nn.Linear(d, d, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def logits(self, items, captions):
        i = F.normalize(self.item_proj(items), dim=-1)
        c = F.normalize(self.caption_proj(captions), dim=-1)
        return self.logit_scale.exp() * i @ c.t()

    def loss(self, items, captions):
        lg = self.logits(items, captions)
        t = torch.arange(lg.shape[0], device=lg.device)
        return (F.cross_entropy(lg, t) + F.cross_entropy(lg.t(), t)) / 2, lg


class DecoderLayer(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.self_attn = SelfAttention(d, heads)
        self.ln_cross = nn.LayerNorm(d)
        self.cross = CrossAttention(d, heads)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = Mlp(d, 4 * d)

    def forward(self, x, mem, mem_pad, mask):
        x = x + self.self_attn(self.ln_1(x), mask, True)[0]
        x = x + self.cross(self.ln_cross(x), mem, mem_pad)
        return x + self.mlp(self.ln_2(x))


class CaptionDecoder(nn.Module):
    def __init__(self, vocab, d, max_pos, layers=2, heads=4):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, d)
        self.positional_embedding = nn.Parameter(torch.randn(max_pos, d) * 0.02)
        self.layers = nn.ModuleList(DecoderLayer(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.bias = nn.Parameter(torch.zeros(vocab))

    def forward(self, ids, pad, memory):
        b, n = ids.shape
        x = self.token_embedding(ids) + self.positional_embedding[:n]
        mask = (~pad).view(b, 1, 1, n).expand(b, 1, n, n)
        mem_pad = torch.zeros(b, memory.shape[1], dtype=torch.bool, device=ids.device)
        for layer in self.layers:
            x = layer(x, memory, mem_pad, mask)
        return self.ln_f(x) @ self.token_embedding.weight.t() + self.bias


# --- the model -----------------------------------------------------------------------------


class Mafs(nn.Module):
    def __init__(self, preset, task, vocab, n_answers, m):
        super().__init__()
        d = preset["embed_dim"]
        text_cfg = dict(preset["text"], vocab_size=vocab)
        self.task, self.m, self.d = task, m, d
        self.image = ImageVit(preset["vision"], d)
        self.text = TextTransformer(text_cfg, d)
        self.prototypes = Prototypes(d)
        # scheduler signals: prototype entropy, attention entropy, agreement (+ predictive)
        self.n_signals = 4 if task == "vqa" else 3
        self.scheduler = Scheduler(self.n_signals, m)
        self.fusion = QueryFusion(d, m)
        if task == "vqa":
            self.answer = AnswerClassifier(d, n_answers)
            self.unimodal = AnswerClassifier(d, n_answers)
        else:
            self.itc = Itc(d)
        if task == "retrieval":
            self.itm_fusion = QueryFusion(d, 3, layers=1)
            self.itm = nn.Linear(d, 2)
        if task == "captioning":
            self.decoder = CaptionDecoder(vocab, d, text_cfg["context_length"] + 1)

    def encode(self, batch):
        enc = [self.image(batch["image"])]
        for name in batch["texts"]:
            enc.append(self.text(*batch[name]))
        return enc

    def items(self, batch, tau=0.5):
        enc = self.encode(batch)
        present = batch["present"]
        pooled = [e[2] for e in enc]
        if self.task == "vqa":
            uni = [self.unimodal(z) for z in pooled]
        else:
            uni = [self.prototypes.scores(z) for z in pooled]
        u_proto = torch.stack([entropy(self.prototypes.scores(z)) for z in pooled], 1) / math.log(32)
        u_attn = torch.stack(
            [entropy(w.clamp_min(1e-12).log()) / math.log(w.shape[1]) for _, _, _, w in enc], 1
        )
        zn = F.normalize(torch.stack(pooled, 1), dim=-1)
        cos = zn @ zn.transpose(1, 2)
        agree = (cos.sum(-1) - 1) / (self.m - 1)
        sig = [u_proto, u_attn, agree]
        if self.task == "vqa":
            sig.append(torch.stack([entropy(l) for l in uni], 1) / math.log(uni[0].shape[1]))
        energy = -torch.stack([l.logsumexp(-1) for l in uni], 1)  # QMF's signal, computed for all
        values = torch.stack(sig, -1)
        w = self.scheduler(values, present, tau)
        tokens, fused = self.fusion(enc, w, present.float())
        return enc, uni, w, tokens, fused, energy

    def loss(self, batch, tau=1.0):
        enc, uni, w, tokens, fused, _ = self.items(batch, tau)
        present = batch["present"]
        pf = present.float()
        b = fused.shape[0]
        if self.task == "vqa":
            target = batch["answers"]
            task = F.binary_cross_entropy_with_logits(self.answer(fused), target, reduction="none").sum(-1).mean()
            uni_l = sum(
                (F.binary_cross_entropy_with_logits(l, target, reduction="none").sum(-1) * pf[:, i]).sum()
                / pf[:, i].sum().clamp(min=1)
                for i, l in enumerate(uni)
            )
            itm = 0.0
        else:
            cap = self.text(*batch["caption"])
            uni_l = sum(self.itc.loss(e[2], cap[2])[0] for e in enc)
            if self.task == "retrieval":
                task, lg = self.itc.loss(fused, cap[2])
                with torch.no_grad():
                    p = lg.softmax(1).fill_diagonal_(0)
                    neg_cap = torch.multinomial(p + 1e-9, 1).squeeze(1)
                    neg_item = torch.multinomial(p.t() + 1e-9, 1).squeeze(1)
                ar = torch.arange(b)
                it = torch.cat([ar, ar, neg_item])
                ca = torch.cat([ar, neg_cap, ar])
                labels = torch.cat([torch.ones(b), torch.zeros(2 * b)]).long()
                pair_enc = [(e[0][it], e[1][it], None, None) for e in enc] + [(cap[0][ca], cap[1][ca], None, None)]
                pw = torch.cat([w[it] * 0.5, torch.full((3 * b, 1), 0.5)], 1)
                pp = torch.cat([present[it], torch.ones(3 * b, 1, dtype=torch.bool)], 1)
                _, pooled = self.itm_fusion(pair_enc, pw, pp.float())
                itm = F.cross_entropy(self.itm(pooled), labels)
            else:
                ids, pad, tgt = batch["caption_target"]
                logits = self.decoder(ids, pad, tokens)
                task = F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), ignore_index=0)
                task = task + self.itc.loss(fused, cap[2])[0] * 0.0
                itm = 0.0
        reg = (w * (w.clamp_min(1e-12) * pf.sum(1, keepdim=True)).log()).sum(1).mean()
        proto = self.prototypes.loss([e[2] for e in enc], present)
        return task + 0.5 * uni_l + 0.01 * reg + 0.1 * proto + itm

    @torch.no_grad()
    def greedy(self, tokens, bos, eos, max_len):
        b = tokens.shape[0]
        ids = torch.full((b, 1), bos, dtype=torch.long)
        done = torch.zeros(b, dtype=torch.bool)
        for _ in range(max_len - 1):
            pad = torch.zeros_like(ids, dtype=torch.bool)
            nxt = self.decoder(ids, pad, tokens)[:, -1].argmax(-1)
            nxt = torch.where(done, torch.zeros_like(nxt), nxt)
            ids = torch.cat([ids, nxt.unsqueeze(1)], 1)
            done |= nxt == eos
            if done.all():
                break
        return ids


# --- inputs --------------------------------------------------------------------------------


def make_batch(preset, task, b, vocab, n_answers, m, gen):
    n_text = preset["text"]["context_length"]
    s = preset["vision"]["image_size"]

    def text():
        lengths = torch.randint(3, n_text + 1, (b,), generator=gen)
        pad = torch.arange(n_text).view(1, -1) >= lengths.view(-1, 1)
        ids = torch.randint(4, vocab, (b, n_text), generator=gen).masked_fill(pad, 0)
        return ids, pad

    batch = {"image": torch.randn(b, 3, s, s, generator=gen)}
    if task == "vqa":
        batch["texts"] = ["question", "side_text"][: m - 1]
        batch["question"] = text()
        batch["side_text"] = text()
        a = torch.zeros(b, n_answers)
        a[torch.arange(b), torch.randint(0, n_answers, (b,), generator=gen)] = 1.0
        batch["answers"] = a
    else:
        batch["texts"] = ["side_text"]
        batch["side_text"] = text()
        batch["caption"] = text()
        ids, pad = text()
        batch["caption_target"] = (ids, pad, ids.masked_fill(pad, 0))
    present = torch.rand(b, m, generator=gen) > 0.1
    present[:, 0] = True
    batch["present"] = present
    return batch


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", help="preset JSON (crates/mafs-encoders/presets/*.json); needed by the model modes")
    ap.add_argument("--task", default="vqa", choices=["vqa", "retrieval", "captioning"])
    ap.add_argument("--mode", default="train", choices=["train", "infer", "eval", "matmul", "flops", "ops"])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--eval-items", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=None, help="text vocabulary (default: the preset's)")
    ap.add_argument("--answers", type=int, default=64)
    ap.add_argument("--modalities", type=int, default=None)
    ap.add_argument("--image-size", type=int, default=None)
    ap.add_argument("--context-length", type=int, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.mode == "matmul":
        a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
        a @ b
        times = []
        for _ in range(max(args.iters, 3)):
            t = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - t)
        print(json.dumps({"impl": "torch", "mode": "matmul", "size": 1024,
                          "gflops": 2 * 1024**3 / min(times) / 1e9,
                          "ms_per_iter": 1e3 * statistics.median(times),
                          "threads": torch.get_num_threads(), "torch": torch.__version__}))
        return
    if args.mode == "ops":
        print(json.dumps({"impl": "torch", "mode": "ops", "ops": op_profile(max(args.iters, 5))}))
        return
    if not args.preset:
        ap.error(f"--mode {args.mode} needs --preset")
    with open(args.preset) as f:
        preset = json.load(f)
    if args.image_size:
        preset["vision"]["image_size"] = args.image_size
    if args.context_length:
        preset["text"]["context_length"] = args.context_length
    vocab = args.vocab or preset["text"]["vocab_size"]
    m = args.modalities or (3 if args.task == "vqa" else 2)
    model = Mafs(preset, args.task, vocab, args.answers, m)
    gen = torch.Generator().manual_seed(0)
    batch = make_batch(preset, args.task, args.batch, vocab, args.answers, m, gen)
    times = []
    samples = args.batch
    if args.mode == "flops":
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as fc:
            model.loss(batch).backward()
        print(json.dumps({"impl": "torch", "mode": "flops", "train_flops_per_sample": fc.get_total_flops() / args.batch}))
        return
    if args.mode == "train":
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        model.train()
        for it in range(args.warmup + args.iters):
            t = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = model.loss(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if it >= args.warmup:
                times.append(time.perf_counter() - t)
    elif args.mode == "infer":
        model.eval()
        with torch.inference_mode():
            for it in range(args.warmup + args.iters):
                t = time.perf_counter()
                _, _, _, _, fused, _ = model.items(batch)
                out = model.answer(fused) if args.task == "vqa" else fused
                out.sum().item()
                if it >= args.warmup:
                    times.append(time.perf_counter() - t)
    else:
        model.eval()
        n = args.eval_items
        bs = args.batch
        with torch.inference_mode():
            for it in range(args.warmup + args.iters):
                t = time.perf_counter()
                evaluate(model, preset, args, vocab, m, n, bs)
                if it >= args.warmup:
                    times.append(time.perf_counter() - t)
        # VQA evaluates every question (3 per scene in the built-in world)
        samples = n * 3 if args.task == "vqa" else n
    ms = 1e3 * statistics.median(times)
    print(json.dumps({
        "impl": "torch", "mode": args.mode, "task": args.task, "batch": args.batch,
        "samples_per_iter": samples, "ms_per_iter": ms, "samples_per_s": samples / (ms / 1e3),
        "params": sum(p.numel() for p in model.parameters()), "peak_rss_mib": peak_rss_mib(),
        "threads": torch.get_num_threads(), "torch": torch.__version__,
    }))


def op_profile(iters):
    """The ops of crates/mafs-train/benches/throughput/ops.rs, at the same shapes."""
    b, n, d = 64, 65, 128

    def timed(f):
        f()
        v = []
        for _ in range(iters):
            t = time.perf_counter()
            f()
            v.append(1e3 * (time.perf_counter() - t))
        return statistics.median(v)

    def x(w):
        return torch.randn(b, n, w, requires_grad=True)

    out = []

    def both(name, fn, inp):
        with torch.inference_mode():
            xi = inp.detach()
            f = timed(lambda: fn(xi))
        fb = timed(lambda: fn(inp).sum().backward())
        out.append({"op": name, "forward_ms": f, "forward_backward_ms": fb})

    both("linear 128->512", nn.Linear(d, 4 * d), x(d))
    both("layer_norm 128", nn.LayerNorm(d), x(d))
    both("gelu [64,65,512]", F.gelu, x(4 * d))
    both("softmax [64,4,65,65]", lambda t: t.softmax(-1), torch.randn(b, 4, n, n, requires_grad=True))
    both("add [64,65,128]", lambda t: t + t, x(d))
    attn = SelfAttention(d, 4)
    both("self-attention d=128 h=4", lambda t: attn(t)[0], x(d))
    blk = Block(d, 4, 4.0)
    both("ViT block d=128", lambda t: blk(t)[0], x(d))
    return out


def evaluate(model, preset, args, vocab, m, n, bs):
    """The evaluation pass of each task, as crates/mafs-train/src/eval.rs does it."""
    gen = torch.Generator().manual_seed(1)
    if args.task == "vqa":
        for start in range(0, 3 * n, bs):
            batch = make_batch(preset, "vqa", min(bs, 3 * n - start), vocab, args.answers, m, gen)
            _, _, _, _, fused, _ = model.items(batch)
            model.answer(fused).argmax(-1).tolist()
    elif args.task == "captioning":
        for start in range(0, n, bs):
            batch = make_batch(preset, "captioning", min(bs, n - start), vocab, args.answers, m, gen)
            _, _, _, tokens, _, _ = model.items(batch)
            model.greedy(tokens, 1, 2, preset["text"]["context_length"]).tolist()
    else:
        # items, then 5 captions per item; ITC similarity; ITM re-ranks the top 16 both ways
        enc_all, w_all, p_all, fused_all, caps = [], [], [], [], []
        for start in range(0, n, bs):
            batch = make_batch(preset, "retrieval", min(bs, n - start), vocab, args.answers, m, gen)
            enc, _, w, _, fused, _ = model.items(batch)
            enc_all.append(enc)
            w_all.append(w)
            p_all.append(batch["present"])
            fused_all.append(fused)
        for start in range(0, 5 * n, bs):
            batch = make_batch(preset, "retrieval", min(bs, 5 * n - start), vocab, args.answers, m, gen)
            caps.append(model.text(*batch["caption"]))
        enc = [tuple(torch.cat([e[i][j] for e in enc_all]) if e_j is not None else None
                     for j, e_j in enumerate(enc_all[0][i])) for i in range(m)]
        w, present = torch.cat(w_all), torch.cat(p_all)
        cap = tuple(torch.cat([c[j] for c in caps]) for j in range(3))
        sim = model.itc.logits(torch.cat(fused_all), cap[2])
        k = 16
        pairs = [(i, c) for i in range(sim.shape[0]) for c in sim[i].topk(k).indices.tolist()]
        pairs += [(i, c) for c in range(sim.shape[1]) for i in sim[:, c].topk(k).indices.tolist()]
        scores = []
        for s in range(0, len(pairs), 256):
            chunk = torch.tensor(pairs[s : s + 256])
            it, ca = chunk[:, 0], chunk[:, 1]
            pe = [(e[0][it], e[1][it], None, None) for e in enc] + [(cap[0][ca], cap[1][ca], None, None)]
            pw = torch.cat([w[it] * 0.5, torch.full((len(it), 1), 0.5)], 1)
            pp = torch.cat([present[it], torch.ones(len(it), 1, dtype=torch.bool)], 1)
            _, pooled = model.itm_fusion(pe, pw, pp.float())
            scores.extend(model.itm(pooled).softmax(-1)[:, 1].tolist())


if __name__ == "__main__":
    sys.exit(main())
