#!/usr/bin/env python3
"""Runs scipy.optimize.anderson, broyden1 and newton_krylov on the `deq bench solvers` suite.

The problems are not re-generated here: `deq bench solvers --export DIR` writes each problem's
arrays (raw little-endian float64) and a JSON description, and this script loads them, so both
sides solve exactly the same systems. The stopping rule is the same on both sides: max-norm of
f(x) - x (fixed-point problems) or g(x) (root problems) below --tol. Each call of F counts as one
function evaluation (newton_krylov's finite-difference Jacobian products call F, so they count).

Usage (single-threaded on both sides, our runs interleaved with scipy's problem by problem):
  .build/release/deq bench solvers --export /tmp/eq-solvers --problem none
  EQ_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /opt/eqpeers/bin/python Benchmarks/peers/scipy_solvers.py \
      --data /tmp/eq-solvers --deq .build/release/deq --repeats 3
or compare with a saved run: --ours FILE (JSON lines from deq bench solvers --json).
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np
import scipy.optimize as so


def load(data_dir, name):
    meta = json.load(open(os.path.join(data_dir, name + ".json")))
    arrays = {k: np.fromfile(os.path.join(data_dir, f"{name}-{k}.f64"), dtype="<f8").reshape(shape)
              for k, shape in meta["arrays"].items()}
    x0 = np.fromfile(os.path.join(data_dir, f"{name}-x0.f64"), dtype="<f8").reshape(meta["shape"])
    return meta, arrays, x0


def residual_map(name, arrays, shape):
    """F(x) whose zero is wanted, on the flattened batch (scipy solves one big system)."""
    if name.startswith("linear"):
        a, b = arrays["A"], arrays["b"].ravel()
        return lambda x: a @ x + b - x
    if name.startswith("tanh"):
        w, u, inp = arrays["W"], arrays["U"], arrays["x"]
        injection = inp @ u.T
        wt = np.ascontiguousarray(w.T)

        def f(z):
            z2 = z.reshape(shape)
            return (np.tanh(z2 @ wt + injection) - z2).ravel()
        return f
    if name == "broyden-tridiagonal":
        def g(x):
            left = np.concatenate(([0.0], x[:-1]))
            right = np.concatenate((x[1:], [0.0]))
            return (3 - 2 * x) * x - left - 2 * right + 1
        return g
    if name == "chandrasekhar-h":
        n = shape[-1]
        mu = (np.arange(n) + 0.5) / n
        a = 0.9 / (2 * n) * mu[:, None] / (mu[:, None] + mu[None, :])
        return lambda x: 1 / (1 - a @ x) - x
    if name == "deq-transformer":
        return deq_transformer_residual(arrays, shape)
    raise ValueError(f"unknown problem {name}; re-export with the current deq")


def layer_norm(x, weight, bias, eps):
    """Layer norm over the last axis; weight and bias None for none (the DEQ-Transformer's)."""
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    y = centred / np.sqrt(var + eps)
    return y if weight is None else y * weight + bias


def relative_shift(x):
    """Transformer-XL's shift as MultiHeadAttention.relativeShift does it: scores indexed by
    (query i, distance slot s), slot s holding distance K-1-s, become scores indexed by
    (query i, key j). Pad one zero column in front, view the rows as [K+1, Q], drop the first
    row, view as [Q, K]."""
    *lead, q, k = x.shape
    padded = np.concatenate((np.zeros(tuple(lead) + (q, 1)), x), axis=-1)
    return padded.reshape(tuple(lead) + (k + 1, q))[..., 1:, :].reshape(tuple(lead) + (q, k))


def deq_transformer_map(a):
    """f(z) of the DEQ-Transformer block (no memory) from the exported effective weights, as Bai
    et al. define it: [q; k; v] = z W_qkv + u (u the input injection), h = LN(z + Attn), f(z) =
    LN(h + FF(h)), with layer norms without scale or shift and causal multi-head attention with
    Transformer-XL relative positions."""
    u = a["u"]
    b, t, d3 = u.shape
    d = d3 // 3
    heads, dh = a["r_w_bias"].shape
    eps = float(a["layer_norm_eps"][0])
    scale = 1 / np.sqrt(dh)
    wqkv = np.ascontiguousarray(a["qkv_weight"].T)
    wout, bout = np.ascontiguousarray(a["out_weight"].T), a["out_bias"]
    w1, b1 = np.ascontiguousarray(a["ff1_weight"].T), a["ff1_bias"]
    w2, b2 = np.ascontiguousarray(a["ff2_weight"].T), a["ff2_bias"]
    u_bias = a["r_w_bias"].reshape(1, heads, 1, dh)
    v_bias = a["r_r_bias"].reshape(1, heads, 1, dh)
    # Projected encodings of distances T-1..0 do not depend on z: computed once. [H, dh, K]
    rk = np.ascontiguousarray((a["R"] @ a["r_net_weight"].T).reshape(t, heads, dh).transpose(1, 2, 0))
    mask = np.arange(t)[None, :] > np.arange(t)[:, None]   # key j after query i

    def split(m):
        return m.reshape(b, t, heads, dh).transpose(0, 2, 1, 3)

    def f(z):
        proj = z @ wqkv + u
        q, k, v = split(proj[..., :d]), split(proj[..., d:2 * d]), split(proj[..., 2 * d:])
        ac = (q + u_bias) @ k.transpose(0, 1, 3, 2)
        bd = relative_shift((q + v_bias) @ rk)
        scores = np.where(mask, -1e30, (ac + bd) * scale)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = scores / scores.sum(axis=-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
        h = layer_norm(z + context @ wout + bout, None, None, eps)
        ff = np.maximum(h @ w1 + b1, 0) @ w2 + b2
        return layer_norm(h + ff, None, None, eps)
    return f


def deq_transformer_residual(a, shape):
    """F(z) = f(z) - z on the flattened batch, after checking that this map agrees with ours."""
    f = deq_transformer_map(a)
    full = a["u"].shape[:2] + (a["u"].shape[2] // 3,)
    for z, expected, label in ((np.zeros(full), a["check_f_x0"], "x0"), (a["check_z"], a["check_f_z"], "random z")):
        diff = float(np.max(np.abs(f(z.reshape(full)).reshape(shape) - expected)))
        assert diff < 1e-10, f"deq-transformer: the NumPy map differs from ours by {diff:.3e} at {label}"
    return lambda z: (f(z.reshape(full)) - z.reshape(full)).ravel()


def run(method, label, F, x0, alpha, tol, maxiter, repeats=1, **kw):
    runs = [run_once(method, label, F, x0, alpha, tol, maxiter, **kw) for _ in range(max(repeats, 1))]
    return min(runs, key=lambda r: r["ms"])


def run_once(method, label, F, x0, alpha, tol, maxiter, **kw):
    count = [0]

    def counted(x):
        count[0] += 1
        return F(x)
    t0 = time.perf_counter()
    status = "converged"
    try:
        if method is so.newton_krylov:
            x = method(counted, x0, f_tol=tol, maxiter=maxiter, **kw)
        else:
            x = method(counted, x0, alpha=alpha, f_tol=tol, maxiter=maxiter, **kw)
    except so.NoConvergence as e:
        x = e.args[0]
        status = "limit"
    except (ValueError, FloatingPointError, np.linalg.LinAlgError) as e:
        x = x0
        status = "failed: " + str(e).split("\n")[0][:40]
    ms = (time.perf_counter() - t0) * 1000
    res = float(np.max(np.abs(F(x))))
    return dict(method=label, fevals=count[0], residual=res, ms=ms, status=status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/eq-solvers", help="directory written by deq bench solvers --export")
    ap.add_argument("--ours", help="JSON lines from deq bench solvers --json, for the side-by-side table")
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--maxiter", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--repeats", type=int, default=1, help="run each solve this many times, keep the fastest")
    ap.add_argument("--problem", help="only problems whose name contains this text")
    ap.add_argument("--deq", help="path of the deq binary: run our side per problem, interleaved with scipy's "
                                  "(fairer on a shared machine than two separate passes)")
    args = ap.parse_args()
    names = sorted(f[:-5] for f in os.listdir(args.data) if f.endswith(".json"))
    if args.problem:
        names = [n for n in names if args.problem in n]
    order = ["linear-0.9", "linear-0.99", "tanh-256", "tanh-1024", "broyden-tridiagonal", "chandrasekhar-h", "deq-transformer"]
    names.sort(key=lambda n: order.index(n) if n in order else len(order))
    peers = {}
    ours_lines = []
    if not args.json:
        print(f"{'problem':22}{'method':22}{'fevals':>7}{'residual':>11}{'ms':>10}{'ms/feval':>10}  status")
    for name in names:
        meta, arrays, x0 = load(args.data, name)
        shape = meta["shape"]
        F = residual_map(name, arrays, shape)
        alpha = -1.0 / meta["jacobian_guess"]
        x0 = x0.ravel()
        F(x0)  # warm-up
        t0 = time.perf_counter()
        for _ in range(20):
            F(x0)
        eval_ms = (time.perf_counter() - t0) / 20 * 1000
        if args.deq:
            cmd = [args.deq, "bench", "solvers", "--json", "--problem", name, "--repeats", str(args.repeats),
                   "--tolerance", str(args.tol), "--max-iterations", str(args.maxiter)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            ours_lines.extend(l for l in out.splitlines() if l.startswith("{") and f'"problem":"{name}"' in l)
        rows = [run(so.anderson, "anderson-M5", F, x0, alpha, args.tol, args.maxiter, args.repeats),
                run(so.anderson, "anderson-M10", F, x0, alpha, args.tol, args.maxiter, args.repeats, M=10),
                run(so.anderson, "anderson-M30", F, x0, alpha, args.tol, args.maxiter, args.repeats, M=30),
                run(so.broyden1, "broyden1", F, x0, alpha, args.tol, args.maxiter, args.repeats),
                run(so.newton_krylov, "newton_krylov", F, x0, alpha, args.tol, args.maxiter, args.repeats)]
        for r in rows:
            r["eval_ms"] = eval_ms
        peers[name] = rows
        for r in rows:
            if args.json:
                print(json.dumps(dict(problem=name, **r)))
            else:
                print(f"{name:22}{r['method']:22}{r['fevals']:7d}{r['residual']:11.2e}{r['ms']:10.1f}"
                      f"{r['ms'] / max(r['fevals'], 1):10.4f}  {r['status']}")
    if args.ours or ours_lines:
        ours = {}
        lines = ours_lines if ours_lines else [l.strip() for l in open(args.ours)]
        for line in lines:
            if line.startswith("{"):
                r = json.loads(line)
                ours.setdefault(r["problem"], []).append(r)
        print()
        print("Ours: the fastest (ms per evaluation) of our converged methods that need no more evaluations")
        print("than scipy's best; scipy: its converged method with the fewest evaluations (ties: fastest).")
        print("f: one bare evaluation of the map on each side (ms); overhead = ms/feval - f.")
        print(f"{'problem':22}{'ours':20}{'fevals':>7}{'ms/feval':>10}{'f':>8}   {'scipy':16}{'fevals':>7}{'ms/feval':>10}"
              f"{'f':>8}{'fevals ok':>10}{'time ok':>8}")
        for name in names:
            mine = [r for r in ours.get(name, []) if r["status"] == "converged"]
            theirs = [r for r in peers[name] if r["status"] == "converged"]
            if not mine or not theirs:
                print(f"{name:22} no converged run on one side")
                continue
            b = min(theirs, key=lambda r: (r["fevals"], r["ms"] / r["fevals"]))
            good = [r for r in mine if r["fevals"] <= b["fevals"]]
            a = min(good, key=lambda r: r["ms"] / r["fevals"]) if good else min(mine, key=lambda r: r["fevals"])
            ta, tb = a["ms"] / a["fevals"], b["ms"] / b["fevals"]
            print(f"{name:22}{a['method']:20}{a['fevals']:7d}{ta:10.4f}{a.get('eval_ms', 0):8.3f}   {b['method']:16}"
                  f"{b['fevals']:7d}{tb:10.4f}{b['eval_ms']:8.3f}"
                  f"{'yes' if a['fevals'] <= b['fevals'] else 'NO':>10}{'yes' if ta < tb else 'NO':>8}")


if __name__ == "__main__":
    main()
