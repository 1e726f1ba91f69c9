/**
 * Deterministic pseudo-random numbers: weight generation and seeded sampling. Every tensor gets its own stream derived from
 * (seed, tensor name), so a tensor's values do not depend on generation order or chunk size.
 */

/** FNV-1a over the UTF-16 code units; only needs to spread names apart, not resist attacks. */
function hashString(text: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: tiny, fast and good enough for initialising weights. */
export class SeededRandom {
  private state: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  static forTensor(seed: number, tensorName: string): SeededRandom {
    return new SeededRandom(hashString(tensorName, (0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal via Box-Muller; the second value of each pair is kept for the next call. */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fillNormal(out: Float32Array, mean: number, std: number): void {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
  }

  fillUniform(out: Float32Array, low: number, high: number): void {
    const span = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + span * this.next();
  }
}
