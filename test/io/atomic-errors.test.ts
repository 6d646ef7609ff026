/**
 * writeFileAtomic's failures are one-line `OutputError`s naming the target and the errno (disk full is
 * injected by failing `writeSync` with ENOSPC, as the kernel does on a full file system), the destination
 * keeps its old content, no temporary file is left, and a path under /proc fails at once instead of hanging
 * in a recursive mkdir.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const fault = vi.hoisted(() => ({ code: null as string | null }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
    if (fault.code) {
      const e = new Error(`${fault.code}: injected, write`) as NodeJS.ErrnoException;
      e.code = fault.code;
      throw e;
    }
    return (fs.writeSync as (...a: unknown[]) => number)(...args);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const { writeFileAtomic } = await import('../../src/io/atomic.ts');
const { OutputError } = await import('../../src/errors.ts');

const root = mkdtempSync(path.join(os.tmpdir(), 'qpeft-atomic-err-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  fault.code = null;
});

function thrown(f: () => void): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('writeFileAtomic failures', () => {
  it('disk full mid-write: an OutputError naming ENOSPC; the old content stays, no temporary file', () => {
    const target = path.join(root, 'result.json');
    writeFileSync(target, 'old\n');
    fault.code = 'ENOSPC';
    const e = thrown(() => writeFileAtomic(target, 'new content\n'));
    expect(e).toBeInstanceOf(OutputError);
    expect(e.message).toMatch(/result\.json.*ENOSPC \(no space left on the device\)/);
    expect(e.message).not.toContain('\n');
    expect(readFileSync(target, 'utf8')).toBe('old\n');
    expect(readdirSync(root)).toEqual(['result.json']);
  });

  it('a file where the parent folder should be: an OutputError naming ENOTDIR', () => {
    const file = path.join(root, 'plain');
    writeFileSync(file, 'x');
    const e = thrown(() => writeFileAtomic(path.join(file, 'sub', 'a.json'), '{}'));
    expect(e).toBeInstanceOf(OutputError);
    expect(e.message).toMatch(/ENOTDIR/);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it.runIf(process.platform === 'linux')('a folder under /proc: an OutputError at once (no hang)', () => {
    const e = thrown(() => writeFileAtomic('/proc/qpeft-no-such/dir/a.json', '{}'));
    expect(e).toBeInstanceOf(OutputError);
    expect(e.message).toMatch(/\/proc\/qpeft-no-such.*E[A-Z]+ \(/);
  });
});
