/**
 * Output folders: checked before any work starts, and locked while a process writes them.
 *
 * `lockOutputDir` makes the folder (a file in the way, no permission, a read-only or pseudo file system are
 * `OutputError`s at once, before hours of training) and creates `<dir>/.qpeft.lock` atomically (written
 * beside it, then hard-linked into place, which fails if a lock exists). The lock records the owner's pid,
 * host, command and start time, and on Linux the process's start tick so a reused pid is not mistaken for
 * the owner. A second writer gets a `LockError` naming the owner; a lock whose process is gone (killed, the
 * machine restarted) is stale and is taken over. The lock is removed on release and, as a last resort, when
 * the process exits; a SIGKILL leaves it behind, and the next run finds it stale.
 */
import {
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, LockError, OutputError } from '../errors.ts';

/** The lock file's name inside a locked folder. */
export const LOCK_FILE = '.qpeft.lock';

/** What a lock file records. */
export interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly started: string;
  /** Linux: field 22 of /proc/<pid>/stat (start time in clock ticks since boot), to detect pid reuse. */
  readonly startTick?: string;
}

/** A held lock on an output folder. */
export interface OutputDirLock {
  readonly dir: string;
  readonly file: string;
  /** The first directory this lock's preparation created (`mkdir -p`), if it created any. */
  readonly created: string | undefined;
  /** Remove the lock (idempotent). */
  release(): void;
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a component of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'something is in the way',
  ENOENT: 'no such file or directory',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EIO: 'an input/output error',
};

/** An `OutputError` for a failed write of `target`, from a Node file-system error (one line, errno named). */
export function outputError(target: string, e: unknown, action = 'write'): OutputError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const reason = code ? `${code} (${REASONS[code] ?? 'file-system error'})` : String((e as Error)?.message);
  return new OutputError(`cannot ${action} ${describe(target)}: ${reason}`);
}

/**
 * Check that `dir` can be an output folder and create it: a file in the way, a path under a file, no
 * permission, a read-only or pseudo file system (`/proc/...`) are `OutputError`s naming `what` (the flag).
 */
export function prepareOutputDir(dir: string, what = '--out'): string | undefined {
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(dir);
  } catch {
    st = undefined;
  }
  if (st && !st.isDirectory())
    throw new OutputError(
      `${what} ${describe(dir)} is a file, expected a directory (or a new path to create one)`,
    );
  try {
    return makeDirs(dir);
  } catch (e) {
    throw outputError(dir, e, `create the ${what} directory`);
  }
}

/**
 * `mkdir -p`, one level at a time (Node 20's `mkdirSync(…, {recursive: true})` never returns on some pseudo
 * file systems: under /proc it loops). Returns the first directory it created, if any; throws Node's error.
 */
export function makeDirs(dir: string): string | undefined {
  const missing: string[] = [];
  let d = path.resolve(dir);
  for (;;) {
    try {
      if (!statSync(d).isDirectory()) {
        const e = new Error(`${d} is not a directory`) as NodeJS.ErrnoException;
        e.code = 'ENOTDIR';
        throw e;
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(d);
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return missing[0];
}

/** Remove `dir` and its parents up to `first` (the first directory `mkdir -p` made) while they are empty. */
function removeCreated(dir: string, first: string): void {
  let d = path.resolve(dir);
  const stop = path.resolve(first);
  for (;;) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty (or gone): keep it
    }
    if (d === stop || path.dirname(d) === d) return;
    d = path.dirname(d);
  }
}

function startTick(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's record, or null when the file is gone or unreadable (a torn or hand-edited lock). */
export function readLock(file: string): LockRecord | null {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as LockRecord;
    return Number.isSafeInteger(r?.pid) && typeof r.host === 'string' ? r : null;
  } catch {
    return null;
  }
}

/** Whether the process a lock names still runs (a lock from another host is assumed live: we cannot tell). */
export function lockIsLive(r: LockRecord): boolean {
  if (r.host !== os.hostname()) return true;
  if (!alive(r.pid)) return false;
  if (r.startTick !== undefined) {
    const now = startTick(r.pid);
    if (now !== undefined && now !== r.startTick) return false; // the pid was reused by another process
  }
  return true;
}

const held = new Set<string>();
let exitHook = false;

function releaseAllOnExit(): void {
  for (const file of held) {
    try {
      if (readLock(file)?.pid === process.pid) unlinkSync(file);
    } catch {
      // exiting: nothing more to do
    }
  }
}

/**
 * Release every lock this process holds (the CLI calls it when a command ends, so a command can take its
 * lock with one call and never leak it, even when it throws).
 */
export function releaseAllLocks(): void {
  for (const file of [...held]) {
    held.delete(file);
    if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
  }
}

/**
 * Prepare (see `prepareOutputDir`) and lock `dir` for this process. A folder locked by a live process is a
 * `LockError` naming its pid, command and start time; a stale lock is replaced. Release the lock when done
 * (`withOutputDir` does it for you).
 */
export function lockOutputDir(dir: string, options: { command?: string; what?: string } = {}): OutputDirLock {
  const what = options.what ?? '--out';
  const created = prepareOutputDir(dir, what);
  const file = path.join(dir, LOCK_FILE);
  const record: LockRecord = {
    pid: process.pid,
    host: os.hostname(),
    command: options.command ?? process.argv.slice(2).join(' '),
    started: new Date().toISOString(),
    ...(startTick(process.pid) !== undefined ? { startTick: startTick(process.pid)! } : {}),
  };
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(record)}\n`, { flag: 'wx' });
  } catch (e) {
    throw outputError(dir, e, `write into the ${what} directory`);
  }
  try {
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        linkSync(tmp, file); // atomic: fails with EEXIST when a lock is there
        held.add(file);
        if (!exitHook) {
          process.on('exit', releaseAllOnExit);
          exitHook = true;
        }
        let released = false;
        return {
          dir,
          file,
          created,
          release() {
            if (released) return;
            released = true;
            held.delete(file);
            if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw outputError(file, e, 'create the lock');
      }
      const owner = readLock(file);
      if (owner === null) {
        // being written by a process that uses the same protocol cannot happen (link is atomic): a lock we
        // cannot read was torn by hand or by a crash; refuse unless it is old
        let age = 0;
        try {
          age = Date.now() - statSync(file).mtimeMs;
        } catch {
          continue;
        }
        if (age < 60_000)
          throw new LockError(
            `${what} ${describe(dir)} has an unreadable lock ${describe(LOCK_FILE)} from the last minute; if no qpeft run writes there, remove it`,
            -1,
          );
      } else if (lockIsLive(owner)) {
        throw new LockError(
          `${what} ${describe(dir)} is being written by ${owner.pid === process.pid && owner.host === os.hostname() ? 'this process' : `process ${owner.pid}`} on ${owner.host} (qpeft ${owner.command}, since ${owner.started}); wait for it to finish or choose another ${what}${owner.host !== os.hostname() ? ` (remove ${LOCK_FILE} if that run is gone)` : ''}`,
          owner.pid,
        );
      }
      // stale: move it aside under a name of our own, so two processes never both delete a fresh lock
      const grave = `${file}.${process.pid}.stale`;
      try {
        renameSync(file, grave);
      } catch {
        continue; // another process took it over first: look again
      }
      const moved = readLock(grave);
      if (moved !== null && owner !== null && (moved.pid !== owner.pid || moved.started !== owner.started)) {
        // a fresh lock replaced the stale one between our read and our rename: put it back and look again
        try {
          linkSync(grave, file);
        } catch {
          // a third process locked meanwhile; its lock stands
        }
      }
      rmSync(grave, { force: true });
    }
    throw new LockError(
      `${what} ${describe(dir)}: could not take the lock (other processes keep taking it)`,
      -1,
    );
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Run `fn` with `dir` prepared and locked (released afterwards, whatever happens). With `dir` null or
 * undefined (no output folder), `fn` just runs.
 */
export async function withOutputDir<T>(
  dir: string | null | undefined,
  fn: () => Promise<T> | T,
  options: { command?: string; what?: string } = {},
): Promise<T> {
  if (dir === null || dir === undefined) return await fn();
  const lock = lockOutputDir(dir, options);
  try {
    const out = await fn();
    lock.release();
    return out;
  } catch (e) {
    lock.release();
    // a run that failed before writing anything leaves no empty folder behind
    if (lock.created !== undefined) removeCreated(dir, lock.created);
    throw e;
  }
}
