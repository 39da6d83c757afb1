/**
 * FNV-1a (32-bit) over a stream of numbers and strings: cheap, non-cryptographic, and
 * enough to tell two traces apart for the determinism check. Numbers are folded in as
 * their 32-bit halves so 1.5 and 1 hash differently without string formatting.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

export class Fnv1a {
  private h = FNV_OFFSET;

  number(n: number): this {
    if (Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff) {
      this.word(n | 0);
    } else {
      f64[0] = n;
      this.word(u32[0]!);
      this.word(u32[1]!);
    }
    return this;
  }

  string(s: string): this {
    let h = this.h;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, FNV_PRIME);
    }
    // a separator so ["ab","c"] and ["a","bc"] differ
    h ^= 0xff;
    this.h = Math.imul(h, FNV_PRIME);
    return this;
  }

  private word(w: number): void {
    let h = this.h;
    for (let i = 0; i < 4; i++) {
      h ^= (w >>> (i * 8)) & 0xff;
      h = Math.imul(h, FNV_PRIME);
    }
    this.h = h;
  }

  /** the hash as 8 hex digits */
  hex(): string {
    return (this.h >>> 0).toString(16).padStart(8, '0');
  }
}

/** FNV-1a of a whole string, as hex. */
export function fnv1aHex(s: string): string {
  return new Fnv1a().string(s).hex();
}
