// The worker threads of `verify-blob FILE... --bundle-dir DIR` (./verify-files.worker.ts),
// started as soon as the command line is read: each boots (a new V8 isolate loading the
// verifier) on the other core while the main thread loads the same modules, instead of
// after it. What to verify with comes later, as the first request (./verify-many.ts).
import { availableParallelism } from 'node:os';
import { WorkerClient } from '../../core/worker-rpc.js';
import { UsageError } from '../usage-error.js';
import type { MessagePort } from 'node:worker_threads';
import type { BatchItem, FileVerifySettings } from './verify-files.js';

/**
 * What a worker is asked: the batch settings (once, first, while it may still be loading),
 * then one run over the whole batch. In a run every thread, the main one included, claims
 * the next file from a shared cursor, so a worker never waits for the main thread to send it
 * work (the main thread answers messages only between its own files); the worker posts its
 * verdicts on `verdicts` as [index, verdict] pairs and answers the request with how many it
 * posted.
 */
export interface FileWorkerRequest {
  settings?: FileVerifySettings;
  run?: { items: BatchItem[]; cursor: SharedArrayBuffer; verdicts: MessagePort };
}
export type FileWorker = WorkerClient<FileWorkerRequest, number>;

/** Verdicts a worker posts in one message: fewer messages for the main thread to take in between its own files. */
export const VERDICTS_PER_MESSAGE = 8;

/** --jobs: verification threads, the main thread included (default one per core). */
export function parseJobs(jobs: string | undefined): number {
  if (jobs === undefined) return Math.max(1, availableParallelism());
  const n = Number(jobs);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--jobs ${jobs} is not a whole number from 1 to 256`);
  return n;
}

/** Worker threads a batch uses: the main thread is one of the `--jobs` threads, and no more threads than files on the command line (a manifest's length is not known yet). */
export function workersFor(o: { jobs?: string; manifest?: string }, files: number): number {
  const jobs = parseJobs(o.jobs);
  return (o.manifest === undefined ? Math.min(jobs, files) : jobs) - 1;
}

export function startFileWorkers(count: number): FileWorker[] {
  return Array.from(
    { length: count },
    () =>
      new WorkerClient<FileWorkerRequest, number>(new URL('./verify-files.worker.ts', import.meta.url), {
        failureCode: 'VERIFY_WORKER_FAILED',
      }),
  );
}

/** The workers for a batch, started now; none when --jobs is invalid (the command then says so). */
export function startWorkersEarly(o: { jobs?: string; manifest?: string }, files: number): FileWorker[] {
  let count: number;
  try {
    count = workersFor(o, files);
  } catch {
    return [];
  }
  return startFileWorkers(count);
}
