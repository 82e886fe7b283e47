import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * What one connection may hold, and for how long. Given to Node's HTTP server itself:
 * fastify's own `requestTimeout`/`connectionTimeout` options do not reach a server made
 * by a `serverFactory` (which `keyless serve` uses), so they are not relied on.
 */
export interface ConnectionLimits {
  /** Complete request headers must arrive within this time (Node answers 408). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this time, however it trickles (408). */
  requestTimeoutMs: number;
  /** A socket with no traffic either way for this long is closed. */
  idleTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
  /** Open connections from one client address; more are closed at once. */
  maxConnectionsPerClient: number;
  /** Open connections in total; more are refused. */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  maxConnectionsPerClient: 64,
  maxConnections: 4096,
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Node's HTTP server with every timeout set and a per-client connection cap. */
export function createHttpServer(handler: Handler, limits: Partial<ConnectionLimits> = {}): Server {
  const l = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
  const server = createServer(
    {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      // How often Node checks the two timeouts above (30 s by default: too coarse for short limits).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(Math.min(l.headersTimeoutMs, l.requestTimeoutMs) / 4))),
    },
    handler,
  );
  // No 'timeout' listener: Node destroys an idle socket.
  server.setTimeout(l.idleTimeoutMs);
  server.maxConnections = l.maxConnections;
  const perClient = new Map<string, number>();
  server.on('connection', (socket) => {
    const client = socket.remoteAddress ?? '';
    const open = (perClient.get(client) ?? 0) + 1;
    perClient.set(client, open);
    socket.once('close', () => {
      const left = (perClient.get(client) ?? 1) - 1;
      if (left === 0) perClient.delete(client);
      else perClient.set(client, left);
    });
    if (open > l.maxConnectionsPerClient) socket.destroy();
  });
  return server;
}
