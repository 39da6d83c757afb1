/**
 * The simulator's only source of randomness: sfc32 (Chris Doty-Humphrey's "small fast
 * counting" generator, 128-bit state, public-domain algorithm), seeded through splitmix32 so
 * that nearby seeds (1, 2, 3...) give unrelated streams. Every model draws from one shared
 * instance in event order, so a run is a pure function of (seed, schedule).
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** draws taken so far; part of the determinism trace */
  draws = 0;

  constructor(seed: number) {
    // splitmix32 expands one 32-bit seed into four well-mixed state words.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // Discard the first outputs: sfc32 needs a few rounds to decorrelate from its seed.
    for (let i = 0; i < 12; i++) this.u32();
    this.draws = 0;
  }

  /** uniform 32-bit unsigned integer */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    this.draws++;
    return t >>> 0;
  }

  /** uniform float in [0, 1) */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** uniform integer in [0, n) for n ≥ 1 */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** uniform integer in [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** true with probability p */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }
}
