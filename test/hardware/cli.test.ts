/** The CLI round trip: plan → simulate → reconstruct --json, compared with `qpeft unitary --json`. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../qasm/helpers.ts';
import { cleanup, tmp } from './helpers.ts';

afterAll(cleanup);

describe('qpeft hardware', () => {
  it('plan → simulate → reconstruct --json: the columns match qpeft unitary --columns K --json', async () => {
    const dir = tmp();
    const plan = path.join(dir, 'plan');
    const p = await cli(
      'hardware',
      'plan',
      ...['--qubits', '3', '--layers', '2', '--seed', '6', '--columns', '2', '--shots', '200000'],
      ...['--device', 'ibm-eagle-127', '--stats', '--out', plan],
    );
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/wrote 8 OpenQASM 3 programs/);
    expect(p.out).toMatch(/layout \(logical -> physical\) \d+ \d+ \d+/);
    expect(p.out).toMatch(/ibm \(optimised\): .* 3\.00 gates per RY/);
    const planJson = JSON.parse(readFileSync(path.join(plan, 'plan.json'), 'utf8'));
    expect(planJson.circuits[0]).toMatchObject({
      id: 'template.c0.z',
      file: 'circuits/template.c0.z.qasm',
      circuit: 'template',
      column: 0,
      setting: 'z',
      shots: 200000,
    });
    expect(planJson.circuits[0].successProbability).toBeGreaterThan(0.5);
    const counts = path.join(dir, 'counts.json');
    const s = await cli(
      'hardware',
      'simulate',
      '--plan',
      plan,
      '--seed',
      '1',
      '--workers',
      '0',
      '--out',
      counts,
    );
    expect(s.code).toBe(0);
    const r = await cli('hardware', 'reconstruct', '--plan', plan, '--counts', counts, '--json');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out).circuits[0];
    const u = JSON.parse(
      (await cli('unitary', '--qubits', '3', '--layers', '2', '--seed', '6', '--columns', '2', '--json')).out,
    );
    expect(got.columns.length).toBe(2);
    for (let k = 0; k < 2; k++)
      for (let i = 0; i < 8; i++) expect(Math.abs(got.columns[k][i] - u.matrix[i][k])).toBeLessThan(0.02);
    expect(got.fidelity).toBeGreaterThan(0.999);
  });

  it('refuses a second plan in the same folder, unknown subcommands, --out for template plans', async () => {
    const dir = tmp();
    const plan = path.join(dir, 'plan');
    expect((await cli('hardware', 'plan', '--qubits', '2', '--layers', '1', '--out', plan)).code).toBe(0);
    const again = await cli('hardware', 'plan', '--qubits', '2', '--layers', '1', '--out', plan);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a plan/);
    expect((await cli('hardware', 'fly')).err).toMatch(/needs a subcommand: plan, simulate/);
    const counts = path.join(dir, 'c.json');
    expect((await cli('hardware', 'simulate', '--plan', plan, '--workers', '0', '--out', counts)).code).toBe(
      0,
    );
    const out = path.join(dir, 'adapter');
    const r = await cli('hardware', 'reconstruct', '--plan', plan, '--counts', counts, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bare template: use --json/);
    expect(existsSync(out)).toBe(false);
    writeFileSync(counts, '{"template.c0.z": {"00": 3}}');
    const bad = await cli('hardware', 'reconstruct', '--plan', plan, '--counts', counts, '--json');
    expect(bad.err).toMatch(/no counts for 2 plan circuit\(s\): template\.c0\.w0, template\.c0\.w1/);
    expect(readdirSync(dir).sort()).toEqual(['c.json', 'plan']);
  });
});
