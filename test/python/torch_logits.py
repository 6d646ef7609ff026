"""Child process of torch-reader.test.ts: evaluate the fixture adapters with python/qpeft_torch.py.

Prints one JSON object: torch logits per adapter folder and mode (wrap, merge, and the LoRA export), and the
direct-sum factor columns rebuilt from the saved angles.
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
base = qt.load_vit(os.path.join(root, "checkpoints", "vit-fashion-mnist"))
with torch.no_grad():
    result["base_features"] = base.features(images).flatten().tolist()
print(json.dumps(result))
