import t from 'tap';
import { GopCache } from '../../../../gb28181/media/worker/GopCache.ts';
import type { RtpPacket } from '../../../../gb28181/media/rtp/rtpPacket.ts';

let seq = 0;
const pkt = (size = 100): RtpPacket => ({ payloadType: 96, marker: false, seq: seq++, timestamp: 0, ssrc: 1, payload: Buffer.alloc(size) });
const START = { unitStart: true, key: false };
const KEY = { unitStart: true, key: true };
const MORE = { unitStart: false, key: false };

t.test('empty until a keyframe; then from its first packet on; a new keyframe starts anew', async (t) => {
  const c = new GopCache();
  c.push(pkt(), START);
  c.push(pkt(), MORE);
  t.equal(c.snapshot().length, 0, 'no keyframe yet: nothing to start a leg with');
  const k = pkt();
  c.push(k, KEY);
  c.push(pkt(), MORE);
  c.push(pkt(), START);
  t.equal(c.snapshot().length, 3);
  t.equal(c.snapshot()[0]!.seq, k.seq, 'from the keyframe\'s first packet');
  // keyframe evidence in a later packet of a unit (raw: AUD first, SPS next) moves the start to the unit's first packet
  const unitFirst = pkt();
  c.push(unitFirst, START);
  c.push(pkt(), { unitStart: false, key: true });
  t.equal(c.snapshot().length, 2);
  t.equal(c.snapshot()[0]!.seq, unitFirst.seq);
  t.equal(c.bytes, 200);
});

t.test('bounded: past the packets or the bytes, dropped until the next keyframe', async (t) => {
  const c = new GopCache(10, 10_000);
  c.push(pkt(), KEY);
  for (let i = 0; i < 9; i++) c.push(pkt(), START);
  t.equal(c.packets, 10);
  c.push(pkt(), MORE);
  t.equal(c.packets, 0, 'dropped past 10 packets');
  t.equal(c.overflows, 1);
  c.push(pkt(), MORE);
  c.push(pkt(), START);
  t.equal(c.snapshot().length, 0, 'empty until a keyframe');
  c.push(pkt(), KEY);
  t.equal(c.packets, 1);
  c.push(pkt(20_000), MORE);
  t.equal(c.packets, 0, 'dropped past 10,000 bytes');
  c.push(pkt(), MORE);
  t.equal(c.packets, 0, 'the rest of that unit is not kept either');
  c.push(pkt(), KEY);
  t.equal(c.packets, 1);
  c.reset();
  t.equal(c.packets, 0, 'reset');
});

t.test('a snapshot keeps each packet\'s bytes, timestamp, marker and type, and is a copy', async (t) => {
  const c = new GopCache(50, 100_000);
  const mk = (i: number, size: number): RtpPacket => ({ payloadType: 96, marker: i % 3 === 2, seq: 500 + i, timestamp: 90_000 + 3600 * Math.floor(i / 3), ssrc: 7, payload: Buffer.alloc(size, i) });
  const sent: RtpPacket[] = [];
  for (let i = 0; i < 12; i++) {
    const p = mk(i, 300 + 97 * i);
    sent.push(p);
    c.push(p, { unitStart: i % 3 === 0, key: i === 3 });
  }
  const snap = c.snapshot();
  const want = sent.slice(3);
  t.equal(snap.length, want.length, 'from the keyframe unit (packet 3) on');
  t.ok(snap.every((p, i) => p.payload.equals(want[i]!.payload) && p.timestamp === want[i]!.timestamp && p.marker === want[i]!.marker && p.payloadType === 96 && p.seq === want[i]!.seq), 'each packet as it came');
  for (let i = 12; i < 40; i++) c.push(mk(i, 2000), { unitStart: i % 3 === 0, key: i === 21 });
  t.ok(snap.every((p, i) => p.payload.equals(want[i]!.payload)), 'the snapshot unchanged by what came later (a new GOP rewrote the arena)');
  t.equal(c.snapshot()[0]!.seq, 521, 'the new GOP');
  t.equal(c.bytes, 19 * 2000);
});
