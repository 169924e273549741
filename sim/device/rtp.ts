// RTP (RFC 3550) packets for a PS stream as GB/T 28181 Annex C sends it: payload type 96, 90 kHz
// clock, one timestamp per picture, the marker bit on a picture's last packet; over TCP each
// packet is prefixed by its 16-bit length (RFC 4571). A kernel candidate.

export const RTP_HEADER_BYTES = 12;
/** the limit on a whole RTP packet (fits a 1500-byte MTU with IP/UDP and a VPN margin) */
export const MAX_RTP_PACKET = 1400;

export interface RtpState {
  ssrc: number;
  payloadType: number;
  /** next sequence number (16 bits, wraps) */
  seq: number;
}

export function rtpHeader(s: RtpState, timestamp: number, marker: boolean): Buffer {
  const h = Buffer.alloc(RTP_HEADER_BYTES);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | (s.payloadType & 0x7f);
  h.writeUInt16BE(s.seq & 0xffff, 2);
  h.writeUInt32BE(timestamp >>> 0, 4);
  h.writeUInt32BE(s.ssrc >>> 0, 8);
  s.seq = (s.seq + 1) & 0xffff;
  return h;
}

/**
 * Cuts one unit (a PS pack) into RTP packets of at most `maxPacket` bytes, all with `timestamp`
 * (90 kHz, wrapped to 32 bits), the marker on the last. `payloadSize` forces a smaller cut (the
 * "PES split across packets" variant cuts at odd offsets so headers straddle packets).
 */
export function packetise(s: RtpState, unit: Uint8Array, timestamp: number, maxPacket = MAX_RTP_PACKET, payloadSize?: number): Buffer[] {
  const room = Math.max(1, Math.min(payloadSize ?? Infinity, maxPacket - RTP_HEADER_BYTES));
  const out: Buffer[] = [];
  const ts = Math.floor(timestamp) % 2 ** 32;
  for (let at = 0; at < unit.length; at += room) {
    const last = at + room >= unit.length;
    out.push(Buffer.concat([rtpHeader(s, ts, last), unit.subarray(at, at + room)]));
  }
  return out;
}

/** RFC 4571: a 16-bit big-endian length, then the packet. */
export function frame4571(packet: Uint8Array): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(packet.length, 0);
  return Buffer.concat([len, packet]);
}

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** Parses one RTP packet (CSRCs, extension and padding honoured); undefined when it is not one. */
export function parseRtp(b: Buffer): RtpPacket | undefined {
  if (b.length < RTP_HEADER_BYTES || b[0]! >> 6 !== 2) return undefined;
  let at = RTP_HEADER_BYTES + (b[0]! & 0x0f) * 4;
  if (b[0]! & 0x10) {
    if (b.length < at + 4) return undefined;
    at += 4 + b.readUInt16BE(at + 2) * 4;
  }
  let end = b.length;
  if (b[0]! & 0x20) end -= b[b.length - 1]!;
  if (at > end) return undefined;
  return { marker: (b[1]! & 0x80) !== 0, payloadType: b[1]! & 0x7f, seq: b.readUInt16BE(2), timestamp: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), payload: b.subarray(at, end) };
}

/** Splits an RFC 4571 byte stream into packets, keeping the unfinished tail for the next chunk. */
export class Rfc4571Reader {
  private pending: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let at = 0;
    while (this.pending.length - at >= 2) {
      const len = this.pending.readUInt16BE(at);
      if (this.pending.length - at - 2 < len) break;
      out.push(this.pending.subarray(at + 2, at + 2 + len));
      at += 2 + len;
    }
    this.pending = this.pending.subarray(at);
    return out;
  }
}
