// Asserting refusals: the EsealError a call throws (or a promise rejects with); anything else,
// or no refusal at all, fails the test.
import { EsealError } from '../../src/errors.ts';

export function refused(fn: () => unknown): EsealError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EsealError) return err;
    throw err;
  }
  throw new Error('expected a refusal (an EsealError), but the call returned');
}

export async function refusal(promise: Promise<unknown>): Promise<EsealError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof EsealError) return err;
    throw err;
  }
  throw new Error('expected a refusal (an EsealError), but the promise resolved');
}
