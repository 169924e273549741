// Error catalogue of our own node:http listeners (the live stream, the simulator's ports).
import { defineError } from '../errors.ts';

export const HttpBadRequest = defineError(
  'ESEAL_ERR_HTTP_BAD_REQUEST',
  400,
  'the request line or its target cannot be parsed (an absolute URL with a bad port, bad percent-encoding, …)',
);
