// Passwords of key files: from COSIGN_PASSWORD or KEYLESS_PASSWORD (as cosign, a variable
// set to the empty string means an empty password on purpose), else typed on the terminal
// without echo. A password is never printed, logged or kept beyond its use.
import { KeylessError } from '../core/errors.js';

export const PASSWORD_ENVS = ['COSIGN_PASSWORD', 'KEYLESS_PASSWORD'] as const;

export interface PasswordRequest {
  /** What the password is for, in the prompt: e.g. "the new private key cosign.key". */
  what: string;
  /** A new key: ask twice, and refuse an empty password typed at the prompt. */
  confirm: boolean;
}

export async function readPassword(request: PasswordRequest): Promise<string> {
  for (const name of PASSWORD_ENVS) {
    const value = process.env[name];
    if (value !== undefined) return value;
  }
  if (!process.stdin.isTTY) {
    throw new KeylessError(
      'PASSWORD_REQUIRED',
      `a password is needed for ${request.what}: set COSIGN_PASSWORD (or KEYLESS_PASSWORD), or run on a terminal to type it`,
      { check: 'password' },
    );
  }
  const first = await promptHidden(`Enter password for ${request.what}: `);
  if (!request.confirm) return first;
  if (first === '') {
    throw new KeylessError(
      'PASSWORD_EMPTY',
      'an empty password leaves the private key unprotected; type a password, or set COSIGN_PASSWORD= (empty) to mean it',
      { check: 'password' },
    );
  }
  const again = await promptHidden(`Enter password for ${request.what} again: `);
  if (again !== first)
    throw new KeylessError('PASSWORD_MISMATCH', 'the two passwords typed differ; nothing was written', { check: 'password' });
  return first;
}

/**
 * Reads one line from the terminal in raw mode, echoing nothing; Ctrl-C stops the command.
 * Echo goes off before the prompt is shown: a line typed the moment the prompt appears is
 * never echoed.
 */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  return new Promise((resolve) => {
    let value = '';
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          process.exit(130);
        }
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
    process.stderr.write(prompt);
  });
}
