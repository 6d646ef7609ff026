/** Test helpers: an independent reader (Python's standard library) for facts about the real data files. */
import { execFileSync } from 'node:child_process';

/** Run a Python 3 snippet that prints one JSON value; returns it parsed. */
export function python<T = unknown>(code: string): T {
  const out = execFileSync('python3', ['-c', code], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out) as T;
}

/** The reason for skipping tests of absent data: printed once on stderr and put in the suite's name. */
export function missing(what: string, install: string): string {
  const reason = `(skipped: ${what} is not installed here; install it with: ${install})`;
  console.warn(`qpeft tests ${reason}`);
  return reason;
}
