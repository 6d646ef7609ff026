/** A one-line progress bar for sweeps, drawn on a stream (stderr by default). */
import type { SweepProgress } from './sweep.ts';

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The bar's text: `[#####-----]  12/81  n=8 L=3  0m12s  eta 0m40s`. */
export function progressLine(p: SweepProgress, width = 30): string {
  const filled = Math.round((p.done / Math.max(1, p.total)) * width);
  const eta = p.done > 0 ? ((p.total - p.done) * p.elapsedMs) / p.done : 0;
  const where = `n=${p.row.qubits}${p.row.layers === null ? '' : ` L=${p.row.layers}`}`;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(p.done).padStart(String(p.total).length)}/${p.total}  ${where}  ${seconds(p.elapsedMs)}  eta ${seconds(eta)}`;
}

/**
 * A progress callback for `runSweep`: redraws one line in place on a terminal; on a pipe or file prints a
 * line at every 10 % so logs stay short.
 */
export function progressBar(
  stream: { write(text: string): unknown; readonly isTTY?: boolean } = process.stderr,
): (p: SweepProgress) => void {
  let lastDecile = -1;
  return (p) => {
    const line = progressLine(p);
    if (stream.isTTY) {
      stream.write(`\r${line}${p.done === p.total ? '\n' : ''}`);
      return;
    }
    const decile = Math.floor((10 * p.done) / p.total);
    if (decile !== lastDecile) {
      lastDecile = decile;
      stream.write(`${line}\n`);
    }
  };
}
