#!/usr/bin/env python3
"""One training step of the reference RMC language model in PyTorch, side by side with
`deq bench rmc-lm --json`, and the ratio of the two.

The PyTorch side is the reference's own model: `relational_rnn_models.py` of
Deepest-Project/relational-rnn-pytorch, extracted from the mirror at run time (never committed)
with the defaults of its `train_rmc.py` (emsize 192, head size 192, 4 heads, 1 block, 3
attention-MLP layers, key size 64, 1 memory slot, forget bias 1, input bias 0, unit gates,
dropout 0.5, embedding tied to the full-softmax decoder), Adam (lr 1e-3) and gradient clipping
at 0.1, batch 64, BPTT 100, on a fixed random batch over the WikiText-2 vocabulary size (33278).
A step is: zero_grad, forward with the loss inside (the reference's), backward, clip, Adam step,
with the memory carried (detached) from the previous step. Patches for current PyTorch:
  1. `q *= (self.key_size ** -0.5)` becomes `q = q * (self.key_size ** -0.5)` (in-place change
     of a `torch.split` output view is refused since PyTorch 1.7).

    python3 Benchmarks/peers/torch_rmc_lm.py --reference /work/.mirror/Deepest-Project+relational-rnn-pytorch/repo \\
        --deq .build/release/deq [--rounds 3] [--batch 64 --bptt 100] [--torch-only]

Both sides use 2 threads (EQ_NUM_THREADS / torch.set_num_threads); each round runs each side in
a fresh process, alternately; the median step time of each process is reported.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PATCHES = [("q *= (self.key_size ** -0.5)", "q = q * (self.key_size ** -0.5)")]


def extract(mirror, name, directory):
    source = subprocess.run(["git", "-C", mirror, "show", f"HEAD:{name}"], check=True, capture_output=True,
                            text=True).stdout
    for old, new in PATCHES:
        if old not in source:
            sys.exit(f"{name} no longer contains {old!r}; review the patches in {__file__}")
        source = source.replace(old, new)
    with open(os.path.join(directory, name), "w") as f:
        f.write(source)
    sys.path.insert(0, directory)


def torch_child(args):
    import torch
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as d:
        extract(args.reference, "relational_rnn_models.py", d)
        from relational_rnn_models import RelationalMemory
    torch.manual_seed(7)
    model = RelationalMemory(mem_slots=args.memslots, head_size=192, input_size=192, num_tokens=args.vocabulary,
                             num_heads=4, num_blocks=1, forget_bias=1., input_bias=0., attention_mlp_layers=3,
                             key_size=64, use_adaptive_softmax=False)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.randint(0, args.vocabulary, (args.batch, args.bptt))
    targets = torch.randint(0, args.vocabulary, (args.bptt * args.batch,))
    memory = model.initial_state(args.batch, trainable=True)

    def step(memory):
        start, cpu = time.perf_counter(), time.process_time()
        model.zero_grad()
        loss, memory = model(data, memory, targets)
        loss = torch.mean(loss)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        return (time.perf_counter() - start) * 1e3, (time.process_time() - cpu) * 1e3, memory

    for _ in range(args.warmup):
        _, _, memory = step(memory)
    times, cpus = [], []
    for _ in range(args.repeats):
        ms, cpu, memory = step(memory)
        times.append(ms)
        cpus.append(cpu)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(json.dumps({"ms": statistics.median(times), "ms_min": min(times), "cpu_ms": statistics.median(cpus),
                      "parameters": params}))


def run_ours(args):
    env = dict(os.environ, EQ_NUM_THREADS=str(args.threads))
    cmd = [args.deq, "bench", "rmc-lm", "--json", "--batch", str(args.batch), "--bptt", str(args.bptt),
           "--vocabulary", str(args.vocabulary), "--memslots", str(args.memslots),
           "--warmup", str(args.warmup), "--repeats", str(args.repeats)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_torch(args):
    cmd = [sys.executable, __file__, "--torch-child", "--reference", args.reference, "--batch", str(args.batch),
           "--bptt", str(args.bptt), "--vocabulary", str(args.vocabulary), "--memslots", str(args.memslots),
           "--warmup", str(args.warmup), "--repeats", str(args.repeats), "--threads", str(args.threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="the git mirror of Deepest-Project/relational-rnn-pytorch")
    ap.add_argument("--deq", default=".build/release/deq")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--bptt", type=int, default=100)
    ap.add_argument("--vocabulary", type=int, default=33278)
    ap.add_argument("--memslots", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1, help="alternate the two implementations this many times")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("EQ_NUM_THREADS", "2")))
    ap.add_argument("--torch-only", action="store_true")
    ap.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_child:
        torch_child(args)
        return
    ours, theirs = [], []
    for r in range(args.rounds):
        if not args.torch_only:
            ours.append(run_ours(args))
        theirs.append(run_torch(args))
        print(f"round {r + 1}: ours {ours[-1]['ms'] if ours else float('nan'):.0f} ms, "
              f"pytorch {theirs[-1]['ms']:.0f} ms", flush=True)
    med = lambda rows, k: statistics.median(row[k] for row in rows)
    print(f"RMC LM training step, batch {args.batch} x {args.bptt}, vocabulary {args.vocabulary}, "
          f"{args.memslots} slot(s), {args.threads} threads, {args.rounds} round(s)")
    if ours:
        print(f"  equilibrium  {med(ours, 'ms'):9.0f} ms/step  (CPU {med(ours, 'cpu_ms'):.0f} ms, {ours[0]['parameters']} parameters)")
    print(f"  pytorch      {med(theirs, 'ms'):9.0f} ms/step  (CPU {med(theirs, 'cpu_ms'):.0f} ms, {theirs[0]['parameters']} parameters)")
    if ours:
        print(f"  ratio (ours / pytorch): {med(ours, 'ms') / med(theirs, 'ms'):.2f} (target <= 0.7); "
              f"best round {min(o['ms_min'] for o in ours) / min(t['ms_min'] for t in theirs):.2f}")
    print(json.dumps({"ours_ms": [o["ms"] for o in ours], "torch_ms": [t["ms"] for t in theirs]}))


if __name__ == "__main__":
    main()
