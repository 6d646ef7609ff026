/** Every error path: a QasmParseError with line, column and what was expected; export errors are typed. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCircuit, param, ry, simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { InputError, ParameterError, QasmParseError } from '../../src/errors.ts';
import { exportQasm, type ParseOptions, parseQasm } from '../../src/qasm/index.ts';

const V3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n';
const V2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n';

function parseError(text: string, options: ParseOptions = {}): QasmParseError {
  try {
    parseQasm(text, options);
  } catch (e) {
    expect(e).toBeInstanceOf(QasmParseError);
    return e as QasmParseError;
  }
  throw new Error('expected a QasmParseError');
}

// [label, program, message pattern, line, column]
const CASES: [string, string, RegExp, number, number][] = [
  ['bad character', `${V3}qubit q;\nry(0.1) q $;`, /unexpected character "\$"/, 4, 11],
  [
    'unterminated block comment',
    `${V3}/* never closed\nqubit q;`,
    /unterminated block comment: expected '\*\/'/,
    3,
    1,
  ],
  ['unterminated string', 'OPENQASM 3.0;\ninclude "stdgates.inc;\n', /unterminated string/, 2, 9],
  [
    'malformed exponent',
    `${V3}qubit q;\nry(1e+) q;`,
    /malformed number '1e\+\)?'?.*expected digits after the exponent/,
    4,
    4,
  ],
  [
    'number glued to a name',
    `${V3}qubit q;\nry(2pi) q;`,
    /expected an operator or delimiter after 2, got 'p'/,
    4,
    5,
  ],
  ['missing semicolon', `${V3}qubit q\nry(0.1) q;`, /expected ';' after the declaration, got 'ry'/, 4, 1],
  ['missing version number', 'OPENQASM ;', /expected a version number after 'OPENQASM'/, 1, 10],
  ['unsupported version', 'OPENQASM 4.0;', /unsupported OpenQASM version 4.0: expected 2.0 or 3/, 1, 10],
  ['version not first', `qubit q;\nOPENQASM 3.0;`, /must be the first statement/, 2, 1],
  [
    'include without string',
    'OPENQASM 3.0;\ninclude stdgates;',
    /expected a quoted file name after 'include', got 'stdgates'/,
    2,
    9,
  ],
  ['unsupported statement', `${V3}qubit q;\ndefcal x $0 { }`, /unsupported statement 'defcal'/, 4, 1],
  [
    'switch without a case',
    `${V3}qubit[2] q;\nswitch (1) { }`,
    /expected at least one 'case' in the 'switch' body, got '\}'/,
    4,
    14,
  ],
  [
    'input of another type',
    `${V3}input int n;`,
    /expected 'float' or 'angle' after 'input'.*got 'int'/,
    3,
    7,
  ],
  [
    'bad expression',
    `${V3}qubit q;\nry(*2) q;`,
    /expected a number, a name, a function call or \( in the expression, got '\*'/,
    4,
    4,
  ],
  [
    'unclosed parenthesis',
    `${V3}qubit q;\nry((1 + 2) q;`,
    /expected '\)' after the arguments of 'ry', got 'q'/,
    4,
    12,
  ],
  [
    'gate body not closed',
    `${V3}gate g a { x a;`,
    /expected '}' to close the body of gate 'g', got end of file/,
    3,
    16,
  ],
  [
    'measure in a gate body',
    `${V3}gate g a { measure a; }`,
    /'measure' is not allowed in a gate body/,
    3,
    12,
  ],
  [
    'standard gate without include',
    'OPENQASM 2.0;\nqreg q[1];\nh q[0];',
    /unknown gate 'h'.*expected 'include "qelib1.inc";'/,
    3,
    1,
  ],
  ['unknown gate', `${V3}qubit q;\nfoo q;`, /unknown gate 'foo'/, 4, 1],
  ['unknown register', `${V3}qubit q;\nx r[0];`, /unknown qubit register 'r': declare it first/, 4, 3],
  [
    'index out of range',
    `${V3}qubit[2] q;\nx q[2];`,
    /index 2 is out of range for 'q' \(size 2\): expected 0..1/,
    4,
    3,
  ],
  [
    'index on a single qubit',
    `${V3}qubit q;\nx q[0];`,
    /'q' is a single qubit: expected 'q' without an index/,
    4,
    3,
  ],
  ['wrong angle count', `${V3}qubit q;\nry(1, 2) q;`, /gate 'ry' takes 1 angle, got 2/, 4, 1],
  ['wrong qubit count', `${V3}qubit[2] q;\ncx q[0];`, /gate 'cx' acts on 2 qubits, got 1/, 4, 1],
  ['same qubit twice', `${V3}qubit[2] q;\ncx q[1], q[1];`, /applied to the same qubit twice/, 4, 10],
  [
    'broadcast size mismatch',
    `${V3}qubit[2] a;\nqubit[3] b;\ncx a, b;`,
    /same size: expected 2 qubits in 'b', got 3/,
    5,
    7,
  ],
  ['duplicate declaration', `${V3}qubit q;\nbit q;`, /'q' is already declared as a qubit register/, 4, 1],
  ['register of size 0', `${V2}qreg q[0];`, /must have at least 1 element, got 0/, 3, 1],
  ['register is not a gate', `${V3}qubit q;\nq q;`, /'q' is a qubit register, not a gate/, 4, 1],
  [
    'product of inputs',
    `${V3}input float a;\ninput float b;\nqubit q;\nry(a * b) q;`,
    /product of inputs 'a' and 'b' is not affine/,
    6,
    6,
  ],
  [
    'square of an input',
    `${V3}input float a;\nqubit q;\nry(a * a) q;`,
    /product of inputs 'a' and 'a'/,
    5,
    6,
  ],
  [
    'function of an input',
    `${V3}input float a;\nqubit q;\nry(sin(a)) q;`,
    /argument of 'sin' uses input 'a' non-affinely/,
    5,
    4,
  ],
  [
    'power of an input',
    `${V3}input float a;\nqubit q;\nry(a**2) q;`,
    /base of '\*\*' uses input 'a' non-affinely/,
    5,
    5,
  ],
  [
    'division by an input',
    `${V3}input float a;\nqubit q;\nry(1/a) q;`,
    /division by input 'a' is not affine/,
    5,
    5,
  ],
  [
    'two inputs in one angle',
    `${V3}input float a;\ninput float b;\nqubit q;\nry(a + b) q;`,
    /combines two inputs \('a' and 'b'\)/,
    6,
    6,
  ],
  ['division by zero', `${V3}qubit q;\nry(1/0) q;`, /division by zero/, 4, 5],
  ['non-finite angle', `${V3}qubit q;\nry(ln(0)) q;`, /not a finite number/, 4, 4],
  ['unknown function', `${V3}qubit q;\nry(foo(1)) q;`, /unknown function 'foo': expected one of sin/, 4, 4],
  ['function arity', `${V3}qubit q;\nry(sin(1, 2)) q;`, /'sin' takes 1 argument, got 2/, 4, 4],
  [
    'unknown name',
    `${V3}qubit q;\nry(theta) q;`,
    /unknown name 'theta' in the expression: expected an input parameter/,
    4,
    4,
  ],
  [
    'input used in a gate body',
    `${V3}input float a;\ngate g x { ry(a) x; }`,
    /unknown name 'a' in the body of gate 'g'/,
    4,
    15,
  ],
  [
    'unknown qubit in a gate body',
    `${V3}gate g a { x b; }`,
    /unknown qubit 'b' in the body of gate 'g': expected one of a/,
    3,
    14,
  ],
  ['indexed qubit in a gate body', `${V3}gate g a { x a[0]; }`, /qubit arguments take no index/, 3, 14],
  ['recursive gate', `${V3}gate g a { g a; }`, /calls itself/, 3, 12],
  ['gate redefinition', `${V3}gate h a { x a; }`, /gate 'h' is already defined by "stdgates.inc"/, 3, 1],
  ['duplicate gate parameter', `${V3}gate g(a, a) q { }`, /lists the parameter 'a' twice/, 3, 1],
  [
    'opaque gate call',
    `${V2}opaque magic q;\nqreg r[1];\nmagic r[0];`,
    /'magic' is opaque: it has no definition to lower/,
    5,
    1,
  ],
  [
    'gate after measurement',
    `${V3}qubit q;\nbit c;\nc = measure q;\nx q;`,
    /measurement on line 5 is followed by gates on q: the program is not a unitary; qpeft simulates unitary programs/,
    6,
    1,
  ],
  [
    'measure size mismatch',
    `${V2}qreg q[2];\ncreg c[3];\nmeasure q -> c;`,
    /expected as many bits as qubits, got 2 qubits and 3 bits/,
    5,
    1,
  ],
  [
    'measure into a qubit',
    `${V3}qubit[2] q;\nq[0] = measure q[1];`,
    /'q' is a qubit register: expected a bit register/,
    4,
    1,
  ],
  ['input in OpenQASM 2', `${V2}input float a;`, /'input' parameters are OpenQASM 3/, 3, 1],
  ['gphase in OpenQASM 2', `${V2}qreg q[1];\ngphase(0.1);`, /'gphase' is OpenQASM 3/, 4, 1],
  [
    'symbolic global phase',
    `${V3}input float a;\nqubit q;\np(a) q;`,
    /global phase depends on input 'a'/,
    5,
    1,
  ],
  ['non-ASCII input name', `${V3}input float θ;`, /must be an ASCII identifier/, 3, 1],
  ['input named like a constant', `${V3}input float pi;`, /'pi' is a built-in constant/, 3, 1],
  ['no qubits', `${V3}input float a;`, /declares no qubits/, 3, 1],
  [
    'include without includeDir',
    `${V3}include "mine.inc";`,
    /cannot include "mine.inc".*option includeDir/,
    3,
    1,
  ],
];

describe('QasmParseError: line, column, expected and given', () => {
  for (const [label, text, pattern, line, column] of CASES) {
    it(label, () => {
      const e = parseError(text);
      expect(e.detail).toMatch(pattern);
      expect([e.line, e.column]).toEqual([line, column]);
      expect(e.message).toBe(`line ${line}, column ${column}: ${e.detail}`);
      expect(e.code).toBe('E_QASM_PARSE');
    });
  }
});

describe('size limits', () => {
  it('maxBytes', () => {
    expect(parseError(`${V3}qubit q;\n`, { maxBytes: 20 }).detail).toMatch(
      /the program is \d+ bytes; the limit is 20 \(option maxBytes\)/,
    );
  });
  it('maxQubits (default 30)', () => {
    expect(parseError(`${V3}qubit[31] q;`).detail).toMatch(/31 qubits; the limit is 30/);
    expect(parseError(`${V3}qubit[3] a;\nqubit[3] b;`, { maxQubits: 4 }).detail).toMatch(
      /brings the program to 6 qubits; the limit is 4/,
    );
  });
  it('maxGateDepth: nested gate definitions', () => {
    const defs = Array.from({ length: 6 }, (_, i) =>
      i === 0 ? 'gate g0 a { x a; }' : `gate g${i} a { g${i - 1} a; }`,
    ).join('\n');
    const e = parseError(`${V3}${defs}`, { maxGateDepth: 4 });
    expect(e.detail).toMatch(
      /gate 'g4' nests user gate definitions 5 deep; the limit is 4 \(option maxGateDepth\)/,
    );
    expect(e.line).toBe(7);
  });
  it('maxGates: exponential expansion is cut off', () => {
    const defs = Array.from({ length: 12 }, (_, i) =>
      i === 0 ? 'gate g0 a { x a; x a; }' : `gate g${i} a { g${i - 1} a; g${i - 1} a; }`,
    ).join('\n');
    expect(parseError(`${V3}${defs}\nqubit q;\ng11 q;`, { maxGates: 1000 }).detail).toMatch(
      /more than 1000 gates \(option maxGates\)/,
    );
  });
  it('maxNesting: deeply nested expressions', () => {
    const e = parseError(`${V3}qubit q;\nry(${'('.repeat(100)}1${')'.repeat(100)}) q;`);
    expect(e.detail).toMatch(/nesting deeper than 64 levels/);
  });
});

describe('includes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-inc-'));
  mkdirSync(path.join(dir, 'inc'));
  writeFileSync(path.join(dir, 'secret.inc'), 'gate s2 a { x a; }\n');
  writeFileSync(path.join(dir, 'inc', 'bad.inc'), 'gate b a { y a }\n');
  const inc = path.join(dir, 'inc');
  it('paths may not leave the include directory', () => {
    expect(parseError(`${V3}include "../secret.inc";`, { includeDir: inc }).detail).toMatch(
      /leaves the include directory/,
    );
  });
  it('a directory or an oversized file is refused', () => {
    mkdirSync(path.join(inc, 'sub'), { recursive: true });
    expect(parseError(`${V3}include "sub";`, { includeDir: inc }).detail).toMatch(/not a regular file/);
    writeFileSync(path.join(inc, 'big.inc'), `// ${'x'.repeat(97)}\n`);
    expect(parseError(`${V3}include "big.inc";`, { includeDir: inc, maxBytes: 80 }).detail).toMatch(
      /included file "big.inc" is 101 bytes; the limit is 80 \(option maxBytes\)/,
    );
  });
  it('a missing file names the directory', () => {
    expect(parseError(`${V3}include "nope.inc";`, { includeDir: inc }).detail).toMatch(
      /no such file in the include directory/,
    );
  });
  it('an error inside an included file names the file, its line and column', () => {
    const e = parseError(`${V3}include "bad.inc";`, { includeDir: inc });
    expect(e.detail).toMatch(/in included file "bad.inc", line 1, column 16: expected ';'/);
    expect([e.line, e.column]).toEqual([3, 1]);
  });
});

describe('export errors', () => {
  const c = simplifiedTwoDesign(2, 1);
  it('unbound parameters without bindings: ParameterError naming them', () => {
    expect(() => exportQasm(c)).toThrow(ParameterError);
    expect(() => exportQasm(c)).toThrow(/unbound parameters \(theta0, theta1, theta2, theta3\)/);
  });
  it('unbound with OpenQASM 2: InputError', () => {
    expect(() => exportQasm(c, { version: 2, unbound: true })).toThrow(InputError);
  });
  it('wrong binding count, unknown basis, unknown version', () => {
    expect(() => exportQasm(c, { bindings: [1, 2] })).toThrow(ParameterError);
    expect(() => exportQasm(c, { bindings: [1, 2, 3, 4], basis: 'clifford' as 'ibm' })).toThrow(
      /basis must be one of native, ibm, u-cx/,
    );
    expect(() => exportQasm(c, { bindings: [1, 2, 3, 4], version: 4 as 3 })).toThrow(
      /version must be 2 or 3/,
    );
  });
  it('a parameter that only appears with a scale still binds', () => {
    const k = makeCircuit({ qubits: 1, gates: [ry(0, param('a', 3, 0))], params: ['a'] });
    expect(exportQasm(k, { bindings: [0.5] })).toContain('ry(1.5) q[0];');
  });
});
