#!/usr/bin/env bash
# Times the kernel workloads three ways in one run, on the same machine and thread count:
# ours (`deq bench kernels --json`), plain-C cblas_sgemm (the sgemm_* rows) and PyTorch.
# Each tool runs ROUNDS times, interleaved, and each keeps its best median, so a burst of
# load from other processes during one round does not decide a ratio.
#
#   Benchmarks/peers/compare_kernels.sh [--threads N] [--rounds R] [--markdown]
#
# Needs: a release build of deq (`swift build -c release --product deq`), cc and OpenBLAS,
# and a Python with torch (PYTHON, default /opt/eqpeers/bin/python).
set -euo pipefail
cd "$(dirname "$0")/../.."

THREADS=2
ROUNDS=3
FORMAT=text
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) THREADS="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --markdown) FORMAT=markdown; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "compare_kernels.sh: unknown argument '$1'; use --threads N, --rounds R or --markdown" >&2; exit 2 ;;
    esac
done
PYTHON="${PYTHON:-/opt/eqpeers/bin/python}"
DEQ="${DEQ:-.build/release/deq}"
[ -x "$DEQ" ] || { echo "compare_kernels.sh: $DEQ is missing; build it with 'swift build -c release --product deq'" >&2; exit 1; }
"$PYTHON" -c "import torch" 2>/dev/null || { echo "compare_kernels.sh: $PYTHON cannot import torch; set PYTHON to a Python with torch" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cc -O2 Benchmarks/peers/cblas_sgemm.c -o "$WORK/cblas_sgemm" -lopenblas

export EQ_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r/$ROUNDS: ours" >&2
    "$DEQ" bench kernels --json --threads "$THREADS" >> "$WORK/ours.jsonl"
    echo "round $r/$ROUNDS: cblas_sgemm" >&2
    "$WORK/cblas_sgemm" >> "$WORK/cblas.jsonl"
    echo "round $r/$ROUNDS: torch" >&2
    "$PYTHON" Benchmarks/peers/torch_kernels.py --threads "$THREADS" >> "$WORK/torch.jsonl"
done

LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
CPU="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
TORCH_VERSION="$("$PYTHON" -c 'import torch; print(torch.__version__)')"
python3 - "$WORK" "$FORMAT" "$THREADS" "$ROUNDS" "$CPU" "$TORCH_VERSION" "$LOAD_BEFORE" "$LOAD_AFTER" <<'PY'
import json, sys, datetime
work, fmt, threads, rounds, cpu, torch_version, load_before, load_after = sys.argv[1:9]

def best(path):
    """Per workload, the round with the lowest median."""
    rows = {}
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if r["name"] not in rows or r["ms"] < rows[r["name"]]["ms"]:
            rows[r["name"]] = r
    return rows

ours, cblas, torch = best(f"{work}/ours.jsonl"), best(f"{work}/cblas.jsonl"), best(f"{work}/torch.jsonl")
lines = []
header = ["workload", "ours ms", "C cblas ms", "PyTorch ms", "ours GFLOP/s", "C GFLOP/s", "PyTorch GFLOP/s", "ratio", "target", "ok", "ratio of best samples"]
failures = 0
for name, o in ours.items():
    c, t = cblas.get(name), torch.get(name)
    gf = lambda r: f"{r['gflops']:.1f}" if r and "gflops" in r else "-"
    ms = lambda r: (f"{r['ms']:.4f}" if r["ms"] >= 0.01 else f"{r['ms']:.6f}") if r else "-"
    if name.startswith("sgemm") and c:
        # The foundation issue asks 0.9x for sgemm_256 and sgemm_1024; the project-wide figure
        # for every GEMM is 0.85x of the same OpenBLAS call.
        ratio = o["gflops"] / c["gflops"]
        floor = 0.85 if name == "sgemm_64" else 0.9
        ratio_s, target, ok = f"{ratio:.2f}x C GFLOP/s", f">= {floor}x", ratio >= floor
    elif name.endswith("_overhead"):
        us = o["ms"] * 1e3
        ratio_s, target, ok = f"{us:.2f} us" + (f" ({o['ms'] / t['ms']:.2f}x PyTorch time)" if t else ""), "<= 2 us", us <= 2.0
    elif t:
        ratio = o["ms"] / t["ms"]
        ratio_s, target, ok = f"{ratio:.2f}x PyTorch time", "<= 1.1x", ratio <= 1.1
    else:
        ratio_s, target, ok = "-", "-", True
    # The fastest single sample of each tool: less sensitive to other processes than the median.
    peer = c if name.startswith("sgemm") and c else t
    best_s = f"{o['min_ms'] / peer['min_ms']:.2f}x" if peer and "min_ms" in peer else "-"
    failures += not ok
    lines.append([name, ms(o), ms(c), ms(t), gf(o), gf(c), gf(t), ratio_s, target, "yes" if ok else "NO", best_s])

date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
print(f"{date}; CPU: {cpu}; threads: {threads}; best median of {rounds} interleaved rounds; PyTorch {torch_version}")
print(f"load average (1/5/15 min) before: {load_before}, after: {load_after}")
if fmt == "markdown":
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for l in lines:
        print("| " + " | ".join(l) + " |")
else:
    widths = [max(len(str(r[i])) for r in [header] + lines) for i in range(len(header))]
    for r in [header] + lines:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))
print(f"{len(lines) - failures}/{len(lines)} workloads meet their target (medians; the last column is ours / peer for the")
print("fastest samples, a time ratio: below 1 is faster than the peer)")
PY
