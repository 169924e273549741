// Error catalogue of the media checks. An upload is refused with one of these before it is kept.
// 415 when the file is a kind of media the national platform does not take, 422 when it claims to
// be MP4 but cannot be used as one.

import { defineError } from '../errors.ts';

export const MediaNotMp4 = defineError(
  'ESEAL_ERR_MEDIA_NOT_MP4',
  415,
  'the file is not an MP4 (ISO BMFF) file: it does not start with an ftyp box',
);

export const MediaNoMoov = defineError(
  'ESEAL_ERR_MEDIA_NO_MOOV',
  422,
  'the MP4 file has no moov box (the recording was not finalised)',
);

export const MediaNoVideo = defineError(
  'ESEAL_ERR_MEDIA_NO_VIDEO',
  422,
  'the MP4 file has no video track',
);

export const MediaNotH264 = defineError(
  'ESEAL_ERR_MEDIA_NOT_H264',
  415,
  'the video track is not H.264 (avc1/avc3)',
);

export const MediaCorrupt = defineError(
  'ESEAL_ERR_MEDIA_CORRUPT',
  422,
  'the MP4 structure is damaged, truncated or beyond the relay limits',
);

/** The relay itself could not read a file it staged: an operator problem, not the mine's. */
export const MediaUnreadable = defineError(
  'ESEAL_ERR_MEDIA_UNREADABLE',
  500,
  'the relay could not read the staged media file',
);

/** A run of ffmpeg failed; callers that own a code of their own (evidence, eval, capture) pass it instead. */
export const MediaFfmpegFailed = defineError(
  'ESEAL_ERR_MEDIA_FFMPEG',
  500,
  'ffmpeg could not be started, exited with an error, ran past its time or was aborted (the message ends with what it wrote last)',
);
