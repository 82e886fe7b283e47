import type { KeyObject } from 'node:crypto';
import { FormatError, KeylessError } from '../../core/errors.js';
import { base64Encode, hexEncode, pemEncode } from '../../core/encoding.js';
import { canonicalize } from '../../core/canonical-json.js';
import { sha256 } from '../../core/hash.js';
import { describeKey, publicKeyDer } from '../../core/keys.js';
import type { Signer } from '../../core/signer.js';
import { MAX_ENTRY_BUNDLE_ENTRY_BYTES, noteKeyHash } from '../../merkle/index.js';
import { noteCheckpointSigner, type LogEngine, type TransparencyLog } from '../../log/index.js';

export interface RekorLogOptions {
  engine: LogEngine;
  /** The log's public URL as written in the signing config and trusted root. */
  baseUrl: string;
  /** The log's key, through the key store's signing interface. */
  signer: Signer;
  /** Name of the log inside the engine (default "rekor-v1" / "rekor-v2"). */
  name?: string;
  /** Most entries integrated per batch. */
  maxBatch?: number;
  /**
   * Rekor v2 only: how the checkpoint origin (= key name) derives from `baseUrl`: its host
   * name (default; rekor-tiles' form, the only one sigstore-go accepts), or host[:port] and
   * path, for a log that shares its host with another (a shard at `<host>/shards/N`).
   */
  origin?: 'hostname' | 'url';
}

/** What the trust files need about a log. */
export interface RekorLogInfo {
  apiVersion: 1 | 2;
  baseUrl: string;
  /** 32 bytes: TrustedRoot `logId.keyId` (and `checkpointKeyId`). */
  logId: Buffer;
  publicKey: KeyObject;
  /** DER SPKI (TrustedRoot `publicKey.rawBytes`). */
  publicKeyDer: Buffer;
  /** TrustedRoot `publicKey.keyDetails`. */
  keyDetails: 'PKIX_ECDSA_P256_SHA_256' | 'PKIX_ED25519';
  /** Checkpoint origin line. */
  origin: string;
  /** Key name on checkpoint signature lines. */
  keyName: string;
  /**
   * The largest canonical body every read format of this log can serve (admission refuses
   * larger ones): C2SP entry bundles for Rekor v2; none beyond the request size for v1.
   */
  maxEntryBytes?: number;
}

function urlOf(baseUrl: string): URL {
  try {
    return new URL(baseUrl);
  } catch {
    throw new FormatError('baseUrl', `is not a URL: ${baseUrl.slice(0, 100)}`);
  }
}

/**
 * The SET payload, JCS of {body, integratedTime, logID, logIndex}, written directly: the
 * keys are already in JCS order, base64 and hex need no escaping and the numbers are
 * safe integers, so the template is byte-for-byte what canonicalize() returns (a test
 * checks) at a fraction of its cost on every append.
 */
export function setPayload(bodyB64: string, integratedTime: number, logIdHex: string, logIndex: number): string {
  if (
    !Number.isSafeInteger(integratedTime) ||
    !Number.isSafeInteger(logIndex) ||
    !/^[A-Za-z0-9+/=]*$/.test(bodyB64) ||
    !/^[0-9a-f]*$/.test(logIdHex)
  ) {
    return canonicalize({ body: bodyB64, integratedTime, logID: logIdHex, logIndex });
  }
  return `{"body":"${bodyB64}","integratedTime":${integratedTime},"logID":"${logIdHex}","logIndex":${logIndex}}`;
}

/** A Rekor v1 log: ECDSA P-256 key (SETs and checkpoints), origin `<host> - <treeID>`, key name `<host[:port]>`. */
export class RekorV1Log {
  private logIdHexCached: string | undefined;
  private treeIdHex: string | undefined;

  private constructor(
    readonly log: TransparencyLog,
    readonly info: RekorLogInfo,
    private readonly signer: Signer,
  ) {}

  static async open(o: RekorLogOptions): Promise<RekorV1Log> {
    const info = describeKey(o.signer.publicKey, 'rekorV1.publicKey');
    if (info.algorithm !== 'ecdsa-p256') {
      throw new KeylessError(
        'KEY_UNSUPPORTED',
        'a Rekor v1 log key must be ECDSA P-256 (what every client verifies SETs and checkpoints with)',
      );
    }
    const keyName = urlOf(o.baseUrl).host;
    const log = await o.engine.openLog({
      name: o.name ?? 'rekor-v1',
      origin: (treeId) => `${keyName} - ${treeId}`,
      signer: ({ origin }) => noteCheckpointSigner({ origin, keyName, signer: o.signer }),
      maxBatch: o.maxBatch,
    });
    const der = publicKeyDer(o.signer.publicKey);
    return new RekorV1Log(
      log,
      {
        apiVersion: 1,
        baseUrl: o.baseUrl,
        logId: sha256(der),
        publicKey: o.signer.publicKey,
        publicKeyDer: der,
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        origin: log.origin,
        keyName,
      },
      o.signer,
    );
  }

  get logIdHex(): string {
    return (this.logIdHexCached ??= hexEncode(this.info.logId));
  }

  /** 16 hex digits of the tree ID followed by the 64-hex UUID (leaf hash). */
  entryId(leafHash: Uint8Array): string {
    this.treeIdHex ??= BigInt(this.log.treeId).toString(16).padStart(16, '0');
    return this.treeIdHex + hexEncode(leafHash);
  }

  publicKeyPem(): string {
    return pemEncode('PUBLIC KEY', this.info.publicKeyDer);
  }

  /** The signed entry timestamp: ECDSA over JCS of {body, integratedTime, logID, logIndex}. */
  signEntryTimestamp(bodyB64: string, integratedTime: number, logIndex: number): Buffer {
    return this.signer.sign(Buffer.from(setPayload(bodyB64, integratedTime, this.logIdHex, logIndex), 'utf8'), 'sha256');
  }

  /** A Rekor v1 LogEntry map `{ "<entryID>": {...} }` with proof against the tree of `treeSize` leaves. */
  async entryResponse(
    e: { index: number; body: Buffer; integratedTime: number; leafHash: Buffer },
    checkpoint: { size: number; rootHash: Buffer; signed: string },
  ): Promise<Record<string, unknown>> {
    const bodyB64 = base64Encode(e.body);
    const hashes = await this.log.inclusionProof(e.index, checkpoint.size);
    return {
      [this.entryId(e.leafHash)]: {
        body: bodyB64,
        integratedTime: e.integratedTime,
        logID: this.logIdHex,
        logIndex: e.index,
        verification: {
          inclusionProof: {
            checkpoint: checkpoint.signed,
            hashes: hashes.map((h) => hexEncode(h)),
            logIndex: e.index,
            rootHash: hexEncode(checkpoint.rootHash),
            treeSize: checkpoint.size,
          },
          signedEntryTimestamp: base64Encode(this.signEntryTimestamp(bodyB64, e.integratedTime, e.index)),
        },
      },
    };
  }
}

/** A Rekor v2 log: Ed25519 (or ECDSA P-256) note key, origin = key name = host name of the URL (or URL without scheme). */
export class RekorV2Log {
  private readonly logIdB64: string;
  /** A batch's entries share its checkpoint object: its JSON parts, encoded once. */
  private readonly checkpointJson = new WeakMap<object, { head: string; envelope: string }>();

  private constructor(
    readonly log: TransparencyLog,
    readonly info: RekorLogInfo,
  ) {
    this.logIdB64 = base64Encode(info.logId);
  }

  static async open(o: RekorLogOptions): Promise<RekorV2Log> {
    const kinfo = describeKey(o.signer.publicKey, 'rekorV2.publicKey');
    if (kinfo.algorithm !== 'ed25519' && kinfo.algorithm !== 'ecdsa-p256') {
      throw new KeylessError('KEY_UNSUPPORTED', 'a Rekor v2 log key must be Ed25519 (advised) or ECDSA P-256');
    }
    const url = urlOf(o.baseUrl);
    const origin = o.origin === 'url' ? `${url.host}${url.pathname}`.replace(/\/+$/, '') : url.hostname;
    const log = await o.engine.openLog({
      name: o.name ?? 'rekor-v2',
      origin,
      signer: () => noteCheckpointSigner({ origin, keyName: origin, signer: o.signer }),
      maxBatch: o.maxBatch,
    });
    const der = publicKeyDer(o.signer.publicKey);
    return new RekorV2Log(log, {
      apiVersion: 2,
      baseUrl: o.baseUrl,
      logId: noteKeyHash(origin, o.signer.publicKey),
      publicKey: o.signer.publicKey,
      publicKeyDer: der,
      keyDetails: kinfo.algorithm === 'ed25519' ? 'PKIX_ED25519' : 'PKIX_ECDSA_P256_SHA_256',
      origin,
      keyName: origin,
      maxEntryBytes: MAX_ENTRY_BUNDLE_ENTRY_BYTES,
    });
  }

  /**
   * The TransparencyLogEntry (protobuf JSON, as rekor-tiles emits it) for an entry, as JSON
   * text: `JSON.stringify` of {logIndex, logId, kindVersion, integratedTime, inclusionPromise,
   * inclusionProof, canonicalizedBody} in that order, written directly (every 201 carries
   * one). Numbers are decimal strings and bytes base64, which need no escaping; the parts
   * shared by a batch's entries (checkpoint, root) are encoded once per checkpoint.
   */
  async transparencyLogEntryJson(
    e: { index: number; body: Buffer },
    checkpoint: { size: number; rootHash: Buffer; signed: string },
    kind = 'hashedrekord',
    version = '0.0.2',
  ): Promise<string> {
    const hashes = await this.log.inclusionProof(e.index, checkpoint.size);
    let cp = this.checkpointJson.get(checkpoint);
    if (!cp) {
      cp = {
        head: `"rootHash":"${base64Encode(checkpoint.rootHash)}","treeSize":"${checkpoint.size}"`,
        envelope: JSON.stringify(checkpoint.signed),
      };
      this.checkpointJson.set(checkpoint, cp);
    }
    const index = String(e.index);
    let proof = '';
    for (const h of hashes) proof += proof ? `,"${base64Encode(h)}"` : `"${base64Encode(h)}"`;
    return (
      `{"logIndex":"${index}","logId":{"keyId":"${this.logIdB64}"},` +
      `"kindVersion":{"kind":${JSON.stringify(kind)},"version":${JSON.stringify(version)}},"integratedTime":"0","inclusionPromise":null,` +
      `"inclusionProof":{"logIndex":"${index}",${cp.head},"hashes":[${proof}],"checkpoint":{"envelope":${cp.envelope}}},` +
      `"canonicalizedBody":"${base64Encode(e.body)}"}`
    );
  }
}

/**
 * A bundle's TransparencyLogEntry (protobuf JSON) from a Rekor v1 LogEntry map, as
 * clients build it (protocols §5.7). `kind`/`version` come from the body.
 */
export function transparencyLogEntryFromV1(entryMap: Record<string, unknown>): Record<string, unknown> {
  const [value] = Object.values(entryMap) as Array<{
    body: string;
    integratedTime: number;
    logID: string;
    logIndex: number;
    verification: {
      signedEntryTimestamp: string;
      inclusionProof: { checkpoint: string; hashes: string[]; logIndex: number; rootHash: string; treeSize: number };
    };
  }>;
  if (!value) throw new FormatError('entry', 'empty LogEntry map');
  const body = JSON.parse(Buffer.from(value.body, 'base64').toString('utf8')) as { kind: string; apiVersion: string };
  const p = value.verification.inclusionProof;
  return {
    logIndex: String(value.logIndex),
    logId: { keyId: Buffer.from(value.logID, 'hex').toString('base64') },
    kindVersion: { kind: body.kind, version: body.apiVersion },
    integratedTime: String(value.integratedTime),
    inclusionPromise: { signedEntryTimestamp: value.verification.signedEntryTimestamp },
    inclusionProof: {
      logIndex: String(p.logIndex),
      rootHash: Buffer.from(p.rootHash, 'hex').toString('base64'),
      treeSize: String(p.treeSize),
      hashes: p.hashes.map((h) => Buffer.from(h, 'hex').toString('base64')),
      checkpoint: { envelope: p.checkpoint },
    },
    canonicalizedBody: value.body,
  };
}
