import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const backendUrl = new URL('../../src/tf/backend.ts', import.meta.url).href;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'qpeft-uncaught-'));

/** Run a module that starts the wasm backend and then fails the way `how` says; returns stderr and status. */
function runScript(name: string, how: string): { stderr: string; status: number | null } {
  const file = path.join(tmp, `${name}.mts`);
  writeFileSync(
    file,
    `import { initBackend } from '${backendUrl}';\nconst b = await initBackend('wasm');\nif (b !== 'wasm') throw new Error('not wasm');\n${how}\n`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
  return { stderr: r.stderr, status: r.status };
}

// Before the fix, tfjs-backend-wasm's emscripten glue re-threw every uncaught error from its own
// process handler and Node printed that handler's source line (~38 kB of minified code) first.
describe('errors after initBackend("wasm") reach the user as the error itself', () => {
  for (const [name, how] of [
    ['top-level throw', "throw new Error('the real message 1');"],
    ['throw in a timer', "setTimeout(() => { throw new Error('the real message 2'); }, 0);"],
    ['unhandled rejection', "void Promise.reject(new Error('the real message 3'));"],
  ] as const) {
    it(name, () => {
      const { stderr, status } = runScript(name.replace(/\W/g, '-'), how);
      expect(status).toBe(1);
      expect(stderr.length).toBeLessThan(2000);
      expect(stderr).not.toMatch(/WasmBackendModule|ExitStatus/);
      // Node's own report: the throwing line of the script, then the error with its stack.
      const firstErrorLine = stderr.split('\n').find((l) => /^\w*Error/.test(l));
      expect(firstErrorLine).toMatch(/^Error: the real message \d$/);
    });
  }
});
