// Builds a large Rekor v1 log for the read benchmarks (not part of the test suite):
// node --import tsx bench/tlog-bulkload.ts DATA_DIR COUNT
// Entries are hashedrekord 0.0.1 bodies of realistic size (a P-256 public key PEM, a
// random digest and signature); they go through the engine's normal append path in
// large batches (one transaction and one signed checkpoint per batch).
import { softwareSigner } from '../src/core/signer.js';
import { generateKeyPairSync, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogEngine } from '../src/log/index.js';
import { RekorV1Log } from '../src/services/tlog/index.js';

const [dir, countText] = process.argv.slice(2);
if (!dir || !countText) throw new Error('usage: tlog-bulkload.ts DATA_DIR COUNT');
const count = Number(countText);
mkdirSync(dir, { recursive: true, mode: 0o700 });

function loadKey(name: string, make: () => { privateKey: KeyObject }): { privateKey: KeyObject; publicKey: KeyObject } {
  const file = join(dir!, name);
  if (!existsSync(file)) writeFileSync(file, make().privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const privateKey = createPrivateKey(readFileSync(file));
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
const v1Keys = loadKey('rekor-v1.key.pem', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
loadKey('rekor-v2.key.pem', () => generateKeyPairSync('ed25519'));

const engine = LogEngine.openSqlite(dir);
const rekor = await RekorV1Log.open({
  engine,
  baseUrl: 'https://rekor.keyless.test',
  signer: softwareSigner(v1Keys.privateKey),
  maxBatch: 50_000,
});
const signerPem = Buffer.from(
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString(),
).toString('base64');

function body(): Buffer {
  const digest = randomBytes(32).toString('hex');
  const sig = randomBytes(71).toString('base64');
  return Buffer.from(
    `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"${digest}"}},"signature":{"content":"${sig}","publicKey":{"content":"${signerPem}"}}}}`,
  );
}

const start = rekor.log.size;
const t0 = performance.now();
const chunk = 50_000;
for (let done = 0; done < count; done += chunk) {
  const n = Math.min(chunk, count - done);
  await Promise.all(Array.from({ length: n }, () => rekor.log.append(body())));
  if ((done / chunk) % 20 === 0)
    console.log(`${start + done + n} entries, ${((done + n) / ((performance.now() - t0) / 1000)).toFixed(0)}/s`);
}
console.log(`log size ${rekor.log.size}; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
await engine.close();
