// Waiting for an event in tests: poll a condition until it holds, with a generous bound that only
// ends a test that would otherwise hang (a loaded machine is slow, never wrong). Tests wait for
// what they need this way instead of sleeping a fixed time and hoping it happened.

/** Polls `cond` until it holds or `ms` pass (then throws, naming `what`). */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
