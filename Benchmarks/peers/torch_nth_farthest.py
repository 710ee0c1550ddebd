#!/usr/bin/env python3
"""The N-th farthest training of relational-rnn-pytorch's `train_nth_farthest.py`, ported to run
for a fixed wall time and print the test accuracy after every epoch, for comparison with
`deq nth-farthest --json` (same presets, same hyperparameters).

The model is the reference's own `RelationalMemory` (`relational_rnn_general.py`, extracted from
the mirror at run time, never committed) inside the reference's `RRNN` head, rewritten here: the
memory's last output → 4 x (Linear 256 + ReLU) → Linear(256, 8) → Softmax, trained with
CrossEntropyLoss on those probabilities (the reference's double softmax), Adam (lr 1e-4), gradient
clipping at 0.1, 6 batches of 1600 fresh examples an epoch, a fixed test set of 3200 evaluated in
batches of 1600 after each epoch. The reference's ReduceLROnPlateau is never stepped there, so it
is left out. The example generator is the reference's `get_example`, vectorised with numpy (same
distribution: 8 vectors from U(-1, 1)^16, labels a random permutation, n and the reference
vector's position uniform, the answer the label of the n-th farthest vector, n = 0 the farthest).
Patches to the reference file for current PyTorch:
  1. `q *= (self.key_size ** -0.5)` becomes `q = q * (self.key_size ** -0.5)` (in-place change
     of a `torch.split` output view is refused since PyTorch 1.7).

    python3 Benchmarks/peers/torch_nth_farthest.py --reference /work/.mirror/Deepest-Project+relational-rnn-pytorch/repo \\
        --max-time 1800 [--preset paper|small] [--threads 2] [--json] [--test-set FILE]

For a race, let both sides score the same examples: `deq nth-farthest --test-set-out FILE` writes
the test set ours draws, `--test-set FILE` loads it here. Two independently drawn 3,200-example test
sets differ by about 0.006 in their share of n = 7 examples (the answer is the reference vector
itself), which is the plateau's easy part, so separate test sets bias the comparison either way.

Wall time counts from the start of training (after the test set is drawn): data generation,
steps and test evaluations included, as `deq nth-farthest` counts it.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn

PATCHES = [("q *= (self.key_size ** -0.5)", "q = q * (self.key_size ** -0.5)")]

# The presets of Sources/Training/NthFarthestTraining.swift.
PRESETS = {
    "paper": dict(memslots=8, numheads=8, headsize=32, attmlplayers=2, mlp_size=256, mlp_layers=4,
                  batch_size=1600, num_batches=6, num_test=3200, lr=1e-4),
    "small": dict(memslots=4, numheads=2, headsize=16, attmlplayers=2, mlp_size=64, mlp_layers=2,
                  batch_size=128, num_batches=6, num_test=512, lr=1e-3),
}
NUM_VECTORS, NUM_DIMS, CLIP = 8, 16, 0.1


def load_reference(mirror, directory):
    source = subprocess.run(["git", "-C", mirror, "show", "HEAD:relational_rnn_general.py"], check=True,
                            capture_output=True, text=True).stdout
    for old, new in PATCHES:
        if old not in source:
            sys.exit(f"the reference no longer contains {old!r}; review the patches in {__file__}")
        source = source.replace(old, new)
    with open(os.path.join(directory, "relational_rnn_general.py"), "w") as f:
        f.write(source)
    sys.path.insert(0, directory)
    from relational_rnn_general import RelationalMemory
    return RelationalMemory


def get_examples(num_examples, rng):
    """Batch-first inputs [num_examples, 8, 40] and int64 labels, as the reference's get_examples."""
    k, d = NUM_VECTORS, NUM_DIMS
    n = rng.integers(0, k, num_examples)
    labels = np.argsort(rng.random((num_examples, k)), axis=1)            # a random permutation per example
    m_index = rng.integers(0, k, num_examples)
    vectors = rng.random((num_examples, k, d)) * 2 - 1
    target = vectors[np.arange(num_examples), m_index]
    dist = np.linalg.norm(vectors - target[:, None, :], axis=2)
    x = np.zeros((num_examples, k, d + 3 * k))
    x[:, :, :d] = vectors
    rows, steps = np.arange(num_examples)[:, None], np.arange(k)[None, :]
    x[rows, steps, d + labels] = 1                                        # each vector's label
    x[rows, steps, (d + k + n)[:, None]] = 1                              # n, repeated at every step
    m = labels[np.arange(num_examples), m_index]
    x[rows, steps, (d + 2 * k + m)[:, None]] = 1                          # m, the reference vector's label
    order = np.argsort(dist, axis=1)
    y = labels[np.arange(num_examples), order[np.arange(num_examples), k - 1 - n]]
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)


def load_weights(model, setup):
    """The port's state_dict from ours: the same names, except that the reference lists its shared
    attention-MLP Linear once per layer (attention_mlp.0, .1, ...) where we list it once."""
    ours = {k: v for k, v in setup.items() if not k.startswith(("input.", "target."))}
    state, used = {}, set()
    for name, t in model.state_dict().items():
        source = name
        parts = name.split(".")
        if parts[:2] == ["relational_memory", "attention_mlp"]:
            source = ".".join(parts[:2] + ["0"] + parts[3:])
        if source not in ours:
            sys.exit(f"deq wrote no {source} (for the port's {name})")
        value = torch.from_numpy(np.array(ours[source]))
        if tuple(value.shape) != tuple(t.shape):
            sys.exit(f"{source}: deq wrote shape {tuple(value.shape)}, the port has {tuple(t.shape)}")
        state[name] = value.to(t.dtype)
        used.add(source)
    unused = sorted(set(ours) - used)
    if unused:
        sys.exit(f"deq wrote parameters the port does not have: {unused}")
    model.load_state_dict(state, strict=True)


class RRNN(nn.Module):
    def __init__(self, RelationalMemory, p):
        super().__init__()
        input_size = NUM_DIMS + 3 * NUM_VECTORS
        self.relational_memory = RelationalMemory(mem_slots=p["memslots"], head_size=p["headsize"],
                                                  input_size=input_size, num_heads=p["numheads"], num_blocks=1,
                                                  forget_bias=1., input_bias=0.,
                                                  attention_mlp_layers=p["attmlplayers"])
        layers, width = [], p["headsize"] * p["numheads"] * p["memslots"]
        for _ in range(p["mlp_layers"]):
            layers += [nn.Linear(width, p["mlp_size"]), nn.ReLU()]
            width = p["mlp_size"]
        self.mlp = nn.Sequential(*layers)
        self.out = nn.Linear(width, NUM_VECTORS)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x, memory):
        logit, memory = self.relational_memory(x, memory)
        return self.softmax(self.out(self.mlp(logit))), memory


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="the git mirror of Deepest-Project/relational-rnn-pytorch")
    ap.add_argument("--preset", default="paper", choices=sorted(PRESETS))
    ap.add_argument("--max-time", type=float, default=None, help="stop after the epoch that passes this many seconds")
    ap.add_argument("--max-epochs", type=int, default=None)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("EQ_NUM_THREADS", "2")))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="one JSON object per epoch")
    ap.add_argument("--initial-weights", help="start from these weights (the setup file of `deq rmc-probe --nth-farthest "
                                              "SETUP OUT --seed S --dtype float32`: ours for `deq nth-farthest --seed S`)")
    ap.add_argument("--test-set", help="score this test set (written by `deq nth-farthest --test-set-out`) instead of "
                                       "drawing one, so both sides of a race score the same examples")
    args = ap.parse_args()
    if args.max_time is None and args.max_epochs is None:
        ap.error("say how long to train: --max-time SECONDS or --max-epochs N")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    p = PRESETS[args.preset]
    with tempfile.TemporaryDirectory() as d:
        RelationalMemory = load_reference(args.reference, d)
    model = RRNN(RelationalMemory, p)
    if args.initial_weights:
        from safetensors.numpy import load_file
        load_weights(model, load_file(args.initial_weights))
    loss_fn = nn.CrossEntropyLoss()
    optimiser = torch.optim.Adam(model.parameters(), lr=p["lr"])
    if args.test_set:
        from safetensors.numpy import load_file
        test = load_file(args.test_set)
        x_test, y_test = torch.from_numpy(test["input"]), torch.from_numpy(test["target"])
        if x_test.shape != (p["num_test"], NUM_VECTORS, NUM_DIMS + 3 * NUM_VECTORS):
            ap.error(f"--test-set {args.test_set}: input has shape {tuple(x_test.shape)}, expected "
                     f"({p['num_test']}, {NUM_VECTORS}, {NUM_DIMS + 3 * NUM_VECTORS}) for preset {args.preset}")
    else:
        x_test, y_test = get_examples(p["num_test"], np.random.default_rng(args.seed + 2))
    memory = model.relational_memory.initial_state(p["batch_size"], trainable=True)
    if not args.json:
        print(f"N-th farthest (PyTorch, the reference's RMC), preset {args.preset}: batch {p['batch_size']} x "
              f"{p['num_batches']} an epoch, test {p['num_test']}, Adam lr {p['lr']}, clip {CLIP}, {args.threads} threads, "
              f"{sum(q.numel() for q in model.parameters())} parameters")
        print("epoch  train loss  train acc  test loss  test acc      s")
    start = time.perf_counter()
    epoch = 0
    while True:
        epoch += 1
        losses, accs = [], []
        model.train()
        for _ in range(p["num_batches"]):
            data, targets = get_examples(p["batch_size"], rng)
            y_pred, _ = model(data, memory)
            loss = loss_fn(y_pred, targets)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            optimiser.step()
            losses.append(loss.item())
            accs.append((y_pred.argmax(1) == targets).double().mean().item())
        test_losses, test_accs = [], []
        with torch.no_grad():
            for i in range(0, p["num_test"], p["batch_size"]):
                data, targets = x_test[i:i + p["batch_size"]], y_test[i:i + p["batch_size"]]
                y_pred, _ = model(data, model.relational_memory.initial_state(len(data)))
                test_losses.append(loss_fn(y_pred, targets).item())
                test_accs.append((y_pred.argmax(1) == targets).double().mean().item())
        seconds = time.perf_counter() - start
        row = dict(epoch=epoch, seconds=seconds, train_loss=float(np.mean(losses)), train_acc=float(np.mean(accs)),
                   test_loss=float(np.mean(test_losses)), test_acc=float(np.mean(test_accs)))
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"{epoch:5d}  {row['train_loss']:10.4f}  {row['train_acc']:9.3f}  {row['test_loss']:9.4f}  "
                  f"{row['test_acc']:8.3f}  {seconds:5.0f}", flush=True)
        if args.max_epochs is not None and epoch >= args.max_epochs:
            break
        if args.max_time is not None and seconds >= args.max_time:
            break


if __name__ == "__main__":
    main()
