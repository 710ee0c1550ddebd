#!/usr/bin/env python3
"""One training step of the adaptive-span Transformer in PyTorch (the authors' `TransformerSeq`
and `AdagradWithGradClip`), side by side with `deq bench adaptive-span --json`, and the ratio.

    python3 Benchmarks/peers/torch_adaptive_span_step.py --reference /path/to/adaptive-span \\
        --deq .build/release/deq --rounds 3 [--span-ratio 0.05 | --fixed]

The reference's `models.py`, `adaptive_span.py`, `persistent_memory.py`, `adaptive_io.py` and
`adagrad_with_grad_clip.py` are extracted at run time from `--reference` (a clone or bare mirror
of facebookresearch/adaptive-span) into a temporary directory and imported; nothing is kept.
Patches for current PyTorch (2.15), applied to the extracted copy only:
  1. `adagrad_with_grad_clip.py`: the deprecated positional-scalar overloads
     `grad.add(wd, p)`, `addcmul_(1, g, g)` and `p.data.addcdiv_(-clr, g, std)` become the keyword
     forms `add(p, alpha=wd)`, `addcmul_(g, g, value=1)`, `addcdiv_(g, std, value=-clr)`;
  2. the same file: `state['step']` is a tensor in current PyTorch's Adagrad, so `clr` reads
     `state['step'].item()`.
The step is the reference's `_train_step` + `_train_batch` for batch_split 1: forward over the
cache, nll loss plus the span losses, backward, the optimizer step (per-parameter clipping inside
Adagrad, lr 0.07, clip 0.03), span clamping; the same sizes, batch and spans on both sides, on a
fixed random batch. Both sides use the same thread count (EQ_NUM_THREADS / torch.set_num_threads);
rounds alternate the two implementations in fresh processes, and the best (minimum) step of each
side over all rounds is compared, with the per-round medians printed too.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

FILES = ["models.py", "adaptive_span.py", "persistent_memory.py", "adaptive_io.py", "adagrad_with_grad_clip.py"]
PATCHES = [
    ("grad = grad.add(group['weight_decay'], p.data)", "grad = grad.add(p.data, alpha=group['weight_decay'])"),
    ("clr = (group['lr'] /\n                       (1 + (state['step'] - 1) * group['lr_decay']))",
     "clr = (group['lr'] /\n                       (1 + (float(state['step']) - 1) * group['lr_decay']))"),
    ("state['sum'].addcmul_(1, grad, grad)", "state['sum'].addcmul_(grad, grad, value=1)"),
    ("p.data.addcdiv_(-clr, grad, std)", "p.data.addcdiv_(grad, std, value=-clr)"),
]


def extract(reference, into):
    for name in FILES:
        path = os.path.join(reference, name)
        text = open(path).read() if os.path.exists(path) else subprocess.run(
            ["git", "-C", reference, "show", f"HEAD:{name}"], check=True, capture_output=True, text=True).stdout
        if name == "adagrad_with_grad_clip.py":
            for old, new in PATCHES:
                assert old in text, f"patch target not found in {name}: {old!r}"
                text = text.replace(old, new)
        open(os.path.join(into, name), "w").write(text)


def torch_step(args):
    """Runs in a child process: prints one JSON line with the sorted step times (ms)."""
    import torch
    torch.set_num_threads(args.threads)
    sys.path.insert(0, args.code)
    from models import TransformerSeq
    from adagrad_with_grad_clip import AdagradWithGradClip
    torch.manual_seed(7)
    adapt = not args.fixed
    model = TransformerSeq(
        vocab_size=args.vocabulary, hidden_size=args.hidden, nb_heads=args.heads, nb_layers=args.layers,
        attn_span=args.span, emb_dropout=0.0, adapt_io_params={"adapt_io_enabled": False},
        inner_hidden_size=args.inner, dropout=0.0,
        adapt_span_params={"adapt_span_enabled": adapt, "adapt_span_loss": 2e-6, "adapt_span_ramp": 32,
                           "adapt_span_init": 0.0, "adapt_span_cache": adapt},
        pers_mem_params={"pers_mem_size": 0})
    if adapt and args.span_ratio is not None:
        for layer in model.layers:
            layer.attn.attn.adaptive_span._mask.current_val.data.fill_(args.span_ratio)
    optimizer = AdagradWithGradClip(model.parameters(), lr=0.07, grad_clip=0.03)
    for group in optimizer.param_groups:  # Adagrad's state starts at step 0
        for p in group["params"]:
            optimizer.state[p].setdefault("step", torch.tensor(0.0))
    x = torch.randint(0, args.vocabulary, (args.batch, args.block))
    y = torch.randint(0, args.vocabulary, (args.batch, args.block))
    h_cache = [torch.zeros(args.batch, layer.attn.attn.get_cache_size(), args.hidden) for layer in model.layers]
    model.train()

    def step():
        nonlocal h_cache
        start = time.perf_counter()
        optimizer.zero_grad()
        out, h_cache, _ = model(x, h_cache, target=y)
        loss = torch.nn.functional.nll_loss(out.view(-1, out.size(-1)), y.view(-1))
        if adapt:
            loss = loss + sum(layer.attn.attn.adaptive_span.get_loss() for layer in model.layers)
        loss.backward()
        optimizer.step()
        if adapt:
            for layer in model.layers:
                layer.attn.attn.adaptive_span.clamp_param()
        return (time.perf_counter() - start) * 1e3

    for _ in range(args.warmup):
        step()
    times = sorted(step() for _ in range(args.repeats))
    print(json.dumps({"ms": times}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reference", help="facebookresearch/adaptive-span clone or bare mirror")
    p.add_argument("--deq", default=".build/release/deq")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--inner", type=int, default=512)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--span", type=int, default=512)
    p.add_argument("--block", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--vocabulary", type=int, default=50)
    p.add_argument("--span-ratio", type=float)
    p.add_argument("--fixed", action="store_true")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--code", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return torch_step(args)
    sizes = ["--layers", args.layers, "--hidden", args.hidden, "--inner", args.inner, "--heads", args.heads,
             "--span", args.span, "--block", args.block, "--batch", args.batch, "--vocabulary", args.vocabulary,
             "--warmup", args.warmup, "--repeats", args.repeats]
    mode = ["--fixed"] if args.fixed else (["--span-ratio", args.span_ratio] if args.span_ratio is not None else [])
    sizes = [str(s) for s in sizes + mode]
    env = dict(os.environ, EQ_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as code:
        extract(args.reference, code)
        for r in range(args.rounds):
            out = subprocess.run([args.deq, "bench", "adaptive-span", "--json"] + sizes, check=True, capture_output=True, text=True, env=env).stdout
            row = json.loads(out.strip().splitlines()[-1])
            ours.append((row["ms_min"], row["ms"]))
            out = subprocess.run([sys.executable, __file__, "--child", "--code", code, "--threads", str(args.threads)] + sizes,
                                 check=True, capture_output=True, text=True, env=env).stdout
            t = json.loads(out.strip().splitlines()[-1])["ms"]
            theirs.append((t[0], t[len(t) // 2]))
            print(f"round {r + 1}: ours median {row['ms']:.1f} ms, PyTorch median {t[len(t) // 2]:.1f} ms, ratio {row['ms'] / t[len(t) // 2]:.2f}"
                  f"  (attended keys {row['attended_keys']})", flush=True)
    best_ours, best_theirs = min(o[0] for o in ours), min(t[0] for t in theirs)
    print(f"best step: ours {best_ours:.1f} ms, PyTorch {best_theirs:.1f} ms, ratio {best_ours / best_theirs:.2f} "
          f"({args.threads} threads, {'fixed span' if args.fixed else 'adaptive'} {args.span}, batch {args.batch} x {args.block})")


if __name__ == "__main__":
    main()
