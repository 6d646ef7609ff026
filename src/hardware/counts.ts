/**
 * Counts in: the formats QPUs and SDKs return, read into basis-index histograms per plan circuit.
 *
 * Bit orders (classical bit w always holds qubit w in the plan's programs):
 * - `qiskit` (default; also what `qpeft hardware simulate` writes): `{"<id>": {"<bits>": count}}` where the
 *   bit string prints classical bit 0 **rightmost** (Qiskit's `get_counts()`, SamplerV2's
 *   `BitArray.get_counts()`), so the string read as a binary number is the basis index. Keys may also be hex
 *   (`"0x1f"`, as in `Result.data()["counts"]`), the index itself.
 * - `braket`: `{"<id>": {"<bits>": count}}` where the string lists qubit 0 **leftmost** (Braket's
 *   `measurement_counts`, Cirq's big-endian bit order of `measure` keys written by our Cirq program): the
 *   index is the reversed string read as binary.
 * Every problem is a `CountsError` naming the circuit: ids the plan lacks, plan circuits without counts, a
 * bit string of the wrong width, a count that is negative or not an integer, zero shots.
 */
import { readFileSync } from 'node:fs';
import { CountsError, describe } from '../errors.ts';
import type { MeasurementPlan } from './plan.ts';

/** The counts formats `reconstruct` reads. */
export type CountsFormat = 'qiskit' | 'braket';
export const COUNTS_FORMATS: readonly CountsFormat[] = ['qiskit', 'braket'];

/** A histogram over basis indices: index → count. */
export type Histogram = Map<number, number>;

/** The basis index of a count key in `format` for `qubits` measured bits (throws on a bad key). */
export function keyToIndex(key: string, qubits: number, format: CountsFormat, circuit: string): number {
  const k = key.replace(/[\s_]/g, '');
  if (format === 'qiskit' && /^0x[0-9a-fA-F]+$/.test(k)) {
    const v = Number.parseInt(k.slice(2), 16);
    if (!(v < 2 ** qubits)) {
      throw new CountsError(
        `circuit ${circuit}: hex key ${describe(key)} is ${v}, beyond the ${qubits}-bit range 0..${2 ** qubits - 1}`,
        circuit,
      );
    }
    return v;
  }
  if (!/^[01]+$/.test(k)) {
    throw new CountsError(
      `circuit ${circuit}: count key ${describe(key)} is not a bit string${format === 'qiskit' ? ' or 0x hex' : ''}`,
      circuit,
    );
  }
  if (k.length !== qubits) {
    throw new CountsError(
      `circuit ${circuit}: bit string ${describe(key)} has ${k.length} bits; the circuit measures ${qubits} qubits`,
      circuit,
    );
  }
  const bits = format === 'braket' ? [...k].reverse().join('') : k;
  return Number.parseInt(bits, 2);
}

/**
 * Read a parsed counts object (`{id: {key: count}}`) in `format` into histograms, checking keys and counts.
 * `qubitsOf(id)` gives the width of a known id, or undefined for an id the plan lacks.
 */
export function parseCountsObject(
  data: unknown,
  format: CountsFormat,
  qubitsOf: (id: string) => number | undefined,
  where: string,
): Map<string, Histogram> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CountsError(
      `${where}: expected an object {"<circuit id>": {"<bits>": count}}, got ${describe(data)}`,
    );
  }
  const out = new Map<string, Histogram>();
  for (const [id, entry] of Object.entries(data as Record<string, unknown>)) {
    const n = qubitsOf(id);
    if (n === undefined) throw new CountsError(`${where}: circuit ${describe(id)} is not in the plan`, id);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new CountsError(
        `${where}: circuit ${id}: expected {"<bits>": count}, got ${describe(entry)}`,
        id,
      );
    }
    const h: Histogram = new Map();
    let total = 0;
    for (const [key, count] of Object.entries(entry as Record<string, unknown>)) {
      if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
        throw new CountsError(
          `${where}: circuit ${id}: count of ${describe(key)} must be a non-negative integer, got ${describe(count)}`,
          id,
        );
      }
      const index = keyToIndex(key, n, format, id);
      h.set(index, (h.get(index) ?? 0) + count);
      total += count;
    }
    if (total === 0) throw new CountsError(`${where}: circuit ${id} has zero shots`, id);
    out.set(id, h);
  }
  return out;
}

/**
 * Read counts files for a plan and check that together they cover every plan circuit exactly once.
 * Nothing is returned unless every file and every circuit passes.
 */
export function readCounts(
  plan: MeasurementPlan,
  files: readonly string[],
  format: CountsFormat = 'qiskit',
): Map<string, Histogram> {
  if (!COUNTS_FORMATS.includes(format)) {
    throw new CountsError(
      `counts format must be one of ${COUNTS_FORMATS.join(', ')}, got ${describe(format)}`,
    );
  }
  if (files.length === 0) throw new CountsError('no counts files given');
  const width = new Map(plan.circuits.map((c) => [c.id, c.qubits]));
  const all = new Map<string, Histogram>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new CountsError(
        `cannot read counts file ${describe(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new CountsError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
    for (const [id, h] of parseCountsObject(data, format, (i) => width.get(i), file)) {
      if (all.has(id))
        throw new CountsError(`circuit ${id} has counts in more than one file (second: ${file})`, id);
      all.set(id, h);
    }
  }
  checkComplete(plan, all);
  return all;
}

/** Throw unless every plan circuit has counts. */
export function checkComplete(plan: MeasurementPlan, counts: ReadonlyMap<string, Histogram>): void {
  const missing = plan.circuits.filter((c) => !counts.has(c.id)).map((c) => c.id);
  if (missing.length) {
    throw new CountsError(
      `no counts for ${missing.length} plan circuit(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      missing[0]!,
    );
  }
}

/** Histograms as counts JSON in `format` (bit strings of the circuit's width). */
export function countsToJson(
  plan: MeasurementPlan,
  counts: ReadonlyMap<string, Histogram>,
  format: CountsFormat = 'qiskit',
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const c of plan.circuits) {
    const h = counts.get(c.id);
    if (!h) continue;
    const entry: Record<string, number> = {};
    for (const [index, count] of [...h].sort((a, b) => a[0] - b[0])) {
      const s = index.toString(2).padStart(c.qubits, '0');
      entry[format === 'braket' ? [...s].reverse().join('') : s] = count;
    }
    out[c.id] = entry;
  }
  return out;
}
