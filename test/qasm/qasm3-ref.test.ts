/**
 * The corpus's OpenQASM 3 reference (qasm3-ref.ts) checked on its own, against matrices written here by
 * hand with dense-ref.ts: before it can vouch for the importer, it has to be right where the answer is
 * known, and it has to refuse what it does not implement rather than return something.
 */
import { describe, expect, it } from 'vitest';
import { Dense, H, P, RY, RZ, S, SX, T, U, X, Z } from './dense-ref.ts';
import { maxDiff } from './helpers.ts';
import { forQasmTs, referenceQasm3 } from './qasm3-ref.ts';

const ref = (body: string, head = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n') =>
  referenceQasm3(head + body, 5);
const close = (body: string, d: Dense, head?: string) => {
  const r = ref(body, head);
  expect(r.qubits).toBe(d.n);
  expect(maxDiff(r, d)).toBeLessThan(1e-12);
};

describe('qasm3-ref (the corpus reference) against hand-built matrices', () => {
  it('registers are laid out in declaration order; h then cx is the Bell circuit', () => {
    close('qubit[1] a;\nqubit[2] b;\nh a[0];\ncx a[0], b[1];\n', new Dense(3).g(H, 0).g(X, 2, [0]));
  });

  it('physical qubits: the width is the largest index + 1, unused wires included', () => {
    expect(forQasmTs('OPENQASM 3.0;\nqubit $2;\nx $2;\n').physical).toBe(3);
    close('x $2;\ncx $2, $0;\n', new Dense(3).g(X, 2).g(X, 0, [2]));
  });

  it('without stdgates.inc, `gate cx a, b {}` is a new, empty gate: the identity', () => {
    close(
      'qubit[2] q;\ngate cx a, b { }\nU(pi, 0, pi) q[0];\ncx q[0], q[1];\n',
      new Dense(2).g(X, 0),
      'OPENQASM 3.0;\n',
    );
  });

  it('modifiers: ctrl @ gphase is the phase gate, inv @ s is sdg, pow(2) @ s is z, negctrl fires on |0⟩', () => {
    close('qubit[1] q;\nctrl @ gphase(0.7) q[0];\n', new Dense(1).g(P(0.7), 0));
    close('qubit[1] q;\ninv @ s q[0];\n', new Dense(1).g(P(-Math.PI / 2), 0));
    close('qubit[1] q;\npow(2) @ s q[0];\n', new Dense(1).g(Z, 0));
    close('qubit[1] q;\npow(-1) @ s q[0];\n', new Dense(1).g(P(-Math.PI / 2), 0));
    close('qubit[2] q;\nnegctrl @ x q[1], q[0];\n', new Dense(2).g(X, 0, [], [1]));
    close('qubit[3] q;\nctrl(2) @ x q[2], q[0], q[1];\n', new Dense(3).g(X, 1, [2, 0]));
    close('qubit[2] q;\ninv @ ctrl @ s q[0], q[1];\n', new Dense(2).g(P(-Math.PI / 2), 1, [0]));
  });

  it('non-integer powers on the principal branch: √X = SX, √Z = S, √S = T, √(ctrl-X) = ctrl-SX, (h^(1/3))³ = h (1/3 alone is integer division, 0)', () => {
    close('qubit[1] q;\npow(0.5) @ x q[0];\n', new Dense(1).g(SX, 0));
    close('qubit[1] q;\npow(0.5) @ z q[0];\n', new Dense(1).g(S, 0));
    close('qubit[1] q;\npow(0.5) @ s q[0];\n', new Dense(1).g(T, 0));
    close('qubit[1] q;\npow(-0.5) @ z q[0];\n', new Dense(1).g(P(-Math.PI / 2), 0));
    close('qubit[2] q;\npow(0.5) @ cx q[0], q[1];\n', new Dense(2).g(SX, 1, [0]));
    close('qubit[1] q;\npow(3) @ pow(1.0 / 3) @ h q[0];\n', new Dense(1).g(H, 0));
    // rz(1) = diag(e^{−i/2}, e^{i/2}): its square root halves both arguments.
    close('qubit[1] q;\npow(0.5) @ rz(1) q[0];\n', new Dense(1).g(RZ(0.5), 0));
  });

  it('gphase multiplies the whole matrix; user gates compose their bodies with parameters', () => {
    close('qubit[2] q;\ngphase(0.3);\nh q[1];\n', new Dense(2).g(H, 1).phase(0.3));
    close(
      'gate g(a, b) x, y { U(a, 0, b) y; cx y, x; s x; }\nqubit[2] q;\ng(0.4, 1.1) q[1], q[0];\n',
      new Dense(2)
        .g(U(0.4, 0, 1.1), 0)
        .g(X, 1, [0])
        .g(S, 1),
    );
  });

  it('stdgates.inc u3 and u2 carry the gphase the specification writes into them', () => {
    close(
      'qubit[1] q;\nu3(0.5, 0.2, 0.9) q[0];\n',
      new Dense(1).g(U(0.5, 0.2, 0.9), 0).phase(-(0.2 + 0.9) / 2),
    );
    close(
      'qubit[1] q;\nu2(0.2, 0.9) q[0];\n',
      new Dense(1).g(U(Math.PI / 2, 0.2, 0.9), 0).phase(-(0.2 + 0.9) / 2),
    );
  });

  it('classical control at compile time: uint bits, ranges with negative steps, sets, while, int wrap', () => {
    // uint[4] 6 = 0b0110: x on wires 1 and 2.
    close(
      'qubit[4] q;\nuint[4] v = 6;\nfor uint i in [0:3] { if (bool(v[i])) x q[i]; }\n',
      new Dense(4).g(X, 1).g(X, 2),
    );
    // [3:-1:1] runs 3, 2, 1 (the end is inclusive); {0, 2} runs 0 and 2.
    close(
      'qubit[4] q;\nfor int i in [3:-1:1] { x q[i]; }\nfor int i in {0, 2} { h q[i]; }\n',
      new Dense(4).g(X, 3).g(X, 2).g(X, 1).g(H, 0).g(H, 2),
    );
    // while counts down three times: three x on one wire = one x.
    close('qubit[1] q;\nint n = 3;\nwhile (n > 0) { x q[0]; n = n - 1; }\n', new Dense(1).g(X, 0));
    // int[3] holds −4…3: 5 wraps to −3, so the branch on a < 0 runs.
    close('qubit[1] q;\nint[3] a = 5;\nif (a < 0) { x q[0]; } else { h q[0]; }\n', new Dense(1).g(X, 0));
    // bit strings put the least significant bit on the right; b[i] = v sets one bit.
    close('qubit[1] q;\nbit[5] a = "10101";\nif (a == 21) x q[0];\n', new Dense(1).g(X, 0));
    close('qubit[1] q;\nbit[3] r = 5;\nr[1] = 1;\nif (r == 7) x q[0];\n', new Dense(1).g(X, 0));
    expect(() => ref('qubit[1] q;\nbit c;\nc = measure q[0];\nif (c == 1) x q[0];\n')).toThrow(
      /measurement results/,
    );
    // int / int is integer division (7 / 2 = 3).
    close('qubit[1] q;\nint a = 7 / 2;\nif (a == 3) x q[0];\n', new Dense(1).g(X, 0));
  });

  it("sized angles follow the specification's table (classical.rst): k modulo 2ⁿ", () => {
    const head =
      'qubit[1] q;\nangle[4] a = 7 * (pi / 8);\nangle[4] b = pi / 8;\nangle[4] c = 5 * (pi / 4);\nuint[4] two = 2;\n';
    close(`${head}angle[4] r = a + b;\nrz(r) q[0];\n`, new Dense(1).g(RZ(Math.PI), 0));
    close(`${head}angle[4] r = b - a;\nrz(r) q[0];\n`, new Dense(1).g(RZ((5 * Math.PI) / 4), 0));
    close(`${head}angle[4] r = a / two;\nrz(r) q[0];\n`, new Dense(1).g(RZ((3 * Math.PI) / 8), 0));
    close(`${head}angle[4] r = two * c;\nrz(r) q[0];\n`, new Dense(1).g(RZ(Math.PI / 2), 0));
    close(`${head}uint[4] r = c / b;\nfloat[64] f = r;\nrz(f) q[0];\n`, new Dense(1).g(RZ(10), 0));
    close(
      `${head}angle[4] r = -(pi / 4);\nangle[4] m = -r;\nrz(m) q[0];\n`,
      new Dense(1).g(RZ(Math.PI / 4), 0),
    );
    // 0.3 rad in angle[4] is k = round(0.3·16/2π) = 1; ~ flips all 4 bits of a uint[4].
    close('qubit[1] q;\nangle[4] a = 0.3;\nrz(a) q[0];\n', new Dense(1).g(RZ(Math.PI / 8), 0));
    close('qubit[1] q;\nuint[4] u = 5;\nu = ~u;\nfloat[64] f = u;\nrz(f) q[0];\n', new Dense(1).g(RZ(10), 0));
    close('qubit[1] q;\nint[8] i = -2;\nif (bool(i[7])) x q[0];\n', new Dense(1).g(X, 0));
  });

  it('def subroutines bind qubits and register slices, convert arguments and return typed values', () => {
    // angle[2] rounds 1.0 rad to k = 1 (π/2); f returns k + 1 = 2 for k = 1; the slice q[1:2] binds r[0] = q[1].
    const body =
      'qubit[3] q;\ndef f(qubit[2] r, angle[2] t, int k) -> int {\n  rz(t) r[0];\n  cx r[0], r[1];\n  return k + 1;\n}\n' +
      'int m = 1;\nm = f(q[1:2], 1.0, m);\nfloat[64] fm = m;\nry(fm) q[0];\n';
    close(
      body,
      new Dense(3)
        .g(RZ(Math.PI / 2), 1)
        .g(X, 2, [1])
        .g(RY(2), 0),
    );
  });

  it('measurement at the end and reset at the start are allowed; anything else is refused', () => {
    close('qubit[1] q;\nbit c;\nreset q;\nx q[0];\nc = measure q[0];\n', new Dense(1).g(X, 0));
    expect(() => ref('qubit[1] q;\nbit c;\nc = measure q[0];\nx q[0];\n')).toThrow(/after its measurement/);
    expect(() => ref('qubit[1] q;\nx q[0];\nreset q;\n')).toThrow(/reset of wire 0/);
    expect(() => ref('gate hh a, b { h a; h b; }\nqubit[2] q;\npow(0.5) @ hh q[0], q[1];\n')).toThrow(
      /no controlled one-qubit unitary/,
    );
    expect(() => ref('qubit[1] q;\nfoo q[0];\n')).toThrow();
  });

  it('a different angle gives a different matrix (the comparison is not vacuous)', () => {
    const a = ref('qubit[1] q;\nrx(0.3) q[0];\n');
    const b = ref('qubit[1] q;\nrx(0.3001) q[0];\n');
    expect(maxDiff(a, b)).toBeGreaterThan(1e-5);
  });
});
