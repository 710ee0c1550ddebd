"""PyTorch peer of `deq train --model lstm-lm`: the same model (embedding, 2-layer LSTM, dropout,
decoder tied or not), the same batch and window, SGD with clipping, on the same corpus files.
It prints training tokens per second (and optionally trains for a while and evaluates), so the
two can be compared on the same machine.

Usage:
  /opt/eqpeers/bin/python Benchmarks/peers/torch_lstm_lm.py --data ../shared/data [--steps 30]
      [--emsize 200 --nhid 200 --batch-size 20 --bptt 35 --threads 2 --tied --vocab-from train --optim adam --lr 0.003]
"""
import argparse
import math
import os
import time

import torch
import torch.nn as nn


def tokenize(path, vocab, grow=True):
    ids = []
    with open(path, encoding="utf8") as f:
        for line in f:
            for w in line.split() + ["<eos>"]:
                if grow:
                    ids.append(vocab.setdefault(w, len(vocab)))
                else:
                    ids.append(vocab.get(w, vocab["<unk>"]))
    return ids


def batchify(ids, bsz):
    n = len(ids) // bsz
    return torch.tensor(ids[: n * bsz], dtype=torch.long).view(bsz, n).t().contiguous()


class LSTMLM(nn.Module):
    def __init__(self, ntoken, emsize, nhid, nlayers, dropout, tied):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, emsize)
        self.rnn = nn.LSTM(emsize, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tied:
            self.decoder.weight = self.encoder.weight
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if not tied:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, x, hidden):
        out, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
        return self.decoder(self.drop(out)).view(-1, self.decoder.out_features), hidden


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=os.environ.get("EQ_DATA", "../shared/data"))
    p.add_argument("--dataset", default="wikitext-2")
    p.add_argument("--emsize", type=int, default=200)
    p.add_argument("--nhid", type=int, default=200)
    p.add_argument("--nlayers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--tied", action="store_true")
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--bptt", type=int, default=35)
    p.add_argument("--lr", type=float, default=20.0)
    p.add_argument("--clip", type=float, default=0.25)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3, help="steps not timed")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--vocab-from", choices=["all", "train"], default="all",
                   help="all: vocabulary over valid+test (reference); train: valid only, other words -> <unk>")
    p.add_argument("--optim", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--eval", action="store_true", help="evaluate on test after training")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1111)
    vocab = {}
    root = os.path.join(a.data, a.dataset)
    train = tokenize(os.path.join(root, "valid.txt"), vocab)
    if a.vocab_from == "train":
        vocab.setdefault("<unk>", len(vocab))
    test = tokenize(os.path.join(root, "test.txt"), vocab, grow=a.vocab_from == "all")
    data = batchify(train, a.batch_size)
    model = LSTMLM(len(vocab), a.emsize, a.nhid, a.nlayers, a.dropout, a.tied)
    crit = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=a.lr) if a.optim == "sgd" else torch.optim.Adam(model.parameters(), lr=a.lr)
    hidden = None
    i = 0
    tokens = 0
    start = None
    for step in range(a.steps + a.warmup):
        if step == a.warmup:
            start = time.perf_counter()
            tokens = 0
        if i >= data.size(0) - 1:
            i, hidden = 0, None
        n = min(a.bptt, data.size(0) - 1 - i)
        x, y = data[i:i + n], data[i + 1:i + 1 + n].reshape(-1)
        i += n
        if hidden is not None:
            hidden = tuple(h.detach() for h in hidden)
        opt.zero_grad()
        out, hidden = model(x, hidden)
        loss = crit(out, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        tokens += x.numel()
    elapsed = time.perf_counter() - start
    print(f"torch {torch.__version__} threads {a.threads}: vocabulary {len(vocab)}, batch {a.batch_size}x{a.bptt}, "
          f"{a.steps} steps in {elapsed:.2f} s: {tokens / elapsed:.0f} tokens/s (last loss {loss.item():.4f})")
    if a.eval:
        model.eval()
        td = batchify(test, 10)
        total, count, h = 0.0, 0, None
        with torch.no_grad():
            for j in range(0, td.size(0) - 1, a.bptt):
                n = min(a.bptt, td.size(0) - 1 - j)
                out, h = model(td[j:j + n], h)
                total += nn.functional.cross_entropy(out, td[j + 1:j + 1 + n].reshape(-1), reduction="sum").item()
                count += n * td.size(1)
        print(f"test loss {total / count:.4f} ppl {math.exp(total / count):.2f}")


if __name__ == "__main__":
    main()
