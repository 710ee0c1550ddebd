#!/usr/bin/env python3
"""Times one training step of the width-256 DEQ z = tanh(z W + x U + b), batch 32, in torchdeq,
with the same solver (Anderson, window 5) and iteration limits as `deq bench deq-step`, and prints
the ratio against ours measured in the same run.

    /opt/eqpeers/bin/python Benchmarks/peers/torchdeq_step.py --deq .build/release/deq

The virtual environment lives outside the repository (pip install torch torchdeq).
"""
import argparse, json, os, statistics, subprocess, time, tracemalloc

import torch
from torchdeq import get_deq


def torch_step(f_thres, b_thres, repeats):
    torch.manual_seed(42)
    width, batch = 256, 32
    w = (torch.randn(width, width) * (0.5 / (2 * width ** 0.5))).requires_grad_()
    u = (torch.randn(width, width) / width ** 0.5).requires_grad_()
    b = torch.zeros(width, requires_grad=True)
    x = torch.randn(batch, width)
    target = torch.randn(batch, width)
    deq = get_deq(f_solver="anderson", f_max_iter=f_thres, f_tol=0.0, b_solver="anderson",
                  b_max_iter=b_thres, b_tol=0.0, ift=True, f_stop_mode="abs", b_stop_mode="abs")

    def step():
        for p in (w, u, b):
            p.grad = None
        xu = x @ u + b
        f = lambda z: torch.tanh(z @ w + xu)
        zs, _ = deq(f, torch.zeros(batch, width), solver_kwargs={"m": 5})
        loss = ((zs[-1] - target) ** 2).mean()
        loss.backward()

    step()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deq", default=".build/release/deq")
    ap.add_argument("--f-thres", type=int, default=30)
    ap.add_argument("--b-thres", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("EQ_NUM_THREADS", "2")))
    env = dict(os.environ, EQ_NUM_THREADS=os.environ.get("EQ_NUM_THREADS", "2"))
    out = subprocess.run([args.deq, "bench", "deq-step", "--json", "--f-thres", str(args.f_thres),
                          "--b-thres", str(args.b_thres), "--repeats", str(args.repeats)],
                         capture_output=True, text=True, check=True, env=env).stdout
    ours = json.loads(out.strip().splitlines()[-1])["ms"]
    theirs = torch_step(args.f_thres, args.b_thres, args.repeats)
    print(f"{'implementation':<16}{'ms / step':>12}")
    print(f"{'equilibrium':<16}{ours:>12.2f}")
    print(f"{'torchdeq':<16}{theirs:>12.2f}")
    print(f"ratio (ours / torchdeq): {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
