// Signing keys at rest: the encrypted PKCS#8 files `keyless generate-key-pair` writes, and
// cosign's own encrypted format, read back into a SigningKey. Passwords come from the
// caller (the CLI asks the environment or the terminal); nothing here logs or keeps them.
import { createCipheriv, createPrivateKey, generateKeyPairSync, randomBytes, scrypt, type KeyObject } from 'node:crypto';
import { base64Decode, pemDecodeAll, pemEncode } from '../core/encoding.js';
import { asObject, asString } from '../core/json.js';
import { der } from '../x509/index.js';
import { SignError } from './errors.js';
import { SigningKey } from './ephemeral-key.js';

/**
 * scrypt cost of the PKCS#8 files we write: the largest OpenSSL 3 (hence Node, `openssl
 * pkcs8`) reads back under its 32 MiB scrypt memory cap, 16 MiB and ~0.1 s per derivation.
 */
export const KEY_FILE_SCRYPT = { N: 16384, r: 8, p: 1 } as const;

const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_SCRYPT = '1.3.6.1.4.1.11591.4.11';
const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';

/** The PEM labels cosign's encrypted key files carry (`COSIGN` is the older name of the same format). */
const COSIGN_LABELS = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];

/**
 * Upper bound on the memory a cosign key file's scrypt parameters may demand (128·N·r·p
 * bytes): cosign's own (N=2^15..2^16, r=8, p=1) need 32-64 MiB; a crafted file must not
 * make us allocate gigabytes.
 */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N, r, p, maxmem: 128 * N * r * p + 16 * 1024 * 1024 }, (e, key) => (e ? reject(e) : resolve(key))),
  );
}

/**
 * A new ECDSA P-256 key pair (cosign's key type): the private key as PKCS#8 encrypted with
 * PBES2 (scrypt, AES-256-CBC) under `password`, the public key as SPKI PEM. The file is
 * read back before it is returned, so a key that could not be decrypted is never handed out.
 */
export async function generateEncryptedKeyPair(password: string): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privateKeyPem = await encryptPkcs8(privateKey, password);
  const back = createPrivateKey({ key: privateKeyPem, format: 'pem', passphrase: password });
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  if (back.export({ format: 'der', type: 'pkcs8' }).compare(privateKey.export({ format: 'der', type: 'pkcs8' })) !== 0)
    throw new SignError('SIGNING_KEY_INVALID', 'the encrypted private key does not decrypt to the key that was generated');
  return { privateKeyPem, publicKeyPem };
}

/** EncryptedPrivateKeyInfo (RFC 5958) with PBES2 (RFC 8018) over scrypt (RFC 7914) and AES-256-CBC. */
export async function encryptPkcs8(privateKey: KeyObject, password: string): Promise<string> {
  const { N, r, p } = KEY_FILE_SCRYPT;
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = await scryptAsync(password, salt, N, r, p);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const plain = privateKey.export({ format: 'der', type: 'pkcs8' });
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  plain.fill(0);
  key.fill(0);
  const info = der.sequence(
    der.sequence(
      der.oid(OID_PBES2),
      der.sequence(
        der.sequence(der.oid(OID_SCRYPT), der.sequence(der.octetString(salt), der.integer(N), der.integer(r), der.integer(p))),
        der.sequence(der.oid(OID_AES256_CBC), der.octetString(iv)),
      ),
    ),
    der.octetString(encrypted),
  );
  return pemEncode('ENCRYPTED PRIVATE KEY', info);
}

/** How a key file is protected: decides whether a password must be asked for at all. */
export function keyFileFormat(text: string, source: string): 'pkcs8-encrypted' | 'cosign-encrypted' | 'unencrypted' {
  const label = keyBlock(text, source).label;
  if (label === 'ENCRYPTED PRIVATE KEY') return 'pkcs8-encrypted';
  if (COSIGN_LABELS.includes(label)) return 'cosign-encrypted';
  return 'unencrypted';
}

/**
 * Reads a private key file: encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, as generate-key-pair
 * writes), cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` (scrypt + NaCl secretbox), or an
 * unencrypted PKCS#8 / SEC 1 key. `password` is only called for an encrypted file.
 */
export async function loadSigningKey(text: string, password: () => Promise<string>, source: string): Promise<SigningKey> {
  const block = keyBlock(text, source);
  let key: KeyObject;
  if (block.label === 'ENCRYPTED PRIVATE KEY') {
    const pass = await password();
    try {
      key = createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8', passphrase: pass });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_OSSL_BAD_DECRYPT') throw wrongPassword(source);
      throw new SignError('SIGNING_KEY_INVALID', `${source}: cannot decrypt the PKCS#8 key (${(e as Error).message})`, {
        check: 'key',
      });
    }
  } else if (COSIGN_LABELS.includes(block.label)) {
    key = await decryptCosignKey(block.der, await password(), source);
  } else {
    try {
      key = createPrivateKey({ key: block.der, format: 'der', type: block.label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8' });
    } catch (e) {
      throw new SignError('SIGNING_KEY_INVALID', `${source}: not a valid ${block.label} (${(e as Error).message})`, { check: 'key' });
    }
  }
  return new SigningKey(key, source);
}

const KNOWN_LABELS = ['ENCRYPTED PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', ...COSIGN_LABELS];

function keyBlock(text: string, source: string): { label: string; der: Buffer } {
  let blocks;
  try {
    blocks = pemDecodeAll(text, source);
  } catch (e) {
    throw new SignError('SIGNING_KEY_INVALID', `${source}: the PEM block is damaged (${(e as Error).message})`, { check: 'key' });
  }
  const block = blocks.find((b) => KNOWN_LABELS.includes(b.label));
  if (block) return block;
  const found = blocks.map((b) => b.label);
  let what = found.length ? `holds ${found.join(', ')}` : 'holds no PEM block';
  if (found.includes('PUBLIC KEY')) what += ' (a public key: sign with the private half, e.g. cosign.key, and verify with the .pub)';
  if (/-----BEGIN OPENSSH PRIVATE KEY-----/.test(text)) what = 'is an OpenSSH key, which Sigstore cannot sign with';
  throw new SignError(
    'SIGNING_KEY_INVALID',
    `${source} ${what}; a signing key must be ENCRYPTED PRIVATE KEY (keyless generate-key-pair), ENCRYPTED SIGSTORE PRIVATE KEY (cosign generate-key-pair) or an unencrypted PKCS#8 PRIVATE KEY`,
    { check: 'key' },
  );
}

/**
 * cosign's format (go-securesystemslib `encrypted`): PEM around JSON
 * `{kdf: {name: scrypt, params: {N, r, p}, salt}, cipher: {name: nacl/secretbox, nonce}, ciphertext}`,
 * the plaintext a PKCS#8 DER key.
 */
async function decryptCosignKey(body: Buffer, password: string, source: string): Promise<KeyObject> {
  let salt: Buffer, nonce: Buffer, ciphertext: Buffer, N: number, r: number, p: number;
  try {
    const doc = asObject(JSON.parse(body.toString('utf8')), 'key');
    const kdf = asObject(doc.kdf, 'kdf');
    const cipher = asObject(doc.cipher, 'cipher');
    if (kdf.name !== 'scrypt') throw new Error(`key derivation ${JSON.stringify(kdf.name)} is not scrypt`);
    if (cipher.name !== 'nacl/secretbox') throw new Error(`cipher ${JSON.stringify(cipher.name)} is not nacl/secretbox`);
    const params = asObject(kdf.params, 'kdf.params');
    [N, r, p] = [params.N, params.r, params.p].map((v, i) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`kdf.params.${'Nrp'[i]} is not a positive integer`);
      return v;
    }) as [number, number, number];
    if ((N & (N - 1)) !== 0 || N < 2 || 128 * N * r * p > MAX_SCRYPT_MEMORY)
      throw new Error(`scrypt parameters N=${N} r=${r} p=${p} are out of range`);
    salt = base64Decode(asString(kdf.salt, 'kdf.salt'), 'kdf.salt');
    nonce = base64Decode(asString(cipher.nonce, 'cipher.nonce'), 'cipher.nonce');
    ciphertext = base64Decode(asString(doc.ciphertext, 'ciphertext'), 'ciphertext');
    if (nonce.length !== 24) throw new Error(`the nonce has ${nonce.length} bytes, secretbox needs 24`);
  } catch (e) {
    throw new SignError('SIGNING_KEY_INVALID', `${source}: malformed ENCRYPTED SIGSTORE PRIVATE KEY (${(e as Error).message})`, {
      check: 'key',
    });
  }
  // Loaded only for cosign's key format: keyless signing never needs it.
  const { xsalsa20poly1305 } = await import('@noble/ciphers/salsa');
  const secret = await scryptAsync(password, salt, N, r, p);
  let plain: Uint8Array;
  try {
    plain = xsalsa20poly1305(secret, nonce).decrypt(ciphertext);
  } catch {
    throw wrongPassword(source);
  } finally {
    secret.fill(0);
  }
  try {
    return createPrivateKey({ key: Buffer.from(plain), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new SignError('SIGNING_KEY_INVALID', `${source}: the decrypted key is not PKCS#8 (${(e as Error).message})`, { check: 'key' });
  } finally {
    plain.fill(0);
  }
}

function wrongPassword(source: string): SignError {
  return new SignError('SIGNING_KEY_PASSWORD_WRONG', `${source}: the password does not decrypt this key`, { check: 'key.password' });
}
