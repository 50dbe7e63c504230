// A fixed-size log-linear latency histogram (HDR-style): every power of two of microseconds is split
// into SUB_BUCKETS linear sub-buckets, so a bucket is at most 1/SUB_BUCKETS of its lower bound wide and
// its midpoint is within QUANTILE_RELATIVE_ERROR of any value it holds. Size never depends on traffic.

/** Linear sub-buckets per power of two. */
export const SUB_BUCKETS = 8;
/** Powers of two of microseconds covered: 1 µs … 2^32 µs (about 71 minutes); longer goes to the overflow bucket. */
export const OCTAVES = 32;
/** [0, 1 µs), the log-linear buckets, then the overflow bucket (≥ 2^32 µs). */
export const BUCKETS = 1 + OCTAVES * SUB_BUCKETS + 1;
/** A quantile read from these buckets is within this fraction of the true value (below the overflow bound). */
export const QUANTILE_RELATIVE_ERROR = 1 / (2 * SUB_BUCKETS);

const OVERFLOW = BUCKETS - 1;
const OVERFLOW_MS = 2 ** OCTAVES / 1000;

/** The bucket that holds a duration in milliseconds (negative and NaN count as 0). */
export function bucketOf(durationMs: number): number {
  const us = durationMs * 1000;
  if (!(us >= 1)) return 0;
  const e = Math.floor(Math.log2(us));
  if (e >= OCTAVES) return OVERFLOW;
  const base = 2 ** e;
  // Math.log2 can round up at exact powers of two minus epsilon; clamp the sub-bucket into range.
  const sub = Math.min(SUB_BUCKETS - 1, Math.max(0, Math.floor(((us - base) / base) * SUB_BUCKETS)));
  return 1 + e * SUB_BUCKETS + sub;
}

/** The value a bucket stands for, in milliseconds: its midpoint (the overflow bucket: its lower bound). */
export function bucketValueMs(bucket: number): number {
  if (bucket <= 0) return 0.0005;
  if (bucket >= OVERFLOW) return OVERFLOW_MS;
  const e = Math.floor((bucket - 1) / SUB_BUCKETS);
  const sub = (bucket - 1) % SUB_BUCKETS;
  const base = 2 ** e;
  return (base * (1 + (sub + 0.5) / SUB_BUCKETS)) / 1000;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of the counts in `buckets` (the value below which a fraction q of the
 * observations fall, nearest-rank), or undefined when there are none.
 */
export function quantileOf(buckets: ArrayLike<number>, total: number, q: number): number | undefined {
  if (!(total > 0) || !(q >= 0 && q <= 1)) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= rank) return bucketValueMs(i);
  }
  return bucketValueMs(buckets.length - 1);
}
