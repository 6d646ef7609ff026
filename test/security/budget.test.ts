/**
 * Per-process memory budgets and bounded reads from the command line (issue 15, items 4 and 9): the CLI
 * refuses what would not fit before allocating it, streams large outputs, and never reads a device or an
 * oversized file.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { cleanTmp, tmpDir } from './helpers.ts';

afterAll(cleanTmp);
const saved = process.env.QPEFT_MAX_BYTES;
afterEach(() => {
  if (saved === undefined) delete process.env.QPEFT_MAX_BYTES;
  else process.env.QPEFT_MAX_BYTES = saved;
});

async function cli(argv: string[]): Promise<{ code: number; chunks: string[]; err: string }> {
  const chunks: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => chunks.push(t), err: (t) => err.push(t) });
  return { code, chunks, err: err.join('\n') };
}

describe('item 4: the budget is what the whole command holds', () => {
  it('demo refuses a factor pair over the budget before simulating, naming the parts', async () => {
    process.env.QPEFT_MAX_BYTES = String(64 * 1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const r = await cli(['demo', '--dim', String(2 ** 20), '--rank', '16']);
    expect(r.code).toBe(2);
    // 2^20 rows × 16 columns × 8 bytes = 128 MiB per buffer, two held at once
    expect(r.err).toMatch(
      /^qpeft demo: demo --dim 1048576 --rank 16 would hold 256 MiB at once \(one float64 factor 128 MiB \+ its simulation state 128 MiB\); this process allows 64 MiB/,
    );
    expect(r.err.split('\n')).toHaveLength(1);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('unitary --json streams a 2^16-row matrix in chunks that parse to unit-norm columns', async () => {
    const r = await cli(['unitary', '--qubits', '16', '--layers', '1', '--columns', '2', '--json']);
    expect(r.code).toBe(0);
    expect(r.chunks.length).toBeGreaterThan(10);
    const j = JSON.parse(r.chunks.join('\n')) as { matrix: number[][]; columns: number };
    expect(j.matrix).toHaveLength(2 ** 16);
    // the columns of an orthogonal matrix are orthonormal (closed form, independent of the simulator)
    let n0 = 0;
    let n1 = 0;
    let dot = 0;
    for (const [a, b] of j.matrix as [number, number][]) {
      n0 += a * a;
      n1 += b * b;
      dot += a * b;
    }
    expect(n0).toBeCloseTo(1, 10);
    expect(n1).toBeCloseTo(1, 10);
    expect(dot).toBeCloseTo(0, 10);
  });

  it('unitary text output converts only the rows it shows', async () => {
    const r = await cli(['unitary', '--qubits', '18', '--layers', '1', '--columns', '1']);
    expect(r.code).toBe(0);
    expect(r.chunks).toHaveLength(1 + 64 + 1); // header, 32 + 32 rows, the ellipsis
  });
});

describe('item 9: devices and oversized files are refused unread', () => {
  it('--angles /dev/zero is one line, exit 2, without reading', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const r = await cli(['unitary', '--qubits', '2', '--layers', '1', '--angles', '/dev/zero']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'qpeft unitary: --angles: cannot read "/dev/zero": it is a character device, expected a regular angles file',
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('--angles from a FIFO does not wait for a writer', async () => {
    const dir = tmpDir();
    const fifo = path.join(dir, 'angles.json');
    execFileSync('mkfifo', [fifo]);
    const r = await cli(['unitary', '--qubits', '2', '--layers', '1', '--angles', fifo]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/angles\.json": it is a FIFO, expected a regular angles file$/);
  });

  it('qasm import of a 200 MB file is refused by its size before it is read; nothing on disk changes', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'big.qasm');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 200 * 1024 * 1024); // sparse: costs no disk
    closeSync(fd);
    // (hashing 200 MB would read it: the file's size, times and the folder's listing stand for it)
    const stamp = () => {
      const st = statSync(file);
      return [st.size, st.mtimeMs, st.ctimeMs, readdirSync(dir).join(',')];
    };
    const disk = stamp();
    const before = process.memoryUsage().arrayBuffers;
    const r = await cli(['qasm', 'import', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^qpeft qasm: ".*big\.qasm" is 200\.0 MiB; an OpenQASM file may be at most 16\.0 MiB$/,
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    expect(stamp()).toEqual(disk);
  });
});
