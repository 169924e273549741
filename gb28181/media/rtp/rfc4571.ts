// RTP over TCP (RFC 4571): each packet behind a 2-byte big-endian length. The deframer takes the
// byte stream in whatever pieces TCP gives and yields whole packets. Devices that put junk in the
// stream (a half-written packet after a reconnect, an HTTP-ish banner) would desynchronise a naive
// reader for ever, so a frame that does not start like RTP version 2 costs one byte and the reader
// looks again at the next: it resynchronises, and memory stays bounded by one 64 KiB frame.
export class Rfc4571Deframer {
  #buf: Buffer = Buffer.alloc(0);
  /** bytes skipped while resynchronising */
  skipped = 0;

  /** Feeds bytes; returns the whole packets now available. Never throws. */
  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    let at = 0;
    const buf = this.#buf;
    while (buf.length - at >= 3) {
      const len = buf.readUInt16BE(at);
      if (len < 12 || buf[at + 2]! >> 6 !== 2) {
        at++;
        this.skipped++;
        continue;
      }
      if (buf.length - at < 2 + len) break;
      out.push(buf.subarray(at + 2, at + 2 + len));
      at += 2 + len;
    }
    this.#buf = at === 0 ? buf : Buffer.from(buf.subarray(at));
    return out;
  }

  get buffered(): number {
    return this.#buf.length;
  }
}

export function frame4571(packet: Buffer): Buffer {
  const head = Buffer.allocUnsafe(2);
  head.writeUInt16BE(packet.length);
  return Buffer.concat([head, packet]);
}
