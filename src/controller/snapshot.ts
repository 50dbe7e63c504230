// One-shot evaluation: list every watched kind once and run every rule once (`scan`).
import type { Config } from "../config/load.ts";
import type { KubeClient } from "../kube/client.ts";
import { chooseResource, verifyKubernetes } from "../kube/discovery.ts";
import type { KubeObject } from "../kube/types.ts";
import { objectKey } from "../kube/types.ts";
import { PLUGINS } from "../watchers/registry.ts";
import type { Anomaly } from "../model/anomaly.ts";
import { anomalyKey } from "../model/anomaly.ts";
import { Caches, Evaluator } from "./evaluator.ts";
import { ruleSettings } from "../watchers/settings.ts";

export interface Snapshot {
  anomalies: Anomaly[];
  /** Kinds listed, with object counts; kinds the API does not serve are listed as skipped. */
  listed: Record<string, number>;
  skipped: string[];
  ruleErrors: number;
}

export async function scanCluster(client: KubeClient, config: Config, now = Date.now()): Promise<Snapshot> {
  const caches = new Caches();
  const listed: Record<string, number> = {};
  const skipped: string[] = [];
  await verifyKubernetes(client); // an HTML page or another JSON API is an error, not an empty cluster
  await Promise.all(
    PLUGINS.map(async (plugin) => {
      const ref = await chooseResource(client, plugin.resources);
      if (!ref) {
        skipped.push(plugin.kind);
        return;
      }
      const { items } = await client.list(ref);
      const cache = new Map<string, KubeObject>();
      for (const item of items) cache.set(objectKey(item), item);
      caches.register(ref.kind, cache);
      listed[ref.kind] = cache.size;
    }),
  );
  const found = new Map<string, Anomaly>();
  const evaluator = new Evaluator(PLUGINS, ruleSettings(config), caches, {
    observe: (_source, anomalies) => {
      for (const a of anomalies) found.set(anomalyKey(a), a);
    },
    forget: () => {},
  });
  evaluator.oneShot = true;
  evaluator.evaluateAll(now);
  const severityRank = { critical: 0, warning: 1, info: 2 } as const;
  const anomalies = [...found.values()].sort(
    (a, b) => severityRank[a.severity] - severityRank[b.severity] || anomalyKey(a).localeCompare(anomalyKey(b)),
  );
  return { anomalies, listed, skipped: skipped.sort(), ruleErrors: evaluator.errors };
}
