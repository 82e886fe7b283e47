// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Issue 8, item 12: anonymous requests cannot fill the device-code table and lock device
// logins out: each client address holds at most a few unclaimed codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, Agent } from 'node:http';
import { startIdp } from './helpers.js';
import { MAX_DEVICE_CODES_PER_CLIENT } from '../../src/services/idp/device-flow.js';

/** A form POST from a chosen loopback source address (127.0.0.0/8 is all local on Linux). */
function postFrom(agent: Agent, url: string, params: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams(params).toString();
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('a flood of anonymous device-code requests from one client does not block device logins', async () => {
  const idp = await startIdp();
  const flooder = new Agent({ keepAlive: true, maxSockets: 8, localAddress: '127.0.0.1' } as ConstructorParameters<typeof Agent>[0]);
  const user = new Agent({ keepAlive: true, localAddress: '127.0.0.2' } as ConstructorParameters<typeof Agent>[0]);
  try {
    const codeUrl = `${idp.issuer}/device/code`;
    const statuses = new Map<number, number>();
    for (let round = 0; round < 25; round++) {
      const answers = await Promise.all(Array.from({ length: 40 }, () => postFrom(flooder, codeUrl, { client_id: 'sigstore' })));
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }
    assert.equal(statuses.get(200), MAX_DEVICE_CODES_PER_CLIENT, `answers: ${JSON.stringify([...statuses])}`);
    assert.equal(statuses.get(429), 1000 - MAX_DEVICE_CODES_PER_CLIENT);

    // Another client still gets a code, completes the login and redeems it.
    const start = await postFrom(user, codeUrl, { client_id: 'sigstore' });
    assert.equal(start.status, 200);
    const approve = await postFrom(user, `${idp.issuer}/device`, { user_code: String(start.json.user_code), email: 'device@example.com' });
    assert.equal(approve.status, 200);
    const token = await postFrom(user, `${idp.issuer}/token`, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: String(start.json.device_code),
      client_id: 'sigstore',
    });
    assert.equal(token.status, 200);
    assert.equal(typeof token.json.id_token, 'string');

    // A completed login no longer counts against its client: the user can start more.
    for (let i = 0; i < MAX_DEVICE_CODES_PER_CLIENT; i++)
      assert.equal((await postFrom(user, codeUrl, { client_id: 'sigstore' })).status, 200);
    assert.equal((await postFrom(user, codeUrl, { client_id: 'sigstore' })).status, 429);
  } finally {
    flooder.destroy();
    user.destroy();
    await idp.close();
  }
});
