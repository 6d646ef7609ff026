/**
 * Atomic file writes: write a temporary file beside the target, then rename over it, so a reader never
 * sees a half-written file and an interrupted write loses nothing.
 *
 * Durability promise: the temporary file's data is flushed to the disk (`fsync`) before the rename, and the
 * directory is flushed after it where the platform allows (POSIX; Windows cannot open a directory), so once
 * `writeFileAtomic` returns, the new content survives a power cut or an OS crash, and at any moment the
 * target holds either its old or its new content, never an empty or partial file. The cost is one or two
 * disk flushes per write; the writes that go through here (checkpoints, results, adapters) are rare next to
 * the work between them.
 *
 * A write killed before its rename leaves its temporary file (`<target>.<pid>.<time>.tmp`) behind.
 * `writeFileAtomic` removes such orphans of its own target, and `removeOrphanedTemps` those of a whole
 * directory: a temporary file is an orphan when the process that made it is gone, so a concurrent writer's
 * file in progress is never touched.
 *
 * Failures (disk full, no permission, a read-only file system, a file where a folder should be) are
 * `OutputError`s naming the target and the errno, never raw Node errors.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { makeDirs, outputError } from './output.ts';

const TEMP = /^(.+)\.(\d+)\.[0-9a-z]+\.tmp$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporary files of killed atomic writes in `dir` (only those whose writing process is gone;
 * with `target`, only those of that file name). Returns the names removed. A missing directory is empty.
 */
export function removeOrphanedTemps(dir: string, target?: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || (target !== undefined && m[1] !== target) || alive(Number(m[2]))) continue;
    rmSync(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows (and some file systems) cannot open or flush a directory; the rename is still atomic there
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Write `data` to `file` atomically and durably (creating parent directories; see the module comment). A
 * failed write is an `OutputError` (errno named) and leaves `file` as it was.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  try {
    // one level at a time: a recursive mkdirSync never returns under /proc
    makeDirs(dir);
  } catch (e) {
    throw outputError(dir, e, 'create the directory');
  }
  removeOrphanedTemps(dir, path.basename(file));
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw outputError(file, e);
  }
  syncDir(dir);
}
