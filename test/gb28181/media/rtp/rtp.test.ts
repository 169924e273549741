import t from 'tap';
import fc from 'fast-check';
import { ReorderBuffer } from '../../../../gb28181/media/rtp/ReorderBuffer.ts';
import { Rfc4571Deframer, frame4571 } from '../../../../gb28181/media/rtp/rfc4571.ts';
import { parseRtp, buildRtp, type RtpPacket } from '../../../../gb28181/media/rtp/rtpPacket.ts';
import { RawDepacketizer } from '../../../../gb28181/media/rtp/RawDepacketizer.ts';
import type { DemuxedFrame } from '../../../../gb28181/media/ps/PsDemuxer.ts';
import { accessUnits, annexBClip, RtpPacketiser } from '../../../helpers/rtpPs.ts';

const pkt = (seq: number): RtpPacket => ({ payloadType: 96, marker: false, seq: seq & 0xffff, timestamp: 0, ssrc: 1, payload: Buffer.alloc(1) });

t.test('reorder buffer: in order, reordered, duplicate, lost, sequence wrap', async (t) => {
  const r = new ReorderBuffer(8);
  const out: number[] = [];
  const push = (s: number): void => void out.push(...r.push(pkt(s)).map((p) => p.seq));
  for (const s of [65533, 65534, 65535, 0, 2, 1, 1, 3]) push(s);
  t.same(out, [65533, 65534, 65535, 0, 1, 2, 3], 'in sequence order across the wrap');
  t.equal(r.counts.reordered, 1);
  t.equal(r.counts.duplicates, 1);
  push(5); // 4 is missing
  t.equal(r.holding, 1);
  out.push(...r.flushGap().map((p) => p.seq));
  t.equal(r.counts.lost, 1, 'the gap given up is counted lost');
  t.same(out.slice(-1), [5]);
  for (let s = 7; s < 7 + 8; s++) push(s); // 6 missing, the window fills
  t.equal(r.counts.lost, 2, 'a full window gives up the gap');
  t.equal(r.holding, 0);
  t.equal(r.counts.packets, 17);
});

t.test('property: reorder buffer output is strictly increasing and accounts for every packet', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 200 }), (seqs) => {
      const r = new ReorderBuffer(16);
      const out: number[] = [];
      for (const s of seqs) out.push(...r.push(pkt(40000 + s)).map((p) => p.seq));
      out.push(...r.flushGap().map((p) => p.seq));
      for (let i = 1; i < out.length; i++) if (out[i]! <= out[i - 1]!) return false;
      return new Set(out).size === out.length && out.length + r.counts.duplicates + r.holding === seqs.length;
    }),
  );
});

t.test('RFC 4571 framing: any cut gives the packets back; junk resynchronises; never throws', async (t) => {
  const packets = Array.from({ length: 20 }, (_, i) => buildRtp({ payloadType: 96, marker: i % 3 === 0, seq: i, timestamp: i * 3600, ssrc: 7 }, Buffer.alloc(10 + i * 37, i)));
  const stream = Buffer.concat(packets.map(frame4571));
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 20 }), (sizes) => {
      const d = new Rfc4571Deframer();
      const got: Buffer[] = [];
      let at = 0;
      for (let k = 0; at < stream.length; k++) {
        const n = sizes[k % sizes.length]!;
        got.push(...d.push(stream.subarray(at, at + n)));
        at += n;
      }
      return got.length === packets.length && got.every((g, i) => g.equals(packets[i]!));
    }),
  );
  const d = new Rfc4571Deframer();
  const got = d.push(Buffer.concat([Buffer.from('HTTP/1.1 junk\r\n'), stream]));
  t.equal(got.length, packets.length, 'junk before the stream skipped');
  t.ok(d.skipped > 0);
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 10 }), (chunks) => {
      const d = new Rfc4571Deframer();
      for (const c of chunks) for (const p of d.push(Buffer.from(c))) parseRtp(p);
      return d.buffered <= 2 + 65535 + 2000;
    }),
  );
});

t.test('raw H.264 (RFC 6184) and H.265 (RFC 7798): single, STAP-A/AP, FU-A/FU', async (t) => {
  for (const codec of ['h264', 'h265'] as const) {
    const aus = accessUnits(codec, await annexBClip(codec, 1)).slice(0, 10);
    const rtp = new RtpPacketiser({ ssrc: 1, mtu: 500 });
    const frames: DemuxedFrame[] = [];
    const d = new RawDepacketizer(codec, (f) => frames.push(f));
    let fus = 0;
    aus.forEach((au, i) => {
      for (const raw of rtp.raw(codec, au.data, i * 3600)) {
        const p = parseRtp(raw)!;
        const type = codec === 'h264' ? p.payload[0]! & 0x1f : (p.payload[0]! >> 1) & 0x3f;
        if (type === 28 || type === 49) fus++;
        d.push(p.payload, p.timestamp, p.marker);
      }
    });
    t.ok(fus > 0, `${codec}: fragmentation units were used`);
    t.equal(frames.length, aus.length, `${codec}: one frame per access unit`);
    t.ok(frames.every((f, i) => f.data.equals(aus[i]!.data) && f.keyframe === aus[i]!.keyframe), `${codec}: byte-identical Annex B`);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), fc.boolean(), (b, m) => (d.push(Buffer.from(b), 1, m), true)));
  }
});
