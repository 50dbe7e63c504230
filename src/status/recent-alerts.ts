// The last notifications the alert pipeline decided (one per content, whichever channels it went to),
// kept in memory for the status page's "last alerts" and Home Assistant's last-alert sensor. Bounded.
import type { Notification } from "../model/alert.ts";
import type { RecentAlert } from "./view-model.ts";

export const RECENT_ALERTS_MAX = 20;

export class RecentAlerts {
  private readonly list: RecentAlert[] = [];

  /** Notifications of one pipeline step; the same content sent to several channels counts once. */
  remember(notifications: readonly Notification[], now: number): void {
    for (const n of notifications) {
      if (this.list.some((r) => r.payload.fingerprint === n.payload.fingerprint)) continue;
      this.list.push({ at: now, payload: n.payload });
      if (this.list.length > RECENT_ALERTS_MAX) this.list.shift();
    }
  }

  /** Newest last. */
  all(): readonly RecentAlert[] {
    return this.list;
  }

  get last(): RecentAlert | undefined {
    return this.list[this.list.length - 1];
  }
}
