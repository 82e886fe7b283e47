import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { canonicalize } from '../../src/core/canonical-json.js';
import { setPayload } from '../../src/services/tlog/logs.js';

test('the SET payload template is byte-for-byte the JCS of {body, integratedTime, logID, logIndex}', () => {
  const logId = randomBytes(32).toString('hex');
  for (const [len, time, index] of [
    [0, 0, 0],
    [1, 1700000000, 1],
    [557, 1764057600, 123456789],
    [2000, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  ] as const) {
    const body = randomBytes(len).toString('base64');
    assert.equal(setPayload(body, time, logId, index), canonicalize({ body, integratedTime: time, logID: logId, logIndex: index }));
  }
  // Anything the template could get wrong falls back to canonicalize.
  for (const [body, time, id, index] of [
    ['a"b', 1, logId, 1],
    ['QQ==', 1.5, logId, 1],
    ['QQ==', 1, 'AB', -0],
    ['QQ==', 1, logId, 2 ** 60],
  ] as const) {
    assert.equal(setPayload(body, time, id, index), canonicalize({ body, integratedTime: time, logID: id, logIndex: index }));
  }
});
