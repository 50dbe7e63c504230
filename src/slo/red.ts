// Per-service RED figures (rate, errors, duration) over sliding windows, in memory that does not grow
// with traffic: each service owns a ring of time slots (slotMs wide, enough of them to cover the
// longest window), each slot holds two counters and a fixed-size log-linear latency histogram
// (./histogram.ts). Spans are never kept. At most maxServices services are tracked; recording a new
// one past that evicts the one recorded least recently (counted in `evictions`).
//
// Contract used by the SLO policies: record(), query(), queryWhere(), services(), retainedBuckets().
// Pure: no clock of its own — callers pass the span's end time and the query's "now".
import { BUCKETS, bucketOf, quantileOf } from "./histogram.ts";

/** A traced service, from OTel resource attributes service.name / k8s.namespace.name / k8s.deployment.name. */
export interface ServiceKey {
  service: string;
  /** "" when the resource did not say. */
  namespace: string;
  deployment?: string;
}

export interface RedFigures {
  requests: number;
  errors: number;
  /** Requests per second over the part of the window that has elapsed. */
  ratePerSecond: number;
  /** errors / requests; 0 without requests. */
  errorRatio: number;
  /** Latency quantile in ms (0 ≤ q ≤ 1), within QUANTILE_RELATIVE_ERROR; undefined without requests. */
  quantile(q: number): number | undefined;
}

export interface RedWindowsOptions {
  /** Width of one time slot (default 10 s): the granularity of every window. */
  slotMs?: number;
  /** The longest window a query can ask for (default 1 h); longer queries are clamped to it. */
  windowMs?: number;
  /** Services tracked at once (default 16); the least recently recorded is evicted past it. */
  maxServices?: number;
}

interface Slot {
  /** Absolute slot number (floor(time / slotMs)); -1 = never used. */
  index: number;
  requests: number;
  errors: number;
  latency: Uint32Array;
}

interface ServiceState {
  key: ServiceKey;
  slots: (Slot | undefined)[];
  lastIndex: number;
}

export const DEFAULT_SLOT_MS = 10_000;
export const DEFAULT_WINDOW_MS = 3_600_000;
export const DEFAULT_MAX_SERVICES = 16;

/** A stable map key; "/" cannot appear in namespace or deployment names. */
export const serviceId = (k: ServiceKey): string => `${k.namespace}/${k.deployment ?? ""}/${k.service}`;

export class RedWindows {
  readonly slotMs: number;
  readonly windowMs: number;
  readonly maxServices: number;
  /** Slots per service: enough to cover windowMs plus the slot in progress. */
  readonly slotsPerService: number;
  /** Services dropped to make room for a new one. */
  evictions = 0;
  /** Spans older than the ring could hold when they were recorded (dropped). */
  tooOld = 0;
  private readonly byId = new Map<string, ServiceState>();
  private allocatedSlots = 0;

  constructor(opts: RedWindowsOptions = {}) {
    this.slotMs = Math.max(1, Math.floor(opts.slotMs ?? DEFAULT_SLOT_MS));
    this.windowMs = Math.max(this.slotMs, Math.floor(opts.windowMs ?? DEFAULT_WINDOW_MS));
    this.maxServices = Math.max(1, Math.floor(opts.maxServices ?? DEFAULT_MAX_SERVICES));
    this.slotsPerService = Math.ceil(this.windowMs / this.slotMs) + 1;
  }

  /** Counts one request of `service` that took `durationMs` and ended at `endTimeMs` (epoch ms). */
  record(service: ServiceKey, durationMs: number, error: boolean, endTimeMs: number): void {
    const index = Math.floor(endTimeMs / this.slotMs);
    if (!Number.isFinite(index)) return;
    const known = this.byId.get(serviceId(service));
    if (known && index <= known.lastIndex - this.slotsPerService) {
      this.tooOld++;
      return;
    }
    const state = this.stateFor(service, index);
    const slot = this.slotFor(state, index);
    if (!slot) {
      this.tooOld++;
      return;
    }
    slot.requests++;
    if (error) slot.errors++;
    slot.latency[bucketOf(durationMs)]!++;
  }

  /** The figures of the last `windowMs` (clamped to the configured longest window) before `nowMs`. */
  query(service: ServiceKey, windowMs: number, nowMs: number): RedFigures {
    const state = this.byId.get(serviceId(service));
    return this.sum(state ? [state] : [], windowMs, nowMs);
  }

  /**
   * The figures of every tracked service that `match` accepts, merged (e.g. all services of one
   * Deployment: `(k) => k.namespace === "shop" && k.deployment === "web"`).
   */
  queryWhere(match: (service: ServiceKey) => boolean, windowMs: number, nowMs: number): RedFigures {
    return this.sum(
      [...this.byId.values()].filter((s) => match(s.key)),
      windowMs,
      nowMs,
    );
  }

  private sum(states: ServiceState[], windowMs: number, nowMs: number): RedFigures {
    const slotsWanted = Math.max(1, Math.min(this.slotsPerService - 1, Math.ceil(windowMs / this.slotMs)));
    const current = Math.floor(nowMs / this.slotMs);
    const first = current - slotsWanted + 1;
    let requests = 0;
    let errors = 0;
    const latency = new Float64Array(BUCKETS);
    for (const state of states)
      for (const slot of state.slots) {
        if (!slot || slot.index < first || slot.index > current) continue;
        requests += slot.requests;
        errors += slot.errors;
        for (let i = 0; i < BUCKETS; i++) latency[i]! += slot.latency[i]!;
      }
    const elapsedMs = Math.max(1, nowMs - first * this.slotMs);
    return {
      requests,
      errors,
      ratePerSecond: requests / (elapsedMs / 1000),
      errorRatio: requests ? errors / requests : 0,
      quantile: (q) => quantileOf(latency, requests, q),
    };
  }

  /** The services currently tracked, least recently recorded first. */
  services(): ServiceKey[] {
    return [...this.byId.values()].map((s) => ({ ...s.key }));
  }

  /** Time slots holding a histogram, across all services: at most maxServices × slotsPerService. */
  retainedBuckets(): number {
    return this.allocatedSlots;
  }

  /** The bound of retainedBuckets(), and so of memory (each slot is BUCKETS × 4 bytes plus a few numbers). */
  get maxRetainedBuckets(): number {
    return this.maxServices * this.slotsPerService;
  }

  private stateFor(key: ServiceKey, index: number): ServiceState {
    const id = serviceId(key);
    let state = this.byId.get(id);
    if (state) {
      // Move to the end of the map (most recently recorded) once per slot, not once per span.
      if (index > state.lastIndex) {
        state.lastIndex = index;
        this.byId.delete(id);
        this.byId.set(id, state);
      }
      return state;
    }
    if (this.byId.size >= this.maxServices) {
      const [oldest, evicted] = this.byId.entries().next().value as [string, ServiceState];
      this.byId.delete(oldest);
      for (const slot of evicted.slots) if (slot) this.allocatedSlots--;
      this.evictions++;
    }
    const copy: ServiceKey = { service: key.service, namespace: key.namespace };
    if (key.deployment !== undefined) copy.deployment = key.deployment;
    state = { key: copy, slots: new Array(this.slotsPerService).fill(undefined), lastIndex: index };
    this.byId.set(id, state);
    return state;
  }

  private slotFor(state: ServiceState, index: number): Slot | undefined {
    const at = ((index % this.slotsPerService) + this.slotsPerService) % this.slotsPerService;
    let slot = state.slots[at];
    if (!slot) {
      slot = { index, requests: 0, errors: 0, latency: new Uint32Array(BUCKETS) };
      state.slots[at] = slot;
      this.allocatedSlots++;
      return slot;
    }
    if (slot.index === index) return slot;
    if (slot.index > index) return undefined;
    // A newer slot reuses the ring position of one that has left the longest window.
    slot.index = index;
    slot.requests = 0;
    slot.errors = 0;
    slot.latency.fill(0);
    return slot;
  }
}
