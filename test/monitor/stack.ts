// A `keyless serve` with entries from real signing for the monitor tests: tokens from the
// development IdP for several identities (e-mail and GitHub-workflow ones), signing over
// both log APIs, and the monitor's YAML and flags for that server.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, keyless, type Serve } from '../sign/serve-helper.js';
import { createCaChain, generateKey, issueLeafCertificate } from '../../src/x509/build/index.js';
import { writeYaml } from './helpers.js';

export const RELEASE = 'https://github.com/acme/app/.github/workflows/release.yml@';
const IDENTITIES = ['alice', 'bob', 'release', 'branch', 'selfHosted'] as const;

export interface MonitorStack {
  serve: Serve;
  work: string;
  tokens: Record<string, string>;
  /** Log index of each identity's signing, per log API (and Rekor v1's untrusted entry). */
  signed: Record<1 | 2, Record<string, number>>;
  /** The certificate of the last bundle signed. */
  lastCertificate: Buffer | undefined;
  sign(v: 1 | 2, tok: string, name: string, count?: number): Promise<number[]>;
  /** The default YAML: alice (no expectations) and acme/app's release workflow (tags on GitHub-hosted runners expected). */
  config(out: string, extra?: string, format?: string): string;
  args(v: 1 | 2 | 'ct', cfg: string, state: string): string[];
}

/**
 * Registers before/after hooks in the calling test file. `signAll`: every identity signs
 * once over each log API, and a certificate for alice from a CA nobody trusts is logged
 * through the Rekor v1 API; otherwise only alice signs once over Rekor v2.
 */
export function useMonitorStack(options: { signAll: boolean }): MonitorStack {
  let fileCounter = 0;
  const s = { tokens: {}, signed: { 1: {}, 2: {} }, lastCertificate: undefined } as MonitorStack;
  const token = async (args: string[]): Promise<string> => {
    const r = await keyless(['dev-token', '--url', s.serve.url, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  s.sign = async (v, tok, name, count = 1) => {
    const files = Array.from({ length: count }, () => {
      const f = join(s.work, `artifact-${fileCounter++}.txt`);
      writeFileSync(f, `${name} ${fileCounter} ${Math.random()}\n`);
      return f;
    });
    const out = mkdtempSync(join(s.work, 'bundles-'));
    const r = await keyless([
      'sign-blob',
      ...files,
      '--output-dir',
      out,
      '--signing-config',
      s.serve.signingConfig(v),
      '--trusted-root',
      s.serve.trustedRoot,
      '--identity-token',
      tok,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return files.map((f) => {
      const b = JSON.parse(readFileSync(join(out, `${f.split('/').pop()}.sigstore.json`), 'utf8'));
      s.lastCertificate = Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64');
      return Number(b.verificationMaterial.tlogEntries[0].logIndex ?? 0);
    });
  };
  s.config = (out, extra = '', format = 'json') =>
    writeYaml(
      s.work,
      `config-${Math.random().toString(36).slice(2)}.yaml`,
      `
startIndex: 0
monitoredValues:
  certIdentities:
    - certSubject: ^alice@example\\.com$
    - certSubject: ^https://github\\.com/acme/app/\\.github/workflows/release\\.yml@
      expected:
        - issuer: ^http://127\\.0\\.0\\.1:[0-9]+/oidc/github$
          source-repository-ref: ^refs/tags/v.*$
          runner-environment: ^github-hosted$
outputIdentities: ${out}
outputIdentitiesFormat: ${format}
logInfoFile: ${out}.info.json
${extra}`,
    );
  s.args = (v, cfg, state) => [
    '--url',
    s.serve.url,
    ...(v === 'ct' ? ['--ct'] : ['--api-version', String(v)]),
    '--config-file',
    cfg,
    '--file',
    state,
    '--trusted-root',
    s.serve.trustedRoot,
    '--timeout',
    '5s',
  ];

  before(async () => {
    s.serve = await startServe();
    s.work = mkdtempSync(join(tmpdir(), 'keyless-monitor-e2e-'));
    s.tokens.alice = await token(['--email', 'alice@example.com']);
    if (!options.signAll) {
      s.signed[2].alice = (await s.sign(2, s.tokens.alice, 'alice'))[0]!;
      return;
    }
    s.tokens.bob = await token(['--email', 'bob@example.com']);
    s.tokens.release = await token(['--github-repository', 'acme/app', '--github-ref', 'refs/tags/v1.0.0']);
    s.tokens.branch = await token(['--github-repository', 'acme/app', '--github-ref', 'refs/heads/main']);
    s.tokens.selfHosted = await token([
      '--github-repository',
      'acme/app',
      '--github-ref',
      'refs/tags/v1.0.1',
      '--github-runner-environment',
      'self-hosted',
    ]);
    for (const v of [1, 2] as const) {
      for (const who of IDENTITIES) s.signed[v][who] = (await s.sign(v, s.tokens[who]!, who))[0]!;
    }
    // A certificate for alice@example.com from a CA nobody trusts, logged through the Rekor v1
    // API as a hashedrekord with that certificate as its public key: never an alert.
    const untrusted = createCaChain();
    const key = generateKey();
    const cert = issueLeafCertificate(
      {
        publicKey: key.publicKey,
        san: { type: 'email', value: 'alice@example.com' },
        sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': 'https://accounts.example.com' },
      },
      untrusted.intermediate,
    );
    const data = Buffer.from('self-made\n');
    const res = await fetch(`${s.serve.url}/api/v1/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(data).digest('hex') } },
          signature: {
            content: nodeSign('sha256', data, key.privateKey).toString('base64'),
            publicKey: { content: Buffer.from(cert.toPem()).toString('base64') },
          },
        },
      }),
    });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    s.signed[1].untrusted = Object.values(JSON.parse(text) as Record<string, { logIndex: number }>)[0]!.logIndex;
  });
  after(async () => {
    await s.serve?.stop();
  });
  return s;
}
