"""Use qpeft's trained adapters and models from PyTorch (one file; needs numpy and torch only).

Fine-tune in TypeScript, evaluate in PyTorch:

    import torch, qpeft_torch as qt
    model = qt.load_vit("checkpoints/vit-fashion-mnist")          # the shipped ViT, converted to torch layout
    qt.apply_adapter(model, "out/quickstart/quantum-peft-k-16-l-4/adapter")   # wrap (or merge=True)
    logits = model(images)                                         # images [B, 28, 28] float32

What it reads
- A qpeft model directory (`config.json` + `model.safetensors`, tfjs layout: a Linear's weight is
  d_in x d_out). `convert_checkpoint` / `vit_state_dict` transpose it to torch layout (d_out x d_in).
- An adapter directory (`adapter_config.json` + `adapter_model.safetensors`):
  * `QUANTUM_PEFT` (qpeft's native format): P and Q are rebuilt from the saved angles theta_p, theta_q by
    this file's own statevector code (templates `simplified-two-design` and `alternating-ry-cz`; for
    dimensions that are not powers of two the adapter's `factorForm`: mixed radix, a qudit on top of qubits,
    or direct sums, both as METHOD.md section 3 describes), in the project's bit order (METHOD.md: basis index
    i = sum_w b_w 2^w, wire 0 least significant; column k of P is the circuit applied to |k>).
  * `QUANTUM_PEFT_LIE`: P = exp(S) I_{d,K} with S = [[A, -B^T], [B, 0]] (exact: a dense matrix exponential in
    float64; `taylor`: the truncated series of the saved order).
  * `LORA` in PEFT's layout (`lora_A.weight` r x d_in, `lora_B.weight` d_out x r, scale lora_alpha / r or
    / sqrt(r) with use_rslora), as written by qpeft's `exportLora` and `saveAdapter`; and qpeft's own LoRA
    layout (`QPEFT_LORA`, lora_down / lora_up), which `saveAdapter` writes when the adapter carries a head.
  Delta W in torch orientation is alpha * Q diag(lambda) P^T (d_out x d_in).
- The trained classification head: from the adapter folder when it has one (`modules_to_save`: qpeft's
  `<name>.modules_to_save.{weight,bias}`, or PEFT's `base_model.model.<name>.weight`), else from
  `head.safetensors` beside the adapter folder (where `qpeft finetune` writes it).

Every problem raises `AdapterFormatError` (a ValueError) saying what was expected and what was found.
"""

from __future__ import annotations

import json
import math
import os
import struct
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

__all__ = [
    "AdapterFormatError",
    "read_safetensors",
    "template_gates",
    "circuit_columns",
    "torch_circuit_columns",
    "factor_columns",
    "mixed_radix_columns",
    "resolve_form",
    "mixed_radix_count",
    "direct_sum_count",
    "lie_columns",
    "adapter_deltas",
    "apply_adapter",
    "load_head",
    "AdaptedLinear",
    "ViT",
    "vit_state_dict",
    "load_vit",
    "convert_checkpoint",
]


class AdapterFormatError(ValueError):
    """An adapter or model folder this reader cannot use; the message says what differs."""


# ----------------------------------------------------------------------------------------------- safetensors

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I32": np.int32, "I64": np.int64}


def read_safetensors(path: str) -> Dict[str, np.ndarray]:
    """Read a .safetensors file into numpy arrays (little-endian F32/F64/F16/I32/I64)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise AdapterFormatError(f"cannot read {path}: {e.strerror}") from None
    if len(raw) < 8:
        raise AdapterFormatError(f"{path}: expected a safetensors file, got {len(raw)} bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise AdapterFormatError(f"{path}: header of {n} bytes does not fit in a {len(raw)}-byte file")
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AdapterFormatError(f"{path}: the header is not valid JSON ({e})") from None
    data = raw[8 + n :]
    out: Dict[str, np.ndarray] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dt = _DTYPES.get(meta.get("dtype"))
        if dt is None:
            raise AdapterFormatError(
                f"{path}: tensor {name} has dtype {meta.get('dtype')!r}; expected one of {sorted(_DTYPES)}"
                " (a quantized adapter: dequantize it with `qpeft quantize` first)"
            )
        start, end = meta["data_offsets"]
        shape = tuple(int(d) for d in meta["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end - start != count * np.dtype(dt).itemsize or end > len(data):
            raise AdapterFormatError(f"{path}: tensor {name} of shape {list(shape)} has a wrong byte range")
        out[name] = np.frombuffer(data[start:end], dtype=np.dtype(dt).newbyteorder("<")).reshape(shape).copy()
    return out


# ----------------------------------------------------------------------------------------------- circuits

# A gate: (name, wires, index into theta or None). Only the real gates of METHOD.md section 2.
Gate = Tuple[str, Tuple[int, ...], Optional[int]]


def _pairs(n: int, first: int) -> List[Tuple[int, int]]:
    return [(w, w + 1) for w in range(first, n - 1, 2)]


def template_gates(template: str, n: int, layers: int) -> Tuple[List[Gate], int]:
    """The gate list of a named template on n qubits with L layers and its angle count (METHOD.md section 2)."""
    gates: List[Gate] = []
    k = 0
    if template == "simplified-two-design":
        for w in range(n):
            gates.append(("ry", (w,), k))
            k += 1
        for _ in range(layers):
            for a, b in _pairs(n, 0) + _pairs(n, 1):
                gates += [("cz", (a, b), None), ("ry", (a,), k), ("ry", (b,), k + 1)]
                k += 2
    elif template == "alternating-ry-cz":

        def ry_layer() -> None:
            nonlocal k
            for w in range(n):
                gates.append(("ry", (w,), k))
                k += 1

        ry_layer()
        for _ in range(layers):
            for first in (0, 1):
                gates += [("cz", p, None) for p in _pairs(n, first)]
                ry_layer()
    else:
        raise AdapterFormatError(
            f"unknown circuit template {template!r}; this reader knows simplified-two-design, alternating-ry-cz"
        )
    return gates, k


def circuit_columns(gates: Sequence[Gate], n: int, theta: np.ndarray, k: int) -> np.ndarray:
    """First k columns of the circuit's 2^n x 2^n real matrix (float64): column j is the circuit on |j>."""
    d = 2**n
    state = np.zeros((d, k), dtype=np.float64)
    state[np.arange(k), np.arange(k)] = 1.0
    s = state.reshape([2] * n + [k])
    ax = lambda w: n - 1 - w  # noqa: E731  (wire w is bit w of the row index)
    for name, wires, p in gates:
        if name == "ry":
            t = float(theta[p])
            c, si = math.cos(t / 2), math.sin(t / 2)
            a0 = np.take(s, 0, axis=ax(wires[0]))
            a1 = np.take(s, 1, axis=ax(wires[0]))
            s = np.stack([c * a0 - si * a1, si * a0 + c * a1], axis=ax(wires[0]))
        elif name in ("cz", "cx", "swap"):
            a, b = wires
            idx_a = [slice(None)] * (n + 1)
            if name == "cz":
                idx_a[ax(a)] = 1
                idx_a[ax(b)] = 1
                s = s.copy()
                s[tuple(idx_a)] *= -1
            elif name == "cx":
                idx_a[ax(a)] = 1
                s = s.copy()
                s[tuple(idx_a)] = np.flip(s[tuple(idx_a)], axis=ax(b) - (1 if ax(b) > ax(a) else 0))
            else:
                s = np.swapaxes(s, ax(a), ax(b)).copy()
        elif name == "x":
            s = np.flip(s, axis=ax(wires[0])).copy()
        elif name == "z":
            idx = [slice(None)] * (n + 1)
            idx[ax(wires[0])] = 1
            s = s.copy()
            s[tuple(idx)] *= -1
        elif name == "h":
            a0 = np.take(s, 0, axis=ax(wires[0]))
            a1 = np.take(s, 1, axis=ax(wires[0]))
            r = 1 / math.sqrt(2)
            s = np.stack([r * (a0 + a1), r * (a0 - a1)], axis=ax(wires[0]))
        else:
            raise AdapterFormatError(f"gate {name!r} is not a real adapter gate (ry, cz, cx, x, z, h, swap)")
    return s.reshape(d, k)


def torch_circuit_columns(gates: Sequence[Gate], n: int, theta: torch.Tensor, k: int) -> torch.Tensor:
    """`circuit_columns` in torch ops (RY and CZ only), differentiable with respect to `theta` (for training)."""
    d = 2**n
    s = torch.eye(d, k, dtype=theta.dtype).reshape([2] * n + [k])
    for name, wires, p in gates:
        ax = n - 1 - wires[0]
        if name == "ry":
            c, si = torch.cos(theta[p] / 2), torch.sin(theta[p] / 2)
            a0, a1 = s.select(ax, 0), s.select(ax, 1)
            s = torch.stack([c * a0 - si * a1, si * a0 + c * a1], dim=ax)
        elif name == "cz":
            bx = n - 1 - wires[1]
            sign = torch.ones([2] * n + [1], dtype=s.dtype)
            idx = [slice(None)] * (n + 1)
            idx[ax], idx[bx] = 1, 1
            sign[tuple(idx)] = -1
            s = s * sign
        else:
            raise AdapterFormatError(f"torch_circuit_columns applies ry and cz only, got {name!r}")
    return s.reshape(d, k)


def _is_pow2(d: int) -> bool:
    return d >= 1 and d & (d - 1) == 0


def _template_count(template: str, n: int, layers: int) -> int:
    """Angles of a template circuit on n qubits (0 for n = 0: a 1x1 block is the constant 1)."""
    return 0 if n == 0 else template_gates(template, n, layers)[1]


def direct_sum_count(dim: int, template: str, layers: int) -> int:
    """Angles of the direct-sum factor of width `dim` (METHOD.md section 3): for the binary digits
    e_0 > e_1 > ... > e_m of dim, every digit but the last has two circuits and one mixing angle."""
    exps = [e for e in range(30, -1, -1) if (dim >> e) & 1]
    t = [_template_count(template, e, layers) for e in exps]
    return sum(2 * c + 1 for c in t[:-1]) + t[-1]


def radix_shape(dim: int) -> Tuple[int, int]:
    """dim = m * 2^a with m odd: (m, a)."""
    m, a = dim, 0
    while m % 2 == 0:
        m //= 2
        a += 1
    return m, a


def mixed_radix_count(dim: int, layers: int) -> int:
    """Angles of the mixed-radix factor of width `dim` (a qudit of dimension m on top of a qubits)."""
    m, a = radix_shape(dim)
    if m == 1:
        return a + 2 * layers * (a - 1)
    if a == 0:
        return (layers + 1) * (m - 1)
    return a + (m - 1) + layers * (2 * a - 2 + m)


FACTOR_FORMS = ("auto", "mixed-radix", "direct-sum")


def resolve_form(dim: int, template: str, layers: int, form: str) -> str:
    """`power-of-two`, `mixed-radix` or `direct-sum` for a factor of width `dim` saved with `factorForm`
    `form`: `auto` takes the form with fewer angles (ties: mixed radix; widths up to 8: mixed radix)."""
    if form not in FACTOR_FORMS:
        raise AdapterFormatError(f"factorForm must be one of {', '.join(FACTOR_FORMS)}, got {form!r}")
    if _is_pow2(dim):
        return "power-of-two"
    if form != "auto":
        return form
    if dim <= 8:
        return "mixed-radix"
    return "mixed-radix" if mixed_radix_count(dim, layers) <= direct_sum_count(dim, template, layers) else "direct-sum"


def _gray(level: int) -> int:
    return level ^ (level >> 1)


def mixed_radix_columns(dim: int, theta: np.ndarray, k: int, layers: int) -> np.ndarray:
    """
    First k columns of the mixed-radix factor (float64, dim x k), simulated on the factor's own rows.

    dim = m * 2^a (m odd, m >= 3). Row r = l * 2^a + j holds level l < m of a qudit and j < 2^a on the
    qubits (in the circuit: basis state gray(l) * 2^a + j, so the qudit sits on the top wires and
    neighbouring levels differ in one bit). Gates, in the order their angles are used:
    RY on each qubit, then the qudit rotation G = G_{m-2} ... G_0 (G_l: an RY on the level pair (l, l+1),
    the level whose gray code has a 0 on the differing wire playing |0>); then per layer (a = 0: G again
    first) the two-design's even then odd site pairs over the a + 1 sites (qubits 0..a-1, the qudit = site
    a): CZ, then a rotation on both sites (RY on a qubit, G on the qudit). CZ with the qudit acts on its
    lowest wire: bit 0 of gray(l).
    """
    m, a = radix_shape(dim)
    block = 2**a
    levels = np.arange(dim) // block
    low = np.arange(dim) % block
    x = np.eye(dim, k, dtype=np.float64)
    used = 0

    def angle() -> float:
        nonlocal used
        t = float(theta[used])
        used += 1
        return t

    def rotate(rows0: np.ndarray, rows1: np.ndarray, t: float) -> None:
        c, s = math.cos(t / 2), math.sin(t / 2)
        x0, x1 = x[rows0].copy(), x[rows1]
        x[rows0] = c * x0 - s * x1
        x[rows1] = s * x0 + c * x1

    def ry(w: int) -> None:
        rows0 = np.nonzero(((low >> w) & 1) == 0)[0]
        rotate(rows0, rows0 + 2**w, angle())

    def qudit() -> None:
        for lv in range(m - 1):
            g0, g1 = _gray(lv), _gray(lv + 1)
            wire = (g0 ^ g1).bit_length() - 1
            a_rows = np.arange(lv * block, (lv + 1) * block)
            b_rows = a_rows + block
            if (g0 >> wire) & 1 == 0:
                rotate(a_rows, b_rows, angle())
            else:
                rotate(b_rows, a_rows, angle())

    def cz(s: int, t: int) -> None:
        bit_s = (low >> s) & 1
        bit_t = (low >> t) & 1 if t < a else np.array([_gray(int(v)) & 1 for v in levels])
        x[(bit_s & bit_t) == 1] *= -1

    for w in range(a):
        ry(w)
    qudit()
    for _ in range(layers):
        if a == 0:
            qudit()
        for s, t in _pairs(a + 1, 0) + _pairs(a + 1, 1):
            cz(s, t)
            ry(s)
            if t < a:
                ry(t)
            else:
                qudit()
    if used != len(theta):
        raise AdapterFormatError(f"the mixed-radix factor of width {dim} used {used} angles of {len(theta)}")
    return x


def _plan(dim: int, template: str, layers: int, form: str = "direct-sum"):
    """The factor plan of src/peft/factor.ts: one circuit (powers of two), a mixed-radix circuit, or a direct
    sum, with theta offsets; and the factor's angle count."""
    if resolve_form(dim, template, layers, form) == "mixed-radix":
        return ("radix", dim, layers), mixed_radix_count(dim, layers)
    offset = 0

    def circuit(d: int):
        nonlocal offset
        n = int(math.log2(d))
        gates, count = template_gates(template, n, layers)
        node = ("circuit", d, n, gates, offset)
        offset += count
        return node

    def build(d: int):
        nonlocal offset
        if d == 1:
            return ("identity", 1)
        if _is_pow2(d):
            return circuit(d)
        d1 = 2 ** int(math.floor(math.log2(d)))
        pre = circuit(d1)
        mix = offset
        offset += 1
        post = circuit(d1)
        rest = build(d - d1)
        return ("sum", d, pre, mix, post, rest)

    plan = build(dim)
    return plan, offset


def _apply_circuit(node, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    _, d, n, gates, off = node
    u = circuit_columns(gates, n, theta[off:], d)  # full d x d operator
    return u @ x


def _apply_plan(plan, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    if plan[0] == "identity":
        return x
    if plan[0] == "circuit":
        return _apply_circuit(plan, theta, x)
    _, d, pre, mix, post, rest = plan
    d1 = pre[1]
    d2 = d - d1
    top = _apply_circuit(pre, theta, x[:d1])
    bottom = x[d1:]
    phi = float(theta[mix])
    c, s = math.cos(phi), math.sin(phi)
    t1 = top[:d2]
    new_top = np.concatenate([t1 * c - bottom * s, top[d2:]], axis=0)
    new_bottom = t1 * s + bottom * c
    return np.concatenate([_apply_circuit(post, theta, new_top), _apply_plan(rest, theta, new_bottom)], axis=0)


def factor_columns(
    dim: int, theta: np.ndarray, k: int, template: str, layers: int, form: str = "direct-sum"
) -> np.ndarray:
    """
    P = O(theta) I_{d,K} for a Quantum-PEFT factor of dimension `dim` (float64, d x k). `form` is the
    adapter's `factorForm` (`auto`, `mixed-radix`, `direct-sum`; folders saved before mixed radix existed
    have none and are direct sums, the default here).
    """
    plan, count = _plan(dim, template, layers, form)
    if theta.shape != (count,):
        kind = resolve_form(dim, template, layers, form)
        raise AdapterFormatError(
            f"a {kind} factor of dimension {dim} ({template}, {layers} layers, factorForm {form}) has {count}"
            f" angles, got shape {list(theta.shape)}"
        )
    if not 1 <= k <= dim:
        raise AdapterFormatError(f"rank K must be in 1..{dim}, got {k}")
    theta = theta.astype(np.float64)
    if plan[0] == "radix":
        return mixed_radix_columns(dim, theta, k, layers)
    if plan[0] == "circuit":
        return circuit_columns(plan[3], plan[2], theta, k)
    if plan[0] == "identity":
        return np.ones((1, 1))
    return _apply_plan(plan, theta, np.eye(dim, k))


def lie_columns(a: np.ndarray, b: np.ndarray, k: int, form: str = "exact", order: int = 8) -> np.ndarray:
    """P = exp(S) I_{d,K}, S = [[A, -B^T], [B, 0]], A = U - U^T from the row-major upper triangle `a` (float64)."""
    dk = b.shape[0]
    d = dk + k
    A = np.zeros((k, k))
    iu = np.triu_indices(k, 1)
    if a.shape != (len(iu[0]),):
        raise AdapterFormatError(f"expected {len(iu[0])} skew parameters for K = {k}, got shape {list(a.shape)}")
    A[iu] = a
    A = A - A.T
    S = np.zeros((d, d))
    S[:k, :k] = A
    S[:k, k:] = -b.T
    S[k:, :k] = b
    if form == "exact":
        return torch.linalg.matrix_exp(torch.from_numpy(S)).numpy()[:, :k]
    if form == "taylor":
        term = np.eye(d, k)
        total = term.copy()
        for j in range(1, order + 1):
            term = S @ term / j
            total += term
        return total
    raise AdapterFormatError(f"unknown Lie form {form!r}; expected exact or taylor")


# ----------------------------------------------------------------------------------------------- adapters


def _read_config(adapter_dir: str) -> dict:
    path = os.path.join(adapter_dir, "adapter_config.json")
    try:
        with open(path, encoding="utf8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise AdapterFormatError(f"no adapter_config.json in {adapter_dir!r}") from None
    except json.JSONDecodeError as e:
        raise AdapterFormatError(f"{path} is not valid JSON: {e}") from None


def _tensor(weights: Dict[str, np.ndarray], key: str, shape: Optional[Tuple[int, ...]] = None) -> np.ndarray:
    if key not in weights:
        raise AdapterFormatError(f"adapter_model.safetensors has no tensor {key}")
    t = weights[key]
    if shape is not None and tuple(t.shape) != tuple(shape):
        raise AdapterFormatError(f"{key}: expected shape {list(shape)}, got {list(t.shape)}")
    if not np.all(np.isfinite(t)):
        raise AdapterFormatError(f"{key}: has non-finite values (the file is corrupt)")
    return t


PREFIX = "base_model.model."


def _quantum_delta(cfg: dict, targets: List[dict], w: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    method = cfg.get("method")
    c = cfg.get("config") or {}
    k = int(c.get("rank", 0))
    alpha = float(c.get("alpha", 1))
    out = {}
    for t in targets:
        name, din, dout = t["name"], int(t["in_features"]), int(t["out_features"])
        lam = _tensor(w, f"{PREFIX}{name}.lambda", (k,)).astype(np.float64)
        if method == "quantum-peft":
            if c.get("qasm") is not None or c.get("circuit") is not None:
                raise AdapterFormatError(
                    f"{name}: this adapter uses custom circuits (config.qasm / config.circuit); the reader rebuilds"
                    " the named templates only (the trained circuits are in the folder's circuits/*.qasm)"
                )
            tpl, layers = c.get("template", "simplified-two-design"), int(c.get("layers", 2))
            form = c.get("factorForm", "direct-sum")  # absent: saved before mixed radix existed
            p = factor_columns(din, _tensor(w, f"{PREFIX}{name}.theta_p"), k, tpl, layers, form)
            q = factor_columns(dout, _tensor(w, f"{PREFIX}{name}.theta_q"), k, tpl, layers, form)
        else:
            form, order = c.get("form", "exact"), int(c.get("order", 8))
            m = k * (k - 1) // 2
            p = lie_columns(
                _tensor(w, f"{PREFIX}{name}.a_p", (m,)).astype(np.float64),
                _tensor(w, f"{PREFIX}{name}.b_p", (din - k, k)).astype(np.float64),
                k,
                form,
                order,
            )
            q = lie_columns(
                _tensor(w, f"{PREFIX}{name}.a_q", (m,)).astype(np.float64),
                _tensor(w, f"{PREFIX}{name}.b_q", (dout - k, k)).astype(np.float64),
                k,
                form,
                order,
            )
        # torch orientation (d_out x d_in): (alpha P diag(lambda) Q^T)^T
        out[name] = (q * (alpha * lam)) @ p.T
    return out


def _lora_delta(cfg: dict, w: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    r0 = int(cfg.get("r", 8))
    alpha0 = float(cfg.get("lora_alpha", r0))
    ranks = cfg.get("rank_pattern") or {}
    alphas = cfg.get("alpha_pattern") or {}
    rs = bool(cfg.get("use_rslora", False))
    if cfg.get("use_dora"):
        raise AdapterFormatError("use_dora adapters are not read here (DoRA rescales W by a learned norm)")
    out = {}
    for key in sorted(w):
        if not key.endswith(".lora_A.weight"):
            continue
        name = key[len(PREFIX) : -len(".lora_A.weight")] if key.startswith(PREFIX) else None
        if name is None:
            raise AdapterFormatError(f"{key}: expected keys {PREFIX}<module>.lora_A.weight")
        a = _tensor(w, key)
        b = _tensor(w, f"{PREFIX}{name}.lora_B.weight")
        r = int(ranks.get(name, r0))
        alpha = float(alphas.get(name, alpha0))
        if a.shape[0] != r or b.shape[1] != r:
            raise AdapterFormatError(f"{name}: lora_A {list(a.shape)} / lora_B {list(b.shape)} do not have rank {r}")
        scale = alpha / math.sqrt(r) if rs else alpha / r
        out[name] = scale * (b.astype(np.float64) @ a.astype(np.float64))
    if not out:
        raise AdapterFormatError("adapter_model.safetensors holds no lora_A / lora_B tensors")
    return out


def _native_lora_delta(cfg: dict, targets: List[dict], w: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """qpeft's own LoRA layout (folders that carry a head, peft_type QPEFT_LORA): lora_down d_in x r,
    lora_up r x d_out, Delta W (tfjs orientation) = scale * down @ up, scale = loraAlpha / r or / sqrt(r)."""
    c = cfg.get("config") or {}
    r = int(c.get("r", 0))
    alpha = float(c.get("loraAlpha", r))
    scale = alpha / math.sqrt(r) if c.get("useRslora") else alpha / r
    out = {}
    for t in targets:
        name, din, dout = t["name"], int(t["in_features"]), int(t["out_features"])
        down = _tensor(w, f"{PREFIX}{name}.lora_down", (din, r)).astype(np.float64)
        up = _tensor(w, f"{PREFIX}{name}.lora_up", (r, dout)).astype(np.float64)
        out[name] = scale * (down @ up).T
    return out


def adapter_deltas(adapter_dir: str) -> Dict[str, np.ndarray]:
    """Delta W per target module in torch orientation (d_out x d_in, float64) for a QUANTUM_PEFT(_LIE) or LORA folder."""
    cfg = _read_config(adapter_dir)
    w = read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
    peft_type = cfg.get("peft_type")
    if cfg.get("format") == "qpeft-adapter" and cfg.get("method") in ("quantum-peft", "quantum-peft-lie", "lora"):
        targets = cfg.get("targets")
        if not isinstance(targets, list):
            raise AdapterFormatError(f"{adapter_dir}: adapter_config.json has no targets list")
        if cfg.get("method") == "lora":
            return _native_lora_delta(cfg, targets, w)
        return _quantum_delta(cfg, targets, w)
    if peft_type == "LORA":
        return _lora_delta(cfg, w)
    raise AdapterFormatError(
        f"{adapter_dir}: peft_type {peft_type!r} (method {cfg.get('method')!r}) is not read here; expected"
        " QUANTUM_PEFT, QUANTUM_PEFT_LIE or LORA (export other low-rank methods with qpeft's exportLora)"
    )


class AdaptedLinear(nn.Module):
    """A frozen nn.Linear plus a fixed low-rank update: y = base(x) + x (delta_W)^T, with delta_W = up @ down."""

    def __init__(self, base: nn.Linear, delta: np.ndarray, rank: Optional[int] = None):
        super().__init__()
        self.base = base
        # store delta W = U diag(s) V^T as two thin factors (exact for rank <= r)
        d = torch.from_numpy(delta)
        r = rank if rank is not None else int(min(delta.shape))
        u, s, vh = torch.linalg.svd(d, full_matrices=False)
        self.register_buffer("up", (u[:, :r] * s[:r]).to(base.weight.dtype))
        self.register_buffer("down", vh[:r].to(base.weight.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.down.T) @ self.up.T

    def delta_weight(self) -> torch.Tensor:
        return self.up @ self.down


def _head_tensors(adapter_dir: str, cfg: dict) -> Tuple[Optional[Dict[str, np.ndarray]], str]:
    """
    The trained head, in torch layout (weight d_out x d_in). A qpeft folder lists it under `modules_to_save`
    (entries {name, in_features, out_features}; tensors `<prefix><name>.modules_to_save.{weight,bias}`, the
    weight d_in x d_out as qpeft stores it); a PEFT folder by module name (`<prefix><name>.weight`, torch
    layout). A folder without one: `head.safetensors` beside it (tfjs layout), where `qpeft finetune` writes
    the head of adapters trained without modulesToSave.
    """
    mts = cfg.get("modules_to_save")
    if cfg.get("format") == "qpeft-adapter" and mts:
        if not isinstance(mts, list) or not all(isinstance(m, dict) and isinstance(m.get("name"), str) for m in mts):
            raise AdapterFormatError(
                f"{adapter_dir}: modules_to_save must list {{name, in_features, out_features}} entries, got {mts!r}"
            )
        w = read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
        found = {}
        for m in mts:
            name, din, dout = m["name"], int(m["in_features"]), int(m["out_features"])
            found[f"{name}.weight"] = _tensor(w, f"{PREFIX}{name}.modules_to_save.weight", (din, dout)).T
            bias_key = f"{PREFIX}{name}.modules_to_save.bias"
            if bias_key in w:
                found[f"{name}.bias"] = _tensor(w, bias_key, (dout,))
        return found, "torch"
    if mts:
        w = read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
        found = {}
        for name in mts:
            if not isinstance(name, str):
                raise AdapterFormatError(f"{adapter_dir}: modules_to_save must list module names, got {name!r}")
            for p in ("weight", "bias"):
                for key in (f"{PREFIX}{name}.{p}", f"{PREFIX}{name}.modules_to_save.default.{p}"):
                    if key in w:
                        found[f"{name}.{p}"] = w[key]
        if not any(k.endswith(".weight") for k in found):
            raise AdapterFormatError(f"{adapter_dir}: modules_to_save lists {mts}, but the tensors hold none of them")
        return found, "torch"
    side = os.path.join(os.path.dirname(os.path.abspath(adapter_dir)), "head.safetensors")
    if os.path.exists(side):
        return read_safetensors(side), "tfjs"
    return None, ""


def _set_linear(module: nn.Module, name: str, weight: np.ndarray, bias: Optional[np.ndarray]) -> None:
    parent_name, _, attr = name.rpartition(".")
    parent = module.get_submodule(parent_name) if parent_name else module
    old = getattr(parent, attr)
    if not isinstance(old, nn.Linear):
        raise AdapterFormatError(f"{name} is a {type(old).__name__}, expected torch.nn.Linear")
    lin = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
        if bias is not None:
            lin.bias.copy_(torch.from_numpy(bias))
    setattr(parent, attr, lin.to(old.weight.dtype))


def load_head(module: nn.Module, adapter_dir: str) -> List[str]:
    """Replace the module's head Linear(s) by the trained head saved with the adapter; returns their names."""
    tensors, layout = _head_tensors(adapter_dir, _read_config(adapter_dir))
    if not tensors:
        return []
    names = sorted({k.rsplit(".", 1)[0] for k in tensors})
    for hn in names:
        if f"{hn}.weight" not in tensors:
            raise AdapterFormatError(f"the saved head has no {hn}.weight")
        wgt = tensors[f"{hn}.weight"]
        _set_linear(module, hn, wgt.T if layout == "tfjs" else wgt, tensors.get(f"{hn}.bias"))
    return names


def apply_adapter(module: nn.Module, adapter_dir: str, merge: bool = False, head: bool = True) -> List[str]:
    """
    Apply a qpeft adapter folder to the torch.nn.Linear modules of `module` named by its targets (dotted
    names, as in qpeft). `merge=True` adds delta W into each weight; otherwise each Linear is wrapped in an
    `AdaptedLinear`. With `head` (default), the trained head replaces the module's head (see `_head_tensors`).
    Returns the adapted module names.
    """
    cfg = _read_config(adapter_dir)
    deltas = adapter_deltas(adapter_dir)
    done = []
    for name, delta in deltas.items():
        try:
            lin = module.get_submodule(name)
        except AttributeError:
            raise AdapterFormatError(f"the adapter targets {name}, which this module does not have") from None
        if not isinstance(lin, nn.Linear):
            raise AdapterFormatError(f"{name} is a {type(lin).__name__}, expected torch.nn.Linear")
        if tuple(lin.weight.shape) != delta.shape:
            raise AdapterFormatError(
                f"{name}: the adapter's delta W is {list(delta.shape)} (d_out x d_in), the Linear's weight is {list(lin.weight.shape)}"
            )
        if merge:
            with torch.no_grad():
                lin.weight.add_(torch.from_numpy(delta).to(lin.weight.dtype))
        else:
            parent_name, _, attr = name.rpartition(".")
            parent = module.get_submodule(parent_name) if parent_name else module
            c = cfg.get("config") or {}
            rank = int(c.get("rank") or c.get("r") or cfg.get("r") or min(delta.shape))
            setattr(parent, attr, AdaptedLinear(lin, delta, min(rank, *delta.shape)))
        done.append(name)
    if head:
        load_head(module, adapter_dir)
    return done


# ----------------------------------------------------------------------------------------------- the ViT


def _gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.output = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h, dh = self.heads, d // self.heads
        split = lambda y: y.reshape(b, t, h, dh).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        attn = torch.softmax((q @ k.transpose(-1, -2)) * (1 / math.sqrt(dh)), dim=-1)
        return self.output((attn @ v).transpose(1, 2).reshape(b, t, d))


class _Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(_gelu_tanh(self.fc1(x)))


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_dim: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.attn = _Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.mlp = _Mlp(dim, mlp_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    """qpeft's ViT (src/models/vit.ts) in PyTorch, with the same module names (patchEmbed, blocks.i.attn.query, …)."""

    def __init__(
        self,
        imageSize: int = 28,
        patchSize: int = 7,
        channels: int = 1,
        dim: int = 64,
        depth: int = 4,
        heads: int = 4,
        mlpDim: int = 128,
        numClasses: int = 10,
        pooling: str = "cls",
        seed: int = 0,
    ):
        super().__init__()
        if imageSize % patchSize or dim % heads or pooling not in ("cls", "mean"):
            raise AdapterFormatError(
                f"bad ViT config: imageSize {imageSize} / patchSize {patchSize}, dim {dim} / heads {heads}, pooling {pooling!r}"
            )
        self.image_size, self.patch_size, self.channels, self.dim, self.pooling = (
            imageSize,
            patchSize,
            channels,
            dim,
            pooling,
        )
        tokens = (imageSize // patchSize) ** 2 + (1 if pooling == "cls" else 0)
        self.patchEmbed = nn.Linear(patchSize * patchSize * channels, dim)
        self.clsToken = nn.Parameter(torch.zeros(1, 1, dim)) if pooling == "cls" else None
        self.position = nn.Parameter(torch.zeros(tokens, dim))
        self.blocks = nn.ModuleList([_Block(dim, heads, mlpDim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-5)
        self.head = nn.Linear(dim, numClasses)

    def patchify(self, images: torch.Tensor) -> torch.Tensor:
        s, p, c = self.image_size, self.patch_size, self.channels
        x = images.reshape(images.shape[0], s // p, p, s // p, p, c).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(images.shape[0], (s // p) ** 2, p * p * c)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        b = images.shape[0]
        x = self.patchEmbed(self.patchify(images))
        if self.clsToken is not None:
            x = torch.cat([self.clsToken.expand(b, 1, self.dim), x], dim=1)
        x = x + self.position
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return x[:, 0] if self.clsToken is not None else x.mean(1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images [B, H, W], [B, H, W, C] or [B, H*W*C] → logits [B, numClasses]."""
        return self.head(self.features(images))


def _read_model_dir(model_dir: str) -> Tuple[dict, Dict[str, np.ndarray]]:
    path = os.path.join(model_dir, "config.json")
    try:
        with open(path, encoding="utf8") as f:
            file = json.load(f)
    except FileNotFoundError:
        raise AdapterFormatError(f"no config.json in {model_dir!r} (expected a qpeft model directory)") from None
    if file.get("format") != "qpeft-model" or file.get("kind") != "vit":
        raise AdapterFormatError(
            f"{path}: expected a qpeft-model of kind 'vit', got format {file.get('format')!r} kind {file.get('kind')!r}"
        )
    return file["config"], read_safetensors(os.path.join(model_dir, "model.safetensors"))


def vit_state_dict(tensors: Dict[str, np.ndarray], linear_names: Sequence[str]) -> Dict[str, torch.Tensor]:
    """qpeft parameters (tfjs layout) → a torch state dict: Linear weights transposed, everything else as is."""
    lin = set(linear_names)
    out = {}
    for k, v in tensors.items():
        mod = k.rsplit(".", 1)[0]
        out[k] = torch.from_numpy(np.ascontiguousarray(v.T if (mod in lin and k.endswith(".weight")) else v))
    return out


def load_vit(model_dir: str) -> ViT:
    """Build the torch ViT of a qpeft model directory and load its weights (strict)."""
    config, tensors = _read_model_dir(model_dir)
    model = ViT(**config)
    linear = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    sd = vit_state_dict(tensors, linear)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise AdapterFormatError(f"{model_dir}: missing {missing[:4]}, unexpected {unexpected[:4]}")
    return model.eval()


def convert_checkpoint(model_dir: str, out_file: str) -> None:
    """Write a qpeft ViT checkpoint as a torch state dict (`torch.save`) plus its config under key `config`."""
    config, _ = _read_model_dir(model_dir)
    model = load_vit(model_dir)
    tmp = out_file + ".tmp"
    torch.save({"config": config, "state_dict": model.state_dict()}, tmp)
    os.replace(tmp, out_file)


if __name__ == "__main__":  # python3 python/qpeft_torch.py convert MODEL_DIR OUT.pt
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "convert":
        convert_checkpoint(sys.argv[2], sys.argv[3])
        print(f"wrote {sys.argv[3]}")
    else:
        print("usage: python3 python/qpeft_torch.py convert MODEL_DIR OUT.pt", file=sys.stderr)
        sys.exit(2)
