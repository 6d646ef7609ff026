import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Test files that replace a module with `vi.mock`: they need a fresh module registry (the mock must be in
 * place before the code under test is first evaluated, and must not leak into other files), so they run
 * in a fork of their own.
 */
export const needsFreshModules: string[] = [
  'test/io/atomic-errors.test.ts',
  'test/peft/peft-schema-read-once.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores, i.e. a single worker on a 2-core machine, which
    // leaves a core idle while a file waits on a subprocess, a file or its imports. Use every core.
    maxWorkers: availableParallelism(),
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...needsFreshModules],
          // A worker keeps its loaded modules from one file to the next: tfjs, its wasm backend and the
          // project's sources are imported once per worker instead of once per file (about 1.3 s each on
          // the 2-core machine, 99 files). Tests must not depend on fresh module state; the few that
          // replace modules are listed in needsFreshModules.
          isolate: false,
        },
      },
      { extends: true, test: { name: 'isolated', include: needsFreshModules } },
    ],
  },
});
