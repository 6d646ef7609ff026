import { cz, type Gate, makeCircuit, param, ry } from '../ir.ts';
import { checkShape, pairs, thetaName } from './common.ts';
import type { TemplateDef } from './types.ts';

const NAME = 'alternating-ry-cz';

/**
 * RY on every wire between CZ ladders (a reading of the poster's figure): an RY layer, then per layer a CZ
 * on every even pair, an RY layer, a CZ on every odd pair, an RY layer. θ is ordered RY layer by RY layer,
 * wire 0 first, and has (2L+1)·n entries. Unlike the two-design, every wire gets an RY after each CZ ladder.
 */
export const alternatingRyCzTemplate: TemplateDef = {
  name: NAME,
  description: 'RY on every wire between CZ ladders (even pairs, then odd pairs); (2L+1)n angles',
  paramCount: (n, L) => {
    checkShape(NAME, n, L);
    return (2 * L + 1) * n;
  },
  paramShape: (n, L) => {
    checkShape(NAME, n, L);
    return [{ name: 'ry_layers', shape: [2 * L + 1, n] }];
  },
  gateCounts: (n, L) => {
    checkShape(NAME, n, L);
    return { ry: (2 * L + 1) * n, cz: L * (n - 1) };
  },
  build(n, L) {
    checkShape(NAME, n, L);
    const gates: Gate[] = [];
    let k = 0;
    const ryLayer = () => {
      for (let w = 0; w < n; w++) gates.push(ry(w, param(thetaName(k++))));
    };
    ryLayer();
    for (let l = 0; l < L; l++) {
      for (const first of [0, 1] as const) {
        for (const [a, b] of pairs(n, first)) gates.push(cz(a, b));
        ryLayer();
      }
    }
    return makeCircuit({ qubits: n, gates, params: Array.from({ length: k }, (_, i) => thetaName(i)) });
  },
};

/** The alternating RY / CZ-ladder circuit (see the template's docs). */
export function alternatingRyCz(qubits: number, layers: number) {
  return alternatingRyCzTemplate.build(qubits, layers);
}
