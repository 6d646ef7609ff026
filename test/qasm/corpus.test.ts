/**
 * The corpus: real OpenQASM programs from public repositories (test/fixtures/qasm-corpus, sources and
 * licences in its README). Every file is either accepted or refused with a one-line located QasmParseError;
 * every accepted file of at most 10 qubits equals an independent simulation: quantum-circuit's importQASM
 * for OpenQASM 2, and for OpenQASM 3 files in the gate-level subset a mechanical rewrite to OpenQASM 2 for
 * quantum-circuit (written here, sharing nothing with the importer). The tallies are printed for the note.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QasmParseError } from '../../src/errors.ts';
import { quantumCircuitClass } from '../../src/interop/quantum-circuit.ts';
import { parseQasmDetailed } from '../../src/qasm/index.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { maxDiff, qcMatrixOf } from './helpers.ts';

/**
 * quantum-circuit's state from |0…0⟩ for an OpenQASM 2 program on `n` qubits, as interleaved little-endian
 * amplitudes. Measurements are removed first (quantum-circuit would collapse the state) and every wire gets
 * an `id` so that its width is `n`; the bit order is calibrated on a one-gate probe.
 */
function qcState(qasm2: string, n: number, reg: string): Float64Array {
  const QC = quantumCircuitClass();
  const run = (text: string) => {
    const qc = new QC();
    let errors: unknown[] = [];
    qc.importQASM(text, (e) => {
      errors = e;
    });
    if (errors.length) throw new Error(`quantum-circuit could not import: ${JSON.stringify(errors)}`);
    qc.run();
    return qc.stateAsArray(false) as { index: number; amplitude: { re: number; im: number } }[];
  };
  const probe = run('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nx q[0];\nid q[1];\n');
  const big = probe.find((a) => Math.abs(a.amplitude.re) > 0.5)!.index === 2;
  const ids = Array.from({ length: n }, (_, i) => `id ${reg}[${i}];`).join('\n');
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
  reg: string,
): void {
  if (c.qubits <= 4) {
    expect(maxDiff(ours, qcMatrixOf(qasm2.replace(/measure[^;]*;/g, '')))).toBeLessThan(1e-9);
    return;
  }
  expect(column0Diff(ours, 2 ** c.qubits, qcState(qasm2, c.qubits, reg))).toBeLessThan(1e-7);
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

/** Statements (comments removed) of an OpenQASM 3 file, or null when it is outside the rewritable subset. */
function rewriteToQasm2(text: string): string | null {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const stmts = code
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  const out: string[] = [];
  let phys = -1;
  let gateDepth = 0;
  const names: Record<string, string> = { p: 'u1', phase: 'u1', cp: 'cu1', cphase: 'cu1' };
  for (let s of stmts) {
    if (
      /\b(for|while|if|def|ctrl|negctrl|inv|pow|gphase|const|int|uint|float|angle|bool|input|return|box|durationof|let|array)\b/.test(
        s,
      )
    )
      return null;
    if (/^OPENQASM/.test(s)) {
      out.push('OPENQASM 2.0');
      continue;
    }
    if (/^include/.test(s)) {
      if (!s.includes('stdgates.inc')) return null;
      out.push('include "qelib1.inc"');
      continue;
    }
    if (/^(duration|stretch|delay|reset|barrier)\b/.test(s) || /measure/.test(s)) continue;
    if (/^qubit \$\d+$/.test(s)) continue;
    const m = /^qubit\[(\d+)\] (\w+)$/.exec(s);
    if (m) {
      out.push(`qreg ${m[2]}[${m[1]}]`);
      continue;
    }
    if (/^(qubit|bit)\b/.test(s)) {
      if (/^bit(\[\d+\])? \w+$/.test(s)) continue;
      return null;
    }
    s = s.replace(/\$(\d+)/g, (_, k: string) => {
      phys = Math.max(phys, Number(k));
      return `q[${k}]`;
    });
    // Gate names that qelib1.inc spells differently; inside definitions too.
    s = s.replace(/(^|[{}]\s*|;\s*)(\w+)(?=[\s(])/g, (all, pre: string, name: string) =>
      names[name] ? `${pre}${names[name]}` : all,
    );
    if (s.startsWith('gate')) gateDepth++;
    out.push(s);
  }
  if (gateDepth < 0) return null;
  const body = out.join(';\n').replace(/\{;/g, '{').replace(/\};/g, '}').replace(/;\n\}/g, '; }');
  const header = phys >= 0 ? `qreg q[${phys + 1}];\n` : '';
  const lines = `${body};`.replace(/\}\s*;/g, '}').split('\n');
  const at = lines.findIndex((l) => l.startsWith('include')) + 1 || 1;
  lines.splice(at, 0, header.trimEnd());
  return `${lines.filter((l) => l !== '').join('\n')}\n`;
}

interface Tally {
  accepted: string[];
  refused: Map<string, string[]>;
  checked: { qc2: number; qc3: number; unchecked: string[] };
}
const tally: Tally = { accepted: [], refused: new Map(), checked: { qc2: 0, qc3: 0, unchecked: [] } };

/** A short reason class for the summary: the message up to its first specific detail. */
function reasonOf(detail: string): string {
  const rules: [RegExp, string][] = [
    [/followed by gates/, 'measurement followed by gates'],
    [/holds measurement results/, 'classical feedback on measured bits (if/while)'],
    [/reset of .* follows its measurement/, 'reset after measurement'],
    [/reset of .* after gates/, 'reset after gates'],
    [/unsupported statement '(\w+)'/, "unsupported statement '$1'"],
    [/declares no qubits/, 'no qubits (classical-only test program)'],
    [/initialised bit declarations/, 'classical bit values (bit b = …)'],
    [/assigning to bits/, 'classical feedback (bit assignment)'],
    [/unknown gate '(\w+)'/, "gate '$1' not in the version's standard library or not defined"],
    [/unknown qubit register/, 'undeclared register (invalid program)'],
    [/'(\w+)' is a variable: expected a bit register/, 'classical bit arithmetic on measured bits'],
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
      const ours = simulateComplex(c, undefined, c.qubits <= 4 ? 2 ** c.qubits : 1);
      const reg = parsed.qregs.length === 1 ? parsed.qregs[0]!.name : 'q';
      if (parsed.version === 2) {
        if (parsed.qregs.length !== 1) {
          tally.checked.unchecked.push(file);
          return;
        }
        checkAgainstQc(c, ours, text, reg);
        tally.checked.qc2++;
        return;
      }
      const v2 = rewriteToQasm2(text);
      if (v2 === null || c.gates.length === 0) {
        tally.checked.unchecked.push(file);
        return;
      }
      checkAgainstQc(c, ours, v2, reg);
      tally.checked.qc3++;
    },
  );

  it('prints the tallies', () => {
    const lines = [
      `corpus: ${FILES.length} files, ${tally.accepted.length} accepted, ${FILES.length - tally.accepted.length} refused`,
      `accepted and equal to quantum-circuit: ${tally.checked.qc2} OpenQASM 2, ${tally.checked.qc3} OpenQASM 3 (rewritten); ` +
        `accepted without a whole-file reference: ${tally.checked.unchecked.length}`,
      ...[...tally.refused]
        .sort((a, b) => b[1].length - a[1].length)
        .map(([r, f]) => `  refused ${f.length}: ${r}`),
    ];
    console.log(lines.join('\n'));
    expect(tally.accepted.length + [...tally.refused.values()].reduce((a, f) => a + f.length, 0)).toBe(
      FILES.length,
    );
  });
});
