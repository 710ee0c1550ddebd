"""Checks `deq`'s adaptive-span model against the authors' code, given the same weights.

    python3 Benchmarks/peers/adaptive_span_reference.py --reference /path/to/adaptive-span [--deq .build/debug/deq]

`--reference` is a clone (or bare mirror) of facebookresearch/adaptive-span. Its `models.py`,
`adaptive_span.py`, `persistent_memory.py` and `adaptive_io.py` are extracted at run time into a
temporary directory (nothing of it is kept or committed) and imported unmodified: current PyTorch
(2.15) needs no patch. The script builds the reference `TransformerSeq` in float64 with seeded
weights, runs two consecutive blocks as its training step does (the second attends to the caches
the first leaves), back-propagates Σ(nll + span loss), and asks `deq reference-run adaptive-span`
to do the same with the same weights, ids and caches. It compares the losses, the logits, the
next caches and every parameter's gradient, for a fixed span, an adaptive span whose learned
spans are short enough that the keys are trimmed, and an adaptive span with persistent memory
(all-attention, no feed-forward). It prints the largest relative error of each and exits non-zero
above 1e-10.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file

FILES = ["models.py", "adaptive_span.py", "persistent_memory.py", "adaptive_io.py"]


def extract(reference, into):
    for name in FILES:
        path = os.path.join(reference, name)
        if os.path.exists(path):
            text = open(path).read()
        else:  # a bare mirror: read the file from HEAD
            text = subprocess.run(["git", "-C", reference, "show", f"HEAD:{name}"], check=True,
                                  capture_output=True, text=True).stdout
        open(os.path.join(into, name), "w").write(text)
    sys.path.insert(0, into)


def case(name, deq, *, adapt, pers, seed):
    from models import TransformerSeq
    torch.manual_seed(seed)
    V, H, heads, layers, inner, span, B, M = 40, 32, 4, 2, 48, 128, 3, 16
    options = {"hid-sz": H, "inner-hid-sz": inner, "nlayers": layers, "nheads": heads, "attn-span": span,
               "dropout": 0, "emb-dropout": 0, "adapt-span": adapt, "adapt-span-loss": 2e-3,
               "adapt-span-ramp": 8, "adapt-span-init": 0, "adapt-span-cache": adapt, "pers-mem-size": pers}
    model = TransformerSeq(
        vocab_size=V, hidden_size=H, nb_heads=heads, nb_layers=layers, attn_span=span, emb_dropout=0.0,
        adapt_io_params={"adapt_io_enabled": False}, inner_hidden_size=inner, dropout=0.0,
        adapt_span_params={"adapt_span_enabled": adapt, "adapt_span_loss": 2e-3, "adapt_span_ramp": 8,
                           "adapt_span_init": 0.0, "adapt_span_cache": adapt},
        pers_mem_params={"pers_mem_size": pers}).double()
    if adapt:
        # Learned spans of 10–40% of 128 positions: the keys are trimmed by 64 before attention.
        for layer in model.layers:
            layer.attn.attn.adaptive_span._mask.current_val.data.uniform_(0.1, 0.3)
    with torch.no_grad():  # non-trivial layer norms
        for n, p in model.named_parameters():
            if "norm" in n:
                p.add_(0.1 * torch.randn_like(p))
    model.train()
    caches = [torch.randn(B, layer.attn.attn.get_cache_size(), H, dtype=torch.float64) for layer in model.layers]
    ids = [torch.randint(0, V, (B, M)) for _ in range(4)]
    inputs = {"x0": ids[0], "y0": ids[1], "x1": ids[2], "y1": ids[3]}
    inputs.update({f"cache.{l}": c for l, c in enumerate(caches)})
    inputs.update({f"param.{n}": p.detach().clone() for n, p in model.named_parameters()})

    ref = {}
    h = caches
    total = 0
    for block in range(2):
        out, h, _ = model(inputs[f"x{block}"], h, target=inputs[f"y{block}"])
        loss = torch.nn.functional.nll_loss(out.view(-1, V), inputs[f"y{block}"].view(-1))
        ref[f"loss{block}"] = loss.detach()
        ref[f"logits{block}"] = out.detach()
        if adapt:
            loss = loss + sum(layer.attn.attn.adaptive_span.get_loss() for layer in model.layers)
        total = total + loss
    total.backward()
    for l, c in enumerate(h):
        ref[f"next.{l}"] = c
    for n, p in model.named_parameters():
        ref[f"grad.{n}"] = p.grad

    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.safetensors"), os.path.join(d, "out.safetensors")
        save_file({k: v.contiguous() for k, v in inputs.items()}, src,
                  metadata={"options": json.dumps({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in options.items()})})
        subprocess.run([deq, "reference-run", "adaptive-span", "--in", src, "--out", dst], check=True)
        ours = load_file(dst)

    worst = {}
    for key, expected in ref.items():
        got = ours[key]
        if key.startswith("logits"):  # the reference returns log-probabilities; ours are logits
            got = torch.log_softmax(got, dim=-1)
        assert tuple(got.shape) == tuple(expected.shape), f"{name}: {key} has shape {tuple(got.shape)}, reference {tuple(expected.shape)}"
        err = ((got - expected).abs().max() / expected.abs().max().clamp_min(1e-300)).item()
        group = key.split(".")[0].rstrip("01")
        worst[group] = max(worst.get(group, 0.0), err)
    trims = ours["trim"].tolist()
    print(f"{name:28s} trimmed keys per layer {trims}  " + "  ".join(f"{k} {v:.1e}" for k, v in sorted(worst.items())))
    return max(worst.values())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True, help="facebookresearch/adaptive-span clone or bare mirror")
    parser.add_argument("--deq", default=".build/debug/deq")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as code:
        extract(args.reference, code)
        errors = [case("fixed span", args.deq, adapt=False, pers=0, seed=1),
                  case("adaptive span (trimmed)", args.deq, adapt=True, pers=0, seed=2),
                  case("adaptive + persistent memory", args.deq, adapt=True, pers=8, seed=3)]
    worst = max(errors)
    print(f"largest relative error {worst:.2e} (tolerance 1e-10)")
    sys.exit(0 if worst < 1e-10 else 1)


if __name__ == "__main__":
    main()
