// The idempotent "what to log" decision, pure. Compare what should be firing (desired) with what
// the log already says (logged, persisted in the state store) and emit only the difference.
// Because the logged set survives restarts and leader failover, a controller that starts up
// neither re-reports what was already logged nor misses what changed while it was down:
//   still active            -> nothing
//   cleared while down      -> a resolved line
//   appeared while down     -> a firing line
import type { Anomaly } from "../model/anomaly.ts";

export type LogStatus = "firing" | "resolved";

/** What the log says about one anomaly key (one row of the store's `logged` table). */
export interface LoggedEntry {
  anomaly: Anomaly;
  status: LogStatus;
  /** When the line that set `status` was decided (ms). */
  loggedAt: number;
}

/** One line to append to cleaned_events.log. */
export interface LogLine {
  key: string;
  anomaly: Anomaly;
  status: LogStatus;
}

export interface ReconcileResult {
  lines: LogLine[];
  /** The logged set after these lines are written. */
  logged: Map<string, LoggedEntry>;
  /** Store mutations that turn the old logged set into the new one (setLogged / deleteLogged). */
  changed: [string, LoggedEntry][];
  removed: string[];
}

export function reconcile(
  desired: ReadonlyMap<string, Anomaly>,
  logged: ReadonlyMap<string, LoggedEntry>,
  now: number,
  /** DIAGNOSIS_RETENTION_CLEANED_DURATION: how long resolved entries are remembered. */
  cleanedRetentionMs: number,
): ReconcileResult {
  const lines: LogLine[] = [];
  const next = new Map(logged);
  const changed: [string, LoggedEntry][] = [];
  const removed: string[] = [];

  for (const [key, anomaly] of desired) {
    const prior = logged.get(key);
    if (prior?.status === "firing") continue; // already said; repeating it is what the Cleaner exists to stop
    const entry: LoggedEntry = { anomaly, status: "firing", loggedAt: now };
    lines.push({ key, anomaly, status: "firing" });
    next.set(key, entry);
    changed.push([key, entry]);
  }

  for (const [key, prior] of logged) {
    if (desired.has(key)) continue;
    if (prior.status === "firing") {
      // The resolved line repeats the anomaly that was logged as firing, so the two lines pair up.
      const entry: LoggedEntry = { anomaly: prior.anomaly, status: "resolved", loggedAt: now };
      lines.push({ key, anomaly: prior.anomaly, status: "resolved" });
      next.set(key, entry);
      changed.push([key, entry]);
    } else if (now - prior.loggedAt > cleanedRetentionMs) {
      next.delete(key);
      removed.push(key);
    }
  }
  return { lines, logged: next, changed, removed };
}
