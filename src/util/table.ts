/**
 * The one table renderer of the project: aligned plain text for terminals, GitHub Markdown for READMEs and
 * notes, RFC 4180 CSV for spreadsheets and scripts. Every command, report and notebook renders through it,
 * so a table reads the same wherever it appears.
 */
import { describe, InputError } from '../errors.ts';

/** A table cell: text, a number (printed with `String`), or null for an empty cell. */
export type Cell = string | number | null;
export type TableFormat = 'text' | 'markdown' | 'csv';
export const TABLE_FORMATS: readonly TableFormat[] = ['text', 'markdown', 'csv'];
/** `auto`: right-aligned when every body cell of the column is a number (or empty), else left. */
export type Align = 'left' | 'right' | 'auto';

export interface TableOptions {
  /** Per-column alignment for text and Markdown (default `auto` for every column). CSV ignores it. */
  readonly align?: readonly Align[];
}

// Numbers as people print them: thousands separators, a sign, an exponent, a unit such as % or s.
const NUMERIC = /^[-+]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?( ?(%|ms|s|×))?$/;

function text(c: Cell | undefined): string {
  return c === null || c === undefined ? '' : String(c);
}

function csvCell(c: string): string {
  return /[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c;
}

function markdownCell(c: string): string {
  // A pipe would end the cell and a newline the row.
  return c.replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
}

/**
 * Render `rows` (the first row is the header) as `format`. Rows shorter than the header are padded with
 * empty cells; a row longer than the header is an error (its extra cells would have no column).
 */
export function formatTable(
  rows: readonly (readonly Cell[])[],
  format: TableFormat = 'text',
  options: TableOptions = {},
): string {
  if (!TABLE_FORMATS.includes(format))
    throw new InputError(`table format must be one of ${TABLE_FORMATS.join(', ')}, got ${describe(format)}`);
  if (rows.length === 0) throw new InputError('a table needs at least a header row, got no rows');
  const width = rows[0]!.length;
  const long = rows.findIndex((r) => r.length > width);
  if (long >= 0)
    throw new InputError(`table row ${long} has ${rows[long]!.length} cells, but the header has ${width}`);
  const cells = rows.map((r) => Array.from({ length: width }, (_, j) => text(r[j])));
  if (format === 'csv') return cells.map((r) => r.map(csvCell).join(',')).join('\n');
  const body = cells.slice(1);
  const right = cells[0]!.map((_, j) => {
    const a = options.align?.[j] ?? 'auto';
    if (a !== 'auto') return a === 'right';
    return body.length > 0 && body.every((r) => r[j] === '' || NUMERIC.test(r[j]!));
  });
  if (format === 'markdown') {
    const line = (r: string[]) => `| ${r.map(markdownCell).join(' | ')} |`;
    const rule = `|${right.map((r) => (r ? ' ---: ' : ' --- ')).join('|')}|`;
    return [line(cells[0]!), rule, ...body.map(line)].join('\n');
  }
  const widths = cells[0]!.map((_, j) => Math.max(...cells.map((r) => r[j]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, j) => (right[j] ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
