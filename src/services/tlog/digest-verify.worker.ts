// Digest-signature checks off the event loop, with the same verifier as inline
// (core/prehash: the native addon, or the JavaScript fallback).
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { verifyDigestSignatureSpki } from '../../core/prehash.js';
import { serveRequests } from '../../core/worker-rpc.js';
import { unpackDigestJobs } from './digest-jobs.js';

// Load the verifier and run it once before the first batch: the JavaScript path builds its
// P-256 tables on first use, which would otherwise delay the first appends by a second.
const warm = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const warmDigest = createHash('sha256').update('warm-up').digest();
verifyDigestSignatureSpki(
  warm.publicKey.export({ format: 'der', type: 'spki' }),
  warmDigest,
  sign('sha256', Buffer.from('warm-up'), warm.privateKey),
  'sha256',
);

serveRequests<ArrayBuffer, Uint8Array>(
  (packed) => Uint8Array.from(unpackDigestJobs(packed), (j) => (verifyDigestSignatureSpki(j.spki, j.digest, j.signature, j.hash) ? 1 : 0)),
  { failureCode: 'TLOG_VERIFY_WORKER_FAILED', transfer: (out) => [out.buffer as ArrayBuffer] },
);
