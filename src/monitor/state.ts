// The state file: per log, the last verified tree (size, root, frontier, signed text).
// Written atomically (temporary file, fsync, rename, fsync of the directory) and only
// after the scan up to that tree has been reported, so a crash repeats at most the
// unfinished scan. `pending` marks a report being written: the output file is cut back
// to `offset` on the next start, so no line is ever written twice.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, existsSync, statSync, truncateSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MonitorError } from './errors.js';
import { at } from './json.js';

export interface LogState {
  kind: string;
  url: string;
  origin: string;
  size: number;
  rootHash: string;
  frontier: string[];
  signed: string;
  pending?: { outputFile: string; offset: number };
}

export interface StateFile {
  version: 1;
  logs: Record<string, LogState>;
}

const invalid = (file: string, message: string) =>
  new MonitorError('MONITOR_STATE_INVALID', `state file ${file}: ${message}`, { check: 'state' });

export function readState(file: string | undefined): StateFile {
  if (!file || !existsSync(file)) return { version: 1, logs: {} };
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw invalid(file, `not JSON (${(e as Error).message}); move it away to start over`);
  }
  const logs = at(doc, 'logs');
  if (at(doc, 'version') !== 1 || typeof logs !== 'object' || logs === null)
    throw invalid(file, 'not a keyless monitor state file (version 1)');
  for (const [key, s] of Object.entries(logs)) {
    const frontier = at(s, 'frontier');
    if (
      !Number.isSafeInteger(at(s, 'size')) ||
      typeof at(s, 'rootHash') !== 'string' ||
      !Array.isArray(frontier) ||
      !frontier.every((h) => typeof h === 'string') ||
      typeof at(s, 'origin') !== 'string'
    ) {
      throw invalid(file, `entry ${key} is malformed`);
    }
  }
  return doc as StateFile;
}

export function writeState(file: string | undefined, state: StateFile): void {
  if (!file) return;
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 1)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // directories cannot be fsynced on every platform
  }
}

/** Cuts the output file back to where an interrupted report began. */
export function rollBackOutput(pending: { outputFile: string; offset: number }): void {
  if (!existsSync(pending.outputFile)) return;
  if (statSync(pending.outputFile).size > pending.offset) truncateSync(pending.outputFile, pending.offset);
}

export function fileSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

/** Appends and syncs (the state that follows must never be ahead of the output). */
export function appendDurably(file: string, text: string): void {
  const fd = openSync(file, 'a', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
