// The demo's clock: waits between rounds, and durations as it prints them.

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
