/**
 * Helpers for the hostile-input tests: fixtures are built in the test (no committed binaries), and every
 * refusal is checked the same way: the typed error class, a one-line message, memory that stayed bounded,
 * and a folder that is byte-for-byte what it was.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';

const made: string[] = [];

/** A fresh temporary directory, removed by `cleanTmp`. */
export function tmpDir(prefix = 'qpeft-hostile-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Remove every directory `tmpDir` made. */
export function cleanTmp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Every entry under `dir` (not following links) with its kind and a hash of its bytes. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const rel = path.relative(dir, full);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out[rel] = `link:${readlinkSync(full)}`;
      else if (st.isDirectory()) {
        out[rel] = 'dir';
        walk(full);
      } else if (st.isFile())
        out[rel] = `file:${st.size}:${createHash('sha256').update(readFileSync(full)).digest('hex')}`;
      else out[rel] = `special:${st.mode}`;
    }
  };
  walk(dir);
  return out;
}

/** Bytes this process holds (JS heap and array buffers). */
function held(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Run `fn`, expect it to throw an instance of `cls` whose message is one line matching `pattern`, and
 * check that the attempt held less than `maxBytes` more memory than before (a refusal must come before
 * the allocation the hostile input asks for). Returns the error for further checks.
 */
export function expectRefusal<E extends Error>(
  fn: () => unknown,
  cls: abstract new (...args: never[]) => E,
  pattern: RegExp,
  maxBytes = 256 * 1024 * 1024,
): E {
  const before = held();
  let peak = before;
  let error: unknown = null;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  peak = Math.max(peak, held());
  expect(error, 'expected a refusal').not.toBeNull();
  expect(error).toBeInstanceOf(cls);
  const message = (error as Error).message;
  expect(message).toMatch(pattern);
  expect(message.includes('\n'), `one line: ${message}`).toBe(false);
  expect(peak - before).toBeLessThan(maxBytes);
  return error as E;
}
