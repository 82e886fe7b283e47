// CPU per append of the log's own path, in-process (no HTTP): Rekor v1 admission (PEM key,
// signature check in the event loop thread), the sequencer (batch of C concurrent appends,
// one transaction + fsync + signed checkpoint) and the 201 answer (proof, SET, JSON).
// Steadier than the HTTP benchmark on a shared machine; use it for before/after pairs.
// node --import tsx bench/tlog-pipeline.ts [--n 20000] [--concurrency 100] [--rounds 3]
import { softwareSigner } from '../src/core/signer.js';
import { generateKeyPairSync, createHash, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogEngine } from '../src/log/index.js';
import { parseRekorV1ProposedEntry } from '../src/formats/index.js';
import { RekorV1Log, inlineDigestVerifier } from '../src/services/tlog/index.js';
import { admitV1 } from '../src/services/tlog/admit.js';
import { appendOrBusy } from '../src/services/tlog/append.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : dflt);
const total = Number(opt('n', '20000'));
const concurrency = Number(opt('concurrency', '100'));
const rounds = Number(opt('rounds', '3'));

const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const logKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function makeBodies(n: number, tag: string): string[] {
  return Array.from({ length: n }, (_, i) => {
    const artifact = Buffer.from(`${tag} artifact ${i} ${Math.random()}`);
    const digest = createHash('sha256').update(artifact).digest('hex');
    const signature = sign('sha256', artifact, keys.privateKey).toString('base64');
    return JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: digest } },
        signature: { content: signature, publicKey: { content: Buffer.from(pem).toString('base64') } },
      },
    });
  });
}

for (let r = 0; r < rounds; r++) {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-pipeline-'));
  const engine = LogEngine.openSqlite(dir);
  const rekor = await RekorV1Log.open({ engine, baseUrl: 'https://rekor.keyless.test', signer: softwareSigner(logKeys.privateKey) });
  const bodies = makeBodies(total, `r${r}`);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const text = bodies[next++]!;
        const admitted = await admitV1(parseRekorV1ProposedEntry(JSON.parse(text)), inlineDigestVerifier);
        const result = await appendOrBusy(rekor.log, admitted);
        if (result.duplicate) throw new Error('unexpected duplicate');
        JSON.stringify(
          await rekor.entryResponse(
            { index: result.index, body: admitted.body, integratedTime: result.integratedTime, leafHash: result.leafHash },
            result.checkpoint,
          ),
        );
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  console.log(
    `round ${r}: ${total} appends at concurrency ${concurrency}: ${((c.user + c.system) / 1000 / total).toFixed(3)} ms CPU/append (all threads), ${(total / secs).toFixed(0)}/s`,
  );
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
