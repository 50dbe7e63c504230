// Repeated measurements: a figure is the median of its runs with the spread (min–max) next to it,
// so a reader sees how far one run may move before trusting a difference.
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
  runs: number[];
}

export function spread(xs: number[]): Spread {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0, runs: xs };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v.at(-1)!, n: v.length, runs: xs };
}

/** "17.6 (15.2–19.0, n=3)"; a single run prints without a spread. */
export function fmtSpread(s: Spread | undefined, d = 1, unit = ""): string {
  if (!s?.n) return "n/a";
  const x = (v: number) => v.toFixed(d);
  return s.n === 1 ? `${x(s.median)}${unit} (n=1)` : `${x(s.median)}${unit} (${x(s.min)}–${x(s.max)}, n=${s.n})`;
}

/** Splits samples into `k` consecutive windows of equal length (the remainder goes to the last). */
export function windows<T>(xs: T[], k: number): T[][] {
  const size = Math.floor(xs.length / k);
  if (size < 1) return [xs];
  return Array.from({ length: k }, (_, i) => xs.slice(i * size, i === k - 1 ? xs.length : (i + 1) * size));
}
