"""Writes tiny.pt, a module state dict saved with torch.save (zip format, run with torch 2.x).

The Swift test NNTests/TorchCheckpointTests reads it and checks every value below: a Linear's
state dict (with its _metadata), a float64 and an int64 entry, a 0-d tensor, a transposed view
and an offset view of one shared storage, and a tied entry sharing the Linear's weight."""
import torch

lin = torch.nn.Linear(3, 2)
with torch.no_grad():
    lin.weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4)
    lin.bias.copy_(torch.tensor([-1.5, 0.25]))
sd = lin.state_dict()
sd["double"] = torch.tensor([-1.5, 0.25, 1e-300], dtype=torch.float64)
sd["ids"] = torch.tensor([[1, -2], [3, 40000000000]], dtype=torch.int64)
sd["scalar"] = torch.tensor(3.5, dtype=torch.float32)
base = torch.arange(12, dtype=torch.float64).reshape(3, 4)
sd["view.t"] = base.t()
sd["view.row"] = base[1]
sd["tied"] = lin.weight.detach()
torch.save(sd, "tiny.pt")
