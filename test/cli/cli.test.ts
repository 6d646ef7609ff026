import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { simplifiedTwoDesign } from '../../src/circuit/templates/index.ts';
import { main } from '../../src/cli/main.ts';
import { InputError } from '../../src/errors.ts';
import { maxDiff, referenceMatrix } from '../helpers/reference.ts';

/** Run the CLI in-process and capture its output. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (t) => {
      out += `${t}\n`;
    },
    err: (t) => {
      err += `${t}\n`;
    },
  });
  return { code, out, err };
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpeft-cli-'));

describe('qpeft unitary --json', () => {
  it('prints the documented fields and a matrix equal to quantum-circuit for the same angles', async () => {
    const r = await run('unitary', '--qubits', '3', '--layers', '2', '--seed', '5', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({
      template: 'simplified-two-design',
      qubits: 3,
      layers: 2,
      bitOrder: 'little',
      columns: 8,
    });
    expect(j.angles).toHaveLength(3 + 2 * 2 * 2);
    expect(j.matrix).toHaveLength(8);
    expect(j.matrix[0]).toHaveLength(8);
    const ref = referenceMatrix(simplifiedTwoDesign(3, 2), j.angles);
    expect(maxDiff(j.matrix.flat(), ref.re)).toBeLessThanOrEqual(1e-12);
  });
  it('--columns K gives 2^N rows of K numbers; angles from a file are used in template order', async () => {
    const file = path.join(tmp, 'angles.json');
    const angles = Array.from({ length: 6 }, (_, i) => 0.1 * (i + 1));
    writeFileSync(file, JSON.stringify(angles));
    const r = await run(
      'unitary',
      '--qubits',
      '2',
      '--layers',
      '1',
      '--template',
      'alternating-ry-cz',
      '--angles',
      file,
      '--columns',
      '2',
      '--json',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.angles).toEqual(angles);
    expect(j.matrix).toHaveLength(4);
    expect(j.matrix.every((row: number[]) => row.length === 2)).toBe(true);
  });
  it('the same seed gives the same angles in circuit and unitary', async () => {
    const a = JSON.parse(
      (await run('circuit', '--qubits', '4', '--layers', '3', '--seed', '9', '--json')).out,
    );
    const b = JSON.parse(
      (await run('unitary', '--qubits', '4', '--layers', '3', '--seed', '9', '--columns', '1', '--json')).out,
    );
    expect(a.angles).toEqual(b.angles);
    expect(a.angles.every((t: number) => t >= -Math.PI && t < Math.PI)).toBe(true);
    expect(a.gates.filter((g: { name: string }) => g.name === 'ry')).toHaveLength(a.params);
  });
});

describe('bad flags: one line on stderr, exit code 2', () => {
  const bad: [string, string[], RegExp][] = [
    ['missing flag', ['unitary', '--qubits', '2'], /missing required flag --layers/],
    ['unknown flag', ['unitary', '--qubits', '2', '--layers', '1', '--bogus'], /Unknown option '--bogus'/],
    [
      'bad number',
      ['circuit', '--qubits', 'two', '--layers', '1'],
      /--qubits must be an integer in 1\.\.30, got "two"/,
    ],
    [
      'bad template',
      ['circuit', '--qubits', '2', '--layers', '1', '--template', 'x'],
      /unknown template "x"/,
    ],
    [
      'seed and angles',
      ['circuit', '--qubits', '2', '--layers', '1', '--seed', '1', '--angles', 'f'],
      /either --seed or --angles/,
    ],
    [
      'missing file',
      ['circuit', '--qubits', '2', '--layers', '1', '--angles', '/nonexistent.json'],
      /cannot read "\/nonexistent\.json": ENOENT/,
    ],
    [
      'columns range',
      ['unitary', '--qubits', '2', '--layers', '1', '--columns', '5'],
      /--columns must be an integer in 1\.\.4, got "5"/,
    ],
    ['unknown command', ['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [name, argv, re] of bad) {
    it(name, async () => {
      const r = await run(...argv);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(re);
    });
  }
  it('malformed angle files', async () => {
    const notJson = path.join(tmp, 'bad.json');
    writeFileSync(notJson, '[1, 2,');
    expect((await run('circuit', '--qubits', '2', '--layers', '0', '--angles', notJson)).err).toMatch(
      /is not valid JSON/,
    );
    const wrongCount = path.join(tmp, 'count.json');
    writeFileSync(wrongCount, '[1, 2, 3]');
    expect((await run('circuit', '--qubits', '2', '--layers', '0', '--angles', wrongCount)).err).toMatch(
      /needs 2 angles \(template order\), .* has 3/,
    );
    const notNumbers = path.join(tmp, 'nan.json');
    writeFileSync(notNumbers, '[1, "x"]');
    expect((await run('circuit', '--qubits', '2', '--layers', '0', '--angles', notNumbers)).err).toMatch(
      /entry 1 .* is not a finite number: "x"/,
    );
  });
});

describe('the installed bin', () => {
  const bin = path.resolve('bin/qpeft.mjs');
  it('runs a command and prints JSON', () => {
    const out = execFileSync(
      process.execPath,
      [bin, 'unitary', '--qubits', '1', '--layers', '0', '--angles', writeAngles([Math.PI]), '--json'],
      { encoding: 'utf8' },
    );
    const j = JSON.parse(out);
    // RY(π) = [[0, −1], [1, 0]]
    expect(maxDiff(j.matrix.flat(), [0, -1, 1, 0])).toBeLessThanOrEqual(1e-15);
  });
  it('exits 2 with one stderr line and no stack trace on bad input', () => {
    const r = spawnSync(process.execPath, [bin, 'unitary', '--qubits', '99', '--layers', '1'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});

function writeAngles(a: number[]): string {
  const f = path.join(tmp, `a${a.length}.json`);
  writeFileSync(f, JSON.stringify(a));
  return f;
}

describe('qpeft demo', () => {
  it('reports parameter counts equal to the closed forms and orthonormal factors', async () => {
    const r = await run('demo', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const n = 10;
    const L = 2;
    const K = 8;
    expect(j.quantumPeftParams).toBe(2 * (n + 2 * L * (n - 1)) + K);
    expect(j.loraParams).toBe(K * (1024 + 1024));
    expect(j.orthogonalityError.float64).toBeLessThanOrEqual(1e-12);
    expect(j.orthogonalityError.float32).toBeLessThanOrEqual(1e-5);
    expect((await run('demo', '--dim', '768')).err).toMatch(/--dim must be a power of two/);
  });
});

describe('qpeft failures', () => {
  const failing = (error: unknown) => [
    { name: 'boom', summary: 'fails', help: 'usage: qpeft boom', run: () => Promise.reject(error) },
  ];
  async function runWith(error: unknown): Promise<{ code: number; err: string }> {
    let err = '';
    const io = {
      out: () => {},
      err: (t: string) => {
        err += `${t}\n`;
      },
    };
    const code = await main(['boom'], io, failing(error));
    return { code, err };
  }
  it('an untyped error is one line with its own message and exit code 1', async () => {
    const r = await runWith(new TypeError('cannot read x\n    at somewhere (huge.js:1:99999)'));
    expect(r.code).toBe(1);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^qpeft boom: internal error: TypeError: cannot read x at somewhere/);
  });
  it('a thrown non-Error value is printed as text', async () => {
    const r = await runWith('plain string');
    expect(r.code).toBe(1);
    expect(r.err).toContain('plain string');
  });
  it('bad input (a QpeftError) is one line and exit code 2', async () => {
    const r = await runWith(new InputError('expected 3 qubits, got 2'));
    expect(r.code).toBe(2);
    expect(r.err).toBe('qpeft boom: expected 3 qubits, got 2\n');
  });
});
