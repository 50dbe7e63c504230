// The seed's Cleaner, minus its defects (unbounded raw pool, entries never pruned, no notion of
// "resolved"): a raw pool of every firing observation and a cleaned pool with one entry per
// kind/namespace/name/reason. Memory is bounded whatever the event rate: the raw pool is a ring
// buffer with a hard cap (oldest dropped, drops counted), the cleaned pool has a cap too, and both
// are pruned by age in clean(now), which the caller runs every DIAGNOSIS_CLEAN_INTERVAL.
import type { Config } from "../config/load.ts";
import { anomalyKey, type Anomaly } from "../model/anomaly.ts";
import type { ObservationSink } from "./collector.ts";

export interface RawRecord {
  /** Arrival order; lets clean() tell observations made after a resolution from those before. */
  seq: number;
  key: string;
  anomaly: Anomaly;
  at: number;
  /** A resolution, not an observation. */
  resolved?: true;
}

export interface CleanedEntry {
  key: string;
  anomaly: Anomaly;
  firstSeen: number;
  lastSeen: number;
  count: number;
  status: "firing" | "resolved";
  resolvedAt?: number;
}

export interface CleanerOptions {
  rawRetentionMs: number;
  cleanedRetentionMs: number;
  rawMax: number;
  /** Safety cap on the cleaned pool (default: rawMax); resolved entries are evicted first. */
  cleanedMax?: number;
}

export interface CleanStats {
  merged: number;
  prunedRaw: number;
  prunedCleaned: number;
}

export class Cleaner implements ObservationSink {
  private readonly ring: (RawRecord | undefined)[];
  private head = 0; // index of the oldest record
  private size = 0;
  private nextSeq = 1;
  private mergedSeq = 0; // raw records with seq <= mergedSeq are already in the cleaned pool
  private readonly pool = new Map<string, CleanedEntry>();
  private readonly cleanedMax: number;
  private droppedRaw = 0;
  private evictedCleaned = 0;

  constructor(private readonly opts: CleanerOptions) {
    if (opts.rawMax < 1) throw new Error("rawMax must be at least 1");
    this.ring = new Array(opts.rawMax);
    this.cleanedMax = Math.max(1, opts.cleanedMax ?? opts.rawMax);
  }

  static fromConfig(cfg: Config): Cleaner {
    return new Cleaner({
      rawRetentionMs: cfg.ms("DIAGNOSIS_RETENTION_RAW_DURATION"),
      cleanedRetentionMs: cfg.ms("DIAGNOSIS_RETENTION_CLEANED_DURATION"),
      rawMax: cfg.num("NEURO_RAW_POOL_MAX"),
    });
  }

  /** One firing observation. O(1); at the cap the oldest record is dropped (and counted). */
  record(anomaly: Anomaly, now: number): void {
    this.push({ seq: this.nextSeq++, key: anomalyKey(anomaly), anomaly, at: now });
  }

  /**
   * The key stopped firing (its last source withdrew it). Queued in the same ring as observations
   * so clean() applies both in arrival order: an older observation can never re-fire a resolved
   * key, even after the cap evicted that key's entry.
   */
  resolve(anomaly: Anomaly, now: number): void {
    this.push({ seq: this.nextSeq++, key: anomalyKey(anomaly), anomaly, at: now, resolved: true });
  }

  private push(rec: RawRecord): void {
    const cap = this.ring.length;
    if (this.size === cap) {
      const oldest = this.ring[this.head]!;
      // A record dropped before clean() saw it must still reach the cleaned pool.
      if (oldest.seq > this.mergedSeq) {
        this.mergeOne(oldest);
        this.mergedSeq = oldest.seq;
      }
      this.head = (this.head + 1) % cap;
      this.size--;
      this.droppedRaw++;
    }
    this.ring[(this.head + this.size) % cap] = rec;
    this.size++;
  }

  /** Deduplicates new raw records into the cleaned pool and prunes both pools by age. */
  clean(now: number): CleanStats {
    let merged = 0;
    for (let i = 0; i < this.size; i++) {
      const rec = this.ring[(this.head + i) % this.ring.length]!;
      if (rec.seq <= this.mergedSeq) continue;
      this.mergeOne(rec);
      merged++;
    }
    this.mergedSeq = this.nextSeq - 1;

    let prunedRaw = 0;
    const rawCutoff = now - this.opts.rawRetentionMs;
    // Records arrive in clock order, so the expired ones are all at the head.
    while (this.size > 0 && this.ring[this.head]!.at < rawCutoff) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
      this.size--;
      prunedRaw++;
    }

    let prunedCleaned = 0;
    const cleanedCutoff = now - this.opts.cleanedRetentionMs;
    for (const [key, e] of this.pool) {
      if (e.status === "resolved" && (e.resolvedAt ?? 0) < cleanedCutoff) {
        this.pool.delete(key);
        prunedCleaned++;
      }
    }
    return { merged, prunedRaw, prunedCleaned };
  }

  /** Records currently in the raw pool, oldest first (a copy). */
  raw(): RawRecord[] {
    const out: RawRecord[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.ring[(this.head + i) % this.ring.length]!);
    return out;
  }

  cleaned(): ReadonlyMap<string, CleanedEntry> {
    return this.pool;
  }

  /** Firing entries of the cleaned pool, key -> anomaly. */
  firing(): Map<string, Anomaly> {
    const out = new Map<string, Anomaly>();
    for (const [key, e] of this.pool) if (e.status === "firing") out.set(key, e.anomaly);
    return out;
  }

  get rawSize(): number {
    return this.size;
  }
  get cleanedSize(): number {
    return this.pool.size;
  }
  /** Raw records dropped because the pool was at NEURO_RAW_POOL_MAX (monotonic). */
  get rawDropped(): number {
    return this.droppedRaw;
  }
  /** Cleaned entries evicted by the safety cap (monotonic). */
  get cleanedEvicted(): number {
    return this.evictedCleaned;
  }

  private mergeOne(rec: RawRecord): void {
    const e = this.pool.get(rec.key);
    if (rec.resolved) {
      if (!e) return; // never merged as firing (or already evicted): nothing to resolve
      e.status = "resolved";
      e.resolvedAt = rec.at;
      return;
    }
    if (!e) {
      this.pool.set(rec.key, { key: rec.key, anomaly: rec.anomaly, firstSeen: rec.at, lastSeen: rec.at, count: 1, status: "firing" });
      this.enforceCleanedCap();
      return;
    }
    e.count++;
    if (rec.at > e.lastSeen) e.lastSeen = rec.at;
    if (e.status === "resolved") {
      // Observed again after it resolved: the same entry fires again (seed dedup key is kept).
      e.status = "firing";
      e.anomaly = rec.anomaly;
      e.resolvedAt = undefined;
    }
  }

  // Normally the pool holds only what is firing plus recently resolved keys, far below the cap;
  // the cap is there so that a flood of distinct keys cannot grow memory without bound.
  private enforceCleanedCap(): void {
    if (this.pool.size <= this.cleanedMax) return;
    const byAge = [...this.pool.values()].sort(
      (a, b) => Number(a.status === "firing") - Number(b.status === "firing") || (a.resolvedAt ?? a.lastSeen) - (b.resolvedAt ?? b.lastSeen),
    );
    // Evict a tenth at once so a flood costs one sort per many inserts, not one per insert.
    const excess = this.pool.size - this.cleanedMax + Math.ceil(this.cleanedMax / 10);
    for (const e of byAge.slice(0, Math.min(excess, this.pool.size - 1))) {
      this.pool.delete(e.key);
      this.evictedCleaned++;
    }
  }
}
