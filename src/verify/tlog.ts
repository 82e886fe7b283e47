// Transparency-log inclusion: the signed entry timestamp (Rekor v1), and the inclusion
// proof against a checkpoint signed by the log (Rekor v1 notes and C2SP signed notes
// for Rekor v2, with witness cosignatures ignored). Never fetches anything online.
import { canonicalize } from '../core/canonical-json.js';
import { verifySignature } from '../core/keys.js';
import {
  leafHash,
  parseCheckpoint,
  parseSignedNote,
  verifyInclusion,
  verifyNote,
  type Checkpoint,
  type SignedNote,
} from '../merkle/index.js';
import type { TransparencyLogEntry } from '../formats/index.js';
import { describePeriod, periodContains, type TrustedLog } from '../x509/index.js';
import { VerifyCode, failWith, type CheckLog } from './checks.js';
import type { TrustMaterial } from './trust.js';

/** An entry's position in the bundle, for check names: `tlog[0]`. */
export function entryName(i: number): string {
  return `tlog[${i}]`;
}

/** The trusted logs an entry names by its log ID; fails when the log is unknown. */
export function logsForEntry(log: CheckLog, trust: TrustMaterial, entry: TransparencyLogEntry, name: string): TrustedLog[] {
  const logs = trust.tlogsById(entry.logId!.keyId);
  const id = entry.logId!.keyId.toString('base64');
  if (logs.length === 0) {
    log.fail(
      VerifyCode.TLOG_UNKNOWN_LOG,
      `${name}.log`,
      'the entry comes from a log that is not in the trusted root',
      'a log ID of the trusted root',
      id,
    );
  }
  log.pass(`${name}.log`, undefined, logs.map((l) => l.baseUrl).join(', '));
  return logs;
}

/**
 * Verifies the SET: the log's signature over the canonical JSON of body, integrated
 * time, log ID and log index, with a log key whose validity window contains the
 * integrated time. Returns the integrated time, now a verified time.
 */
export function verifySet(log: CheckLog, logs: TrustedLog[], entry: TransparencyLogEntry, name: string): Date {
  const check = `${name}.signed-entry-timestamp`;
  const integratedTime = Number(entry.integratedTime);
  const t = integratedTime * 1000;
  const valid = logs.filter((l) => periodContains(l.validFor, t));
  if (valid.length === 0) {
    log.fail(
      VerifyCode.TLOG_KEY_NOT_VALID_AT_TIME,
      check,
      'no key of this log is valid at the integrated time',
      logs.map((l) => describePeriod(l.validFor)).join(' or '),
      new Date(t),
    );
  }
  const payload = Buffer.from(
    canonicalize({
      body: entry.canonicalizedBody.toString('base64'),
      integratedTime,
      logID: entry.logId!.keyId.toString('hex'),
      logIndex: Number(entry.logIndex),
    }),
    'utf8',
  );
  const sig = entry.inclusionPromise!.signedEntryTimestamp;
  for (const l of valid) {
    let ok = false;
    try {
      ok = verifySignature(l.key, payload, sig, 'sha256');
    } catch (e) {
      failWith(log, VerifyCode.TLOG_SET_INVALID, check, e);
    }
    if (ok) {
      log.pass(check, 'a signature by the log key', 'verified', `integrated time ${new Date(t).toISOString()}`);
      return new Date(t);
    }
  }
  return log.fail(
    VerifyCode.TLOG_SET_INVALID,
    check,
    'the signed entry timestamp does not verify with the log key',
    'a valid signature',
    'invalid signature',
  );
}

/** sigstore-go's rule: a `<host> - <tree ID>` origin marks a Rekor v1 checkpoint. */
const V1_ORIGIN = /^.* - [0-9]+$/;

/**
 * Verifies the checkpoint note with the log key: the signature line(s) with the log's
 * name and 4-byte key ID must verify; lines from other keys (witnesses) are ignored.
 * Rekor v2 (C2SP): origin = key name = the log's base URL without scheme, either its host
 * name alone (rekor-tiles' `--hostname`, the only form sigstore-go accepts) or host and path
 * (a log sharing its host with others, e.g. a Keyless shard at `<host>/shards/2`). Rekor v1: any
 * origin and any key name, the 4-byte key hint and the signature decide (as rekor and
 * sigstore-go verify them).
 */
export function verifyCheckpoint(
  log: CheckLog,
  trust: TrustMaterial,
  logs: TrustedLog[],
  note: string,
  name: string,
): { checkpoint: Checkpoint; log: TrustedLog } {
  const check = `${name}.checkpoint`;
  let parsed: SignedNote;
  let checkpoint: Checkpoint;
  try {
    parsed = parseSignedNote(note, 'checkpoint');
    checkpoint = parseCheckpoint(parsed.body, 'checkpoint');
  } catch (e) {
    return failWith(log, VerifyCode.TLOG_CHECKPOINT_INVALID, check, e);
  }
  const v1 = V1_ORIGIN.test(checkpoint.origin);
  let lastError: unknown;
  for (const l of logs) {
    // Rekor v1 signs with its configured hostname (a pod name in many private deployments),
    // and its verifiers (rekor, sigstore-go) match the key hint only: any name will do there.
    const hint = l.logId.subarray(0, 4);
    const names = v1
      ? [...new Set([l.host, l.hostname, ...parsed.signatures.filter((sig) => sig.keyId.equals(hint)).map((sig) => sig.name)])].filter(
          (n) => n,
        )
      : [checkpoint.origin];
    if (!v1 && checkpoint.origin !== l.hostname && checkpoint.origin !== l.schemelessUrl) {
      lastError = new Error(
        `checkpoint origin ${JSON.stringify(checkpoint.origin)} is neither the log's host name ${JSON.stringify(l.hostname)} nor its URL without scheme ${JSON.stringify(l.schemelessUrl)}`,
      );
      continue;
    }
    for (const keyName of names) {
      try {
        // The same checkpoint text verified with this trusted key before (a batch's entries
        // share checkpoints): its signature is a fact of the text and the key alone.
        if (!trust.checkpointVerified(note, l, keyName)) {
          verifyNote(parsed, keyName, l.key.key, l.logId.subarray(0, 4));
          trust.rememberCheckpoint(note, l, keyName);
        }
        log.pass(check, `a signature by ${keyName}`, 'verified', `origin ${checkpoint.origin}, size ${checkpoint.size}`);
        return { checkpoint, log: l };
      } catch (e) {
        lastError = e;
      }
    }
  }
  return failWith(log, VerifyCode.TLOG_CHECKPOINT_INVALID, check, lastError ?? new Error('no log key matches the checkpoint'));
}

/**
 * Verifies the inclusion proof of SHA-256(0x00 ‖ canonicalizedBody) at the proof's
 * index against the size and root hash of the verified checkpoint.
 */
export function verifyInclusionProof(
  log: CheckLog,
  trust: TrustMaterial,
  logs: TrustedLog[],
  entry: TransparencyLogEntry,
  name: string,
): TrustedLog {
  const proof = entry.inclusionProof!;
  const note = proof.checkpoint?.envelope;
  if (!note)
    log.fail(VerifyCode.TLOG_INCLUSION_MISSING, `${name}.checkpoint`, 'the inclusion proof has no checkpoint', 'a signed checkpoint', null);
  const { checkpoint, log: trusted } = verifyCheckpoint(log, trust, logs, note, name);
  const check = `${name}.inclusion-proof`;
  const size = Number(proof.treeSize);
  if (size !== checkpoint.size) {
    log.fail(VerifyCode.TLOG_INCLUSION_INVALID, check, 'the proof is for another tree size than the checkpoint', checkpoint.size, size);
  }
  if (!proof.rootHash.equals(checkpoint.rootHash)) {
    log.fail(
      VerifyCode.TLOG_INCLUSION_INVALID,
      check,
      'the proof root hash differs from the checkpoint root hash',
      Buffer.from(checkpoint.rootHash),
      proof.rootHash,
    );
  }
  try {
    verifyInclusion(Number(proof.logIndex), checkpoint.size, leafHash(entry.canonicalizedBody), proof.hashes, checkpoint.rootHash);
  } catch (e) {
    failWith(log, VerifyCode.TLOG_INCLUSION_INVALID, check, e);
  }
  log.pass(check, Buffer.from(checkpoint.rootHash), 'root reached', `leaf ${proof.logIndex} of ${checkpoint.size}`);
  return trusted;
}
