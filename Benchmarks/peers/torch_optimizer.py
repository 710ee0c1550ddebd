"""PyTorch's peer of `deq bench optimizer`: one Adam / AdamW / SGD-momentum step over 16
Linear(1024, 1024) layers (float32, fixed random gradients), in ns per parameter, for the
fused, foreach and per-parameter (for-loop) implementations. Best of --rounds, 1 thread unless
--threads says otherwise.

    python3 Benchmarks/peers/torch_optimizer.py --layers 16 --width 1024 --rounds 7
"""
import argparse
import json
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(5)
    net = torch.nn.Sequential(*[torch.nn.Linear(args.width, args.width) for _ in range(args.layers)])
    for p in net.parameters():
        p.grad = torch.randn_like(p) * 1e-2
    n = sum(p.numel() for p in net.parameters())
    makers = {
        "adam": lambda **k: torch.optim.Adam(net.parameters(), lr=1e-4, **k),
        "adamw": lambda **k: torch.optim.AdamW(net.parameters(), lr=1e-4, **k),
        "sgd-momentum": lambda **k: torch.optim.SGD(net.parameters(), lr=1e-4, momentum=0.9, **k),
    }
    for name, make in makers.items():
        forms = {"fused": dict(fused=True), "foreach": dict(foreach=True), "for-loop": dict(foreach=False)}
        opts = {}
        for form, kw in forms.items():
            try:
                opts[form] = make(**kw)
                opts[form].step()  # warm-up: creates the state
            except (RuntimeError, TypeError, ValueError):
                pass
        best = {form: float("inf") for form in opts}
        with torch.no_grad():
            for _ in range(args.rounds):
                for form, opt in opts.items():
                    t0 = time.perf_counter()
                    opt.step()
                    best[form] = min(best[form], time.perf_counter() - t0)
        row = {"name": f"optimizer_{name}", "parameters": n, "threads": args.threads}
        row.update({f"{form}_ns_per_param": round(t * 1e9 / n, 3) for form, t in best.items()})
        print(json.dumps(row))


if __name__ == "__main__":
    main()
