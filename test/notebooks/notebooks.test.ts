/**
 * The committed notebooks: clean (no outputs), on the tslab kernel, importing the library only as `qpeft`
 * (see scripts/notebooks.sh for why), and listed in notebooks/README.md. Executing them is
 * `npm run notebooks` (needs Jupyter), not this test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = path.resolve(import.meta.dirname, '../../notebooks');
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.ipynb'))
  .sort();
const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');

interface Cell {
  cell_type: string;
  id?: string;
  source: string[] | string;
  outputs?: unknown[];
  execution_count?: number | null;
}

describe('notebooks/*.ipynb', () => {
  it('exist', () => {
    expect(names.length).toBeGreaterThan(0);
  });
  for (const name of names) {
    it(`${name}: nbformat 4.5, tslab kernel, cell ids, no outputs, imports from qpeft only`, () => {
      const nb = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
      expect(nb.nbformat).toBe(4);
      expect(nb.nbformat_minor).toBeGreaterThanOrEqual(5);
      expect(nb.metadata.kernelspec.name).toBe('tslab');
      const cells: Cell[] = nb.cells;
      expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
      for (const c of cells) {
        expect(c.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
        if (c.cell_type !== 'code') continue;
        expect(c.outputs ?? []).toEqual([]);
        expect(c.execution_count ?? null).toBeNull();
        const src = Array.isArray(c.source) ? c.source.join('') : c.source;
        for (const m of src.matchAll(/^\s*import\s[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
          expect(m[1], `import in ${name}`).toMatch(/^(qpeft(\/[a-z0-9/-]+)?|tslab|node:[a-z_/]+)$/);
        }
      }
      expect(readme, `notebooks/README.md should list ${name}`).toContain(name);
    });
  }
});
