import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const method = readFileSync(path.join(ROOT, 'docs', 'method.md'), 'utf8');
const sections = new Set([...method.matchAll(/^## §(\d+) /gm)].map((m) => Number(m[1])));

/** Text files where code, help texts and pages cite the method notes. */
function sources(): string[] {
  const out: string[] = [path.join(ROOT, 'README.md')];
  for (const dir of ['src', 'test', 'bench', 'tools', 'docs', 'notebooks', 'scripts']) {
    for (const f of readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (/\.(ts|mts|mjs|md|ipynb|sh)$/.test(f) && !f.includes('node_modules'))
        out.push(path.join(ROOT, dir, f));
    }
  }
  return out;
}

describe('references to the method notes', () => {
  it('docs/method.md has its sections §1…§8', () => {
    expect([...sections].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('every "docs/method.md §N" (or §N–M, §N, §M) names sections that exist; nothing cites METHOD.md', () => {
    const bad: string[] = [];
    let seen = 0;
    for (const file of sources()) {
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(ROOT, file);
      if (/\bMETHOD\.md\b/.test(text) && !rel.endsWith('method-refs.test.ts'))
        bad.push(`${rel}: cites METHOD.md`);
      for (const m of text.matchAll(/docs\/method\.md((?:,? ?§\d+(?:–\d+)?)+)/g)) {
        seen++;
        for (const r of m[1]!.matchAll(/§(\d+)(?:–(\d+))?/g)) {
          const a = Number(r[1]);
          const b = r[2] === undefined ? a : Number(r[2]);
          for (let s = a; s <= b; s++) if (!sections.has(s)) bad.push(`${rel}: §${s} does not exist`);
        }
      }
    }
    expect(seen).toBeGreaterThan(10);
    expect(bad).toEqual([]);
  });
});
