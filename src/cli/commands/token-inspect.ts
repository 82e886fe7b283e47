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
}

export async function inspectTokenCommand(token: string | undefined, flags: InspectFlags): Promise<void> {
  const jwt = token !== undefined
    ? readTokenArgument(token)
    : (await obtainIdentityToken({ env: process.env, interactive: false, canOpenBrowser: false, log: () => {} })).jwt;
  let caUrl = flags.fulcioUrl;
  const configPath = flags.signingConfig ?? process.env[SIGNING_CONFIG_ENV];
  if (!caUrl && configPath) caUrl = selectServices(loadSigningConfig(configPath)).ca.url;
  const report = await inspectToken(jwt, { caUrl });
  if (flags.json) {
    process.stdout.write(`${printableJson(report, 2)}\n`);
    return;
  }
  const c = report.certificate;
  const lines = [
    `issuer:        ${String(report.issuer)}`,
    `subject:       ${String(report.subject)}`,
    `audience:      ${JSON.stringify(report.audience)}`,
    `expires:       ${report.expiresAt ?? 'never (no exp claim)'}`,
    `status:        ${report.status}`,
    `issuer type:   ${report.issuerType} (${report.issuerTypeSource})`,
    c.san ? `certificate:   ${c.san.type} SAN ${c.san.value}` : `certificate:   none would be issued (${c.error})`,
    ...(c.issuer ? [`cert issuer:   ${c.issuer}`] : []),
    ...Object.entries(c.extensions).filter(([k]) => k !== 'issuer').map(([k, v]) => `  ${k}: ${v}`),
    ...(report.challenge ? [`signs (PoP):   ${report.challenge}`] : []),
  ];
  // Every value comes from the token: one escaped line each.
  process.stdout.write(`${lines.map(printable).join('\n')}\n`);
}
