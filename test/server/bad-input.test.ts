// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The bad-input corpus: at least 60 malformed or dishonest requests across every endpoint of
// a real `keyless serve` process. Each must get a 4xx JSON {code, message} naming the failed
// check (the framework's own 404/413/415 included), never a 5xx; afterwards the process
// still serves, and a complete signing flow still works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, calculateJwkThumbprint, type JWK } from 'jose';
import { csrPem } from '../ca/helpers.js';
import { startServe, type ServeProcess } from './helpers.js';
import { errorCode } from '../support/error-body.js';

let server: ServeProcess;
let issuer: string;

before(async () => {
  server = await startServe();
  issuer = `${server.url}/oidc`;
});
after(async () => {
  await server?.stop();
});

interface BadRequest {
  name: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  contentType?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Exact status, when the protocol fixes it (404, 413, 415); otherwise any 4xx. */
  status?: number;
  /** The error code naming the failed check, where it is ours to define. */
  code?: string | RegExp;
}

const json = (v: unknown) => JSON.stringify(v);
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
const EMAIL = 'corpus@example.com';

// ---- identity tokens: the dev IdP key signs honest ones; the corpus bends one thing at a time ----

interface TokenParts {
  claims?: Record<string, unknown>;
  key?: KeyObject;
  kid?: string;
  alg?: string;
}

async function idpSigner(): Promise<{ key: KeyObject; kid: string }> {
  const key = createPrivateKey(readFileSync(join(server.dataDir, 'keys', 'idp.pem')));
  const { d: _d, ...pub } = key.export({ format: 'jwk' }) as JWK;
  return { key, kid: await calculateJwkThumbprint(pub) };
}

async function token(parts: TokenParts = {}): Promise<string> {
  const honest = await idpSigner();
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuer,
    sub: EMAIL,
    aud: 'sigstore',
    email: EMAIL,
    email_verified: true,
    iat: now,
    exp: now + 600,
    ...parts.claims,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: parts.alg ?? 'ES256', kid: parts.kid ?? honest.kid, typ: 'JWT' })
    .sign(parts.key ?? honest.key);
}

function algNoneToken(): string {
  const now = Math.floor(Date.now() / 1000);
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: issuer, sub: EMAIL, aud: 'sigstore', email: EMAIL, email_verified: true, iat: now, exp: now + 600 })}.`;
}

function keyPair() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function certRequest(tok: string, publicKey: KeyObject, proof: Buffer) {
  return json({
    credentials: { oidcIdentityToken: tok },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: publicKey.export({ format: 'pem', type: 'spki' }) },
      proofOfPossession: b64(proof),
    },
  });
}

/** A CSR whose public key was swapped for another key: its self-signature no longer matches. */
function csrForAnotherKey(): string {
  const a = keyPair();
  const b = keyPair();
  const der = Buffer.from(csrPem(a.publicKey, a.privateKey).replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const spkiA = a.publicKey.export({ format: 'der', type: 'spki' });
  const spkiB = b.publicKey.export({ format: 'der', type: 'spki' });
  const at = der.indexOf(spkiA);
  assert.ok(at > 0);
  spkiB.copy(der, at);
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

async function validCertificate(): Promise<{ leafPem: string; key: KeyObject }> {
  const k = keyPair();
  const res = await fetch(`${server.url}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: certRequest(await token(), k.publicKey, sign('sha256', Buffer.from(EMAIL), k.privateKey)),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } };
  return { leafPem: body.signedCertificateEmbeddedSct.chain.certificates[0]!, key: k.privateKey };
}

function hashedRekord(digestHex: string, sig: Buffer, publicKeyPem: string, extra: Record<string, unknown> = {}) {
  return json({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: digestHex } },
      signature: { content: b64(sig), publicKey: { content: b64(publicKeyPem) } },
    },
    ...extra,
  });
}

async function corpus(): Promise<BadRequest[]> {
  const k = keyPair();
  const popOk = sign('sha256', Buffer.from(EMAIL), k.privateKey);
  const other = keyPair();
  const now = Math.floor(Date.now() / 1000);
  const { leafPem, key: leafKey } = await validCertificate();
  const artifact = Buffer.from('corpus artifact');
  const digest = createHash('sha256').update(artifact).digest();
  const goodSig = sign('sha256', artifact, leafKey);
  const wrongSig = sign('sha256', Buffer.from('another artifact'), leafKey);
  const leafDer = Buffer.from(leafPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const rsaPem = rsa1024.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const big = Buffer.alloc(2 * 1024 * 1024, 0x61);
  const cert = (body: string): BadRequest => ({
    name: '',
    method: 'POST',
    path: '/api/v2/signingCert',
    contentType: 'application/json',
    body,
  });
  const v2 = (v: unknown): string => json(v);

  const list: BadRequest[] = [
    // --- CA: identity tokens ---
    {
      ...cert(certRequest(await token({ key: other.privateKey }), k.publicKey, popOk)),
      name: 'CA: forged token (signed by another key under the IdP kid)',
      code: 'TOKEN_SIGNATURE_INVALID',
    },
    {
      ...cert(certRequest(await token({ claims: { exp: now - 3600, iat: now - 7200 } }), k.publicKey, popOk)),
      name: 'CA: expired token',
      code: 'TOKEN_EXPIRED',
    },
    {
      ...cert(certRequest(await token({ claims: { nbf: now + 3600 } }), k.publicKey, popOk)),
      name: 'CA: token not yet valid',
      code: 'TOKEN_NOT_YET_VALID',
    },
    {
      ...cert(certRequest(await token({ claims: { aud: 'someone-else' } }), k.publicKey, popOk)),
      name: 'CA: wrong audience',
      code: 'TOKEN_AUDIENCE_MISMATCH',
    },
    {
      ...cert(certRequest(await token({ claims: { iss: 'https://evil.example' } }), k.publicKey, popOk)),
      name: 'CA: unknown issuer',
      code: 'TOKEN_ISSUER_UNKNOWN',
    },
    { ...cert(certRequest(algNoneToken(), k.publicKey, popOk)), name: 'CA: alg none', code: 'TOKEN_ALG_NONE' },
    {
      ...cert(certRequest(await token({ key: other.privateKey, kid: 'no-such-key' }), k.publicKey, popOk)),
      name: 'CA: unknown signing key',
      code: 'TOKEN_UNKNOWN_KEY',
    },
    { ...cert(certRequest('not.a.jwt', k.publicKey, popOk)), name: 'CA: garbage token', code: 'TOKEN_MALFORMED' },
    {
      ...cert(certRequest(await token({ claims: { email_verified: false } }), k.publicKey, popOk)),
      name: 'CA: email not verified',
      code: 'TOKEN_EMAIL_NOT_VERIFIED',
    },
    {
      ...cert(
        certRequest(await token({ alg: 'ES384', key: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey }), k.publicKey, popOk),
      ),
      name: 'CA: algorithm not allowed for the issuer',
      code: /TOKEN_ALG_NOT_ALLOWED|TOKEN_SIGNATURE_INVALID/,
    },
    {
      ...cert(
        json({
          publicKeyRequest: {
            publicKey: { algorithm: 'ECDSA', content: k.publicKey.export({ format: 'pem', type: 'spki' }) },
            proofOfPossession: b64(popOk),
          },
        }),
      ),
      name: 'CA: no token at all',
      code: 'TOKEN_MISSING',
    },
    // --- CA: proof of possession and keys ---
    {
      ...cert(certRequest(await token(), k.publicKey, sign('sha256', Buffer.from('someone-else@example.com'), k.privateKey))),
      name: 'CA: proof of possession over the wrong data',
      code: 'POP_INVALID',
    },
    {
      ...cert(certRequest(await token(), k.publicKey, sign('sha256', Buffer.from(EMAIL), other.privateKey))),
      name: 'CA: proof of possession by another key',
      code: 'POP_INVALID',
    },
    {
      ...cert(certRequest(await token(), k.publicKey, Buffer.from('garbage signature'))),
      name: 'CA: proof of possession is not a signature',
      code: 'POP_INVALID',
    },
    {
      ...cert(json({ credentials: { oidcIdentityToken: await token() }, certificateSigningRequest: b64(csrForAnotherKey()) })),
      name: 'CA: CSR for another key (signature does not match its key)',
      code: 'CSR_SIGNATURE_INVALID',
    },
    {
      ...cert(
        json({
          credentials: { oidcIdentityToken: await token() },
          certificateSigningRequest: b64('-----BEGIN CERTIFICATE REQUEST-----\nMIIBADCB\n-----END CERTIFICATE REQUEST-----\n'),
        }),
      ),
      name: 'CA: malformed CSR DER',
      code: 'CSR_INVALID',
    },
    {
      ...cert(json({ credentials: { oidcIdentityToken: await token() }, certificateSigningRequest: '%%%not-base64%%%' })),
      name: 'CA: CSR is not base64',
      code: 'CSR_INVALID',
    },
    {
      ...cert(
        json({
          credentials: { oidcIdentityToken: await token() },
          publicKeyRequest: {
            publicKey: { algorithm: 'ECDSA', content: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' },
            proofOfPossession: b64(popOk),
          },
        }),
      ),
      name: 'CA: malformed public key DER',
      code: 'PUBLIC_KEY_INVALID',
    },
    {
      ...cert(
        json({
          credentials: { oidcIdentityToken: await token() },
          publicKeyRequest: {
            publicKey: { algorithm: 'RSA_PSS', content: rsaPem },
            proofOfPossession: b64(sign('sha256', Buffer.from(EMAIL), rsa1024.privateKey)),
          },
        }),
      ),
      name: 'CA: RSA-1024 key refused',
      code: 'KEY_UNSUPPORTED',
    },
    {
      ...cert(
        json({
          credentials: { oidcIdentityToken: await token() },
          publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: secp256k1 }, proofOfPossession: b64(popOk) },
        }),
      ),
      name: 'CA: secp256k1 key refused',
      code: 'KEY_UNSUPPORTED',
    },
    {
      ...cert(json({ credentials: { oidcIdentityToken: await token() } })),
      name: 'CA: neither public key nor CSR',
      code: 'REQUEST_INVALID',
    },
    { ...cert('{"credentials": '), name: 'CA: truncated JSON', code: 'FORMAT_INVALID' },
    { ...cert(json([1, 2, 3])), name: 'CA: JSON array instead of an object', code: 'REQUEST_INVALID' },
    { ...cert(`${'['.repeat(5000)}${']'.repeat(5000)}`), name: 'CA: deeply nested JSON', code: 'FORMAT_INVALID' },
    { ...cert(''), name: 'CA: empty body', code: 'FORMAT_INVALID' },
    {
      name: 'CA: wrong content type',
      method: 'POST',
      path: '/api/v2/signingCert',
      contentType: 'text/plain',
      body: 'hello',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'CA: oversized body',
      method: 'POST',
      path: '/api/v2/signingCert',
      contentType: 'application/json',
      body: big,
      status: 413,
      code: 'BODY_TOO_LARGE',
    },
    { name: 'CA: GET on a POST endpoint', method: 'GET', path: '/api/v2/signingCert', status: 404, code: 'NOT_FOUND' },
    // --- issue 8 classes: bounded admission work, entry sizes, metrics, device codes ---
    {
      name: 'Rekor v1: dsse with 11 verifiers',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: json({
        apiVersion: '0.0.1',
        kind: 'dsse',
        spec: {
          proposedContent: {
            envelope: json({ payload: b64('{}'), payloadType: 't', signatures: [{ sig: b64(goodSig) }] }),
            verifiers: Array(11).fill(b64(leafPem)),
          },
        },
      }),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v1 retrieve: dsse with 11 signatures',
      method: 'POST',
      path: '/api/v1/log/entries/retrieve',
      contentType: 'application/json',
      body: json({
        entries: [
          {
            apiVersion: '0.0.1',
            kind: 'dsse',
            spec: {
              proposedContent: {
                envelope: json({ payload: b64('{}'), payloadType: 't', signatures: Array(11).fill({ sig: b64(goodSig) }) }),
                verifiers: [b64(leafPem)],
              },
            },
          },
        ],
      }),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v2: 20 kB verifier certificate',
      method: 'POST',
      path: '/api/v2/log/entries',
      contentType: 'application/json',
      body: json({
        hashedRekordRequestV002: {
          digest: digest.toString('base64'),
          signature: {
            content: b64(goodSig),
            verifier: { x509Certificate: { rawBytes: b64(Buffer.alloc(20_000, 1)) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
          },
        },
      }),
      code: 'TLOG_ENTRY_TOO_LARGE',
    },
    {
      name: 'metrics: POST',
      method: 'POST',
      path: '/metrics',
      contentType: 'application/json',
      body: '{}',
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'dev IdP: device code without client_id',
      method: 'POST',
      path: '/oidc/device/code',
      contentType: 'application/json',
      body: '{}',
      code: 'invalid_request',
    },
    // --- Rekor v1 ---
    {
      name: 'Rekor v1: signature over other data',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: hashedRekord(digest.toString('hex'), wrongSig, leafPem),
      code: 'SIGNATURE_INVALID',
    },
    {
      name: 'Rekor v1: digest of the wrong length',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: hashedRekord('abcd', goodSig, leafPem),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v1: signature not base64',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: hashedRekord(digest.toString('hex'), goodSig, leafPem).replace(b64(goodSig), '!!!notbase64!!!'),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v1: certificate is garbage',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: hashedRekord(digest.toString('hex'), goodSig, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v1: RSA-1024 key',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: hashedRekord(digest.toString('hex'), sign('sha256', artifact, rsa1024.privateKey), rsaPem),
      code: 'KEY_UNSUPPORTED',
    },
    {
      name: 'Rekor v1: unknown kind',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: json({ apiVersion: '0.0.1', kind: 'jar', spec: {} }),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v1: unsupported version',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: json({ apiVersion: '9.9.9', kind: 'hashedrekord', spec: {} }),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v1: missing spec',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: json({ apiVersion: '0.0.1', kind: 'hashedrekord' }),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v1: dsse envelope that is not JSON',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: json({ apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope: '{not json', verifiers: [b64(leafPem)] } } }),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v1: malformed JSON',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: '{"kind":',
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v1: oversized body',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/json',
      body: big,
      status: 413,
      code: 'BODY_TOO_LARGE',
    },
    {
      name: 'Rekor v1: wrong content type',
      method: 'POST',
      path: '/api/v1/log/entries',
      contentType: 'application/xml',
      body: '<entry/>',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    { name: 'Rekor v1: logIndex not a number', path: '/api/v1/log/entries?logIndex=abc', code: 'REQUEST_INVALID' },
    { name: 'Rekor v1: negative logIndex', path: '/api/v1/log/entries?logIndex=-1', code: 'REQUEST_INVALID' },
    { name: 'Rekor v1: logIndex beyond the log', path: '/api/v1/log/entries?logIndex=99999999', status: 404, code: 'ENTRY_NOT_FOUND' },
    { name: 'Rekor v1: unknown entry UUID', path: `/api/v1/log/entries/${'ab'.repeat(32)}`, status: 404, code: 'ENTRY_NOT_FOUND' },
    { name: 'Rekor v1: malformed entry UUID', path: '/api/v1/log/entries/not-a-uuid', code: 'REQUEST_INVALID' },
    {
      name: 'Rekor v1: consistency proof with first size > last size',
      path: '/api/v1/log/proof?firstSize=10&lastSize=2',
      code: 'REQUEST_INVALID',
    },
    {
      name: 'Rekor v1: retrieve with bad hash',
      method: 'POST',
      path: '/api/v1/index/retrieve',
      contentType: 'application/json',
      body: json({ hash: 'sha256:xyz' }),
      code: 'FORMAT_INVALID',
    },
    // --- Rekor v2 ---
    {
      name: 'Rekor v2: unknown field',
      method: 'POST',
      path: '/api/v2/log/entries',
      contentType: 'application/json',
      body: v2({
        hashedRekordRequestV002: {
          digest: b64(digest),
          signature: {
            content: b64(goodSig),
            verifier: { x509Certificate: { rawBytes: b64(leafDer) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
          },
          surprise: 1,
        },
      }),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v2: signature does not verify',
      method: 'POST',
      path: '/api/v2/log/entries',
      contentType: 'application/json',
      body: v2({
        hashedRekordRequestV002: {
          digest: b64(digest),
          signature: {
            content: b64(wrongSig),
            verifier: { x509Certificate: { rawBytes: b64(leafDer) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
          },
        },
      }),
      code: 'SIGNATURE_INVALID',
    },
    {
      name: 'Rekor v2: digest of the wrong length',
      method: 'POST',
      path: '/api/v2/log/entries',
      contentType: 'application/json',
      body: v2({
        hashedRekordRequestV002: {
          digest: b64('short'),
          signature: {
            content: b64(goodSig),
            verifier: { x509Certificate: { rawBytes: b64(leafDer) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
          },
        },
      }),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v2: key details not allowed',
      method: 'POST',
      path: '/api/v2/log/entries',
      contentType: 'application/json',
      body: v2({
        hashedRekordRequestV002: {
          digest: b64(digest),
          signature: { content: b64(goodSig), verifier: { x509Certificate: { rawBytes: b64(leafDer) }, keyDetails: 'PKIX_ED25519' } },
        },
      }),
      code: 'KEY_DETAILS_MISMATCH',
    },
    {
      name: 'Rekor v2: both verifier forms',
      method: 'POST',
      path: '/api/v2/log/entries',
      contentType: 'application/json',
      body: v2({
        hashedRekordRequestV002: {
          digest: b64(digest),
          signature: {
            content: b64(goodSig),
            verifier: {
              x509Certificate: { rawBytes: b64(leafDer) },
              publicKey: { rawBytes: b64(leafDer) },
              keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            },
          },
        },
      }),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v2: empty request',
      method: 'POST',
      path: '/api/v2/log/entries',
      contentType: 'application/json',
      body: v2({}),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v2: certificate DER is garbage',
      method: 'POST',
      path: '/api/v2/log/entries',
      contentType: 'application/json',
      body: v2({
        hashedRekordRequestV002: {
          digest: b64(digest),
          signature: {
            content: b64(goodSig),
            verifier: { x509Certificate: { rawBytes: b64('garbage') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
          },
        },
      }),
      code: 'FORMAT_INVALID',
    },
    {
      name: 'Rekor v2: oversized body',
      method: 'POST',
      path: '/api/v2/log/entries',
      contentType: 'application/json',
      body: big,
      status: 413,
      code: 'BODY_TOO_LARGE',
    },
    { name: 'Rekor v2 tiles: malformed tile path', path: '/tile/0/xyz', code: 'TILE_NOT_FOUND' },
    { name: 'Rekor v2 tiles: level out of range', path: '/tile/99/000', code: 'TILE_NOT_FOUND' },
    { name: 'Rekor v2 tiles: tile beyond the tree', path: '/tile/0/x999/999', status: 404, code: 'TILE_NOT_FOUND' },
    { name: 'Rekor v2 tiles: entry bundle beyond the tree', path: '/tile/entries/x999/999', status: 404, code: 'TILE_NOT_FOUND' },
    { name: 'Rekor v2 tiles: partial width 0', path: '/tile/0/000.p/0', code: 'TILE_NOT_FOUND' },
    // --- TSA ---
    {
      name: 'TSA: SHA-1 refused',
      method: 'POST',
      path: '/api/v1/timestamp',
      contentType: 'application/json',
      body: json({ artifactHash: b64(Buffer.alloc(20, 1)), hashAlgorithm: 'sha1' }),
      code: 'TSA_WEAK_HASH',
    },
    {
      name: 'TSA: digest length does not match',
      method: 'POST',
      path: '/api/v1/timestamp',
      contentType: 'application/json',
      body: json({ artifactHash: b64(Buffer.alloc(7, 1)), hashAlgorithm: 'sha256' }),
      code: 'TSA_DIGEST_LENGTH',
    },
    {
      name: 'TSA: unknown policy',
      method: 'POST',
      path: '/api/v1/timestamp',
      contentType: 'application/json',
      body: json({ artifactHash: b64(digest), hashAlgorithm: 'sha256', tsaPolicyOID: '1.2.3.4' }),
      code: 'TSA_POLICY_UNSUPPORTED',
    },
    {
      name: 'TSA: malformed DER request',
      method: 'POST',
      path: '/api/v1/timestamp',
      contentType: 'application/timestamp-query',
      body: Buffer.from('3003020101', 'hex'),
      code: 'REQUEST_INVALID',
    },
    {
      name: 'TSA: garbage DER request',
      method: 'POST',
      path: '/api/v1/timestamp',
      contentType: 'application/timestamp-query',
      body: Buffer.from('not der at all'),
      code: 'REQUEST_INVALID',
    },
    {
      name: 'TSA: malformed JSON',
      method: 'POST',
      path: '/api/v1/timestamp',
      contentType: 'application/json',
      body: '{"artifactHash"',
      code: 'FORMAT_INVALID',
    },
    {
      name: 'TSA: wrong content type',
      method: 'POST',
      path: '/api/v1/timestamp',
      contentType: 'text/plain',
      body: 'time please',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    // --- CT log ---
    {
      name: 'CT: add-chain with an empty chain',
      method: 'POST',
      path: '/ct/v1/add-chain',
      contentType: 'application/json',
      body: json({ chain: [] }),
      code: 'CT_CHAIN_EMPTY',
    },
    {
      name: 'CT: add-chain with garbage DER',
      method: 'POST',
      path: '/ct/v1/add-chain',
      contentType: 'application/json',
      body: json({ chain: [b64('garbage')] }),
      code: 'CT_CERTIFICATE_INVALID',
    },
    {
      name: 'CT: add-pre-chain of a certificate that is no precertificate',
      method: 'POST',
      path: '/ct/v1/add-pre-chain',
      contentType: 'application/json',
      body: json({ chain: [b64(leafDer)] }),
      code: 'CT_NOT_PRECERTIFICATE',
    },
    {
      name: 'CT: add-chain not issued by a trusted root',
      method: 'POST',
      path: '/ct/v1/add-chain',
      contentType: 'application/json',
      body: json({ chain: [b64(leafDer)] }),
      code: 'CT_CHAIN_UNTRUSTED',
    },
    {
      name: 'CT: chain not base64',
      method: 'POST',
      path: '/ct/v1/add-chain',
      contentType: 'application/json',
      body: json({ chain: ['%%%'] }),
      code: 'CT_CERTIFICATE_INVALID',
    },
    // --- dev IdP ---
    {
      name: 'IdP: unsupported grant type',
      method: 'POST',
      path: '/oidc/token',
      contentType: 'application/x-www-form-urlencoded',
      body: 'grant_type=password&username=a&password=b',
      code: 'unsupported_grant_type',
    },
    {
      name: 'IdP: client credentials with a bad email',
      method: 'POST',
      path: '/oidc/token',
      contentType: 'application/x-www-form-urlencoded',
      body: 'grant_type=client_credentials&email=not-an-email',
      code: 'REQUEST_INVALID',
    },
    {
      name: 'IdP: unknown authorization code',
      method: 'POST',
      path: '/oidc/token',
      contentType: 'application/x-www-form-urlencoded',
      body: `grant_type=authorization_code&code=nope&client_id=sigstore&redirect_uri=${encodeURIComponent('http://127.0.0.1:1/cb')}&code_verifier=${'a'.repeat(43)}`,
      code: 'invalid_grant',
    },
    {
      name: 'IdP: authorize without PKCE',
      path: '/oidc/authorize?response_type=code&client_id=sigstore&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb',
      code: 'invalid_request',
    },
    {
      name: 'IdP: authorize with a non-loopback redirect',
      path: `/oidc/authorize?response_type=code&client_id=sigstore&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
      code: 'invalid_request',
    },
    {
      name: 'IdP: token lifetime out of range',
      method: 'POST',
      path: '/oidc/token',
      contentType: 'application/x-www-form-urlencoded',
      body: `grant_type=client_credentials&email=${EMAIL}&ttl=999999999`,
      code: 'REQUEST_INVALID',
    },
    // --- the framework itself ---
    { name: 'unknown path', path: '/api/v3/anything', status: 404, code: 'NOT_FOUND' },
    { name: 'unknown path with a very long name', path: `/${'x'.repeat(5000)}`, status: 404, code: 'NOT_FOUND' },
    { name: 'unknown method', method: 'DELETE', path: '/api/v1/log', status: 404, code: 'NOT_FOUND' },
    { name: 'bad percent-encoding in the URL', path: '/api/v1/log/entries/%E0%A4%A' },
  ];
  return list;
}

test('every bad request gets a 4xx JSON {code, message}, and the server keeps serving', async () => {
  const list = await corpus();
  assert.ok(list.length >= 60, `corpus has ${list.length} requests`);
  const sizes = async () => ({
    rekorV1: ((await (await fetch(`${server.url}/api/v1/log`)).json()) as { treeSize: number }).treeSize,
    rekorV2: await (await fetch(`${server.url}/checkpoint`)).text(),
    ct: ((await (await fetch(`${server.url}/ct/v1/get-sth`)).json()) as { tree_size: number }).tree_size,
  });
  const before = await sizes();
  const failures: string[] = [];
  for (const r of list) {
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    if (r.contentType) headers['content-type'] = r.contentType;
    let res: Response;
    try {
      res = await fetch(`${server.url}${r.path}`, {
        method: r.method ?? 'GET',
        headers,
        ...(r.body === undefined ? {} : { body: r.body }),
      });
    } catch (e) {
      failures.push(`${r.name}: request failed (${(e as Error).message})`);
      continue;
    }
    const text = await res.text();
    let body: { code?: unknown; message?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      failures.push(`${r.name}: HTTP ${res.status}, body is not JSON: ${text.slice(0, 120)}`);
      continue;
    }
    const problems: string[] = [];
    if (res.status < 400 || res.status > 499) problems.push(`status ${res.status}`);
    if (r.status !== undefined && res.status !== r.status) problems.push(`status ${res.status}, expected ${r.status}`);
    const code = errorCode(body, res.status);
    if (code === undefined) problems.push('no code');
    if (typeof body.message !== 'string' || body.message.length === 0) problems.push('no message');
    if (r.code !== undefined && code !== undefined && !(typeof r.code === 'string' ? code === r.code : r.code.test(code))) {
      problems.push(`code ${code}, expected ${String(r.code)}`);
    }
    if (!(res.headers.get('content-type') ?? '').startsWith('application/json'))
      problems.push(`content-type ${res.headers.get('content-type')}`);
    if (process.env.KEYLESS_CORPUS_DUMP)
      process.stderr.write(`${res.status} ${String(code)} | ${r.name} | ${String(body.message).slice(0, 90)}\n`);
    if (problems.length > 0) failures.push(`${r.name}: ${problems.join(', ')} — ${text.slice(0, 160)}`);
  }
  assert.deepEqual(failures, []);
  // Nothing a refused request carried reached a log.
  assert.deepEqual(await sizes(), before);

  // Still alive, still serving, still issuing certificates and logging.
  assert.equal(server.child.exitCode, null);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  const { leafPem, key } = await validCertificate();
  const artifact = Buffer.from('after the corpus');
  const res = await fetch(`${server.url}/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: hashedRekord(createHash('sha256').update(artifact).digest('hex'), sign('sha256', artifact, key), leafPem),
  });
  assert.equal(res.status, 201);
  assert.ok(!/\b5\d\d\b.*internal/i.test(server.stderr()), 'no internal errors were logged');
});
