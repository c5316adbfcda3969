import net from 'node:net';

/**
 * A TCP relay to a real server, to make an outage the client cannot tell from a real one:
 * `stall()` stops forwarding (a server that hangs: nothing answers, connections stay open),
 * `cut()` drops every connection and refuses new ones (a server that is gone).
 */
export async function startTcpRelay(target: URL) {
  const sockets = new Set<net.Socket>();
  let stalled = false;
  const server = net.createServer((client) => {
    if (stalled) {
      // Accepted but never answered, like a frozen server.
      sockets.add(client);
      client.on('error', () => {});
      client.pause();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    /** `target` through the relay. */
    url(): string {
      const parsed = new URL(target.toString());
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    stall(): void {
      stalled = true;
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    /** Drops every connection and closes the port. */
    cut(): Promise<void> {
      return new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
    },
  };
}
