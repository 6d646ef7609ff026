/**
 * Output folders (issue 15, items 5 and 7): a second writer is refused while the first lives, a dead
 * owner's lock is taken over, and output paths that cannot work are one-line errors before any work.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { LockError, OutputError } from '../../src/errors.ts';
import { finetune } from '../../src/experiments/finetune.ts';
import { LOCK_FILE, lockOutputDir, readLock, withOutputDir } from '../../src/io/output.ts';
import { cleanTmp, expectRefusal, snapshot, tmpDir } from './helpers.ts';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  cleanTmp();
});

/** The start tick of a live pid, as the lock records it (field 22 of /proc/<pid>/stat). */
function startTick(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** A lock file written by hand for `pid`, as another qpeft process would have written it. */
function plantLock(dir: string, pid: number, tick = startTick(pid)): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, LOCK_FILE),
    JSON.stringify({
      pid,
      host: os.hostname(),
      command: 'finetune --out x',
      started: '2026-11-30T22:00:00.000Z',
      ...(tick ? { startTick: tick } : {}),
    }),
  );
}

/** A live process that is not us (it sleeps until killed). */
function liveProcess(): number {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

/** Run the CLI in-process, capturing its lines. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('item 5: one writer per output folder', () => {
  it('a folder locked by a live process is refused, naming the owner; the folder is unchanged', () => {
    const dir = tmpDir();
    const pid = liveProcess();
    plantLock(dir, pid);
    const before = snapshot(dir);
    const e = expectRefusal(
      () => lockOutputDir(dir),
      LockError,
      new RegExp(`is being written by process ${pid} on .* \\(qpeft finetune --out x, since 2026-11-30`),
    );
    expect(e.owner).toBe(pid);
    expect(snapshot(dir)).toEqual(before);
  });

  it('the CLI refuses a second writer with one line and exit 2 before any work', async () => {
    const dir = tmpDir();
    plantLock(dir, liveProcess());
    const before = snapshot(dir);
    const r = await cli(['quantize', '--demo', 'quantum-peft', '--steps', '1', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^qpeft quantize: --out ".*" is being written by process \d+/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('two writers in one process: the second waits for nothing and is refused; the lock goes on release', async () => {
    const dir = tmpDir();
    let inner: unknown = null;
    await withOutputDir(dir, async () => {
      expect(readLock(path.join(dir, LOCK_FILE))?.pid).toBe(process.pid);
      try {
        await withOutputDir(dir, () => 1);
      } catch (e) {
        inner = e;
      }
    });
    expect(inner).toBeInstanceOf(LockError);
    expect((inner as Error).message).toMatch(/is being written by this process/);
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it("a dead owner's lock, and a lock whose pid was reused by another process, are stale and taken over", () => {
    for (const plant of [
      (d: string) => plantLock(d, deadPid()),
      (d: string) => plantLock(d, liveProcess(), '1'), // live pid, but not the process that took the lock
    ]) {
      const dir = tmpDir();
      plant(dir);
      const lock = lockOutputDir(dir);
      expect(readLock(lock.file)?.pid).toBe(process.pid);
      lock.release();
      expect(existsSync(lock.file)).toBe(false);
    }
  });

  it('a lock left by a SIGKILLed qpeft process is stale for the next run', () => {
    const dir = tmpDir();
    const script = `import { lockOutputDir } from ${JSON.stringify(path.resolve('src/io/output.ts'))}; lockOutputDir(${JSON.stringify(dir)}); process.kill(process.pid, 'SIGKILL');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(r.signal).toBe('SIGKILL');
    const left = readLock(path.join(dir, LOCK_FILE));
    expect(left).not.toBeNull();
    expect(left!.pid).not.toBe(process.pid);
    const lock = lockOutputDir(dir);
    expect(readLock(lock.file)?.pid).toBe(process.pid);
    lock.release();
  });
});

describe('item 7: output paths that cannot work are one line, exit 2, before any work', () => {
  it('--out is a file: finetune refuses before reading the base model or the data', async () => {
    const file = path.join(tmpDir(), 'in-the-way');
    writeFileSync(file, 'precious');
    let error: unknown = null;
    try {
      await finetune({
        base: '/nonexistent-base',
        data: 'nope',
        method: { method: 'lora', rank: 1 } as never,
        epochs: 1,
        out: file,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutputError);
    expect((error as Error).message).toMatch(/^--out ".*in-the-way" is a file, expected a directory/);
    expect(readFileSync(file, 'utf8')).toBe('precious');
  });

  it('--out under a file, and under /proc, are OutputErrors with the errno named', () => {
    const file = path.join(tmpDir(), 'f');
    writeFileSync(file, 'x');
    expectRefusal(
      () => lockOutputDir(path.join(file, 'sub')),
      OutputError,
      /cannot create the --out directory .*: ENOTDIR/,
    );
    expectRefusal(
      () => lockOutputDir('/proc/qpeft-out/x'),
      OutputError,
      /cannot create the --out directory "\/proc\/qpeft-out\/x": E[A-Z]+ \(/,
    );
  });

  it('the CLI prints the refusal as one line with exit 2 and leaves nothing behind', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'taken');
    writeFileSync(file, 'x');
    const before = snapshot(dir);
    const r = await cli(['quantize', '--demo', 'quantum-peft', '--steps', '1', '--out', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^qpeft quantize: --out ".*taken" is a file, expected a directory/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(snapshot(dir)).toEqual(before);
  });

  it('a run that fails on its arguments leaves no empty --out folder behind', async () => {
    const root = tmpDir();
    const out = path.join(root, 'a', 'b');
    await expect(
      finetune({
        base: '/nonexistent-base',
        data: 'nope',
        method: { method: 'lora' } as never,
        epochs: 0,
        out,
      }),
    ).rejects.toThrow();
    expect(existsSync(path.join(root, 'a'))).toBe(false);
  });
});
