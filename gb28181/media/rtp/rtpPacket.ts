// One RTP packet (RFC 3550), read without copying. Total: anything that is not RTP version 2 with
// a whole header (CSRCs, extension, padding inside the packet) is undefined, never an exception.
export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

export function parseRtp(buf: Buffer): RtpPacket | undefined {
  if (buf.length < 12) return undefined;
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return undefined;
  let offset = 12 + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (buf.length < offset + 4) return undefined;
    offset += 4 + buf.readUInt16BE(offset + 2) * 4;
  }
  let end = buf.length;
  if (b0 & 0x20) {
    const pad = buf[end - 1]!;
    if (pad === 0) return undefined;
    end -= pad;
  }
  if (offset > end) return undefined;
  const b1 = buf[1]!;
  return { payloadType: b1 & 0x7f, marker: (b1 & 0x80) !== 0, seq: buf.readUInt16BE(2), timestamp: buf.readUInt32BE(4), ssrc: buf.readUInt32BE(8), payload: buf.subarray(offset, end) };
}

/** A 12-byte header alone (no CSRC, no extension), for a datagram sent as [header, payload]. */
export function rtpHeader(payloadType: number, marker: boolean, seq: number, timestamp: number, ssrc: number): Buffer {
  const h = Buffer.allocUnsafe(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(timestamp >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return h;
}

/** A 12-byte header (no CSRC, no extension) before `payload`. */
export function buildRtp(p: { payloadType: number; marker: boolean; seq: number; timestamp: number; ssrc: number }, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(12 + payload.length);
  out[0] = 0x80;
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  out.writeUInt16BE(p.seq & 0xffff, 2);
  out.writeUInt32BE(p.timestamp >>> 0, 4);
  out.writeUInt32BE(p.ssrc >>> 0, 8);
  payload.copy(out, 12);
  return out;
}

/** `a - b` on the 16-bit sequence circle, in -32768…32767. */
export function seqDiff(a: number, b: number): number {
  return ((a - b + 0x18000) & 0xffff) - 0x8000;
}
