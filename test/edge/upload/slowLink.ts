// A slow link on loopback: a TCP proxy in front of a server that lets the bytes towards the server
// through at a fixed rate, as a mine's uplink would. Real sockets both ways; nothing is faked.
import { connect, createServer, type Socket } from 'node:net';
import type { Test } from 'tap';

export interface SlowLink {
  /** the server's URL with the proxy's port */
  url: string;
}

const PIECE = 4096;

export async function slowLink(t: Test, target: string, bytesPerSecond: number): Promise<SlowLink> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(to.port), to.hostname);
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      client.pause();
      let at = 0;
      const step = () => {
        if (upstream.destroyed) return;
        const piece = chunk.subarray(at, at + PIECE);
        at += piece.length;
        upstream.write(piece);
        if (at < chunk.length) setTimeout(step, (piece.length / bytesPerSecond) * 1000);
        else setTimeout(() => client.resume(), (piece.length / bytesPerSecond) * 1000);
      };
      step();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as { port: number }).port;
  return { url: `${to.protocol}//127.0.0.1:${port}` };
}
