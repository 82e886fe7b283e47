// The worker threads of `verify-blob FILE... --bundle-dir DIR` (./verify-files.worker.ts),
// started as soon as the command line is read: each boots (a new V8 isolate loading the
// verifier) on the other core while the main thread loads the same modules, instead of
// after it. What to verify with comes later, as the first request (./verify-many.ts).
import { availableParallelism } from 'node:os';
import { WorkerClient } from '../../core/worker-rpc.js';
import { UsageError } from '../usage-error.js';
import type { BatchItem, FileVerifySettings, Verdict } from './verify-files.js';

/** One request to a worker: the batch settings (once, first), then files to verify. */
export interface FileWorkerRequest {
  settings?: FileVerifySettings;
  items: BatchItem[];
}
export type FileWorker = WorkerClient<FileWorkerRequest, Verdict[]>;

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
      new WorkerClient<FileWorkerRequest, Verdict[]>(new URL('./verify-files.worker.ts', import.meta.url), {
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
