// The log explorer with a large log (issue 9's numbers):
// node --import tsx bench/explorer.ts [COUNT] [--ct N] [--identities N] [--queries N] [--pages N]
// 1. `keyless serve` creates a data directory (keys, CA, trust files) on a fixed free port;
// 2. the Rekor v1 log there is bulk-loaded with COUNT hashedrekord entries (default
//    1,000,000) whose certificates the instance's CA issued (N identities, spread evenly),
//    indexed as the log indexes admitted entries (e-mail, digest, key); the CT log with
//    N precertificate leaves (default COUNT) of the same identities, stored as a Keyless
//    from before the CT index stored them (no search keys), then re-indexed as `keyless
//    serve` does when it opens such a log (timed);
// 3. `keyless serve` again on that data: identity searches at the explorer API (latency
//    per request, sequential; each search reads all three logs), then Rekor v1 and CT entry
//    pages in headless Chromium, timed from navigation until every check has a status
//    (each page a fresh load; all checks expected passed, CT's SET `unavailable`);
// 4. the size of the page's JavaScript, gzip -9 and brotli.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import Database from 'better-sqlite3';
import { publicKeyDer } from '../src/core/keys.js';
import { DEFAULT_CONFIG, FileKeyStore, openLogStorage } from '../src/server/index.js';
import { loadOrCreateCa } from '../src/server/pki.js';
import { RekorV1Log, emailIndexKey, hashIndexKey, publicKeyIndexKey } from '../src/services/tlog/index.js';
import { EngineCtLogStore, merkleTreeLeaf } from '../src/services/ctlog/index.js';
import { noteCheckpointSigner } from '../src/log/index.js';
import { sha256 } from '../src/core/hash.js';
import { OID } from '../src/x509/index.js';
import { issueLeafCertificate, issuePrecertificate } from '../src/x509/build/index.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const count = Number(args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith('--')) ?? 1_000_000);
const identities = opt('identities', 1000);
const ctCount = opt('ct', count);
const queries = opt('queries', 300);
const pages = opt('pages', 30);
const BIN = join(process.cwd(), 'bin', 'keyless');

const dir = mkdtempSync(join(tmpdir(), 'keyless-bench-explorer-'));
const dataDir = join(dir, 'data');
const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});

async function serve(): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')).trim());
    });
    void exited.then(() => reject(new Error('keyless serve exited')));
  });
  return { url, child, stop: async () => void (child.kill('SIGTERM'), await exited) };
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (xs: number[]): string =>
  `p50 ${pct(xs, 50).toFixed(1)} ms, p95 ${pct(xs, 95).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;

// 1. A data directory as `keyless serve` makes it.
let s = await serve();
const url = s.url;
await s.stop();
let t: number;

// 2. Bulk load.
const keyStore = new FileKeyStore(dataDir);
const ca = loadOrCreateCa(dataDir, keyStore, DEFAULT_CONFIG, () => {});
const storage = await openLogStorage(DEFAULT_CONFIG.storage, dataDir);
const rekor = await RekorV1Log.open({
  engine: storage.transparency,
  baseUrl: url,
  signer: keyStore.loadOrCreate('rekor-v1', DEFAULT_CONFIG.keys.rekorV1),
  maxBatch: 50_000,
});
const signers = Array.from({ length: identities }, (_, i) => {
  const email = `user${i}@example.com`;
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = issueLeafCertificate(
    {
      publicKey,
      san: { type: 'email', value: email },
      sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': `${url}/oidc` },
      validityMs: 7 * 86_400_000,
    },
    ca.intermediate,
  );
  const pem = `-----BEGIN CERTIFICATE-----\n${leaf.der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
  const precertTbs = issuePrecertificate(
    {
      publicKey,
      san: { type: 'email', value: email },
      sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': `${url}/oidc` },
      validityMs: 7 * 86_400_000,
    },
    ca.intermediate,
  ).tbsWithoutExtensions(OID.ctPoison);
  return { email, pemB64: Buffer.from(pem).toString('base64'), keyIndex: publicKeyIndexKey(publicKeyDer(publicKey)), precertTbs };
});
const t0 = performance.now();
const chunk = 50_000;
for (let done = 0; done < count; done += chunk) {
  const n = Math.min(chunk, count - done);
  await Promise.all(
    Array.from({ length: n }, (_, k) => {
      const who = signers[(done + k) % identities]!;
      const digest = randomBytes(32).toString('hex');
      const body = `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"${digest}"}},"signature":{"content":"${randomBytes(71).toString('base64')}","publicKey":{"content":"${who.pemB64}"}}}}`;
      return rekor.log.append(Buffer.from(body), { indexKeys: [hashIndexKey('sha256', digest), who.keyIndex, emailIndexKey(who.email)] });
    }),
  );
  if ((done / chunk) % 4 === 0)
    console.error(`loaded ${done + n} entries, ${((done + n) / ((performance.now() - t0) / 1000)).toFixed(0)}/s`);
}
const size = rekor.log.size;
console.error(`log size ${size}, loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

// 2b. The CT log as an older Keyless stored it: precertificate leaves without search keys.
const ctSigner = keyStore.loadOrCreate('ctlog', DEFAULT_CONFIG.keys.ctlog);
const oldCt = await storage.ct.openLog({
  name: 'ct',
  origin: 'keyless-ct',
  maxBatch: 50_000,
  signer: ({ origin }) => noteCheckpointSigner({ origin, keyName: origin, signer: ctSigner }),
});
const issuerKeyHash = sha256(ca.intermediate.certificate.spkiDer);
const ctBase = Date.now(); // distinct millisecond timestamps from here, inside the certificates' validity
for (let done = 0; done < ctCount; done += chunk) {
  const n = Math.min(chunk, ctCount - done);
  await Promise.all(
    Array.from({ length: n }, (_, k) => {
      const who = signers[(done + k) % identities]!;
      return oldCt.append(merkleTreeLeaf(BigInt(ctBase + done + k), { type: 'precert', issuerKeyHash, tbs: who.precertTbs }));
    }),
  );
}
await storage.close();
// As a data directory from before the index: its CT log at index version 0.
const db = new Database(join(dataDir, 'log', 'ct.db'));
db.prepare("UPDATE logs SET index_version = 0 WHERE name = 'ct'").run();
db.close();
// What `keyless serve` does on its first start with this code: the CT log re-indexes.
const reopened = await openLogStorage(DEFAULT_CONFIG.storage, dataDir);
t = performance.now();
await EngineCtLogStore.open(reopened.ct, { origin: 'keyless-ct', signer: ctSigner });
const reindexMs = performance.now() - t;
const indexed = await reopened.ct.getLog('ct')!.search([emailIndexKey(signers[0]!.email)], 'or', ctCount);
if (indexed.length !== Math.ceil(ctCount / identities)) throw new Error(`the re-index found ${indexed.length} entries of one identity`);
await reopened.close();
console.error(`CT log of ${ctCount} re-indexed in ${(reindexMs / 1000).toFixed(1)} s`);

// 3. The explorer on that data.
s = await serve();
const searchMs: number[] = [];
let resultsSeen = 0;
for (let i = 0; i < queries + 20; i++) {
  const email = signers[Math.floor(Math.random() * identities)]!.email;
  const t = performance.now();
  const r = await fetch(`${url}/api/explorer/v1/search?q=${encodeURIComponent(email)}`);
  const body = (await r.json()) as { results: unknown[] };
  if (i >= 20) searchMs.push(performance.now() - t);
  resultsSeen += body.results.length;
}
const indexMs: number[] = [];
for (let i = 0; i < 100; i++) {
  const t = performance.now();
  await (await fetch(`${url}/api/explorer/v1/search?q=${Math.floor(Math.random() * size)}`)).json();
  indexMs.push(performance.now() - t);
}
t = performance.now();
await (await fetch(`${url}/api/explorer/v1/activity`)).json();
const activityColdMs = performance.now() - t;

const browser = await chromium.launch({
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
const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
const pageMs: number[] = [];
let allPassed = 0;
for (let i = 0; i < pages + 3; i++) {
  const index = Math.floor(Math.random() * size);
  t = performance.now();
  await page.goto(`${url}/?log=rekor-v1&index=${index}`);
  await page.waitForSelector('[data-checks-complete]', { state: 'attached', timeout: 60_000 });
  const ms = performance.now() - t;
  const statuses = await page.$$eval('[data-check]', (els) => els.map((e) => e.getAttribute('data-status')));
  if (i >= 3) {
    pageMs.push(ms);
    if (statuses.every((x) => x === 'passed')) allPassed++;
  }
}
const ctPageMs: number[] = [];
let ctAllPassed = 0;
for (let i = 0; i < (ctCount > 0 ? pages + 3 : 0); i++) {
  const index = Math.floor(Math.random() * ctCount);
  t = performance.now();
  await page.goto(`${url}/?log=ct&index=${index}`);
  await page.waitForSelector('[data-checks-complete]', { state: 'attached', timeout: 60_000 });
  const ms = performance.now() - t;
  const statuses = await page.$$eval('[data-check]', (els) =>
    els.map((e) => `${e.getAttribute('data-check')}=${e.getAttribute('data-status')}`),
  );
  if (i >= 3) {
    ctPageMs.push(ms);
    if (statuses.every((x) => x.endsWith('=passed') || x === 'signed-entry-timestamp=unavailable')) ctAllPassed++;
  }
}
t = performance.now();
await page.goto(`${url}/`);
await page.waitForSelector('[data-view="live"] table.entries', { timeout: 60_000 });
const liveMs = performance.now() - t;
await browser.close();
await s.stop();

// 4. The page's JavaScript.
const js = readFileSync(join('dist', 'explorer', 'app.js'));
const css = readFileSync(join('dist', 'explorer', 'app.css'));
const gz = gzipSync(js, { level: 9 }).length;
const br = brotliCompressSync(js, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

console.log(
  `explorer benchmark: Rekor v1 log of ${size.toLocaleString()} entries, ${identities} identities (~${Math.round(size / identities)} entries each)`,
);
console.log(
  `| identity search at the API (${queries} sequential, 20 per page) | ≤ 100 ms p95 | ${fmt(searchMs)} | ${(resultsSeen / (queries + 20)).toFixed(0)} results per answer |`,
);
console.log(`| log index search at the API (100) | — | ${fmt(indexMs)} | |`);
console.log(`| activity summary (newest 500 entries), first call | — | ${activityColdMs.toFixed(0)} ms | |`);
console.log(
  `| entry page, all 4 checks complete, headless Chromium (${pages} fresh loads) | ≤ 1 s | ${fmt(pageMs)} | ${allPassed}/${pages} all passed |`,
);
if (ctCount > 0) {
  console.log(
    `| CT entry page, all 4 checks complete (SET unavailable), headless Chromium (${pages} fresh loads) | ≤ 1 s | ${fmt(ctPageMs)} | ${ctAllPassed}/${pages} as expected |`,
  );
  console.log(
    `| CT log of ${ctCount.toLocaleString()} re-indexed on first start | — | ${(reindexMs / 1000).toFixed(1)} s (${((ctCount / reindexMs) * 1000).toFixed(0)} entries/s) | |`,
  );
}
console.log(`| live view rendered | — | ${liveMs.toFixed(0)} ms | |`);
console.log(
  `| page JavaScript, gzip -9 / brotli (raw) | ≤ 300 KB | ${(gz / 1024).toFixed(1)} / ${(br / 1024).toFixed(1)} KB (${(js.length / 1024).toFixed(1)} KB; CSS ${(gzipSync(css, { level: 9 }).length / 1024).toFixed(1)} KB gz) | |`,
);
if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
else console.log(`data kept in ${dataDir}`);
