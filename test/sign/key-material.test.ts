// The ephemeral private key never leaves memory: not in the bundle, not in any request
// to a service, not in any file, not on stdout/stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto, { type KeyObject } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureStack } from './stack-fixture.js';

/** Every encoding of a secret a leak could take: raw, hex, base64, base64url, PKCS#8 DER/PEM body. */
function secretForms(key: KeyObject): Buffer[] {
  const jwk = key.export({ format: 'jwk' });
  const d = Buffer.from(jwk.d as string, 'base64url');
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  return [
    d,
    d.toString('hex'),
    d.toString('base64'),
    d.toString('base64url'),
    pkcs8.toString('base64').slice(0, 40),
    pkcs8.subarray(0, 40),
  ].map((f) => (typeof f === 'string' ? Buffer.from(f) : f));
}

function assertNoSecret(haystack: Buffer, forms: Buffer[], where: string): void {
  for (const f of forms) assert.equal(haystack.includes(f), false, `private key material found in ${where}`);
  assert.equal(haystack.includes(Buffer.from('PRIVATE KEY')), false, `a PEM private key found in ${where}`);
}

test('no ephemeral key material reaches a request, the bundle, a file or the output', async () => {
  const stack = await startFixtureStack();
  const made: KeyObject[] = [];
  const original = crypto.generateKeyPairSync;
  // Observe the keys the signer generates (the test's only window onto them).
  (crypto as { generateKeyPairSync: unknown }).generateKeyPairSync = (...args: unknown[]) => {
    const pair = (original as (...a: unknown[]) => { privateKey: KeyObject; publicKey: KeyObject })(...args);
    made.push(pair.privateKey);
    return pair;
  };
  syncBuiltinESMExports();
  const out: Buffer[] = [];
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'keyless-keymat-'));
  try {
    const { KeylessSigner } = await import('../../src/sign/signer.js');
    const { selectServices } = await import('../../src/sign/services.js');
    const { writeFileAtomic } = await import('../../src/cli/write.js');
    const capture = (chunk: string | Uint8Array): boolean => {
      out.push(Buffer.from(chunk));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    for (const v of [1, 2] as const) {
      const signer = new KeylessSigner({ services: selectServices(stack.signingConfig(v) as never), getToken: () => stack.token() });
      const a = await signer.signMessage(Buffer.from('artifact'));
      const b = await signer.signDsse(Buffer.from('{"_type":"x"}'), 'application/vnd.in-toto+json');
      signer.dispose();
      writeFileAtomic(join(dir, `m${v}.sigstore.json`), JSON.stringify(a.bundle));
      writeFileAtomic(join(dir, `d${v}.sigstore.json`), JSON.stringify(b.bundle));
    }
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
    (crypto as { generateKeyPairSync: unknown }).generateKeyPairSync = original;
    syncBuiltinESMExports();
    await stack.close();
  }
  const ephemeral = made.filter((k) => k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1');
  assert.equal(ephemeral.length, 2, 'one key per signer, and the test saw them');
  const forms = ephemeral.flatMap(secretForms);
  for (const f of [stack.fulcio, stack.rekorV1, stack.rekorV2, stack.tsa]) {
    for (const r of f.requests) assertNoSecret(r.body, forms, `a request to ${f.url}${r.path}`);
    assert.ok(f.requests.length > 0);
  }
  for (const name of readdirSync(dir)) assertNoSecret(readFileSync(join(dir, name)), forms, name);
  assert.equal(readdirSync(dir).length, 4);
  assertNoSecret(Buffer.concat(out), forms, 'stdout/stderr');
});
