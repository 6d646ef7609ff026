/** Small formatting helpers shared by commands. */

const NUMERIC = /^[-+]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?( ?(%|ms|s|×))?$/;

/**
 * Format a table with aligned columns (first row is the header). Columns whose cells are all numbers are
 * right-aligned, the others left-aligned.
 */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const body = cells.slice(1);
  const widths = cells[0]!.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? '').length)));
  const numeric = widths.map(
    (_, j) => body.length > 0 && body.every((r) => (r[j] ?? '') === '' || NUMERIC.test(r[j]!)),
  );
  const line = (r: string[]) =>
    r
      .map((c, j) => (numeric[j] ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Format a number compactly for humans (fixed for moderate magnitudes, exponent otherwise). */
export function num(x: number, digits = 6): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? x.toFixed(digits).replace(/\.?0+$/, '') : x.toExponential(2);
}
