"""Checks Equilibrium's RelationalMemory against the reference PyTorch port
(Deepest-Project/relational-rnn-pytorch, `relational_rnn_general.py`) in float64, given the same
weights: the outputs of every step, the final memory, and the gradients of a scalar loss with
respect to every parameter and the input, for 1 and 4 memory slots and both gate styles.

    python3 Benchmarks/peers/rmc_reference.py \\
        --reference /work/.mirror/Deepest-Project+relational-rnn-pytorch/repo [--deq .build/debug/deq]

The reference file is extracted from the mirror (a git repository) into a temporary
directory at run time; it is never copied into this repository. Patches applied for current
PyTorch (and nothing else):
  1. `q *= (self.key_size ** -0.5)` becomes `q = q * (self.key_size ** -0.5)`: `q` is an output
     of `torch.split`, and PyTorch >= 1.7 refuses in-place changes to views of a function that
     returns several views ("Output 0 of SplitWithSizes is a view and is being modified inplace").

Weights are the reference's own initialisation (seeded) with the layer norms' scales and shifts
and the gate biases moved away from 1 and 0, so that their gradients are not special cases. The
loss is sum(A * outputs) + sum(B * final memory) with fixed random A and B. Exits non-zero when
any difference exceeds --tolerance (default 1e-10, relative to the largest magnitude of the
compared tensor, at least 1).
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

PATCHES = [("q *= (self.key_size ** -0.5)", "q = q * (self.key_size ** -0.5)")]

CASES = [
    # slots, gate style, heads, head size, key size, blocks, MLP layers, input size, batch, steps
    dict(mem_slots=1, gate_style="unit", num_heads=2, head_size=6, key_size=4, num_blocks=1, attention_mlp_layers=3,
         input_size=5, batch=3, steps=4),
    dict(mem_slots=1, gate_style="memory", num_heads=2, head_size=6, key_size=4, num_blocks=2, attention_mlp_layers=2,
         input_size=5, batch=3, steps=4),
    dict(mem_slots=4, gate_style="unit", num_heads=3, head_size=4, key_size=5, num_blocks=2, attention_mlp_layers=3,
         input_size=7, batch=2, steps=5),
    dict(mem_slots=4, gate_style="memory", num_heads=3, head_size=4, key_size=5, num_blocks=1, attention_mlp_layers=2,
         input_size=7, batch=2, steps=5),
]


def extract_reference(mirror, directory):
    source = subprocess.run(["git", "-C", mirror, "show", "HEAD:relational_rnn_general.py"],
                            check=True, capture_output=True, text=True).stdout
    for old, new in PATCHES:
        if old not in source:
            sys.exit(f"the reference no longer contains {old!r}; review the patches in {__file__}")
        source = source.replace(old, new)
    with open(os.path.join(directory, "relational_rnn_general.py"), "w") as f:
        f.write(source)
    sys.path.insert(0, directory)
    import relational_rnn_general
    return relational_rnn_general.RelationalMemory


# safetensors, written and read by hand (the format is an 8-byte header length, a JSON header, raw data).
DTYPES = {"F64": np.float64, "F32": np.float32, "I64": np.int64}


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, t in sorted(tensors.items()):
        a = np.array(t.detach().cpu().numpy(), dtype=np.float64, order="C")  # keeps 0-d shapes
        blob = a.tobytes()
        header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        start, end = e["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + start:8 + n + end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return out


def run_case(RelationalMemory, deq, case, seed, directory):
    torch.manual_seed(seed)
    c = dict(case)
    batch, steps = c.pop("batch"), c.pop("steps")
    model = RelationalMemory(c["mem_slots"], c["head_size"], c["input_size"], num_heads=c["num_heads"],
                             num_blocks=c["num_blocks"], gate_style=c["gate_style"],
                             attention_mlp_layers=c["attention_mlp_layers"], key_size=c["key_size"],
                             return_all_outputs=True).double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layernorm" in name or name.endswith("_bias"):
                p.add_(torch.randn_like(p) * 0.5)
    x = torch.randn(batch, steps, c["input_size"], dtype=torch.float64, requires_grad=True)
    memory = model.initial_state(batch).double() + 0.3 * torch.randn(batch, c["mem_slots"], model.mem_size,
                                                                      dtype=torch.float64)
    output_weight = torch.randn(steps * batch, model.output_size, dtype=torch.float64)
    memory_weight = torch.randn(batch, c["mem_slots"], model.mem_size, dtype=torch.float64)
    out, final = model(x, memory)
    loss = (out * output_weight).sum() + (final * memory_weight).sum()
    loss.backward()

    inputs = {name: t for name, t in model.state_dict().items()}
    inputs.update(input=x, memory=memory, output_weight=output_weight, memory_weight=memory_weight)
    meta = {k: str(v) for k, v in c.items()}
    src, dst = os.path.join(directory, "in.safetensors"), os.path.join(directory, "out.safetensors")
    write_safetensors(src, inputs, meta)
    subprocess.run([deq, "rmc-probe", src, dst], check=True)
    ours = read_safetensors(dst)

    expected = {"output": out, "memory": final, "loss": loss, "grad.input": x.grad}
    # named_parameters lists the shared attention-MLP Linear once, as attention_mlp.0.
    for name, p in model.named_parameters():
        expected["grad." + name] = p.grad
    errors = {}
    for name, t in expected.items():
        ref = t.detach().numpy()
        if name not in ours:
            errors[name] = float("inf")
            continue
        got = ours[name]
        scale = max(1.0, float(np.abs(ref).max()))
        errors[name] = float(np.abs(got.reshape(ref.shape) - ref).max()) / scale
    missing = sorted(set(ours) - set(expected))
    return errors, missing


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True,
                        help="the bare git mirror of Deepest-Project/relational-rnn-pytorch")
    parser.add_argument("--deq", default=".build/debug/deq", help="the deq executable")
    parser.add_argument("--tolerance", type=float, default=1e-10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    failed = False
    with tempfile.TemporaryDirectory() as directory:
        RelationalMemory = extract_reference(args.reference, directory)
        for i, case in enumerate(CASES):
            errors, extra = run_case(RelationalMemory, args.deq, case, args.seed + i, directory)
            worst = max(errors, key=errors.get)
            ok = errors[worst] <= args.tolerance and not extra
            failed |= not ok
            print(f"{'pass' if ok else 'FAIL'}  slots {case['mem_slots']}  gate {case['gate_style']:6}  "
                  f"blocks {case['num_blocks']}  mlp {case['attention_mlp_layers']}: {len(errors)} tensors, "
                  f"worst relative difference {errors[worst]:.2e} ({worst})"
                  + (f"; deq wrote unexpected {extra}" if extra else ""))
            if not ok:
                for name, e in sorted(errors.items()):
                    print(f"    {name}: {e:.2e}")
    print("all cases within", args.tolerance if not failed else "FAILED")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
