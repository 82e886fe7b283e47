// `keyless token inspect` (loaded lazily by ./token.ts): what a certificate issued for this
// token would say, printed as lines or JSON.
import { inspectToken, obtainIdentityToken, selectServices } from '../../sign/index.js';
import { loadSigningConfig, SIGNING_CONFIG_ENV } from '../files.js';
import { readTokenArgument } from '../identity.js';
import { printable, printableJson } from '../printable.js';

export interface InspectFlags {
  fulcioUrl?: string;
  signingConfig?: string;
  json?: boolean;
  verify?: boolean;
}

/** The signature check of `--verify`: the issuer's JWKS through OIDC discovery, with jose. */
async function verifySignature(jwt: string, issuer: unknown): Promise<string> {
  if (typeof issuer !== 'string' || !/^https?:\/\//.test(issuer)) return 'not verified: the token has no http(s) issuer to fetch keys from';
  const { createRemoteJWKSet, jwtVerify } = await import('jose');
  try {
    const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return `not verified: ${issuer}/.well-known/openid-configuration answered ${res.status}`;
    const jwksUri = ((await res.json()) as { jwks_uri?: unknown }).jwks_uri;
    if (typeof jwksUri !== 'string') return 'not verified: the issuer publishes no jwks_uri';
    // Expiry and audience are the report's own checks; here only the signature and issuer.
    await jwtVerify(jwt, createRemoteJWKSet(new URL(jwksUri)), {
      issuer,
      currentDate: new Date(0),
      clockTolerance: Number.MAX_SAFE_INTEGER,
    });
    return `verified with the issuer's keys (${jwksUri})`;
  } catch (e) {
    return `INVALID: ${(e as Error).message}`;
  }
}

export async function inspectTokenCommand(token: string | undefined, flags: InspectFlags): Promise<void> {
  const jwt =
    token !== undefined
      ? readTokenArgument(token)
      : (await obtainIdentityToken({ env: process.env, interactive: false, canOpenBrowser: false, log: () => {} })).jwt;
  let caUrl = flags.fulcioUrl;
  const configPath = flags.signingConfig ?? process.env[SIGNING_CONFIG_ENV];
  if (!caUrl && configPath) caUrl = selectServices(loadSigningConfig(configPath)).ca.url;
  const report = await inspectToken(jwt, { caUrl });
  const signature = flags.verify
    ? await verifySignature(jwt, report.issuer)
    : "not verified (inspected offline; --verify checks it against the issuer's keys)";
  // Usable: the client checks pass, a certificate would be issued, and (with --verify) the signature holds.
  const usable = report.status === 'ok' && report.certificate.san !== undefined && (!flags.verify || signature.startsWith('verified'));
  if (!usable) process.exitCode = 1;
  if (flags.json) {
    process.stdout.write(`${printableJson({ ...report, signature, usable }, 2)}\n`);
    return;
  }
  const c = report.certificate;
  const lines = [
    `issuer:        ${String(report.issuer)}`,
    `subject:       ${String(report.subject)}`,
    `audience:      ${JSON.stringify(report.audience)}`,
    `expires:       ${report.expiresAt ?? 'never (no exp claim)'}`,
    `status:        ${report.status}`,
    `signature:     ${signature}`,
    `issuer type:   ${report.issuerType} (${report.issuerTypeSource})`,
    c.san ? `certificate:   ${c.san.type} SAN ${c.san.value}` : `certificate:   none would be issued (${c.error})`,
    ...(c.issuer ? [`cert issuer:   ${c.issuer}`] : []),
    ...Object.entries(c.extensions)
      .filter(([k]) => k !== 'issuer')
      .map(([k, v]) => `  ${k}: ${v}`),
    ...(report.challenge ? [`signs (PoP):   ${report.challenge}`] : []),
  ];
  // Every value comes from the token: one escaped line each.
  process.stdout.write(`${lines.map(printable).join('\n')}\n`);
}
