"""Checks Equilibrium's whole N-th farthest training step against the PyTorch port's
(`torch_nth_farthest.py`: the reference's own RelationalMemory, from
Deepest-Project/relational-rnn-pytorch, inside the port's RRNN head), from the same weights on
the same batches: the softmax scores and loss of every step, the global gradient norm before
clipping, step 1's gradients (before clipping) of every parameter, and the parameters and their
updates after every step (clipping at 0.1 and Adam included).

    python3 Benchmarks/peers/nth_farthest_reference.py \\
        --reference /work/.mirror/Deepest-Project+relational-rnn-pytorch/repo \\
        [--deq .build/release/deq] [--preset paper|small] [--dtype float64 float32] \\
        [--steps 3] [--batch 64] [--seed 0] [--clip 0.1] [--verbose]

`deq rmc-probe --nth-farthest SETUP OUT` initialises the RMCClassifier from the seed and draws
the batches as `deq nth-farthest` does (NthFarthestTraining's initial model, data generator and
trainer), writes the initial weights under the port's state_dict names and the batch-first
batches to SETUP, runs the steps with the trainer `deq nth-farthest` uses, and writes what it
computed to OUT (Sources/Benchmarking/NthFarthestStepProbe.swift). This script loads SETUP into
the port's model and runs the port's training step on the same batches: the model's softmax
output into nn.CrossEntropyLoss, backward, clip_grad_norm_(0.1), torch.optim.Adam(lr of the
preset). The paper preset's gradient norm is ~0.04 in its first steps, below the clip of 0.1, so
the clip acts only with a lower --clip (both sides take it): run that too. The model, the
reference loader and the presets are imported from torch_nth_farthest.py, so the patches to the
reference are that script's (and nothing else):
  1. `q *= (self.key_size ** -0.5)` becomes `q = q * (self.key_size ** -0.5)` (in-place change
     of a `torch.split` output view is refused since PyTorch 1.7).

Differences are relative to the largest magnitude of the compared tensor (1 where that is 0).
In float32 each group also shows how far ours and the port's are from the float64 port run on
the same float32 weights and batches (the exact answer to the float32 problem).
"update k" is parameter after step k minus parameter before it: Adam's step, compared directly
(a parameter is ~1e3 times its update, so the parameters alone hide update errors). In float64
the script prints PASS or FAIL against --tolerance (default 1e-10) and exits non-zero on FAIL;
float32 differences are printed for information.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rmc_reference import read_safetensors  # noqa: E402  (the hand-written safetensors reader)
from torch_nth_farthest import CLIP, PRESETS, RRNN, load_reference, load_weights  # noqa: E402  (the port itself)


def run_deq(deq, args, dtype, directory):
    setup, out = os.path.join(directory, f"setup-{dtype}.safetensors"), os.path.join(directory, f"out-{dtype}.safetensors")
    env = dict(os.environ)
    env.setdefault("EQ_NUM_THREADS", str(args.threads))
    env.setdefault("OMP_NUM_THREADS", str(args.threads))
    command = [args.deq, "rmc-probe", "--nth-farthest", setup, out, "--preset", args.preset, "--dtype", dtype,
               "--seed", str(args.seed), "--steps", str(args.steps), "--batch", str(args.batch), "--clip", str(args.clip)]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True, env=env)
    return read_safetensors(setup), read_safetensors(out)


def reference_steps(RelationalMemory, args, setup, dtype):
    p = PRESETS[args.preset]
    torch.manual_seed(args.seed)
    model = RRNN(RelationalMemory, p)
    if dtype == torch.float64:
        model = model.double()
    load_weights(model, setup)
    loss_fn = nn.CrossEntropyLoss()
    optimiser = torch.optim.Adam(model.parameters(), lr=p["lr"])
    memory = model.relational_memory.initial_state(args.batch, trainable=True).to(dtype)
    names = [n for n, _ in model.named_parameters()]   # the shared attention-MLP Linear once, as ours
    ref = {}
    before = {n: q.detach().clone() for n, q in model.named_parameters()}
    losses, norms = [], []
    for k in range(1, args.steps + 1):
        data = torch.from_numpy(np.array(setup[f"input.{k}"])).to(dtype)   # float32 batches upcast exactly for the float64 truth
        targets = torch.from_numpy(np.array(setup[f"target.{k}"])).long()
        y_pred, _ = model(data, memory)
        loss = loss_fn(y_pred, targets)
        optimiser.zero_grad()
        loss.backward()
        if k == 1:
            for n, q in model.named_parameters():
                ref["grad." + n] = q.grad.detach().clone()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)))
        optimiser.step()
        losses.append(loss.item())
        ref[f"scores.{k}"] = y_pred.detach()
        for n, q in model.named_parameters():
            ref[f"step{k}.{n}"] = q.detach().clone()
    ref["loss"] = torch.tensor(losses, dtype=torch.float64)
    ref["grad_norm"] = torch.tensor(norms, dtype=torch.float64)
    return {k: v.double().numpy() for k, v in ref.items()}, {k: v.double().numpy() for k, v in before.items()}, names


def difference(got, ref):
    scale = float(np.abs(ref).max()) if ref.size else 0.0
    return float(np.abs(got.reshape(ref.shape) - ref).max()) / (scale if scale > 0 else 1.0)


def compare(ours, ref, before, names, steps):
    """Worst relative difference per group: {group: (difference, tensor name)}, and every tensor's."""
    rows = {}

    def add(group, name, got, expected):
        rows.setdefault(group, []).append((difference(got, expected), name))

    for k in range(1, steps + 1):
        add(f"scores {k}", f"scores.{k}", ours[f"scores.{k}"], ref[f"scores.{k}"])
    add("loss", "loss", ours["loss"], ref["loss"])
    add("grad norm", "grad_norm", ours["grad_norm"], ref["grad_norm"])
    for n in names:
        add("grad 1", n, ours["grad." + n], ref["grad." + n])
    for k in range(1, steps + 1):
        for n in names:
            add(f"params {k}", n, ours[f"step{k}.{n}"], ref[f"step{k}.{n}"])
            previous_ours = ours[f"step{k - 1}.{n}"] if k > 1 else before[n]
            previous_ref = ref[f"step{k - 1}.{n}"] if k > 1 else before[n]
            add(f"update {k}", n, ours[f"step{k}.{n}"] - previous_ours, ref[f"step{k}.{n}"] - previous_ref)
    expected = {"loss", "grad_norm"} | {f"scores.{k}" for k in range(1, steps + 1)} | {"grad." + n for n in names} \
        | {f"step{k}.{n}" for k in range(1, steps + 1) for n in names}
    extra = sorted(set(ours) - expected)
    return rows, extra


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True,
                        help="the bare git mirror of Deepest-Project/relational-rnn-pytorch")
    parser.add_argument("--deq", default=".build/release/deq", help="the deq executable")
    parser.add_argument("--preset", default="paper", choices=sorted(PRESETS))
    parser.add_argument("--dtype", nargs="+", default=["float64", "float32"], choices=["float64", "float32"])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clip", type=float, default=CLIP,
                        help="gradient-norm clip (default the port's 0.1; the paper preset's first gradient norms "
                             "are ~0.04, so 0.01 makes the clip act)")
    parser.add_argument("--threads", type=int, default=1, help="threads for deq and torch")
    parser.add_argument("--tolerance", type=float, default=1e-10, help="float64 pass threshold")
    parser.add_argument("--verbose", action="store_true", help="every parameter's differences")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    failed = False
    with tempfile.TemporaryDirectory() as directory:
        RelationalMemory = load_reference(args.reference, directory)
        for name in args.dtype:
            dtype = torch.float64 if name == "float64" else torch.float32
            setup, ours = run_deq(args.deq, args, name, directory)
            ref, before, names = reference_steps(RelationalMemory, args, setup, dtype)
            rows, extra = compare(ours, ref, before, names, args.steps)
            if name == "float32":
                # The float64 port on the same float32 weights and batches (upcast exactly): the
                # exact answer to the float32 problem, to tell whose float32 arithmetic is closer.
                truth, _, _ = reference_steps(RelationalMemory, args, setup, torch.float64)
                ours_error, _ = compare(ours, truth, before, names, args.steps)
                port_error, _ = compare(ref, truth, before, names, args.steps)
            print(f"{name}: losses ours {list(ours['loss'])}, port {list(ref['loss'])}")
            print(f"{name}: gradient norms ours {list(ours['grad_norm'])}, port {list(ref['grad_norm'])}")
            worst_all = 0.0
            for group, entries in rows.items():
                worst, which = max(entries)
                worst_all = max(worst_all, worst)
                if name == "float64":
                    verdict = "pass" if worst <= args.tolerance else "FAIL"
                else:
                    verdict = "info"
                print(f"  {verdict}  {group:10} {len(entries):3d} tensors, worst relative difference {worst:.2e} ({which})"
                      + ("" if name == "float64" else f"; to float64: ours {max(ours_error[group])[0]:.2e}, "
                                                       f"port {max(port_error[group])[0]:.2e}"))
                if args.verbose or (name == "float64" and worst > args.tolerance):
                    for e, n in sorted(entries, reverse=True):
                        print(f"          {n}: {e:.2e}")
            if extra:
                print(f"  deq wrote unexpected tensors {extra}")
            if name == "float64":
                ok = worst_all <= args.tolerance and not extra
                failed |= not ok
                print(f"float64: {'PASS' if ok else 'FAIL'} (worst {worst_all:.2e}, tolerance {args.tolerance:g})")
            else:
                print(f"float32: worst {worst_all:.2e} (for information)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
