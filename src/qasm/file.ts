/** Reading an OpenQASM file from disk, for the CLI, notebooks and sweeps that take a circuit by path. */
import { QasmParseError } from '../errors.ts';
import { READ_LIMITS, readTextBounded } from '../io/read.ts';
import { type ParsedQasm, parseQasmDetailed } from './lower.ts';

/**
 * Read and parse an OpenQASM 2/3 file (`includeDir`: where `include` looks, default the parser's). An
 * unreadable, special or oversized file is a `FileError` (an `InputError`) naming it; a parse error keeps its line and column and gains the
 * file's name.
 */
export function readQasmFile(file: string, includeDir?: string): ParsedQasm {
  // a bounded read of a regular file: /dev/zero, FIFOs and files over the parser's limit are refused unread
  const text = readTextBounded(file, READ_LIMITS.qasm, 'OpenQASM file');
  try {
    return parseQasmDetailed(text, includeDir === undefined ? {} : { includeDir });
  } catch (e) {
    if (e instanceof QasmParseError) throw new QasmParseError(`${e.detail} (in ${file})`, e.line, e.column);
    throw e;
  }
}
