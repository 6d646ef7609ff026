/**
 * The project-wide bit order, defined here and nowhere else (see docs/method.md §2).
 *
 * OpenQASM / Qiskit ("little-endian") convention: basis index `i = Σ_w b_w · 2^w`, so wire 0 is the least
 * significant bit. Matrix element `U[i][j]` is the amplitude of basis state `i` after the circuit acts on
 * basis state `j`; the first K columns therefore vary only the ⌈log₂K⌉ least significant wires.
 */
export const BIT_ORDER = 'little' as const;

/** Stride between basis indices that differ only in `wire` (2^wire). */
export function wireStride(wire: number): number {
  return 1 << wire;
}

/** The bit of `wire` in basis index `index` (0 or 1). */
export function wireBit(index: number, wire: number): 0 | 1 {
  return ((index >>> wire) & 1) as 0 | 1;
}

/** The basis index of a list of wire values `bits[w]` (wire 0 first). */
export function basisIndex(bits: ArrayLike<0 | 1 | number>): number {
  let index = 0;
  for (let w = 0; w < bits.length; w++) if (bits[w]) index |= 1 << w;
  return index;
}
