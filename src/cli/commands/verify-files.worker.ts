// A worker thread of `verify-blob FILE... --bundle-dir DIR`: sent batches of paths, it reads,
// hashes and verifies each file itself (./verify-files.ts) and answers with their verdicts,
// so the main thread only dispatches paths and prints. The policy and the trusted root come
// once, with the first request (the thread is started before they are read:
// ./verify-files-pool.ts); the verifier's memos (a batch signed with one certificate checks
// its chain once) live as long as the worker.
import { serveRequests } from '../../core/worker-rpc.js';
import { KeylessError } from '../../core/errors.js';
import { verifyFile, type FileVerifySettings, type Verdict } from './verify-files.js';
import type { FileWorkerRequest } from './verify-files-pool.js';

let settings: FileVerifySettings | undefined;
serveRequests<FileWorkerRequest, Verdict[]>(
  async (request) => {
    // Set before any await: requests are handled in the order they were sent.
    if (request.settings) settings = request.settings;
    if (!settings) throw new KeylessError('VERIFY_WORKER_FAILED', 'the worker was sent files before its settings');
    const verdicts: Verdict[] = [];
    for (const item of request.items) verdicts.push(await verifyFile(item, settings));
    return verdicts;
  },
  { failureCode: 'VERIFY_WORKER_FAILED' },
);
