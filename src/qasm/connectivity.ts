/**
 * Connectivity: whether a circuit's two-qubit gates only couple qubits that a device couples, and if not,
 * how many SWAPs a simple router inserts (greedy: move the first qubit along a shortest path until the
 * pair is adjacent). The templates only couple neighbours, so they fit a line of qubits with no SWAP.
 */
import { type Circuit, type Gate, makeCircuit, swap } from '../circuit/ir.ts';
import { InputError } from '../errors.ts';

/** A coupling map: `linear` (0–1–2–…), `all` (every pair), or undirected edges between physical qubits. */
export type Coupling = 'linear' | 'all' | readonly (readonly [number, number])[];

export interface ConnectivityReport {
  /** How the map was given: `linear`, `all` or `custom`. */
  readonly coupling: 'linear' | 'all' | 'custom';
  /** Physical qubits of the map. */
  readonly physicalQubits: number;
  /** True when every two-qubit gate acts on coupled qubits under the trivial layout (no SWAP needed). */
  readonly fits: boolean;
  /** Two-qubit gates (IR indices) on uncoupled qubits under the trivial layout (at most 20 listed). */
  readonly violations: readonly { readonly gate: number; readonly wires: readonly [number, number] }[];
  /** SWAPs the greedy router inserts (0 when `fits`). */
  readonly swaps: number;
}

function adjacency(
  coupling: Coupling,
  qubits: number,
): { n: number; adj: boolean[][]; kind: ConnectivityReport['coupling'] } {
  if (coupling === 'linear' || coupling === 'all') {
    const adj = Array.from({ length: qubits }, (_, i) =>
      Array.from({ length: qubits }, (_, j) => i !== j && (coupling === 'all' || Math.abs(i - j) === 1)),
    );
    return { n: qubits, adj, kind: coupling };
  }
  if (!Array.isArray(coupling))
    throw new InputError("coupling must be 'linear', 'all' or a list of [a, b] qubit pairs");
  let n = 0;
  for (const e of coupling) {
    if (
      !Array.isArray(e) ||
      e.length !== 2 ||
      !e.every((q) => Number.isInteger(q) && q >= 0 && q < 4096) ||
      e[0] === e[1]
    ) {
      throw new InputError(
        `coupling edges must be pairs of two different qubit indices in 0..4095, got ${JSON.stringify(e)}`,
      );
    }
    n = Math.max(n, e[0] + 1, e[1] + 1);
  }
  if (n < qubits) {
    throw new InputError(`the coupling map has ${n} physical qubits; the circuit needs ${qubits}`);
  }
  const adj = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  for (const [a, b] of coupling) {
    adj[a]![b] = true;
    adj[b]![a] = true;
  }
  return { n, adj, kind: 'custom' };
}

function shortestPath(adj: boolean[][], from: number, to: number): number[] | null {
  const prev = new Array<number>(adj.length).fill(-1);
  prev[from] = from;
  const queue = [from];
  for (let h = 0; h < queue.length; h++) {
    const u = queue[h]!;
    if (u === to) break;
    adj[u]!.forEach((e, v) => {
      if (e && prev[v] === -1) {
        prev[v] = u;
        queue.push(v);
      }
    });
  }
  if (prev[to] === -1) return null;
  const path = [to];
  while (path[0] !== from) path.unshift(prev[path[0]!]!);
  return path;
}

/**
 * Route a circuit onto a coupling map: the circuit on the physical qubits with SWAPs inserted, the number
 * of SWAPs, and the final layout (`layout[logical] = physical`). Throws `InputError` when two coupled-to-be
 * qubits are in different components of the map.
 */
export function routeCircuit(
  circuit: Circuit,
  coupling: Coupling = 'linear',
): { circuit: Circuit; swaps: number; layout: number[] } {
  const { n, adj } = adjacency(coupling, circuit.qubits);
  const layout = Array.from({ length: circuit.qubits }, (_, i) => i);
  const gates: Gate[] = [];
  let swaps = 0;
  for (const g of circuit.gates) {
    if (g.wires.length === 2) {
      let pa = layout[g.wires[0]]!;
      const pb = layout[g.wires[1]]!;
      if (!adj[pa]![pb]) {
        const path = shortestPath(adj, pa, pb);
        if (!path)
          throw new InputError(`physical qubits ${pa} and ${pb} are not connected in the coupling map`);
        for (let i = 1; i < path.length - 1; i++) {
          const next = path[i]!;
          gates.push(swap(pa, next));
          swaps++;
          const other = layout.indexOf(next);
          if (other >= 0) layout[other] = pa;
          layout[g.wires[0]] = next;
          pa = next;
        }
      }
      gates.push({ ...g, wires: [layout[g.wires[0]]!, layout[g.wires[1]]!] } as Gate);
    } else {
      gates.push({ ...g, wires: [layout[g.wires[0]]!] } as Gate);
    }
  }
  return {
    circuit: makeCircuit({
      qubits: n,
      gates,
      params: circuit.params,
      ...(circuit.globalPhase !== undefined ? { globalPhase: circuit.globalPhase } : {}),
    }),
    swaps,
    layout,
  };
}

/** Check a circuit against a coupling map (linear by default): violations under the trivial layout and SWAP count. */
export function checkConnectivity(circuit: Circuit, coupling: Coupling = 'linear'): ConnectivityReport {
  const { n, adj, kind } = adjacency(coupling, circuit.qubits);
  const violations: { gate: number; wires: readonly [number, number] }[] = [];
  let count = 0;
  circuit.gates.forEach((g, i) => {
    if (g.wires.length === 2 && !adj[g.wires[0]]![g.wires[1]!]) {
      count++;
      if (violations.length < 20) violations.push({ gate: i, wires: [g.wires[0], g.wires[1]!] });
    }
  });
  const swaps = count === 0 ? 0 : routeCircuit(circuit, coupling).swaps;
  return { coupling: kind, physicalQubits: n, fits: count === 0, violations, swaps };
}

/** Parse a coupling flag: `linear`, `all`, or edges `0-1,1-2,…`. */
export function parseCoupling(text: string): Coupling {
  if (text === 'linear' || text === 'all') return text;
  const edges = text.split(',').map((e) => {
    const parts = e.trim().split('-');
    const nums = parts.map((p) => Number(p));
    if (parts.length !== 2 || parts.some((p) => !/^\d+$/.test(p.trim())) || nums[0] === nums[1]) {
      throw new InputError(
        `coupling must be 'linear', 'all' or edges like 0-1,1-2; got ${JSON.stringify(e)} in ${JSON.stringify(text)}`,
      );
    }
    return [nums[0]!, nums[1]!] as const;
  });
  return edges;
}
