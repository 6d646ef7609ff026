/**
 * `npm run bench [-- NAME…]`: runs every `bench/*.bench.ts` (or those whose name contains one of NAME) in
 * turn. Each suite prints its own table of figures measured side by side in this one run; ratios, not
 * absolute times, are what to compare across machines.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const suites = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
console.log(
  `qpeft benchmarks on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
);
for (const file of suites) {
  console.log(`\n=== ${file.replace('.bench.ts', '')} ===`);
  const mod = (await import(pathToFileURL(`${dir}/${file}`).href)) as { default: () => Promise<void> | void };
  await mod.default();
}
