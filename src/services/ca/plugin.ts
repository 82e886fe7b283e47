import type { FastifyPluginAsync } from 'fastify';
import { TokenVerifier, issuerConfigurationJson, type IssuerConfig, type VerifiedToken } from '../../oidc/index.js';
import type { Certificate } from '../../x509/index.js';
import { pemEncode } from '../../core/encoding.js';
import { parseCertificate } from '../../x509/index.js';
import { PreparedLeaf, type CertificateSigner, type LeafProfile } from '../../x509/build/index.js';
import { HttpError } from '../http/index.js';
import type { CtSubmitter } from './ct.js';
import { checkProofOfPossession, parseLegacySigningCertRequest, parseSigningCertRequest, type SigningCertRequest } from './request.js';

export interface CaServiceOptions {
  /** Identity providers whose tokens are accepted; a function is read once, at the first request (port-0 servers). */
  issuers: readonly IssuerConfig[] | (() => readonly IssuerConfig[]);
  /** A verifier to share (its discovery/JWKS cache); built from `issuers` otherwise. */
  tokenVerifier?: TokenVerifier;
  /** The issuing CA (intermediate) certificate and key. */
  issuer: CertificateSigner;
  /** Certificates above the issuing CA, ending with the root. */
  parents: readonly Certificate[];
  /** Logs the precertificate; without it certificates are issued with no SCT (Fulcio's detached form). */
  submitToCtLog?: CtSubmitter;
  /** Leaf validity (default 10 minutes). */
  validityMs?: number;
  now?: () => Date;
}

/** The certificate chain answered, leaf first (Fulcio's `chain.certificates`). */
export class IssuedCertificate {
  private parsed: Certificate | undefined;
  constructor(
    /** The leaf's DER. */
    readonly der: Buffer,
    readonly chainPem: string[],
    readonly embeddedSct: boolean,
  ) {}

  /** The leaf, parsed on first use (the HTTP answer needs only its PEM). */
  get certificate(): Certificate {
    return (this.parsed ??= parseCertificate(this.der));
  }
}

/** Issues Fulcio leaves for verified identities: the CA's work without HTTP (also used by benchmarks). */
export class CertificateAuthority {
  readonly verifier: TokenVerifier | undefined;
  private verifierLazy: TokenVerifier | undefined;
  private readonly options: CaServiceOptions;
  private readonly caChainPem: string[];

  constructor(options: CaServiceOptions) {
    this.options = options;
    this.verifier = options.tokenVerifier;
    this.caChainPem = [options.issuer.certificate.toPem(), ...options.parents.map((c) => c.toPem())];
  }

  tokenVerifier(): TokenVerifier {
    if (this.verifier) return this.verifier;
    if (!this.verifierLazy) {
      const issuers = typeof this.options.issuers === 'function' ? this.options.issuers() : this.options.issuers;
      this.verifierLazy = new TokenVerifier(issuers);
    }
    return this.verifierLazy;
  }

  /** `{chains: [{certificates: [issuing CA, …, root]}]}` */
  trustBundle(): { chains: Array<{ certificates: string[] }> } {
    return { chains: [{ certificates: this.caChainPem }] };
  }

  configuration(): { issuers: Array<Record<string, unknown>> } {
    return { issuers: issuerConfigurationJson(this.tokenVerifier().issuers) };
  }

  /** Verifies the request end to end and issues the certificate (with an embedded SCT when a CT log is wired). */
  async signingCertificate(body: unknown, authorization: string | undefined): Promise<IssuedCertificate> {
    return this.issue(parseSigningCertRequest(body, authorization));
  }

  /** The legacy v1 API's request (`publicKey` + `signedEmailAddress`, token in the header). */
  async legacySigningCertificate(body: unknown, authorization: string | undefined): Promise<IssuedCertificate> {
    return this.issue(parseLegacySigningCertRequest(body, authorization));
  }

  private async issue(req: SigningCertRequest): Promise<IssuedCertificate> {
    const now = this.options.now?.() ?? new Date();
    const ca = this.options.issuer;
    if (!ca.certificate.validAt(now)) {
      throw new HttpError(
        'CA_NOT_VALID',
        `the issuing CA certificate is valid from ${ca.certificate.notBefore.toISOString()} to ${ca.certificate.notAfter.toISOString()}, not now`,
      );
    }
    const verified: VerifiedToken = await this.tokenVerifier().verify(req.token, { now });
    const { identity, issuerConfig } = verified;
    const challengeName = issuerConfig.challengeClaim ?? (issuerConfig.type === 'email' ? 'email' : 'sub');
    await checkProofOfPossession(req, identity.challengeClaimValue, challengeName, verified.claims);

    const sigstoreExtensions: Record<string, string> = {};
    for (const e of identity.extensionList) sigstoreExtensions[e.oid] = e.value;
    const profile: LeafProfile = {
      publicKey: req.spkiDer ?? req.key.info.key,
      san: identity.san,
      sigstoreExtensions,
      notBefore: now,
      validityMs: this.options.validityMs ?? 10 * 60 * 1000,
    };
    // Precertificate, CT entry and final certificate are encoded from one PreparedLeaf.
    const leaf = new PreparedLeaf(profile, ca);
    const submit = this.options.submitToCtLog;
    let der: Buffer;
    if (submit) {
      const sct = submit.submitTrustedTbs
        ? await submit.submitTrustedTbs(leaf.entryTbs(), ca.certificate, leaf.precertificateDer())
        : await submit([leaf.precertificate(), ca.certificate, ...this.options.parents]);
      der = leaf.finalDer([sct]);
    } else {
      der = leaf.finalDer([]);
    }
    return new IssuedCertificate(der, [pemEncode('CERTIFICATE', der), ...this.caChainPem], submit !== undefined);
  }
}

/**
 * Fulcio's v2 API: `POST /api/v2/signingCert`, `GET /api/v2/trustBundle`,
 * `GET /api/v2/configuration`, and the legacy `POST /api/v1/signingCert`,
 * `GET /api/v1/rootCert`. Every refusal is a 4xx `{code, message}` naming the check.
 */
export function caService(options: CaServiceOptions | CertificateAuthority): FastifyPluginAsync {
  const ca = options instanceof CertificateAuthority ? options : new CertificateAuthority(options);
  return async (app) => {
    const issuedCount = app.metrics.counter('keyless_ca_certificates_issued_total', 'Signing certificates issued, by API');
    let trustBundle: string | undefined;
    let configuration: string | undefined;
    app.post('/api/v2/signingCert', async (request, reply) => {
      const auth = request.headers.authorization;
      if (Array.isArray(auth)) throw new HttpError('REQUEST_INVALID', 'more than one Authorization header');
      const issued = await ca.signingCertificate(request.body, auth);
      issuedCount.inc({ api: 'v2' });
      const chain = { chain: { certificates: issued.chainPem } };
      return reply
        .code(200)
        .type('application/json')
        .send(issued.embeddedSct ? { signedCertificateEmbeddedSct: chain } : { signedCertificateDetachedSct: chain });
    });
    // Legacy v1 API (pre-GA clients such as old cosign): 201 with a PEM chain.
    app.post('/api/v1/signingCert', async (request, reply) => {
      const auth = request.headers.authorization;
      if (Array.isArray(auth)) throw new HttpError('REQUEST_INVALID', 'more than one Authorization header');
      const issued = await ca.legacySigningCertificate(request.body, auth);
      issuedCount.inc({ api: 'v1' });
      return reply.code(201).type('application/pem-certificate-chain').send(issued.chainPem.join(''));
    });
    app.get('/api/v1/rootCert', async (_req, reply) =>
      reply.type('application/pem-certificate-chain').send(ca.trustBundle().chains[0]!.certificates.join('')),
    );
    app.get('/api/v2/trustBundle', async (_req, reply) =>
      reply.type('application/json').send((trustBundle ??= JSON.stringify(ca.trustBundle()))),
    );
    app.get('/api/v2/configuration', async (_req, reply) =>
      reply.type('application/json').send((configuration ??= JSON.stringify(ca.configuration()))),
    );
  };
}
