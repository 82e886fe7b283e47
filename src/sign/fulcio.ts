import { base64Encode, pemDecodeAll } from '../core/encoding.js';
import { asArray, asObject } from '../core/json.js';
import { callService, joinUrl, jsonBody, serviceName, type CallPolicy, DEFAULT_CALL_POLICY } from './http.js';
import { ServiceError } from './errors.js';
import type { EphemeralKey } from './ephemeral-key.js';
import { parseCertificate, type Certificate } from '../x509/index.js';

export interface SigningCertificate {
  /** DER of every certificate the CA returned, leaf first. */
  chain: Buffer[];
  leaf: Certificate;
  leafDer: Buffer;
  notAfter: Date;
  /** True when the SCT is embedded in the leaf (the normal case). */
  embeddedSct: boolean;
}

/**
 * Fulcio v2 `POST /api/v2/signingCert` with a public key and a proof of possession: the
 * ephemeral key's signature over the token's challenge value (email or `sub`).
 */
export async function requestSigningCertificate(
  caUrl: string,
  token: { jwt: string; challenge: string },
  key: EphemeralKey,
  policy: CallPolicy = DEFAULT_CALL_POLICY,
): Promise<SigningCertificate> {
  const service = serviceName('Fulcio', caUrl);
  const proof = key.sign(Buffer.from(token.challenge, 'utf8'));
  const body = {
    credentials: { oidcIdentityToken: token.jwt },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: key.publicKeyPem },
      proofOfPossession: base64Encode(proof),
    },
  };
  const res = await callService(
    {
      service,
      url: joinUrl(caUrl, '/api/v2/signingCert'),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    },
    policy,
  );
  return parseSigningCertificateResponse(jsonBody(res, service), service, key);
}

export function parseSigningCertificateResponse(json: unknown, service: string, key?: EphemeralKey): SigningCertificate {
  let pems: unknown[];
  let embeddedSct: boolean;
  try {
    const obj = asObject(json, 'response');
    const member = obj.signedCertificateEmbeddedSct ?? obj.signedCertificateDetachedSct;
    embeddedSct = obj.signedCertificateEmbeddedSct !== undefined;
    const chain = asObject(asObject(member, 'signedCertificate').chain, 'chain');
    pems = asArray(chain.certificates, 'chain.certificates');
  } catch (e) {
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, `signing certificate response is malformed (${(e as Error).message})`, {
      cause: e,
    });
  }
  const chain: Buffer[] = [];
  for (const pem of pems) {
    if (typeof pem !== 'string') throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'certificate in the chain is not a PEM string');
    const blocks = pemDecodeAll(pem, 'chain.certificates').filter((b) => b.label === 'CERTIFICATE');
    for (const b of blocks) chain.push(b.der);
  }
  const leafDer = chain[0];
  if (!leafDer) throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'returned an empty certificate chain');
  let leaf: Certificate;
  try {
    leaf = parseCertificate(leafDer);
  } catch (e) {
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, `returned a leaf certificate that cannot be parsed (${(e as Error).message})`, {
      cause: e,
    });
  }
  if (key && !key.matchesCertificate(leaf)) {
    throw new ServiceError('CERTIFICATE_KEY_MISMATCH', service, 'returned a certificate for a different public key', {
      check: 'certificate-key',
    });
  }
  return { chain, leaf, leafDer, notAfter: leaf.notAfter, embeddedSct };
}
