"""PyTorch side of bench/torch.bench.ts: builds the same workloads as the TypeScript side and times one
step on request, so that both are measured interleaved in one run.

Protocol (one JSON object per line on stdin, one answer per line on stdout):
  {"cmd": "init", "threads": T, "root": REPO}                        -> {"torch": version, "threads": T, "blas": ...}
  {"cmd": "layer", "method": "lora"|"quantum-peft", "B":, "d":, "K":, "L":}  -> {"ok": true}   (builds it)
  {"cmd": "vit", "batch": 32, "r": 4}                                  -> {"ok": true}
  {"cmd": "step", "name": "lora"|"quantum-peft"|"vit"}                -> {"ms": wall ms of one training step}
"""
import json
import math
import os
import sys
import time

import torch
from torch import nn

state = {}


class LoraLinear(nn.Module):
    """PEFT's LoRA forward: base(x) + (x A^T) B^T * (alpha / r), A r x d_in, B d_out x r."""

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.T) @ self.lora_B.T * self.scale


class QuantumPeftLinear(nn.Module):
    """Quantum-PEFT with P, Q from the two-design in torch autograd: base(x) + ((x P) * alpha*lambda) Q^T."""

    def __init__(self, base: nn.Linear, k: int, layers: int, qt):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        n_in, n_out = int(math.log2(base.in_features)), int(math.log2(base.out_features))
        self.gp, cp = qt.template_gates("simplified-two-design", n_in, layers)
        self.gq, cq = qt.template_gates("simplified-two-design", n_out, layers)
        self.n_in, self.n_out, self.k, self.qt = n_in, n_out, k, qt
        self.theta_p = nn.Parameter(torch.rand(cp) * 2 * math.pi - math.pi)
        self.theta_q = nn.Parameter(torch.rand(cq) * 2 * math.pi - math.pi)
        self.lam = nn.Parameter(torch.zeros(k))

    def forward(self, x):
        p = self.qt.torch_circuit_columns(self.gp, self.n_in, self.theta_p, self.k)
        q = self.qt.torch_circuit_columns(self.gq, self.n_out, self.theta_q, self.k)
        return self.base(x) + ((x @ p) * self.lam) @ q.T


def build_layer(msg, qt):
    torch.manual_seed(1)
    d, b, k = msg["d"], msg["B"], msg["K"]
    base = nn.Linear(d, d)
    layer = LoraLinear(base, k, k) if msg["method"] == "lora" else QuantumPeftLinear(base, k, msg["L"], qt)
    x = torch.randn(b, d)
    params = [p for p in layer.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = layer(x).square().mean()
        loss.backward()
        opt.step()

    return step


def build_vit(msg, qt, root):
    torch.manual_seed(2)
    model = qt.load_vit(os.path.join(root, "checkpoints", "vit-fashion-mnist")).train()
    for p in model.parameters():
        p.requires_grad_(False)
    for blk in model.blocks:
        blk.attn.query = LoraLinear(blk.attn.query, msg["r"], msg["r"])
        blk.attn.value = LoraLinear(blk.attn.value, msg["r"], msg["r"])
    x = torch.rand(msg["batch"], 28, 28)
    y = torch.randint(0, 10, (msg["batch"],))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step


def loaded_blas():
    """The BLAS shared libraries this process mapped (Debian's alternatives: reference, openblas-pthread, …)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {os.path.realpath(l.split()[-1]) for l in f if "blas" in l.lower() and "/" in l}
        return ", ".join(sorted(libs))
    except OSError:
        return "unknown"


def main():
    qt = None
    root = None
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        if cmd == "init":
            torch.set_num_threads(int(msg["threads"]))
            root = msg["root"]
            sys.path.insert(0, os.path.join(root, "python"))
            import qpeft_torch as qt  # noqa: F811

            torch.ones(64, 64) @ torch.ones(64, 64)  # load the BLAS library
            out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": loaded_blas()}
        elif cmd == "layer":
            state[msg["method"]] = build_layer(msg, qt)
            out = {"ok": True}
        elif cmd == "vit":
            state["vit"] = build_vit(msg, qt, root)
            out = {"ok": True}
        elif cmd == "step":
            t0 = time.perf_counter()
            state[msg["name"]]()
            out = {"ms": 1000 * (time.perf_counter() - t0)}
        else:
            out = {"error": f"unknown command {cmd!r}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
