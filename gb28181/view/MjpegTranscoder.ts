// MJPEG for H.265 channels and old browsers: one ffmpeg per channel, fed the shared stream's
// Annex B access units from a keyframe on, writing JPEGs (image2pipe) that are cut at their
// SOI/EOI markers and handed to the channel's MJPEG viewers. Started with the first such viewer,
// killed with the last. A stalled ffmpeg is not fed more than a bounded backlog.
import { spawnFfmpeg, type FfmpegChild } from '../../src/media/ffmpeg.ts';
import type { MediaFrame } from '../media/MediaTypes.ts';

const MAX_STDIN_BACKLOG = 4 * 1024 * 1024;
const MAX_JPEG = 8 * 1024 * 1024;

export class MjpegTranscoder {
  #ff: FfmpegChild | undefined;
  #buf: Buffer = Buffer.alloc(0);
  #started = false;
  jpegs = 0;

  constructor(
    private readonly codec: 'h264' | 'h265',
    private readonly onJpeg: (jpeg: Buffer) => void,
    private readonly fps = 10,
  ) {}

  push(f: MediaFrame): void {
    if (f.kind !== 'video') return;
    if (!this.#started) {
      if (!f.keyframe) return;
      this.#start();
      this.#started = true;
    }
    const stdin = this.#ff?.process.stdin;
    if (!stdin || stdin.destroyed || stdin.writableLength > MAX_STDIN_BACKLOG) return;
    stdin.write(f.data);
  }

  #start(): void {
    const ff = spawnFfmpeg(
      ['-hide_banner', '-loglevel', 'error', '-probesize', '32768', '-f', this.codec === 'h264' ? 'h264' : 'hevc', '-i', 'pipe:0', '-an', '-vf', `fps=${this.fps}`, '-c:v', 'mjpeg', '-q:v', '6', '-f', 'image2pipe', 'pipe:1'],
      { stdin: 'pipe', stdout: 'pipe' },
    );
    this.#ff = ff;
    ff.process.stdout!.on('data', (chunk: Buffer) => this.#read(chunk));
  }

  #read(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      const soi = this.#buf.indexOf(Buffer.from([0xff, 0xd8]));
      if (soi < 0) {
        this.#buf = Buffer.alloc(0);
        return;
      }
      const eoi = this.#buf.indexOf(Buffer.from([0xff, 0xd9]), soi + 2);
      if (eoi < 0) {
        this.#buf = this.#buf.subarray(soi);
        if (this.#buf.length > MAX_JPEG) this.#buf = Buffer.alloc(0);
        return;
      }
      const jpeg = Buffer.from(this.#buf.subarray(soi, eoi + 2));
      this.#buf = this.#buf.subarray(eoi + 2);
      this.jpegs++;
      this.onJpeg(jpeg);
    }
  }

  async close(): Promise<void> {
    await this.#ff?.kill(500);
  }
}
