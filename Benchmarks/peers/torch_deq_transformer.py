#!/usr/bin/env python3
"""One training step of the small DEQ-Transformer preset in PyTorch + torchdeq, side by side with
`deq bench deq-transformer --json`, and the ratio of the two.

The model is the reference architecture (locuslab/deq, DEQ-Sequence/models/deq_transformer.py),
as ours is, with the small preset's sizes (Sources/Models/DEQTransformerPresets.swift): adaptive
input (cutoffs [2000, 10000], div_val 4, scaled by sqrt(d)), the injection u = inject_conv(x) of
width 3d added to the block's Q/K/V pre-activations, and the weight-tied post-norm block

    [q; k; v] = W_qkv [z_mem; z] + [u_mem; u],  h = LN(Drop(o_net(Attn(q, k, v))) + z),
    f(z) = LN(h + Drop(ff2(Drop(relu(ff1(h))))))

with LN without scale or shift, every projection weight-normalised (dim 0), Transformer-XL
relative attention (r_w_bias, r_r_bias, r_net over sinusoidal encodings, the pad-and-reshape
shift, causal mask), the memory holding states and injections, dropout at the reference's sites
(masks held over the solve), and Transformer-XL's projected adaptive softmax (tied to the
embedding, tie_projs F,T,T, head and tail biases). The equilibrium is solved by torchdeq's
Anderson (window 5) with tolerance 0, so every forward and backward iteration runs, and the
backward is the implicit (IFT) one. The optimizer is Adam.

`--check-reference MIRROR` checks instead that this model is ours: the authors' model with seeded
weights gives one state dict, loaded here (`load_reference`) and into ours (`deq reference-check`),
and f, the fixed points and the losses on WikiText-2 test windows are compared in float64.

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


def variational_mask(shape, p, like):
    return torch.bernoulli(torch.full(shape, 1 - p, dtype=like.dtype)) / (1 - p)


class HeldDropout(nn.Module):
    """Dropout whose mask (of `shape(x)`, broadcast against x) is drawn at reset() and held across
    the solver's iterations, as the reference's VariationalHidDropout / VariationalAttnDropout."""

    def __init__(self, p, shape):
        super().__init__()
        self.p, self.shape, self.mask = p, shape, None

    def reset(self):
        self.mask = None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.mask is None:
            self.mask = variational_mask(self.shape(x), self.p, x)
        return x * self.mask


class AdaptiveEmbedding(nn.Module):
    """Transformer-XL's adaptive input (utils/adaptive_embedding.py): cluster i has d_embed/div^i
    features and a projection to d_proj; the sum is scaled by sqrt(d_proj)."""

    def __init__(self, vocab, d_embed, d_proj, cutoffs, div):
        super().__init__()
        self.bounds, self.d_proj, self.div = [0] + list(cutoffs) + [vocab], d_proj, div
        self.emb_layers, self.emb_projs = nn.ModuleList(), nn.ModuleList()
        if div == 1:
            self.emb_layers.append(nn.Embedding(vocab, d_embed))
            if d_proj != d_embed:
                self.emb_projs.append(nn.Linear(d_embed, d_proj, bias=False))
        else:
            for i in range(len(self.bounds) - 1):
                di = d_embed // div ** i
                self.emb_layers.append(nn.Embedding(self.bounds[i + 1] - self.bounds[i], di))
                self.emb_projs.append(nn.Linear(di, d_proj, bias=False))
        self.scale = d_proj ** 0.5

    def forward(self, tokens):
        if self.div == 1:
            e = self.emb_layers[0](tokens)
            return (self.emb_projs[0](e) if len(self.emb_projs) else e) * self.scale
        flat = tokens.reshape(-1)
        out = torch.zeros(flat.numel(), self.d_proj, dtype=self.emb_projs[0].weight.dtype)
        for i in range(len(self.emb_layers)):
            lo, hi = self.bounds[i], self.bounds[i + 1]
            idx = ((flat >= lo) & (flat < hi)).nonzero().squeeze(1)
            if idx.numel():
                out = out.index_add(0, idx, self.emb_projs[i](self.emb_layers[i](flat[idx] - lo)))
        return (out * self.scale).view(*tokens.shape, self.d_proj)


class ProjectedAdaptiveLogSoftmax(nn.Module):
    """Transformer-XL's projected adaptive softmax (utils/proj_adaptive_softmax.py): the head scores
    the shortlist and the clusters (cluster i's logit in the head's column -i), with biases
    everywhere and a projection d_proj -> d_emb_i per cluster (the transposed weight of a
    Linear(d_emb_i, d_proj)); ties to the embedding as the reference's tie_weights / tie_projs."""

    def __init__(self, vocab, d_embed, d_proj, cutoffs, div, embedding, tied, tie_projs):
        super().__init__()
        self.bounds, self.div, self.clusters = [0] + list(cutoffs) + [vocab], div, len(cutoffs)
        if self.clusters:
            self.cluster_weight = nn.Parameter(torch.zeros(self.clusters, d_embed))
            self.cluster_bias = nn.Parameter(torch.zeros(self.clusters))
        self.out_layers, self.projs = nn.ModuleList(), []
        sizes = [d_embed] if div == 1 else [d_embed // div ** i for i in range(self.clusters + 1)]
        for i, di in enumerate(sizes):
            layer = nn.Linear(di, vocab if div == 1 else self.bounds[i + 1] - self.bounds[i])
            if tied:
                layer.weight = embedding.emb_layers[i].weight
            self.out_layers.append(layer)
        self.own_projs = nn.ParameterDict()
        for i in range(self.clusters + 1):
            shared = embedding.emb_projs[0 if div == 1 else i] if len(embedding.emb_projs) else None
            if shared is None:
                self.projs.append(None)
            elif tie_projs[i]:
                self.projs.append(shared.weight)
            else:
                self.own_projs[str(i)] = nn.Parameter(shared.weight.detach().clone())
                self.projs.append(None)
        self.tie_projs = tie_projs

    def proj(self, i):
        return self.own_projs[str(i)] if str(i) in self.own_projs else self.projs[i]

    def logits(self, h, i):
        w, b = (self.out_layers[i].weight, self.out_layers[i].bias) if self.div > 1 else (
            self.out_layers[0].weight[self.bounds[i]:self.bounds[i + 1]], self.out_layers[0].bias[self.bounds[i]:self.bounds[i + 1]])
        if i == 0 and self.clusters:
            w, b = torch.cat([w, self.cluster_weight]), torch.cat([b, self.cluster_bias])
        p = self.proj(i)
        return F.linear(h if p is None else h @ p, w, b)

    def forward(self, h, targets):
        """Mean negative log-likelihood of targets [N] given h [N, d_proj]."""
        head = F.log_softmax(self.logits(h, 0), dim=-1)
        if not self.clusters:
            return -head.gather(1, targets[:, None]).mean()
        total = h.new_zeros(())
        for i in range(self.clusters + 1):
            lo, hi = self.bounds[i], self.bounds[i + 1]
            idx = ((targets >= lo) & (targets < hi)).nonzero().squeeze(1)
            if idx.numel() == 0:
                continue
            t = targets[idx] - lo
            if i == 0:
                total = total - head[idx].gather(1, t[:, None]).sum()
            else:
                tail = F.log_softmax(self.logits(h[idx], i), dim=-1)
                total = total - (head[idx, -i] + tail.gather(1, t[:, None]).squeeze(1)).sum()
        return total / targets.numel()


def layer_norm(x):
    return F.layer_norm(x, x.shape[-1:])


class DEQTransformerCell(nn.Module):
    """The reference's RelPartialLearnableDecoderLayer (post-norm):
        [q; k; v] = W_qkv [z_mem; z] + [u_mem; u],  a = Drop(o_net(Attn(q, k, v)))
        h = LN(a + z),  f(z) = LN(h + Drop2(ff2(Drop1(relu(ff1(h))))))
    LN without scale or shift; every projection weight-normalised (dim 0); Transformer-XL relative
    attention (r_w_bias, r_r_bias, r_net over the position encodings, pad-and-reshape shift),
    causal mask and a local window of local_size keys."""

    def __init__(self, d, heads, d_inner, dropout, dropatt, local_size=1000):
        super().__init__()
        self.d, self.h, self.dh, self.local_size = d, heads, d // heads, local_size
        wn = lambda m: nn.utils.parametrizations.weight_norm(m, dim=0)
        self.qkv_net, self.r_net = wn(nn.Linear(d, 3 * d, bias=False)), wn(nn.Linear(d, d, bias=False))
        self.o_net = wn(nn.Linear(d, d))
        self.ff1_net, self.ff2_net = wn(nn.Linear(d, d_inner)), wn(nn.Linear(d_inner, d))
        self.r_w_bias = nn.Parameter(torch.randn(heads, self.dh) * 0.01)
        self.r_r_bias = nn.Parameter(torch.randn(heads, self.dh) * 0.01)
        per_sequence_feature = lambda x: (x.shape[0], 1, x.shape[2])
        self.dropatt = HeldDropout(dropatt, lambda x: x.shape)
        self.drop, self.drop1, self.drop2 = (HeldDropout(dropout, per_sequence_feature) for _ in range(3))

    def reset(self):
        for m in (self.dropatt, self.drop, self.drop1, self.drop2):
            m.reset()

    @staticmethod
    def rel_shift(x):
        *lead, q, k = x.shape
        padded = torch.cat([x.new_zeros(*lead, q, 1), x], dim=-1)
        return padded.view(*lead, k + 1, q)[..., 1:, :].reshape(*lead, q, k)

    def forward(self, z, u, memory, pos):
        """z [B, T, d], u [B, M + T, 3d], memory [B, M, d], pos [M + T, d] (dropped encodings)."""
        b, t, _ = z.shape
        m = memory.shape[1]
        k = t + m
        q, key, val = (self.qkv_net(torch.cat([memory, z], dim=1)) + u).chunk(3, dim=-1)
        split = lambda y: y.reshape(b, -1, self.h, self.dh).transpose(1, 2)
        q, key, val = split(q[:, m:]), split(key), split(val)
        ac = (q + self.r_w_bias[:, None]) @ key.transpose(-1, -2)
        rk = self.r_net(pos).view(k, self.h, self.dh).permute(1, 2, 0)
        bd = self.rel_shift((q + self.r_r_bias[:, None]) @ rk)
        scores = (ac + bd) * (1 / math.sqrt(self.dh))
        i, j = torch.arange(t)[:, None] + m, torch.arange(k)[None, :]
        scores = scores.masked_fill((j > i) | (i - j >= self.local_size), -1e30)
        ctx = self.dropatt(scores.softmax(-1)) @ val
        h = layer_norm(self.drop(self.o_net(ctx.transpose(1, 2).reshape(b, t, self.d))) + z)
        return layer_norm(h + self.drop2(self.ff2_net(self.drop1(F.relu(self.ff1_net(h))))))


class DEQTransformerLM(nn.Module):
    """locuslab/deq's DEQTransformerLM (post-norm, wnorm, tied), the memory holding the previous
    positions' equilibrium states and injections, in PyTorch + torchdeq: Anderson (window 5)
    forward and the implicit (IFT) backward solved by Anderson."""

    def __init__(self, vocab, d=128, heads=4, d_inner=512, dropout=0.1, dropatt=0.0, cutoffs=(2000, 10000), div=4,
                 d_embed=None, tied=True, tie_projs=None, f_thres=12, b_thres=12, f_tol=0.0, stop_mode="abs"):
        super().__init__()
        d_embed = d_embed or d
        tie_projs = tie_projs or [False] + [True] * len(cutoffs)
        self.d, self.dropout = d, dropout
        self.word_emb = AdaptiveEmbedding(vocab, d_embed, d, cutoffs, div)
        self.inject_conv = nn.Linear(d, 3 * d)
        self.register_buffer("inv_freq", 1 / 10000 ** (torch.arange(0, d, 2.0) / d))
        self.pos_drop = HeldDropout(dropout, lambda x: (1, x.shape[1]))
        self.func = DEQTransformerCell(d, heads, d_inner, dropout, dropatt)
        self.crit = ProjectedAdaptiveLogSoftmax(vocab, d_embed, d, cutoffs, div, self.word_emb, tied, tie_projs)
        self.deq = get_deq(f_solver="anderson", f_max_iter=f_thres, f_tol=f_tol, f_stop_mode=stop_mode,
                           b_solver="anderson", b_max_iter=b_thres, b_tol=f_tol, b_stop_mode=stop_mode, ift=True)

    def drop(self, x, shared_axis):
        """The reference's VariationalDropout (a fresh mask per call, shared over one axis)."""
        if not self.training or self.dropout == 0:
            return x
        shape = list(x.shape)
        shape[shared_axis] = 1
        return x * variational_mask(shape, self.dropout, x)

    def injections(self, tokens):
        return self.inject_conv(self.drop(self.word_emb(tokens), 1))

    def positions(self, k):
        angles = torch.arange(k - 1, -1, -1.0, dtype=self.inv_freq.dtype)[:, None] * self.inv_freq[None, :]
        return self.pos_drop(torch.cat([angles.sin(), angles.cos()], dim=1))

    def equilibrium(self, tokens, memory):
        """z* [B, T, d] given tokens [B, T] and memory (states [B, M, d], injections [B, M, 3d])."""
        states, past = memory
        u = torch.cat([past, self.injections(tokens)], dim=1)
        self.func.reset()
        self.pos_drop.reset()
        pos = self.positions(u.shape[1])
        zs, _ = self.deq(lambda z: self.func(z, u, states, pos), torch.zeros(*tokens.shape, self.d, dtype=u.dtype),
                         solver_kwargs={"m": 5})
        return zs[-1], u

    def forward(self, tokens, targets, memory):
        z, _ = self.equilibrium(tokens, memory)
        h = self.drop(z, 2)
        return self.crit(h.reshape(-1, self.d), targets.reshape(-1))

    def load_reference(self, state):
        """Loads a reference state dict (DEQTransformerLM.state_dict() of locuslab/deq, or `deq export`'s)."""
        own = dict(self.named_parameters(remove_duplicate=False)) | dict(self.named_buffers())
        names = {"pos_emb.inv_freq": "inv_freq"}
        for key in state:
            name = key.replace("func.dec_attn.", "func.").replace("func.pos_ff.", "func.")
            for suffix, ours in ((".weight_g", ".parametrizations.weight.original0"), (".weight_v", ".parametrizations.weight.original1")):
                name = name.replace(suffix, ours)
            if name.startswith("crit.out_projs."):
                i = name.split(".")[2]
                if i in self.crit.own_projs:
                    name = f"crit.own_projs.{i}"
                else:
                    continue   # tied to the embedding's projection, which loads it
            names[key] = names.get(key, name)
        with torch.no_grad():
            for key, name in names.items():
                if name not in own:
                    raise KeyError(f"the reference entry {key} has no place ({name}) in the peer")
                own[name].copy_(state[key].reshape(own[name].shape))


def check_against_ours(args):
    """Float64: the authors' model (seeded weights) → its state dict → this peer (load_reference)
    and ours (`deq reference-check`); compares f (one application, without and with memory), the
    fixed points and the per-window losses on WikiText-2 test windows, the memory carried."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import deq_transformer_reference as ref_check
    torch.set_default_dtype(torch.float64)
    DEQ, anderson = ref_check.extract_reference(args.check_reference)
    windows, batch, length = 3, 4, 16
    tokens, vocabulary = ref_check.wikitext_windows(args.data, windows, batch, length)
    worst = 0.0
    print(f"peer vs ours (and vs the authors' model), float64, d_model 32, 4 heads, d_inner 64, mem_len {length}, "
          f"{windows} WikiText-2 test windows of {batch} x {length}; relative errors peer-ours (peer-reference)")
    for name, spec in ref_check.CONFIGS.items():
        if "untied" in name:
            continue   # the bench model is tied; the peer takes the tied layouts
        config = dict(d_model=32, n_head=4, d_inner=64, d_embed=32, mem_len=length, **spec)
        ref, state, check_z, mem_z, mem_u = ref_check.reference_run(DEQ, anderson, config, tokens, vocabulary,
                                                                    torch.float64, 1e-12, True, 11)
        ours = ref_check.ours_run(args.deq, state, tokens, check_z, mem_z, mem_u, config, vocabulary, 1e-12, True)
        peer = DEQTransformerLM(vocabulary, d=32, heads=4, d_inner=64, dropout=0.0, cutoffs=spec["cutoffs"], div=spec["div_val"],
                                tied=spec["tied"], tie_projs=spec["tie_projs"], f_thres=400, b_thres=400, f_tol=1e-12,
                                stop_mode="rel").double()
        peer.load_reference(state)
        peer.eval()
        d = 32
        with torch.no_grad():
            empty = (torch.zeros(batch, 0, d), torch.zeros(batch, 0, 3 * d))
            f = peer.func(check_z, peer.injections(tokens[0, :, :length]), empty[0], peer.positions(length))
            u = torch.cat([mem_u, peer.injections(tokens[1, :, :length])], dim=1)
            f_memory = peer.func(check_z, u, mem_z, peer.positions(u.shape[1]))
            memory, fixed, losses = empty, [], []
            for w in range(windows):
                z, u = peer.equilibrium(tokens[w, :, :length], memory)
                losses.append(peer.crit(z.reshape(-1, d), tokens[w, :, 1:].reshape(-1)).item())
                fixed.append(z)
                memory = (torch.cat([memory[0], z], dim=1)[:, -length:], u[:, -length:])
        fixed, losses = torch.stack(fixed), torch.tensor(losses)
        loss_rel = lambda a, b: (abs(a.double() - b.double()) / abs(b.double())).max().item()
        e = {"f": (ref_check.rel(f, ours["f_check"]), ref_check.rel(f, ref["f_check"])),
             "f+mem": (ref_check.rel(f_memory, ours["f_check_memory"]), ref_check.rel(f_memory, ref["f_check_memory"])),
             "z*": (max(ref_check.rel(fixed[w], ours["fixed_points"][w]) for w in range(windows)),
                    max(ref_check.rel(fixed[w], ref["fixed_points"][w]) for w in range(windows))),
             "loss": (loss_rel(losses, ours["losses"]), loss_rel(losses, ref["losses"]))}
        worst = max([worst] + [v for pair in e.values() for v in pair])
        print(f"{name:<42}" + "  ".join(f"{k} {a:.1e} ({b:.1e})" for k, (a, b) in e.items())
              + f"  losses peer {losses.tolist()[0]:.6f} ours {float(ours['losses'][0]):.6f}", flush=True)
    print(f"worst {worst:.1e} (target 1e-10): {'passed' if worst < 1e-10 else 'FAILED'}")
    sys.exit(0 if worst < 1e-10 else 1)


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
    # The reference training script's initialisation, as ours: N(0, 0.01) embeddings, projections
    # and injection, zero biases (weight-normalised weights keep PyTorch's default).
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith(("word_emb.", "inject_conv.weight", "crit.own_projs", "crit.cluster_weight")):
                p.normal_(0, 0.01)
            elif name.endswith("bias") and not name.startswith("func.r_"):
                p.zero_()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    tokens = torch.randint(0, args.vocabulary, (args.batch, args.length))
    targets = torch.randint(0, args.vocabulary, (args.batch, args.length))
    # As `deq bench deq-transformer`: a random memory of as many positions (states and injections).
    memory = (torch.randn(args.batch, args.length, 128), torch.randn(args.batch, args.length, 3 * 128))

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
    ap.add_argument("--check-reference", metavar="MIRROR",
                    help="instead of timing: check the peer against ours and the authors' model (locuslab/deq mirror)")
    ap.add_argument("--data", default="../shared/data/wikitext-2", help="WikiText-2 folder (with --check-reference)")
    ap.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.check_reference:
        return check_against_ours(args)
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
