/**
 * Where the real data sets live and how each one is installed. The directories can be moved with
 * environment variables (for machines that unpack the Debian packages elsewhere, e.g. `dpkg -x`).
 */
import { existsSync } from 'node:fs';
import { DatasetNotFoundError } from '../errors.ts';

/** The command that installs every apt data set at once (the project's own setup script). */
export const SETUP_APT = 'bash scripts/setup-apt.sh';

/** Per data set: default directory, the environment variable that overrides it, and the install command. */
export const DATA_SOURCES = {
  fashionMnist: {
    dir: '/usr/share/datasets/fashion-mnist',
    env: 'QPEFT_FASHION_MNIST_DIR',
    install: `sudo apt-get install -y dataset-fashion-mnist (or ${SETUP_APT})`,
  },
  fortunes: {
    dir: '/usr/share/games/fortunes',
    env: 'QPEFT_FORTUNES_DIR',
    install: `sudo apt-get install -y fortunes (or ${SETUP_APT})`,
  },
  sklearn: {
    dir: '/usr/lib/python3/dist-packages/sklearn/datasets/data',
    env: 'QPEFT_SKLEARN_DATA_DIR',
    install: `sudo apt-get install -y --no-install-recommends python3-sklearn (or ${SETUP_APT})`,
  },
} as const;

export type DataSourceName = keyof typeof DATA_SOURCES;

/** The directory of a data source: the explicit `dir`, else its environment variable, else the default. */
export function dataDir(name: DataSourceName, dir?: string): string {
  const src = DATA_SOURCES[name];
  return dir ?? (process.env[src.env] || src.dir);
}

/** Throw `DatasetNotFoundError` (with the install command) unless every file exists. */
export function requireFiles(name: DataSourceName, label: string, files: readonly string[]): void {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) {
    throw new DatasetNotFoundError(
      `${label} is not installed (missing ${missing.join(', ')})`,
      DATA_SOURCES[name].install,
    );
  }
}

/** True when every file of a data source exists (for tests and commands that skip absent data). */
export function hasFiles(files: readonly string[]): boolean {
  return files.every((f) => existsSync(f));
}
