// The H.265 SPS picture size (gb28181/media/es/h265Sps.ts) on clips made by ffmpeg's libx265, one
// with a conformance window (330x250 is coded as 336x256 and cropped), the same size reported in a
// MediaEngine's stats for an H.265 PS stream, and totality on cut and mutated parameter sets.
import t from 'tap';
import fc from 'fast-check';
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { parseH265Sps } from '../../../../gb28181/media/es/h265Sps.ts';
import { nalType, splitAnnexB } from '../../../../gb28181/media/es/nal.ts';
import { MediaEngine } from '../../../../gb28181/media/MediaEngine.ts';
import { runFfmpeg } from '../../../../src/media/ffmpeg.ts';
import { accessUnits, annexBClip, psFrame, RtpPacketiser } from '../../../helpers/rtpPs.ts';
import { waitFor } from '../../../helpers/wait.ts';

const encoders = (await runFfmpeg(['-hide_banner', '-encoders'], { timeoutMs: 30_000 })).stdout.toString();
const skip = /\blibx265\b/.test(encoders) ? false : 'this ffmpeg has no libx265 encoder';

async function sps(size: string): Promise<Buffer> {
  const nal = splitAnnexB(await annexBClip('h265', 1, size)).find((n) => nalType('h265', n) === 33);
  if (!nal) throw new Error(`no SPS in the ${size} clip`);
  return nal;
}

t.test('width and height of libx265 clips, the conformance window cropped', { skip }, async (t) => {
  for (const [size, w, h] of [['320x240', 320, 240], ['330x250', 330, 250], ['1280x720', 1280, 720]] as const) {
    const info = parseH265Sps(await sps(size));
    t.ok(info, `${size}: parsed`);
    t.equal(info!.width, w, `${size}: width`);
    t.equal(info!.height, h, `${size}: height`);
    t.equal(info!.profileIdc, 1, `${size}: Main profile`);
    t.equal(info!.chromaFormatIdc, 1, `${size}: 4:2:0`);
  }
  // 330x250 is not a multiple of x265's 8-sample coding blocks: coded larger, then cropped
  const cropped = parseH265Sps(await sps('330x250'))!;
  t.same([cropped.codedWidth, cropped.codedHeight], [336, 256], 'the coded size is padded');
  const whole = parseH265Sps(await sps('320x240'))!;
  t.same([whole.codedWidth, whole.codedHeight], [320, 240], 'no window where none is needed');
});

t.test('not an SPS, cut or mutated: undefined or a bounded size, never a throw', { skip }, async (t) => {
  const real = await sps('330x250');
  t.equal(parseH265Sps(Buffer.from([0x40, 0x01, 0x0c])), undefined, 'a VPS header is not an SPS');
  t.equal(parseH265Sps(real.subarray(0, 10)), undefined, 'cut short');
  t.equal(parseH265Sps(Buffer.concat([Buffer.from([0x42, 0x01]), Buffer.alloc(40, 0)])), undefined, 'zeros (an exp-Golomb run past 31 bits)');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: real.length }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (cut, edits) => {
      const b = Buffer.from(real.subarray(0, Math.max(2, cut)));
      b[0] = 0x42; // keep it an SPS header
      for (const [at, v] of edits) if (b.length > 2) b[2 + (at % (b.length - 2))] = v;
      const info = parseH265Sps(b);
      return info === undefined || (info.width > 0 && info.height > 0 && info.width <= 16384 && info.height <= 16384);
    }),
    { numRuns: 2000 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
    const info = parseH265Sps(Buffer.from(bytes));
    return info === undefined || (info.width > 0 && info.height > 0);
  }));
  t.pass('total');
});

t.test("an H.265 PS stream's stats carry codec, width and height", { skip }, async (t) => {
  const base = 30000 + 2 * Math.floor(Math.random() * 4000);
  const engine = new MediaEngine({ host: '127.0.0.1', ports: { min: base, max: base + 20 }, noMediaSeconds: 15, log: pino({ level: 'silent' }) });
  await engine.start();
  const sock = createSocket('udp4');
  t.teardown(async () => {
    sock.close();
    await engine.close();
  });
  const { port } = await engine.openIncoming({ streamId: 'h265', transport: 'udp', ssrc: '265' });
  const rtp = new RtpPacketiser({ ssrc: 265 });
  const aus = accessUnits('h265', await annexBClip('h265', 1, '330x250'));
  let n = 0;
  for (const [i, au] of aus.entries()) {
    for (const p of rtp.ps(psFrame(au, 3600 * (i + 1), { codec: 'h265' }), 3600 * (i + 1))) {
      sock.send(p, port, '127.0.0.1');
      if (++n % 20 === 0) await new Promise((r) => setImmediate(r));
    }
  }
  await waitFor(() => (engine.stats('h265')?.frames ?? 0) >= aus.length - 1, 10_000, 'the frames counted');
  const st = engine.stats('h265')!;
  t.equal(st.codec, 'h265');
  t.equal(st.width, 330);
  t.equal(st.height, 250);
});
