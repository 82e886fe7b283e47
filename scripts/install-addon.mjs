// `npm install` hook: builds the prehash addon (native/prehash_verify.cc) when a C++
// toolchain is present. The addon only accelerates digest verification; without it
// src/core/prehash.ts falls back to JavaScript (@noble/curves, Node's RSA), so a failed
// build is not a failed install. Prints one line saying which path is in use.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const nodeGyp = process.env.npm_config_node_gyp;
const [command, args] = nodeGyp ? [process.execPath, [nodeGyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (result.status === 0) {
  console.log('keyless: prehash addon built (OpenSSL); KEYLESS_PREHASH=js selects the JavaScript path');
} else {
  // A half-built build/ must not be mistaken for an addon.
  rmSync(new URL('build', root), { recursive: true, force: true });
  const why = result.error ? 'node-gyp not found' : 'no C++ toolchain, or node-gyp failed';
  console.log(`keyless: prehash addon not built (${why}; KEYLESS_ADDON_LOG=1 shows why); using the JavaScript path (@noble/curves)`);
  if (process.env.KEYLESS_ADDON_LOG) process.stdout.write(`${result.stdout ?? ''}${result.stderr ?? result.error?.message ?? ''}`);
}
