import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  parseSignedNote,
  formatSignedNote,
  signNote,
  verifyNote,
  noteKeyHash,
  noteKeyId,
  parseCheckpoint,
  formatCheckpoint,
  signCheckpoint,
  verifySignedCheckpoint,
  signNoteSignature,
  leafHash,
  verifyInclusion,
} from '../../src/merkle/index.js';
import { join } from 'node:path';
import { CONFORMANCE_DIR } from '../support/conformance.js';

const ed = generateKeyPairSync('ed25519');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ed25519');
const root = createHash('sha256').update('root').digest();
const body = formatCheckpoint({ origin: 'log.example.test', size: 736, rootHash: root });

test('Ed25519 key ID follows C2SP: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)', () => {
  const raw = ed.publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  const expected = createHash('sha256')
    .update('log.example.test\n')
    .update(Buffer.from([1]))
    .update(raw)
    .digest();
  assert.deepEqual(noteKeyHash('log.example.test', ed.publicKey), expected);
  assert.deepEqual(noteKeyId('log.example.test', ed.publicKey), expected.subarray(0, 4));
});

test('ECDSA key ID is SHA-256 of the DER SPKI (the RFC 6962 log ID)', () => {
  const spki = ec.publicKey.export({ format: 'der', type: 'spki' });
  assert.deepEqual(noteKeyHash('anything', ec.publicKey), createHash('sha256').update(spki).digest());
});

test('real Rekor v2 data: staging key ID, cosigned checkpoint and inclusion proof (shared conformance case)', () => {
  const dir = join(CONFORMANCE_DIR, 'rekor2-checkpoint-cosigned');
  const root = JSON.parse(readFileSync(`${dir}/trusted_root.json`, 'utf8'));
  const bundle = JSON.parse(readFileSync(`${dir}/bundle.sigstore.json`, 'utf8'));
  const log = root.tlogs.find((l: { baseUrl: string }) => l.baseUrl === 'https://log2025-alpha1.rekor.sigstage.dev');
  const key = createPublicKey({ key: Buffer.from(log.publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' });
  const name = 'log2025-alpha1.rekor.sigstage.dev';
  assert.equal(noteKeyHash(name, key).toString('base64'), log.logId.keyId);
  const tle = bundle.verificationMaterial.tlogEntries[0];
  const note = tle.inclusionProof.checkpoint.envelope as string;
  assert.ok(parseSignedNote(note).signatures.length >= 2, 'cosigned');
  const cp = verifySignedCheckpoint(note, name, key);
  assert.equal(cp.origin, name);
  const leaf = leafHash(Buffer.from(tle.canonicalizedBody, 'base64'));
  const proof = tle.inclusionProof.hashes.map((x: string) => Buffer.from(x, 'base64'));
  verifyInclusion(Number(tle.inclusionProof.logIndex), cp.size, leaf, proof, cp.rootHash);
  assert.throws(
    () =>
      verifySignedCheckpoint(
        note.replace(/\n[0-9]+\n/, (m) => `\n${Number(m.trim()) + 1}\n`),
        name,
        key,
      ),
    { code: 'NOTE_SIGNATURE_INVALID' },
  );
});

test('sign and verify a note with Ed25519 and with ECDSA P-256', () => {
  for (const kp of [ed, ec]) {
    const note = signNote(body, 'log.example.test', kp.privateKey);
    const parsed = verifyNote(note, 'log.example.test', kp.publicKey);
    assert.equal(parsed.body, body);
    assert.equal(parsed.signatures.length, 1);
    const cp = verifySignedCheckpoint(note, 'log.example.test', kp.publicKey);
    assert.equal(cp.size, 736);
    assert.deepEqual(Buffer.from(cp.rootHash), root);
  }
  // ECDSA signatures are DER over SHA-256 of the body.
  const note = parseSignedNote(signNote(body, 'n', ec.privateKey));
  assert.ok(nodeVerify('sha256', Buffer.from(body), ec.publicKey, note.signatures[0]!.signature));
});

test('unknown signature lines are ignored; the log line may come anywhere', () => {
  const mine = signNoteSignature(body, 'log.example.test', ed.privateKey);
  const witness = signNoteSignature(body, 'witness.example', other.privateKey);
  const sameNameOtherKey = signNoteSignature(body, 'log.example.test', other.privateKey);
  const note = formatSignedNote({ body, signatures: [witness, sameNameOtherKey, mine] });
  verifyNote(note, 'log.example.test', ed.publicKey);
});

test('tampered notes fail with stable codes', () => {
  const note = signNote(body, 'log.example.test', ed.privateKey);
  assert.throws(() => verifyNote(note, 'other.name', ed.publicKey), { code: 'NOTE_SIGNATURE_MISSING' });
  assert.throws(() => verifyNote(note, 'log.example.test', other.publicKey), { code: 'NOTE_SIGNATURE_MISSING' });
  assert.throws(() => verifyNote(note.replace('736', '737'), 'log.example.test', ed.publicKey), { code: 'NOTE_SIGNATURE_INVALID' });
  // Flip one signature byte (keep the key ID).
  const p = parseSignedNote(note);
  const sig = Buffer.from(p.signatures[0]!.signature);
  sig[10]! ^= 1;
  const flipped = formatSignedNote({ body, signatures: [{ ...p.signatures[0]!, signature: sig }] });
  assert.throws(() => verifyNote(flipped, 'log.example.test', ed.publicKey), { code: 'NOTE_SIGNATURE_INVALID' });
  // A key hint that does not match: no signature for this key.
  const hint = Buffer.from(p.signatures[0]!.keyId);
  hint[0]! ^= 1;
  const badHint = formatSignedNote({ body, signatures: [{ ...p.signatures[0]!, keyId: hint }] });
  assert.throws(() => verifyNote(badHint, 'log.example.test', ed.publicKey), { code: 'NOTE_SIGNATURE_MISSING' });
});

test('malformed notes are refused by the strict parser', () => {
  const note = signNote(body, 'log.example.test', ed.privateKey);
  const bad = [
    note.slice(0, -1), // no final newline
    note.replace('\n\n', '\n'), // no blank line
    note.replace('\u2014', '-'), // ASCII dash
    note.replace('\u2014 log.example.test ', '\u2014 log.example.test  '), // double space
    note.replace(/ ([A-Za-z0-9+/=]+)\n$/, ' !!!!\n'), // bad base64
    note.replace(/ ([A-Za-z0-9+/=]+)\n$/, ' AAAA\n'), // too short
    note.replace('log.example.test ', 'bad+name '),
    `\n\n\u2014 a AAAAAAAA\n`, // empty body
    note.replace('736', '7\u00016'), // control character
    `${body}\n`, // no signature lines
    42,
  ];
  for (const b of bad) assert.throws(() => parseSignedNote(b), { code: 'FORMAT_INVALID' }, JSON.stringify(b));
});

test('checkpoint bodies parse strictly and round-trip with extension lines', () => {
  const text = formatCheckpoint({ origin: 'rekor.example - 123', size: 5, rootHash: root, extensions: ['Timestamp: 1'] });
  assert.equal(text, `rekor.example - 123\n5\n${root.toString('base64')}\nTimestamp: 1\n`);
  const cp = parseCheckpoint(text);
  assert.deepEqual(cp.extensions, ['Timestamp: 1']);
  assert.equal(cp.origin, 'rekor.example - 123');
  const bad = [
    'o\n5\n',
    `o\n05\n${root.toString('base64')}\n`,
    `o\n-1\n${root.toString('base64')}\n`,
    `o\n5\n${root.subarray(1).toString('base64')}\n`,
    `o\n5\n${root.toString('base64url')}\n`,
    `o\n5\n${root.toString('base64')}\n\n`,
    `\n5\n${root.toString('base64')}\n`,
    `o\n5\n${root.toString('base64')}`,
    `o\n99999999999999999\n${root.toString('base64')}\n`,
  ];
  for (const b of bad) assert.throws(() => parseCheckpoint(b), { code: 'FORMAT_INVALID' }, JSON.stringify(b));
  assert.throws(() => formatCheckpoint({ origin: 'o', size: 1, rootHash: root, extensions: [''] }), { code: 'FORMAT_INVALID' });
  const signed = signCheckpoint({ origin: 'o.example', size: 1, rootHash: root }, 'o.example', ec.privateKey);
  assert.equal(verifySignedCheckpoint(signed, 'o.example', ec.publicKey).origin, 'o.example');
});
