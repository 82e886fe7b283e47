// Digest-signature checks off the event loop, with the same verifier as inline
// (core/prehash: the native addon, or the JavaScript fallback).
import { verifyDigestSignatureSpki } from '../../core/prehash.js';
import { serveRequests } from '../../core/worker-rpc.js';
import { unpackDigestJobs } from './digest-jobs.js';

serveRequests<ArrayBuffer, Uint8Array>(
  (packed) => Uint8Array.from(unpackDigestJobs(packed), (j) => (verifyDigestSignatureSpki(j.spki, j.digest, j.signature, j.hash) ? 1 : 0)),
  { failureCode: 'TLOG_VERIFY_WORKER_FAILED', transfer: (out) => [out.buffer as ArrayBuffer] },
);
