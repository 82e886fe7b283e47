// Consistency between a log entry's canonical body and the bundle: the log must have
// recorded this signature, this artifact digest (or payload hash) and this certificate
// or key. Rekor v1 hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2; Rekor v2 hashedrekord
// 0.0.2 (message, or DSSE logged as a hashedrekord over the PAE) and dsse 0.0.2.
// The bodies are parsed (strictly) by src/formats; this file only compares.
import { base64Decode, pemDecodeAll } from '../core/encoding.js';
import { FormatError } from '../core/errors.js';
import { digest, type HashAlgorithm } from '../core/hash.js';
import { nodeHashName, parseRekorEntryBody, type RekorEntry, type TransparencyLogEntry, type Verifier } from '../formats/index.js';
import { VerifyCode, failWith, type CheckLog } from './checks.js';

/** What the bundle says was signed, as the body checks need it. */
export interface SignedContent {
  signature: Buffer;
  /** Message signatures: the bundle's digest and its algorithm. */
  messageDigest?: { algorithm: HashAlgorithm; digest: Buffer };
  /** DSSE: payload type, payload and their PAE. */
  dsse?: { payloadType: string; payload: Buffer; pae: Buffer };
  /** The leaf certificate DER (and its SPKI), or the managed key's SPKI DER. */
  certificateDer?: Buffer;
  certificateSpkiDer?: Buffer;
  publicKeyDer?: Buffer;
}

/** A mismatch reported as the body check's failure, with both values. */
class Mismatch extends Error {
  constructor(
    message: string,
    readonly expected: unknown,
    readonly actual: unknown,
  ) {
    super(message);
  }
}

function same(label: string, expected: Buffer | string | undefined, actual: Buffer | string | undefined): void {
  const eq =
    expected !== undefined &&
    actual !== undefined &&
    (typeof expected === 'string' ? expected === actual : Buffer.isBuffer(actual) && expected.equals(actual));
  if (!eq) throw new Mismatch(`${label} in the log entry differs from the bundle`, expected ?? null, actual ?? null);
}

function one<T>(list: T[]): T {
  if (list.length !== 1) throw new Mismatch('number of signatures in the log entry', 1, list.length);
  return list[0]!;
}

/** Rekor v1 records the verifier as PEM (certificate or public key). */
function sameVerifierPem(pem: Buffer, content: SignedContent): void {
  const block = pemDecodeAll(pem.toString('utf8'), 'verifier')[0];
  if (!block) throw new FormatError('verifier', 'holds no PEM block');
  if (block.label === 'CERTIFICATE') same('certificate', content.certificateDer, block.der);
  // A log entry may record the certificate's key rather than the certificate: same key, same binding.
  else if (block.label === 'PUBLIC KEY') same('public key', content.publicKeyDer ?? content.certificateSpkiDer, block.der);
  else throw new Mismatch('verifier type', 'CERTIFICATE or PUBLIC KEY', block.label);
}

/** Rekor v2 records the DER certificate or SPKI. */
function sameVerifierV2(v: Verifier, content: SignedContent): void {
  const inner = v.verifier;
  if (inner?.$case === 'x509Certificate') same('certificate', content.certificateDer, inner.x509Certificate.rawBytes);
  else if (inner?.$case === 'publicKey') same('public key', content.publicKeyDer ?? content.certificateSpkiDer, inner.publicKey.rawBytes);
  else throw new Mismatch('verifier', 'a certificate or public key', null);
}

function hashName(algorithm: number): HashAlgorithm {
  const h = nodeHashName(algorithm as never);
  if (!h) throw new Mismatch('hash algorithm', 'SHA2_256, SHA2_384 or SHA2_512', algorithm);
  return h;
}

function needDsse(content: SignedContent, kind: string): NonNullable<SignedContent['dsse']> {
  if (!content.dsse) throw new Mismatch(`a ${kind} entry needs a DSSE bundle`, 'dsseEnvelope', 'messageSignature');
  return content.dsse;
}

function compare(e: RekorEntry, content: SignedContent): void {
  if (e.kind === 'hashedrekord' && e.apiVersion === '0.0.1') {
    same('signature', content.signature, e.signature);
    sameVerifierPem(e.publicKey, content);
    if (content.messageDigest) {
      same('digest algorithm', content.messageDigest.algorithm, e.hash.algorithm);
      same('artifact digest', content.messageDigest.digest.toString('hex'), e.hash.value);
    } else {
      // A DSSE envelope logged as a hashedrekord over its PAE (allowed by the client spec).
      same('PAE digest', digest(e.hash.algorithm, needDsse(content, 'hashedrekord').pae).toString('hex'), e.hash.value);
    }
  } else if (e.kind === 'hashedrekord' && e.apiVersion === '0.0.2') {
    same('signature', content.signature, e.signature.content);
    sameVerifierV2(e.signature.verifier, content);
    const alg = hashName(e.data.algorithm);
    if (content.messageDigest) {
      same('digest algorithm', content.messageDigest.algorithm, alg);
      same('artifact digest', content.messageDigest.digest, e.data.digest);
    } else {
      // DSSE logged as a hashedrekord over the PAE (rekor-v2-spec §6.1.4).
      same('PAE digest', digest(alg, needDsse(content, 'hashedrekord').pae), e.data.digest);
    }
  } else if (e.kind === 'dsse' && e.apiVersion === '0.0.1') {
    const dsse = needDsse(content, 'dsse 0.0.1');
    const s = one(e.signatures);
    same('signature', content.signature, base64Decode(s.signature, 'signature'));
    sameVerifierPem(s.verifier, content);
    same('payload hash algorithm', 'sha256', e.payloadHash.algorithm);
    same('payload hash', digest('sha256', dsse.payload).toString('hex'), e.payloadHash.value);
  } else if (e.kind === 'dsse' && e.apiVersion === '0.0.2') {
    const dsse = needDsse(content, 'dsse 0.0.2');
    const s = one(e.signatures);
    same('signature', content.signature, s.content);
    sameVerifierV2(s.verifier, content);
    same('payload hash', digest(hashName(e.payloadHash.algorithm), dsse.payload), e.payloadHash.digest);
  } else if (e.kind === 'intoto' && e.apiVersion === '0.0.2') {
    const dsse = needDsse(content, 'intoto 0.0.2');
    const s = one(e.signatures);
    same('signature', content.signature, s.sig);
    sameVerifierPem(s.publicKey, content);
    same('payload hash algorithm', 'sha256', e.payloadHash.algorithm);
    same('payload hash', digest('sha256', dsse.payload).toString('hex'), e.payloadHash.value);
  } else {
    throw new Mismatch('entry kind', 'a supported kind', `${(e as RekorEntry).kind}/${(e as RekorEntry).apiVersion}`);
  }
}

/** Checks the entry body against the bundle; returns `kind/apiVersion`. */
export function checkEntryBody(log: CheckLog, entry: TransparencyLogEntry, content: SignedContent, name: string): string {
  const check = `${name}.body`;
  const kv = `${entry.kindVersion!.kind}/${entry.kindVersion!.version}`;
  try {
    const body = parseRekorEntryBody(entry.canonicalizedBody);
    const bodyKv = `${body.kind}/${body.apiVersion}`;
    if (bodyKv !== kv) throw new Mismatch('kind and version', kv, bodyKv);
    compare(body, content);
  } catch (e) {
    if (e instanceof Mismatch) log.fail(VerifyCode.TLOG_BODY_MISMATCH, check, e.message, e.expected, e.actual);
    failWith(log, VerifyCode.TLOG_BODY_MISMATCH, check, e);
  }
  log.pass(check, 'signature, digest and verifier of the bundle', kv);
  return kv;
}
