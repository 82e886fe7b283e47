// A worker thread of `verify-blob FILE... --bundle-dir DIR`: sent batches of paths, it reads,
// hashes and verifies each file itself (./verify-files.ts) and answers with their verdicts,
// so the main thread only dispatches paths and prints. The trusted root and the policy
// come once, as workerData; the verifier's memos (a batch signed with one certificate
// checks its chain once) live as long as the worker.
import { workerData } from 'node:worker_threads';
import { serveRequests } from '../../core/worker-rpc.js';
import { verifyFile, type BatchItem, type FileVerifySettings, type Verdict } from './verify-files.js';

const settings = workerData as FileVerifySettings;
serveRequests<BatchItem[], Verdict[]>(
  async (items) => {
    const verdicts: Verdict[] = [];
    for (const item of items) verdicts.push(await verifyFile(item, settings));
    return verdicts;
  },
  { failureCode: 'VERIFY_WORKER_FAILED' },
);
