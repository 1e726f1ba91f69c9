// Proto `float` fields are 32-bit: 0.7 arrives as 0.699999988079071. This finds the decimal a person
// meant (the shortest one that is the same float32), so stored and shown values read as they were typed.

/** The shortest decimal whose float32 is `value`'s float32; NaN and ±Infinity unchanged. */
export function float32ToShortest(value: number): number {
  if (!Number.isFinite(value)) return value;
  const single = Math.fround(value);
  // float32 needs at most 9 significant digits to round-trip.
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return Number(single.toPrecision(9));
}
