// Errors of the edge module's upload side: the persistent outbox. (A refused login is the shared
// upstream session's ESEAL_ERR_UPSTREAM_LOGIN, src/client/errors.ts.)
import { defineError } from '../../src/errors.ts';

export const OutboxFull = defineError(
  'ESEAL_ERR_OUTBOX_FULL',
  507,
  'the edge outbox is at its limit with records alone (evidence is dropped first); records are refused until the upstream takes some',
);
export const OutboxNotFound = defineError('ESEAL_ERR_OUTBOX_NOT_FOUND', 404, 'no outbox entry with this id');
export const OutboxClosed = defineError('ESEAL_ERR_OUTBOX_CLOSED', 503, 'the edge outbox is closed (the edge is shutting down)');
export const OutboxInput = defineError('ESEAL_ERR_OUTBOX_INPUT', 400, 'what was handed to the edge outbox breaks its rule (endpoint, file name, clip file)');
export const OutboxState = defineError('ESEAL_ERR_OUTBOX_STATE', 409, 'the outbox entry is not in a state that allows this operation');
