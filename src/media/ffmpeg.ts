// Which ffmpeg every role runs (capture, clips, the demo, the tests), and what that build understands. The bundled static build
// (@ffmpeg-installer, 2018, ffmpeg 4.1) names the RTSP socket timeout `-stimeout`; ffmpeg 5 and
// later dropped it and reuse `-timeout` (which in 4.1 meant "listen"), so the option is probed
// from the binary rather than assumed from a version string.

import { execFile } from 'node:child_process';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';

/** FFMPEG_PATH when set, else the static build installed with the package. */
export function ffmpegPath(): string {
  return process.env['FFMPEG_PATH'] || ffmpegInstaller.path;
}

export interface FfmpegFeatures {
  path: string;
  /** the RTSP demuxer's socket I/O timeout option, in microseconds either way */
  rtspTimeoutOption: '-stimeout' | '-timeout';
}

const probed = new Map<string, Promise<FfmpegFeatures>>();

/** Probes the binary once per path (`-h demuxer=rtsp`); a failed probe is not cached. */
export function ffmpegFeatures(path: string = ffmpegPath()): Promise<FfmpegFeatures> {
  let features = probed.get(path);
  if (!features) {
    features = new Promise<FfmpegFeatures>((resolve, reject) => {
      execFile(path, ['-hide_banner', '-h', 'demuxer=rtsp'], { maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`cannot run ffmpeg at ${path}: ${err.message}`, { cause: err }));
          return;
        }
        const help = `${stdout}${stderr}`;
        resolve({ path, rtspTimeoutOption: /^\s*-stimeout\s/m.test(help) ? '-stimeout' : '-timeout' });
      });
    });
    probed.set(path, features);
    features.catch(() => probed.delete(path));
  }
  return features;
}
