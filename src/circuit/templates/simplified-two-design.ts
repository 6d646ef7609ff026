import { cz, type Gate, makeCircuit, param, ry } from '../ir.ts';
import { checkShape, pairs, thetaName } from './common.ts';
import type { TemplateDef } from './types.ts';

const NAME = 'simplified-two-design';

/**
 * The simplified two-design ansatz (Cerezo et al., Nat. Commun. 12:1791, 2021), gate for gate and in the
 * parameter order of PennyLane's `SimplifiedTwoDesign`:
 * RY on every wire (θ[0..n−1], PennyLane's `initial_layer_weights`); then per layer, for each even pair
 * (0,1),(2,3),…: CZ, RY on the pair's first wire, RY on its second; then the same for the odd pairs
 * (1,2),(3,4),…. The layer weights are PennyLane's `weights` of shape (L, n−1, 2) flattened row-major:
 * block index = even pairs first, then odd pairs. θ has n + 2L(n−1) entries.
 *
 * For n = 1 there are no pairs, so θ has one entry (PennyLane declares an unused `weights` of shape (L,)).
 */
export const simplifiedTwoDesignTemplate: TemplateDef = {
  name: NAME,
  description:
    'RY layer, then per layer CZ+RY blocks on even pairs, then on odd pairs (PennyLane SimplifiedTwoDesign)',
  paramCount: (n, L) => {
    checkShape(NAME, n, L);
    return n + 2 * L * (n - 1);
  },
  paramShape: (n, L) => {
    checkShape(NAME, n, L);
    return [
      { name: 'initial_layer_weights', shape: [n] },
      { name: 'weights', shape: [L, n - 1, 2] },
    ];
  },
  gateCounts: (n, L) => {
    checkShape(NAME, n, L);
    return { ry: n + 2 * L * (n - 1), cz: L * (n - 1) };
  },
  build(n, L) {
    checkShape(NAME, n, L);
    const gates: Gate[] = [];
    let k = 0;
    const next = () => param(thetaName(k++));
    for (let w = 0; w < n; w++) gates.push(ry(w, next()));
    for (let l = 0; l < L; l++) {
      for (const [a, b] of [...pairs(n, 0), ...pairs(n, 1)]) {
        gates.push(cz(a, b), ry(a, next()), ry(b, next()));
      }
    }
    return makeCircuit({ qubits: n, gates, params: Array.from({ length: k }, (_, i) => thetaName(i)) });
  },
};

/** The simplified two-design circuit on `qubits` wires with `layers` layers (see the template's docs). */
export function simplifiedTwoDesign(qubits: number, layers: number) {
  return simplifiedTwoDesignTemplate.build(qubits, layers);
}
