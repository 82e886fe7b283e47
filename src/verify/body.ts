// Consistency between a log entry's canonical body and the bundle: the log must have
// recorded this signature, this artifact digest (or payload hash) and this certificate
// or key. Rekor v1 hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2; Rekor v2 hashedrekord
// 0.0.2 (message, or DSSE logged as a hashedrekord over the PAE) and dsse 0.0.2.
import { base64Decode, pemDecodeAll } from '../core/encoding.js';
import { FormatError } from '../core/errors.js';
import { digest, type HashAlgorithm } from '../core/hash.js';
import { parseJson } from '../core/json.js';
import type { TransparencyLogEntry } from '../formats/index.js';
import { VerifyCode, failWith, type CheckLog } from './checks.js';

/** What the bundle says was signed, as the body checks need it. */
export interface SignedContent {
  signature: Buffer;
  /** Message signatures: the bundle's digest and its algorithm. */
  messageDigest?: { algorithm: HashAlgorithm; digest: Buffer };
  /** DSSE: payload type and payload. */
  dsse?: { payloadType: string; payload: Buffer; pae: Buffer };
  /** The leaf certificate DER, or the managed key's SPKI DER. */
  certificateDer?: Buffer;
  publicKeyDer?: Buffer;
}

const HASH_NAMES: Readonly<Record<string, HashAlgorithm>> = { sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
const PROTO_HASH_NAMES: Readonly<Record<string, HashAlgorithm>> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };

type Json = Record<string, unknown>;

function obj(v: unknown, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FormatError(field, 'expected an object');
  return v as Json;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new FormatError(field, 'expected a string');
  return v;
}

function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new FormatError(field, 'expected an array');
  return v;
}

/** DER bytes from base64 of a PEM certificate or public key (Rekor v1 bodies). */
function pemFromBase64(v: unknown, field: string): { label: string; der: Buffer } {
  const text = base64Decode(str(v, field), field).toString('utf8');
  const block = pemDecodeAll(text, field)[0];
  if (!block) throw new FormatError(field, 'holds no PEM block');
  return block;
}

/** A mismatch reported as the body check's failure, with both values. */
class Mismatch extends Error {
  constructor(message: string, readonly expected: unknown, readonly actual: unknown) {
    super(message);
  }
}

function same(label: string, expected: Buffer | string | undefined, actual: Buffer | string | undefined): void {
  const eq = expected !== undefined && actual !== undefined &&
    (typeof expected === 'string' ? expected === actual : Buffer.isBuffer(actual) && expected.equals(actual));
  if (!eq) throw new Mismatch(`${label} in the log entry differs from the bundle`, expected ?? null, actual ?? null);
}

/** Compares the verifier recorded by the log with the bundle's certificate or key. */
function sameVerifierPem(block: { label: string; der: Buffer }, content: SignedContent): void {
  if (block.label === 'CERTIFICATE') same('certificate', content.certificateDer, block.der);
  else if (block.label === 'PUBLIC KEY') same('public key', content.publicKeyDer, block.der);
  else throw new Mismatch(`verifier of type ${block.label}`, 'CERTIFICATE or PUBLIC KEY', block.label);
}

function sameVerifierV2(v: unknown, field: string, content: SignedContent): void {
  const verifier = obj(v, field);
  if (verifier.x509Certificate !== undefined) {
    same('certificate', content.certificateDer, base64Decode(obj(verifier.x509Certificate, `${field}.x509Certificate`).rawBytes, `${field}.x509Certificate.rawBytes`));
  } else if (verifier.publicKey !== undefined) {
    same('public key', content.publicKeyDer, base64Decode(obj(verifier.publicKey, `${field}.publicKey`).rawBytes, `${field}.publicKey.rawBytes`));
  } else {
    throw new FormatError(field, 'has neither x509Certificate nor publicKey');
  }
}

function checkHashedRekordV1(spec: Json, content: SignedContent): void {
  if (!content.messageDigest) throw new Mismatch('a hashedrekord 0.0.1 entry needs a message signature bundle', 'messageSignature', 'dsseEnvelope');
  const sig = obj(spec.signature, 'spec.signature');
  same('signature', content.signature, base64Decode(sig.content, 'spec.signature.content'));
  sameVerifierPem(pemFromBase64(obj(sig.publicKey, 'spec.signature.publicKey').content, 'spec.signature.publicKey.content'), content);
  const hash = obj(obj(spec.data, 'spec.data').hash, 'spec.data.hash');
  const alg = HASH_NAMES[str(hash.algorithm, 'spec.data.hash.algorithm')];
  same('digest algorithm', content.messageDigest.algorithm, alg);
  same('artifact digest', content.messageDigest.digest.toString('hex'), str(hash.value, 'spec.data.hash.value').toLowerCase());
}

function checkHashedRekordV2(spec: Json, content: SignedContent): void {
  const body = obj(spec.hashedRekordV002 ?? spec.hashedRekordV0_0_2, 'spec.hashedRekordV002');
  const sig = obj(body.signature, 'spec.hashedRekordV002.signature');
  same('signature', content.signature, base64Decode(sig.content, 'spec.hashedRekordV002.signature.content'));
  sameVerifierV2(sig.verifier, 'spec.hashedRekordV002.signature.verifier', content);
  const data = obj(body.data, 'spec.hashedRekordV002.data');
  const alg = PROTO_HASH_NAMES[str(data.algorithm, 'spec.hashedRekordV002.data.algorithm')];
  if (!alg) throw new FormatError('spec.hashedRekordV002.data.algorithm', 'is not a supported hash');
  const logged = base64Decode(data.digest, 'spec.hashedRekordV002.data.digest');
  if (content.messageDigest) {
    same('digest algorithm', content.messageDigest.algorithm, alg);
    same('artifact digest', content.messageDigest.digest, logged);
  } else {
    // DSSE logged as a hashedrekord over the PAE (rekor-v2-spec §6.1.4).
    same('PAE digest', digest(alg, content.dsse!.pae), logged);
  }
}

function checkDsseV1(spec: Json, content: SignedContent): void {
  if (!content.dsse) throw new Mismatch('a dsse entry needs a DSSE bundle', 'dsseEnvelope', 'messageSignature');
  const sigs = arr(spec.signatures, 'spec.signatures');
  if (sigs.length !== 1) throw new Mismatch('number of signatures', 1, sigs.length);
  const s = obj(sigs[0], 'spec.signatures[0]');
  same('signature', content.signature, base64Decode(s.signature, 'spec.signatures[0].signature'));
  sameVerifierPem(pemFromBase64(s.verifier, 'spec.signatures[0].verifier'), content);
  const ph = obj(spec.payloadHash, 'spec.payloadHash');
  same('payload hash algorithm', 'sha256', str(ph.algorithm, 'spec.payloadHash.algorithm'));
  same('payload hash', digest('sha256', content.dsse.payload).toString('hex'), str(ph.value, 'spec.payloadHash.value').toLowerCase());
}

function checkDsseV2(spec: Json, content: SignedContent): void {
  if (!content.dsse) throw new Mismatch('a dsse entry needs a DSSE bundle', 'dsseEnvelope', 'messageSignature');
  const body = obj(spec.dsseV002 ?? spec.dsseV0_0_2, 'spec.dsseV002');
  const sigs = arr(body.signatures, 'spec.dsseV002.signatures');
  if (sigs.length !== 1) throw new Mismatch('number of signatures', 1, sigs.length);
  const s = obj(sigs[0], 'spec.dsseV002.signatures[0]');
  same('signature', content.signature, base64Decode(s.content, 'spec.dsseV002.signatures[0].content'));
  sameVerifierV2(s.verifier, 'spec.dsseV002.signatures[0].verifier', content);
  const ph = obj(body.payloadHash, 'spec.dsseV002.payloadHash');
  same('payload hash algorithm', 'SHA2_256', str(ph.algorithm, 'spec.dsseV002.payloadHash.algorithm'));
  same('payload hash', digest('sha256', content.dsse.payload), base64Decode(ph.digest, 'spec.dsseV002.payloadHash.digest'));
}

function checkIntotoV2(spec: Json, content: SignedContent): void {
  if (!content.dsse) throw new Mismatch('an intoto entry needs a DSSE bundle', 'dsseEnvelope', 'messageSignature');
  const c = obj(spec.content, 'spec.content');
  const env = obj(c.envelope, 'spec.content.envelope');
  const sigs = arr(env.signatures, 'spec.content.envelope.signatures');
  if (sigs.length !== 1) throw new Mismatch('number of signatures', 1, sigs.length);
  const s = obj(sigs[0], 'spec.content.envelope.signatures[0]');
  // The schema treats DSSE's base64 strings as bytes, so they are base64-encoded twice.
  const once = base64Decode(s.sig, 'spec.content.envelope.signatures[0].sig').toString('utf8');
  same('signature', content.signature, base64Decode(once, 'spec.content.envelope.signatures[0].sig'));
  sameVerifierPem(pemFromBase64(s.publicKey, 'spec.content.envelope.signatures[0].publicKey'), content);
  const ph = obj(c.payloadHash, 'spec.content.payloadHash');
  same('payload hash algorithm', 'sha256', str(ph.algorithm, 'spec.content.payloadHash.algorithm'));
  same('payload hash', digest('sha256', content.dsse.payload).toString('hex'), str(ph.value, 'spec.content.payloadHash.value').toLowerCase());
}

const CHECKERS: Readonly<Record<string, (spec: Json, content: SignedContent) => void>> = {
  'hashedrekord/0.0.1': checkHashedRekordV1,
  'hashedrekord/0.0.2': checkHashedRekordV2,
  'dsse/0.0.1': checkDsseV1,
  'dsse/0.0.2': checkDsseV2,
  'intoto/0.0.2': checkIntotoV2,
};

/** Checks the entry body against the bundle; returns `kind/apiVersion`. */
export function checkEntryBody(log: CheckLog, entry: TransparencyLogEntry, content: SignedContent, name: string): string {
  const check = `${name}.body`;
  const kv = `${entry.kindVersion!.kind}/${entry.kindVersion!.version}`;
  try {
    const body = obj(parseJson(entry.canonicalizedBody, 'canonicalizedBody'), 'canonicalizedBody');
    const bodyKv = `${str(body.kind, 'kind')}/${str(body.apiVersion, 'apiVersion')}`;
    if (bodyKv !== kv) throw new Mismatch('kind and version', kv, bodyKv);
    const checker = CHECKERS[kv];
    if (!checker) throw new Mismatch('unsupported entry kind', Object.keys(CHECKERS).join(', '), kv);
    checker(obj(body.spec, 'spec'), content);
  } catch (e) {
    if (e instanceof Mismatch) log.fail(VerifyCode.TLOG_BODY_MISMATCH, check, e.message, e.expected, e.actual);
    failWith(log, VerifyCode.TLOG_BODY_MISMATCH, check, e);
  }
  log.pass(check, 'signature, digest and verifier of the bundle', kv);
  return kv;
}
