import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { base64Decode, pemDecodeAll } from '../../core/encoding.js';
import { KeylessError } from '../../core/errors.js';
import { describeKey, parsePublicKey, verifySignature, type PublicKeyInfo } from '../../core/keys.js';
import { parseDer, verifyWithAlgorithm, type DerNode } from '../../x509/index.js';
import { HttpError, type HttpStatusCode } from '../http/index.js';

/** A CreateSigningCertificateRequest, validated: the token and one way of proving the key. */
export interface SigningCertRequest {
  token: string;
  key: { kind: 'publicKey'; info: PublicKeyInfo; proofOfPossession: Buffer } | { kind: 'csr'; info: PublicKeyInfo };
  /** The SPKI DER when it is already canonical (uncompressed named-curve EC), so the certificate needs no re-export. */
  spkiDer: Buffer | undefined;
}

function bad(code: HttpStatusCode, message: string): HttpError {
  return new HttpError(code, message);
}

function object(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw bad('REQUEST_INVALID', `${field} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Token from `credentials.oidcIdentityToken`, else from `Authorization: Bearer` (sigstore-go, sigstore-python). */
function tokenOf(body: Record<string, unknown>, authorization: string | undefined): string {
  const credentials = object(body.credentials, 'credentials');
  const inBody = credentials?.oidcIdentityToken;
  if (inBody !== undefined && inBody !== null && inBody !== '') {
    if (typeof inBody !== 'string') throw bad('REQUEST_INVALID', 'credentials.oidcIdentityToken must be a string');
    return inBody;
  }
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new HttpError('TOKEN_MISSING', 'the Authorization header must be "Bearer <identity token>"');
    return m[1]!;
  }
  throw new HttpError('TOKEN_MISSING', 'no identity token: set credentials.oidcIdentityToken or an Authorization: Bearer header');
}

/** Fulcio's key rules on top of the shared allow-list: RSA with e = 65537 and a whole number of bytes. */
function checkKey(info: PublicKeyInfo, field: string): PublicKeyInfo {
  if (info.algorithm === 'rsa') {
    const details = info.key.asymmetricKeyDetails;
    if (details?.publicExponent !== 65537n) throw bad('KEY_UNSUPPORTED', `${field}: RSA public exponent must be 65537`);
    if ((details.modulusLength ?? 0) % 8 !== 0) throw bad('KEY_UNSUPPORTED', `${field}: RSA modulus length must be a multiple of 8`);
  }
  return info;
}

function keyError(e: unknown, field: string): never {
  if (e instanceof HttpError) throw e;
  if (e instanceof KeylessError) throw bad(e.code === 'KEY_UNSUPPORTED' ? 'KEY_UNSUPPORTED' : 'PUBLIC_KEY_INVALID', e.message);
  throw bad('PUBLIC_KEY_INVALID', `${field} is not a valid public key`);
}

function parseKeyContent(content: unknown): { info: PublicKeyInfo; spkiDer: Buffer | undefined } {
  const field = 'publicKeyRequest.publicKey.content';
  if (typeof content !== 'string' || content === '') throw bad('PUBLIC_KEY_INVALID', `${field} must be a PEM public key`);
  try {
    if (content.includes('-----BEGIN')) {
      const block = pemDecodeAll(content, field).find((b) => b.label === 'PUBLIC KEY');
      const fast = block && ecKeyFromSpki(block.der);
      if (fast) return { info: checkKey(describeKey(fast, field), field), spkiDer: block.der };
      return { info: checkKey(parsePublicKey(content, field), field), spkiDer: undefined };
    }
    // Fulcio also accepts the content as DER; clients send PEM, a few send base64 DER.
    return { info: checkKey(parsePublicKey(base64Decode(content, field), field), field), spkiDer: undefined };
  } catch (e) {
    keyError(e, field);
  }
}

/** Parses and validates the request body (before the token is verified). */
export function parseSigningCertRequest(body: unknown, authorization: string | undefined): SigningCertRequest {
  const b = object(body, 'body');
  if (!b) throw bad('REQUEST_INVALID', 'the body must be a CreateSigningCertificateRequest JSON object');
  const token = tokenOf(b, authorization);
  const pkr = object(b.publicKeyRequest, 'publicKeyRequest');
  const csr = b.certificateSigningRequest;
  const hasCsr = csr !== undefined && csr !== null && csr !== '';
  if (pkr && hasCsr) throw bad('REQUEST_INVALID', 'give either publicKeyRequest or certificateSigningRequest, not both');
  if (pkr) {
    const pk = object(pkr.publicKey, 'publicKeyRequest.publicKey');
    if (!pk) throw bad('PUBLIC_KEY_INVALID', 'publicKeyRequest.publicKey is missing');
    if (pk.algorithm !== undefined && typeof pk.algorithm !== 'string')
      throw bad('REQUEST_INVALID', 'publicKeyRequest.publicKey.algorithm must be a string');
    const { info, spkiDer } = parseKeyContent(pk.content);
    const pop = pkr.proofOfPossession;
    if (pop === undefined || pop === null || pop === '') throw bad('POP_MISSING', 'publicKeyRequest.proofOfPossession is missing');
    let proofOfPossession: Buffer;
    try {
      proofOfPossession = base64Decode(pop, 'publicKeyRequest.proofOfPossession');
    } catch (e) {
      throw bad('POP_INVALID', (e as Error).message);
    }
    return { token, key: { kind: 'publicKey', info, proofOfPossession }, spkiDer };
  }
  if (hasCsr) return { token, key: { kind: 'csr', info: parseCsr(csr) }, spkiDer: undefined };
  throw bad('REQUEST_INVALID', 'the request needs publicKeyRequest or certificateSigningRequest');
}

/**
 * SPKI prefixes of uncompressed P-256 / P-384 points: the common case, whose bytes the
 * certificate can carry as sent. P-256 imports faster from JWK (~64 vs ~102 µs here),
 * P-384 much faster from DER (~100 vs ~330 µs).
 */
const EC_SPKI_PREFIXES: Array<{ prefix: Buffer; crv: string; size: number; viaJwk: boolean }> = [
  { prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), crv: 'P-256', size: 32, viaJwk: true },
  { prefix: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'), crv: 'P-384', size: 48, viaJwk: false },
];

function ecKeyFromSpki(der: Buffer): KeyObject | undefined {
  for (const { prefix, crv, size, viaJwk } of EC_SPKI_PREFIXES) {
    if (der.length !== prefix.length + 1 + 2 * size || !der.subarray(0, prefix.length).equals(prefix) || der[prefix.length] !== 4) continue;
    try {
      if (!viaJwk) return createPublicKey({ key: der, format: 'der', type: 'spki' });
      const x = der.subarray(prefix.length + 1, prefix.length + 1 + size).toString('base64url');
      const y = der.subarray(prefix.length + 1 + size).toString('base64url');
      return createPublicKey({ key: { kty: 'EC', crv, x, y }, format: 'jwk' });
    } catch {
      return undefined; // not on the curve: the generic path reports it
    }
  }
  return undefined;
}

/**
 * The proof-of-possession signature check (same rules as core verifySignature), in the
 * calling thread: handing a ~65 µs P-256 verification to the libuv thread pool cost
 * ~60 µs more CPU in all than doing it inline (measured, CA in-process, 2 cores).
 */
function verifyPop(info: PublicKeyInfo, message: Buffer, signature: Buffer): boolean {
  const hash = info.algorithm === 'ed25519' ? null : (info.defaultHash ?? 'sha256');
  try {
    return nodeVerify(hash, message, info.key, signature);
  } catch {
    return verifySignature(info, message, signature);
  }
}

/**
 * The legacy v1 body (`publicKey.content` bytes: base64 of PEM or DER; `signedEmailAddress`
 * bytes), token in `Authorization: Bearer`, mapped onto the v2 request.
 */
export function parseLegacySigningCertRequest(body: unknown, authorization: string | undefined): SigningCertRequest {
  const b = object(body, 'body');
  if (!b) throw bad('REQUEST_INVALID', 'the body must be a JSON object with publicKey and signedEmailAddress');
  const pk = object(b.publicKey, 'publicKey');
  if (!pk) throw bad('PUBLIC_KEY_INVALID', 'publicKey is missing');
  let content: unknown = pk.content;
  if (typeof content === 'string') {
    let bytes: Buffer;
    try {
      bytes = base64Decode(content, 'publicKey.content');
    } catch (e) {
      throw bad('PUBLIC_KEY_INVALID', (e as Error).message);
    }
    const text = bytes.toString('latin1');
    if (text.includes('-----BEGIN')) content = text;
  }
  return parseSigningCertRequest({ publicKeyRequest: { publicKey: { content }, proofOfPossession: b.signedEmailAddress } }, authorization);
}

/** The proof of possession: a signature over the challenge claim value with the key's default scheme (§3.2). */
export async function checkProofOfPossession(
  req: SigningCertRequest,
  challengeClaimValue: string,
  challengeClaimName: string,
  claims: Record<string, unknown> = {},
): Promise<void> {
  if (req.key.kind !== 'publicKey') return; // a CSR's own signature is its proof
  const { info, proofOfPossession } = req.key;
  if (verifyPop(info, Buffer.from(challengeClaimValue, 'utf8'), proofOfPossession)) return;
  // Failure path only: say which claim the client signed instead, the usual mistake.
  let hint = '';
  for (const name of ['email', 'sub']) {
    const v = claims[name];
    if (
      name !== challengeClaimName &&
      typeof v === 'string' &&
      v !== challengeClaimValue &&
      verifyPop(info, Buffer.from(v, 'utf8'), proofOfPossession)
    ) {
      hint = `; it signs the "${name}" claim instead`;
      break;
    }
  }
  throw bad(
    'POP_INVALID',
    `proofOfPossession is not a signature by the submitted key over the challenge claim "${challengeClaimName}" (${JSON.stringify(challengeClaimValue)})${hint}`,
  );
}

function decodeOid(content: Buffer): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

const CSR_FIELD = 'certificateSigningRequest';

/**
 * A PKCS#10 CSR (base64 of PEM, as a proto bytes field; bare base64 DER accepted too):
 * only its public key is used, and its signature must verify with it (Fulcio's rule).
 */
export function parseCsr(value: unknown): PublicKeyInfo {
  let der: Buffer;
  let info: PublicKeyInfo;
  let signed: Buffer;
  let algorithm: string;
  let signature: Buffer;
  try {
    const bytes = base64Decode(value, CSR_FIELD);
    const text = bytes.toString('latin1');
    if (text.includes('-----BEGIN')) {
      const m = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (NEW )?CERTIFICATE REQUEST-----/.exec(text);
      if (!m) throw bad('CSR_INVALID', `${CSR_FIELD}: no PEM CERTIFICATE REQUEST block`);
      der = base64Decode(m[2]!.replace(/\s+/g, ''), CSR_FIELD);
    } else {
      der = bytes;
    }
    const outer = parseDer(der, CSR_FIELD).expect(0x30, CSR_FIELD).children(CSR_FIELD);
    if (outer.length !== 3) throw bad('CSR_INVALID', `${CSR_FIELD}: a CertificationRequest has 3 elements, got ${outer.length}`);
    const [cri, algId, sig] = outer as [DerNode, DerNode, DerNode];
    const criKids = cri.expect(0x30, CSR_FIELD).children(CSR_FIELD);
    if (criKids.length < 3) throw bad('CSR_INVALID', `${CSR_FIELD}: certificationRequestInfo is incomplete`);
    const spki = criKids[2]!.expect(0x30, CSR_FIELD);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: spki.bytes, format: 'der', type: 'spki' });
    } catch {
      throw bad('CSR_INVALID', `${CSR_FIELD}: subjectPKInfo is not a valid public key`);
    }
    info = checkKey(describeKey(key, `${CSR_FIELD} public key`), `${CSR_FIELD} public key`);
    const oidNode = algId.expect(0x30, CSR_FIELD).children(CSR_FIELD)[0];
    if (!oidNode || oidNode.tag !== 0x06) throw bad('CSR_INVALID', `${CSR_FIELD}: signatureAlgorithm has no OID`);
    algorithm = decodeOid(oidNode.content);
    sig.expect(0x03, CSR_FIELD);
    if (sig.content.length < 1 || sig.content[0] !== 0) throw bad('CSR_INVALID', `${CSR_FIELD}: malformed signature BIT STRING`);
    signature = sig.content.subarray(1);
    signed = cri.bytes;
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (e instanceof KeylessError && e.code === 'KEY_UNSUPPORTED') throw bad('KEY_UNSUPPORTED', e.message);
    throw bad('CSR_INVALID', e instanceof KeylessError ? e.message : `${CSR_FIELD} is not a valid PKCS#10 request`);
  }
  let ok: boolean;
  try {
    ok = verifyWithAlgorithm(algorithm, info.key, signed, signature);
  } catch (e) {
    throw bad(
      'SIGNATURE_ALGORITHM_UNSUPPORTED',
      `${CSR_FIELD}: signature algorithm ${algorithm} is not accepted (ECDSA or RSA PKCS#1 v1.5 with SHA-256/384/512, Ed25519)`,
    );
  }
  if (!ok) throw bad('CSR_SIGNATURE_INVALID', `${CSR_FIELD}: the request's signature does not verify with the public key it contains`);
  return info;
}
