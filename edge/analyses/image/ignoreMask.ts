// The part of a work image an analysis looks at: everything but its `ignore` regions (normalised
// polygons: a running belt, a road, a swaying tree). Cached per size, since the frame size rarely
// changes. A region that legitimately moves or changes must not count as the camera moving or as
// the view being covered.
import { polygonMask } from '../../frame/mask.ts';
import type { Point } from '../../types.ts';

export class IgnoreMask {
  private cached: { width: number; height: number; use: Uint8Array | undefined } | undefined;

  constructor(private readonly regions: readonly (readonly Point[])[]) {}

  /** 1 = use the pixel; undefined when nothing is ignored (every pixel counts). */
  at(width: number, height: number): Uint8Array | undefined {
    const c = this.cached;
    if (c && c.width === width && c.height === height) return c.use;
    let use: Uint8Array | undefined;
    if (this.regions.length) {
      const ignored = polygonMask(width, height, this.regions).data;
      use = new Uint8Array(ignored.length);
      for (let i = 0; i < use.length; i++) use[i] = ignored[i] ? 0 : 1;
    }
    this.cached = { width, height, use };
    return use;
  }
}
