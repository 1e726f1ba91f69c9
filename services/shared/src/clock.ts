// Wall clock with nanosecond resolution: Date.now() is read once and advanced by the monotonic hrtime,
// so timestamps on consecutive events are ordered and sub-millisecond apart.

export interface WallClock {
  /** Nanoseconds since the Unix epoch. */
  nowNs(): bigint;
}

export function createWallClock(): WallClock {
  const anchorNs = BigInt(Date.now()) * 1_000_000n;
  const anchorHr = process.hrtime.bigint();
  return { nowNs: () => anchorNs + (process.hrtime.bigint() - anchorHr) };
}

export function nsToTimestamp(ns: bigint): { seconds: number; nanos: number } {
  return { seconds: Number(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) };
}
