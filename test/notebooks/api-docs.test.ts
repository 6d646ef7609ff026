/** tools/api-docs.ts: declarations and TSDoc read with a real compiler API, pages written atomically. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  collectPages,
  DEFAULT_ENTRIES,
  renderAll,
  renderPage,
  staleFiles,
  writeDirAtomic,
} from '../../tools/api-docs.ts';

const root = path.resolve(import.meta.dirname, '../..');
const fixture = collectPages(root, [
  { file: 'test/notebooks/fixtures/api-fixture.ts', title: 'fixture', importPath: 'fixture' },
]);

describe('api-docs on a fixture module', () => {
  const page = fixture[0]!;
  const byName = new Map(page.items.map((it) => [it.name, it]));
  it('lists every export, sorted, with its kind and the module summary', () => {
    expect(page.items.map((it) => `${it.name}:${it.kind}`)).toEqual([
      'add:function',
      'Counter:class',
      'CounterOptions:interface',
      'Pair:type',
      'scale:function',
      'THREE:const',
    ]);
    expect(page.summary).toBe('A fixture module for tools/api-docs.ts.');
  });
  it('prints signatures without bodies, inferring missing return types, overloads but not the implementation', () => {
    expect(byName.get('add')!.signatures).toEqual(['function add(a: number, b: number): number']);
    expect(byName.get('scale')!.signatures).toEqual([
      'function scale(x: number, by: number): number;',
      'function scale(x: string): string;',
    ]);
    expect(byName.get('THREE')!.signatures).toEqual(['const THREE: 3']);
  });
  it('keeps TSDoc prose and tags', () => {
    expect(byName.get('add')!.doc).toBe('Add two numbers. The sum is exact for small integers.');
    expect(byName.get('scale')!.tags).toEqual([
      '@param x the value',
      '@throws RangeError when `x` is negative',
    ]);
  });
  it('documents public class members only', () => {
    const members = byName.get('Counter')!.members;
    expect(members.map((m) => m.signature)).toEqual([
      'count: number',
      'constructor(options: CounterOptions = {})',
      'next(): number',
    ]);
    expect(members[2]!.doc).toBe('Add one and return the new count.');
  });
  it('renders Markdown with anchors and source lines', () => {
    const md = renderPage(page);
    expect(md).toContain('| [`add`](#add) | function | Add two numbers.');
    expect(md).toContain('```ts\nfunction add(a: number, b: number): number\n```');
    expect(md).toContain('<sub>test/notebooks/fixtures/api-fixture.ts:4</sub>');
  });
});

describe('api-docs on the library', () => {
  it('documents every runtime export of src/index.ts', async () => {
    const pages = collectPages(root, DEFAULT_ENTRIES.slice(0, 1));
    const documented = new Set(pages.flatMap((p) => p.items.map((it) => it.name)));
    const lib = await import('../../src/index.ts');
    const missing = Object.keys(lib).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
    expect(pages.map((p) => p.title)).toContain('circuit');
  });
});

describe('writeDirAtomic and staleFiles', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'api-docs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('replaces the directory as a whole and detects stale, missing and extra files', () => {
    const out = path.join(dir, 'api');
    const files = renderAll(fixture);
    writeDirAtomic(out, files);
    expect(staleFiles(out, files)).toEqual([]);
    expect(readFileSync(path.join(out, 'README.md'), 'utf8')).toContain('[fixture](fixture.md)');
    writeFileSync(path.join(out, 'fixture.md'), 'edited');
    writeFileSync(path.join(out, 'extra.md'), 'extra');
    expect(staleFiles(out, files)).toEqual(['extra.md', 'fixture.md']);
    writeDirAtomic(out, files);
    expect(staleFiles(out, files)).toEqual([]);
  });
});
