// Device authorization grant (RFC 8628), for terminals with no browser.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../http/index.js';
import { devicePage } from './login-page.js';
import { devTokenClaims, parseEmail, parseTtl, signIdToken } from './tokens.js';
import {
  MAX_PENDING_CODES,
  checkChallenge,
  checkPkce,
  html,
  prune,
  required,
  str,
  type GrantHandler,
  type IdpContext,
  type Params,
} from './oauth.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

interface PendingDevice {
  clientId: string;
  /** Who asked for it (address, IPv6 /64), for the per-client limit. */
  requester: string;
  createdAt: number;
  userCode: string;
  codeChallenge: string | undefined;
  email: string | undefined;
  expiresAt: number;
}

/** Unclaimed device codes (no login completed yet) one client address may hold. */
export const MAX_DEVICE_CODES_PER_CLIENT = 10;
/** An unclaimed code younger than this is never evicted to make room for another. */
const UNCLAIMED_GRACE_MS = 60_000;

/** The client an anonymous request is counted against: its IPv4 address or IPv6 /64. */
function requesterOf(ip: string): string {
  if (!ip.includes(':') || ip.startsWith('::ffff:')) return ip;
  const groups = ip.split('::')[0]!.split(':');
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** User codes avoid look-alike characters (RFC 8628 §6.1). */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

function userCode(): string {
  const bytes = randomBytes(8);
  const chars = [...bytes].map((b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}

/** Registers `/device/code` and the `/device` page, and returns the device-code grant. */
export function deviceGrant(
  app: FastifyInstance,
  ctx: IdpContext,
  options: { deviceCodeTtlSeconds?: number; deviceIntervalSeconds?: number } = {},
): GrantHandler {
  const devices = new Map<string, PendingDevice>();
  const deviceTtlMs = (options.deviceCodeTtlSeconds ?? 600) * 1000;
  const interval = options.deviceIntervalSeconds ?? 1;

  app.post('/device/code', async (req, reply) => {
    const params = (req.body ?? {}) as Params;
    const clientId = required(params, 'client_id');
    const challenge = str(params, 'code_challenge');
    if (challenge !== undefined) checkChallenge(challenge, str(params, 'code_challenge_method'));
    prune(devices);
    const requester = requesterOf(req.ip);
    const now = Date.now();
    let mine = 0;
    for (const d of devices.values()) if (d.requester === requester && d.email === undefined) mine++;
    if (mine >= MAX_DEVICE_CODES_PER_CLIENT) {
      throw new HttpError('TOO_MANY_PENDING_CODES', `this client already has ${mine} device logins waiting; complete or let them expire`);
    }
    if (devices.size >= MAX_PENDING_CODES) {
      // Full: the oldest unclaimed code past its grace period gives way, so a flood of
      // anonymous requests cannot lock device logins out for the codes' whole lifetime.
      const victim = [...devices].find(([, d]) => d.email === undefined && now - d.createdAt > UNCLAIMED_GRACE_MS);
      if (!victim) throw new HttpError('TOO_MANY_PENDING_CODES', 'too many pending device logins; try again shortly');
      devices.delete(victim[0]);
    }
    const deviceCode = randomBytes(32).toString('base64url');
    const code = userCode();
    devices.set(deviceCode, {
      clientId,
      requester,
      createdAt: now,
      userCode: code,
      codeChallenge: challenge,
      email: undefined,
      expiresAt: now + deviceTtlMs,
    });
    const issuer = ctx.issuer();
    return reply.header('cache-control', 'no-store').send({
      device_code: deviceCode,
      user_code: code,
      verification_uri: `${issuer}/device`,
      verification_uri_complete: `${issuer}/device?user_code=${encodeURIComponent(code)}`,
      expires_in: Math.floor(deviceTtlMs / 1000),
      interval,
    });
  });

  app.get('/device', async (req, reply) => {
    const q = req.query as Params;
    const code = typeof q.user_code === 'string' ? q.user_code.slice(0, 32) : '';
    return html(reply, 200, devicePage(code, 'form'));
  });

  app.post('/device', async (req, reply) => {
    const body = (req.body ?? {}) as Params;
    const code = (str(body, 'user_code') ?? '').toUpperCase().trim().slice(0, 32);
    const entry = [...devices.values()].find((d) => d.userCode === code && d.expiresAt >= Date.now() && d.email === undefined);
    if (!entry) return html(reply, 400, devicePage(code, 'form', 'Unknown or expired code.'));
    let email: string;
    try {
      email = parseEmail(str(body, 'email'));
    } catch {
      return html(reply, 400, devicePage(code, 'form', 'Please enter a valid email address.'));
    }
    entry.email = email;
    return html(reply, 200, devicePage(code, 'done'));
  });

  return {
    grantType: DEVICE_GRANT,
    async redeem(params, ctx) {
      const deviceCode = required(params, 'device_code');
      const pending = devices.get(deviceCode);
      if (!pending) throw new HttpError('invalid_grant', 'device_code is unknown or already used');
      if (pending.expiresAt < Date.now()) {
        devices.delete(deviceCode);
        throw new HttpError('expired_token', 'the device code expired before the login was completed');
      }
      if (required(params, 'client_id') !== pending.clientId)
        throw new HttpError('invalid_grant', 'client_id is not the one the device code was issued to');
      if (pending.email === undefined) throw new HttpError('authorization_pending', 'the user has not completed the login yet');
      devices.delete(deviceCode);
      if (pending.codeChallenge !== undefined) checkPkce(required(params, 'code_verifier'), pending.codeChallenge);
      const ttl = parseTtl(undefined);
      return {
        idToken: await signIdToken(
          ctx.signer,
          devTokenClaims(ctx.issuer(), { kind: 'email', email: pending.email }, pending.clientId, ttl),
        ),
        ttl,
      };
    },
  };
}
