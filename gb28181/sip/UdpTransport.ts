// SIP over UDP: one datagram, one message. Our own small transport instead of the `sip` package's,
// whose socket callbacks are not guarded (a parser exception or EADDRINUSE would end the process).
import dgram from 'node:dgram';
import type { Remote } from './SipMessage.ts';

export type OnData = (bytes: Buffer, remote: Remote) => void;

export class UdpTransport {
  readonly #socket: dgram.Socket;
  readonly #onData: OnData;
  readonly #onError: (err: Error) => void;

  private constructor(socket: dgram.Socket, onData: OnData, onError: (err: Error) => void) {
    this.#socket = socket;
    this.#onData = onData;
    this.#onError = onError;
    socket.on('message', (bytes, rinfo) => {
      try {
        this.#onData(bytes, { protocol: 'UDP', address: rinfo.address, port: rinfo.port });
      } catch (err) {
        this.#onError(err as Error);
      }
    });
  }

  /** Binds host:port (port 0: any). Rejects with the socket's error (EADDRINUSE…) instead of throwing it later. */
  static async bind(host: string, port: number, onData: OnData, onError: (err: Error) => void): Promise<UdpTransport> {
    const socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // bursts (every device re-registering after a restart) overflow the default ~200 KiB buffer;
    // the kernel caps this at net.core.rmem_max (raise it for thousands of devices)
    try {
      socket.setRecvBufferSize(8 * 1024 * 1024);
      socket.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      /* best effort */
    }
    // after binding, an error (ICMP unreachable on some systems, a send to a bad address) is logged, never fatal
    socket.on('error', onError);
    return new UdpTransport(socket, onData, onError);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  send(bytes: Buffer, remote: Remote): boolean {
    try {
      this.#socket.send(bytes, remote.port, remote.address, (err) => {
        if (err) this.#onError(err);
      });
      return true;
    } catch (err) {
      this.#onError(err as Error);
      return false;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
