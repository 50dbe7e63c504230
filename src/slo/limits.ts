// The SLO engine's safety limits: a cooldown per workload and a cap on actions per hour across the
// cluster. Decisions count whether they were written or only announced (dry-run), so dry-run shows
// exactly what `on` would do. Seeded from the action history, so a restart or failover keeps them.
import type { ActionRecord } from "../model/action.ts";
import { actionTargetText } from "../model/action.ts";

const HOUR = 3_600_000;

export class ActionLimits {
  private readonly times: { at: number; target: string }[] = [];

  constructor(
    private readonly cooldownMs: number,
    private readonly maxPerHour: number,
  ) {}

  /** Counts past decisions of the SLO engine (planned or done) from the history. */
  seed(records: ActionRecord[]): void {
    for (const r of records)
      if (r.source === "slo" && (r.outcome === "done" || r.outcome === "planned")) this.note(actionTargetText(r.target), Date.parse(r.time));
  }

  note(target: string, at: number): void {
    if (Number.isFinite(at)) this.times.push({ at, target });
  }

  /** The limit that refuses an action on target now, or undefined when it may go ahead. */
  refusal(target: string, now: number): string | undefined {
    while (this.times.length && this.times[0]!.at < now - Math.max(HOUR, this.cooldownMs)) this.times.shift();
    const last = this.times.filter((t) => t.target === target).at(-1);
    if (last && now - last.at < this.cooldownMs) {
      return `SLO_COOLDOWN: last action on ${target} ${Math.round((now - last.at) / 1000)}s ago (cooldown ${Math.round(this.cooldownMs / 1000)}s)`;
    }
    const lastHour = this.times.filter((t) => t.at > now - HOUR).length;
    if (lastHour >= this.maxPerHour) return `SLO_MAX_ACTIONS_PER_HOUR: ${lastHour} actions in the last hour (max ${this.maxPerHour})`;
    return undefined;
  }
}
