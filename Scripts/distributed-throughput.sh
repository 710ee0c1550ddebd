#!/usr/bin/env bash
# Issue 20, acceptance 2: tokens/s of the lstm-lm small preset, 2 MPI ranks × 1 thread against
# 1 process × 1 thread, side by side (rounds interleaved, best of each kept), and the all-reduce
# share of a 2-rank step (the `allreduce_s` of log.jsonl over the training time).
# Usage: Scripts/distributed-throughput.sh [path/to/deq] [rounds] [steps]
set -euo pipefail
DEQ=${1:-.build/release/deq}; ROUNDS=${2:-3}; STEPS=${3:-40}
export EQ_DATA=${EQ_DATA:-/work/shared/data}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 EQ_NUM_THREADS=1
WORK=$(mktemp -d /tmp/eq-dist-speed.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ARGS=(--preset small --dataset wikitext-2 --train-split valid --max-step "$STEPS" --eval-interval 100000
      --final-eval-full false --eval-max-tokens 100 --max-time 100000)
for r in $(seq "$ROUNDS"); do
    "$DEQ" train "${ARGS[@]}" --work-dir "$WORK/one-$r" > /dev/null 2>&1
    mpirun --oversubscribe -np 2 "$DEQ" train "${ARGS[@]}" --work-dir "$WORK/two-$r" > /dev/null 2>&1
done
python3 - "$WORK" "$ROUNDS" <<'PY'
import json, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def read(path):
    steps = [e for e in map(json.loads, open(path)) if e.get("type") == "train"]
    last = steps[-1]
    # tokens_per_s counts the global batch since the loop started; its time is the run's.
    seconds = last["step"] * 700 / last["tokens_per_s"]
    share = sum(e.get("allreduce_s", 0) for e in steps) / seconds
    return last["tokens_per_s"], share
one = [read(f"{work}/one-{r}/log.jsonl") for r in range(1, rounds + 1)]
two = [read(f"{work}/two-{r}/log.jsonl") for r in range(1, rounds + 1)]
for r in range(rounds):
    print(f"round {r + 1}: 1 process {one[r][0]:8.0f} tokens/s   2 ranks {two[r][0]:8.0f} tokens/s   ratio {two[r][0] / one[r][0]:.2f}   all-reduce share {two[r][1]:.1%}")
b1, b2 = max(t for t, _ in one), max(two)
print(f"best: 1 process {b1:.0f} tokens/s, 2 ranks {b2[0]:.0f} tokens/s: {b2[0] / b1:.2f}x; all-reduce {b2[1]:.1%} of a 2-rank step")
PY
