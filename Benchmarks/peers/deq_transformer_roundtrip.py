#!/usr/bin/env python3
"""The DEQ-Transformer round trip through the authors' checkpoint format:
reference model → torch.save → `deq import` → `deq eval` → `deq export` → reference load_state_dict.

    python3 Benchmarks/peers/deq_transformer_roundtrip.py --reference /work/.mirror/locuslab+deq/repo \\
        [--deq .build/release/deq] [--data ../shared/data] [--dataset wikitext-2]

1. Extracts locuslab/deq's `DEQTransformerLM` (DEQ-Sequence/models/deq_transformer.py, lib/,
   DEQ-Sequence/utils/, DEQ-Sequence/data_utils.py) from the mirror into a temporary directory at
   run time, with the patches listed in deq_transformer_reference.py (CUDA version read at import,
   torch.solve → torch.linalg.solve, the float32 cast of the attention scores, a termcolor stub);
   nothing else is changed and nothing of it is committed.
2. Builds it in float64 with seeded weights (deq_transformer_reference.seeded_weights: an
   equilibrium that is far from trivial but that Anderson solves to 1e-12), in the layouts the
   reference's training script makes: a plain softmax (tied), and adaptive input and softmax
   (cutoffs 2000,10000, div_val 4, tied, tie_projs F,T,T as train_transformer.py sets them).
3. Saves `model.state_dict()` with `torch.save` (the training script's checkpoint content).
4. Evaluates the first --windows test windows with the reference's own evaluation loop
   (train_transformer.py's `evaluate`: data_utils.LMOrderedIterator, the memory carried between
   windows, loss weighted by seq_len) with its Anderson at eps 1e-12 and f_thres 400, on the
   vocabulary its data_utils.Corpus builds (utils/vocabulary.Vocab, special <eos>, lower_case as
   get_lm_corpus sets it per dataset, counted over the split files present under --data).
5. `deq import` (the options a state dict cannot tell: heads, memory length, cutoffs, ties,
   dropout 0, the solver) and `deq eval --json --max-tokens` over the same windows; compares the
   mean losses (target 1e-10 relative in float64).
6. `deq export`, then a fresh reference model `load_state_dict(torch.load(path, weights_only=True))`
   (strict): every tensor must equal the original bit for bit, and the reference's evaluation of
   the reloaded model must give the same loss exactly.
"""
import argparse, functools, json, os, subprocess, sys, tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deq_transformer_reference import extract_reference, seeded_weights  # noqa: E402

LAYOUTS = {
    "plain": dict(cutoffs=[], div_val=1, tie_projs=[False]),
    "adaptive": dict(cutoffs=[2000, 10000], div_val=4, tie_projs=[False, True, True]),
}
FOLDERS = {"ptb": "ptb", "wikitext-2": "wikitext-2"}


def say(*what):
    print(*what, file=sys.stderr, flush=True)


def deq(binary, *argv):
    say("deq", *argv)
    run = subprocess.run([binary, *argv], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"deq {argv[0]} failed:\n{run.stdout}\n{run.stderr}")
    return run.stdout


def reference_corpus(data, dataset):
    """The vocabulary and test stream as the reference's data_utils.Corpus builds them."""
    from utils.vocabulary import Vocab
    folder = os.path.join(data, FOLDERS[dataset])
    vocab = Vocab(special=["<eos>"], lower_case=(dataset == "ptb"))
    counted = []
    for split in ["train", "valid", "test"]:
        path = os.path.join(folder, split + ".txt")
        if os.path.exists(path):
            vocab.count_file(path)
            counted.append(split)
    vocab.build_vocab()
    return vocab, vocab.encode_file(os.path.join(folder, "test.txt"), ordered=True), counted


def build(DEQTransformerLM, anderson, n_token, layout, args):
    torch.manual_seed(args.seed)
    d = args.d_model
    model = DEQTransformerLM(n_token, 2, 2, args.n_head, d, d // args.n_head, args.d_inner, 0.0, 0.0,
                             tie_weights=True, d_embed=d, div_val=layout["div_val"], tie_projs=list(layout["tie_projs"]),
                             wnorm=True, tgt_len=args.bptt, mem_len=args.mem_len, cutoffs=list(layout["cutoffs"]),
                             f_solver=functools.partial(anderson, eps=1e-12), b_solver=functools.partial(anderson, eps=1e-12),
                             logging=lambda *a: None)
    return model


def reference_loss(model, test, args):
    """train_transformer.py's evaluate() over the first --windows windows."""
    from data_utils import LMOrderedIterator
    model.eval()
    model.reset_length(args.bptt, args.mem_len)
    it = LMOrderedIterator(test, args.batch_size, args.bptt)
    total_len, total_loss, mems = 0, 0.0, []
    with torch.no_grad():
        for i, (data, target, seq_len) in enumerate(it.get_fixlen_iter()):
            if i >= args.windows:
                break
            ret = model(data, target, mems, train_step=-1, f_thres=args.f_thres, b_thres=args.f_thres, compute_jac_loss=False)
            loss, mems = ret[0], ret[3:]
            total_loss += seq_len * loss.mean().item()
            total_len += seq_len
    return total_loss / total_len, total_len * args.batch_size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reference", required=True, help="the locuslab/deq mirror (a git directory)")
    ap.add_argument("--deq", default=".build/release/deq")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--dataset", default="wikitext-2", choices=sorted(FOLDERS))
    ap.add_argument("--layouts", default="plain,adaptive")
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--bptt", type=int, default=16)
    ap.add_argument("--mem-len", type=int, default=16)
    ap.add_argument("--d-model", type=int, default=32)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--d-inner", type=int, default=64)
    ap.add_argument("--f-thres", type=int, default=400)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("EQ_NUM_THREADS", "2")))
    torch.set_default_dtype(torch.float64)
    DEQTransformerLM, anderson = extract_reference(args.reference)
    vocab, test, counted = reference_corpus(args.data, args.dataset)
    say(f"vocabulary {len(vocab)} (counted over {', '.join(counted)}), test {len(test)} tokens")
    rows, ok = [], True
    for name in args.layouts.split(","):
        layout = LAYOUTS[name]
        if layout["cutoffs"] and layout["cutoffs"][-1] >= len(vocab):
            sys.exit(f"the {name} layout's cutoffs {layout['cutoffs']} need a vocabulary above {layout['cutoffs'][-1]}; "
                     f"{args.dataset} gives {len(vocab)}")
        model = build(DEQTransformerLM, anderson, len(vocab), layout, args)
        seeded_weights(model, args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            ref_pt, ours, back_pt = (os.path.join(tmp, n) for n in ["reference.pt", "ours.safetensors", "exported.pt"])
            torch.save(model.state_dict(), ref_pt)
            say(f"{name}: the reference's evaluation")
            ref_loss, tokens = reference_loss(model, test, args)
            options = {"n-head": args.n_head, "mem-len": args.mem_len, "dropout": 0, "dropatt": 0,
                       "cutoffs": ",".join(map(str, layout["cutoffs"])) or "none", "div-val": layout["div_val"],
                       "tied": "true", "tie-projs": ",".join(str(t).lower() for t in layout["tie_projs"]),
                       "solver": "anderson", "tolerance": "1e-12"}
            flags = [x for k, v in options.items() for x in ("--option", f"{k}={v}")]
            deq(args.deq, "import", "--model", "deq-transformer", ref_pt, ours, "--dataset", args.dataset, "--data", args.data,
                *flags, "--f-thres", str(args.f_thres), "--bptt", str(args.bptt))
            ev = json.loads(deq(args.deq, "eval", ours, "--data", args.data, "--split", "test",
                                "--batch-size", str(args.batch_size), "--bptt", str(args.bptt),
                                "--max-tokens", str(tokens), "--json").strip().splitlines()[-1])
            deq(args.deq, "export", ours, back_pt)
            reloaded = build(DEQTransformerLM, anderson, len(vocab), layout, args)
            reloaded.load_state_dict(torch.load(back_pt, weights_only=True), strict=True)
            original, back = model.state_dict(), reloaded.state_dict()
            weights_equal = original.keys() == back.keys() and all(torch.equal(original[k], back[k]) for k in original)
            say(f"{name}: the reference's evaluation of the exported weights")
            back_loss, _ = reference_loss(reloaded, test, args)
        row = dict(layout=name, tokens=tokens, ours_tokens=ev["tokens"], reference_loss=ref_loss, ours_loss=ev["loss"],
                   relative_difference=abs(ev["loss"] - ref_loss) / abs(ref_loss), exported_weights_equal=weights_equal,
                   exported_reference_loss=back_loss, export_difference=abs(back_loss - ref_loss))
        row["passed"] = (row["relative_difference"] < 1e-10 and weights_equal and back_loss == ref_loss and ev["tokens"] == tokens)
        ok &= row["passed"]
        rows.append(row)
        print(f"{args.dataset} {name}: {tokens} tokens, reference {ref_loss:.12f}, ours {ev['loss']:.12f}, "
              f"relative {row['relative_difference']:.1e}; exported weights equal: {weights_equal}, "
              f"reloaded reference {back_loss:.12f} (difference {row['export_difference']:.1e}): "
              f"{'passed' if row['passed'] else 'FAILED'}", flush=True)
    print(json.dumps(dict(dataset=args.dataset, vocabulary=len(vocab), d_model=args.d_model, n_head=args.n_head,
                          d_inner=args.d_inner, batch_size=args.batch_size, bptt=args.bptt, mem_len=args.mem_len,
                          windows=args.windows, rows=rows)))
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
