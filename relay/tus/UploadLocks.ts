// One request at a time per upload, in arrival order. A newer request for an upload asks every
// older one still there to stop (a PATCH whose client went away and is resuming on a new
// connection, the old one not yet noticed dead) and waits for them to settle; what they had
// received is kept.
export type Release = () => void;

interface Entry {
  settled: Promise<void>;
  /** asks the request to stop early; a no-op for work that cannot stop (completing an upload) */
  stop: () => void;
}

export class UploadLocks {
  readonly #lines = new Map<string, Entry[]>();

  async acquire(id: string, stop: () => void = () => {}): Promise<Release> {
    let line = this.#lines.get(id);
    if (!line) this.#lines.set(id, (line = []));
    for (const older of line) older.stop();
    const before = line.at(-1);
    let settle!: () => void;
    const entry: Entry = { settled: new Promise<void>((resolve) => (settle = resolve)), stop };
    line.push(entry);
    if (before) await before.settled;
    return () => {
      const current = this.#lines.get(id);
      const at = current?.indexOf(entry) ?? -1;
      if (current && at >= 0) {
        current.splice(at, 1);
        if (current.length === 0) this.#lines.delete(id);
      }
      settle();
    };
  }

  isHeld(id: string): boolean {
    return this.#lines.has(id);
  }
}
