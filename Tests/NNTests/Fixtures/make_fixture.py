"""Writes tiny.safetensors with Python's `safetensors` (run with the /opt/eqpeers venv).

The Swift test NNTests/CheckpointTests reads it and checks every value below."""
import numpy as np
from safetensors.numpy import save_file

tensors = {
    "weight": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
    "bias": np.array([-1.5, 0.25], dtype=np.float64),
    "ids": np.array([[1, -2], [3, 40000000000]], dtype=np.int64),
    "mask": np.array([True, False, True]),
    "scalar": np.array(3.5, dtype=np.float32),
}
save_file(tensors, "tiny.safetensors", metadata={"step": "7", "note": "written by python safetensors"})
