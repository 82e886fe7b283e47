// How the CLI gets an identity token: flags and files, the process's environment, the
// terminal, and the desktop's browser. The token sources themselves are the library's.
import { readFileSync, statSync } from 'node:fs';
import { fsProblem } from './fs-problem.js';
import { IdentityError, obtainIdentityToken, type TokenSource } from '../sign/index.js';

/** `--identity-token` holds either the JWT itself or the path of a file that does. */
export function readTokenArgument(value: string): string {
  const v = value.trim();
  let isFile = false;
  if (v.length < 4096) {
    try {
      isFile = statSync(v).isFile();
    } catch {
      isFile = false;
    }
  }
  if (isFile) {
    try {
      return readFileSync(v, 'utf8').trim();
    } catch (e) {
      throw new IdentityError('FILE_UNREADABLE', `cannot read the identity token file ${v} (${fsProblem(e)})`);
    }
  }
  if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(v)) return v;
  throw new IdentityError('TOKEN_MALFORMED', '--identity-token is neither a JWT nor a readable file', { check: 'identity-token' });
}

export interface CliIdentityOptions {
  source: TokenSource | undefined;
  /** `--identity-token`: the token or a file holding it; read only when it is the source used. */
  identityToken?: string | undefined;
  oidcIssuer?: string | undefined;
  oidcClientId?: string | undefined;
  oidcClientSecret?: string | undefined;
  oidcRedirectUrl?: string | undefined;
  browserCommand?: string | undefined;
  disableAmbient?: boolean | undefined;
  log: (line: string) => void;
}

/** The library's token sources, fed from this process: its environment, its terminal, its desktop. */
export async function obtainCliToken(o: CliIdentityOptions): Promise<string> {
  const interactive = process.stdin.isTTY === true;
  const browserCommand = o.browserCommand ?? nonEmpty(process.env.BROWSER) ?? (interactive ? systemOpener() : undefined);
  const useFlag = o.identityToken !== undefined && (o.source === undefined || o.source === 'identity-token');
  const { jwt } = await obtainIdentityToken({
    source: o.source,
    identityToken: useFlag ? readTokenArgument(o.identityToken as string) : undefined,
    env: process.env,
    oidcIssuer: o.oidcIssuer,
    oidcClientId: o.oidcClientId,
    oidcClientSecret: o.oidcClientSecret,
    oidcRedirectUrl: o.oidcRedirectUrl,
    openUrl: browserCommand ? (url) => openBrowser(browserCommand, url, o.log) : undefined,
    interactive,
    canOpenBrowser: canOpenBrowser(),
    disableAmbient: o.disableAmbient,
    log: o.log,
  });
  return jwt;
}

/** The desktop's URL opener, for a person at a terminal (the URL is printed either way). */
function systemOpener(): string | undefined {
  if (process.platform === 'darwin') return 'open';
  if (process.platform === 'linux' && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) return 'xdg-open';
  return undefined;
}

function canOpenBrowser(): boolean {
  if (process.env.BROWSER) return true;
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/** Runs the browser command (split on spaces) with the URL; failure to start is only reported. */
function openBrowser(command: string, url: string, log: (line: string) => void): void {
  const [cmd, ...args] = command.split(/\s+/).filter(Boolean);
  if (!cmd) return;
  const failed = (e: Error) => log(`could not start the browser command "${cmd}" (${e.message}); open the URL above yourself`);
  // node:child_process is loaded only here: every signing command loads this module, few open a browser.
  import('node:child_process').then(({ spawn }) => {
    try {
      const child = spawn(cmd, [...args, url], { stdio: 'ignore', detached: true });
      child.on('error', failed);
      child.unref();
    } catch (e) {
      failed(e as Error);
    }
  }, failed);
}

export function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
