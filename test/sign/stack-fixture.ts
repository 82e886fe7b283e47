// A fixture Sigstore for client tests: a Fulcio that checks the proof of possession and
// issues real leaves, Rekor v1/v2 that check and answer in the wire shapes (proofs are
// not real), and a TSA that signs real RFC 3161 tokens.
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { base64Decode, base64Encode, hexEncode } from '../../src/core/encoding.js';
import { sha256 } from '../../src/core/hash.js';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import {
  parseRekorV1ProposedEntry,
  parseCreateEntryRequestV2,
  buildHashedRekordV002,
  canonicalRekorV2Body,
  buildHashedRekordV001,
  buildDsseV001,
  canonicalRekorV1Body,
} from '../../src/formats/index.js';
import {
  createCaChain,
  createTsaChain,
  issueLeafCertificate,
  createTimestampResponse,
  timestampRequestFromJson,
} from '../../src/x509/build/index.js';
import { startFixture, json, type Fixture } from './fixtures.js';

export const ISSUER = 'https://idp.test.example';

export interface FixtureStack {
  fulcio: Fixture;
  rekorV1: Fixture;
  rekorV2: Fixture;
  tsa: Fixture;
  ca: ReturnType<typeof createCaChain>;
  tsaChain: ReturnType<typeof createTsaChain>;
  token(claims?: Record<string, unknown>): Promise<string>;
  signingConfig(logVersion: 1 | 2): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startFixtureStack(): Promise<FixtureStack> {
  const ca = createCaChain();
  const tsaChain = createTsaChain();
  const { privateKey } = await generateKeyPair('ES256');
  let index = 0;

  const fulcio = await startFixture((req, body, res) => {
    if (req.url !== '/api/v2/signingCert') return json(res, 404, { code: 5, message: 'not found' });
    const r = JSON.parse(body.toString()) as {
      credentials: { oidcIdentityToken: string };
      publicKeyRequest: { publicKey: { content: string; algorithm: string }; proofOfPossession: string };
    };
    const claims = JSON.parse(Buffer.from(r.credentials.oidcIdentityToken.split('.')[1] as string, 'base64url').toString()) as Record<
      string,
      string
    >;
    const key = createPublicKey(r.publicKeyRequest.publicKey.content);
    const challenge = claims.email ?? claims.sub ?? '';
    if (!nodeVerify('sha256', Buffer.from(challenge), key, base64Decode(r.publicKeyRequest.proofOfPossession, 'pop'))) {
      return json(res, 400, { code: 3, message: 'proof of possession does not verify' });
    }
    const leaf = issueLeafCertificate(
      {
        publicKey: key,
        san: claims.email ? { type: 'email', value: claims.email } : { type: 'uri', value: claims.sub as string },
        sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': claims.iss as string },
      },
      ca.intermediate,
    );
    json(res, 200, {
      signedCertificateEmbeddedSct: {
        chain: { certificates: [leaf.toPem(), ca.intermediate.certificate.toPem(), ca.root.certificate.toPem()] },
      },
    });
  });

  const rekorV1 = await startFixture((req, body, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/api/v1/log/entries/'))
      return json(res, 200, v1Answer(seen.get(req.url.split('/').pop() as string) as Buffer, 0));
    if (req.url !== '/api/v1/log/entries') return json(res, 404, { code: 404, message: 'not found' });
    const p = parseRekorV1ProposedEntry(JSON.parse(body.toString()));
    const entry =
      p.kind === 'hashedrekord'
        ? buildHashedRekordV001({ hash: p.hash, signature: p.signature, publicKeyPem: p.publicKey })
        : p.kind === 'dsse'
          ? buildDsseV001({ envelopeText: p.envelopeText, envelope: p.envelope, verifierPems: p.verifiers })
          : undefined;
    if (!entry) return json(res, 400, { code: 400, message: 'unsupported kind' });
    const canonical = canonicalRekorV1Body(entry);
    const uuid = hexEncode(sha256(Buffer.from([0]), canonical));
    if (seen.has(uuid)) return json(res, 409, { code: 409, message: 'exists' }, { Location: `/api/v1/log/entries/${uuid}` });
    seen.set(uuid, canonical);
    json(res, 201, v1Answer(canonical, index++));
  });
  const seen = new Map<string, Buffer>();
  const logIdHex = 'ab'.repeat(32);
  function v1Answer(canonical: Buffer, i: number): unknown {
    const uuid = hexEncode(sha256(Buffer.from([0]), canonical));
    return {
      [uuid]: {
        body: base64Encode(canonical),
        integratedTime: 1_700_000_000,
        logID: logIdHex,
        logIndex: i,
        verification: {
          inclusionProof: {
            checkpoint: 'fixture - 1\n1\nAAAA\n\n— fixture AAAA\n',
            hashes: ['cd'.repeat(32)],
            logIndex: i,
            rootHash: 'ef'.repeat(32),
            treeSize: i + 1,
          },
          signedEntryTimestamp: base64Encode(Buffer.from('set')),
        },
      },
    };
  }

  const rekorV2 = await startFixture((req, body, res) => {
    if (req.url !== '/api/v2/log/entries') return json(res, 404, { code: 404, message: 'not found' });
    const r = parseCreateEntryRequestV2(JSON.parse(body.toString()));
    if (r.$case !== 'hashedRekordRequestV002') return json(res, 400, { code: 400, message: 'invalid type, must be hashedrekord' });
    const canonical = canonicalRekorV2Body(buildHashedRekordV002(r.hashedRekordRequestV002));
    const i = index++;
    json(res, 201, {
      logIndex: String(i),
      logId: { keyId: base64Encode(Buffer.alloc(32, 7)) },
      kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
      integratedTime: '0',
      inclusionPromise: null,
      inclusionProof: {
        logIndex: String(i),
        rootHash: base64Encode(Buffer.alloc(32, 1)),
        treeSize: String(i + 1),
        hashes: [],
        checkpoint: { envelope: 'log.example\n1\nAAAA\n\n— log.example AAAA\n' },
      },
      canonicalizedBody: base64Encode(canonical),
    });
  });

  const tsa = await startFixture((req, body, res) => {
    if (req.url !== '/api/v1/timestamp') return json(res, 404, { code: 404, message: 'not found' });
    const j = JSON.parse(body.toString()) as { artifactHash: string; hashAlgorithm: string; nonce?: number; certificates?: boolean };
    const request = timestampRequestFromJson({ ...j, nonce: j.nonce === undefined ? undefined : BigInt(j.nonce) });
    res.writeHead(200, { 'Content-Type': 'application/timestamp-reply' }).end(createTimestampResponse(request, tsaChain.signer));
  });

  const svc = (url: string, v = 1) => ({ url, majorApiVersion: v, validFor: { start: '2020-01-01T00:00:00Z' } });
  return {
    fulcio,
    rekorV1,
    rekorV2,
    tsa,
    ca,
    tsaChain,
    token: (claims = {}) =>
      new SignJWT({
        iss: ISSUER,
        sub: 'user-1',
        aud: 'sigstore',
        email: 'alice@example.com',
        email_verified: true,
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 600,
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256' })
        .sign(privateKey),
    signingConfig: (v) => ({
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [svc(fulcio.url)],
      oidcUrls: [],
      rekorTlogUrls: [v === 1 ? svc(rekorV1.url, 1) : svc(rekorV2.url, 2)],
      tsaUrls: [svc(`${tsa.url}/api/v1/timestamp`)],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
    }),
    close: async () => {
      await Promise.all([fulcio.close(), rekorV1.close(), rekorV2.close(), tsa.close()]);
    },
  };
}

export { canonicalBytes };
