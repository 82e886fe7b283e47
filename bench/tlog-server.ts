// A standalone Rekor v1 + v2 log server for benchmarks and the crash test:
// node --import tsx bench/tlog-server.ts DATA_DIR [--workers N]
// Keys are generated once into DATA_DIR (0600) and reused; prints "READY <url>" when listening.
import { softwareSigner } from '../src/core/signer.js';
import { generateKeyPairSync, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHttpApp } from '../src/services/http/index.js';
import { LogEngine } from '../src/log/index.js';
import {
  RekorV1Log,
  RekorV2Log,
  WorkerDigestVerifier,
  inlineDigestVerifier,
  rekorV1Service,
  rekorV2Service,
} from '../src/services/tlog/index.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: tlog-server.ts DATA_DIR [--workers N] [--port P]');
const args = process.argv.slice(3);
const workers = Number(args[args.indexOf('--workers') + 1] ?? 0) || 0;
const port = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : 0;
mkdirSync(dir, { recursive: true, mode: 0o700 });

function loadKey(name: string, make: () => { privateKey: KeyObject }): { privateKey: KeyObject; publicKey: KeyObject } {
  const file = join(dir!, name);
  if (!existsSync(file)) {
    const { privateKey } = make();
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  }
  const privateKey = createPrivateKey(readFileSync(file));
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

const v1Keys = loadKey('rekor-v1.key.pem', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
const v2Keys = loadKey('rekor-v2.key.pem', () => generateKeyPairSync('ed25519'));
const engine = LogEngine.openSqlite(dir);
const v1 = await RekorV1Log.open({ engine, baseUrl: 'https://rekor.keyless.test', signer: softwareSigner(v1Keys.privateKey) });
const v2 = await RekorV2Log.open({ engine, baseUrl: 'https://log2025.keyless.test', signer: softwareSigner(v2Keys.privateKey) });
const verifier = workers > 0 ? new WorkerDigestVerifier(workers) : inlineDigestVerifier;
// Ready means ready: the verification threads have started and warmed up.
if (verifier instanceof WorkerDigestVerifier) await verifier.ready();
const app = createHttpApp({ bodyLimit: 1 << 20 });
await app.register(rekorV1Service({ log: v1, verifier }));
await app.register(rekorV2Service({ log: v2, verifier }));
const url = await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`READY ${url}\n`);
const shutdown = async (): Promise<void> => {
  await app.close();
  await engine.close();
  await verifier.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
