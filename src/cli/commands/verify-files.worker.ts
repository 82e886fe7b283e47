// A worker thread of `verify-blob FILE... --bundle-dir DIR`: it claims files one by one from
// the cursor it shares with the other threads, reads, hashes and verifies each itself
// (./verify-files.ts) and posts the verdicts, so it never waits for the main thread to hand
// out work. The policy and the trusted root come once, with the first request (the thread is
// started before they are read: ./verify-files-pool.ts); the verifier's memos (a batch
// signed with one certificate checks its chain once) live as long as the worker.
import { serveRequests } from '../../core/worker-rpc.js';
import { KeylessError } from '../../core/errors.js';
import { verifyFile, type FileVerifySettings, type Verdict } from './verify-files.js';
import { VERDICTS_PER_MESSAGE, type FileWorkerRequest } from './verify-files-pool.js';

let settings: FileVerifySettings | undefined;
serveRequests<FileWorkerRequest, number>(
  async (request) => {
    // Set before any await: requests are handled in the order they were sent.
    if (request.settings) settings = request.settings;
    const run = request.run;
    if (!run) return 0;
    if (!settings) throw new KeylessError('VERIFY_WORKER_FAILED', 'the worker was sent files before its settings');
    const cursor = new Int32Array(run.cursor);
    let posted = 0;
    let chunk: [number, Verdict][] = [];
    try {
      for (let i = Atomics.add(cursor, 0, 1); i < run.items.length; i = Atomics.add(cursor, 0, 1)) {
        chunk.push([i, await verifyFile(run.items[i]!, settings)]);
        if (chunk.length === VERDICTS_PER_MESSAGE) {
          run.verdicts.postMessage(chunk);
          posted += chunk.length;
          chunk = [];
        }
      }
    } finally {
      if (chunk.length > 0) run.verdicts.postMessage(chunk);
      posted += chunk.length;
    }
    return posted;
  },
  { failureCode: 'VERIFY_WORKER_FAILED' },
);
