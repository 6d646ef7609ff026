// Build native/blas (the N-API addon that gives tfjs's wasm backend OpenBLAS's matMul; see
// src/tf/native-matmul.ts). Runs as the package's `install` script, so `npm ci` builds it with the node-gyp
// that npm ships. It is optional by design: when it cannot build (no compiler, no Node headers) this prints
// one line saying so and exits 0, and qpeft multiplies with tfjs's own wasm kernel. QPEFT_BLAS=0 skips it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'native', 'blas');

function nodeGyp() {
  // npm sets npm_config_node_gyp for lifecycle scripts; outside npm, use the copy bundled with npm.
  const candidates = [process.env.npm_config_node_gyp];
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' });
  if (npmRoot.status === 0)
    candidates.push(path.join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

if (process.env.QPEFT_BLAS === '0') {
  console.log('qpeft: QPEFT_BLAS=0, the OpenBLAS matMul addon is not built');
} else if (!existsSync(path.join(dir, 'binding.gyp'))) {
  console.log('qpeft: native/blas is not in this package; tfjs wasm multiplies on its own');
} else {
  const gyp = nodeGyp();
  // Build against the running Node's own headers (<prefix>/include/node), so nothing is downloaded.
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const nodedir =
    process.env.npm_config_nodedir ||
    (existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null);
  const args = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const r = gyp
    ? spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' })
    : { status: null, stderr: 'node-gyp not found', stdout: '' };
  if (r.status === 0) {
    console.log('qpeft: built native/blas (OpenBLAS matMul for the wasm backend, used when OpenBLAS is installed)');
  } else {
    const lines = `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n');
    const why = lines.find((l) => /error|ERR!/.test(l) && !/not ok/.test(l))?.trim() ?? `exit ${r.status}`;
    console.log(`qpeft: native/blas did not build (${why}); the wasm backend multiplies with its own kernel`);
  }
}
