"""Writes deq_trellisnet_reference.pt and deq_trellisnet_reference.json with the DEQ v1 reference
(locuslab/deq a4f4c9b, DEQTrellisNetLM), for TrainingTests/ReferenceCheckpointTests.

    python3 make_trellisnet_reference_fixture.py /work/.mirror/locuslab+deq/repo

A tied float64 model (vocabulary 11, emsize 3, nhid 2, nout 3) with seeded weights of order one;
the JSON holds two windows of tokens [T=4, batch 2] and the reference's mean cross-entropy of each,
the history carried from the first window to the second (unrolled 80 times: its fixed point).
The reference code is extracted at run time, with a stub `termcolor` (not installed here)."""
import json, os, subprocess, sys, tempfile
import torch
import torch.nn.functional as F

tmp = tempfile.mkdtemp()
archive = subprocess.run(["git", "--git-dir", sys.argv[1], "archive", "a4f4c9b", "DEQModel"], check=True, capture_output=True).stdout
subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
root = os.path.join(tmp, "DEQModel")
open(os.path.join(root, "termcolor.py"), "w").write("def colored(t, *a, **k):\n    return t\n")
sys.path.insert(0, root)
from models.trellisnets.deq_trellisnet import DEQTrellisNetLM

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)
m = DEQTrellisNetLM(n_token=11, n_layer=80, ninp=3, nhid=2, nout=3, wnorm=True, tie_weights=True).double()
with torch.no_grad():
    tn = m.trellisnet
    tn.inject_conv.weight_g.uniform_(0.5, 1.5); tn.inject_conv.bias.normal_(0, 0.5)
    tn.func.full_conv.weight_g.uniform_(0.2, 0.6); tn.func.full_conv.bias.normal_(0, 0.5)
    m.encoder.weight.normal_(0, 1); m.decoder.bias.normal_(0, 0.3)
m.eval()
m.trellisnet.pretrain_steps = 1
tokens = torch.randint(0, 11, (9, 2))
losses, mems = [], []
with torch.no_grad():
    for s in [0, 4]:
        data, target = tokens[s:s + 4], tokens[s + 1:s + 5]
        (_, _, logits), mems = m(data, target, mems, train_step=0)
        losses.append(F.cross_entropy(logits.reshape(-1, 11), target.reshape(-1)).item())
torch.save(m.state_dict(), "deq_trellisnet_reference.pt")
json.dump({"tokens": tokens.tolist(), "losses": losses}, open("deq_trellisnet_reference.json", "w"), indent=1)
print(losses)
