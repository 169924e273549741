// SIP over TCP (RFC 3261 §18.3): messages framed by their Content-Length on a byte stream. Devices
// connect to us and keep their connection; a request to a TCP device goes back over that same
// connection (its flow), never a new one to its Contact (which NAT and firewalls would block).
import net from 'node:net';
import { SIP_MAX_BYTES, badRequestBytes, type Remote } from './SipMessage.ts';
import type { OnData } from './UdpTransport.ts';

const MAX_HEADER_BYTES = 16 * 1024;
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\d{1,9})[ \t]*$/im;

export interface TcpOptions {
  /** a connection closed (the device behind it is unreachable until it connects again) */
  onClose?: (remote: Remote) => void;
  /** connections at once; the next is closed at once */
  maxConnections: number;
  /** a connection that sends nothing for this long is closed (devices keepalive every minute or so) */
  idleSeconds: number;
}

export function flowKey(r: { address: string; port: number }): string {
  return `${r.address}|${r.port}`;
}

/** Cuts a TCP byte stream into SIP messages; calls `onError` (and stops) when the stream is not SIP. */
export class SipStreamFramer {
  #buffer: Buffer = Buffer.alloc(0);
  #failed = false;

  constructor(
    private readonly onMessage: (bytes: Buffer) => void,
    private readonly onError: (reason: string) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.#failed) return;
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    for (;;) {
      // keep-alive CRLFs (RFC 5626) between messages
      let start = 0;
      while (start < this.#buffer.length && (this.#buffer[start] === 0x0d || this.#buffer[start] === 0x0a)) start++;
      if (start) this.#buffer = this.#buffer.subarray(start);
      if (!this.#buffer.length) return;
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#buffer.length > MAX_HEADER_BYTES) return this.#fail('headers too long');
        return;
      }
      if (end > MAX_HEADER_BYTES) return this.#fail('headers too long');
      const head = this.#buffer.subarray(0, end).toString('latin1');
      const cl = CONTENT_LENGTH.exec(head);
      const length = cl ? Number(cl[1]) : 0;
      if (end + 4 + length > SIP_MAX_BYTES) return this.#fail('message too long');
      if (this.#buffer.length < end + 4 + length) return;
      const message = this.#buffer.subarray(0, end + 4 + length);
      this.#buffer = this.#buffer.subarray(end + 4 + length);
      this.onMessage(Buffer.from(message));
    }
  }

  #fail(reason: string): void {
    this.#failed = true;
    this.#buffer = Buffer.alloc(0);
    this.onError(reason);
  }
}

export class TcpTransport {
  readonly #server: net.Server;
  readonly #flows = new Map<string, net.Socket>();
  readonly #onData: OnData;
  readonly #onError: (err: Error) => void;
  readonly #options: TcpOptions;

  private constructor(server: net.Server, onData: OnData, onError: (err: Error) => void, options: TcpOptions) {
    this.#server = server;
    this.#onData = onData;
    this.#onError = onError;
    this.#options = options;
    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', onError);
  }

  static async listen(host: string, port: number, onData: OnData, onError: (err: Error) => void, options: TcpOptions): Promise<TcpTransport> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new TcpTransport(server, onData, onError, options);
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  #accept(socket: net.Socket): void {
    socket.on('error', () => {}); // resets are normal; 'close' follows
    const remote: Remote = { protocol: 'TCP', address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    if (this.#flows.size >= this.#options.maxConnections || !remote.address) {
      socket.destroy();
      return;
    }
    const key = flowKey(remote);
    this.#flows.set(key, socket);
    socket.setKeepAlive(true, 30_000);
    socket.setTimeout(this.#options.idleSeconds * 1000, () => socket.destroy());
    const framer = new SipStreamFramer(
      (bytes) => {
        try {
          this.#onData(bytes, remote);
        } catch (err) {
          this.#onError(err as Error);
        }
      },
      (reason) => {
        // the stream cannot be resynchronised: say why, then close it
        socket.end(badRequestBytes(reason));
        socket.destroy();
      },
    );
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('close', () => {
      if (this.#flows.get(key) !== socket) return;
      this.#flows.delete(key);
      try {
        this.#options.onClose?.(remote);
      } catch (err) {
        this.#onError(err as Error);
      }
    });
  }

  /** Connects to `remote` (cascade: we are the upper platform's client); the connection is then its flow. */
  async connect(remote: Remote): Promise<void> {
    const socket = net.connect({ host: remote.address, port: remote.port, noDelay: true });
    socket.setTimeout(5000, () => socket.destroy(new Error(`TCP connect to ${remote.address}:${remote.port} timed out`)));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.#accept(socket);
  }

  /** Whether the device's connection is still up. */
  has(remote: Remote): boolean {
    return this.#flows.has(flowKey(remote));
  }

  /** Writes on the connection the remote came in on; false when it is gone. */
  send(bytes: Buffer, remote: Remote): boolean {
    const socket = this.#flows.get(flowKey(remote));
    if (!socket || socket.destroyed) return false;
    socket.write(bytes);
    return true;
  }

  get connections(): number {
    return this.#flows.size;
  }

  async close(): Promise<void> {
    for (const s of this.#flows.values()) s.destroy();
    this.#flows.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
