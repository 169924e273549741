// Error catalogue of the capture stage. A camera source that cannot be read at all (bad URL, a
// kind we do not build yet) is refused when the configuration is loaded; a source that fails while
// running is reported as the camera going offline, and only a replay (evaluation) turns that into
// an error, because a replay has no second chance.

import { defineError } from '../../src/errors.ts';

export const CaptureBadUrl = defineError(
  'ESEAL_ERR_CAPTURE_BAD_URL',
  400,
  'the camera source is not a URL capture can read (rtsp://, rtsps://, http(s)://, file://)',
);

export const CaptureGb28181Unsupported = defineError(
  'ESEAL_ERR_CAPTURE_GB28181_UNSUPPORTED',
  501,
  'gb28181:// camera sources need the GB/T 28181 bridge role, which is not built yet',
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
