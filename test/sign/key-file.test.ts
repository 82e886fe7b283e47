// Key files for key-pair signing, without a server: the encrypted PKCS#8 generate-key-pair
// writes, cosign's encrypted format (built here per go-securesystemslib's `encrypted`
// layout; test/cli/peer-interop.test.ts reads a real cosign.key), and the clear errors for
// everything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes, scryptSync, verify } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa';
import { generateEncryptedKeyPair, loadSigningKey, keyFileFormat, KEY_FILE_SCRYPT } from '../../src/sign/index.js';
import { isKeylessError } from '../../src/core/errors.js';

const pw = (p: string) => () => Promise.resolve(p);
const code = (c: string) => (e: unknown) => isKeylessError(e) && e.code === c;

function cosignKeyFile(password: string, params = { N: 32768, r: 8, p: 1 }, overrides: Record<string, unknown> = {}): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  // Out-of-range parameters are refused before any derivation: encrypt those with sane ones.
  const usable = 128 * params.N * params.r * params.p <= 256 * 1024 * 1024 && (params.N & (params.N - 1)) === 0;
  const key = scryptSync(password, salt, 32, { ...(usable ? params : { N: 16384, r: 8, p: 1 }), maxmem: 256 * 1024 * 1024 });
  const ciphertext = xsalsa20poly1305(key, nonce).encrypt(privateKey.export({ format: 'der', type: 'pkcs8' }));
  const doc = {
    kdf: { name: 'scrypt', params, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
    ...overrides,
  };
  const body = Buffer.from(JSON.stringify(doc))
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${body}-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
}

test('generateEncryptedKeyPair: PBES2-scrypt PKCS#8 that Node decrypts with the password only; loadSigningKey signs with it', async () => {
  const { privateKeyPem, publicKeyPem } = await generateEncryptedKeyPair('pw');
  assert.equal(keyFileFormat(privateKeyPem, 'k'), 'pkcs8-encrypted');
  assert.throws(() => createPrivateKey({ key: privateKeyPem, passphrase: 'other' }));
  const der = Buffer.from(privateKeyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  // The scrypt parameters written are the documented ones (N=16384 is 0x4000).
  assert.ok(der.includes(Buffer.from([0x02, 0x02, 0x40, 0x00])), `N=${KEY_FILE_SCRYPT.N} is in the file`);
  const key = await loadSigningKey(privateKeyPem, pw('pw'), 'k.key');
  assert.equal(key.publicKeyPem, publicKeyPem);
  const sig = key.sign(Buffer.from('data'));
  assert.ok(verify('sha256', Buffer.from('data'), publicKeyPem, sig));
  await assert.rejects(loadSigningKey(privateKeyPem, pw('wrong'), 'k.key'), code('SIGNING_KEY_PASSWORD_WRONG'));
  key.dispose();
  assert.throws(() => key.sign(Buffer.from('x')), code('KEY_DISPOSED'));
});

test("cosign's ENCRYPTED SIGSTORE PRIVATE KEY: decrypted with the password; a wrong one, or a tampered file, is refused", async () => {
  const file = cosignKeyFile('cosign pw');
  assert.equal(keyFileFormat(file, 'c'), 'cosign-encrypted');
  const key = await loadSigningKey(file, pw('cosign pw'), 'cosign.key');
  assert.match(key.publicKeyPem, /BEGIN PUBLIC KEY/);
  await assert.rejects(loadSigningKey(file, pw('nope'), 'cosign.key'), code('SIGNING_KEY_PASSWORD_WRONG'));
  const older = file.replaceAll('SIGSTORE', 'COSIGN');
  await loadSigningKey(older, pw('cosign pw'), 'old.key');
});

test('malformed or unsupported key files: one clear error naming the format, never a crash', async () => {
  const cases: [string, string, RegExp, string][] = [
    [cosignKeyFile('p', { N: 1 << 22, r: 8, p: 1 }), 'SIGNING_KEY_INVALID', /out of range/, 'huge scrypt N'],
    [cosignKeyFile('p', { N: 65536, r: 64, p: 1 }), 'SIGNING_KEY_INVALID', /out of range/, '512 MiB of scrypt memory'],
    [cosignKeyFile('p', { N: 1000, r: 8, p: 1 }), 'SIGNING_KEY_INVALID', /out of range/, 'N not a power of two'],
    [cosignKeyFile('p', undefined, { kdf: { name: 'pbkdf2' } }), 'SIGNING_KEY_INVALID', /not scrypt/, 'another KDF'],
    [cosignKeyFile('p', undefined, { cipher: { name: 'aes', nonce: '' } }), 'SIGNING_KEY_INVALID', /not nacl\/secretbox/, 'another cipher'],
    [
      '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGpzb24=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n',
      'SIGNING_KEY_INVALID',
      /malformed ENCRYPTED SIGSTORE PRIVATE KEY/,
      'not JSON',
    ],
    [
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      'SIGNING_KEY_INVALID',
      /holds PUBLIC KEY \(a public key/,
      'a public key',
    ],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n', 'SIGNING_KEY_INVALID', /OpenSSH key/, 'OpenSSH'],
    ['hello', 'SIGNING_KEY_INVALID', /holds no PEM block/, 'no PEM'],
    [
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      'SIGNING_KEY_UNSUPPORTED',
      /a key of type ed25519; key-pair signing takes ECDSA P-256/,
      'Ed25519',
    ],
  ];
  for (const [text, expected, message, what] of cases) {
    await assert.rejects(
      loadSigningKey(text, pw('p'), 'bad.key'),
      (e: unknown) => code(expected)(e) && message.test((e as Error).message),
      what,
    );
  }
});

test('an unencrypted key never asks for a password', async () => {
  const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  assert.equal(keyFileFormat(pem, 'k'), 'unencrypted');
  await loadSigningKey(pem, () => Promise.reject(new Error('asked for a password')), 'plain.key');
  const sec1 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'sec1' }).toString();
  await loadSigningKey(sec1, () => Promise.reject(new Error('asked for a password')), 'sec1.key');
});
