#!/usr/bin/env bash
# Set up headless Jupyter with the TypeScript kernel (tslab) and execute the notebooks in notebooks/.
#   bash scripts/notebooks.sh                      # install what is missing, then execute every notebook
#   bash scripts/notebooks.sh notebooks/01-*.ipynb # execute only these
#   bash scripts/notebooks.sh --setup              # install + generate the declarations only
# Exits non-zero when any cell fails to type-check or throws (the failing cell and its output are printed).
# Executed copies (with outputs) go to out/notebooks/; the committed notebooks stay without outputs.
#
# How a cell imports the library (`import { columns } from 'qpeft'`, `from 'qpeft/plot'`):
#   tslab type-checks each cell with its own TypeScript 5.0.4 fork, with fixed options (Node10 module
#   resolution, no allowImportingTsExtensions, rootDir = the notebook's folder) and ignores tsconfig files.
#   Importing src/*.ts by a relative path therefore makes tslab compile the library itself and fail
#   (".ts extension" and "not under rootDir" errors). So types and code come in by two separate routes:
#   - Types: TypeScript 7's tsc emits declarations of src/ (scripts/notebooks.tsconfig.json) into
#     notebooks/node_modules/qpeft/ (git-ignored, regenerated on every run, about a second). tslab resolves
#     `qpeft` and `qpeft/<dir>` there like any package, so a cell that misuses the API fails type-checking.
#   - Code: the kernel runs with NODE_OPTIONS="--import tsx". tslab's require() resolves from the notebook's
#     folder, inside this package, so `qpeft` and `qpeft/<subpath>` resolve through package.json's `exports`
#     (Node's self-reference) to the TypeScript sources, which tsx runs directly, as the CLI and the tests do
#     (no build, no bundle; stack traces point into src/).
# Interactive use (Jupyter Lab, VS Code): run `bash scripts/notebooks.sh --setup` once, then start Jupyter
# with the same two variables, see notebooks/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

SETUP_ONLY=0
NOTEBOOKS=()
for a in "$@"; do
  case "$a" in
    --setup) SETUP_ONLY=1 ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "notebooks: unknown option $a" >&2; exit 2 ;;
    *) NOTEBOOKS+=("$a") ;;
  esac
done

PACKAGES=(jupyter-nbconvert python3-ipykernel jupyter-client)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=()
  [ "$(id -u)" -ne 0 ] && SUDO=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  echo "notebooks: installing ${missing[*]}"
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -x node_modules/.bin/tslab ] || [ ! -f node_modules/typescript/bin/tsc ] || [ ! -d node_modules/tsx ]; then
  echo "notebooks: node_modules is incomplete (tslab, typescript, tsx): run npm ci first" >&2
  exit 1
fi

export PATH="$ROOT/node_modules/.bin:$PATH"
# The default python3 may be a pyenv shim without Jupyter: register the kernel for Debian's python.
kernels=$(/usr/bin/jupyter kernelspec list 2>/dev/null || true)
if ! grep -q '^\s*tslab\s' <<<"$kernels"; then
  tslab install --python=/usr/bin/python3
fi

# Declarations of src/ for tslab's type-checker. Type errors in src/ are `npm run typecheck`'s business:
# tsc still emits, and the notebooks run against whatever the sources declare.
# (node_modules/.bin/tsc may be tslab's TypeScript 5.0.4 fork, which shares the bin name: call TS 7 directly.)
TYPES=notebooks/node_modules/qpeft
rm -rf "$TYPES.tmp"
tsc_out=$(node node_modules/typescript/bin/tsc -p scripts/notebooks.tsconfig.json --outDir "$TYPES.tmp" 2>&1) || true
if [ ! -f "$TYPES.tmp/index.d.ts" ]; then
  echo "$tsc_out" >&2
  echo "notebooks: emitting the declarations of src/ failed" >&2
  exit 1
fi
if [ -n "$tsc_out" ]; then
  echo "notebooks: note: tsc reported $(grep -c 'error TS' <<<"$tsc_out") type error(s) in src/ (see npm run typecheck)"
fi
# The ambient declarations of types/ (modules without their own types) travel along; every emitted file
# references them, so `qpeft/<dir>` alone sees them too.
node --input-type=module - "$TYPES.tmp" <<'JS'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const dir = process.argv[2];
const ambient = existsSync('types') ? readdirSync('types').filter((f) => f.endsWith('.d.ts')) : [];
mkdirSync(path.join(dir, 'ambient'), { recursive: true });
for (const f of ambient) copyFileSync(path.join('types', f), path.join(dir, 'ambient', f));
for (const f of readdirSync(dir, { recursive: true })) {
  if (!f.endsWith('.d.ts') || f.startsWith('ambient')) continue;
  const file = path.join(dir, f);
  const rel = path.relative(path.dirname(file), path.join(dir, 'ambient')).split(path.sep).join('/');
  const refs = ambient.map((a) => `/// <reference path="${rel}/${a}" />\n`).join('');
  writeFileSync(file, refs + readFileSync(file, 'utf8'));
}
JS
printf '{ "name": "qpeft", "private": true, "types": "index.d.ts" }\n' >"$TYPES.tmp/package.json"
rm -rf "$TYPES" && mv "$TYPES.tmp" "$TYPES"

[ "$SETUP_ONLY" = 1 ] && { echo "notebooks: set up (declarations in $TYPES)"; exit 0; }

if [ ${#NOTEBOOKS[@]} -eq 0 ]; then
  shopt -s nullglob
  NOTEBOOKS=(notebooks/*.ipynb)
fi
if [ ${#NOTEBOOKS[@]} -eq 0 ]; then
  echo "notebooks: no notebooks found" >&2
  exit 1
fi

export NODE_OPTIONS="--import tsx${NODE_OPTIONS:+ $NODE_OPTIONS}"
mkdir -p out/notebooks

# Execute cell by cell with nbclient (what nbconvert --execute uses) so that a failure names its cell and
# shows tslab's message: tslab reports type errors and exceptions on stderr, not in the error reply.
exec /usr/bin/python3 - "${NOTEBOOKS[@]}" <<'PY'
import os, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

CELL_TIMEOUT = int(os.environ.get("NOTEBOOK_CELL_TIMEOUT", "600"))
failed = []
t_all = time.monotonic()
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="tslab", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    t0 = time.monotonic()
    error = None
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                try:
                    client.execute_cell(cell, index)
                except (CellExecutionError, CellTimeoutError) as e:
                    error = (index, cell, e)
                    break
    except Exception as e:  # the kernel did not start or died
        error = (None, None, e)
    out = os.path.join("out", "notebooks", os.path.basename(path))
    nbformat.write(nb, out)
    took = time.monotonic() - t0
    if error is None:
        print(f"notebooks: ok      {path} ({took:.1f} s)", flush=True)
        continue
    failed.append(path)
    index, cell, e = error
    print(f"notebooks: FAILED  {path} ({took:.1f} s)", file=sys.stderr)
    if cell is None:
        print(f"  {type(e).__name__}: {e}", file=sys.stderr)
        continue
    print(f"  cell {index}:", file=sys.stderr)
    for line in cell.source.splitlines()[:12]:
        print(f"  | {line}", file=sys.stderr)
    shown = False
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            text = o.get("text", "")
            print("  " + text.rstrip().replace("\n", "\n  "), file=sys.stderr)
            shown = True
        elif o.get("output_type") == "error":
            print("  " + "\n  ".join(o.get("traceback", []) or [o.get("evalue", "")]), file=sys.stderr)
            shown = True
    if not shown or isinstance(e, CellTimeoutError):
        print(f"  {type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}",
              file=sys.stderr)
    print(f"  (executed copy: {out})", file=sys.stderr)
print(f"notebooks: {len(sys.argv) - 1 - len(failed)} ok, {len(failed)} failed "
      f"({time.monotonic() - t_all:.1f} s)", flush=True)
sys.exit(1 if failed else 0)
PY
