"""PyTorch peer of `deq bench layers`: times the same two workloads with 2 threads and, given
the JSON our command prints, reports our time / PyTorch's time for each.

    python Benchmarks/peers/torch_layers.py                      # PyTorch timings only
    python Benchmarks/peers/torch_layers.py --ours ours.json     # plus ratios
    python Benchmarks/peers/torch_layers.py --deq .build/release/deq   # runs deq itself first
"""
import argparse
import json
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LSTMLanguageModel(nn.Module):
    def __init__(self, vocab, size, layers):
        super().__init__()
        self.encoder = nn.Embedding(vocab, size)
        self.rnn = nn.LSTM(size, size, layers)
        self.decoder = nn.Linear(size, vocab)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, tokens):
        out, _ = self.rnn(self.encoder(tokens))
        return self.decoder(out)


def lstm_step():
    vocab, size, bptt, batch = 33278, 200, 35, 20
    model = LSTMLanguageModel(vocab, size, 2)
    opt = torch.optim.SGD(model.parameters(), lr=20)
    inp = torch.randint(0, vocab, (bptt, batch))
    target = torch.randint(0, vocab, (bptt * batch,))

    def body():
        model.zero_grad()
        logits = model(inp)
        loss = F.cross_entropy(logits.view(-1, vocab), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
    return body


def transformer_step():
    layer = nn.TransformerEncoderLayer(512, 8, 2048, dropout=0.0, batch_first=True)  # post-norm, ReLU
    x = torch.randn(16, 128, 512, requires_grad=True)

    def body():
        layer.zero_grad()
        x.grad = None
        layer(x).sum().backward()
    return body


CASES = {"lstm_lm_wt2_train_step": lstm_step, "transformer_layer_d512_fwdbwd": transformer_step}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--ours", help="JSON printed by `deq bench layers --json`")
    ap.add_argument("--deq", help="path of the deq executable to run for our timings")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    ours = None
    if args.deq:
        out = subprocess.run([args.deq, "bench", "layers", "--json", "--threads", str(args.threads),
                              "--iterations", str(args.iterations)], check=True, capture_output=True, text=True).stdout
        ours = json.loads(out)
    elif args.ours:
        with open(args.ours) as f:
            ours = json.load(f)
    ours_by_name = {b["name"]: b for b in ours["benchmarks"]} if ours else {}

    report = []
    for name, make in CASES.items():
        body = make()
        body()  # warm-up
        times = []
        for _ in range(args.iterations):
            t0 = time.perf_counter()
            body()
            times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        row = {"name": name, "torch_median_ms": times[len(times) // 2], "torch_min_ms": times[0]}
        if name in ours_by_name:
            row["ours_median_ms"] = ours_by_name[name]["median_ms"]
            row["ours_min_ms"] = ours_by_name[name]["min_ms"]
            row["ratio_median"] = row["ours_median_ms"] / row["torch_median_ms"]
            # On a shared machine the minimum is the least disturbed run of each.
            row["ratio_min"] = row["ours_min_ms"] / row["torch_min_ms"]
        report.append(row)
    print(json.dumps({"threads": args.threads, "torch": torch.__version__, "benchmarks": report}, indent=2))


if __name__ == "__main__":
    main()
