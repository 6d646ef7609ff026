/**
 * A one-line progress bar for long loops: `label [#####-----] 412/938 44% loss 0.512 · 1m02s < 1m20s`.
 * On a terminal it redraws in place (at most every `intervalMs`); elsewhere (logs, pipes) it prints a
 * full line every `logEveryMs` so background runs leave a readable trail.
 */

/** Where the bar writes: a stream with `write` (stderr by default). */
export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Format seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A progress bar with elapsed time and ETA (see the module comment). */
export class ProgressBar {
  private readonly sink: ProgressSink;
  private readonly tty: boolean;
  private readonly start = Date.now();
  private readonly width: number;
  private readonly intervalMs: number;
  private readonly logEveryMs: number;
  private lastDraw = 0;
  private lastLen = 0;

  constructor(
    readonly label: string,
    readonly total: number,
    opts: { sink?: ProgressSink; width?: number; intervalMs?: number; logEveryMs?: number } = {},
  ) {
    this.sink = opts.sink ?? process.stderr;
    this.tty = this.sink.isTTY === true;
    this.width = opts.width ?? 24;
    this.intervalMs = opts.intervalMs ?? 100;
    this.logEveryMs = opts.logEveryMs ?? 15_000;
  }

  /** The line for `done` of `total` steps with extra `fields` (e.g. `{loss: '0.51'}`). */
  line(done: number, fields: Record<string, string> = {}): string {
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const fill = Math.round(frac * this.width);
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = done > 0 ? (elapsed * (this.total - done)) / done : Number.NaN;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join(' ');
    return (
      `${this.label} [${'#'.repeat(fill)}${'-'.repeat(this.width - fill)}] ${done}/${this.total} ${Math.floor(frac * 100)}%` +
      `${extra ? ` ${extra}` : ''} · ${formatDuration(elapsed)} < ${done > 0 ? formatDuration(eta) : '?'}`
    );
  }

  /** Report progress; draws when enough time has passed (always for the last step). */
  update(done: number, fields: Record<string, string> = {}): void {
    const now = Date.now();
    const last = done >= this.total;
    if (!last && now - this.lastDraw < (this.tty ? this.intervalMs : this.logEveryMs)) return;
    this.lastDraw = now;
    const text = this.line(done, fields);
    if (this.tty) {
      this.sink.write(`\r${text}${' '.repeat(Math.max(0, this.lastLen - text.length))}`);
      this.lastLen = text.length;
    } else {
      this.sink.write(`${text}\n`);
    }
  }

  /** Finish the bar (a newline on terminals) and print an optional summary line. */
  finish(summary?: string): void {
    if (this.tty && this.lastLen > 0) this.sink.write('\n');
    this.lastLen = 0;
    if (summary) this.sink.write(`${summary}\n`);
  }
}
