/**
 * Reading files that may be hostile: every read is bounded, and paths taken from untrusted data resolve
 * inside the folder they came with.
 *
 * A read opens the file without blocking (a FIFO with no writer would otherwise hang the open), checks on
 * the open descriptor that it is a regular file of at most the stated size, then reads at most that many
 * bytes plus one: a file that grows while it is read, or a pseudo-file whose `stat` size is 0 (`/proc`),
 * still stops at the bound. Devices (`/dev/zero`), FIFOs, sockets and directories are refused by kind.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import path from 'node:path';
import { describe, FileError, UnsafePathError } from '../errors.ts';

const MiB = 1024 * 1024;

/**
 * Bounds for what each kind of file may hold. A file over its bound is refused before it is read; the
 * bounds are far above what qpeft writes (an adapter config with inline circuits is kilobytes).
 */
export const READ_LIMITS = {
  /** JSON records: adapter_config.json, result.json, config.json, pretrain.json, angles files. */
  json: 64 * MiB,
  /** OpenQASM programs (the parser's own default `maxBytes`). */
  qasm: 16 * MiB,
  /** Safetensors files (adapters, heads, checkpoints): 4 GiB, Node's largest Buffer. */
  safetensors: 4 * 1024 * MiB,
} as const;

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const article = (what: string) => (/^[aeiouAEIOU]/.test(what) ? `an ${what}` : `a ${what}`);

function human(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`;
}

/**
 * Read at most `maxBytes` of a regular file. `what` names the file's role in messages ("adapter config",
 * "--angles file"). Throws `FileError` (one line, naming the file) when the file is missing, not a regular
 * file, or larger than `maxBytes`.
 */
export function readFileBounded(file: string, maxBytes: number, what = 'file'): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer; it changes nothing for files.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new FileError(
      `cannot read ${describe(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new FileError(`cannot read ${describe(file)}: it is ${kindOf(st)}, expected a regular ${what}`);
    if (st.size > maxBytes)
      throw new FileError(
        `${describe(file)} is ${human(st.size)}; ${article(what)} may be at most ${human(maxBytes)}`,
      );
    // +1 byte to see whether there is more than the bound (a growing file, a /proc file whose size is 0)
    let buf = Buffer.allocUnsafe(Math.min(Math.max(st.size, 4096), maxBytes) + 1);
    let total = 0;
    for (;;) {
      if (total === buf.length) {
        if (total > maxBytes)
          throw new FileError(
            `${describe(file)} holds more than ${human(maxBytes)}; ${article(what)} may be at most that`,
          );
        const next = Buffer.allocUnsafe(Math.min(2 * buf.length, maxBytes + 1));
        buf.copy(next, 0, 0, total);
        buf = next;
      }
      let n: number;
      try {
        n = readSync(fd, buf, total, buf.length - total, null);
      } catch (e) {
        throw new FileError(
          `cannot read ${describe(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
      }
      if (n === 0) break;
      total += n;
    }
    return buf.subarray(0, total);
  } finally {
    closeSync(fd);
  }
}

/** `readFileBounded` decoded as UTF-8 text (invalid UTF-8 is a `FileError`). */
export function readTextBounded(file: string, maxBytes: number, what = 'file'): string {
  const bytes = readFileBounded(file, maxBytes, what);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FileError(`${describe(file)} is not UTF-8 text (expected ${article(what)})`);
  }
}

/**
 * Read and parse a JSON file with a size bound; malformed JSON and duplicate keys are `FileError`s naming
 * the file. The caller still validates the shape of the value.
 */
export function readJsonBounded(
  file: string,
  what = 'JSON file',
  maxBytes: number = READ_LIMITS.json,
): unknown {
  const text = readTextBounded(file, maxBytes, what);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FileError(`${describe(file)} is not valid JSON (${(e as Error).message})`);
  }
  const dup = findDuplicateKey(text);
  if (dup !== null)
    throw new FileError(`${describe(file)} has the key ${describe(dup)} twice in one object (ambiguous)`);
  return value;
}

/**
 * The first key that appears twice in one object of a JSON text that `JSON.parse` accepted, or null.
 * `JSON.parse` keeps the last of duplicate keys silently; two readers of such a file can disagree on what it
 * says, so files that carry untrusted records refuse them. Iterative (no recursion), linear in the text.
 */
export function findDuplicateKey(text: string): string | null {
  // a stack of the open containers: a Set of keys seen for an object, null for an array
  const stack: (Set<string> | null)[] = [];
  // whether the next string in the innermost object is a key
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (ch === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      stack.push(null);
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      expectKey = stack.at(-1) instanceof Set;
    }
  }
  return null;
}

/**
 * Resolve `rel`, a path written inside untrusted data that came with the folder `dir` (an adapter folder's
 * config), to a real path inside `dir`. Absolute paths, `..` segments that climb out of the folder and
 * symbolic links that lead out of it are `UnsafePathError`s; a missing file is a `FileError`. `source` names
 * the file the path was read from (for the message).
 */
export function resolveInside(dir: string, rel: unknown, source: string): string {
  if (typeof rel !== 'string' || rel === '' || rel.includes('\0'))
    throw new UnsafePathError(`${source}: expected a relative file path, got ${describe(rel)}`);
  if (path.isAbsolute(rel) || /^[A-Za-z]:[\\/]/.test(rel))
    throw new UnsafePathError(
      `${source}: the path ${describe(rel)} is absolute; paths in an adapter folder must be relative to it`,
    );
  const normal = path.normalize(rel);
  if (normal === '..' || normal.startsWith(`..${path.sep}`))
    throw new UnsafePathError(`${source}: the path ${describe(rel)} climbs out of the adapter folder`);
  let root: string;
  let real: string;
  try {
    root = realpathSync(dir);
    real = realpathSync(path.join(root, normal));
  } catch (e) {
    throw new FileError(
      `${source}: cannot read ${describe(rel)} in ${describe(dir)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const inside = path.relative(root, real);
  if (inside === '' || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside))
    throw new UnsafePathError(
      `${source}: the path ${describe(rel)} leads out of the adapter folder (through a symbolic link, to ${describe(real)})`,
    );
  return real;
}
