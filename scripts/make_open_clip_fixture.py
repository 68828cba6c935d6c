#!/usr/bin/env python3
"""Makes the open_clip parity fixtures in datasets/fixtures/open_clip/.

For each of two tiny, randomly initialised open_clip CLIPs (one with QuickGELU, one with
GELU), writes
  {name}.json                  the open_clip model config (embed_dim, quick_gelu, vision_cfg, text_cfg)
  {name}.safetensors           model.state_dict(), float32, open_clip's own key names
  {name}-reference.safetensors inputs and open_clip's outputs on them:
                               images [2, 3, 32, 32], text_ids [4, 16] (int64),
                               image_embeddings [2, 16], text_embeddings [4, 16]
                               (encode_*(normalize=False)), logits_per_image [2, 4]
and, shared by both,
  bpe_vocab.txt.gz             the first MERGES merges of open_clip's BPE vocabulary
  tokenizer.json               the same BPE as a Hugging Face tokenizer (CLIPConverter's layout)
  texts.json                   the texts behind text_ids (tokenized by open_clip's SimpleTokenizer)

Every parameter (LayerNorm gains and biases included) is perturbed from open_clip's init so
that no mapping error can hide behind a zero or a one. Run with a Python that has torch,
open_clip_torch, safetensors and tokenizers:

    python scripts/make_open_clip_fixture.py [--out datasets/fixtures/open_clip]
"""

import argparse
import gzip
import json
import os

import open_clip
import torch
from open_clip.tokenizer import SimpleTokenizer, bytes_to_unicode, default_bpe
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

MERGES = 254  # vocabulary: 512 byte tokens + MERGES merges + 2 specials = 768
CONTEXT = 16
TEXTS = [
    "a photo of a red cube",
    "Two blue spheres, left of 3 cats!",
    "it's a tiny model",
    "a very long caption that certainly does not fit into sixteen tokens of context at all",
]


def truncated_bpe(out_dir):
    """open_clip's BPE file cut to its first MERGES merges (no trailing newline: open_clip's
    reader would turn one into an empty merge)."""
    with gzip.open(default_bpe()) as f:
        lines = f.read().decode("utf-8").split("\n")
    path = os.path.join(out_dir, "bpe_vocab.txt.gz")
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write("\n".join(lines[: 1 + MERGES]).encode("utf-8"))
    return path, [tuple(m.split()) for m in lines[1 : 1 + MERGES]]


def hf_tokenizer(merges, out_dir):
    """The BPE as transformers' CLIPConverter writes CLIP's tokenizer.json."""
    byte_tokens = list(bytes_to_unicode().values())
    tokens = byte_tokens + [t + "</w>" for t in byte_tokens] + ["".join(m) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(
        models.BPE(
            vocab=vocab,
            merges=merges,
            dropout=None,
            continuing_subword_prefix="",
            end_of_word_suffix="</w>",
            fuse_unk=False,
            unk_token="<|endoftext|>",
        )
    )
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(
                Regex(r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""),
                behavior="removed",
                invert=True,
            ),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|startoftext|>", "<|endoftext|>"])
    tok.post_processor = processors.RobertaProcessing(
        ("<|endoftext|>", vocab["<|endoftext|>"]),
        ("<|startoftext|>", vocab["<|startoftext|>"]),
        add_prefix_space=False,
        trim_offsets=False,
    )
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    return len(tokens)


def model_config(quick_gelu, vocab_size):
    return {
        "embed_dim": 16,
        "quick_gelu": quick_gelu,
        "vision_cfg": {
            "image_size": 32,
            "patch_size": 8,
            "width": 32,
            "head_width": 16,
            "layers": 2,
            "mlp_ratio": 4.0,
        },
        "text_cfg": {
            "context_length": CONTEXT,
            "vocab_size": vocab_size,
            "width": 32,
            "heads": 2,
            "layers": 2,
        },
    }


def perturb(model, generator):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "logit_scale":
                p.fill_(2.3)  # exp = 9.97, away from the init value
                continue
            scale = 0.1 if p.dim() <= 1 else p.std().clamp_min(0.02).item()
            p.add_(torch.randn(p.shape, generator=generator) * scale)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="datasets/fixtures/open_clip")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    bpe_path, merges = truncated_bpe(args.out)
    vocab_size = hf_tokenizer(merges, args.out)
    tokenizer = SimpleTokenizer(bpe_path=bpe_path, context_length=CONTEXT)
    assert len(tokenizer.encoder) == vocab_size, (len(tokenizer.encoder), vocab_size)
    text_ids = tokenizer(TEXTS)
    with open(os.path.join(args.out, "texts.json"), "w") as f:
        json.dump({"texts": TEXTS, "context_length": CONTEXT}, f, indent=2)
        f.write("\n")

    for name, quick_gelu, seed in [("tiny-quickgelu", True, 0), ("tiny-gelu", False, 1)]:
        torch.manual_seed(seed)
        cfg = model_config(quick_gelu, vocab_size)
        model = open_clip.model.CLIP(**cfg)
        perturb(model, torch.Generator().manual_seed(100 + seed))
        model.eval()
        images = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(200 + seed))
        with torch.no_grad():
            img = model.encode_image(images)
            txt = model.encode_text(text_ids)
            img_n, txt_n, scale = model(images, text_ids)
            logits = scale * img_n @ txt_n.T
        with open(os.path.join(args.out, f"{name}.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        state = {k: v.detach().contiguous().float() for k, v in model.state_dict().items()}
        save_file(state, os.path.join(args.out, f"{name}.safetensors"))
        save_file(
            {
                "images": images.contiguous(),
                "text_ids": text_ids.contiguous(),
                "image_embeddings": img.contiguous(),
                "text_embeddings": txt.contiguous(),
                "logits_per_image": logits.contiguous(),
            },
            os.path.join(args.out, f"{name}-reference.safetensors"),
        )
        n_params = sum(v.numel() for v in state.values())
        print(f"{name}: {len(state)} tensors, {n_params} parameters, logits {logits.shape}")


if __name__ == "__main__":
    main()
