import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** Most request bytes read and discarded after an early answer, and for how long. */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;
export const DRAIN_TIMEOUT_MS = 15_000;

/**
 * An answer sent before the request body was read (413, 415, ...) closes the connection.
 * Node closes the socket as soon as the answer is written; unread bytes in the socket's
 * receive buffer then make the kernel send a reset, and a client still sending its body
 * sees ECONNRESET/EPIPE instead of the answer. So: half-close instead. The answer and a FIN
 * go out, the rest of the body is read and discarded (at most `limitBytes`, for at most
 * `timeoutMs`), and the socket is destroyed when the client has finished or a bound is hit.
 */
export function halfCloseAfterAnswer(req: IncomingMessage, limitBytes = DRAIN_LIMIT_BYTES, timeoutMs = DRAIN_TIMEOUT_MS): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  if (!socket || socket.destroyed) return;
  let seen = 0;
  const stop = (): void => {
    socket.destroy();
  };
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > limitBytes) stop();
  });
  req.resume();
  // Node calls destroySoon() once the answer is written on a connection marked close.
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(stop, timeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    // Destroyed once the answer is flushed and the client has sent everything (or gone).
    const finish = (): void => {
      if (socket.writableFinished) stop();
      else socket.once('finish', stop);
    };
    socket.once('end', finish);
    if (req.complete) finish();
    else req.once('end', finish);
  };
}
