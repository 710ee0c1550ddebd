"""DEQ-TrellisNet against the DEQ v1 reference, through `deq import` / `deq eval` / `deq export`.

    python3 Benchmarks/peers/deq_trellisnet_reference.py --reference /work/.mirror/locuslab+deq/repo \
        --data ../shared/data [--deq .build/release/deq]

1. Extracts the reference code (locuslab/deq, first commit a4f4c9b, `DEQModel/`) from the bare
   mirror into a temporary directory at run time (nothing of it is committed) and builds its
   `DEQTrellisNetLM` in float64 with seeded weights (tied, weight-normalised, dropouts 0).
2. Saves its state dict with `torch.save`, runs `deq import` (vocabulary in the reference's order,
   rebuilt from the corpus files) and `deq eval --json` on the whole test split, history carried
   between windows, and compares the loss with the reference's own evaluation loop over the same
   windows: the reference unrolled `--depth` times from zero (its pre-training path; the weights are
   contractive, so that is its fixed point to rounding) and, for the record, its Broyden solve
   (stopping at its absolute 1e-6·sqrt(size)).
3. Runs `deq export`, loads the file with `torch.load(weights_only=True)` into a fresh reference
   model (`load_state_dict`, strict) and evaluates it again.

Patches applied to the reference for current PyTorch / this machine (nothing else is changed):
- `termcolor` is not installed: a one-line stub module `termcolor.colored` returning its text is
  written next to the extracted code (the reference imports it only to colour log lines).

The reference's vocabulary (`utils/vocabulary.py`, `Vocab(special=['<eos>'], lower_case=True)` for
PTB as `data_utils.get_lm_corpus` sets it) counts train, valid and test; it counts the split files
that exist under --data, as `deq import` does.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F


def extract(mirror, commit, into):
    archive = subprocess.run(["git", "--git-dir", mirror, "archive", commit, "DEQModel"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    root = os.path.join(into, "DEQModel")
    with open(os.path.join(root, "termcolor.py"), "w") as f:
        f.write("def colored(text, *args, **kwargs):\n    return text\n")
    sys.path.insert(0, root)
    return root


def reference_corpus(vocab_cls, data, dataset):
    folder = os.path.join(data, {"ptb": "ptb", "wikitext-2": "wikitext-2"}[dataset])
    vocab = vocab_cls(special=["<eos>"], lower_case=(dataset == "ptb"))
    for split in ["train", "valid", "test"]:
        path = os.path.join(folder, split + ".txt")
        if os.path.exists(path):
            vocab.count_file(path)
    vocab.build_vocab()
    return vocab, vocab.encode_file(os.path.join(folder, "test.txt"), ordered=True)


def seeded_model(lm_cls, n_token, args):
    torch.manual_seed(args.seed)
    model = lm_cls(n_token=n_token, n_layer=args.depth, ninp=args.emsize, nhid=args.nhid, nout=args.nout,
                   kernel_size=2, wnorm=True, tie_weights=True).double()
    with torch.no_grad():
        tn = model.trellisnet
        # Row norms of order one (the reference's own init gives 0.01): a contractive cell whose
        # gates all matter, so a permuted gate or a lost history would show.
        tn.inject_conv.weight_g.uniform_(0.5, 1.5)
        tn.inject_conv.bias.normal_(0, 0.3)
        tn.func.full_conv.weight_g.uniform_(0.2, 0.6)
        tn.func.full_conv.bias.normal_(0, 0.3)
        model.decoder.bias.normal_(0, 0.1)
        model.encoder.weight.normal_(0, 1)   # tied: logits of order one, not a near-uniform softmax
    model.eval()
    return model


def reference_loss(model, test, bsz, bptt, unrolled, f_thres, max_windows=None):
    from data_utils import LMOrderedIterator
    it = LMOrderedIterator(test, bsz, bptt)
    model.trellisnet.pretrain_steps = 1 if unrolled else 0
    total, count, mems = 0.0, 0, []
    with torch.no_grad():
        for k, (data, target, seq_len) in enumerate(it.get_fixlen_iter()):
            if max_windows is not None and k >= max_windows:
                break
            (_, _, logits), mems = model(data, target, mems, train_step=0 if unrolled else -1, f_thres=f_thres,
                                         subseq_len=bptt)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1), reduction="sum")
            total += loss.item()
            count += target.numel()
    return total / count, count


def say(*what):
    print(*what, file=sys.stderr, flush=True)


def deq(binary, *argv):
    say("deq", *argv)
    out = subprocess.run([binary, *argv], check=True, capture_output=True, text=True).stdout
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reference", required=True, help="bare git mirror of locuslab/deq")
    p.add_argument("--commit", default="a4f4c9b")
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--dataset", default="ptb", choices=["ptb", "wikitext-2"])
    p.add_argument("--deq", default=".build/release/deq")
    p.add_argument("--emsize", type=int, default=8)
    p.add_argument("--nhid", type=int, default=6)
    p.add_argument("--nout", type=int, default=8)
    p.add_argument("--depth", type=int, default=60, help="reference unrolled applications (n_layer)")
    p.add_argument("--f-thres", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=10)
    p.add_argument("--bptt", type=int, default=35)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-broyden", action="store_true", help="skip the reference's Broyden evaluation")
    args = p.parse_args()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(2)

    with tempfile.TemporaryDirectory() as tmp:
        extract(args.reference, args.commit, tmp)
        from utils.vocabulary import Vocab
        from models.trellisnets.deq_trellisnet import DEQTrellisNetLM
        vocab, test = reference_corpus(Vocab, args.data, args.dataset)
        model = seeded_model(DEQTrellisNetLM, len(vocab), args)
        ref_pt, ours, back_pt = (os.path.join(tmp, n) for n in ["reference.pt", "ours.safetensors", "exported.pt"])
        torch.save(model.state_dict(), ref_pt)

        say("reference: unrolled evaluation")
        ref_unrolled, tokens = reference_loss(model, test, args.batch_size, args.bptt, True, args.f_thres)
        say("reference: Broyden evaluation")
        ref_broyden = None if args.skip_broyden else reference_loss(model, test, args.batch_size, args.bptt, False, args.f_thres)[0]

        deq(args.deq, "import", "--model", "deq-trellisnet", ref_pt, ours, "--dataset", args.dataset, "--data", args.data,
            "--option", "solver=anderson", "--option", "tolerance=1e-13", "--option", "dropout=0",
            "--f-thres", str(args.f_thres), "--bptt", str(args.bptt))
        ev = json.loads(deq(args.deq, "eval", ours, "--data", args.data, "--split", "test", "--batch-size",
                            str(args.batch_size), "--bptt", str(args.bptt), "--json").strip().splitlines()[-1])

        deq(args.deq, "export", ours, back_pt)
        reloaded = seeded_model(DEQTrellisNetLM, len(vocab), args)
        reloaded.load_state_dict(torch.load(back_pt, weights_only=True))
        say("reference: the exported weights")
        back_unrolled, _ = reference_loss(reloaded, test, args.batch_size, args.bptt, True, args.f_thres)

    rel = lambda a, b: abs(a - b) / abs(b)
    report = {
        "dataset": args.dataset, "tokens": tokens, "ours_tokens": ev["tokens"], "vocabulary": len(vocab),
        "reference_unrolled_loss": ref_unrolled, "reference_broyden_loss": ref_broyden, "ours_loss": ev["loss"],
        "relative_difference": rel(ev["loss"], ref_unrolled),
        "relative_difference_broyden": None if ref_broyden is None else rel(ev["loss"], ref_broyden),
        "exported_reference_loss": back_unrolled, "export_relative_difference": rel(back_unrolled, ref_unrolled),
        "ppl": math.exp(ev["loss"]),
    }
    print(json.dumps(report, indent=1))
    ok = report["relative_difference"] < 1e-10 and report["export_relative_difference"] < 1e-10 and tokens == ev["tokens"]
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
