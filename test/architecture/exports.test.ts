import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string>;
  files: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('package.json', () => {
  it('every subpath export points at a file that exists', () => {
    for (const [sub, target] of Object.entries(pkg.exports)) {
      expect(existsSync(path.join(ROOT, target)), `${sub} → ${target}`).toBe(true);
    }
  });

  it('exports every subpath the notebooks import', () => {
    const dir = path.join(ROOT, 'notebooks');
    const used = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ipynb'))) {
      const nb = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
        cells: { source: string[] | string }[];
      };
      for (const c of nb.cells) {
        const src = Array.isArray(c.source) ? c.source.join('') : c.source;
        for (const m of src.matchAll(/from\s+'(qpeft(?:\/[^']*)?)'/g)) used.add(m[1]!);
      }
    }
    expect(used.size).toBeGreaterThan(1);
    for (const u of used)
      expect(Object.keys(pkg.exports), u).toContain(u === 'qpeft' ? '.' : `./${u.slice(6)}`);
  });

  it('runtime code imports only runtime dependencies (a test-only package is a devDependency)', () => {
    const files = readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      /\.(ts|mjs)$/.test(f),
    );
    const imported = new Set<string>();
    for (const f of files) {
      const text = readFileSync(path.join(ROOT, 'src', f), 'utf8');
      for (const m of text.matchAll(
        /(?:from\s+|import\(\s*|require(?:\.resolve)?\(\s*)'((?:@[\w.-]+\/)?[\w-][\w.-]*)(?:\/[^'\s]*)?'/g,
      ))
        if (!m[1]!.startsWith('node:')) imported.add(m[1]!);
    }
    expect(imported).toContain('@tensorflow/tfjs');
    expect(imported).toContain('quantum-circuit');
    const runtime = new Set(Object.keys(pkg.dependencies));
    // tfjs-node is optional (tried when installed); the wasm backend's files are resolved inside its package.
    const missing = [...imported].filter((d) => !runtime.has(d) && d !== '@tensorflow/tfjs-node');
    expect(missing).toEqual([]);
    expect(pkg.devDependencies.mathjs).toBeDefined();
    expect(pkg.dependencies.mathjs).toBeUndefined();
  });
});
