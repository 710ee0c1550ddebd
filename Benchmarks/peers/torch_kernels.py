"""PyTorch peer for `deq bench kernels`: the same workloads, timed the same way.

Warm-up (at least three calls and 0.2 s), then the median of samples of at least 5 ms each,
one JSON object per workload and line. Run with the peers' venv, which lives outside the repo:

    /opt/eqpeers/bin/python Benchmarks/peers/torch_kernels.py --threads 2
"""
import argparse
import json
import time

import torch

LARGE = 1 << 22


def workloads():
    """(name, flops or None, zero-argument call) for every kernel workload, in report order."""
    g = torch.Generator().manual_seed(1)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float32)

    def sgemm(n):
        a, b = randn(n, n), randn(n, n)
        return (f"sgemm_{n}", 2.0 * n ** 3, lambda: torch.matmul(a, b))

    x, y = randn(LARGE), randn(LARGE)
    rows = randn(4096, 1024)
    s1, s2 = randn(8, 8), randn(8, 8)
    return [
        sgemm(64), sgemm(256), sgemm(1024),
        ("add_4M", float(LARGE), lambda: torch.add(x, y)),
        ("tanh_4M", None, lambda: torch.tanh(x)),
        ("sum_4M", float(LARGE), lambda: torch.sum(x)),
        ("softmax_4096x1024", None, lambda: torch.softmax(rows, dim=-1)),
        ("layernorm_4096x1024", None, lambda: torch.nn.functional.layer_norm(rows, (1024,))),
        ("add_8x8_overhead", None, lambda: torch.add(s1, s2)),
    ]


def measure(call, budget=1.0, warm_up=0.2, sample=0.005, min_samples=11, max_samples=201):
    calls, start = 0, time.perf_counter()
    while True:
        call()
        calls += 1
        elapsed = time.perf_counter() - start
        if calls >= 3 and elapsed >= warm_up:
            break
    per_call = max(elapsed / calls, 1e-9)
    per_sample = max(1, int(sample / per_call) + 1)
    count = min(max_samples, max(min_samples, int(budget / (per_call * per_sample))))
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        for _ in range(per_sample):
            call()
        times.append((time.perf_counter() - t0) / per_sample)
    times.sort()
    return times[len(times) // 2], times[0], count, per_sample


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--only", nargs="*", default=[], help="workload names to run")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds of kept samples per workload")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with torch.inference_mode():
        for name, flops, call in workloads():
            if args.only and name not in args.only:
                continue
            median, fastest, count, per_sample = measure(call, budget=args.seconds)
            row = {"name": name, "ms": round(median * 1e3, 6), "min_ms": round(fastest * 1e3, 6)}
            if flops is not None:
                row["gflops"] = round(flops / median / 1e9, 3)
            row.update(samples=count, calls_per_sample=per_sample, threads=torch.get_num_threads())
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
