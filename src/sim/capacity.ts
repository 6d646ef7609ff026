import os from 'node:os';
import { CapacityError } from '../errors.ts';

/** Bytes per amplitude for each real dtype. */
export const BYTES = { float64: 8, float32: 4 } as const;
export type RealDType = keyof typeof BYTES;

/** The largest typed array we allocate (V8 allows 2^32 − 1 elements on 64-bit; keep a margin). */
const MAX_ELEMENTS = 2 ** 31;

/**
 * Physical memory, read once: `os.totalmem()` is a system call, and the check below runs for every simulated
 * circuit (~2 ms of a 57 ms Quantum-PEFT ViT training step went to it, measured with --cpu-prof).
 */
let totalMemory: number | null = null;

/** Memory budget for state buffers: `QPEFT_MAX_BYTES` if set, else half of physical memory. */
export function memoryBudget(): number {
  const env = Number(process.env.QPEFT_MAX_BYTES);
  if (Number.isFinite(env) && env > 0) return env;
  totalMemory ??= os.totalmem();
  return Math.floor(totalMemory / 2);
}

function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let u = 0;
  while (bytes >= 1024 && u < units.length - 1) {
    bytes /= 1024;
    u++;
  }
  return `${bytes.toFixed(bytes < 10 ? 1 : 0)} ${units[u]}`;
}

/**
 * Throw `CapacityError` unless `copies` buffers of 2^qubits × batch amplitudes fit in memory, saying how much
 * they would need.
 */
export function assertCapacity(qubits: number, batch: number, dtype: RealDType, copies = 1): void {
  const elements = 2 ** qubits * batch;
  const bytes = elements * BYTES[dtype] * copies;
  const budget = memoryBudget();
  if (elements > MAX_ELEMENTS || bytes > budget) {
    throw new CapacityError(
      `${qubits} qubits with a batch of ${batch} state(s) needs ${human(bytes)} of ${dtype} state` +
        `${copies > 1 ? ` (${copies} buffers)` : ''}; this process allows ${human(Math.min(budget, MAX_ELEMENTS * BYTES[dtype]))}` +
        ' (set QPEFT_MAX_BYTES to change the budget; fewer columns or float32 need less)',
    );
  }
}

/**
 * Throw `CapacityError` unless everything a command will hold at once fits this process's budget (the
 * budget is per process, not per buffer: two 8 GiB factors alive together need 16 GiB). `parts` names each
 * buffer and its bytes, so the message says what the total is made of.
 */
export function assertProcessBudget(what: string, parts: readonly (readonly [string, number])[]): void {
  const total = parts.reduce((a, [, b]) => a + b, 0);
  const budget = memoryBudget();
  if (!(total <= budget)) {
    throw new CapacityError(
      `${what} would hold ${human(total)} at once (${parts.map(([n, b]) => `${n} ${human(b)}`).join(' + ')}); this process allows ${human(budget)} (set QPEFT_MAX_BYTES to change the budget)`,
    );
  }
}
