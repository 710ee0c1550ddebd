#!/usr/bin/env python3
"""One training step of the small DEQ-Transformer preset in PyTorch + torchdeq, side by side with
`deq bench deq-transformer --json`, and the ratio of the two.

The model mirrors Sources/Models/DEQTransformer.swift and the preset in
Sources/Models/DEQTransformerPresets.swift: adaptive input (cutoffs [2000, 10000], divisor 4,
scaled by sqrt(d)), an injection Linear(d, d), and the weight-tied cell

    f(z, x) = LN2(h + drop(FF2(relu(FF1(h))))),  h = LN1(z + x + Attn(z + x; memory))

where Attn is causal multi-head attention over [memory; segment] with Transformer-XL relative
positions (content bias u, position bias v, a projection of sinusoidal encodings recomputed at
each call, and the pad-and-reshape relative shift), FF1/FF2 are weight-normalised (dim 0) and
drop is variational dropout (one mask per forward call, shared over time). The output goes
through variational dropout and torch.nn.AdaptiveLogSoftmaxWithLoss (cutoffs [2000, 10000],
div_value 4, no head bias). The equilibrium is solved by torchdeq's Anderson (window 5) with
tolerance 0, so every forward and backward iteration runs, and the backward is the implicit
(IFT) one. The optimizer is Adam.

Time: median of the timed steps after warm-up, wall clock. Peak memory: torch's CPU allocator
is invisible to tracemalloc, so the script runs torch.profiler with profile_memory=True over
one step and takes the highest running sum of the allocation/free records ("[memory]"
events), i.e. the peak of live tensor bytes above the step's start -- the same quantity as
our MemoryStats.measurePeak. The growth of the peak resident set (VmHWM) over the run is printed as well for
both, as a cross-check that includes allocator overhead.

    /opt/eqpeers/bin/python Benchmarks/peers/torch_deq_transformer.py --deq .build/release/deq --rounds 3

Both sides use 2 threads (EQ_NUM_THREADS / torch.set_num_threads). With --rounds N the two
implementations are run alternately N times (each in a fresh process) and the
medians over rounds are reported, which evens out load from other processes on the machine.
"""
import argparse, json, math, os, resource, statistics, subprocess, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchdeq import get_deq


class AdaptiveEmbedding(nn.Module):
    def __init__(self, vocab, d, cutoffs, div):
        super().__init__()
        self.bounds = [0] + cutoffs + [vocab]
        self.d = d
        self.embs = nn.ModuleList()
        self.projs = nn.ModuleList()
        for i in range(len(self.bounds) - 1):
            di = max(1, d // div ** i)
            self.embs.append(nn.Embedding(self.bounds[i + 1] - self.bounds[i], di))
            self.projs.append(nn.Linear(di, d, bias=False))
        self.scale = d ** 0.5

    def forward(self, tokens):
        flat = tokens.reshape(-1)
        out = torch.zeros(flat.numel(), self.d)
        for i in range(len(self.embs)):
            lo, hi = self.bounds[i], self.bounds[i + 1]
            idx = ((flat >= lo) & (flat < hi)).nonzero().squeeze(1)
            if idx.numel() == 0:
                continue
            e = self.projs[i](self.embs[i](flat[idx] - lo))
            out = out.index_add(0, idx, e)
        return (out * self.scale).view(*tokens.shape, self.d)


class VariationalDropout(nn.Module):
    """Mask shared over time (axis 1) and held until reset, as NN.VariationalDropout."""

    def __init__(self, p, hold):
        super().__init__()
        self.p, self.hold, self.mask = p, hold, None

    def reset(self):
        self.mask = None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.mask is None or not self.hold:
            shape = (x.shape[0], 1, x.shape[2])
            self.mask = torch.bernoulli(torch.full(shape, 1 - self.p)) / (1 - self.p)
        return x * self.mask


class RelativeAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.d, self.h, self.dh = d, heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.r_net = nn.Linear(d, d, bias=False)
        self.u = nn.Parameter(torch.randn(heads, self.dh) * 0.02)
        self.v = nn.Parameter(torch.randn(heads, self.dh) * 0.02)
        self.register_buffer("inv_freq", 1 / 10000 ** (torch.arange(0, d, 2).float() / d))

    @staticmethod
    def rel_shift(x):
        *lead, q, k = x.shape
        padded = torch.cat([x.new_zeros(*lead, q, 1), x], dim=-1)
        return padded.view(*lead, k + 1, q)[..., 1:, :].reshape(*lead, q, k)

    def forward(self, x, memory):
        b, t, _ = x.shape
        m = memory.shape[1]
        k = t + m
        full = torch.cat([memory, x], dim=1)
        q, key, val = self.qkv(full).chunk(3, dim=-1)
        split = lambda y: y.reshape(b, -1, self.h, self.dh).permute(0, 2, 1, 3)
        q, key, val = split(q[:, m:]), split(key), split(val)
        ac = (q + self.u.view(1, self.h, 1, self.dh)) @ key.transpose(-1, -2)
        pos = torch.arange(k - 1, -1, -1.0)
        angles = pos[:, None] * self.inv_freq[None, :]
        r = torch.cat([angles.sin(), angles.cos()], dim=1)
        rk = self.r_net(r).view(k, self.h, self.dh).permute(1, 2, 0)
        bd = self.rel_shift((q + self.v.view(1, self.h, 1, self.dh)) @ rk.unsqueeze(0))
        scores = (ac + bd) * (1 / math.sqrt(self.dh))
        mask = torch.arange(k)[None, :] > (torch.arange(t)[:, None] + m)
        scores = scores.masked_fill(mask, -1e30)
        ctx = scores.softmax(-1) @ val
        return self.out(ctx.permute(0, 2, 1, 3).reshape(b, t, self.d))


class DEQTransformerLM(nn.Module):
    def __init__(self, vocab, d=128, heads=4, ff=512, dropout=0.1, cutoffs=(2000, 10000), div=4,
                 f_thres=12, b_thres=12):
        super().__init__()
        self.embedding = AdaptiveEmbedding(vocab, d, list(cutoffs), div)
        self.injection = nn.Linear(d, d)
        self.attention = RelativeAttention(d, heads)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        wn = nn.utils.parametrizations.weight_norm
        self.ff1, self.ff2 = wn(nn.Linear(d, ff), dim=0), wn(nn.Linear(ff, d), dim=0)
        self.cell_dropout = VariationalDropout(dropout, hold=True)
        self.output_dropout = VariationalDropout(dropout, hold=False)
        self.softmax = nn.AdaptiveLogSoftmaxWithLoss(d, vocab, list(cutoffs), div_value=float(div), head_bias=False)
        self.deq = get_deq(f_solver="anderson", f_max_iter=f_thres, f_tol=0.0, f_stop_mode="abs",
                           b_solver="anderson", b_max_iter=b_thres, b_tol=0.0, b_stop_mode="abs", ift=True)

    def cell(self, z, x, memory):
        inp = z + x
        h = self.norm1(inp + self.attention(inp, memory))
        return self.norm2(h + self.cell_dropout(self.ff2(F.relu(self.ff1(h)))))

    def forward(self, tokens, targets, memory):
        x = self.injection(self.embedding(tokens))
        self.cell_dropout.reset()
        zs, _ = self.deq(lambda z: self.cell(z, x, memory), torch.zeros_like(x), solver_kwargs={"m": 5})
        h = self.output_dropout(zs[-1])
        return self.softmax(h.reshape(-1, h.shape[-1]), targets.reshape(-1)).loss


def peak_bytes(step):
    """Highest running sum of the allocator's records over one step (bytes above the start)."""
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    records = []
    for e in prof.profiler.kineto_results.events():
        if e.name() == "[memory]":
            records.append((e.start_ns(), e.nbytes()))
    records.sort()
    live = peak = 0
    for _, n in records:
        live += n
        peak = max(peak, live)
    return peak


def torch_bench(args):
    torch.manual_seed(7)
    model = DEQTransformerLM(args.vocabulary, f_thres=args.f_thres, b_thres=args.b_thres)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    tokens = torch.randint(0, args.vocabulary, (args.batch, args.length))
    targets = torch.randint(0, args.vocabulary, (args.batch, args.length))
    memory = torch.randn(args.batch, args.length, 128)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(tokens, targets, memory)
        loss.backward()
        opt.step()

    rss = peak_rss()
    for _ in range(args.warmup):
        step()
    times, cpu = [], []
    for _ in range(args.repeats):
        c = cpu_seconds()
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1e3)
        cpu.append((cpu_seconds() - c) * 1e3)
    rss_delta = peak_rss() - rss
    return statistics.median(times), statistics.median(cpu), peak_bytes(step), rss_delta


def peak_rss():
    """VmHWM (peak resident bytes) of this process; like `deq bench`, not ru_maxrss (kept across exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def ours_bench(args):
    env = dict(os.environ, EQ_NUM_THREADS=str(args.threads))
    cmd = [args.deq, "bench", "deq-transformer", "--json", "--batch", str(args.batch), "--length", str(args.length),
           "--vocabulary", str(args.vocabulary), "--f-thres", str(args.f_thres), "--b-thres", str(args.b_thres),
           "--warmup", str(args.warmup), "--repeats", str(args.repeats)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deq", default=".build/release/deq")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=64)
    ap.add_argument("--vocabulary", type=int, default=33278)
    ap.add_argument("--f-thres", type=int, default=12)
    ap.add_argument("--b-thres", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=1, help="alternate the two implementations this many times")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("EQ_NUM_THREADS", "2")))
    ap.add_argument("--torch-only", action="store_true")
    ap.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.torch_child:
        ms, cpu, peak, rss = torch_bench(args)
        print(json.dumps({"ms": ms, "cpu_ms": cpu, "peak_bytes": peak, "rss": rss}))
        return

    ours_ms, ours_cpu, ours_peak, ours_rss, torch_ms, torch_cpu, torch_peak, torch_rss = [], [], [], [], [], [], [], []
    for r in range(args.rounds):
        if not args.torch_only:
            row = ours_bench(args)
            ours_ms.append(row["ms"]); ours_cpu.append(row["cpu_ms"]); ours_peak.append(row["peak_bytes"]); ours_rss.append(row["maxrss_delta_bytes"])
        # A fresh process per round, as for ours, so that each run's peak RSS starts from scratch.
        child = [sys.executable, os.path.abspath(__file__), "--torch-child"] + [
            a for a in sys.argv[1:] if a not in ("--torch-only", "--torch-child")]
        out = subprocess.run(child, capture_output=True, text=True, check=True).stdout
        t = json.loads(out.strip().splitlines()[-1])
        ms, cpu, peak, rss = t["ms"], t["cpu_ms"], t["peak_bytes"], t["rss"]
        torch_ms.append(ms); torch_cpu.append(cpu); torch_peak.append(peak); torch_rss.append(rss)
        print(f"round {r + 1}: ours {ours_ms[-1] if ours_ms else float('nan'):.1f} ms (cpu {ours_cpu[-1] if ours_cpu else float('nan'):.1f}), torch {ms:.1f} ms (cpu {cpu:.1f})", flush=True)

    med = statistics.median
    mib = lambda b: b / 2 ** 20
    print(f"small DEQ-Transformer training step, batch {args.batch} x {args.length}, vocabulary {args.vocabulary}, "
          f"f_thres {args.f_thres}, b_thres {args.b_thres}, {args.threads} threads, {args.rounds} rounds")
    print(f"{'implementation':<22}{'ms / step':>12}{'CPU ms':>10}{'peak MiB':>12}{'maxRSS growth MiB':>20}")
    if ours_ms:
        print(f"{'equilibrium':<22}{med(ours_ms):>12.1f}{med(ours_cpu):>10.1f}{mib(med(ours_peak)):>12.1f}{mib(med(ours_rss)):>20.1f}")
    print(f"{'pytorch + torchdeq':<22}{med(torch_ms):>12.1f}{med(torch_cpu):>10.1f}{mib(med(torch_peak)):>12.1f}{mib(med(torch_rss)):>20.1f}")
    if ours_ms:
        print(f"ratio (ours / pytorch): time {med(ours_ms) / med(torch_ms):.2f}, CPU time {med(ours_cpu) / med(torch_cpu):.2f}, "
              f"peak memory {med(ours_peak) / med(torch_peak):.2f}")
    if ours_ms:
        # Under load from other processes the best round is the least disturbed one; the per-round
        # ratio compares runs made seconds apart.
        print(f"best round: ours {min(ours_ms):.1f} ms, pytorch {min(torch_ms):.1f} ms, ratio {min(ours_ms) / min(torch_ms):.2f}; "
              f"median of per-round ratios {med([o / t for o, t in zip(ours_ms, torch_ms)]):.2f}")
    print(json.dumps({"ours_ms": ours_ms, "torch_ms": torch_ms, "ours_cpu_ms": ours_cpu, "torch_cpu_ms": torch_cpu,
                      "ours_peak_bytes": ours_peak, "torch_peak_bytes": torch_peak}))


if __name__ == "__main__":
    main()
