// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The browser login end to end: `keyless sign-blob --oidc-provider browser` prints the
// authorization URL; headless Chromium opens it, fills in the development IdP's login page,
// follows the redirect to the CLI's loopback listener; the CLI exchanges the code (PKCE),
// signs, and the bundle carries the identity typed into the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { base64Decode } from '../../src/core/encoding.js';
import { parseCertificate } from '../../src/x509/index.js';
import { startServe, keyless, BIN, type Serve } from './serve-helper.js';

const EMAIL = 'browser-user@example.com';
let serve: Serve;
let browser: Browser;

before(async () => {
  serve = await startServe();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
after(async () => {
  await browser?.close();
  await serve?.stop();
});

test('headless Chromium completes the dev IdP login and sign-blob finishes with that identity', async () => {
  const work = mkdtempSync(join(tmpdir(), 'keyless-browser-'));
  const artifact = join(work, 'artifact.txt');
  writeFileSync(artifact, 'signed after a browser login\n');
  const bundlePath = join(work, 'artifact.sigstore.json');
  const issuer = `${serve.url}/oidc`;

  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(SIGSTORE_ID_TOKEN|ACTIONS_ID_TOKEN_|KEYLESS_|BROWSER$)/.test(k)),
  );
  const child = spawn(
    process.execPath,
    [
      BIN,
      'sign-blob',
      artifact,
      '--bundle',
      bundlePath,
      '--oidc-provider',
      'browser',
      '--oidc-issuer',
      issuer,
      '--signing-config',
      serve.signingConfig(1),
      '--trusted-root',
      serve.trustedRoot,
    ],
    { env: clean, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stdin.end();
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const loginUrl = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /Open this URL in a browser to log in: (\S+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`sign-blob exited ${code} before printing the login URL: ${stderr}`)));
  });
  assert.ok(loginUrl.startsWith(`${issuer}/authorize?`), loginUrl);
  const params = new URL(loginUrl).searchParams;
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.ok(params.get('state') && params.get('nonce'));

  const page = await browser.newPage();
  await page.goto(loginUrl);
  await page.fill('#email', EMAIL);
  await Promise.all([page.waitForURL(/\/auth\/callback\?/), page.click('#submit')]);
  assert.match(await page.content(), /Login complete/);
  await page.close();

  assert.equal(await exited, 0, stderr);
  const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as { verificationMaterial: { certificate: { rawBytes: string } } };
  const leaf = parseCertificate(base64Decode(bundle.verificationMaterial.certificate.rawBytes, 'cert'));
  assert.equal(leaf.sigstoreIdentity, EMAIL);
  assert.equal(leaf.oidcIssuer, issuer);
  const v = await keyless([
    'verify-blob',
    artifact,
    '--bundle',
    bundlePath,
    '--certificate-identity',
    EMAIL,
    '--certificate-oidc-issuer',
    issuer,
    '--trusted-root',
    serve.trustedRoot,
  ]);
  assert.equal(v.code, 0, v.stderr);
});
