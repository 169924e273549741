// A detector that times every frame it is given (queue wait included: what a camera waits) into a
// LatencyWindow. Wraps any Detector; everything else passes through.
import type { Detector } from '../detect/detector.ts';
import type { LatencyWindow } from './LatencyWindow.ts';

export function timedDetector(inner: Detector, window: LatencyWindow): Detector {
  return {
    async detect(frame) {
      const started = performance.now();
      const found = await inner.detect(frame);
      // a frame dropped for a newer one did not run
      if (found !== undefined) window.add(performance.now() - started);
      return found;
    },
    swapModel: (spec) => inner.swapModel(spec),
    stats: () => inner.stats(),
    close: () => inner.close(),
    crashWorkerForTest: () => inner.crashWorkerForTest(),
  };
}
