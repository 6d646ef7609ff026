/**
 * The corpus: real OpenQASM programs from public repositories (test/fixtures/qasm-corpus, sources and
 * licences in its README). Every file is either accepted or refused with a one-line located QasmParseError,
 * and every accepted file (at most 10 qubits) equals an independent simulation of the same text, global
 * phase included: quantum-circuit's for OpenQASM 2 (one or several registers), and for OpenQASM 3 the
 * evaluator of qasm3-ref.ts over qasm-ts's syntax tree. The whole unitary is compared up to 4 qubits
 * (OpenQASM 2) or 5 (OpenQASM 3), the state from |0…0⟩ above. The tallies are printed for the note.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QasmParseError } from '../../src/errors.ts';
import { parseQasmDetailed } from '../../src/qasm/index.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { maxDiff, qcImport, qcMatrixOf } from './helpers.ts';
import { referenceQasm3 } from './qasm3-ref.ts';

/**
 * quantum-circuit's state from |0…0⟩ for an OpenQASM 2 program on `n` qubits, as interleaved little-endian
 * amplitudes. Measurements are removed first (quantum-circuit would collapse the state) and every wire gets
 * an `id` so that its width is `n`; the bit order is calibrated on a one-gate probe.
 */
function qcState(qasm2: string, n: number): Float64Array {
  const run = (text: string) => {
    const qc = qcImport(text);
    qc.run();
    return qc.stateAsArray(false) as { index: number; amplitude: { re: number; im: number } }[];
  };
  const probe = run('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nx q[0];\nid q[1];\n');
  const big = probe.find((a) => Math.abs(a.amplitude.re) > 0.5)!.index === 2;
  // Every wire of every register (read from the text, in declaration order) gets an `id`.
  const ids = [...qasm2.matchAll(/\bqreg\s+([A-Za-z_]\w*)\s*\[\s*(\d+)\s*\]/g)]
    .flatMap(([, name, size]) => Array.from({ length: Number(size) }, (_, i) => `id ${name}[${i}];`))
    .join('\n');
  const text = `${qasm2.replace(/measure[^;]*;/g, '')}\n${ids}\n`;
  const out = new Float64Array(2 * 2 ** n);
  for (const a of run(text)) {
    let j = a.index;
    if (big) {
      let r = 0;
      for (let b = 0; b < n; b++) if ((j >> b) & 1) r |= 1 << (n - 1 - b);
      j = r;
    }
    out[2 * j] = a.amplitude.re;
    out[2 * j + 1] = a.amplitude.im;
  }
  return out;
}

/** Largest |ours − reference| over the first column (the state from |0…0⟩). */
function column0Diff(ours: ReturnType<typeof simulateComplex>, dim: number, ref: Float64Array): number {
  let m = 0;
  const k = ours.cols;
  for (let i = 0; i < dim; i++)
    m = Math.max(m, Math.hypot(ours.re[i * k]! - ref[2 * i]!, ours.im[i * k]! - ref[2 * i + 1]!));
  return m;
}

/** Compare with quantum-circuit: the whole matrix up to 4 qubits, the state from |0…0⟩ above. */
function checkAgainstQc(
  c: { qubits: number },
  ours: ReturnType<typeof simulateComplex>,
  qasm2: string,
): void {
  if (c.qubits <= 4) {
    expect(maxDiff(ours, qcMatrixOf(qasm2.replace(/measure[^;]*;/g, '')))).toBeLessThan(1e-9);
    return;
  }
  expect(column0Diff(ours, 2 ** c.qubits, qcState(qasm2, c.qubits))).toBeLessThan(1e-7);
}

/** Compare with qasm3-ref's evaluation over qasm-ts's tree: the whole matrix up to 5 qubits, else |0…0⟩'s state. */
function checkAgainstRef3(c: { qubits: number }, text: string, includeDir: string): void {
  const ref = referenceQasm3(text, 5, includeDir);
  expect(ref.qubits).toBe(c.qubits);
  const ours = simulateComplex(c as Parameters<typeof simulateComplex>[0], undefined, ref.cols);
  expect(ours.cols).toBe(ref.cols);
  expect(maxDiff(ours, ref)).toBeLessThan(1e-9);
}

const ROOT = path.join(import.meta.dirname, '..', 'fixtures', 'qasm-corpus');
const FILES = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(path.join(ROOT, d.name))
      .filter((f) => f.endsWith('.qasm'))
      .map((f) => path.join(d.name, f)),
  )
  .sort();

interface Tally {
  accepted: string[];
  refused: Map<string, string[]>;
  /** Accepted files found equal to quantum-circuit (OpenQASM 2, one register / several) and qasm3-ref. */
  equal: { qc2: number; qc2multi: number; ref3: number };
}
const tally: Tally = { accepted: [], refused: new Map(), equal: { qc2: 0, qc2multi: 0, ref3: 0 } };

/** A short reason class for the summary: the message up to its first specific detail. */
function reasonOf(detail: string): string {
  const rules: [RegExp, string][] = [
    [/followed by gates/, 'measurement followed by gates'],
    [/holds measurement results/, 'classical feedback on measured bits (if/while)'],
    [/reset of .* follows its measurement/, 'reset after measurement'],
    [/reset of .* after gates/, 'reset after gates'],
    [/unsupported statement '(\w+)'/, "unsupported statement '$1'"],
    [/declares no qubits/, 'no qubits (classical-only test program)'],
    [/assigning a classical value to it/, 'classical value written over measured bits'],
    [/assigning to bits/, 'classical feedback (bit assignment)'],
    [/unknown gate '(\w+)'/, "gate '$1' not in the version's standard library or not defined"],
    [/unknown qubit register/, 'undeclared register (invalid program)'],
    [
      /is an? \w+(\[\d+\])? variable: measurements and bit values go into bit registers/,
      'measurement into a non-bit variable (angle[n] c)',
    ],
    [/only angle parameters/, "'input' of a non-angle type"],
    [/width/, 'type width outside the specification (float[3], int[80])'],
  ];
  for (const [re, label] of rules) {
    const m = re.exec(detail);
    if (m) return label.replace('$1', m[1] ?? '');
  }
  return detail;
}

describe(`the public corpus (${FILES.length} files)`, () => {
  it.each(FILES)(
    '%s: accepted and equal to an independent simulation, or refused with one located line',
    (file) => {
      const full = path.join(ROOT, file);
      const text = readFileSync(full, 'utf8');
      let parsed: ReturnType<typeof parseQasmDetailed>;
      try {
        parsed = parseQasmDetailed(text, { includeDir: path.dirname(full) });
      } catch (e) {
        expect(e).toBeInstanceOf(QasmParseError);
        const q = e as QasmParseError;
        expect(q.message).not.toMatch(/\n/);
        expect(q.line).toBeGreaterThanOrEqual(1);
        expect(q.line).toBeLessThanOrEqual(text.split('\n').length + 1);
        const reason = reasonOf(q.detail);
        tally.refused.set(reason, [...(tally.refused.get(reason) ?? []), file]);
        return;
      }
      tally.accepted.push(file);
      const c = parsed.circuit;
      expect(c.qubits).toBeLessThanOrEqual(10);
      if (parsed.version === 2) {
        checkAgainstQc(c, simulateComplex(c, undefined, c.qubits <= 4 ? 2 ** c.qubits : 1), text);
        if (parsed.qregs.length === 1) tally.equal.qc2++;
        else tally.equal.qc2multi++;
        return;
      }
      checkAgainstRef3(c, text, path.dirname(full));
      tally.equal.ref3++;
    },
  );

  it('prints the tallies; every accepted file was found equal to an independent simulation', () => {
    const { qc2, qc2multi, ref3 } = tally.equal;
    const lines = [
      `corpus: ${FILES.length} files, ${tally.accepted.length} accepted, ${FILES.length - tally.accepted.length} refused`,
      `accepted and equal to an independent simulation: ${qc2 + qc2multi + ref3} of ${tally.accepted.length} ` +
        `(quantum-circuit: ${qc2} OpenQASM 2 with one register, ${qc2multi} with several; ` +
        `qasm-ts + qasm3-ref: ${ref3} OpenQASM 3)`,
      ...[...tally.refused]
        .sort((a, b) => b[1].length - a[1].length)
        .map(([r, f]) => `  refused ${f.length}: ${r}`),
    ];
    console.log(lines.join('\n'));
    expect(tally.accepted.length + [...tally.refused.values()].reduce((a, f) => a + f.length, 0)).toBe(
      FILES.length,
    );
    // A file whose reference failed or disagreed has already failed its own test; this catches any path
    // that accepts a file without counting it as checked.
    expect(qc2 + qc2multi + ref3).toBe(tally.accepted.length);
  });
});
