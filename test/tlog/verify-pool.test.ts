import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, createHash, randomBytes } from 'node:crypto';
import { WorkerDigestVerifier, inlineDigestVerifier } from '../../src/services/tlog/index.js';

test('digest signatures are checked the same in a worker thread and inline', async () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = (k: typeof ec) => k.publicKey.export({ format: 'der', type: 'spki' });
  const msg = Buffer.from('payload');
  const digest = createHash('sha256').update(msg).digest();
  const pool = new WorkerDigestVerifier(2);
  try {
    for (const v of [pool, inlineDigestVerifier]) {
      const results = await Promise.all([
        v.verify(spki(ec), digest, sign('sha256', msg, ec.privateKey), 'sha256'),
        v.verify(spki(rsa), digest, sign('sha256', msg, rsa.privateKey), 'sha256'),
        v.verify(spki(ec), digest, sign('sha256', Buffer.from('other'), ec.privateKey), 'sha256'),
        v.verify(spki(ec), digest, randomBytes(70), 'sha256'),
        v.verify(randomBytes(91), digest, sign('sha256', msg, ec.privateKey), 'sha256'),
        v.verify(spki(ec), digest.subarray(1), sign('sha256', msg, ec.privateKey), 'sha256'),
        v.verify(spki(ec), digest, sign('sha256', msg, ec.privateKey), 'sha384'),
      ]);
      assert.deepEqual(results, [true, true, false, false, false, false, false]);
    }
    // Many at once are spread over the workers and all answered.
    const many = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        pool.verify(spki(ec), digest, i % 2 ? sign('sha256', msg, ec.privateKey) : randomBytes(8), 'sha256'),
      ),
    );
    assert.deepEqual(
      many,
      Array.from({ length: 200 }, (_, i) => i % 2 === 1),
    );
  } finally {
    await pool.close();
  }
});
