// What a mine can get wrong in a request. All answer HTTP 400 (or the status given) with
// {"code":1,"msg":"<field>: <rule>","data":null}.
import { defineError } from '../errors.ts';

export const InvalidField = defineError('ESEAL_ERR_INPUT_FIELD', 400, 'a field is missing or breaks its rule');
export const InvalidJson = defineError('ESEAL_ERR_INPUT_JSON', 400, 'the body is not valid UTF-8 JSON');
export const InvalidFileName = defineError('ESEAL_ERR_INPUT_FILE_NAME', 400, 'the video file name does not follow the guide');
export const BodyTooLarge = defineError('ESEAL_ERR_INPUT_TOO_LARGE', 413, 'the body or file is larger than allowed');
export const UnsupportedContentType = defineError(
  'ESEAL_ERR_INPUT_CONTENT_TYPE',
  415,
  'the request is not of the content type the endpoint takes',
);
export const TusHeader = defineError('ESEAL_ERR_TUS_HEADER', 400, 'a tus header (Upload-Length, Upload-Offset, Upload-Metadata) is missing or malformed');
export const TusChecksumAlgorithm = defineError('ESEAL_ERR_TUS_CHECKSUM_ALGORITHM', 400, 'Upload-Checksum names an algorithm the relay does not support');
