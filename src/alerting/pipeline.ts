// The alert pipeline, composed of the pure stages in this directory:
//   incident changes -> group (one per incident; group_wait / group_interval / repeat_interval)
//   -> at each flush: inhibit (topology, severity) -> silence -> level -> dedup per channel
//   -> per-channel rate budget (held, merged, never dropped) -> notifications for the outbox.
// step(state, input, now) is pure: the state is plain JSON that the runtime persists together with
// the incident state, so a restart neither re-announces open incidents nor forgets held notifications.
// The runtime calls step() every tick, with the changes from correlate() (often none: timers still run).
import type { Incident, IncidentChange, IncidentMember } from "../model/incident.ts";
import type { AlertingConfig } from "./config.ts";
import { needsNotification, uniqueByFingerprint, type SentRecord } from "./dedup.ts";
import { afterFlush, expedite, isDue, newGroupTimer, type GroupTimer } from "./group.ts";
import { inhibitions } from "./inhibit.ts";
import { channelsFor, decideLevel, isImmediate, type LevelDecision } from "./levels.ts";
import { isSilenced, type Silence } from "./silence.ts";
import { buildPayload, toAlertItem } from "./summarize.ts";
import { emptyThrottleState, offer, release, type ThrottleState } from "./throttle.ts";
import { maxLevel, type AlertLevel, type Channel, type Notification } from "../model/alert.ts";

export interface GroupState {
  /** The incident as of its latest change. */
  incident: Incident;
  timer: GroupTimer;
  /** The incident resolved; the resolved notification goes out at the next flush. */
  resolved: boolean;
  /** Per channel: what it was last told (absent: never notified). */
  sent: Partial<Record<Channel, SentRecord>>;
  /** Per channel: notifications made so far (for deterministic ids). */
  seq: Partial<Record<Channel, number>>;
  /** Highest level notified so far: escalation to high-risk flushes at once, but only once. */
  highestLevel?: AlertLevel;
}

export interface PipelineState {
  groups: Record<string, GroupState>;
  throttle: ThrottleState;
}

export interface PipelineInput {
  incidentChanges: readonly IncidentChange[];
  /** Every silence known (expired ones are ignored). */
  silences: readonly Silence[];
}

export interface PipelineOutput {
  state: PipelineState;
  /** In order; persist them in the outbox before sending. */
  notifications: Notification[];
}

export const emptyPipelineState = (): PipelineState => ({ groups: {}, throttle: emptyThrottleState() });

export interface Assessment {
  /** Alerts to notify: not inhibited, not silenced, one per fingerprint, root cause first. */
  visible: IncidentMember[];
  suppressed: number;
  level: LevelDecision;
}

/** Inhibit, silence and level for an incident as of `now`. */
export function assess(incident: Incident, silences: readonly Silence[], now: number, cfg: AlertingConfig): Assessment {
  const inhibited = inhibitions(incident);
  const considered = incident.members.filter((m) => !isSilenced(m.anomaly, silences, now));
  const visible = uniqueByFingerprint(considered.filter((m) => !inhibited.has(m.key)));
  return { visible, suppressed: incident.members.length - visible.length, level: decideLevel(incident, considered, cfg.levels) };
}

function makeNotification(g: GroupState, ch: Channel, level: AlertLevel, payload: Notification["payload"], now: number): Notification {
  const seq = (g.seq[ch] ?? 0) + 1;
  g.seq[ch] = seq;
  return { id: `${g.incident.id}:${ch}:${seq}`, channel: ch, level, payload, createdAt: now };
}

/** Resolved notifications, only to channels that were told the incident was firing. */
function flushResolved(g: GroupState, cfg: AlertingConfig, now: number): Notification[] {
  const out: Notification[] = [];
  for (const [ch, last] of Object.entries(g.sent) as [Channel, SentRecord][]) {
    const payload = buildPayload({
      incident: g.incident,
      alerts: last.alerts,
      fingerprints: last.firing,
      suppressed: 0,
      level: last.level,
      status: "resolved",
      clusterId: cfg.clusterId,
    });
    out.push(makeNotification(g, ch, last.level, payload, now));
  }
  return out;
}

function flushFiring(g: GroupState, a: Assessment, cfg: AlertingConfig, now: number): Notification[] {
  const out: Notification[] = [];
  const level = a.level.level;
  const fingerprints = a.visible.map((m) => m.fingerprint);
  const active = new Set(g.incident.members.map((m) => m.fingerprint));
  const alerts = a.visible.map(toAlertItem);
  for (const ch of channelsFor(level)) {
    if (!cfg.enabled.includes(ch)) continue;
    if (!needsNotification(g.sent[ch], fingerprints, active, now, cfg.repeatIntervalMs)) continue;
    const payload = buildPayload({
      incident: g.incident,
      alerts,
      fingerprints,
      suppressed: a.suppressed,
      level,
      status: "firing",
      clusterId: cfg.clusterId,
    });
    out.push(makeNotification(g, ch, level, payload, now));
    g.sent[ch] = { firing: fingerprints, alerts, level, at: now };
    g.highestLevel = maxLevel(g.highestLevel ?? level, level);
  }
  return out;
}

/** One pipeline step at `now`: apply incident changes, flush due groups, release what budgets allow. */
export function step(prev: PipelineState, input: PipelineInput, now: number, cfg: AlertingConfig): PipelineOutput {
  const state: PipelineState = structuredClone(prev);
  const groups = state.groups;

  for (const change of input.incidentChanges) {
    const id = change.incident.id;
    const g = groups[id];
    if (change.type === "resolved") {
      if (!g) continue;
      g.incident = change.incident;
      g.resolved = true;
      // Never announced (still in group_wait, or everything silenced): nothing to take back.
      if (Object.keys(g.sent).length === 0) delete groups[id];
      continue;
    }
    if (g) {
      g.incident = change.incident;
      continue;
    }
    const level = assess(change.incident, input.silences, now, cfg).level.level;
    groups[id] = { incident: change.incident, timer: newGroupTimer(now, cfg, isImmediate(level)), resolved: false, sent: {}, seq: {} };
  }

  const made: Notification[] = [];
  // Sorted ids: the output order does not depend on the order incidents were created in.
  for (const id of Object.keys(groups).sort()) {
    const g = groups[id]!;
    if (g.resolved) {
      if (!isDue(g.timer, now)) continue;
      made.push(...flushResolved(g, cfg, now));
      delete groups[id];
      continue;
    }
    const a = assess(g.incident, input.silences, now, cfg);
    if (isImmediate(a.level.level) && g.highestLevel !== "high-risk") g.timer = expedite(g.timer, now);
    if (!isDue(g.timer, now)) continue;
    made.push(...flushFiring(g, a, cfg, now));
    g.timer = afterFlush(g.timer, now, cfg);
  }

  let throttle = state.throttle;
  for (const n of made) throttle = offer(throttle, n, now);
  const released = release(throttle, cfg.budgets, now);
  state.throttle = released.state;
  return { state, notifications: released.released };
}
