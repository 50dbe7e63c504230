// Per-channel rate budgets: one token bucket per channel (Slack: a bucket of one refilled every
// SLACK_ALERT_DISPATCH_INTERVAL, i.e. a minimum gap between messages; email ALERT_EMAIL_MAX_PER_HOUR;
// MQTT ALERT_MQTT_MAX_PER_MINUTE).
// Over budget a notification is HELD, never dropped and never reported as sent (the seed marked
// alerts sent before its throttle and so lost them). A newer notification for the same incident and
// channel supersedes the held one — the payload is the whole incident state, so the newer one carries
// everything the older said (merge). Held notifications leave oldest first, high-risk ahead of the rest.
import type { AlertLevel, Channel, Notification } from "../model/alert.ts";
import { levelRank, maxLevel } from "../model/alert.ts";

export interface BucketSpec {
  capacity: number;
  /** One token is added every this many ms, up to capacity. */
  refillEveryMs: number;
}

export interface BucketState {
  tokens: number;
  at: number;
}

export interface HeldNotification {
  notification: Notification;
  /** When the first (superseded) notification of this incident/channel was held: queue position. */
  heldSince: number;
  /** Highest level among the merged notifications: a merge never lowers priority. */
  priority: AlertLevel;
}

/** Plain JSON: persist it with the pipeline state. */
export interface ThrottleState {
  buckets: Partial<Record<Channel, BucketState>>;
  held: HeldNotification[];
}

export const emptyThrottleState = (): ThrottleState => ({ buckets: {}, held: [] });

function refill(b: BucketState | undefined, spec: BucketSpec, now: number): BucketState {
  if (!b) return { tokens: spec.capacity, at: now }; // a fresh bucket starts full
  const gained = spec.refillEveryMs > 0 ? (now - b.at) / spec.refillEveryMs : spec.capacity;
  return { tokens: Math.min(spec.capacity, b.tokens + Math.max(0, gained)), at: Math.max(now, b.at) };
}

const incidentOf = (n: Notification) => n.payload.incidentId;

/** Queues a notification, merging it into a held one for the same incident and channel. */
export function offer(state: ThrottleState, n: Notification, now: number): ThrottleState {
  const held = [...state.held];
  const i = held.findIndex((h) => h.notification.channel === n.channel && incidentOf(h.notification) === incidentOf(n));
  if (i >= 0) {
    const prior = held[i]!;
    held[i] = { notification: n, heldSince: prior.heldSince, priority: maxLevel(prior.priority, n.level) };
  } else {
    held.push({ notification: n, heldSince: now, priority: n.level });
  }
  return { ...state, held };
}

/** Releases what the budgets allow now, in queue order; the rest stays held. */
export function release(state: ThrottleState, budgets: Record<Channel, BucketSpec>, now: number): { state: ThrottleState; released: Notification[] } {
  const buckets: Partial<Record<Channel, BucketState>> = { ...state.buckets };
  for (const ch of Object.keys(budgets) as Channel[]) buckets[ch] = refill(buckets[ch], budgets[ch], now);
  // Stable sort: equal priority and age keep the order they were offered in.
  const queue = [...state.held].sort((a, b) => levelRank(b.priority) - levelRank(a.priority) || a.heldSince - b.heldSince);
  const released: Notification[] = [];
  const kept: HeldNotification[] = [];
  for (const h of queue) {
    const b = buckets[h.notification.channel];
    if (b && b.tokens >= 1) {
      buckets[h.notification.channel] = { ...b, tokens: b.tokens - 1 };
      released.push(h.notification);
    } else kept.push(h);
  }
  return { state: { buckets, held: kept }, released };
}
