// Errors of the relay's forwarder.
import { defineError } from '../../src/errors.ts';

/** A queued item the relay cannot send at all (an endpoint it does not know): dead-lettered, never retried. */
export const ForwardBadItem = defineError(
  'ESEAL_ERR_FORWARD_BAD_ITEM',
  500,
  'a queued item names an endpoint the relay cannot send to (written by another version, or damaged): moved to the dead letters',
);
