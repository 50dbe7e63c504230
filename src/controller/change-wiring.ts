// Change tracking hooked into alerting: incidents get their likely trigger from the recorded changes,
// and the silence list the leader loads is appended, as operator actions, to the tamper-evident audit.log.
import type { ActionJournal } from "../actions/journal.ts";
import { startAuditTrail } from "../actions/audit-trail.ts";
import { ChangeService } from "../changes/service.ts";
import type { Config } from "../config/load.ts";
import type { ControllerMetrics } from "../http/metrics.ts";
import type { KubeClient } from "../kube/client.ts";
import type { ApiOutageLog } from "../kube/outage.ts";
import type { Logger } from "../log.ts";
import type { StateStore } from "../store/state-store.ts";
import type { AlertingRuntime } from "./alerting-runtime.ts";

export interface ChangeWiring {
  config: Config;
  store: StateStore;
  client: KubeClient;
  metrics: ControllerMetrics;
  logger: Logger;
  outage: ApiOutageLog;
  now: () => number;
  alerting: AlertingRuntime;
  actions: ActionJournal;
}

export function wireChanges(w: ChangeWiring): ChangeService {
  const changes = ChangeService.create(w.config, w.store.db, w.client, w.metrics, w.logger, w.outage, w.now);
  w.alerting.triggerFor = (incident, cache) => changes.triggerFor(incident, cache);
  w.alerting.onSilences = startAuditTrail(w.config, w.actions, w.logger, w.now);
  return changes;
}
