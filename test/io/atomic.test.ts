/**
 * Atomic writes: the temporary files of killed writers are cleaned, a live writer's are not, and a write that
 * fails leaves the destination as it was.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeOrphanedTemps, writeFileAtomic } from '../../src/io/atomic.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'qpeft-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited (so no process has it, unless the system reuses it at once). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('writeFileAtomic', () => {
  it('removes the orphaned temporary files of its target left by killed writers, not a live writer’s', () => {
    const dir = path.join(root, 'orphans');
    mkdirSync(dir);
    const target = path.join(dir, 'result.json');
    const dead = `result.json.${deadPid()}.lq3k2x.tmp`;
    const live = `result.json.${process.ppid}.lq3k2y.tmp`; // the test runner's parent is alive
    const other = `other.json.${deadPid()}.lq3k2z.tmp`;
    for (const f of [dead, live, other]) writeFileSync(path.join(dir, f), 'half a file');
    writeFileAtomic(target, '{"ok":true}\n');
    expect(readFileSync(target, 'utf8')).toBe('{"ok":true}\n');
    expect(readdirSync(dir).sort()).toEqual([live, other, 'result.json'].sort());
    // a directory sweep removes every orphan, and still keeps the live writer's file
    expect(removeOrphanedTemps(dir)).toEqual([other]);
    expect(readdirSync(dir).sort()).toEqual([live, 'result.json'].sort());
  });

  it('leaves the destination unchanged and no temporary file when the rename fails', () => {
    const dir = path.join(root, 'blocked');
    const target = path.join(dir, 'checkpoint.safetensors');
    mkdirSync(target, { recursive: true }); // a directory where the file should go
    writeFileSync(path.join(target, 'keep'), 'x');
    expect(() => writeFileAtomic(target, 'data')).toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(readdirSync(dir)).toEqual(['checkpoint.safetensors']);
    expect(readdirSync(target)).toEqual(['keep']);
  });

  it('treats a missing directory as holding no orphans', () => {
    expect(removeOrphanedTemps(path.join(root, 'nowhere'))).toEqual([]);
  });
});
