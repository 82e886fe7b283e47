// Managed-key DSSE bundles built from scratch: a one-leaf log with its own key, the
// envelope logged as a Rekor v1 hashedrekord over SHA-256(PAE), proof only (no SET).
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { sha256 } from '../../src/core/hash.js';
import { buildHashedRekordV001, canonicalRekorV1Body, preAuthEncoding } from '../../src/formats/index.js';
import { leafHash, signCheckpoint } from '../../src/merkle/index.js';

export const spki = (k: KeyObject) => k.export({ format: 'der', type: 'spki' });
export const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'spki' }) as string;

/** The synthetic log's key pair and ID (SHA-256 of its SPKI), trusted by synthTrustedRoot. */
export const synthLog = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const synthLogId = sha256(spki(synthLog.publicKey));
const log = synthLog;
const logId = synthLogId;

export const synthTrustedRoot = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [
    {
      baseUrl: 'https://rekor.test',
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: spki(log.publicKey).toString('base64'),
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        validFor: { start: '2020-01-01T00:00:00Z' },
      },
      logId: { keyId: logId.toString('base64') },
    },
  ],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

export interface DsseOptions {
  signer: { privateKey: KeyObject; publicKey: KeyObject };
  payload: Buffer;
  payloadType?: string;
  /** Hash the signer uses over the PAE (null for Ed25519). */
  hash?: string | null;
  /** Checkpoint origin and signer name (default rekor.test for both); another key signs when given. */
  checkpoint?: { origin: string; name: string; key?: { privateKey: KeyObject; publicKey: KeyObject } };
}

export function dsseBundle(o: DsseOptions) {
  const payloadType = o.payloadType ?? 'application/vnd.in-toto+json';
  const pae = preAuthEncoding(payloadType, o.payload);
  const sig = nodeSign(o.hash === undefined ? 'sha256' : o.hash, pae, o.signer.privateKey);
  const body = canonicalRekorV1Body(
    buildHashedRekordV001({
      hash: { algorithm: 'sha256', value: sha256(pae).toString('hex') },
      signature: sig,
      publicKeyPem: pem(o.signer.publicKey),
    }),
  );
  const root = leafHash(body);
  const cp = o.checkpoint ?? { origin: 'rekor.test', name: 'rekor.test' };
  const cpKey = cp.key ?? log;
  const checkpoint = signCheckpoint({ origin: cp.origin, size: 1, rootHash: root }, cp.name, cpKey.privateKey);
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      publicKey: { hint: sha256(spki(o.signer.publicKey)).toString('base64') },
      tlogEntries: [
        {
          logIndex: '0',
          logId: { keyId: logId.toString('base64') },
          kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
          integratedTime: '0',
          inclusionProof: {
            logIndex: '0',
            rootHash: root.toString('base64'),
            treeSize: '1',
            hashes: [],
            checkpoint: { envelope: checkpoint },
          },
          canonicalizedBody: body.toString('base64'),
        },
      ],
    },
    dsseEnvelope: { payload: o.payload.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64') }] },
  };
}

export function statement(subject: Record<string, string>, type = 'https://in-toto.io/Statement/v1'): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: type,
      subject: [{ name: 'a.txt', digest: subject }],
      predicateType: 'https://example.com/test',
      predicate: {},
    }),
  );
}
