"""Child process of torch-reader.test.ts: evaluate the fixture adapters with python/qpeft_torch.py.

Prints one JSON object: torch logits per adapter folder and mode (wrap, merge, and the LoRA export; adapters
that carry their head), factors of non-power-of-two widths rebuilt from the saved angles, and the outputs of
small adapted Linears of such widths.
"""
import json
import os
import sys

import numpy as np
import torch

root, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "python"))
import qpeft_torch as qt  # noqa: E402

torch.set_num_threads(1)
images = torch.tensor(json.load(open(os.path.join(out, "images.json"))), dtype=torch.float32).reshape(6, 28, 28)
result = {"logits": {}}
for label in ("quantum-peft", "quantum-peft-alt", "quantum-peft-lie", "lora"):
    for folder in ("adapter", "adapter-lora"):
        for merge in (False, True):
            model = qt.load_vit(os.path.join(root, "checkpoints", "vit-fashion-mnist"))
            qt.apply_adapter(model, os.path.join(out, label, folder), merge=merge)
            with torch.no_grad():
                result["logits"][f"{label}/{folder}/{'merge' if merge else 'wrap'}"] = model(images).flatten().tolist()
    head_only = qt.load_vit(os.path.join(root, "checkpoints", "vit-fashion-mnist"))
    qt.load_head(head_only, os.path.join(out, label, "adapter-lora"))
    with torch.no_grad():
        result["logits"][f"{label}/head-only"] = head_only(images).flatten().tolist()
# adapters that carry their head (modules_to_save inside the folder; a decoy head.safetensors beside it)
for label in ("quantum-peft-mts", "lora-mts"):
    for merge in (False, True):
        model = qt.load_vit(os.path.join(root, "checkpoints", "vit-fashion-mnist"))
        qt.apply_adapter(model, os.path.join(out, label, "adapter"), merge=merge)
        with torch.no_grad():
            result["logits"][f"{label}/adapter/{'merge' if merge else 'wrap'}"] = model(images).flatten().tolist()
    decoy = qt.load_vit(os.path.join(root, "checkpoints", "vit-fashion-mnist"))
    qt.apply_adapter(decoy, os.path.join(out, label, "adapter"), head=False)
    side = qt.read_safetensors(os.path.join(out, label, "head.safetensors"))
    qt._set_linear(decoy, "head", side["head.weight"].T, side["head.bias"])
    with torch.no_grad():
        result["logits"][f"{label}/decoy-head"] = decoy(images).flatten().tolist()

# factors of widths that are not powers of two, rebuilt from the same angles
result["factors"] = []
for case in json.load(open(os.path.join(out, "factors.json"))):
    theta = np.array(case["theta"], dtype=np.float32)
    p = qt.factor_columns(case["dim"], theta, case["k"], case["template"], case["layers"], case["form"])
    result["factors"].append(
        {
            "resolved": qt.resolve_form(case["dim"], case["template"], case["layers"], case["form"]),
            "p": p.flatten().tolist(),
            "orthonormality": float(np.abs(p.T @ p - np.eye(case["k"])).max()),
        }
    )

# small adapters on Linears 24 -> 40 -> 12: outputs of the wrapped and merged layers
tiny = json.load(open(os.path.join(out, "tiny.json")))
x = torch.tensor(tiny["x"], dtype=torch.float32).reshape(5, 24)
result["tiny"] = {}
for form in ("auto", "direct-sum"):
    for merge in (False, True):
        base_w = tiny[form]["base"]
        net = torch.nn.Module()
        net.proj = torch.nn.Linear(24, 40)
        net.out = torch.nn.Linear(40, 12)
        with torch.no_grad():
            for name, (din, dout) in (("proj", (24, 40)), ("out", (40, 12))):
                lin = getattr(net, name)
                lin.weight.copy_(torch.tensor(base_w[name]["weight"]).reshape(din, dout).T)
                lin.bias.copy_(torch.tensor(base_w[name]["bias"]))
        qt.apply_adapter(net, os.path.join(out, f"tiny-{form}"), merge=merge)
        with torch.no_grad():
            h = net.proj(x)
            result["tiny"][f"{form}/{'merge' if merge else 'wrap'}"] = {
                "proj": h.flatten().tolist(),
                "out": net.out(h).flatten().tolist(),
            }

base = qt.load_vit(os.path.join(root, "checkpoints", "vit-fashion-mnist"))
with torch.no_grad():
    result["base_features"] = base.features(images).flatten().tolist()
print(json.dumps(result))
