// The one ffmpeg runner, against the real binary: output, failures with the end of stderr, stdin
// with backpressure, abort, timeout and kill.
import t from 'tap';
import { MediaFfmpegFailed, MediaUnreadable } from '../../../src/media/errors.ts';
import { runFfmpeg, spawnFfmpeg } from '../../../src/media/ffmpeg.ts';
import { processGone as gone } from '../../helpers/media.ts';
import { waitFor } from '../../helpers/wait.ts';

const QUIET = ['-nostdin', '-hide_banner', '-loglevel', 'error'];
/** A source that never ends, paced at its frame rate, so only a kill stops it. */
const ENDLESS = [...QUIET, '-re', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-f', 'null', '-'];
const GRAY_IN = (w: number, h: number): string[] => ['-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${w}x${h}`, '-i', 'pipe:0'];
const GRAY_OUT = ['-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'];

t.test('exit 0: stdout collected, the end of stderr kept', async (t) => {
  const { stdout, stderr } = await runFfmpeg(['-nostdin', '-hide_banner', '-f', 'lavfi', '-i', 'color=c=0x808080:s=4x2', '-frames:v', '1', ...GRAY_OUT]);
  t.equal(stdout.length, 8, '4×2 gray pixels');
  t.ok(stdout.every((v) => Math.abs(v - 0x80) <= 2), `mid gray (${[...stdout].join(',')})`);
  t.match(stderr, /Video: rawvideo/, 'stderr without -loglevel error holds the stream description');
});

t.test('exit 1: a catalogue error naming the exit code and ending with what ffmpeg said', async (t) => {
  const err = await runFfmpeg([...QUIET, '-i', 'file:/nonexistent/clip.mp4', '-f', 'null', '-']).then(
    () => t.fail('resolved'),
    (e: unknown) => e,
  );
  t.ok(MediaFfmpegFailed.is(err));
  t.match((err as Error).message, /^ffmpeg -nostdin .*clip\.mp4.*: ffmpeg exited with code 1: .*No such file or directory/s);
  t.match((err as { detail: unknown }).detail, { reason: 'exit', exitCode: 1, signal: null, stderr: /No such file/ });

  await t.rejects(runFfmpeg([...QUIET, '-i', 'file:/nonexistent/clip.mp4'], { error: MediaUnreadable, what: 'reading the clip' }), {
    code: MediaUnreadable.code,
    message: /^reading the clip: ffmpeg exited with code 1: /,
  });
});

t.test('only the end of a long stderr is kept, from a whole line on', async (t) => {
  // -loglevel debug writes far more than the 1 KiB kept, then fails on the missing input.
  const err = (await runFfmpeg(['-nostdin', '-loglevel', 'debug', '-i', 'file:/nonexistent/clip.mp4'], { stderrTailBytes: 1024 }).catch((e: unknown) => e)) as {
    message: string;
    detail: { stderr: string };
  };
  t.ok(err.detail.stderr.length <= 1024, `${err.detail.stderr.length} chars kept`);
  t.match(err.detail.stderr, /No such file or directory\s*$/, 'the last line is there');
  t.notMatch(err.message, /ffmpeg version/, 'the banner at the start is not');
});

t.test('a binary that does not exist: reason spawn, and FFMPEG_PATH named', async (t) => {
  await t.rejects(runFfmpeg(['-version'], { path: '/nonexistent/ffmpeg', input: Buffer.alloc(1 << 20) }), {
    code: MediaFfmpegFailed.code,
    message: /cannot run ffmpeg at \/nonexistent\/ffmpeg .*ENOENT.*FFMPEG_PATH/,
    detail: { reason: 'spawn', path: '/nonexistent/ffmpeg' },
  });
});

t.test('stdin: a buffer, and frames from an async source larger than the pipe, come back unchanged', async (t) => {
  const one = Buffer.from(Array.from({ length: 16 * 8 }, (_, i) => i));
  const { stdout } = await runFfmpeg([...QUIET, ...GRAY_IN(16, 8), ...GRAY_OUT], { input: one });
  t.ok(stdout.equals(one));

  const W = 320;
  const H = 240;
  async function* frames(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 60; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      yield new Uint8Array(W * H).fill(i * 4);
    }
  }
  const out = await runFfmpeg([...QUIET, ...GRAY_IN(W, H), ...GRAY_OUT], { input: frames() });
  t.equal(out.stdout.length, 60 * W * H, '4.6 MB through both pipes');
  t.equal(out.stdout[59 * W * H], 59 * 4, 'the last frame is the last one fed');
});

t.test('ffmpeg that stops reading early ends the feeding, and the run resolves', async (t) => {
  let fed = 0;
  function* many(): Generator<Uint8Array> {
    for (let i = 0; i < 10_000; i++, fed++) yield new Uint8Array(320 * 240);
  }
  const { stdout } = await runFfmpeg([...QUIET, ...GRAY_IN(320, 240), '-frames:v', '1', ...GRAY_OUT], { input: many() });
  t.equal(stdout.length, 320 * 240);
  t.ok(fed < 10_000, `stopped after ${fed} frames`);
});

t.test('an error from the input source kills ffmpeg and is what the run rejects with', async (t) => {
  const mine = new RangeError('frame 3 has the wrong size');
  async function* broken(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 3; i++) yield new Uint8Array(64 * 48);
    throw mine;
  }
  const err = await runFfmpeg([...QUIET, ...GRAY_IN(64, 48), '-f', 'null', '-'], { input: broken() }).catch((e: unknown) => e);
  t.equal(err, mine);
});

t.test('abort kills the child, the run rejects with reason abort and the signal reason as cause', async (t) => {
  const ac = new AbortController();
  const started = Date.now();
  setTimeout(() => ac.abort(new Error('shutting down')), 300);
  const err = (await runFfmpeg(ENDLESS, { signal: ac.signal, what: 'the endless test' }).catch((e: unknown) => e)) as Error & { detail: unknown };
  t.ok(Date.now() - started < 5000, 'settled soon after the abort');
  t.ok(MediaFfmpegFailed.is(err));
  t.match(err.message, /^the endless test: aborted/);
  t.match(err.detail, { reason: 'abort', signal: 'SIGKILL' });
  t.match(err.cause, { message: 'shutting down' });

  const done = new AbortController();
  done.abort();
  await t.rejects(runFfmpeg(ENDLESS, { signal: done.signal }), { code: MediaFfmpegFailed.code, detail: { reason: 'abort' } }, 'an aborted signal starts nothing');
});

t.test('a timeout kills the child, after SIGTERM and its grace', async (t) => {
  const err = (await runFfmpeg(ENDLESS, { timeoutMs: 300, killGraceMs: 2000 }).catch((e: unknown) => e)) as Error & { detail: { signal: unknown; exitCode: unknown } };
  t.match(err.message, /ran for more than 300 ms and was killed/);
  t.match(err.detail, { reason: 'timeout' });
  t.ok(err.detail.signal === 'SIGTERM' || err.detail.exitCode !== 0, 'ffmpeg ended on SIGTERM, within the grace');
});

t.test('more stdout than allowed kills the child', async (t) => {
  const args = [...QUIET, '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=10', ...GRAY_OUT];
  await t.rejects(runFfmpeg(args, { maxStdoutBytes: 100_000 }), { detail: { reason: 'stdout' }, message: /more than 100000 bytes/ });
});

t.test('spawnFfmpeg: a streaming child; kill() closes its pipes, SIGKILLs after the grace and reaps it', async (t) => {
  const ff = spawnFfmpeg([...QUIET, '-re', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', ...GRAY_OUT], { stdout: 'pipe' });
  const pid = ff.pid!;
  t.ok(pid > 0);
  let bytes = 0;
  ff.process.stdout!.on('data', (chunk: Buffer) => (bytes += chunk.length));
  // wait for the first whole frame, however long a loaded machine takes to start ffmpeg
  await waitFor(() => bytes >= 64 * 48, 30_000, 'a frame on stdout');
  t.ok(bytes >= 64 * 48, `frames streamed (${bytes} bytes)`);
  const [a, b] = await Promise.all([ff.kill(1000), ff.kill(1000)]);
  t.equal(a, b, 'a second kill waits for the same exit');
  t.ok(gone(pid), 'reaped');
  t.equal(ff.stderrTail(), '');

  const missing = spawnFfmpeg(['-version'], { path: '/nonexistent/ffmpeg' });
  t.equal(missing.pid, undefined);
  const exit = await missing.exited;
  t.match(exit, { code: null, signal: null, spawnError: { code: 'ENOENT' } });
});
