// The controller's gauges, refreshed before each write cycle from the components that keep the figures.
import type { Cleaner } from "../diagnosis/cleaner.ts";
import type { Collector } from "../diagnosis/collector.ts";
import type { LogWriter } from "../diagnosis/log-writer.ts";
import type { ControllerMetrics } from "../http/metrics.ts";
import type { Informer } from "../kube/informer.ts";
import type { StateStore } from "../store/state-store.ts";
import type { AlertingRuntime } from "./alerting-runtime.ts";

export interface GaugeSources {
  cleaner: Cleaner;
  collector: Collector;
  writer: LogWriter;
  alerting: AlertingRuntime;
  informers: readonly Informer[];
  leading: boolean;
  store: StateStore;
  now: number;
  /** The API client's counters (strings cut to the field bound). */
  kube?: { truncatedFields: number };
  /** Entries the last shared-state write left out for lack of room. */
  sharedStateDropped?: number;
}

export function publishGauges(m: ControllerMetrics, s: GaugeSources): void {
  m.rawPoolEntries.set(s.cleaner.rawSize);
  m.cleanedPoolEntries.set(s.cleaner.cleanedSize);
  m.rawPoolDropped.advanceTo(s.cleaner.rawDropped);
  m.logLinesPending.set(s.writer.pendingCount);
  m.logLinesDropped.advanceTo(s.writer.droppedCount);
  m.isLeader.set(s.leading ? 1 : 0);
  if (s.store.badRows) m.malformedInput.advanceTo(s.store.badRows, { source: "state-db" });
  for (const [channel, up] of s.alerting.channelStates()) m.channelUp.set({ channel }, up ? 1 : 0);
  for (const [channel, n] of Object.entries(s.alerting.pendingByChannel())) m.outboxPending.set({ channel }, n);
  m.anomaliesActive.reset();
  for (const [reason, n] of s.collector.activeByReason()) m.anomaliesActive.set({ reason }, n);
  if (s.kube) m.inputTruncated.advanceTo(s.kube.truncatedFields);
  if (s.sharedStateDropped !== undefined) m.sharedStateDropped.set(s.sharedStateDropped);
  const last = Math.max(0, ...s.informers.map((i) => i.lastEventAt ?? 0));
  if (last) m.watchLag.set((s.now - last) / 1000);
}
