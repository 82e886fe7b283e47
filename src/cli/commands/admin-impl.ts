// `keyless admin rotate-log rekor-v2`: loaded only when it runs.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KeylessError } from '../../core/errors.js';
import { DEFAULT_CONFIG, FileKeyStore, loadConfigFile, lockDataDir, rotateLogShard } from '../../server/index.js';

export function rotateLogCommand(opts: { dataDir: string; config?: string; url?: string }): void {
  const dataDir = resolve(opts.dataDir);
  if (!existsSync(join(dataDir, 'keys'))) {
    throw new KeylessError(
      'DATA_DIR_INVALID',
      `${dataDir} is not a Keyless data directory (no keys/; start keyless serve once to create it)`,
    );
  }
  const keyType = (opts.config ? loadConfigFile(opts.config) : DEFAULT_CONFIG).keys.rekorV2;
  const unlock = lockDataDir(dataDir);
  try {
    const keyStore = new FileKeyStore(dataDir, (m) => process.stderr.write(`warning: ${m}\n`));
    const { retired, started } = rotateLogShard(dataDir, keyStore, keyType, new Date(), opts.url === undefined ? {} : { url: opts.url });
    process.stdout.write(
      `Retired Rekor v2 shard ${retired.name} (<public URL>${retired.path || '/'}) for writes at ${retired.end!.toISOString()}; it stays readable and trusted for what it logged.\n` +
        (started.url
          ? `Started shard ${started.name} at ${started.url} with a new ${keyType} key; its checkpoint origin is its host name, ${new URL(started.url).hostname}. Route that host to this server (the Host header selects the shard).\n`
          : `Started shard ${started.name} at <public URL>${started.path} with a new ${keyType} key; its checkpoint origin is <public URL host[:port]>${started.path}, its own (cosign verifies a Rekor v2 shard only when it has a host name of its own: --url).\n`) +
        'The next keyless serve writes both into trusted_root.json, points signing_config.json at the new shard, and publishes them through TUF.\n',
    );
  } finally {
    unlock();
  }
}
