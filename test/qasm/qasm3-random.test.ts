/**
 * Random OpenQASM 3 programs read by the importer and by the independent reference (qasm-ts's parser and
 * the evaluator of qasm3-ref.ts): standard gates with random angles, two user gates (one with a `gphase`
 * in its body), and chains of `ctrl @`, `ctrl(2) @`, `negctrl @`, `inv @` and `pow(k) @` with integer and
 * fractional k; random nested loops, branches, break and continue; random subroutine calls; and random
 * straight-line classical code on angle[n], uint[n], int[n] (n = 4…48: wrap-around,
 * ~, shifts, bitwise ops, angle·uint, angle/uint, angle/angle, casts, bit reads of negative integers) whose
 * values then drive rotation angles and branches. Whole unitaries must agree, global phase included. The seeds
 * are fixed, so a failure names a program that can be replayed.
 */
import { describe, expect, it } from 'vitest';
import { parseQasm } from '../../src/qasm/index.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { createRng } from '../../src/util/random.ts';
import { maxDiff } from './helpers.ts';
import { referenceQasm3 } from './qasm3-ref.ts';

const ONE = ['x', 'y', 'z', 'h', 's', 'sdg', 't', 'tdg', 'sx', 'id'];
const ONE_ANGLE = ['p', 'rx', 'ry', 'rz', 'phase', 'u1'];
const TWO = ['cx', 'cy', 'cz', 'ch', 'swap', 'CX'];
const TWO_ANGLE = ['cp', 'crx', 'cry', 'crz', 'cphase'];
const THREE = ['ccx', 'cswap'];
/** Gates whose fractional powers the importer refuses (they are not controlled one-qubit unitaries). */
const NO_FRACTION = new Set(['swap', 'cswap', 'ug']);

/** A random program; angles are drawn from (−10, 10) so that powers meet the branch cut too. */
function program(seed: number): string {
  const r = createRng(seed);
  const pick = <T>(a: readonly T[]): T => a[r.int(a.length)]!;
  const angle = () => (r.next() * 20 - 10).toFixed(4);
  const n = 2 + r.int(3);
  const user: { name: string; angles: number; qubits: number }[] = [];
  let text = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n';
  if (r.next() < 0.6) {
    text += 'gate ug(a, b) u, v { ry(a) u; cx u, v; rz(b) v; s u; }\n';
    user.push({ name: 'ug', angles: 2, qubits: 2 });
  }
  if (r.next() < 0.5) {
    text += 'gate uh w { U(0.3, -0.7, 1.1) w; gphase(0.4); }\n';
    user.push({ name: 'uh', angles: 0, qubits: 1 });
  }
  text += `qubit[${n}] q;\n`;
  const steps = 3 + r.int(6);
  for (let s = 0; s < steps; s++) {
    const kind = r.int(10);
    let g: { name: string; angles: number; qubits: number };
    if (kind < 3) g = { name: pick(ONE), angles: 0, qubits: 1 };
    else if (kind < 5) g = { name: pick(ONE_ANGLE), angles: 1, qubits: 1 };
    else if (kind < 6) g = { name: pick(TWO), angles: 0, qubits: 2 };
    else if (kind < 7) g = { name: pick(TWO_ANGLE), angles: 1, qubits: 2 };
    else if (kind < 8 && n >= 3) g = { name: pick(THREE), angles: 0, qubits: 3 };
    else if (kind < 9 && user.length) g = pick(user);
    else if (kind === 9)
      g = pick([
        { name: 'cu', angles: 4, qubits: 2 },
        { name: 'u3', angles: 3, qubits: 1 },
        { name: 'u2', angles: 2, qubits: 1 },
      ]);
    else g = { name: 'U', angles: 3, qubits: 1 };
    let mods = '';
    let controls = 0;
    for (let m = r.int(3); m > 0; m--) {
      const t = r.int(4);
      if (t === 0 && g.qubits + controls + 1 < n && r.next() < 0.3) {
        mods += 'ctrl(2) @ ';
        controls += 2;
      } else if (t === 0 && g.qubits + controls < n) {
        mods += 'ctrl @ ';
        controls++;
      } else if (t === 1 && g.qubits + controls < n) {
        mods += 'negctrl @ ';
        controls++;
      } else if (t === 2) mods += 'inv @ ';
      else if (t === 3) {
        const k = NO_FRACTION.has(g.name)
          ? pick([-2, -1, 2, 3])
          : pick([-2, -1, 2, 3, 0.5, -0.5, 0.25, 1.5, 0.3]);
        mods += `pow(${k}) @ `;
      }
    }
    const wires: number[] = [];
    while (wires.length < g.qubits + controls) {
      const w = r.int(n);
      if (!wires.includes(w)) wires.push(w);
    }
    const args = g.angles ? `(${Array.from({ length: g.angles }, angle).join(', ')})` : '';
    text += `${mods}${g.name}${args} ${wires.map((w) => `q[${w}]`).join(', ')};\n`;
  }
  if (r.next() < 0.3) text += `gphase(${angle()});\n`;
  return text;
}

/**
 * Random classical code on one width n (products of two 32- or 48-bit values pass 2^53 before they wrap, so
 * both sides must compute them exactly).
 */
function classical(seed: number): string {
  const r = createRng(seed);
  const pick = <T>(a: readonly T[]): T => a[r.int(a.length)]!;
  const w = pick([4, 8, 16, 32, 48]);
  const real = () => (r.next() * 20 - 10).toFixed(3);
  const small = () => 1 + r.int(9);
  const unsigned = () => Math.floor(r.next() * 2 ** w);
  const signed = () => Math.floor(r.next() * 2 ** w) - 2 ** (w - 1);
  let text = `OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\n`;
  text += `angle[${w}] a = ${real()};\nangle[${w}] b = ${real()};\n`;
  text += `uint[${w}] u = ${unsigned()};\nuint[${w}] v = ${unsigned()};\n`;
  text += `int[${w}] i = ${signed()};\nint[${w}] j = ${signed()};\n`;
  const statements = [
    () => 'a = a + b;',
    () => 'a = a - b;',
    () => 'b = -a;',
    () => `a = a * ${r.int(10)};`,
    () => `a = ${r.int(10)} * a;`,
    () => `a = a / ${small()};`,
    () => 'if (b != 0) u = a / b;',
    () => `a = ${real()};`,
    () => `v = uint[${w}](a);`,
    () => 'a += b;',
    () => 'u = u + v;',
    () => 'u = u - v;',
    () => 'u = u * v;',
    () => 'i = i * j;',
    () => `u = u / ${small()};`,
    () => `u = u % ${small()};`,
    () => `u = u << ${r.int(4)};`,
    () => `u = u >> ${r.int(4)};`,
    () => 'u = u & v;',
    () => 'u = u | v;',
    () => 'u = u ^ v;',
    () => 'u = ~u;',
    () => `u += ${small()};`,
    () => 'i = i + j;',
    () => 'i = i - j;',
    () => `i = i / ${small()};`,
    () => 'i = -i;',
    () => 'j = ~j;',
    () => `i -= ${small()};`,
  ];
  for (let s = 3 + r.int(8); s > 0; s--) text += `${pick(statements)()}\n`;
  // Casts go through variables: qasm-ts 2.1 does not parse a cast followed by '/' in a gate's argument list.
  text += `float[64] fu = float[64](u);\nfloat[64] fi = float[64](i);\nfloat[64] fv = float[64](v);\n`;
  text += `rz(a) q[0];\nry(b) q[1];\nrx(fu / ${2 ** w}) q[0];\nrz(fi / ${2 ** (w - 1)}) q[1];\nry(fv / ${2 ** w}) q[1];\n`;
  text += 'if (a > b) x q[0];\nif (i < j) h q[1];\nif (u >= v) z q[0];\n';
  text += `if (bool(i[${r.int(w)}])) s q[0];\nif (bool(j[${w - 1}])) t q[1];\nif (bool(u[${r.int(w)}])) y q[1];\n`;
  return text;
}

/**
 * Random control flow at compile time: nested `for` over ranges (any step sign, empty ranges included) and sets,
 * `while` counting down, `if`/`else` and `switch` on a counter, `break`/`continue` on loop variables, rotations by loop
 * variables.
 */
function controlFlow(seed: number): string {
  const r = createRng(seed);
  const pick = <T>(a: readonly T[]): T => a[r.int(a.length)]!;
  let names = 0;
  const gates = () => `${pick(['h', 'x', 's', 't', 'sx'])} q[${r.int(3)}];`;
  const rot = (v: string) => `${pick(['rz', 'ry', 'rx'])}(${v} * 0.37) q[${r.int(3)}];`;
  function block(depth: number, loopVars: string[]): string {
    let out = '';
    const n = 1 + r.int(3);
    for (let s = 0; s < n; s++) {
      const k = r.int(depth >= 3 ? 3 : 8);
      if (k === 0) out += `${gates()}\n`;
      else if (k === 1) out += `${rot(loopVars.length ? pick(loopVars) : 'c')}\n`;
      else if (k === 2) out += `c = c + ${1 + r.int(3)};\n`;
      else if (k === 3) {
        const v = `i${names++}`;
        const a = r.int(5) - 2,
          b = r.int(7) - 2,
          st = pick([1, 2, -1, 3]);
        out += `for int ${v} in [${a}:${st}:${b}] {\n${block(depth + 1, [...loopVars, v])}}\n`;
      } else if (k === 4) {
        const v = `i${names++}`;
        out += `for int ${v} in {${Array.from({ length: 1 + r.int(3) }, () => r.int(9) - 4).join(', ')}} {\n${block(depth + 1, [...loopVars, v])}}\n`;
      } else if (k === 5 && r.next() < 0.5) {
        out += `if (c % ${2 + r.int(3)} == ${r.int(2)}) {\n${block(depth + 1, loopVars)}} else {\n${block(depth + 1, loopVars)}}\n`;
      } else if (k === 5) {
        // Three distinct case values out of 0…4 (a seeded shuffle).
        const labels = [0, 1, 2, 3, 4];
        for (let i = labels.length - 1; i > 0; i--) {
          const j = r.int(i + 1);
          [labels[i], labels[j]] = [labels[j]!, labels[i]!];
        }
        out += `switch (c % 5) {\n  case ${labels[0]}, ${labels[1]} {\n${block(depth + 1, loopVars)}}\n  case ${labels[2]} {\n${block(depth + 1, loopVars)}}\n`;
        out += r.next() < 0.5 ? `  default {\n${block(depth + 1, loopVars)}}\n}\n` : '}\n';
      } else if (k === 6 && loopVars.length) {
        out += `if (${pick(loopVars)} ${pick(['>', '<', '=='])} ${r.int(5) - 2}) ${pick(['break', 'continue'])};\n`;
      } else if (k === 7) {
        const v = `w${names++}`;
        out += `int ${v} = ${r.int(4)};\nwhile (${v} > 0) {\n${v} = ${v} - 1;\n${block(depth + 1, [...loopVars, v])}}\n`;
      } else out += `${gates()}\n`;
    }
    return out;
  }
  return `OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nint c = ${r.int(5)};\n${block(0, [])}`;
}

/**
 * Random calls of `def` subroutines: qubit and qubit[n] parameters bound to single qubits and register slices,
 * angle/int/uint/float parameters converted to their types, return values fed back into later calls and angles,
 * a subroutine calling another, loops and branches inside bodies, a `let` alias as an argument. (Parameter names avoid gate names: qasm-ts reads
 * `x / 2` as the gate x.)
 */
function subroutines(seed: number): string {
  const r = createRng(seed);
  const pick = <T>(a: readonly T[]): T => a[r.int(a.length)]!;
  const real = () => (r.next() * 8 - 4).toFixed(3);
  let t = `OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nlet pair = q[${pick(['2] ++ q[0', '1:2', '0] ++ q[2'])}];\n`;
  t += 'def rot(qubit a, angle[16] th) {\n  rz(th) a;\n  ry(th * 2) a;\n}\n';
  t +=
    'def ent(qubit[2] r, int k) -> int {\n  cx r[0], r[1];\n  if (k > 1) h r[1];\n  for int i in [0:k % 3] { s r[0]; }\n  return k * 2 + 1;\n}\n';
  t += 'def half(float[64] v) -> float[64] {\n  return v / 2 + 0.25;\n}\n';
  t +=
    'def all(qubit[3] r, uint[4] n) {\n  for uint j in [0:2] { if (bool(n[j])) x r[j]; }\n  rot(r[2], 0.5);\n}\n';
  t += 'int m = 1;\nfloat[64] yv = 0;\n';
  const S = [
    () => `rot(q[${r.int(3)}], ${real()});`,
    () => `m = ent(${pick(['q[0:1]', 'q[1:2]', 'pair'])}, m);`,
    () => `ent(${pick(['q[0:1]', 'q[1:2]'])}, ${r.int(4)});`,
    () => `yv = half(${real()});\nrx(yv) q[${r.int(3)}];`,
    () => `all(q, ${r.int(16)});`,
    () => `yv = half(yv);\nrz(yv) q[${r.int(3)}];`,
    () => `for int i in [0:${r.int(3)}] { rot(q[${r.int(3)}], i * 0.3); }`,
  ];
  for (let n = 2 + r.int(6); n > 0; n--) t += `${pick(S)()}\n`;
  t += 'float[64] fm = m;\nrz(fm / 10) q[0];\n';
  return t;
}

/**
 * Seeds 1…200 of a generator: every program's whole unitary from the importer must equal the reference's
 * to 1e-9, global phase included; the failing programs are listed so that they can be replayed.
 */
function expectAllAgree(generate: (seed: number) => string): void {
  const bad: string[] = [];
  for (let seed = 1; seed <= 200; seed++) {
    const text = generate(seed);
    const ours = simulateComplex(parseQasm(text));
    if (!(maxDiff(ours, referenceQasm3(text, 4)) < 1e-9)) bad.push(`seed ${seed}:\n${text}`);
  }
  expect(bad).toEqual([]);
}

describe('random OpenQASM 3 programs: the importer equals the qasm-ts reference', () => {
  it('200 programs with modifiers, fractional powers and user gates agree to 1e-9', () => {
    expectAllAgree(program);
  });
  it('200 programs of classical code on angle[n], uint[n] and int[n] agree to 1e-9', () => {
    expectAllAgree(classical);
  });
  it('200 programs of nested loops, branches, break and continue agree to 1e-9', () => {
    expectAllAgree(controlFlow);
  });
  it('200 programs calling def subroutines with qubit, register and classical arguments agree to 1e-9', () => {
    expectAllAgree(subroutines);
  });
});
