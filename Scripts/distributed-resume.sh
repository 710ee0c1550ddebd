#!/usr/bin/env bash
# Issue 20, acceptance 3: a 2-rank run SIGKILLed after a checkpoint resumes with
# `mpirun ... deq train --resume` and continues with the same training losses as a 2-rank run that
# never stopped. Usage: Scripts/distributed-resume.sh [path/to/deq]  (default .build/release/deq;
# data from EQ_DATA, else /work/shared/data). Prints the compared steps and exits 1 on a mismatch.
set -euo pipefail
DEQ=${1:-.build/release/deq}
export EQ_DATA=${EQ_DATA:-/work/shared/data}
# Open MPI refuses root unless told; one thread per rank keeps the two ranks on two cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
MPIRUN=(mpirun --oversubscribe -np 2)
WORK=$(mktemp -d /tmp/eq-dist-resume.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# Checkpoints at steps 20, 40, 60; the kill comes after step 25 (checkpoint 20 on disk).
ARGS=(--preset tiny --dataset wikitext-2 --train-split valid --max-step 60 --eval-interval 20 --eval-max-tokens 2000 --seed 3)

"${MPIRUN[@]}" "$DEQ" train "${ARGS[@]}" --work-dir "$WORK/whole" > "$WORK/whole.out" 2>&1

"${MPIRUN[@]}" "$DEQ" train "${ARGS[@]}" --work-dir "$WORK/killed" > "$WORK/killed.out" 2>&1 &
LAUNCHER=$!
until python3 - "$WORK/killed/log.jsonl" <<'PY' 2>/dev/null
import json, sys
steps = [json.loads(l).get("step", 0) for l in open(sys.argv[1]) if '"train"' in l]
sys.exit(0 if steps and max(steps) >= 25 else 1)
PY
do sleep 0.2; done
# SIGKILL every rank (found by this run's unique work directory), then the launcher.
for pid in $(pgrep -f -- "--work-dir $WORK/killed"); do
    [ "$pid" != "$LAUNCHER" ] && kill -9 "$pid" 2>/dev/null || true
done
wait "$LAUNCHER" 2>/dev/null || true
echo "killed after step $(python3 -c "import json,sys; print(max(json.loads(l)['step'] for l in open(sys.argv[1]) if '\"train\"' in l))" "$WORK/killed/log.jsonl")"

"${MPIRUN[@]}" "$DEQ" train --resume --work-dir "$WORK/killed" > "$WORK/resumed.out" 2>&1
grep -h "resumed from" "$WORK/resumed.out"

python3 - "$WORK/whole/log.jsonl" "$WORK/killed/log.jsonl" <<'PY'
import json, sys
def losses(path):
    return {e["step"]: e["loss"] for e in map(json.loads, open(path)) if e.get("type") == "train"}
whole, resumed = losses(sys.argv[1]), losses(sys.argv[2])
assert sorted(whole) == sorted(resumed) == list(range(1, 61)), (sorted(whole), sorted(resumed))
bad = [s for s in whole if whole[s] != resumed[s]]
for s in (20, 21, 25, 26, 40, 60):
    print(f"step {s}: uninterrupted {whole[s]!r}  killed+resumed {resumed[s]!r}")
print("identical losses for steps 1-60" if not bad else f"MISMATCH at steps {bad}")
sys.exit(1 if bad else 0)
PY
