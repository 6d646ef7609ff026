/** Fixtures for the fine-tuning tests: tiny saved base models (real architecture, small sizes) in temp dirs. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasFortunes } from '../../src/data/fortunes.ts';
import { createModel, saveModel } from '../../src/models/checkpoint.ts';

/** A temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'qpeft-ft-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Tiny ViT config: 28×28 in 16 patches, dim 16 (4 qubits), one block of 2 heads. */
export const TINY_VIT = { dim: 16, depth: 1, heads: 2, mlpDim: 32, patchSize: 7, seed: 3 } as const;
/** Tiny text config: 32 bytes of context, dim 16, one block. */
export const TINY_TEXT = { dim: 16, depth: 1, heads: 2, mlpDim: 32, contextLength: 32, seed: 3 } as const;

/** Save a freshly initialised tiny model of `kind` into `dir`; returns `dir`. */
export function saveTiny(kind: 'vit' | 'text', dir: string): string {
  const m = createModel(kind, kind === 'vit' ? TINY_VIT : TINY_TEXT);
  saveModel(dir, m);
  m.dispose();
  return dir;
}

/** Whether the Debian fortunes (science, politics, sports, food, love) are installed here. */
export const HAVE_FORTUNES = hasFortunes(['science', 'songs-poems', 'computers', 'art', 'love', 'sports']);

/** No progress bars or logs in tests. */
export const QUIET = { progress: null, log: () => {} } as const;
