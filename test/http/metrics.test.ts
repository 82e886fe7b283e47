// The Prometheus registry's series: one per label set whatever the order the labels are
// given in, never two label sets in one series (the remembered keys are length-prefixed),
// and label values escaped as the text format asks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from '../../src/services/http/index.js';

test('a counter keeps one series per label set, in any key order, and never merges two label sets', () => {
  const registry = new MetricsRegistry();
  const c = registry.counter('t_total', 'test');
  c.inc({ method: 'POST', route: '/a', status: 201 });
  c.inc({ status: 201, route: '/a', method: 'POST' });
  c.inc({ method: 'POST', route: '/a', status: '201' }, 3);
  // Label sets whose values, joined naively, would read alike.
  c.inc({ a: 'x', b: 'y' });
  c.inc({ a: '1:x1:b1:y' });
  c.inc({ a: 'x1:b1:y' });
  assert.equal(c.get({ route: '/a', status: 201, method: 'POST' }), 5);
  assert.equal(c.get({ a: 'x', b: 'y' }), 1);
  assert.equal(c.get({ a: '1:x1:b1:y' }), 1);
  assert.equal(c.get({ a: 'x1:b1:y' }), 1);
  assert.equal(c.get({ a: 'x' }), 0);
  const lines = registry.render().split('\n');
  assert.ok(lines.includes('t_total{method="POST",route="/a",status="201"} 5'), lines.join('\n'));
  assert.ok(lines.includes('t_total{a="x",b="y"} 1'));
});

test('label values are escaped (backslash, newline, double quote) and histograms count per bucket', () => {
  const registry = new MetricsRegistry();
  registry.counter('e_total', 'test').inc({ v: 'a\\b\n"c"' });
  const h = registry.histogram('h_seconds', 'test', [0.1, 1]);
  h.observe(0.05, { route: '/r' });
  h.observe(0.5, { route: '/r' });
  h.observe(5, { route: '/r' });
  const text = registry.render();
  assert.ok(text.includes('e_total{v="a\\\\b\\n\\"c\\""} 1'), text);
  for (const line of [
    'h_seconds_bucket{le="0.1",route="/r"} 1',
    'h_seconds_bucket{le="1",route="/r"} 2',
    'h_seconds_bucket{le="+Inf",route="/r"} 3',
    'h_seconds_count{route="/r"} 3',
  ])
    assert.ok(text.includes(line), `${line}\n${text}`);
});
