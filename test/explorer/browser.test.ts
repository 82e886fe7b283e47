// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The log explorer in headless Chromium against a real `keyless serve` with entries from
// real signing (Rekor v1 and v2, e-mail and GitHub workflow identities; each signing also
// logs its precertificate in the CT log): a search returns exactly the identity's entries
// in all three logs, entry pages check everything in the browser, and a proxy that alters
// a proof, a checkpoint, an STH or a certificate makes that check fail. Every
// page loads without console errors or failed requests; screenshots go to docs/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServe, keyless, type Serve } from '../sign/serve-helper.js';
import { sha256 } from '../../src/core/hash.js';
import { OID, parseCertificate } from '../../src/x509/index.js';

// The README's screenshots are refreshed only when asked (KEYLESS_UPDATE_SCREENSHOTS=1): a test
// run never changes tracked files; otherwise they go to a temporary directory.
const screenshotDir = process.env.KEYLESS_UPDATE_SCREENSHOTS === '1' ? 'docs' : mkdtempSync(join(tmpdir(), 'keyless-shots-'));

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const REPO = 'octo-org/octo-repo';
let serve: Serve;
let browser: Browser;
let work: string;
/** Entries signed per identity: "rekor-v1/3". */
const signed = new Map<string, string[]>();
/** CT entries (the CA's precertificates) per identity: "ct/2". */
const logged = new Map<string, string[]>();
let ctSize = 0;
let workflowIdentity = '';
const certificates: Buffer[] = [];
/** Bundle files in signing order. */
const bundles: string[] = [];

async function sign(identityArgs: string[], v: 1 | 2, n: number): Promise<{ entry: string; certificate: Buffer }> {
  const t = await keyless(['dev-token', '--url', serve.url, ...identityArgs]);
  assert.equal(t.code, 0, t.stderr);
  const artifact = join(work, `artifact-${n}.txt`);
  writeFileSync(artifact, `explorer test artifact ${n}\n`);
  const bundlePath = join(work, `artifact-${n}.sigstore.json`);
  const r = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    bundlePath,
    '--signing-config',
    serve.signingConfig(v),
    '--trusted-root',
    serve.trustedRoot,
    '--identity-token',
    t.stdout.trim(),
  ]);
  assert.equal(r.code, 0, r.stderr);
  bundles.push(bundlePath);
  const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
  const vm = bundle.verificationMaterial;
  const certificate = Buffer.from(vm.certificate?.rawBytes ?? vm.x509CertificateChain.certificates[0].rawBytes, 'base64');
  // protobuf JSON leaves out a zero logIndex.
  return { entry: `rekor-v${v}/${vm.tlogEntries[0].logIndex ?? '0'}`, certificate };
}

before(async () => {
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-explorer-'));
  let n = 0;
  for (const [identity, args, versions] of [
    [ALICE, ['--email', ALICE], [1, 2, 1]],
    [BOB, ['--email', BOB], [2, 1]],
    ['workflow', ['--github-repository', REPO], [2]],
  ] as const) {
    for (const v of versions) {
      const { entry, certificate } = await sign([...args], v, n++);
      signed.set(identity, [...(signed.get(identity) ?? []), entry]);
      certificates.push(certificate);
      // One certificate per signing, logged in CT in signing order.
      logged.set(identity, [...(logged.get(identity) ?? []), `ct/${ctSize++}`]);
    }
  }
  workflowIdentity = `https://github.com/${REPO}/.github/workflows/release.yml@refs/heads/main`;
  // playwright-core gives every launch a fresh temporary profile (it refuses --user-data-dir here).
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

/** A page that records console errors, failed requests and error answers. */
async function openPage(width = 1200, height = 900): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // net::ERR_ABORTED is the page cancelling its own reads when the test navigates on (a read
  // still in flight for the previous view); a server that fails shows as another error or status.
  page.on('requestfailed', (r) => {
    const error = r.failure()?.errorText;
    if (error !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${error}`);
  });
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  return { page, problems };
}

async function checkStatuses(page: Page): Promise<Record<string, string>> {
  await page.waitForSelector('[data-checks-complete]', { state: 'attached', timeout: 30_000 });
  return page.$$eval('[data-check]', (els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute('data-check'), e.getAttribute('data-status')])),
  );
}

async function searchResults(page: Page, base: string, q: string): Promise<string[]> {
  await page.goto(`${base}/?q=${encodeURIComponent(q)}`);
  await page.waitForSelector('h1:has-text("Results for")');
  return (await page.$$eval('[data-entry]', (els) => els.map((e) => e.getAttribute('data-entry')!))).sort();
}

test('search by identity returns exactly that identity’s entries, in the Rekor logs and the CT log', async () => {
  const { page, problems } = await openPage();
  for (const [q, key] of [
    [ALICE, ALICE],
    [BOB, BOB],
    [workflowIdentity, 'workflow'],
  ] as const) {
    const found = await searchResults(page, serve.url, q);
    assert.deepEqual(found, [...signed.get(key)!, ...logged.get(key)!].sort(), q);
  }
  // The CT results are described from their precertificates.
  await searchResults(page, serve.url, BOB);
  const ctEntry = logged.get(BOB)![0]!;
  await page.waitForFunction(`document.querySelector('[data-entry="${ctEntry}"]')?.parentElement?.textContent?.includes(' · ')`);
  const ctLine = await page.textContent(`[data-result]:has([data-entry="${ctEntry}"])`);
  assert.match(ctLine!, /precertificate · bob@example\.com/);
  assert.deepEqual(await searchResults(page, serve.url, 'nobody@example.com'), []);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('search by log index, entry UUID and digest; each result links to its entry page', async () => {
  const { page, problems } = await openPage();
  const byIndex = await searchResults(page, serve.url, '0');
  assert.deepEqual(byIndex, ['ct/0', 'rekor-v1/0', 'rekor-v2/0']);
  // The v1 entry's UUID, read through the Rekor v1 API.
  const entry = (await (await fetch(`${serve.url}/api/v1/log/entries?logIndex=1`)).json()) as Record<string, any>;
  const uuid = Object.keys(entry)[0]!;
  assert.deepEqual(await searchResults(page, serve.url, uuid), ['rekor-v1/1']);
  const body = JSON.parse(Buffer.from(Object.values(entry)[0].body, 'base64').toString());
  const digest = `sha256:${body.spec.data.hash.value}`;
  assert.deepEqual(await searchResults(page, serve.url, digest), ['rekor-v1/1']);
  await page.click('[data-entry="rekor-v1/1"]');
  await page.waitForSelector('[data-log-index]');
  assert.equal(await page.textContent('[data-log-index]'), '1');
  assert.match(page.url(), /\?log=rekor-v1&index=1$/);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('entry pages check everything in the browser: Rekor v1 all passed, Rekor v2 all but the SET (which v2 has not)', async () => {
  const { page, problems } = await openPage();
  const [v1, v2] = [signed.get(ALICE)![0]!, signed.get(ALICE)![1]!];
  await page.goto(`${serve.url}/?log=${v1.replace('/', '&index=')}`);
  assert.deepEqual(await checkStatuses(page), {
    'inclusion-proof': 'passed',
    'checkpoint-signature': 'passed',
    'signed-entry-timestamp': 'passed',
    'certificate-chain': 'passed',
  });
  assert.equal(await page.textContent('[data-log-index]'), v1.split('/')[1]);
  assert.match((await page.textContent('main'))!, new RegExp(ALICE.replace('.', '\\.')));
  await page.screenshot({ path: join(screenshotDir, 'explorer-entry.png'), fullPage: true });

  await page.goto(`${serve.url}/?log=${v2.replace('/', '&index=')}`);
  assert.deepEqual(await checkStatuses(page), {
    'inclusion-proof': 'passed',
    'checkpoint-signature': 'passed',
    'signed-entry-timestamp': 'unavailable',
    'certificate-chain': 'passed',
  });

  // A workflow identity: the Sigstore extensions are shown by name.
  const wf = signed.get('workflow')![0]!;
  await page.goto(`${serve.url}/?log=${wf.replace('/', '&index=')}`);
  assert.equal((await checkStatuses(page))['certificate-chain'], 'passed');
  const text = (await page.textContent('main'))!;
  for (const name of ['Source Repository URI', 'Build Signer URI', 'Runner Environment']) assert.ok(text.includes(name), name);
  assert.ok(text.includes(workflowIdentity));
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('a CT entry page decodes the precertificate and checks its audit path, the STH signature and the issuer in the browser', async () => {
  const { page, problems } = await openPage();
  const [entry] = logged.get('workflow')!;
  await page.goto(`${serve.url}/?log=${entry!.replace('/', '&index=')}`);
  assert.deepEqual(await checkStatuses(page), {
    'inclusion-proof': 'passed',
    'checkpoint-signature': 'passed',
    'signed-entry-timestamp': 'unavailable',
    'certificate-chain': 'passed',
  });
  assert.equal(await page.textContent('[data-log-index]'), entry!.split('/')[1]);
  const text = (await page.textContent('main'))!;
  assert.ok(text.includes(workflowIdentity));
  for (const name of ['Precertificate (as logged: its TBS)', 'Source Repository URI', 'Build Signer URI', 'Issuer key hash', 'Valid'])
    assert.ok(text.includes(name), name);
  assert.match((await page.textContent('[data-check="signed-entry-timestamp"]'))!, /SCT, which is embedded in the issued certificate/);
  assert.match((await page.textContent('[data-check="checkpoint-signature"]'))!, /signed by CT log [0-9a-f]{16}… of the trusted root/);
  await page.screenshot({ path: join(screenshotDir, 'explorer-ct-entry.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.context().close();
  // Past the tree head: said so, whatever get-entries (asked at the same time) answers.
  const beyond = await openPage();
  await beyond.page.goto(`${serve.url}/?log=ct&index=${ctSize + 3}`);
  await beyond.page.waitForSelector('.card.error');
  assert.match((await beyond.page.textContent('.card.error'))!, new RegExp(`index ${ctSize + 3} is beyond the log's tree size ${ctSize}`));
  await beyond.page.context().close();
});

test('CT search by the certificate (sha256 of its TBS without the SCT list), by OIDC issuer, by leaf hash', async () => {
  // The certificate a bundle carries: its TBS without the SCT list is the precertificate's TBS the log holds.
  const n = signed.get(ALICE)!.length; // Alice signed first: certificates 0..n-1 are hers
  assert.ok(n > 0);
  const cert = parseCertificate(certificates[1]!);
  const tbsHash = sha256(cert.tbsWithoutExtensions(OID.sctList)).toString('hex');
  const { page, problems } = await openPage();
  assert.deepEqual(await searchResults(page, serve.url, `sha256:${tbsHash}`), ['ct/1']);
  // The certificate's own fingerprint is not what the log holds (the SCT list came after it).
  assert.deepEqual(await searchResults(page, serve.url, `sha256:${sha256(certificates[1]!).toString('hex')}`), []);
  // Every certificate of that issuer (the workflow identity's token has another issuer).
  const issuer = cert.oidcIssuer!;
  const ofIssuer = certificates.flatMap((c, i) => (parseCertificate(c).oidcIssuer === issuer ? [`ct/${i}`] : []));
  assert.ok(ofIssuer.length > 0 && ofIssuer.length < ctSize);
  assert.deepEqual(await searchResults(page, serve.url, `issuer:${issuer}`), ofIssuer.sort());
  // A bundle dropped on the live view finds its certificate's CT entry (hashed in the browser).
  await page.goto(`${serve.url}/`);
  await page.waitForSelector('[data-view="live"]');
  await page.setInputFiles('#file', { name: 'a.sigstore.json', mimeType: 'application/json', buffer: readFileSync(bundles[1]!) });
  await page.waitForURL(`**/?q=sha256:${tbsHash}`);
  await page.waitForSelector('h1:has-text("Results for")');
  assert.deepEqual(await page.$$eval('[data-entry]', (els) => els.map((e) => e.getAttribute('data-entry'))), ['ct/1']);
  // The entry page links its fingerprint search, and the leaf hash finds the entry.
  await page.goto(`${serve.url}/?log=ct&index=1`);
  await checkStatuses(page);
  const leafHash = (await page.textContent('dd code:text-matches("^[0-9a-f]{64}$")'))!;
  assert.ok((await page.textContent('main'))!.includes(`sha256:${tbsHash}`));
  assert.deepEqual(await searchResults(page, serve.url, leafHash), ['ct/1']);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('the live view shows every log, the newest entries and the most active identities; it fits a phone', async () => {
  const { page, problems } = await openPage();
  await page.goto(`${serve.url}/`);
  await page.waitForSelector('[data-view="live"] table.entries');
  const sizes = await page.$$eval('[data-log]', (els) => els.map((e) => e.getAttribute('data-log')));
  assert.deepEqual(sizes, ['rekor-v1', 'rekor-v2', 'ct']);
  const top = await page.$$eval('.bars li a', (els) => els.map((e) => e.textContent));
  assert.equal(top[0], ALICE);
  assert.equal(await page.$$eval('table.entries tbody tr', (rows) => rows.length), 6);
  await page.screenshot({ path: join(screenshotDir, 'explorer-live.png'), fullPage: true });
  // The trusted root page shows the root and its hash.
  await page.click('#root-hash');
  await page.waitForSelector('h1:has-text("Trusted root")');
  assert.match((await page.textContent('main'))!, /[0-9a-f]{64}/);
  await page.context().close();

  const phone = await openPage(390, 844);
  await phone.page.goto(`${serve.url}/?log=${signed.get(BOB)![1]!.replace('/', '&index=')}`);
  await checkStatuses(phone.page);
  const overflow = await phone.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  assert.equal(overflow, 0);
  await phone.page.context().close();
  assert.deepEqual([...problems, ...phone.problems], []);
});

/** Forwards to the server; `alter` may rewrite an answer's body. */
async function proxy(alter: (path: string, body: Buffer) => Buffer): Promise<{ url: string; server: Server }> {
  const target = new URL(serve.url);
  const server = createServer((req, res) => {
    const up = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, 'accept-encoding': 'identity' },
      },
      (upRes) => {
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const body = alter(req.url ?? '/', Buffer.concat(chunks));
          const headers = { ...upRes.headers, 'content-length': String(body.length) };
          res.writeHead(upRes.statusCode ?? 502, headers).end(body);
        });
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function flipLastByteOfBase64(b64: string): string {
  const raw = Buffer.from(b64, 'base64');
  raw[raw.length - 1]! ^= 0x01;
  return raw.toString('base64');
}

const alterations: [string, string, (path: string, body: Buffer) => Buffer][] = [
  [
    'a proof hash',
    'inclusion-proof',
    (path, body) => {
      if (!path.startsWith('/api/v1/log/entries?')) return body;
      const map = JSON.parse(body.toString());
      const e = Object.values(map)[0] as any;
      e.verification.inclusionProof.hashes[0] = e.verification.inclusionProof.hashes[0].replace(/^./, (c: string) =>
        c === '0' ? '1' : '0',
      );
      return Buffer.from(JSON.stringify(map));
    },
  ],
  [
    'the checkpoint signature',
    'checkpoint-signature',
    (path, body) => {
      if (!path.startsWith('/api/v1/log/entries?')) return body;
      const map = JSON.parse(body.toString());
      const p = (Object.values(map)[0] as any).verification.inclusionProof;
      p.checkpoint = p.checkpoint.replace(
        /^(\u2014 \S+ )(\S+)$/m,
        (_: string, head: string, sig: string) => head + flipLastByteOfBase64(sig),
      );
      return Buffer.from(JSON.stringify(map));
    },
  ],
  [
    'the CA certificate in the trusted root',
    'certificate-chain',
    (path, body) => {
      if (path !== '/api/explorer/v1/trusted-root') return body;
      const root = JSON.parse(body.toString());
      const certs = root.certificateAuthorities[0].certChain.certificates;
      certs[0].rawBytes = flipLastByteOfBase64(certs[0].rawBytes);
      return Buffer.from(JSON.stringify(root));
    },
  ],
];

for (const [what, check, alter] of alterations) {
  test(`a proxy altering ${what} makes the page show ${check} failed`, async () => {
    const p = await proxy(alter);
    try {
      const { page } = await openPage();
      await page.goto(`${p.url}/?log=${signed.get(ALICE)![0]!.replace('/', '&index=')}`);
      const statuses = await checkStatuses(page);
      assert.equal(statuses[check], 'failed', JSON.stringify(statuses));
      for (const [other, status] of Object.entries(statuses))
        if (other !== check) assert.equal(status, 'passed', `${other} with ${what} altered`);
      await page.context().close();
    } finally {
      await new Promise((r) => p.server.close(r));
    }
  });
}

const ctAlterations: [string, string[], (path: string, body: Buffer) => Buffer][] = [
  [
    'the CT audit path',
    ['inclusion-proof'],
    (path, body) => {
      if (!path.startsWith('/ct/v1/get-proof-by-hash?')) return body;
      const p = JSON.parse(body.toString());
      p.audit_path[0] = flipLastByteOfBase64(p.audit_path[0]);
      return Buffer.from(JSON.stringify(p));
    },
  ],
  [
    'the STH signature',
    ['checkpoint-signature'],
    (path, body) => {
      if (path !== '/ct/v1/get-sth') return body;
      const sth = JSON.parse(body.toString());
      sth.tree_head_signature = flipLastByteOfBase64(sth.tree_head_signature);
      return Buffer.from(JSON.stringify(sth));
    },
  ],
  [
    'the STH root hash',
    ['inclusion-proof', 'checkpoint-signature'],
    (path, body) => {
      if (path !== '/ct/v1/get-sth') return body;
      const sth = JSON.parse(body.toString());
      sth.sha256_root_hash = flipLastByteOfBase64(sth.sha256_root_hash);
      return Buffer.from(JSON.stringify(sth));
    },
  ],
  [
    'the CA certificate in the trusted root',
    ['certificate-chain'],
    (path, body) => {
      if (path !== '/api/explorer/v1/trusted-root') return body;
      const root = JSON.parse(body.toString());
      const certs = root.certificateAuthorities[0].certChain.certificates;
      certs[0].rawBytes = flipLastByteOfBase64(certs[0].rawBytes);
      return Buffer.from(JSON.stringify(root));
    },
  ],
];

for (const [what, failing, alter] of ctAlterations) {
  test(`a proxy altering ${what} makes the CT entry page show ${failing.join(' and ')} failed`, async () => {
    const p = await proxy(alter);
    try {
      const { page } = await openPage();
      // Index 1 of 6: its audit path has several hashes.
      await page.goto(`${p.url}/?log=ct&index=1`);
      const statuses = await checkStatuses(page);
      for (const [check, status] of Object.entries(statuses)) {
        const want = failing.includes(check) ? 'failed' : check === 'signed-entry-timestamp' ? 'unavailable' : 'passed';
        assert.equal(status, want, `${check} with ${what} altered: ${JSON.stringify(statuses)}`);
      }
      await page.context().close();
    } finally {
      await new Promise((r) => p.server.close(r));
    }
  });
}

test('the Rekor v2 entry page fails its inclusion proof when a tile is altered', async () => {
  const p = await proxy((path, body) => {
    if (!/^\/api\/v2\/tile\/0\//.test(path)) return body;
    const b = Buffer.from(body);
    b[0]! ^= 0xff;
    return b;
  });
  try {
    const { page } = await openPage();
    // Index 1 of Rekor v2: its proof needs leaf 0's hash from the altered tile.
    await page.goto(`${p.url}/?log=rekor-v2&index=1`);
    const statuses = await checkStatuses(page);
    assert.equal(statuses['inclusion-proof'], 'failed', JSON.stringify(statuses));
    await page.context().close();
  } finally {
    await new Promise((r) => p.server.close(r));
  }
});

test('the search API: pointers only, paginated, bounded; malformed queries are 400s', async () => {
  const get = async (q: string) => {
    const r = await fetch(`${serve.url}/api/explorer/v1/search?${q}`);
    return { status: r.status, body: (await r.json()) as any };
  };
  const first = await get(`q=${encodeURIComponent(ALICE)}&limit=2`);
  assert.equal(first.status, 200);
  assert.equal(first.body.kind, 'email');
  assert.equal(first.body.results.length, 2);
  assert.equal(first.body.more, true);
  const second = await get(`q=${encodeURIComponent(ALICE.toUpperCase())}&limit=2&offset=2`);
  assert.equal(second.body.more, true);
  const third = await get(`q=${encodeURIComponent(ALICE)}&limit=2&offset=4`);
  assert.equal(third.body.more, false);
  assert.deepEqual(
    [...first.body.results, ...second.body.results, ...third.body.results].map((r: any) => `${r.log}/${r.index}`),
    // Log by log (Rekor v1, v2, then CT), each ascending.
    [...signed.get(ALICE)!].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).concat(logged.get(ALICE)!),
  );
  const issuer = await get(`q=${encodeURIComponent(`issuer:${parseCertificate(certificates[0]!).oidcIssuer}`)}`);
  assert.equal(issuer.body.kind, 'issuer');
  for (const bad of [
    'q=',
    'q=hello',
    'q=sha256:abc',
    `q=${'a'.repeat(2000)}`,
    'q=1&limit=0',
    'q=1&limit=101',
    'q=1&offset=10001',
    'q=1&limit=-1',
    'q=99999999999999999',
  ]) {
    const r = await get(bad);
    assert.equal(r.status, 400, bad);
    assert.equal(r.body.code, 'REQUEST_INVALID', bad);
  }
  const page = await fetch(`${serve.url}/`);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  const icon = await fetch(`${serve.url}/favicon.ico`);
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
  assert.equal((await fetch(`${serve.url}/explorer/..%2Fcli.js`)).status, 404);
});

test('a fresh instance shows a landing page: no entries yet, every log at size 0', async () => {
  const fresh = await startServe();
  try {
    const { page, problems } = await openPage();
    await page.goto(`${fresh.url}/`);
    await page.waitForSelector('h1:has-text("No entries yet")');
    assert.deepEqual(await page.$$eval('[data-log] .big', (els) => els.map((e) => e.textContent)), [
      '0 entries',
      '0 entries',
      '0 certificates',
    ]);
    await page.goto(`${fresh.url}/?q=${encodeURIComponent(ALICE)}`);
    await page.waitForSelector('text=Nothing found in the logs.');
    assert.deepEqual(problems, []);
    await page.context().close();
  } finally {
    await fresh.stop();
  }
});
