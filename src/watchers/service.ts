// Service rule: a Service that routes to Pods (has a selector) but has no ready backend.
// Reported as kind "Endpoints" named after the Service, as the seed's log does.
import type { KubeObject } from "../kube/types.ts";
import type { Anomaly, RuleContext, WatcherPlugin } from "./types.ts";
import { activeSince, anomalyFor, lasted, loggedStart, ref, undatedLasting } from "./util.ts";
import { endpointReadiness } from "./endpoints.ts";

const KIND = "Service";

/** Services whose endpoints are not ours to judge. */
function isExempt(svc: KubeObject): boolean {
  const selector: Record<string, string> | undefined = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return true; // endpoints managed by hand or by another controller
  if (svc.spec?.type === "ExternalName") return true; // a DNS alias, no endpoints
  // Headless Services are often used for DNS/peer discovery with no ready Pods by design (the seed flagged them all).
  if (svc.spec?.clusterIP === "None") return true;
  if (svc.metadata.namespace === "default" && svc.metadata.name === "kubernetes") return true; // the API server itself
  return !!svc.metadata.deletionTimestamp;
}

export function evaluateService(svc: KubeObject, ctx: RuleContext): Anomaly[] {
  if (isExempt(svc)) {
    delete ctx.memo.emptySince;
    return [];
  }
  const namespace = svc.metadata.namespace ?? "";
  const name = svc.metadata.name;
  const r = endpointReadiness(namespace, name, ctx.cache);
  // Endpoint objects carry no "ready since"; the last-change annotation bounds it, else first observation
  // (or, earlier, the eventTime the log already reports it firing with). scan has no first observation:
  // it uses the objects' last recorded write, and lacking one reports the duration as unknown.
  const logged = loggedStart(ctx, svc, "Endpoints", "NoReadyAddress");
  const undated = !!ctx.oneShot && r.lastChange === undefined && logged === undefined;
  const bound = undated ? r.lastWrite : undefined; // held at least since the objects' last write
  const since = activeSince(ctx.memo, "emptySince", r.ready === 0, ctx.now, r.lastChange ?? bound, logged);
  if (since === undefined) return [];
  if (!undated && !lasted(ctx, since, ctx.settings.endpointsEmptyForMs)) return [];
  const lasting = undatedLasting(ctx.now, undated, since, bound, "endpoint objects");
  const selector = Object.entries(svc.spec.selector as Record<string, string>)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const message =
    r.total === 0
      ? `Service ${namespace}/${name} has had no endpoints${lasting}: no running Pod matches its selector ${selector}. Check the selector against the Pods' labels (kubectl get pods -l ${selector}) and whether its workload is scaled up.`
      : `Service ${namespace}/${name}: ${r.total === 1 ? "1 endpoint exists" : `${r.total} endpoints exist`} but none is ready${lasting}, so traffic has nowhere to go. Check the Pods' readiness probes and logs.`;
  return [
    anomalyFor(svc, KIND, {
      kind: "Endpoints",
      reason: "NoReadyAddress",
      severity: "critical",
      category: "Endpoint",
      since,
      message,
    }),
  ];
}

export const servicePlugin: WatcherPlugin = {
  kind: KIND,
  resources: [ref("", "v1", "services", KIND)],
  evaluate: evaluateService,
  reportsTimeDependence: true,
};
