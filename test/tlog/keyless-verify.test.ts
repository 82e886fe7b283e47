import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { verify } from '../../src/verify/index.js';
import { startLogServer, post, hashedRekordV1, signArtifact, keyBundle, trustedRootJson, signerPem, type LogServer } from './helpers.js';
import { transparencyLogEntryFromV1 } from '../../src/services/tlog/index.js';

let s: LogServer;
before(async () => {
  s = await startLogServer();
});
after(async () => {
  await s.close();
});

function tamper(b: Record<string, unknown>, f: (tle: any) => void): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(b));
  f(copy.verificationMaterial.tlogEntries[0]);
  return copy;
}

test("Keyless's verifier accepts a Rekor v1 bundle from this log and rejects tampered ones", async () => {
  // A few entries first, so that the proof has hashes.
  for (let i = 0; i < 3; i++) await post(`${s.url}/api/v1/log/entries`, hashedRekordV1(signArtifact(Buffer.from(`filler ${i}`))));
  const artifact = Buffer.from('verified by keyless');
  const signed = signArtifact(artifact);
  const res = await post(`${s.url}/api/v1/log/entries`, hashedRekordV1(signed));
  assert.equal(res.status, 201);
  const bundle = keyBundle(transparencyLogEntryFromV1(res.json), signed);
  const root = trustedRootJson(s);
  await verify(bundle, artifact, { publicKey: signerPem }, root);
  await assert.rejects(verify(bundle, Buffer.from('another artifact'), { publicKey: signerPem }, root));
  for (const bad of [
    tamper(bundle, (t) => { t.inclusionProof.rootHash = Buffer.alloc(32, 1).toString('base64'); }),
    tamper(bundle, (t) => { t.inclusionProof.hashes[0] = Buffer.alloc(32, 2).toString('base64'); }),
    tamper(bundle, (t) => { t.inclusionProof.checkpoint.envelope = t.inclusionProof.checkpoint.envelope.replace(/\n[0-9]+\n/, '\n3\n'); }),
    tamper(bundle, (t) => { t.canonicalizedBody = Buffer.from(Buffer.from(t.canonicalizedBody, 'base64').toString().replace(/"value":"[0-9a-f]{4}/, '"value":"0000')).toString('base64'); }),
    tamper(bundle, (t) => { t.inclusionPromise.signedEntryTimestamp = Buffer.alloc(70, 3).toString('base64'); }),
  ]) {
    await assert.rejects(verify(bad, artifact, { publicKey: signerPem }, root), (e: { code?: string }) => typeof e.code === 'string');
  }
});
