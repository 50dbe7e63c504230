// Grouping timers with Alertmanager's meaning, one group per incident:
//   group_wait      a new group waits this long before its first flush, so anomalies that belong
//                   together (a node and its 50 Pods) go out in one message; high-risk skips it.
//   group_interval  after a flush, the next flush is this much later; a changed group is announced
//                   at a flush, never in between.
//   repeat_interval an unchanged firing group is re-sent when a flush finds its last notification
//                   at least this old (so repeats land on the group_interval grid, as in Alertmanager).
// A flush only *considers* sending; dedup.ts decides per channel whether there is news.
import type { GroupTimings } from "./config.ts";

export interface GroupTimer {
  createdAt: number;
  /** When the next flush is due (ms). */
  nextFlushAt: number;
  flushes: number;
}

export function newGroupTimer(now: number, t: GroupTimings, immediate: boolean): GroupTimer {
  return { createdAt: now, nextFlushAt: immediate ? now : now + t.groupWaitMs, flushes: 0 };
}

export const isDue = (timer: GroupTimer, now: number): boolean => now >= timer.nextFlushAt;

/**
 * Schedules the flush after one that ran at `now`. Keeps the group's own grid (due + interval) so a
 * coarse tick does not drift the schedule, but never schedules into the past after a long pause.
 */
export function afterFlush(timer: GroupTimer, now: number, t: GroupTimings): GroupTimer {
  let next = timer.nextFlushAt + t.groupIntervalMs;
  if (next <= now) next = now + t.groupIntervalMs;
  return { ...timer, nextFlushAt: next, flushes: timer.flushes + 1 };
}

/** Flush at once (an incident escalated to high-risk). */
export function expedite(timer: GroupTimer, now: number): GroupTimer {
  return timer.nextFlushAt <= now ? timer : { ...timer, nextFlushAt: now };
}
