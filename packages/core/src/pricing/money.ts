/** Money is exact: micro-dollars in bigint, USD as decimal strings, never floats. */

/** "12.5" USD → 12_500_000 micro-dollars, exactly (no float). */
export function usdToMicros(usdText: string): bigint {
  const [whole = "0", frac = ""] = usdText.split(".");
  return BigInt(whole) * 1_000_000n + BigInt(frac.padEnd(6, "0").slice(0, 6) || "0");
}

export function microsToUsd(micros: bigint): string {
  const sign = micros < 0n ? "-" : "";
  const abs = micros < 0n ? -micros : micros;
  return `${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, "0")}`;
}
