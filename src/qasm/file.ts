/** Reading an OpenQASM file from disk, for the CLI, notebooks and sweeps that take a circuit by path. */
import { readFileSync } from 'node:fs';
import { describe, InputError, QasmParseError } from '../errors.ts';
import { type ParsedQasm, parseQasmDetailed } from './lower.ts';

/**
 * Read and parse an OpenQASM 2/3 file (`includeDir`: where `include` looks, default the parser's). An
 * unreadable file is an `InputError` naming it; a parse error keeps its line and column and gains the
 * file's name.
 */
export function readQasmFile(file: string, includeDir?: string): ParsedQasm {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(
      `cannot read ${describe(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return parseQasmDetailed(text, includeDir === undefined ? {} : { includeDir });
  } catch (e) {
    if (e instanceof QasmParseError) throw new QasmParseError(`${e.detail} (in ${file})`, e.line, e.column);
    throw e;
  }
}
