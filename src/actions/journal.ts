// Where every action decision goes, in this order: the history in state.db (durable first), then
// the controller log, then each listener (the MQTT `<prefix>/actions` publisher, the alert-pipeline
// announcer, the tamper-evident audit.log). A record whose id is already in the history is a replay
// (after a restart or a leader change) and is not told again: each decision is announced once.
import type { Logger } from "../log.ts";
import { actionTargetText, type ActionRecord } from "../model/action.ts";
import type { ActionHistory } from "../store/action-history.ts";

export type ActionListener = (record: ActionRecord) => void | Promise<void>;

export class ActionJournal {
  private readonly listeners: ActionListener[] = [];

  constructor(
    private readonly history: ActionHistory,
    private readonly logger: Logger,
  ) {}

  /** Adds a listener; returns a function that removes it (a listener that only the leader runs detaches on step-down). */
  listen(listener: ActionListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Records a decision; false (and nothing told) when the same id was recorded before. */
  record(record: ActionRecord): boolean {
    if (!this.history.append(record)) return false;
    const level = record.outcome === "failed" ? "warn" : "info";
    this.logger[level](`action ${record.outcome}: ${record.summary}`, {
      action: record.id,
      source: record.source,
      mode: record.mode,
      step: record.step,
      target: actionTargetText(record.target),
      reason: record.reason,
    });
    for (const listener of this.listeners) {
      try {
        const r = listener(record);
        if (r instanceof Promise) r.catch((e) => this.logger.error("action listener failed", { action: record.id, error: String(e) }));
      } catch (e) {
        this.logger.error("action listener failed", { action: record.id, error: String(e) });
      }
    }
    return true;
  }

  get store(): ActionHistory {
    return this.history;
  }
}
