// `keyless generate-key-pair`: cosign's command, writing an encrypted PKCS#8 private key
// (mode 0600) and its public key. Nothing is written until both are ready.
import { existsSync } from 'node:fs';
import { KeylessError } from '../../core/errors.js';
import { generateEncryptedKeyPair } from '../../sign/index.js';
import { printable } from '../printable.js';
import { readPassword } from '../password.js';
import { writeFileAtomic } from '../write.js';

export async function generateKeyPairCommand(opts: { outputKeyPrefix: string; force?: boolean }): Promise<void> {
  const prefix = opts.outputKeyPrefix;
  if (prefix === '') throw new KeylessError('USAGE', '--output-key-prefix must not be empty', { check: 'usage' });
  const keyPath = `${prefix}.key`;
  const pubPath = `${prefix}.pub`;
  if (!opts.force) {
    for (const path of [keyPath, pubPath]) {
      if (existsSync(path))
        throw new KeylessError(
          'KEY_FILE_EXISTS',
          `${path} already exists; pass --force to replace it, or choose another --output-key-prefix`,
          {
            check: 'output',
          },
        );
    }
  }
  const password = await readPassword({ what: `the new private key ${keyPath}`, confirm: true });
  const { privateKeyPem, publicKeyPem } = await generateEncryptedKeyPair(password);
  writeFileAtomic(keyPath, privateKeyPem, true, 0o600);
  writeFileAtomic(pubPath, publicKeyPem, true, 0o644);
  process.stderr.write(`${printable(`Private key written to ${keyPath}`)}\n${printable(`Public key written to ${pubPath}`)}\n`);
}
