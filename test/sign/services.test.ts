import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectServices, eligible, type SigningConfigLike, type ServiceEntry } from '../../src/sign/services.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const svc = (url: string, majorApiVersion: number, start?: string, end?: string, operator?: string): ServiceEntry => ({
  url,
  majorApiVersion,
  validFor: { start, end },
  operator,
});

function config(over: Partial<SigningConfigLike> = {}): SigningConfigLike {
  return {
    caUrls: [svc('https://ca', 1, '2025-01-01T00:00:00Z')],
    oidcUrls: [svc('https://idp', 1, '2025-01-01T00:00:00Z')],
    rekorTlogUrls: [svc('https://rekor1', 1, '2025-01-01T00:00:00Z')],
    tsaUrls: [svc('https://tsa/api/v1/timestamp', 1, '2025-01-01T00:00:00Z')],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
    ...over,
  };
}

test('the highest supported log API version wins when both are live', () => {
  const s = selectServices(
    config({ rekorTlogUrls: [svc('https://rekor1', 1, '2025-01-01T00:00:00Z'), svc('https://rekor2', 2, '2025-06-01T00:00:00Z')] }),
    NOW,
  );
  assert.deepEqual(
    s.tlogs.map((t) => [t.url, t.majorApiVersion]),
    [['https://rekor2', 2]],
  );
  assert.equal(s.ca.url, 'https://ca');
  assert.equal(s.oidc?.url, 'https://idp');
});

test('unsupported API versions and services outside their window are skipped', () => {
  const s = selectServices(
    config({
      rekorTlogUrls: [
        svc('https://rekor3', 3, '2025-01-01T00:00:00Z'),
        svc('https://future', 2, '2027-01-01T00:00:00Z'),
        svc('https://expired', 2, '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
        svc('https://rekor1', 1, '2025-01-01T00:00:00Z'),
      ],
    }),
    NOW,
  );
  assert.deepEqual(
    s.tlogs.map((t) => t.url),
    ['https://rekor1'],
  );
});

test('validity windows are inclusive at both ends', () => {
  const exact = '2026-01-01T00:00:00Z';
  assert.equal(eligible([svc('https://a', 1, exact)], [1], NOW).length, 1);
  assert.equal(eligible([svc('https://a', 1, '2025-01-01T00:00:00Z', exact)], [1], NOW).length, 1);
  assert.equal(eligible([svc('https://a', 1, '2025-01-01T00:00:00Z', '2025-12-31T23:59:59Z')], [1], NOW).length, 0);
});

test('ALL takes one service per operator, newest first', () => {
  const s = selectServices(
    config({
      rekorTlogUrls: [
        svc('https://old-a', 1, '2025-01-01T00:00:00Z', undefined, 'a.dev'),
        svc('https://new-a', 1, '2025-06-01T00:00:00Z', undefined, 'a.dev'),
        svc('https://b', 1, '2025-03-01T00:00:00Z', undefined, 'b.dev'),
      ],
      rekorTlogConfig: { selector: 'ALL' },
    }),
    NOW,
  );
  assert.deepEqual(
    s.tlogs.map((t) => t.url),
    ['https://new-a', 'https://b'],
  );
});

test('ANY takes the newest; the protobuf enum numbers work too', () => {
  const s = selectServices(
    config({
      tsaUrls: [svc('https://t1', 1, '2025-01-01T00:00:00Z', undefined, 'x'), svc('https://t2', 1, '2025-05-01T00:00:00Z', undefined, 'y')],
      tsaConfig: { selector: 2, count: 0 },
    }),
    NOW,
  );
  assert.deepEqual(
    s.tsas.map((t) => t.url),
    ['https://t2'],
  );
});

test('EXACT:n takes n services and fails when fewer are usable', () => {
  const logs = [svc('https://a', 1, '2025-01-01T00:00:00Z', undefined, 'a'), svc('https://b', 1, '2025-02-01T00:00:00Z', undefined, 'b')];
  assert.equal(selectServices(config({ rekorTlogUrls: logs, rekorTlogConfig: { selector: 'EXACT', count: 2 } }), NOW).tlogs.length, 2);
  assert.throws(() => selectServices(config({ rekorTlogUrls: logs, rekorTlogConfig: { selector: 'EXACT', count: 3 } }), NOW), {
    code: 'NO_USABLE_SERVICE',
  });
  assert.throws(() => selectServices(config({ rekorTlogUrls: logs, rekorTlogConfig: { selector: 'EXACT', count: 0 } }), NOW), {
    code: 'SIGNING_CONFIG_INVALID',
  });
});

test('an undefined selector is an error', () => {
  assert.throws(() => selectServices(config({ rekorTlogConfig: { selector: 0 } }), NOW), { code: 'SIGNING_CONFIG_INVALID' });
});

test('no usable CA or log is a clear error', () => {
  assert.throws(() => selectServices(config({ caUrls: [svc('https://ca', 2, '2025-01-01T00:00:00Z')] }), NOW), {
    code: 'NO_USABLE_SERVICE',
    check: 'caUrls',
  });
  assert.throws(() => selectServices(config({ rekorTlogUrls: [] }), NOW), { code: 'NO_USABLE_SERVICE', check: 'rekorTlogUrls' });
});

test('a Rekor v2 log without any TSA cannot be used', () => {
  assert.throws(() => selectServices(config({ rekorTlogUrls: [svc('https://r2', 2, '2025-01-01T00:00:00Z')], tsaUrls: [] }), NOW), {
    code: 'NO_USABLE_SERVICE',
    check: 'tsaUrls',
  });
  // A Rekor v1 log alone is fine: its SET gives the time.
  assert.deepEqual(selectServices(config({ tsaUrls: [] }), NOW).tsas, []);
});

test('dates may be Date objects (FORMATS parser output)', () => {
  const s = selectServices(
    config({ caUrls: [{ url: 'https://ca2', majorApiVersion: 1, validFor: { start: new Date('2025-01-01T00:00:00Z') } }] }),
    NOW,
  );
  assert.equal(s.ca.url, 'https://ca2');
});
