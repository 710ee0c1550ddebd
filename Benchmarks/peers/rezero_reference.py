"""Checks our RZTXEncoderLayer and RZTXDecoderLayer against the reference `rezero.transformer`
layers (Bachlechner et al.; github.com/majumderb/rezero) given the same float64 weights.

    python3 Benchmarks/peers/rezero_reference.py --reference /work/.mirror/majumderb+rezero/repo \
        [--deq .build/debug/deq] [--tolerance 1e-10]

The reference file `rezero/transformer/rztx.py` is read at run time from the repository given
(a bare mirror is read with `git show HEAD:...`, a checkout directly) into a temporary directory
and imported from there; it is never copied into this project. Patches applied to it for current
PyTorch: none (as of PyTorch 2.15 it imports and runs unchanged).

For each case the script seeds PyTorch, builds the reference layer in float64, sets its residual
weight to a non-zero value (at its initial 0 both layers are the identity and the check would
prove nothing), draws inputs and masks, writes weights, inputs and masks to a safetensors file
(batch first, with our parameter names), runs `deq reference rztx` on it, and compares our output
with the reference's: max |ours - reference| must be below the tolerance. Dropout is off (eval).
Safetensors is read and written here with numpy (the format is a length, a JSON header and raw
little-endian data), so the check needs only torch and numpy.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch

RZTX_PATH = "rezero/transformer/rztx.py"
DTYPES = {"F64": np.float64, "F32": np.float32, "I64": np.int64, "BOOL": np.bool_}
CODES = {np.dtype(v): k for k, v in DTYPES.items()}


def extract_reference(repo: str, into: str) -> None:
    """Copies rztx.py out of a bare mirror or a checkout into `into`."""
    plain = os.path.join(repo, RZTX_PATH)
    if os.path.exists(plain):
        with open(plain) as f:
            source = f.read()
    else:
        source = subprocess.run(["git", "-C", repo, "show", f"HEAD:{RZTX_PATH}"], check=True,
                                capture_output=True, text=True).stdout
    with open(os.path.join(into, "rztx.py"), "w") as f:
        f.write(source)


def write_safetensors(path: str, tensors: dict, metadata: dict) -> None:
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": CODES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path: str) -> dict:
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        lo, hi = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + lo:8 + n + hi], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def our_names(state: dict) -> dict:
    """The reference's parameter names in ours: PyTorch's packed input projection is our `qkv` Linear, `out_proj` our `out`."""
    out = {}
    for name, t in state.items():
        name = name.replace("in_proj_weight", "qkv.weight").replace("in_proj_bias", "qkv.bias").replace("out_proj.", "out.")
        out["layer." + name] = t.detach().numpy()
    return out


def causal_bool(t: int) -> torch.Tensor:
    return torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)


def padding(b: int, s: int, g: torch.Generator) -> torch.Tensor:
    """Pads the last 0..s/2 keys of each sequence (never all of them)."""
    lengths = torch.randint(s - s // 2, s + 1, (b,), generator=g)
    return torch.arange(s)[None, :] >= lengths[:, None]


def make_case(rztx, case: dict, seed: int):
    """The reference layer, its inputs (seq first, as the reference takes them) and ours (batch first)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)
    d, h, ff, act = case["d_model"], case["nhead"], case["ff"], case["activation"]
    b, t, s = 3, 5, 4
    cls = rztx.RZTXEncoderLayer if case["layer"] == "encoder" else rztx.RZTXDecoderLayer
    ref = cls(d, h, dim_feedforward=ff, dropout=0.1, activation=act).double().eval()
    with torch.no_grad():
        ref.resweight.fill_(case["resweight"])
        # PyTorch starts the attention biases at 0; non-zero ones test that they are applied.
        for name, p in ref.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.1, generator=g)
    kwargs, ours = {}, {}
    if case["layer"] == "encoder":
        src = torch.randn(t, b, d, generator=g, dtype=torch.float64)
        args = (src,)
        ours["input.src"] = src.transpose(0, 1).numpy()
        if case.get("mask") == "causal-bool":
            kwargs["src_mask"] = causal_bool(t)
        elif case.get("mask") == "causal-float":
            kwargs["src_mask"] = torch.nn.Transformer.generate_square_subsequent_mask(t, dtype=torch.float64)
        if case.get("padding"):
            kwargs["src_key_padding_mask"] = padding(b, t, g)
    else:
        tgt = torch.randn(t, b, d, generator=g, dtype=torch.float64)
        memory = torch.randn(s, b, d, generator=g, dtype=torch.float64)
        args = (tgt, memory)
        ours["input.tgt"] = tgt.transpose(0, 1).numpy()
        ours["input.memory"] = memory.transpose(0, 1).numpy()
        if case.get("mask"):
            kwargs["tgt_mask"] = causal_bool(t)
            # Per-head masks [B*heads, T, S]: query i may not see memory key j when (i + j + head) % 3 == 0,
            # except key 0, which every query sees.
            idx = torch.arange(b * h)[:, None, None] + torch.arange(t)[None, :, None] + torch.arange(s)[None, None, :]
            m = (idx % 3 == 0)
            m[:, :, 0] = False
            kwargs["memory_mask"] = m
        if case.get("padding"):
            kwargs["tgt_key_padding_mask"] = padding(b, t, g)
            kwargs["memory_key_padding_mask"] = padding(b, s, g)
    for k, v in kwargs.items():
        ours["input." + k] = v.numpy()
    with torch.no_grad():
        expected = ref(*args, **kwargs).transpose(0, 1).numpy()
    ours.update(our_names(ref.state_dict()))
    meta = {"layer": case["layer"], "d_model": str(d), "nhead": str(h), "dim_feedforward": str(ff), "activation": act}
    return ours, meta, expected


CASES = [
    {"name": "encoder relu", "layer": "encoder", "d_model": 8, "nhead": 2, "ff": 16, "activation": "relu", "resweight": 0.7},
    {"name": "encoder gelu causal bool mask", "layer": "encoder", "d_model": 12, "nhead": 3, "ff": 20, "activation": "gelu",
     "resweight": -0.4, "mask": "causal-bool"},
    {"name": "encoder relu causal float mask + key padding", "layer": "encoder", "d_model": 8, "nhead": 4, "ff": 16,
     "activation": "relu", "resweight": 1.3, "mask": "causal-float", "padding": True},
    {"name": "decoder relu", "layer": "decoder", "d_model": 8, "nhead": 2, "ff": 16, "activation": "relu", "resweight": 0.6},
    {"name": "decoder gelu causal + per-head memory mask + key padding", "layer": "decoder", "d_model": 12, "nhead": 3,
     "ff": 24, "activation": "gelu", "resweight": 0.9, "mask": True, "padding": True},
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", required=True, help="the majumderb/rezero repository (bare mirror or checkout)")
    ap.add_argument("--deq", default=".build/debug/deq", help="our deq executable")
    ap.add_argument("--tolerance", type=float, default=1e-10)
    args = ap.parse_args()
    torch.set_num_threads(1)
    # A float causal mask beside a bool padding mask is a case worth checking; PyTorch only warns.
    warnings.filterwarnings("ignore", message="Support for mismatched key_padding_mask")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        extract_reference(args.reference, tmp)
        sys.path.insert(0, tmp)
        import rztx  # noqa: E402  (the reference, extracted above)

        for i, case in enumerate(CASES):
            tensors, meta, expected = make_case(rztx, case, seed=100 + i)
            src, dst = os.path.join(tmp, f"case{i}.safetensors"), os.path.join(tmp, f"out{i}.safetensors")
            write_safetensors(src, tensors, meta)
            subprocess.run([args.deq, "reference", "rztx", "--input", src, "--output", dst], check=True, capture_output=True)
            got = read_safetensors(dst)["output"]
            err = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("inf")
            change = float(np.max(np.abs(expected - tensors.get("input.src", tensors.get("input.tgt")))))
            ok = err < args.tolerance
            failures += not ok
            print(f"{'pass' if ok else 'FAIL'}  {case['name']:58s} max |ours - reference| {err:.2e}"
                  f"  (the layer moves its input by up to {change:.2f})")
    print(f"{len(CASES) - failures}/{len(CASES)} cases within {args.tolerance:g} (float64, torch {torch.__version__})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
