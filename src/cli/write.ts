import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync } from 'node:fs';
import { fsProblem } from './fs-problem.js';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SignError, type BundleSink } from '../sign/index.js';

/**
 * Writes a file so that `path` either keeps its old content or holds the complete new
 * one: a temporary file in the same directory, synced, then renamed over `path`. Batches
 * may skip the sync: the rename alone already keeps readers from seeing a partial file.
 * `mode` applies from the file's creation on (0600 for a private key: never readable by others).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, sync = true, mode = 0o644): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
    if (sync) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* never created or already renamed */
    }
    throw new SignError('OUTPUT_UNWRITABLE', `cannot write ${path} (${fsProblem(e)})`, { cause: e });
  }
}

/**
 * Bundles to files, one path per artifact, each written atomically. A single bundle is
 * synced before the rename; a batch skips the per-file sync (the rename alone keeps
 * readers from seeing a partial file).
 */
export function fileBundleSink(paths: readonly string[]): BundleSink {
  const sync = paths.length === 1;
  return { write: (index, bundleJson) => writeFileAtomic(paths[index] as string, `${bundleJson}\n`, sync) };
}
