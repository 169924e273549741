// An exp-Golomb bit reader over an RBSP (H.264 and H.265 parameter sets). Reading past the end
// throws a RangeError, which the parsers turn into `undefined`: they are total on any bytes.
export class Bits {
  #at = 0;
  constructor(readonly buf: Buffer) {}
  bit(): number {
    const byte = this.buf[this.#at >> 3];
    if (byte === undefined) throw new RangeError('end of the RBSP');
    const v = (byte >> (7 - (this.#at & 7))) & 1;
    this.#at++;
    return v;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) if (++zeros > 31) throw new RangeError('bad exp-Golomb');
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
  /** skips `n` bits */
  skip(n: number): void {
    if (this.#at + n > this.buf.length * 8) throw new RangeError('end of the RBSP');
    this.#at += n;
  }
}
