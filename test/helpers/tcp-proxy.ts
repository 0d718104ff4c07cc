import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A loopback TCP proxy a test can cut: what a database that drops its connections and goes away looks like to a client. */
export interface TcpProxy {
  port: number;
  /** Destroys every connection open through it (both ends). */
  cut(): void;
  /** Stops listening: new connections are refused (ECONNREFUSED). */
  refuse(): Promise<void>;
  /** Listens again on the same port. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port to `targetPort` on 127.0.0.1. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  let server: Server;
  const listen = async (port: number) => {
    server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      track(client);
      track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  };
  const port = await listen(0);
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  const refuse = async () => {
    cut();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  };
  return {
    port,
    cut,
    refuse,
    accept: async () => {
      await listen(port);
    },
    close: refuse,
  };
}
