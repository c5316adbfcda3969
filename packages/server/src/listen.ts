import { isIP } from 'node:net';
import { AgentrixError } from '@agentrix/core';
import { createAdaptorServer } from '@hono/node-server';

/** How long close() lets responses in flight finish before it cuts their connections. */
const CLOSE_GRACE_MS = 500;

export interface ListeningServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * Listens with Node's HTTP server. Refuses (`INVALID_ARGUMENT`) to listen beyond loopback
 * without tokens: an open control plane on a network would let anyone drive the agents.
 */
export async function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  options: { port?: number; host?: string; tokens: boolean },
): Promise<ListeningServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 4111;
  if (!isLoopback(host) && !options.tokens) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Refusing to listen on ${host} without tokens: anyone who reaches it could drive the agents. Pass \`tokens\` (e.g. [{ token, scope: 'admin' }]) or listen on 127.0.0.1`,
      { details: { host } },
    );
  }
  const server = createAdaptorServer({ fetch: fetch as never, hostname: host });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new AgentrixError(
          'INVALID_ARGUMENT',
          error.code === 'EADDRINUSE'
            ? `Port ${port} on ${host} is in use: pick another port`
            : `Cannot listen on ${host}:${port}: ${error.message}`,
          { cause: error, details: { host, port } },
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${actualPort}`,
    host,
    port: actualPort,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const http = server as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
        // Responses in flight (an SSE stream's last bytes) get a grace to finish; then whatever
        // is still open is cut, so close() never waits on a client.
        // A keep-alive socket whose response ends after close() began is not closed by Node by
        // itself: close idle ones again until none is left.
        const idle = setInterval(() => http.closeIdleConnections?.(), 10);
        const grace = setTimeout(() => http.closeAllConnections?.(), CLOSE_GRACE_MS);
        server.close(() => {
          clearInterval(idle);
          clearTimeout(grace);
          resolve();
        });
        http.closeIdleConnections?.();
      });
      return closing;
    },
  };
}
