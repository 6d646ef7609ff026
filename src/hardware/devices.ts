/**
 * Device topologies and error rates for plans, and the initial layout that puts a circuit's chain of
 * neighbouring pairs onto a path of the device.
 *
 * Built-in devices:
 * - `ibm-eagle-127`: IBM's 127-qubit Eagle heavy-hex lattice (ibm_sherbrooke, ibm_kyiv, …): seven rows of
 *   14/15/15/15/15/15/14 qubits joined by four bridge qubits between consecutive rows, 144 couplings. The
 *   edge list is generated from that structure and matches the coupling map of Qiskit's published
 *   `FakeSherbrooke` backend (qiskit-ibm-runtime `fake_provider`, `conf_sherbrooke.json`).
 * - `ionq-aria-25`: IonQ Aria, 25 trapped-ion qubits with all-to-all connectivity. Error rates from the
 *   published average fidelities (Azure Quantum IonQ provider page, learn.microsoft.com/azure/quantum/
 *   provider-ionq): one-qubit 99.95 %, two-qubit 99.6 %, SPAM 99.61 %.
 * - `linear-N` (N = 2…1000): a chain 0–1–…–(N−1) with no error rates (a topology only).
 * Eagle's error rates below are representative magnitudes of recent calibrations (two-qubit ECR ≈ 8e−3,
 * sx ≈ 3e−4, readout ≈ 1.5e−2), not one calibration: pass `--noise` / `--readout` for a current one.
 */
import { readFileSync } from 'node:fs';
import type { Circuit } from '../circuit/ir.ts';
import { describe, InputError } from '../errors.ts';
import { type Coupling, routeCircuit } from '../qasm/connectivity.ts';

/** Average error probabilities of a device (per gate, per measured qubit). */
export interface DeviceErrors {
  readonly oneQubit: number;
  readonly twoQubit: number;
  readonly readout: number;
}

/** A device: a name, a coupling graph over its physical qubits and (optionally) its error rates. */
export interface Device {
  readonly name: string;
  readonly qubits: number;
  /** Undirected couplings, or `all` for all-to-all. */
  readonly edges: readonly (readonly [number, number])[] | 'all';
  readonly errors: DeviceErrors | null;
  /** Gates that cost nothing on the device (IBM's rz is a frame change). */
  readonly virtualGates: readonly string[];
  readonly source: string;
}

/** The 144 couplings of IBM's 127-qubit Eagle heavy-hex lattice (see the file comment). */
export function eagleEdges(): [number, number][] {
  const rows: number[][] = [];
  const bridges: number[][] = [];
  let q = 0;
  const lengths = [14, 15, 15, 15, 15, 15, 14];
  for (let r = 0; r < lengths.length; r++) {
    rows.push(Array.from({ length: lengths[r]! }, () => q++));
    if (r < lengths.length - 1) bridges.push([q++, q++, q++, q++]);
  }
  const edges: [number, number][] = [];
  for (const row of rows) for (let i = 0; i + 1 < row.length; i++) edges.push([row[i]!, row[i + 1]!]);
  for (let r = 0; r < bridges.length; r++) {
    // Even gaps hang from columns 0, 4, 8, 12 of the row above (and the row below, shifted by one when
    // the lower row is the long one); odd gaps from columns 2, 6, 10, 14.
    const above = rows[r]!;
    const below = rows[r + 1]!;
    const colsAbove = r % 2 === 0 ? [0, 4, 8, 12] : [2, 6, 10, 14];
    const colsBelow = r % 2 === 0 ? (r === 0 ? [0, 4, 8, 12] : [0, 4, 8, 12]) : [2, 6, 10, 14];
    bridges[r]!.forEach((b, i) => {
      edges.push([above[colsAbove[i]!]!, b]);
      edges.push([b, below[r === bridges.length - 1 && r % 2 === 1 ? colsBelow[i]! - 1 : colsBelow[i]!]!]);
    });
  }
  return edges;
}

const EAGLE: Device = {
  name: 'ibm-eagle-127',
  qubits: 127,
  edges: eagleEdges(),
  errors: { oneQubit: 3e-4, twoQubit: 8e-3, readout: 1.5e-2 },
  virtualGates: ['rz', 'barrier'],
  source: "heavy-hex map of Qiskit's FakeSherbrooke; representative Eagle error rates",
};

const ARIA: Device = {
  name: 'ionq-aria-25',
  qubits: 25,
  edges: 'all',
  errors: { oneQubit: 5e-4, twoQubit: 4e-3, readout: 3.9e-3 },
  virtualGates: ['barrier'],
  source: 'IonQ Aria average fidelities (Azure Quantum IonQ provider documentation)',
};

/** The names `--device` accepts (`linear-N` for any N in 2..1000). */
export const DEVICE_NAMES = ['ibm-eagle-127', 'ionq-aria-25', 'linear-N'] as const;

/** A built-in device by name. */
export function getDevice(name: string): Device {
  if (name === EAGLE.name) return EAGLE;
  if (name === ARIA.name) return ARIA;
  const m = /^linear-(\d+)$/.exec(name);
  if (m && Number(m[1]) >= 2 && Number(m[1]) <= 1000) {
    const n = Number(m[1]);
    return {
      name,
      qubits: n,
      edges: Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as [number, number]),
      errors: null,
      virtualGates: ['barrier'],
      source: 'a chain of qubits',
    };
  }
  throw new InputError(`unknown device ${describe(name)}; expected one of ${DEVICE_NAMES.join(', ')}`);
}

/**
 * A device from a coupling file: JSON `[[a, b], …]` or `{"edges": [[a, b], …], "errors": {oneQubit,
 * twoQubit, readout}}`, or text with one `a b` / `a-b` pair per line (`#` comments).
 */
export function deviceFromCouplingFile(file: string): Device {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(
      `--coupling: cannot read ${describe(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let edges: unknown;
  let errors: unknown = null;
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch (e) {
      throw new InputError(`--coupling: ${describe(file)} is not valid JSON: ${(e as Error).message}`);
    }
    edges = Array.isArray(data) ? data : (data as { edges?: unknown }).edges;
    if (!Array.isArray(data)) errors = (data as { errors?: unknown }).errors ?? null;
  } else {
    edges = trimmed
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean)
      .map((l, i) => {
        const parts = l.split(/[\s,-]+/).filter(Boolean);
        if (parts.length !== 2 || !parts.every((p) => /^\d+$/.test(p))) {
          throw new InputError(
            `--coupling: line ${i + 1} of ${describe(file)}: expected "a b", got ${describe(l)}`,
          );
        }
        return parts.map(Number);
      });
  }
  if (!Array.isArray(edges) || edges.length === 0) {
    throw new InputError(`--coupling: ${describe(file)} has no edges (expected [[a, b], …])`);
  }
  let n = 0;
  for (const e of edges) {
    if (
      !Array.isArray(e) ||
      e.length !== 2 ||
      !e.every((x) => Number.isInteger(x) && x >= 0 && x < 100_000) ||
      e[0] === e[1]
    ) {
      throw new InputError(
        `--coupling: edges must be pairs of two different qubit indices, got ${JSON.stringify(e)}`,
      );
    }
    n = Math.max(n, e[0] + 1, e[1] + 1);
  }
  let errs: DeviceErrors | null = null;
  if (errors !== null) {
    const o = errors as Record<string, unknown>;
    for (const k of ['oneQubit', 'twoQubit', 'readout']) {
      const v = o[k];
      if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
        throw new InputError(`--coupling: errors.${k} must be a probability in [0, 1), got ${describe(v)}`);
      }
    }
    errs = { oneQubit: o.oneQubit as number, twoQubit: o.twoQubit as number, readout: o.readout as number };
  }
  return {
    name: `coupling:${file}`,
    qubits: n,
    edges: edges as [number, number][],
    errors: errs,
    virtualGates: ['rz', 'barrier'],
    source: file,
  };
}

/** How a circuit's logical qubits sit on a device. */
export interface LayoutChoice {
  /** `physical[logical]`. */
  readonly physical: readonly number[];
  /** The coupling among the chosen physical qubits relabelled 0…n−1 (what the exporter checks). */
  readonly coupling: Coupling;
  /** SWAPs a router inserts (0 when the circuit's pairs lie on a device path). */
  readonly swaps: number;
  readonly note: string;
}

function adjacencyLists(d: Device): number[][] {
  const adj = Array.from({ length: d.qubits }, () => [] as number[]);
  if (d.edges === 'all') return adj;
  for (const [a, b] of d.edges) {
    if (!adj[a]!.includes(b)) adj[a]!.push(b);
    if (!adj[b]!.includes(a)) adj[b]!.push(a);
  }
  return adj;
}

/**
 * A simple path of `length` qubits in the device graph, by depth-first search with backtracking (starting
 * from low-degree qubits, visiting low-degree neighbours first, which finds long paths in lattices quickly);
 * null when none is found within the step budget.
 */
export function findPath(d: Device, length: number, budget = 2_000_000): number[] | null {
  if (length > d.qubits) return null;
  if (d.edges === 'all') return Array.from({ length }, (_, i) => i);
  const adj = adjacencyLists(d);
  const order = [...adj.keys()].sort((a, b) => adj[a]!.length - adj[b]!.length || a - b);
  const used = new Uint8Array(d.qubits);
  const path: number[] = [];
  let steps = 0;
  const dfs = (u: number): boolean => {
    if (++steps > budget) return false;
    path.push(u);
    used[u] = 1;
    if (path.length === length) return true;
    const next = adj[u]!.filter((v) => !used[v]).sort((a, b) => adj[a]!.length - adj[b]!.length || a - b);
    for (const v of next) if (dfs(v)) return true;
    path.pop();
    used[u] = 0;
    return false;
  };
  for (const s of order) {
    if (steps > budget) break;
    if (dfs(s)) return path;
  }
  return null;
}

/** Whether every two-qubit gate of the circuit couples wires i and i + 1. */
function chainOnly(circuit: Circuit): boolean {
  return circuit.gates.every((g) => g.wires.length < 2 || Math.abs(g.wires[0] - g.wires[1]!) === 1);
}

/**
 * The initial layout of `circuit` on `device`: when its two-qubit gates only couple neighbours i, i + 1 (as
 * every template's do) and the device has a simple path of n qubits, logical i goes to the path's i-th
 * qubit and no SWAP is needed. Otherwise a connected set of n qubits (breadth-first from the best-connected
 * qubit) is taken and the greedy router's SWAP count reported.
 */
export function chooseLayout(device: Device, circuit: Circuit): LayoutChoice {
  const n = circuit.qubits;
  if (n > device.qubits) {
    throw new InputError(`the circuit needs ${n} qubits; device ${device.name} has ${device.qubits}`);
  }
  if (device.edges === 'all') {
    const physical = Array.from({ length: n }, (_, i) => i);
    return {
      physical,
      coupling: 'all',
      swaps: 0,
      note: `all-to-all device: trivial layout ${physical.join(' ')}`,
    };
  }
  const path = chainOnly(circuit) ? findPath(device, n) : null;
  if (path) {
    return {
      physical: path,
      coupling: 'linear',
      swaps: 0,
      note: `the circuit's chain of neighbouring pairs lies on the device path ${path.join('-')}: no SWAP`,
    };
  }
  const adj = adjacencyLists(device);
  const start = [...adj.keys()].sort((a, b) => adj[b]!.length - adj[a]!.length || a - b)[0]!;
  const chosen: number[] = [start];
  const seen = new Set(chosen);
  for (let h = 0; h < chosen.length && chosen.length < n; h++) {
    for (const v of adj[chosen[h]!]!) {
      if (!seen.has(v) && chosen.length < n) {
        seen.add(v);
        chosen.push(v);
      }
    }
  }
  if (chosen.length < n) {
    throw new InputError(`device ${device.name} has no connected set of ${n} qubits`);
  }
  const index = new Map(chosen.map((p, i) => [p, i]));
  const coupling: [number, number][] = [];
  for (const p of chosen)
    for (const v of adj[p]!) if (index.has(v) && p < v) coupling.push([index.get(p)!, index.get(v)!]);
  const swaps = routeCircuit(circuit, coupling).swaps;
  return {
    physical: chosen,
    coupling,
    swaps,
    note: `no SWAP-free path found for the circuit's pairs: routed on qubits ${chosen.join(' ')} with ${swaps} SWAP(s)`,
  };
}

/**
 * Estimated success probability of a program on the device: Π (1 − e) over its gates (virtual gates free,
 * two-qubit gates at the two-qubit rate, a SWAP as three) and its `measured` readouts; null without rates.
 */
export function deviceSuccessProbability(
  device: Device,
  gates: Readonly<Record<string, number>>,
  measured: number,
): number | null {
  const e = device.errors;
  if (!e) return null;
  const two = new Set(['cz', 'cx', 'ecr', 'swap']);
  let logp = measured * Math.log1p(-e.readout);
  for (const [name, count] of Object.entries(gates)) {
    if (device.virtualGates.includes(name)) continue;
    const rate = two.has(name) ? e.twoQubit : e.oneQubit;
    logp += count * (name === 'swap' ? 3 : 1) * Math.log1p(-rate);
  }
  return Math.exp(logp);
}
