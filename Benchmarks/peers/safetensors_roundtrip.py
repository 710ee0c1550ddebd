"""Shows a checkpoint written by Equilibrium loading in Python's `safetensors`.

    python Benchmarks/peers/safetensors_roundtrip.py [path/to/deq]

Runs `deq bench layers --save-checkpoint` to write a small encoder layer with its SGD-momentum
state, loads it with safetensors (numpy and torch), and checks every tensor against the sum
that deq recorded in the metadata."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

deq = sys.argv[1] if len(sys.argv) > 1 else ".build/release/deq"
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "sample.safetensors")
    subprocess.run([deq, "bench", "layers", "--iterations", "1", "--filter", "none",
                    "--save-checkpoint", path], check=True, capture_output=True)
    tensors = load_file(path)
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
        torch_keys = sorted(f.keys())
    assert torch_keys == sorted(tensors), "torch and numpy readers disagree"
    bad = []
    for name, value in sorted(tensors.items()):
        expected = float(meta["sum:" + name])
        got = float(value.astype(np.float64).sum())
        if abs(got - expected) > 1e-9 * max(1.0, abs(expected)):
            bad.append((name, got, expected))
    print(json.dumps({
        "file": os.path.basename(path),
        "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape)} for k, v in sorted(tensors.items())},
        "step": meta["step"],
        "rng": [meta["rng_seed"], meta["rng_offset"]],
        "mismatches": bad,
    }, indent=1))
    sys.exit(1 if bad else 0)
