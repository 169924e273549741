// Error catalogue of the capture stage. A camera source that cannot be read at all (a bad URL) is
// refused when the configuration is loaded; a source that fails while running (the GB/T 28181
// bridge not up, ffmpeg failing) is reported as the camera going offline and retried, and only a
// replay (evaluation) turns that into an error, because a replay has no second chance.

import { defineError } from '../../src/errors.ts';

export const CaptureBadUrl = defineError(
  'ESEAL_ERR_CAPTURE_BAD_URL',
  400,
  'the camera source is not a URL capture can read (rtsp://, rtsps://, http(s)://, file://, gb28181://<device>/<channel>)',
);

export const CaptureGb28181Unavailable = defineError(
  'ESEAL_ERR_CAPTURE_GB28181_UNAVAILABLE',
  502,
  'the GB/T 28181 bridge did not serve the gb28181:// channel (bridge not running or unreachable, no or wrong viewer token, device offline or channel unknown)',
);

export const CaptureBadOptions = defineError(
  'ESEAL_ERR_CAPTURE_BAD_OPTIONS',
  400,
  'the capture options are out of range (size, frame rate, loop, stall time)',
);

export const CaptureFailed = defineError(
  'ESEAL_ERR_CAPTURE_FAILED',
  502,
  'ffmpeg could not decode the camera source (replay, or an image file)',
);
