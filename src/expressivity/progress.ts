/** The sweeps' progress callback, drawn with the package's one progress bar (`util/progress.ts`). */
import { ProgressBar, type ProgressSink } from '../util/progress.ts';
import type { SweepProgress } from './sweep.ts';

/**
 * A progress callback for `runSweep`: `sweep [#####-----] 12/81 14% qubits 8 layers 3 · 12s < 40s`, redrawn in place
 * on a terminal and printed as a line every 15 s (and at the end) on a pipe or file.
 */
export function progressBar(stream: ProgressSink = process.stderr): (p: SweepProgress) => void {
  let bar: ProgressBar | null = null;
  return (p) => {
    bar ??= new ProgressBar('sweep', p.total, { sink: stream });
    const where: Record<string, string> = { qubits: String(p.row.qubits) };
    if (p.row.layers !== null) where.layers = String(p.row.layers);
    bar.update(p.done, where);
    if (p.done >= p.total) bar.finish();
  };
}
