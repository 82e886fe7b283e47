// The `tuf` configuration section and durations: defaults, accepted forms, errors naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/server/index.js';
import { parseDuration, formatDuration, DEFAULT_TUF_PERIODS } from '../../src/tuf/index.js';

test('durations: "30s", "15m", "12h", "7d"; anything else is refused with the field named', () => {
  assert.equal(parseDuration('30s', 'f'), 30_000);
  assert.equal(parseDuration('15m', 'f'), 900_000);
  assert.equal(parseDuration('12h', 'f'), 43_200_000);
  assert.equal(parseDuration('7d', 'f'), 604_800_000);
  for (const bad of ['7 days', '0s', '-1d', '1.5h', '', 7, null, '1w']) {
    assert.throws(
      () => parseDuration(bad, 'config.tuf.x'),
      (e: { code?: string; message: string }) => e.code === 'TUF_DURATION_INVALID' && e.message.startsWith('config.tuf.x'),
    );
  }
  assert.equal(formatDuration(604_800_000), '7d');
  assert.equal(formatDuration(90_000), '90s');
});

test('tuf section: defaults (timestamp 7 days, root at least 6 months), overrides, unknown fields and bad values refused', () => {
  const defaults = parseConfig({}).tuf;
  assert.equal(defaults.enabled, true);
  assert.equal(defaults.path, '/tuf');
  assert.deepEqual(defaults.periods, DEFAULT_TUF_PERIODS);
  assert.ok(defaults.periods.root >= 182 * 86_400_000);
  const custom = parseConfig({
    tuf: { timestampExpiry: '30s', snapshotExpiry: '1d', targetsExpiry: '30d', rootExpiry: '200d', path: '/trust/tuf' },
  }).tuf;
  assert.deepEqual(custom.periods, { timestamp: 30_000, snapshot: 86_400_000, targets: 30 * 86_400_000, root: 200 * 86_400_000 });
  assert.equal(custom.path, '/trust/tuf');
  const refused = (tuf: unknown, field: RegExp) =>
    assert.throws(
      () => parseConfig({ tuf }),
      (e: { code?: string; message: string }) => e.code === 'FORMAT_INVALID' && field.test(e.message),
    );
  refused({ timestampExpiry: '7 days' }, /^config\.tuf\.timestampExpiry: /);
  refused({ timestampExpiry: '2d', snapshotExpiry: '1d' }, /^config\.tuf\.timestampExpiry: must not be longer than snapshotExpiry/);
  refused({ rootExpiry: 365 }, /^config\.tuf\.rootExpiry: /);
  refused({ path: 'tuf' }, /^config\.tuf\.path: /);
  refused({ enabled: 'yes' }, /^config\.tuf\.enabled: /);
  refused({ timestampExpiri: '1d' }, /^config\.tuf\.timestampExpiri: unknown field/);
});
