/**
 * OpenQASM 3 as the specification writes it (physical qubits, typed classical values, loops, subroutines,
 * gate modifiers, timing) and the per-version standard libraries, each against matrices built by hand in
 * `dense-ref.ts` or values worked out from the specification's rules.
 */
import { describe, expect, it } from 'vitest';
import { QasmParseError } from '../../src/errors.ts';
import { parseQasm, parseQasmDetailed } from '../../src/qasm/index.ts';
import { simulateComplex } from '../../src/sim/complex.ts';
import { cexp, Dense, H, I2, P, RX, RY, RZ, S, SX, scaled, T, U, X, Y, Z } from './dense-ref.ts';
import { maxDiff } from './helpers.ts';

const V3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n';
const V2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n';
const close = (text: string, want: Dense, tol = 1e-12) =>
  expect(maxDiff(simulateComplex(parseQasm(text)), want)).toBeLessThan(tol);
function fails(text: string, pattern: RegExp, line?: number): QasmParseError {
  try {
    parseQasm(text);
  } catch (e) {
    expect(e).toBeInstanceOf(QasmParseError);
    expect((e as QasmParseError).message).toMatch(pattern);
    if (line !== undefined) expect((e as QasmParseError).line).toBe(line);
    return e as QasmParseError;
  }
  throw new Error(`expected a QasmParseError matching ${pattern}`);
}

describe('physical qubits', () => {
  it('$n: width is the largest index + 1, wire i is physical qubit i', () => {
    const r = parseQasmDetailed(
      `${V3}h $2;\ncx $2, $0;\nbit[2] c;\nc[0] = measure $0;\nc[1] = measure $2;\n`,
    );
    expect(r.circuit.qubits).toBe(3);
    expect(r.physicalQubits).toEqual([0, 1, 2]);
    expect(r.measurements.map((m) => m.qubit)).toEqual([0, 2]);
    expect(maxDiff(simulateComplex(r.circuit), new Dense(3).g(H, 2).g(X, 0, [2]))).toBeLessThan(1e-14);
  });
  it('refuses mixing physical qubits and declared registers', () => {
    fails(`${V3}qubit[2] q;\nx $0;`, /physical qubit \$0 in a program that declares qubit registers/, 4);
    fails(`${V3}x $0;\nqubit[2] q;`, /declared in a program that uses physical qubits/, 4);
  });
});

describe('gate modifiers against hand-built controlled / inverted / powered matrices', () => {
  it('ctrl @, negctrl @, ctrl(2) @', () => {
    close(`${V3}qubit[3] q;\nctrl @ rx(0.7) q[0], q[2];`, new Dense(3).g(RX(0.7), 2, [0]));
    close(`${V3}qubit[3] q;\nnegctrl @ x q[1], q[0];`, new Dense(3).g(X, 0, [], [1]));
    close(`${V3}qubit[3] q;\nctrl(2) @ h q[2], q[0], q[1];`, new Dense(3).g(H, 1, [2, 0]));
    close(`${V3}qubit[3] q;\nctrl @ negctrl @ y q[0], q[1], q[2];`, new Dense(3).g(Y, 2, [0], [1]));
    close(`${V3}qubit[2] q;\nctrl @ gphase(0.3) q[1];`, new Dense(2).g(P(0.3), 1));
    close(
      `${V3}qubit[3] q;\nctrl @ U(0.3, 0.5, -1.1) q[2], q[0];`,
      new Dense(3).g(U(0.3, 0.5, -1.1), 0, [2]),
    );
  });
  it('ctrl @ and inv @ on a user gate with a body', () => {
    const def = 'gate g(t) a, b { h a; cx a, b; ry(t) b; }\n';
    close(
      `${V3}qubit[3] q;\n${def}ctrl @ g(0.4) q[2], q[0], q[1];`,
      new Dense(3).g(H, 0, [2]).g(X, 1, [2, 0]).g(RY(0.4), 1, [2]),
    );
    close(
      `${V3}qubit[2] q;\n${def}inv @ g(0.4) q[0], q[1];`,
      new Dense(2).g(RY(-0.4), 1).g(X, 1, [0]).g(H, 0),
    );
  });
  it('inv @ and integer pow(k) @', () => {
    close(`${V3}qubit q;\ninv @ s q;`, new Dense(1).g(P(-Math.PI / 2), 0));
    close(`${V3}qubit q;\npow(2) @ t q;`, new Dense(1).g(S, 0));
    close(`${V3}qubit q;\npow(-3) @ t q;`, new Dense(1).g(P((-3 * Math.PI) / 4), 0));
    close(`${V3}qubit q;\npow(0) @ h q;`, new Dense(1));
    close(`${V3}qubit q;\ninv @ pow(2) @ sx q;`, new Dense(1).g(X, 0));
  });
  it('non-integer pow(k) @ on the principal branch: √Z = S, √X = SX, √S = T, rz(θ)^k = rz(kθ)', () => {
    close(`${V3}qubit q;\npow(0.5) @ z q;`, new Dense(1).g(S, 0));
    close(`${V3}qubit q;\npow(1.0 / 2) @ x q;`, new Dense(1).g(SX, 0));
    close(`${V3}qubit q;\npow(0.5) @ s q;`, new Dense(1).g(T, 0));
    close(`${V3}qubit q;\npow(1.0/3) @ rz(0.6) q;`, new Dense(1).g(RZ(0.2), 0));
    close(`${V3}qubit q;\npow(-0.5) @ z q;`, new Dense(1).g(P(-Math.PI / 2), 0));
    // (controlled U)^k = controlled (U^k), for a stdlib controlled gate and for ctrl @.
    close(`${V3}qubit[2] q;\npow(0.5) @ cx q[1], q[0];`, new Dense(2).g(SX, 0, [1]));
    close(`${V3}qubit[3] q;\npow(0.5) @ ctrl @ cz q[0], q[1], q[2];`, new Dense(3).g(S, 2, [0, 1]));
    close(`${V3}qubit[3] q;\npow(0.25) @ ccx q[0], q[1], q[2];`, new Dense(3).g(powX(0.25), 2, [0, 1]));
  });
  it('refuses a non-integer power of a gate that is no controlled one-qubit unitary, naming why', () => {
    fails(
      `${V3}qubit[2] q;\npow(0.5) @ swap q[0], q[1];`,
      /non-integer power is supported for gates that act as a \(multi-\)controlled one-qubit unitary/,
      4,
    );
    fails(
      `${V3}input float a;\nqubit q;\npow(0.5) @ rx(a) q;`,
      /non-integer power of a gate whose angle uses input 'a'/,
      5,
    );
    fails(`${V3}qubit[2] q;\nctrl @ x q[0], q[0];`, /same qubit twice/, 4);
  });
});

/** X^k on the principal branch: eigenvalues 1 and −1 = e^{iπ}. */
function powX(k: number) {
  const e = cexp(Math.PI * k);
  const a: [number, number] = [(1 + e[0]) / 2, e[1] / 2];
  const b: [number, number] = [(1 - e[0]) / 2, -e[1] / 2];
  return [a, b, b, a] as const;
}

describe('classical declarations with the specification semantics', () => {
  const angleOf = (text: string, i = 0) => {
    const g = parseQasm(text).gates[i]!;
    return 'angle' in g ? (g.angle as number) : Number.NaN;
  };
  it('angle[n] wraps modulo 2π and rounds to the nearest representable value, ties to even', () => {
    // 3π/2 + π/2 = 2π ≡ 0 in angle[2]; the rotation disappears (rx(0) is the identity).
    close(`${V3}qubit q;\nangle[2] a = 3*pi/2;\na = a + pi/2;\nrx(a) q;\n`, new Dense(1));
    // 3π/8 in angle[3] is 1.5 steps of π/4: ties to even → 2 steps = π/2.
    expect(angleOf(`${V3}qubit q;\nangle[3] b = 3*pi/8;\nry(b) q;\n`)).toBeCloseTo(Math.PI / 2, 14);
    // −π/4 in angle[3] is 7π/4; angle[4] π − 3·(3π/8) = π − 9π/8 ≡ 15π/8.
    expect(angleOf(`${V3}qubit q;\nangle[3] c = -pi/4;\nry(c) q;\n`)).toBeCloseTo((7 * Math.PI) / 4, 14);
    expect(
      angleOf(`${V3}qubit q;\nangle[4] d = pi;\nangle[4] e = 3*pi/8;\nd = d - e * 3;\nry(d) q;\n`),
    ).toBeCloseTo((15 * Math.PI) / 8, 14);
    // angle / angle is an unsigned integer: (3π/4) / (π/4) = 3.
    expect(
      angleOf(`${V3}qubit q;\nangle[8] f = 3*pi/4;\nangle[8] g = pi/4;\nuint[8] n = f / g;\nry(n) q;\n`),
    ).toBe(3);
  });
  it('int[n] and uint[n] wrap; float[32] rounds; const; bool and comparisons', () => {
    expect(angleOf(`${V3}qubit q;\nint[4] i = 7;\ni = i + 1;\nry(i) q;\n`)).toBe(-8);
    expect(angleOf(`${V3}qubit q;\nuint[3] u = 7;\nu += 2;\nry(u) q;\n`)).toBe(1);
    expect(angleOf(`${V3}qubit q;\nfloat[32] f = 0.1;\nry(f) q;\n`)).toBe(Math.fround(0.1));
    expect(angleOf(`${V3}qubit q;\nconst int n = 5;\nint[8] m = n * 3 % 4 + (n << 2);\nry(m) q;\n`)).toBe(23);
    expect(angleOf(`${V3}qubit q;\nint a = 7 / 2;\nfloat b = 7 / 2.0;\nry(a + b) q;\n`)).toBe(6.5);
    expect(angleOf(`${V3}qubit q;\nbool yes = 3 > 2 && !(1 == 2);\nif (yes) ry(1) q; else ry(2) q;\n`)).toBe(
      1,
    );
    expect(angleOf(`${V3}qubit q;\nint xv = 6 ^ 3;\nry(xv | 8) q;\n`)).toBe(13);
    fails(`${V3}qubit q;\nconst int n = 1;\nn = 2;`, /'n' is a constant and cannot be assigned/, 5);
    fails(`${V3}input float a;\nqubit q;\nconst float b = a;`, /const 'b' uses input 'a'/, 5);
    fails(`${V3}qubit q;\nry(1.5 ^ 2) q;`, /'\^' is bitwise XOR in OpenQASM 3/, 4);
  });
  it('sized integers wrap exactly past 2^53, ~ and bit reads beyond 32 bits and on negative integers', () => {
    // 10⁵·10⁵ = 10¹⁰ = 2·2³² + 1,410,065,408; 3⁴⁰ mod 2³² computed exactly (3⁴⁰ ≈ 1.2·10¹⁹ > 2⁵³).
    expect(angleOf(`${V3}qubit q;\nint[32] w = 100000;\nw = w * w;\nry(w) q;\n`)).toBe(1410065408);
    expect(angleOf(`${V3}qubit q;\nuint[32] w = 3;\nw = w ** 40;\nry(w) q;\n`)).toBe(
      Number(3n ** 40n % 2n ** 32n),
    );
    // ~u = 2⁴⁸ − 1 − u for uint[48]; ~i = −i − 1 for int[48] (2⁴⁰ + 3 needs more than 32 bits).
    expect(angleOf(`${V3}qubit q;\nuint[48] u = ${2 ** 40 + 3};\nu = ~u;\nry(u) q;\n`)).toBe(
      2 ** 48 - 2 ** 40 - 4,
    );
    expect(angleOf(`${V3}qubit q;\nint[48] i = ${2 ** 40 + 3};\ni = ~i;\nry(i) q;\n`)).toBe(-(2 ** 40) - 4);
    // −2 in int[8] is 11111110: bit 0 clear, bits 1…7 set; −128 is 10000000.
    const bit = (decl: string, i: number) =>
      angleOf(`${V3}qubit q;\n${decl};\nif (bool(w[${i}])) ry(1) q; else ry(2) q;\n`);
    expect([0, 1, 7].map((i) => bit('int[8] w = -2', i))).toEqual([2, 1, 1]);
    expect([6, 7].map((i) => bit('int[8] w = -128', i))).toEqual([2, 1]);
    fails(
      `${V3}qubit q;\nuint[4] w = 5;\nif (bool(w[4])) x q;\n`,
      /bit index 4 is out of range for a 4-bit uint: expected 0..3/,
      5,
    );
  });
  it('casts and functions', () => {
    expect(angleOf(`${V3}qubit q;\nry(float(int[8](300)) + floor(2.7) + mod(7, 3)) q;\n`)).toBe(44 + 2 + 1);
    expect(angleOf(`${V3}qubit q;\nry(angle[2](pi/2 + 0.1)) q;\n`)).toBeCloseTo(Math.PI / 2, 14);
  });
});

describe('loops, subroutines, timing, reset and measurement', () => {
  it('for over ranges and sets, while with a compile-time bound, break and continue', () => {
    close(
      `${V3}qubit[3] q;\nfor int i in [0:2] { ry(0.1 * (i + 1)) q[i]; }\nfor uint j in {2, 0} { x q[j]; }\n`,
      new Dense(3).g(RY(0.1), 0).g(RY(0.2), 1).g(RY(0.3), 2).g(X, 2).g(X, 0),
    );
    close(`${V3}qubit q;\nint k = 0;\nwhile (k < 3) { rx(0.2) q; k += 1; }\n`, new Dense(1).g(RX(0.6), 0));
    close(
      `${V3}qubit q;\nfor int i in [0:2:10] { if (i == 4) continue; if (i > 6) break; rz(1) q; }\n`,
      new Dense(1).g(RZ(3), 0),
    );
    close(`${V3}qubit[2] q;\nfor int i in [1:-1:0] { h q[i]; }\n`, new Dense(2).g(H, 1).g(H, 0));
  });
  it('switch (OpenQASM 3.1) on a compile-time integer: the matching case, else default, else nothing', () => {
    const sw = (i: string) =>
      `${V3}qubit[2] q;\nconst int B = 1;\nint i = ${i};\nswitch (i + 1) {\n  case 1, 3 { h q[0]; }\n  case B + 1 { x q[1]; }\n  default { z q[0]; x q[0]; }\n}\n`;
    close(sw('0'), new Dense(2).g(H, 0));
    close(sw('2'), new Dense(2).g(H, 0));
    close(sw('1'), new Dense(2).g(X, 1));
    close(sw('7'), new Dense(2).g(Z, 0).g(X, 0));
    close(`${V3}qubit q;\nswitch (5) { case 1 { x q; } }\nh q;\n`, new Dense(1).g(H, 0));
    // No fall-through; 'break' inside a case leaves the enclosing loop: k = 0, 1 rotate, k = 2 stops the loop.
    close(
      `${V3}qubit q;\nfor int k in [0:5] {\n  switch (k) {\n    case 2 { break; }\n    default { ry(0.5) q; }\n  }\n}\n`,
      new Dense(1).g(RY(0.5), 0).g(RY(0.5), 0),
    );
  });
  it("let aliases of qubits: slices and single qubits concatenated with '++', then indexed and broadcast", () => {
    // a = q[1], q[2], r[0], r[1] = wires 1, 2, 3, 4; b = a[3] = wire 4.
    close(
      `${V3}qubit[3] q;\nqubit[2] r;\nlet a = q[1:2] ++ r;\nlet b = a[3];\nh a[0];\ncx b, a[1];\nx a;\n`,
      new Dense(5).g(H, 1).g(X, 2, [4]).g(X, 1).g(X, 2).g(X, 3).g(X, 4),
    );
    close(`${V3}h $1;\nlet a = $0 ++ $2;\ncx a[0], a[1];\n`, new Dense(3).g(H, 1).g(X, 2, [0]));
    fails(`${V3}qubit[3] q;\nlet a = q[0] ++ q[0];\n`, /the alias 'a' names q\[0\] twice/, 4);
    fails(
      `${V3}qubit q;\nbit[2] c;\nlet a = c;\n`,
      /'let' aliases qubits here: expected a qubit register, slice or single qubit/,
      5,
    );
    fails(`${V3}qubit[3] q;\nlet q = q;\n`, /'q' is already declared as a qubit register/, 4);
  });
  it('refuses switch forms the specification rules out, and pre-release syntax by name', () => {
    fails(
      `${V3}qubit q;\nswitch (1) { case 1 { x q; } case 2, 1 { h q; } }\n`,
      /case value 1 appears twice in the 'switch' \(first on line 4\)/,
      4,
    );
    fails(
      `${V3}qubit q;\nswitch (1.5) { case 1 { x q; } }\n`,
      /the 'switch' value must be an integer, got a float/,
      4,
    );
    fails(`${V3}qubit q;\nswitch (1) { default { x q; } }\n`, /at least one 'case'/, 4);
    fails(
      `${V3}qubit q;\nint i = 1;\nswitch (i) {\n  case 1: {\n  }\n  break;\n}\n`,
      /'case 1: \{ … \} break;' is a pre-release syntax; OpenQASM 3.1 writes 'case 1 \{ … \}'/,
      6,
    );
    fails(
      `${V3}qubit[2] q;\nbit c;\nc = measure q[0];\nswitch (int(c)) { case 1 { x q[1]; } }\n`,
      /'c' holds measurement results: reading it in the 'switch' value on line 6 is classical feedback/,
      6,
    );
  });
  it('def subroutines with qubit and classical arguments and a return value', () => {
    const text = `${V3}qubit[2] q;\ndef layer(qubit a, qubit b, angle t) { ry(t) a; cz a, b; }\ndef twice(float x) -> float { return 2 * x; }\nlayer(q[1], q[0], twice(0.3));\ndef ent(qubit[2] r) { cx r[0], r[1]; }\nent(q);\n`;
    close(text, new Dense(2).g(RY(0.6), 1).g(Z, 0, [1]).g(X, 1, [0]));
    fails(
      `${V3}qubit q;\ndef f(int n) -> int { return f(n); }\nry(f(1)) q;`,
      /subroutine calls nested deeper than 32/,
    );
  });
  it('delay, box, barrier, durations and stretch leave the unitary alone; resets before any gate are no-ops', () => {
    const r = parseQasmDetailed(
      `${V3}qubit[2] q;\nreset q;\nduration d = 100ns;\nstretch st;\ndelay[d] q[0];\nbox[1us] { x q[1]; delay[20dt] q[1]; }\nbarrier q;\nh q[0];\nbit[2] c;\nc = measure q;\n`,
    );
    expect(maxDiff(simulateComplex(r.circuit), new Dense(2).g(X, 1).g(H, 0))).toBeLessThan(1e-14);
    expect(r.dropped.join('; ')).toMatch(/2 × delay/);
    expect(r.dropped.join('; ')).toMatch(/2 × reset before any gate/);
    expect(r.measurements).toHaveLength(2);
  });
  it('bit registers given values at compile time are classical constants, read by if and comparisons', () => {
    // "0110": the least significant bit is on the right, so bits 1 and 2 are set.
    close(
      `${V3}qubit[4] q;\nbit[4] b = "0110";\nfor uint i in [0:3] { if (bool(b[i])) x q[i]; }\n`,
      new Dense(4).g(X, 1).g(X, 2),
    );
    // "10101" is 21; an int keeps its low bits (6 in 2 bits is 2); b[i] = v sets one bit.
    close(`${V3}qubit[1] q;\nbit[5] a = "10101";\nif (a == 21) x q[0];\n`, new Dense(1).g(X, 0));
    close(`${V3}qubit[1] q;\nbit[2] r = 6;\nif (r == 2) x q[0];\n`, new Dense(1).g(X, 0));
    close(`${V3}qubit[1] q;\nbit[3] r = 5;\nr[1] = 1;\nif (r == 7) x q[0];\n`, new Dense(1).g(X, 0));
    close(
      `${V3}qubit[1] q;\nbit c = 1;\nc = 0;\nif (c) { x q[0]; } else { h q[0]; }\n`,
      new Dense(1).g(H, 0),
    );
    close(`${V3}qubit[1] q;\nbit[4] sh = 1;\nsh <<= 2;\nif (sh == 4) x q[0];\n`, new Dense(1).g(X, 0));
    // A declared bit without a value reads 0, as other uninitialised classical variables do here.
    close(`${V3}qubit[1] q;\nbit[3] zz;\nif (zz == 0) x q[0];\n`, new Dense(1).g(X, 0));
    // Bits are tracked one by one: c[1] was never measured, so reading it is not feedback.
    close(
      `${V3}qubit[2] q;\nbit[2] c;\nc[0] = measure q[0];\nif (c[1] == 0) x q[1];\n`,
      new Dense(2).g(X, 1),
    );
    // Measuring into a bit that had a compile-time value is fine when nothing reads it afterwards.
    const r = parseQasmDetailed(`${V3}qubit[1] q;\nbit c = 1;\nh q[0];\nc = measure q[0];\n`);
    expect(r.measurements).toEqual([{ qubit: 0, bit: { register: 'c', index: 0 } }]);
  });
  it("names 'cbit' (the pre-release bit type) instead of reading it as a gate call", () => {
    fails(
      `${V3}qubit[1] q;\ncbit[4] c = "0110";\n`,
      /'cbit' is the bit type of pre-release OpenQASM 3 drafts: expected 'bit'/,
      4,
    );
    fails(`${V3}qubit[1] q;\ncbit c = 1;\n`, /'cbit' is the bit type/, 4);
    fails(`${V3}qubit[1] q;\ncbit[4] c;\n`, /'cbit' is the bit type/, 4);
    // A user may still call a gate of that name.
    close(`${V3}qubit[1] q;\ngate cbit a { x a; }\ncbit q[0];\n`, new Dense(1).g(X, 0));
  });
  it('refuses bit values that do not fit, and classical writes over measurement results', () => {
    fails(
      `${V3}qubit[1] q;\nangle[3] c = 0;\nmeasure q[0] -> c[0];\n`,
      /'c' is an angle\[3\] variable: measurements and bit values go into bit registers \(bit\[n\] c;\)/,
      5,
    );
    fails(`${V3}qubit[1] q;\nint k = 0;\nmeasure q[0] -> k;\n`, /'k' is an int variable/, 5);
    fails(
      `${V3}qubit[1] q;\nbit[3] c = "01";\n`,
      /expected a bit string of 3 binary digits \(0\/1\) for 'c', got "01"/,
      4,
    );
    fails(
      `${V3}qubit[1] q;\nbit[2] c = 0.5;\n`,
      /expected an integer, bool or bit string for the bits of 'c', got a float/,
      4,
    );
    fails(
      `${V3}qubit[1] q;\nbit c;\nc = measure q[0];\nc = 1;\n`,
      /'c' holds measurement results: assigning a classical value to it on line 6 is not supported/,
      6,
    );
    fails(
      `${V3}qubit[2] q;\nbit[2] c = "00";\nc[0] = measure q[0];\nif (c == 0) x q[1];\n`,
      /'c' holds measurement results: reading it in the 'if' condition on line 6 is classical feedback/,
      6,
    );
  });
  it('refuses non-unitary programs, naming the feature, the line and why', () => {
    fails(
      `${V3}qubit[2] q;\nbit c;\nh q[0];\nc = measure q[0];\nx q[0];\n`,
      /measurement on line 6 is followed by gates on q\[0\]: the program is not a unitary; qpeft simulates unitary programs/,
      7,
    );
    fails(
      `${V3}qubit[2] q;\nh q[1];\nreset q[1];\n`,
      /reset of q\[1\] on line 5 comes after gates on it: the program is not a unitary/,
      5,
    );
    fails(
      `${V3}qubit[2] q;\nbit c;\nc = measure q[0];\nif (c == 1) x q[1];\n`,
      /'c' holds measurement results: reading it in the 'if' condition on line 6 is classical feedback; the program is not a unitary/,
      6,
    );
    fails(
      `${V2}qreg q[1];\ncreg c[1];\nmeasure q -> c;\nif (c == 1) x q[0];\n`,
      /holds measurement results/,
      6,
    );
  });
});

describe('each version gets exactly its own standard library', () => {
  it("stdgates.inc's u2/u3 carry the specification's gphase(−(φ+λ)/2); qelib1.inc's are Qiskit's U", () => {
    close(
      `${V3}qubit q;\nu3(0.5, 0.2, 0.9) q;\n`,
      new Dense(1).g(U(0.5, 0.2, 0.9), 0).phase(-(0.2 + 0.9) / 2),
    );
    close(
      `${V3}qubit q;\nu2(0.2, 0.9) q;\n`,
      new Dense(1).g(U(Math.PI / 2, 0.2, 0.9), 0).phase(-(0.2 + 0.9) / 2),
    );
    close(`${V3}qubit q;\nu1(0.9) q;\n`, new Dense(1).g(P(0.9), 0));
    close(
      `${V3}qubit[2] q;\nctrl @ u3(0.5, 0.2, 0.9) q[0], q[1];\n`,
      new Dense(2).g(scaled(U(0.5, 0.2, 0.9), cexp(-0.55)), 1, [0]),
    );
    close(`${V2}qreg q[1];\nu3(0.5, 0.2, 0.9) q[0];\n`, new Dense(1).g(U(0.5, 0.2, 0.9), 0));
    close(`${V2}qreg q[1];\nu2(0.2, 0.9) q[0];\n`, new Dense(1).g(U(Math.PI / 2, 0.2, 0.9), 0));
  });
  it('user definitions of names the included library lacks are accepted', () => {
    close(
      `${V3}qubit[2] q;\ngate cu1(l) a, b { cp(l) a, b; }\ngate rzz(t) a, b { cx a, b; rz(t) b; cx a, b; }\ngate u(t, p, l) a { U(t, p, l) a; }\ncu1(0.3) q[0], q[1];\nrzz(0.2) q[0], q[1];\nu(0.1, 0.2, 0.3) q[0];\n`,
      new Dense(2)
        .g(P(0.3), 1, [0])
        .g(X, 1, [0])
        .g(RZ(0.2), 1)
        .g(X, 1, [0])
        .g(U(0.1, 0.2, 0.3), 0),
    );
    close(
      `${V2}qreg q[2];\ngate cphase(l) a, b { cu1(l) a, b; }\ngate phase(l) a { u1(l) a; }\ncphase(0.4) q[0], q[1];\nphase(0.2) q[1];\n`,
      new Dense(2).g(P(0.4), 1, [0]).g(P(0.2), 1),
    );
  });
  it("qelib1.inc's csx, cu, u0, c3x, c3sqrtx, c4x, rccx, rc3x", () => {
    close(`${V2}qreg q[2];\ncsx q[1], q[0];\n`, new Dense(2).g(SX, 0, [1]));
    close(
      `${V2}qreg q[2];\ncu(0.3, 0.5, -0.7, 0.9) q[0], q[1];\n`,
      new Dense(2).g(scaled(U(0.3, 0.5, -0.7), cexp(0.9)), 1, [0]),
    );
    close(`${V2}qreg q[1];\nu0(5) q[0];\n`, new Dense(1).g(I2, 0));
    close(`${V2}qreg q[4];\nc3x q[3], q[1], q[0], q[2];\n`, new Dense(4).g(X, 2, [3, 1, 0]));
    close(`${V2}qreg q[4];\nc3sqrtx q[0], q[1], q[2], q[3];\n`, new Dense(4).g(SX, 3, [0, 1, 2]));
    close(`${V2}qreg q[5];\nc4x q[0], q[1], q[2], q[3], q[4];\n`, new Dense(5).g(X, 4, [0, 1, 2, 3]));
    // The relative-phase Toffolis, as qelib1.inc defines them (u2(0,π) = H, u1(±π/4) = T / T†).
    const Td = P(-Math.PI / 4);
    close(
      `${V2}qreg q[3];\nrccx q[0], q[1], q[2];\n`,
      new Dense(3).g(H, 2).g(T, 2).g(X, 2, [1]).g(Td, 2).g(X, 2, [0]).g(T, 2).g(X, 2, [1]).g(Td, 2).g(H, 2),
    );
    const d = new Dense(4);
    d.g(H, 3).g(T, 3).g(X, 3, [2]).g(Td, 3).g(H, 3).g(X, 3, [0]).g(T, 3).g(X, 3, [1]).g(Td, 3);
    d.g(X, 3, [0]).g(T, 3).g(X, 3, [1]).g(Td, 3).g(H, 3).g(T, 3).g(X, 3, [2]).g(Td, 3).g(H, 3);
    close(`${V2}qreg q[4];\nrc3x q[0], q[1], q[2], q[3];\n`, d);
  });
  it('refuses a gate of the other library, a wrong library file and an unknown minor version', () => {
    fails(
      `${V3}qubit[2] q;\ncu1(0.1) q[0], q[1];`,
      /unknown gate 'cu1': it is not in the OpenQASM 3 standard library \("stdgates.inc"\)/,
      4,
    );
    fails(
      `${V2}qreg q[1];\nphase(0.1) q[0];`,
      /unknown gate 'phase': it is not in the OpenQASM 2 standard library/,
      4,
    );
    fails(
      'OPENQASM 3.0;\ninclude "qelib1.inc";\nqubit q;',
      /"qelib1.inc" is the OpenQASM 2 standard library; an OpenQASM 3 program includes "stdgates.inc"/,
      2,
    );
    fails('OPENQASM 2.6;\nqreg q[1];', /unsupported OpenQASM version 2.6/, 1);
    fails(`${V3}gate x a { }`, /gate 'x' is already defined by "stdgates.inc"/, 3);
  });
});

describe('export on physical qubits (--physical) reads back', () => {
  it('wire i is written as $layout[i]; the importer reads it on the physical wires, equal to the permuted circuit', async () => {
    const { exportQasm } = await import('../../src/qasm/index.ts');
    const { simplifiedTwoDesign, makeCircuit } = await import('../../src/circuit/index.ts');
    const c = simplifiedTwoDesign(3, 2);
    const theta = c.params.map((_, i) => 0.1 * (i + 1));
    const layout = [4, 1, 2];
    const text = exportQasm(c, { bindings: theta, physical: layout, measure: true });
    expect(text).toMatch(/\$4/);
    expect(text).not.toMatch(/qubit\[/);
    const r = parseQasmDetailed(text);
    expect(r.circuit.qubits).toBe(5);
    expect(r.physicalQubits).toEqual([0, 1, 2, 3, 4]);
    expect(r.measurements.map((m) => m.qubit)).toEqual(layout);
    // The same circuit with wire i moved to layout[i] on 5 wires, built directly.
    const { bindParameters } = await import('../../src/circuit/index.ts');
    const bound = bindParameters(c, theta);
    const moved = makeCircuit({
      qubits: 5,
      gates: bound.gates.map((g) => ({ ...g, wires: g.wires.map((w) => layout[w]!) }) as unknown as typeof g),
    });
    expect(maxDiff(simulateComplex(r.circuit), simulateComplex(moved))).toBeLessThan(1e-12);
    const identity = parseQasmDetailed(exportQasm(c, { bindings: theta, physical: true }));
    expect(maxDiff(simulateComplex(identity.circuit), simulateComplex(bound))).toBeLessThan(1e-12);
  });
  it('refuses a bad layout and OpenQASM 2', async () => {
    const { exportQasm } = await import('../../src/qasm/index.ts');
    const { simplifiedTwoDesign } = await import('../../src/circuit/index.ts');
    const { InputError } = await import('../../src/errors.ts');
    const c = simplifiedTwoDesign(2, 1);
    const theta = c.params.map(() => 0.3);
    expect(() => exportQasm(c, { bindings: theta, physical: [0, 0] })).toThrow(InputError);
    expect(() => exportQasm(c, { bindings: theta, physical: [0] })).toThrow(/2 distinct non-negative/);
    expect(() => exportQasm(c, { bindings: theta, physical: true, version: 2 })).toThrow(/OpenQASM 3/);
  });
});
