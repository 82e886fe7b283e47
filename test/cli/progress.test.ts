// The progress bar module with its own stream and clock: drawn only on a terminal, at most
// every 100 ms of the given clock, out of the way of printed lines, erased when done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressBar } from '../../src/cli/progress.js';

function stream(isTTY: boolean, columns = 100) {
  const writes: string[] = [];
  return { isTTY, columns, writes, write: (s: string) => writes.push(s) };
}

test('not a terminal: nothing is written, printed lines pass straight through', () => {
  const s = stream(false);
  const p = progressBar(s, { label: 'verifying', total: 10, unit: 'files' });
  let printed = 0;
  for (let i = 0; i < 10; i++) {
    p.advance();
    p.above(() => printed++);
  }
  p.done();
  assert.deepEqual(s.writes, []);
  assert.equal(printed, 10);
});

test('a terminal: a bar with count, rate and time left, redrawn at most every 100 ms, erased by done()', () => {
  const s = stream(true);
  let now = 0;
  const p = progressBar(s, { label: 'verifying', total: 1000, unit: 'files', now: () => now });
  now = 1000;
  p.advance(250);
  assert.equal(s.writes.length, 1);
  assert.equal(s.writes[0], `\r\x1b[Kverifying [${'#'.repeat(10)}${'-'.repeat(30)}]  25% 250/1000 files, 250 files/s, 3s left`);
  now += 50;
  p.advance(10); // within 100 ms of the last drawing: not drawn
  assert.equal(s.writes.length, 1);
  now += 60;
  p.advance(10);
  assert.equal(s.writes.length, 2);
  assert.match(s.writes[1]!, / 27% 270\/1000 files/);
  p.above(() => s.writes.push('a line\n'));
  assert.deepEqual(s.writes.slice(2), ['\r\x1b[K', 'a line\n']);
  p.above(() => s.writes.push('another\n')); // no bar on screen: nothing to erase
  assert.deepEqual(s.writes.slice(4), ['another\n']);
  now += 200;
  p.advance(730);
  p.done();
  p.done();
  p.advance();
  assert.match(s.writes.at(-2)!, /100% 1000\/1000 files/);
  assert.equal(s.writes.at(-1), '\r\x1b[K');
  for (const w of s.writes) assert.ok(!w.includes('\n') || w.endsWith('line\n') || w === 'another\n');
});

test('bytes are shown in binary units and the line fits a narrow terminal', () => {
  const s = stream(true, 50);
  let now = 0;
  const p = progressBar(s, { label: 'signing', total: 3 * 1024 ** 3, unit: 'bytes', now: () => now });
  now = 2000;
  p.advance(1.5 * 1024 ** 3);
  const line = s.writes[0]!.slice('\r\x1b[K'.length);
  assert.ok(line.length < 50, line);
  assert.match(line, /^signing \[#+-+\]/);
  const wide = stream(true, 200);
  const q = progressBar(wide, { label: 'signing', total: 3 * 1024 ** 3, unit: 'bytes', now: () => now });
  now = 4000;
  q.advance(1.5 * 1024 ** 3);
  assert.match(wide.writes[0]!, / 50% 1\.5 GiB\/3\.0 GiB, 768\.0 MiB\/s, 2s left$/);
});
