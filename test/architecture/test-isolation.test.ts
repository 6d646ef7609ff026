/**
 * The suite's workers keep their modules from one test file to the next (vitest.config.ts). A module
 * replaced with `vi.mock` in such a worker would not reach code that an earlier file already loaded, and
 * would stay in place for the files after it, so every test file that mocks a module must be listed in
 * `needsFreshModules`, which runs it in a process of its own; the list must name existing files only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { needsFreshModules } from '../../vitest.config.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every *.test.ts under test/, relative to the repository root with forward slashes. */
function testFiles(dir = path.join(ROOT, 'test')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return testFiles(full);
    return e.name.endsWith('.test.ts') ? [path.relative(ROOT, full).split(path.sep).join('/')] : [];
  });
}

describe('test files and the shared workers', () => {
  it('every file that replaces a module (vi.mock, vi.doMock) runs in a fresh process', () => {
    const mocking = testFiles().filter((f) =>
      /\bvi\s*\.\s*(mock|doMock)\s*\(/.test(readFileSync(path.join(ROOT, f), 'utf8')),
    );
    expect(mocking.length).toBeGreaterThan(0); // the scan finds the known case (atomic-errors)
    expect(mocking.filter((f) => !needsFreshModules.includes(f))).toEqual([]);
  });

  it('needsFreshModules names existing test files', () => {
    expect(needsFreshModules.filter((f) => !existsSync(path.join(ROOT, f)))).toEqual([]);
  });
});
