// Loads the verify commands' implementation for `bin/keyless`. The build emits it as one
// CommonJS file (dist/verify-command.cjs) that is compiled with a V8 code cache kept in
// a private per-user directory, so a `verify-bundle` process skips most of the parsing
// and compiling of the verifier (about 15 ms of its 100 ms budget). Node 20 has no
// module.enableCompileCache; this is the same idea for the one hot path. Any problem
// (no cache dir, a rejected or foreign cache) falls back to a plain compile.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import type * as VerifyCommand from './verify-command.js';

type VerifyCommandModule = typeof VerifyCommand;

/** The compiled file in dist/ (this module runs from dist/ or dist/chunks/); absent when running from the sources. */
function compiledPath(): string | undefined {
  for (const rel of ['./verify-command.cjs', '../verify-command.cjs']) {
    try {
      const p = fileURLToPath(new URL(rel, import.meta.url));
      if (p.includes(`${join('dist', '')}`) && existsSync(p)) return p;
    } catch {
      // not a file URL
    }
  }
  return undefined;
}

/** ~/.cache/keyless/v8 (or $XDG_CACHE_HOME), created 0700; only used when it is ours and private. */
function cacheDir(): string | undefined {
  if (process.env.KEYLESS_NO_COMPILE_CACHE) return undefined;
  try {
    const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    const dir = join(base, 'keyless', 'v8');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** A cache file we may trust: a regular file owned by us, writable by nobody else. */
function readPrivate(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface LoadedVerifyCommand {
  module: VerifyCommandModule;
  /** Call after the command ran: stores the code cache (with the functions it compiled) if there was none. */
  done(): void;
}

export async function loadVerifyCommand(): Promise<LoadedVerifyCommand> {
  const file = compiledPath();
  if (!file) return { module: await import('./verify-command.js'), done: () => {} };
  const source = readFileSync(file, 'utf8');
  const wrapper = `(function (exports, require, module, __filename, __dirname, __keylessModuleUrl) {${source}\n})`;
  const dir = cacheDir();
  const key = createHash('sha256').update(process.version).update(process.arch).update(wrapper).digest('hex').slice(0, 32);
  const cachePath = dir ? join(dir, `verify-command-${key}.bin`) : undefined;
  const cachedData = cachePath ? readPrivate(cachePath) : undefined;
  const script = new Script(wrapper, { filename: file, cachedData });
  const mod = { exports: {} as VerifyCommandModule };
  (script.runInThisContext() as (...args: unknown[]) => void)(
    mod.exports,
    createRequire(file),
    mod,
    file,
    join(file, '..'),
    pathToFileURL(file).href,
  );
  const needsCache = cachePath !== undefined && (cachedData === undefined || script.cachedDataRejected === true);
  return {
    module: mod.exports,
    done: () => {
      if (!needsCache) return;
      try {
        const tmp = `${cachePath}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        renameSync(tmp, cachePath);
        // Caches of earlier builds are dead weight now.
        for (const f of readdirSync(dir!)) {
          if (f.startsWith('verify-command-') && join(dir!, f) !== cachePath) rmSync(join(dir!, f), { force: true });
        }
      } catch {
        // a cache is an optimisation only
      }
    },
  };
}
