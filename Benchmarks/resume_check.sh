#!/usr/bin/env bash
# Kills a training run with SIGKILL midway, resumes it, and compares its per-step losses with an
# uninterrupted run of the same configuration (bit-exact on one thread).
#
# Usage: Benchmarks/resume_check.sh [DEQ_BINARY] [DATA_DIR]
# Environment: STEPS (default 60), KILL_AFTER_STEP (default 45), EVAL_INTERVAL (default 20).
set -euo pipefail
DEQ=${1:-.build/release/deq}
DATA=${2:-../shared/data}
STEPS=${STEPS:-60}
KILL_AFTER_STEP=${KILL_AFTER_STEP:-45}
EVAL_INTERVAL=${EVAL_INTERVAL:-20}
export EQ_NUM_THREADS=1
WORK=$(mktemp -d)
ARGS=(--model lstm-lm --preset small --data "$DATA" --dataset wikitext-2 --train-split valid
      --max-step "$STEPS" --eval-interval "$EVAL_INTERVAL" --eval-max-tokens 2000 --final-eval-full false --max-time 100000 --log-interval 1000)

echo "uninterrupted run: $STEPS steps"
"$DEQ" train "${ARGS[@]}" --work-dir "$WORK/whole" > "$WORK/whole.out"

echo "interrupted run: SIGKILL after step $KILL_AFTER_STEP is logged"
"$DEQ" train "${ARGS[@]}" --work-dir "$WORK/split" > "$WORK/split.out" &
PID=$!
until grep -q "\"step\":$KILL_AFTER_STEP," "$WORK/split/log.jsonl" 2>/dev/null; do sleep 0.2; done
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
echo "killed after step $(grep -c '"type":"train"' "$WORK/split/log.jsonl") was logged"
"$DEQ" train "${ARGS[@]}" --work-dir "$WORK/split" --resume | grep -E "resumed" || true

python3 - "$WORK/whole/log.jsonl" "$WORK/split/log.jsonl" <<'PY'
import json, sys
def losses(path):
    return {e["step"]: e["loss"] for e in map(json.loads, open(path)) if e["type"] == "train"}
a, b = losses(sys.argv[1]), losses(sys.argv[2])
same = [s for s in a if s in b and a[s] == b[s]]
diff = [s for s in a if s not in b or a[s] != b[s]]
print(f"steps compared: {len(a)}; identical losses: {len(same)}; differing: {diff[:10]}")
sys.exit(1 if diff else 0)
PY
rm -rf "$WORK"
