// Shared builders for the x509 tests: a CA, a CT log, a TSA and the matching trusted root.
import { createHash, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  createCaChain,
  createTsaChain,
  embedScts,
  generateKey,
  issuePrecertificate,
  type CaChain,
  type LeafProfile,
  type TsaChain,
} from '../../src/x509/build/index.js';
import { precertEntryFromCertificate, signSct, type Certificate } from '../../src/x509/index.js';
import { CONFORMANCE_DIR } from '../support/conformance.js';

export const CONFORMANCE = CONFORMANCE_DIR;

export interface Stack {
  ca: CaChain;
  ctKey: { privateKey: KeyObject; publicKey: KeyObject };
  logId: Buffer;
  tsa: TsaChain;
}

export function makeStack(now = new Date()): Stack {
  const ctKey = generateKey('ecdsa-p256');
  const logId = createHash('sha256')
    .update(ctKey.publicKey.export({ format: 'der', type: 'spki' }))
    .digest();
  return {
    ca: createCaChain({ now: new Date(now.getTime() - 3600_000) }),
    ctKey,
    logId,
    tsa: createTsaChain({ now: new Date(now.getTime() - 3600_000) }),
  };
}

const b64 = (c: Certificate) => ({ rawBytes: c.der.toString('base64') });

/** A protobuf-JSON TrustedRoot for a stack. */
export function trustedRootFor(stack: Stack, validFrom = '2000-01-01T00:00:00Z', validTo?: string): Record<string, unknown> {
  const validFor = validTo ? { start: validFrom, end: validTo } : { start: validFrom };
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [
      {
        subject: { organization: 'keyless', commonName: 'keyless' },
        uri: 'http://ca',
        certChain: { certificates: [b64(stack.ca.intermediate.certificate), b64(stack.ca.root.certificate)] },
        validFor,
      },
    ],
    ctlogs: [
      {
        baseUrl: 'http://ct',
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: stack.ctKey.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor,
        },
        logId: { keyId: stack.logId.toString('base64') },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'keyless', commonName: 'keyless-tsa' },
        uri: 'http://tsa',
        certChain: { certificates: stack.tsa.chain.map(b64) },
        validFor,
      },
    ],
  };
}

/** Issues a leaf the way the CA does: precertificate, SCT from the stack's CT log, final certificate. */
export function issueLeaf(
  stack: Stack,
  profile: Partial<LeafProfile> = {},
  sctTime = new Date(),
): { leaf: Certificate; precert: Certificate; key: KeyObject } {
  const key = generateKey('ecdsa-p256');
  const full: LeafProfile = {
    publicKey: key.publicKey,
    san: { type: 'email', value: 'alice@example.com' },
    sigstoreExtensions: { '1.3.6.1.4.1.57264.1.1': 'https://issuer.example', '1.3.6.1.4.1.57264.1.8': 'https://issuer.example' },
    ...profile,
  };
  const precert = issuePrecertificate(full, stack.ca.intermediate);
  const sct = signSct(
    stack.ctKey.privateKey,
    stack.logId,
    BigInt(sctTime.getTime()),
    precertEntryFromCertificate(precert, stack.ca.intermediate.certificate),
  );
  return { leaf: embedScts(precert, [sct], stack.ca.intermediate.key), precert, key: key.privateKey };
}

export interface ConformanceCase {
  name: string;
  bundle: any;
  trustedRoot: any;
}

/** The conformance cases whose bundle parses as JSON, with their trusted root. */
export function conformanceCases(): ConformanceCase[] {
  const prod = JSON.parse(readFileSync(join(CONFORMANCE, 'trusted_root.production.json'), 'utf8'));
  const out: ConformanceCase[] = [];
  for (const name of readdirSync(CONFORMANCE).sort()) {
    const p = join(CONFORMANCE, name, 'bundle.sigstore.json');
    if (!existsSync(p)) continue;
    let bundle: any;
    try {
      bundle = JSON.parse(readFileSync(p, 'utf8'));
    } catch {
      continue;
    }
    const tr = join(CONFORMANCE, name, 'trusted_root.json');
    out.push({ name, bundle, trustedRoot: existsSync(tr) ? JSON.parse(readFileSync(tr, 'utf8')) : prod });
  }
  return out;
}

export function leafOf(bundle: any): Buffer | undefined {
  const vm = bundle.verificationMaterial ?? {};
  const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates?.[0]?.rawBytes;
  return raw ? Buffer.from(raw, 'base64') : undefined;
}

export function signatureOf(bundle: any): Buffer {
  return Buffer.from(bundle.messageSignature?.signature ?? bundle.dsseEnvelope?.signatures?.[0]?.sig, 'base64');
}
